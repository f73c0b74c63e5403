"""``skphotoz predict``: add type and redshift to every row of a catalog.

With ``--pdf PATH`` it also writes each galaxy's redshift PDF p(z) to a
second file, row for row with the main output and chunk for chunk (the same
loop, :func:`skphotoz.catalogs.predict.predict_catalog`):
:data:`~skphotoz.catalogs.predict.PDF_QUANTILE_LEVELS` quantiles
(``--pdf-format quantiles``) or the densities on the model's redshift grid
(``--pdf-format grid``), named as :func:`~skphotoz.catalogs.predict.pdf_columns`
says.
"""

from __future__ import annotations

from pathlib import Path

import click

from skphotoz.cli.common import (
    check_catalog,
    check_output,
    import_keras_quietly,
    progress_bars,
    reports_errors,
)
from skphotoz.cli.options import allow_pickle_option, overwrite_option, split_list


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
    from skphotoz.catalogs.predict import check_pdf_model

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
    if pdf is not None:
        check_pdf_model(payload)  # before any output: refit advice, one line
    pdf_format = pdf_format or "quantiles"
    click.echo(f"Model bands: {', '.join(payload['bands'])} (unit {payload['unit']}).")
    counts = predict_catalog(
        payload,
        catalog,
        output,
        chunk_size=chunk_size,
        overwrite=overwrite,
        progress=not no_progress and progress_bars(),
        pdf_path=pdf,
        pdf_format=pdf_format,
        pdf_id_columns=id_columns,
    )
    click.echo(
        f"Wrote {output}: {counts['n_rows']} rows, {counts['n_predicted']} predicted, "
        f"{counts['n_flagged']} flagged (see the predict_flag column)."
    )
    if pdf is not None:
        click.echo(
            f"Wrote {pdf}: p(z) of {counts['n_with_pdf']} of {counts['n_rows']} rows as "
            f"{pdf_format} (NaN rows: no prediction)."
        )
