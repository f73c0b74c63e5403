"""``skphotoz cv``: cross-validate the network on a labelled catalog."""

from __future__ import annotations

from pathlib import Path

import click

from skphotoz.cli.common import (
    bands_to_score,
    check_folds,
    check_output,
    load_training,
    model_from_options,
    progress_bars,
    reports_errors,
)
from skphotoz.cli.options import (
    catalog_options,
    network_options,
    out_of_sample_options,
    overwrite_option,
)


def _metrics_text(metrics):
    return "\n".join(
        f"  {name:28s} {row['value']:.4f} ± {row['error']:.4f}" for name, row in metrics.iterrows()
    )


@click.command()
@click.argument("catalog", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@catalog_options(required=True)
@network_options
@click.option(
    "--bootstrap",
    type=click.IntRange(1, None),
    default=None,
    help="N bootstrap resamples, testing on the out-of-bag galaxies, instead of --folds "
    "or --loo; the metrics' spread over the resamples replaces the --n-bootstrap errors.",
)
@out_of_sample_options
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("cv_results.csv"),
    show_default=True,
    help="CSV of out-of-fold predictions (per-split metrics with --bootstrap).",
)
@overwrite_option
@reports_errors
def cv(
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
    bootstrap,
    loo,
    folds,
    n_bootstrap,
    output,
    overwrite,
):
    """Cross-validate the network on CATALOG and print every metric with its error.

    \b
    Example:
      skphotoz cv cnoc2.fits --bands UBVRI --type-col SC --et-values 2 \\
          --lt-values 4,5 --z-col Z --epochs 100 --folds 5

    Galaxies with missing bands are cross-validated like the others (the
    network takes them natively, or --impute fills them). Without --impute,
    galaxies with too few observed bands for a prediction (JointMorphZ's
    min_observed_bands) are left out and counted: there is nothing to score.
    """
    import pandas as pd

    from skphotoz import model_selection
    from skphotoz.reporting.run import out_of_sample_predictions

    if loo and bootstrap:
        raise click.UsageError("Choose one of --loo and --bootstrap.")
    check_output(output, overwrite)
    data = load_training(
        catalog,
        bands,
        type_col,
        z_col,
        et_values,
        lt_values,
        unit,
        sentinels,
        impute,
        min_observed_bands=bands_to_score(impute),
    )
    if not (loo or bootstrap):
        check_folds(folds, data.y["type"])
    estimator = model_from_options(epochs, protocol, base_units, random_state, impute, verbose=0)
    verbose = int(progress_bars())  # the fold and replica bars; nothing else
    if bootstrap:
        result = model_selection.bootstrap_evaluation(
            estimator,
            data.X,
            data.y,
            n_splits=bootstrap,
            random_state=random_state,
            verbose=verbose,
        )
        click.echo(f"\nMetrics over {bootstrap} bootstrap splits (median, 16-84% half-width)")
        click.echo(result.summary[["median", "spread"]].to_string(float_format="{:.4f}".format))
        result.per_split.to_csv(output, index=False)
    else:
        if loo:
            # loo_evaluation, not out_of_sample_predictions(loo=True): it returns
            # the metrics printed below too, bootstrapped with the seed it derives.
            result = model_selection.loo_evaluation(
                estimator,
                data.X,
                data.y,
                n_bootstrap=n_bootstrap,
                random_state=random_state,
                verbose=verbose,
            )
            predictions, what = result.predictions, "leave-one-out"
        else:
            oof = out_of_sample_predictions(
                estimator,
                data.X,
                data.y,
                n_folds=folds,
                random_state=random_state,
                verbose=verbose,
            )
            predictions = pd.DataFrame(
                {
                    "type": data.y["type"].to_numpy(),
                    "z_spec": data.y["redshift"].to_numpy(),
                    "p_late": oof["p_late"].to_numpy(),
                    "z_phot": oof["z_phot"].to_numpy(),
                }
            )
            result = model_selection.evaluate_predictions(
                predictions, n_bootstrap=n_bootstrap, random_state=random_state
            )
            what = f"{folds}-fold cross-validation"
        click.echo(f"\nMetrics from {what} (± bootstrap standard deviation)")
        click.echo(_metrics_text(result.metrics))
        predictions.insert(0, "catalog_row", data.rows)
        predictions.to_csv(output, index=False)
    click.echo(f"\nWrote {output}.")
