"""The ``skphotoz`` commands that work on a user's catalog.

fit, predict, cv, report and inspect, registered on the ``skphotoz`` group
(:func:`skphotoz.cli.common.main`) when :mod:`skphotoz.cli.common` is imported. The options
they share, and the helpers that turn them into data and an estimator, are in
:mod:`skphotoz.cli.common`.
"""

from __future__ import annotations

from pathlib import Path

import click
import numpy as np
import pandas as pd

from skphotoz.cli.common import (
    _DEFAULT_SENTINELS,
    _catalog_options,
    _import_keras_quietly,
    _load_training,
    _make_estimator,
    _network_options,
    _split_list,
    main,
)


@main.command()
@click.argument("catalog", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@_catalog_options(required=True)
@_network_options
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="Model file to write, e.g. model.skz (use it with `skphotoz predict`).",
)
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
    help="Train N bootstrap replicas (skphotoz.nn.replica.ReplicaEnsemble, --protocol fixed): "
    "predictions are replica means and carry z_phot_err and p_lt_err (the replica spread).",
)
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
    threshold,
    uncertainty,
):
    """Train a model on CATALOG (magnitudes + spectroscopic z + types) and save it.

    \b
    Example (CNOC2: 1255 rows, UBVRI vector column, types in SC):
      skphotoz fit cnoc2.fits --bands UBVRI --type-col SC --et-values 2 \\
          --lt-values 4,5 --z-col Z --epochs 100 -o cnoc2.skz

    Rows whose type is in neither list, without a redshift or (without
    --impute) with a missing band are left out, and their count printed.
    The model file remembers the bands, unit and sentinels, so `skphotoz
    predict` applies the same conversion and refuses a catalog without
    those bands.
    """
    from skphotoz.catalogs.model_file import save_model

    data = _load_training(
        catalog, bands, type_col, z_col, et_values, lt_values, unit, sentinels, impute
    )
    estimator = _make_estimator(
        epochs,
        protocol,
        base_units,
        random_state,
        impute,
        threshold=threshold,
        uncertainty=uncertainty,
    )
    click.echo(f"Training for {epochs} epochs ...")
    estimator.fit(data.X, data.y)
    save_model(
        output,
        estimator,
        data.bands,
        unit=unit,
        sentinels=list(sentinels or _DEFAULT_SENTINELS),
        training_catalog=str(catalog),
        type_column=type_col,
        redshift_column=z_col,
        et_values=et_values,
        lt_values=lt_values,
        n_training=len(data.y),
        left_out=data.dropped,
    )
    click.echo(f"Saved {output}. Next: skphotoz predict {output} CATALOG -o predictions.fits")


@main.command()
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
@click.option("--overwrite", is_flag=True, help="Replace OUTPUT if it exists.")
@click.option("--no-progress", is_flag=True, help="No progress bar.")
def predict(model, catalog, output, chunk_size, overwrite, no_progress):
    """Add type and photometric redshift to every row of CATALOG with a saved MODEL.

    \b
    Example:
      skphotoz predict cnoc2.skz cnoc2.fits -o cnoc2_predictions.fits

    OUTPUT has every input column (vector columns split as NAME_0, NAME_1,
    ...), in the input row order, plus p_lt = P(late type), type (ET/LT),
    z_phot, p_lt_err and z_phot_err (models fitted with --uncertainty) and
    predict_flag: empty when the row was predicted, "missing:u,z" when a
    band was missing (no prediction), "imputed:u" for a model fitted with
    --impute. CATALOG must have the band columns the model was trained on,
    under the same names. Runs in chunks: millions of rows fit in memory.
    """
    from skphotoz.catalogs.model_file import load_model, predict_catalog

    _import_keras_quietly()  # unpickling the network imports Keras
    try:
        payload = load_model(model)
        click.echo(f"Model bands: {', '.join(payload['bands'])} (unit {payload['unit']}).")
        counts = predict_catalog(
            payload,
            catalog,
            output,
            chunk_size=chunk_size,
            overwrite=overwrite,
            progress=not no_progress,
        )
    except (ValueError, FileExistsError) as exc:
        raise click.UsageError(str(exc)) from exc
    click.echo(
        f"Wrote {output}: {counts['n_rows']} rows, {counts['n_predicted']} predicted, "
        f"{counts['n_flagged']} flagged (see the predict_flag column)."
    )


def _metrics_text(metrics):
    return "\n".join(
        f"  {name:28s} {row['value']:.4f} ± {row['error']:.4f}" for name, row in metrics.iterrows()
    )


@main.command()
@click.argument("catalog", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@_catalog_options(required=True)
@_network_options
@click.option("--loo", is_flag=True, help="Leave-one-out, as in the paper (slow: one fit/galaxy).")
@click.option(
    "--bootstrap",
    type=click.IntRange(1, None),
    default=None,
    help="N bootstrap resamples, testing on the out-of-bag galaxies.",
)
@click.option(
    "--folds",
    type=click.IntRange(2, None),
    default=5,
    show_default=True,
    help="Stratified k-fold cross-validation (used unless --loo or --bootstrap).",
)
@click.option(
    "--n-bootstrap",
    type=click.IntRange(10, None),
    default=1000,
    show_default=True,
    help="Resamples for the metric uncertainties (--loo and --folds).",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("cv_results.csv"),
    show_default=True,
    help="CSV of out-of-fold predictions (per-split metrics with --bootstrap).",
)
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
    loo,
    bootstrap,
    folds,
    n_bootstrap,
    output,
):
    """Cross-validate the network on CATALOG and print every metric with its error.

    \b
    Example:
      skphotoz cv cnoc2.fits --bands UBVRI --type-col SC --et-values 2 \\
          --lt-values 4,5 --z-col Z --epochs 100 --folds 5
    """
    from skphotoz import model_selection

    if loo and bootstrap:
        raise click.UsageError("Choose one of --loo and --bootstrap.")
    data = _load_training(
        catalog, bands, type_col, z_col, et_values, lt_values, unit, sentinels, impute
    )
    estimator = _make_estimator(epochs, protocol, base_units, random_state, impute, verbose=0)
    if bootstrap:
        result = model_selection.bootstrap_evaluation(
            estimator, data.X, data.y, n_splits=bootstrap, random_state=random_state, verbose=1
        )
        click.echo(f"\nMetrics over {bootstrap} bootstrap splits (median, 16-84% half-width)")
        click.echo(result.summary[["median", "spread"]].to_string(float_format="{:.4f}".format))
        result.per_split.to_csv(output, index=False)
    else:
        if loo:
            result = model_selection.loo_evaluation(
                estimator,
                data.X,
                data.y,
                n_bootstrap=n_bootstrap,
                random_state=random_state,
                verbose=1,
            )
            predictions, what = result.predictions, "leave-one-out"
        else:
            splitter = model_selection.StratifiedTypeKFold(
                folds, shuffle=True, random_state=random_state
            )
            oof = model_selection.cross_val_predict_joint(
                estimator, data.X, data.y, cv=splitter, random_state=random_state, verbose=1
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


@main.command()
@click.argument("catalog", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--rows",
    type=click.IntRange(1, None),
    default=100_000,
    show_default=True,
    help="Summarise at most this many rows (from the top).",
)
def inspect(catalog, rows):
    """List the columns of CATALOG: what to pass to --bands, --type-col and --z-col.

    \b
    Example:
      skphotoz inspect cnoc2.fits

    For each column: type, range, the count of -99/99/0/99.99 placeholders and, for
    columns with few distinct values (type codes), those values with counts.
    Vector columns are shown split, as the other commands see them.
    """
    from skphotoz.catalogs.formats import count_rows, iter_catalog

    try:
        frame = next(iter_catalog(catalog, chunk_size=rows))
    except (ValueError, StopIteration) as exc:
        raise click.UsageError(f"Cannot read {catalog}: {exc}") from exc
    total = count_rows(catalog)
    click.echo(
        f"{catalog}: {total if total is not None else 'unknown number of'} rows, "
        f"{len(frame.columns)} columns (summary of the first {len(frame)} rows)."
    )
    for name in frame.columns:
        column = frame[name]
        if pd.api.types.is_numeric_dtype(column):
            values = column.to_numpy(dtype=float)
            sentinels = int(np.isin(values, (*_DEFAULT_SENTINELS, 99.99, -999.0, 999.0)).sum())
            finite = values[np.isfinite(values)]
            text = f"{finite.min():.4g} .. {finite.max():.4g}" if len(finite) else "no values"
            if sentinels:
                text += f"; {sentinels} look like 'missing' (-99, 99, 0, 99.99, 999)"
        else:
            text = "text"
        counts = column.value_counts()
        if len(counts) <= 10:
            text += "; values " + ", ".join(f"{k} ({v})" for k, v in counts.items())
        click.echo(f"  {name:24s} {str(column.dtype):8s} {text}")


def _parse_filters(filters, bands):
    """'--filters U=bessell_U,...' or a plain list in band order -> list of sedpy names."""
    items = _split_list(filters)
    if not items:
        return None
    if all("=" in item for item in items):
        mapping = dict(item.split("=", 1) for item in items)
        missing = [b for b in bands if b not in mapping]
        if missing:
            raise click.UsageError(f"--filters gives no filter for band(s) {missing}.")
        return [mapping[b] for b in bands]
    if len(items) != len(bands):
        raise click.UsageError(
            f"--filters lists {len(items)} filter(s) for {len(bands)} band(s) {bands}."
        )
    return items


@main.command()
@click.argument(
    "catalog", required=False, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@_catalog_options(required=False)
@_network_options
@click.option(
    "--demo",
    is_flag=True,
    help="Use the built-in SDSS+2MASS demo sample (the default without CATALOG).",
)
@click.option(
    "--n-galaxies",
    type=click.IntRange(100, 9987),
    default=2000,
    show_default=True,
    help="Galaxies drawn from the demo sample (--demo only).",
)
@click.option("--loo", is_flag=True, help="Leave-one-out predictions (the paper's; slow).")
@click.option(
    "--folds",
    type=click.IntRange(2, None),
    default=5,
    show_default=True,
    help="Out-of-fold predictions from k stratified folds (unless --loo).",
)
@click.option(
    "--filters",
    multiple=True,
    help="sedpy filter names for the SED template baseline, either band=filter pairs "
    "(U=bessell_U,...) or one per band in --bands order. Without it the SED baseline is "
    "skipped (the demo knows its filters).",
)
@click.option(
    "--templates",
    default="bpz",
    show_default=True,
    help="SED templates: 'bpz' or a folder of LePhare .sed files.",
)
@click.option(
    "--sed-offsets",
    default=None,
    help="Magnitude offsets added per band before template fitting, comma-separated, e.g. "
    "Vega to AB for Bessell UBVRI: 0.81,-0.10,0.01,0.19,0.44 (the templates are AB).",
)
@click.option("--r-band", default=None, help="Band column for Fig. 1 and Table 1 (guessed).")
@click.option(
    "--weights",
    type=click.IntRange(2, None),
    default=None,
    metavar="N",
    help="Add the Q-Q analysis of the redshift-neuron weights over N bootstrap training "
    "runs (paper Fig. 8 used 1000; each run is one training).",
)
@click.option(
    "--n-bootstrap",
    type=click.IntRange(10, None),
    default=1000,
    show_default=True,
    help="Resamples for the uncertainties.",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("skphotoz_report"),
    show_default=True,
    help="Folder for report.html (self-contained) and its PNG/CSV files.",
)
def report(
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
    demo,
    n_galaxies,
    loo,
    folds,
    filters,
    templates,
    sed_offsets,
    r_band,
    weights,
    n_bootstrap,
    output,
):
    """The paper's whole analysis of CATALOG (or the demo sample) as one HTML report.

    \b
    Examples:
      skphotoz report --demo --epochs 50 -o demo_report
      skphotoz report cnoc2.fits --bands UBVRI --type-col SC --et-values 2 \\
          --lt-values 4,5 --z-col Z --epochs 100 --r-band UBVRI_3 \\
          --filters bessell_U,bessell_B,bessell_V,bessell_R,bessell_I \\
          --sed-offsets 0.81,-0.10,0.01,0.19,0.44 -o cnoc2_report
    (CNOC2 magnitudes are Vega-like; the offsets make them AB for the
    templates only.)

    Every network prediction in it is out of sample (k-fold or LOO).
    Contents: Fig. 1 + Table 1 (data), Tables 3, 5, 6 + ROC (classification
    at 0.5 and at Youden's threshold), z_phot vs z_spec for the network and
    the SED baseline, residuals with 99% bands, the residual table with
    bootstrap errors, outlier counts and, with --weights N, the weight Q-Q
    analysis. Open OUTPUT/report.html in a browser.
    """
    from skphotoz.reporting.html import (
        out_of_sample_predictions,
        sed_baseline_predictions,
        write_report,
    )

    notes = []
    if demo and catalog is not None:
        raise click.UsageError("Give either a CATALOG (with --bands etc.) or --demo, not both.")
    if catalog is None:
        if not demo:
            click.echo("No CATALOG given: reporting on the built-in demo sample (--demo).")
        from skphotoz.datasets import DEMO_BANDS, load_demo

        X, y = load_demo(n_samples=n_galaxies, random_state=random_state, return_X_y=True)
        sed_filters, r_band = list(DEMO_BANDS), r_band or "r"
        name = "demo sample (SDSS ugriz + 2MASS JHKs, kcorrect test set)"
    else:
        if not (bands and type_col and z_col):
            raise click.UsageError("A CATALOG needs --bands, --type-col and --z-col.")
        data = _load_training(
            catalog, bands, type_col, z_col, et_values, lt_values, unit, sentinels, impute
        )
        X, y, name = data.X, data.y, str(catalog)
        notes += [f"Left out {n} row(s): {reason}." for reason, n in data.dropped.items()]
        sed_filters = _parse_filters(filters, data.bands)
    estimator = _make_estimator(epochs, protocol, base_units, random_state, impute, verbose=0)
    how = "leave-one-out" if loo else f"{folds}-fold cross-validation"
    notes.insert(
        0,
        f"Sample: {name}. Network: JointMorphZ, {epochs} epochs, protocol "
        f"{protocol}, base units {base_units}; predictions from {how}.",
    )
    click.echo(f"Out-of-sample predictions ({how}) ...")
    predictions = out_of_sample_predictions(
        estimator,
        X,
        y,
        loo=loo,
        n_folds=folds,
        n_bootstrap=n_bootstrap,
        random_state=random_state,
        verbose=1,
    )
    sed, sed_note = None, None
    if sed_filters is None:
        sed_note = (
            "no --filters given, so the bands could not be matched to filter curves "
            "(e.g. --filters U=bessell_U,... or sdss_r0, cfht_megacam_rs_9601)."
        )
    else:
        click.echo("SED template fitting ...")
        try:
            offsets = np.zeros(X.shape[1])
            if sed_offsets:
                offsets = np.array([float(v) for v in _split_list(sed_offsets)])
                if len(offsets) != X.shape[1]:
                    raise click.UsageError(
                        f"--sed-offsets has {len(offsets)} values for {X.shape[1]} bands."
                    )
                notes.append(f"Offsets {offsets.tolist()} added before template fitting.")
            sed = sed_baseline_predictions(X + offsets, y, sed_filters, templates=templates)
            notes.append(
                f"SED baseline: SEDTemplateFitter, filters {sed_filters}, templates {templates}."
            )
        except click.UsageError:
            raise
        except Exception as exc:  # noqa: BLE001 - any failure is reported, not fatal
            sed_note = f"template fitting failed: {exc}"
    final = estimator.steps[-1][1] if hasattr(estimator, "steps") else estimator
    params = {k: v for k, v in final.get_params().items() if k not in ("verbose", "random_state")}
    analysis, weight_note = _weight_analysis(weights, params, X, y, random_state, impute)
    path = write_report(
        output,
        X,
        y,
        predictions,
        r_band=r_band,
        sed_predictions=sed,
        sed_note=sed_note,
        weight_analysis=analysis,
        weight_note=weight_note,
        notes=notes,
        title=f"skphotoz report: {Path(name).name if catalog else 'demo sample'}",
        n_bootstrap=n_bootstrap,
        random_state=random_state,
    )
    click.echo(f"Wrote {path} (open it in a browser) and its figures and tables in {output}.")


def _weight_analysis(n_runs, network_params, X, y, random_state, impute):
    """Run the weight Q-Q analysis if asked and available; else (None, why not)."""
    if not n_runs:
        return None, None
    from skphotoz.model_selection.weight_analysis import bootstrap_weight_analysis

    if impute or np.isnan(np.asarray(X, dtype=float)).any():
        note = "Weight analysis skipped: it trains on complete photometry (no --impute)."
        click.echo(note)
        return None, note
    click.echo(f"Bootstrap weight analysis ({n_runs} training runs) ...")
    analysis = bootstrap_weight_analysis(
        np.asarray(X, dtype=float),
        y,
        n_runs=n_runs,
        estimator_params=network_params,
        random_state=random_state,
        verbose=1,
    )
    return analysis, None
