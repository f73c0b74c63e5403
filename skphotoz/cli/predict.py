"""``skphotoz predict``: add type and redshift to every row of a catalog."""

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
from skphotoz.cli.options import allow_pickle_option, overwrite_option


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
@reports_errors
def predict(model, catalog, output, chunk_size, overwrite, allow_pickle, no_progress):
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

    MODEL is checked before it is used: a file of another format, a damaged
    one (its checksum does not match) or one naming any type other than
    skphotoz's, scikit-learn's and NumPy's is refused, and nothing written in
    it is run. Model files from skphotoz before format 2 are pickles, which
    run code when loaded: refit them, or pass --allow-pickle for a file you
    made yourself.
    """
    from skphotoz.catalogs import load_model, predict_catalog

    check_output(output, overwrite)
    check_catalog(catalog)
    import_keras_quietly()  # loading the model rebuilds its Keras network
    payload = load_model(model, allow_pickle=allow_pickle)
    click.echo(f"Model bands: {', '.join(payload['bands'])} (unit {payload['unit']}).")
    counts = predict_catalog(
        payload,
        catalog,
        output,
        chunk_size=chunk_size,
        overwrite=overwrite,
        progress=not no_progress and progress_bars(),
    )
    click.echo(
        f"Wrote {output}: {counts['n_rows']} rows, {counts['n_predicted']} predicted, "
        f"{counts['n_flagged']} flagged (see the predict_flag column)."
    )
