"""``skphotoz fit``: train on a labelled catalog and save a model file."""

from __future__ import annotations

from pathlib import Path

import click

from skphotoz.catalogs.photometry import MAGNITUDE_SENTINELS
from skphotoz.cli.common import (
    check_output,
    load_training,
    model_from_options,
    progress_bars,
    reports_errors,
)
from skphotoz.cli.options import (
    catalog_options,
    network_options,
    overwrite_option,
    redshift_pdf_option,
)


@click.command()
@click.argument("catalog", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@catalog_options(required=True)
@network_options
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="Model file to write, e.g. model.skz (use it with `skphotoz predict`).",
)
@overwrite_option
@click.option(
    "--threshold",
    default="0.5",
    show_default=True,
    help="Late type when P(LT) >= this; 'youden' learns Youden's threshold by 5-fold CV "
    "(6x the training time).",
)
@click.option(
    "--uncertainty",
    type=click.IntRange(2, None),
    default=None,
    help="Train N bootstrap replicas (skphotoz.nn.ReplicaEnsemble, --protocol fixed): "
    "predictions are replica means and carry z_phot_err and p_lt_err (the replica spread).",
)
@redshift_pdf_option(
    "Also learn each galaxy's redshift PDF p(z) (a head beside z_phot: 'mixture' "
    "of Gaussians or 'bins', a histogram), so `skphotoz predict --pdf` can write it; "
    "z_phot is then the median of p(z). Default: none, the point redshift only."
)
@reports_errors
def fit(
    catalog,
    bands,
    type_col,
    z_col,
    et_values,
    lt_values,
    unit,
    sentinels,
    impute,
    epochs,
    protocol,
    base_units,
    random_state,
    output,
    overwrite,
    threshold,
    uncertainty,
    redshift_pdf,
):
    """Train a model on CATALOG (magnitudes + spectroscopic z + types) and save it.

    \b
    Example (CNOC2: 1255 rows, UBVRI vector column, types in SC):
      skphotoz fit cnoc2.fits --bands UBVRI --type-col SC --et-values 2 \\
          --lt-values 4,5 --z-col Z --epochs 100 -o cnoc2.skz

    A band that was not observed (NaN, or a placeholder: -99, 99, 0,
    |mag| >= 90 or your --sentinel values) is missing, never a magnitude.
    Rows with missing bands are trained on: the network takes them natively
    (or, with --impute, an imputer fills them). Rows with no observed band,
    a type in neither list or no redshift are left out, and their count
    printed. The model file remembers the bands, unit and sentinels, so
    `skphotoz predict` applies the same conversion and refuses a catalog
    without those bands.

    The model file holds no code: it is a zip of metadata.json (bands, unit,
    sentinels, versions, a checksum) and the model as JSON and arrays
    (skops). `skphotoz predict` checks the format and the checksum and loads
    only skphotoz's, scikit-learn's and NumPy's types from it, so loading a
    .skz runs nothing written in the file.

    With --redshift-pdf the model also gives p(z) on a grid of 200 redshifts
    over the training redshifts' range widened by 10% each side (not below
    0), kept in the model file; `skphotoz predict --pdf` writes it, and
    z_phot is the median of that p(z) (`point_estimate="auto"`), which had
    the lower sigma_NMAD on four of the five gappy samples measured and the
    same on the fifth (docs/benchmarks.md, Sect. 7).
    """
    from skphotoz.catalogs import save_model

    check_output(output, overwrite)
    data = load_training(
        catalog, bands, type_col, z_col, et_values, lt_values, unit, sentinels, impute
    )
    estimator = model_from_options(
        epochs,
        protocol,
        base_units,
        random_state,
        impute,
        threshold=threshold,
        uncertainty=uncertainty,
        redshift_pdf=redshift_pdf,
        verbose=int(progress_bars()),
    )
    click.echo(f"Training for {epochs} epochs ...")
    estimator.fit(data.X, data.y)
    save_model(
        output,
        estimator,
        data.bands,
        unit=unit,
        sentinels=list(sentinels or MAGNITUDE_SENTINELS),
        training_catalog=str(catalog),
        type_column=type_col,
        redshift_column=z_col,
        et_values=et_values,
        lt_values=lt_values,
        n_training=len(data.y),
        left_out=data.dropped,
    )
    pdf = " --pdf pdf.fits" if redshift_pdf else ""
    click.echo(f"Saved {output}. Next: skphotoz predict {output} CATALOG -o predictions.fits{pdf}")
