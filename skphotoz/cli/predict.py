"""``skphotoz predict``: add type and redshift to every row of a catalog.

With ``--pdf PATH`` it also writes each galaxy's redshift PDF p(z) to a
second file, row for row with the main output and chunk for chunk:
:data:`PDF_QUANTILE_LEVELS` quantiles (``--pdf-format quantiles``) or the
densities on the model's redshift grid (``--pdf-format grid``), named as
:func:`pdf_columns` says.
"""

from __future__ import annotations

from pathlib import Path

import click
import numpy as np

from skphotoz.cli.common import (
    check_catalog,
    check_output,
    import_keras_quietly,
    progress_bars,
    reports_errors,
)
from skphotoz.cli.options import allow_pickle_option, overwrite_option, split_list

#: Levels of the quantiles ``--pdf-format quantiles`` writes: the median, the
#: central 50, 68, 80, 90, 95 and 98% intervals. 13 float32 values, 52 bytes a galaxy.
PDF_QUANTILE_LEVELS = (0.01, 0.025, 0.05, 0.1, 0.16, 0.25, 0.5, 0.75, 0.84, 0.9, 0.95, 0.975, 0.99)

#: The column of the PDF file that says which catalog row (0-based) a PDF belongs to.
ROW_COLUMN = "catalog_row"

# Galaxies per predict_pdf call: the float64 densities and their CDF for this
# many rows and a 200-point grid stay near 25 MB each, whatever --chunk-size is.
_PDF_BLOCK = 2**14


def pdf_columns(pdf_format, z_grid=None):
    """The value columns of a ``--pdf`` file: quantile levels or grid redshifts in the name.

    ``"quantiles"``: ``z_q<digits>`` for each of :data:`PDF_QUANTILE_LEVELS`,
    where the level is ``0.<digits>`` (``z_q025`` is the 0.025 quantile,
    ``z_q50`` the median). ``"grid"``: ``pdf_<z>`` for each redshift of
    ``z_grid``, written as the shortest text that reads back as the same
    float32 (the precision the densities are stored in), or in full float64
    if that would make two names equal.

    Parameters
    ----------
    pdf_format : {"quantiles", "grid"}
    z_grid : array-like of shape (n_grid,), optional
        The model's ``z_grid_``; needed for ``"grid"``.

    Returns
    -------
    list of str

    Examples
    --------
    >>> from skphotoz.cli.predict import pdf_columns
    >>> pdf_columns("quantiles")[:4], pdf_columns("quantiles")[6]
    (['z_q01', 'z_q025', 'z_q05', 'z_q10'], 'z_q50')
    >>> pdf_columns("grid", [0.0, 0.0066331658291457, 1.32])
    ['pdf_0.0', 'pdf_0.0066331658', 'pdf_1.32']
    >>> [float("0." + name[3:]) for name in pdf_columns("quantiles")][:3]  # reading back
    [0.01, 0.025, 0.05]
    """
    if pdf_format == "quantiles":
        # The digits after "0.", at least two: 0.1 -> "10", 0.025 -> "025".
        return [f"z_q{f'{q:.6f}'.rstrip('0')[2:]:0<2}" for q in PDF_QUANTILE_LEVELS]
    if pdf_format != "grid":
        raise ValueError(f"pdf_format is 'quantiles' or 'grid', not {pdf_format!r}.")
    z_grid = np.asarray(z_grid, dtype=np.float64)
    names = [f"pdf_{np.format_float_positional(np.float32(z), trim='0')}" for z in z_grid]
    if len(set(names)) < len(names):  # grid points closer than float32 tells apart
        names = [f"pdf_{float(z)!r}" for z in z_grid]
    return names


class _PdfOutput:
    """The ``--pdf`` file: written chunk by chunk, row for row with the main output.

    Everything that can refuse the request (a model without a PDF head, an
    ``--pdf-id-col`` the catalog lacks) is checked when it is made, before
    any file is written.
    """

    def __init__(self, path, payload, model_path, catalog, pdf_format, id_columns):
        from skphotoz.validation import final_estimator

        estimator = payload["estimator"]
        self.final = final_estimator(estimator)
        if not hasattr(self.final, "predict_pdf") or getattr(self.final, "z_grid_", None) is None:
            raise click.ClickException(
                f"{model_path} has no redshift-PDF head, so --pdf has nothing to write: refit "
                "it with `skphotoz fit ... --redshift-pdf mixture` (or bins)."
            )
        # The steps before the final estimator (an imputer) transform X for it,
        # as predict_block's joint_outputs does.
        pipeline = hasattr(estimator, "steps") and len(estimator.steps) > 1
        self.before = estimator[:-1] if pipeline else None
        self.path, self.payload = path, payload
        self.format, self.id_columns = pdf_format, id_columns
        self.columns = pdf_columns(pdf_format, self.final.z_grid_)
        self._check_id_columns(catalog)
        self.writer, self.written, self.with_pdf = None, 0, 0

    def _check_id_columns(self, catalog):
        from skphotoz.catalogs import iter_catalog

        present = set(map(str, next(iter_catalog(catalog, chunk_size=1)).columns))
        lacking = [c for c in self.id_columns if c not in present]
        if lacking:
            raise click.ClickException(
                f"--pdf-id-col: {catalog} has no column(s) {lacking}; its columns: "
                f"{sorted(present)[:20]}."
            )
        clash = [c for c in self.id_columns if c in {ROW_COLUMN, *self.columns}]
        if clash:
            raise click.ClickException(
                f"--pdf-id-col: {clash} would clash with a column the PDF file has anyway "
                f"({ROW_COLUMN}, z_q.. or pdf_..); rename the catalog column."
            )

    def open(self, n_rows, *, overwrite, string_widths):
        from skphotoz.catalogs import ChunkWriter

        self.writer = ChunkWriter(
            self.path, n_rows, overwrite=overwrite, string_widths=string_widths
        )

    def write(self, chunk, result):
        """Append the PDFs of one chunk, given its predictions ``result`` (predict_chunk's).

        A galaxy gets a PDF where the main output has a z_phot (its bands were
        enough for the model); every other row is NaN, never dropped.
        """
        import pandas as pd

        from skphotoz.catalogs import catalog_magnitudes
        from skphotoz.pdf import pdf_quantiles

        n = len(chunk)
        values = np.full((n, len(self.columns)), np.nan, dtype=np.float32)
        rows = np.flatnonzero(result["z_phot"].notna().to_numpy())
        if len(rows):
            payload = self.payload
            mags = catalog_magnitudes(
                chunk.iloc[rows], payload["bands"], payload["unit"], payload["sentinels"]
            )
            for start in range(0, len(rows), _PDF_BLOCK):
                X = mags.iloc[start : start + _PDF_BLOCK]
                pdf = self.final.predict_pdf(X if self.before is None else self.before.transform(X))
                if self.format == "quantiles":
                    pdf = pdf_quantiles(self.final.z_grid_, pdf, PDF_QUANTILE_LEVELS)
                values[rows[start : start + _PDF_BLOCK]] = pdf
        ids = {name: chunk[name].to_numpy() for name in self.id_columns}
        ids[ROW_COLUMN] = np.arange(self.written, self.written + n, dtype=np.int64)
        self.writer.write(
            pd.concat([pd.DataFrame(ids), pd.DataFrame(values, columns=self.columns)], axis=1)
        )
        self.written += n
        self.with_pdf += int(np.isfinite(values[:, 0]).sum())

    def close(self):
        self.writer.close()


def _predict_with_pdf(payload, catalog, output, pdf_output, *, chunk_size, overwrite, progress):
    """predict_catalog's chunk loop, writing each chunk's PDFs beside its predictions.

    The same chunks go to both writers, so the PDF file's row i is the main
    output's row i, and memory stays set by ``chunk_size``.
    """
    from tqdm.auto import tqdm

    from skphotoz.catalogs import (
        ChunkWriter,
        catalog_format,
        check_model_bands,
        count_rows,
        declared_string_widths,
        iter_catalog,
        predict_chunk,
    )

    fmt_in = catalog_format(catalog)
    n_rows = count_rows(catalog, fmt_in)
    widths = declared_string_widths(catalog, fmt_in)
    writer = ChunkWriter(output, n_rows, overwrite=overwrite, string_widths=widths)
    pdf_output.open(n_rows, overwrite=overwrite, string_widths=widths)
    counts = {"n_rows": 0, "n_predicted": 0, "n_flagged": 0}
    with tqdm(total=n_rows, unit="row", disable=None if progress else True, desc="predict") as bar:
        for chunk in iter_catalog(catalog, chunk_size=chunk_size, format=fmt_in):
            if counts["n_rows"] == 0:
                check_model_bands(payload, chunk.columns)
            result = predict_chunk(payload, chunk)
            writer.write(result)
            pdf_output.write(chunk, result)
            counts["n_rows"] += len(result)
            counts["n_predicted"] += int(result["z_phot"].notna().sum())
            counts["n_flagged"] += int((result["predict_flag"] != "").sum())
            bar.update(len(result))
    writer.close()
    pdf_output.close()
    return counts


@click.command()
@click.argument("model", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.argument("catalog", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="Output catalog; its format follows the suffix (.fits, .parquet, .csv, .ecsv, .vot).",
)
@click.option(
    "--chunk-size",
    type=click.IntRange(1, None),
    default=100_000,
    show_default=True,
    help="Rows read, predicted and written at a time (memory use scales with it).",
)
@overwrite_option
@allow_pickle_option
@click.option(
    "--no-progress",
    is_flag=True,
    help="No progress bar (there is none either when stderr is not a terminal).",
)
@click.option(
    "--pdf",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Also write each galaxy's redshift PDF p(z) to this file (any catalog format), "
    "row for row with OUTPUT. Needs a model fitted with `skphotoz fit --redshift-pdf`.",
)
@click.option(
    "--pdf-format",
    type=click.Choice(["quantiles", "grid"]),
    default=None,
    help="quantiles (default): 13 quantiles z_q01 ... z_q99 of p(z), 52 bytes a galaxy; "
    "grid: the density on the model's 200-redshift grid, columns pdf_<z>, 800 bytes a "
    "galaxy. Both float32.",
)
@click.option(
    "--pdf-id-col",
    "pdf_id_cols",
    multiple=True,
    help="Catalog column(s) to copy into the --pdf file beside catalog_row, e.g. the "
    "galaxy ID: comma-separated or repeated.",
)
@reports_errors
def predict(
    model,
    catalog,
    output,
    chunk_size,
    overwrite,
    allow_pickle,
    no_progress,
    pdf,
    pdf_format,
    pdf_id_cols,
):
    """Add type and photometric redshift to every row of CATALOG with a saved MODEL.

    \b
    Example:
      skphotoz predict cnoc2.skz cnoc2.fits -o cnoc2_predictions.fits

    OUTPUT has every input column (vector columns split as NAME_0, NAME_1,
    ...), in the input row order, plus p_lt = P(late type), type (ET/LT),
    z_phot, p_lt_err and z_phot_err (models fitted with --uncertainty) and
    predict_flag, empty for a clean prediction. A band that is NaN or a
    placeholder (the model's sentinels, |mag| >= 90) is missing: the row is
    still predicted from its other bands and flagged "missing:u,z"
    ("imputed:u,z" for a model fitted with --impute). A row with too few
    observed bands (fewer than 2; none, for --impute) gets no prediction
    (empty type, NaN p_lt and z_phot) and the flag "too_few_bands". Other
    flags: "out_of_coverage" (unlike every training galaxy) and
    "z_out_of_range". CATALOG must have the band columns the model was
    trained on, under the same names. Runs in chunks: millions of rows fit
    in memory.

    \b
    Redshift PDFs (a model fitted with --redshift-pdf):
      skphotoz predict m.skz cat.fits -o pred.fits --pdf pdf.parquet --pdf-id-col ID

    The --pdf file has one row per catalog row, in the same order as OUTPUT:
    the --pdf-id-col columns, catalog_row (0-based), then either the
    quantiles z_q01 ... z_q99 of p(z) (the level is 0.<digits>: z_q025 is
    the 0.025 quantile, z_q50 the median) or, with --pdf-format grid, the
    density at each redshift z of the model's grid, column pdf_<z>
    (integrating to 1 over z by the trapezoid rule). A row without a
    prediction (too few bands) is NaN, never left out. --overwrite covers
    both files: without it, either one existing is an error before any work.

    MODEL is checked before it is used: a file of another format, a damaged
    one (its checksum does not match) or one naming any type other than
    skphotoz's, scikit-learn's and NumPy's is refused, and nothing written in
    it is run. Model files from skphotoz before format 2 are pickles, which
    run code when loaded: refit them, or pass --allow-pickle for a file you
    made yourself.
    """
    from skphotoz.catalogs import catalog_format, load_model, predict_catalog

    id_columns = split_list(pdf_id_cols)
    if pdf is None and (pdf_format is not None or id_columns):
        raise click.UsageError("--pdf-format and --pdf-id-col need --pdf PATH.")
    check_output(output, overwrite)
    if pdf is not None:
        if pdf.absolute() == output.absolute():
            raise click.UsageError("--pdf must name another file than -o OUTPUT.")
        check_output(pdf, overwrite)
        catalog_format(pdf)  # a suffix no writer knows, before any work
    check_catalog(catalog)
    import_keras_quietly()  # loading the model rebuilds its Keras network
    payload = load_model(model, allow_pickle=allow_pickle)
    pdf_format = pdf_format or "quantiles"
    if pdf is not None:
        pdf_output = _PdfOutput(pdf, payload, model, catalog, pdf_format, id_columns)
    click.echo(f"Model bands: {', '.join(payload['bands'])} (unit {payload['unit']}).")
    progress = not no_progress and progress_bars()
    if pdf is None:
        counts = predict_catalog(
            payload, catalog, output, chunk_size=chunk_size, overwrite=overwrite, progress=progress
        )
    else:
        counts = _predict_with_pdf(
            payload,
            catalog,
            output,
            pdf_output,
            chunk_size=chunk_size,
            overwrite=overwrite,
            progress=progress,
        )
    click.echo(
        f"Wrote {output}: {counts['n_rows']} rows, {counts['n_predicted']} predicted, "
        f"{counts['n_flagged']} flagged (see the predict_flag column)."
    )
    if pdf is not None:
        click.echo(
            f"Wrote {pdf}: p(z) of {pdf_output.with_pdf} of {counts['n_rows']} rows as "
            f"{pdf_format} (NaN rows: no prediction)."
        )
