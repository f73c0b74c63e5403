"""The ``skphotoz`` command line.

``skphotoz demo`` and ``compare`` train on the embedded demo sample; the
catalog commands (fit, predict, cv, report, inspect) work on a user's catalog
and live in :mod:`skphotoz.cli.catalog`, which registers them on :func:`main`.
This module holds the group, the demo commands and the options the catalog
commands share. Run ``skphotoz COMMAND --help`` for each one.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from skphotoz.catalogs.formats import UNITS


def _import_keras_quietly():
    """Import Keras (and TensorFlow) without its C++ start-up lines on the terminal.

    TensorFlow 2.21 writes "oneDNN custom operations are on", "Could not find cuda
    drivers" and absl's "All log messages before absl::InitializeLog()" straight to
    file descriptor 2 while its shared libraries load, before any log level applies:
    TF_CPP_MIN_LOG_LEVEL (even 3, even set before Python starts) hides none of them,
    so descriptor 2 points at /dev/null during the import. Python errors still show:
    they are raised after it is restored. Level 3 also hides the "failed call to
    cuInit" ERROR on machines without a GPU, which level 2 (skphotoz's library
    default) lets through; the CLI reports its own failures. Setting
    TF_CPP_MIN_LOG_LEVEL=0 or 1 shows everything, for debugging a GPU set-up.
    """
    if "keras" in sys.modules or os.environ.get("TF_CPP_MIN_LOG_LEVEL") in ("0", "1"):
        return
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
    sys.stderr.flush()
    try:
        saved = os.dup(2)
    except OSError:  # no descriptor 2 (e.g. pythonw): nothing would be printed anyway
        import keras  # noqa: F401

        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    try:
        import keras  # noqa: F401
    finally:
        os.dup2(saved, 2)
        os.close(devnull)
        os.close(saved)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="skphotoz")
def main():
    """Galaxy type (early/late) and photometric redshift from one network.

    \b
    Start here:
      skphotoz demo               train and evaluate on the built-in sample
      skphotoz report --demo -o report_dir
                                  the paper's whole analysis as one HTML page
      skphotoz COMMAND --help     options of any command

    \b
    Your own catalog (FITS, VOTable, ECSV, CSV or parquet) with
    spectroscopic redshifts and type labels:
      skphotoz inspect cat.fits   its columns, value ranges and type codes
      skphotoz fit cat.fits --bands u,g,r,i,z --type-col TYPE --z-col ZSPEC -o model.skz
      skphotoz predict model.skz big_catalog.fits -o predictions.fits
      skphotoz cv cat.fits --bands u,g,r,i,z --type-col TYPE --z-col ZSPEC --folds 5
      skphotoz report cat.fits --bands u,g,r,i,z --type-col TYPE --z-col ZSPEC -o report_dir
    Example: CNOC2 (types in SC: 2 early, 4 and 5 late, 6 dropped):
      skphotoz fit cnoc2.fits --bands UBVRI --type-col SC --et-values 2 --lt-values 4,5 \\
          --z-col Z -o cnoc2.skz
    """


def _format_metrics(columns):
    """A plain-text table of metric dicts, one column per estimator."""
    import pandas as pd

    table = pd.DataFrame(columns)
    return table.to_string(float_format=lambda v: f"{v:.4f}")


def split_demo_sample(n_galaxies, test_size, random_state):
    """Load the demo sample and split it, stratified by type."""
    from sklearn.model_selection import train_test_split

    from skphotoz.datasets import load_demo

    X, y = load_demo(n_samples=n_galaxies, random_state=random_state, return_X_y=True)
    return train_test_split(
        X, y, test_size=test_size, stratify=y["type"], random_state=random_state
    )


def evaluate_on(model, X_test, y_test):
    """Metrics dicts and predictions of a fitted joint model on a labelled set."""
    from skphotoz.metrics import classification_metrics, photoz_metrics

    p_late = model.predict_proba(X_test)[:, 1]
    z_phot = model.predict(X_test)[:, 1].astype(float)
    late_true = (y_test["type"] == model.classes_[1]).to_numpy()
    z_spec = y_test["redshift"].to_numpy()
    cls = classification_metrics(late_true, p_late, threshold=getattr(model, "threshold", 0.5))
    return cls, photoz_metrics(z_spec, z_phot), late_true, p_late, z_spec, z_phot


def _demo_options(command):
    options = [
        click.option(
            "-o",
            "--output",
            "output",
            type=click.Path(file_okay=False, path_type=Path),
            default=Path("skphotoz_demo_output"),
            show_default=True,
            help="Folder for the plots and the metrics table.",
        ),
        click.option(
            "--n-galaxies",
            type=click.IntRange(100, 9987),
            default=3000,
            show_default=True,
            help="Galaxies drawn from the 9,987-galaxy demo sample.",
        ),
        click.option(
            "--test-size",
            type=click.FloatRange(0.05, 0.9),
            default=0.25,
            show_default=True,
            help="Fraction held out for the reported metrics.",
        ),
        click.option(
            "--epochs",
            type=click.IntRange(1, None),
            default=None,
            help="Training epochs (default: the estimator's default).",
        ),
        click.option("--random-state", type=int, default=0, show_default=True),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def _train_network(X_train, y_train, epochs, random_state):
    _import_keras_quietly()
    from skphotoz.nn import JointMorphZ

    params = {"random_state": random_state, "verbose": 1}
    if epochs is not None:
        params["epochs"] = epochs
    return JointMorphZ(**params).fit(X_train, y_train)


@main.command()
@_demo_options
def demo(output, n_galaxies, test_size, epochs, random_state):
    """Train JointMorphZ on the built-in SDSS+2MASS sample and report its metrics.

    The sample (ugrizJHK AB magnitudes, spectroscopic redshifts, ET/LT labels
    from the best-fitting template) ships with the pip dependencies, so this
    runs on a fresh machine. Writes zphot_vs_zspec.png, roc.png and
    metrics.csv to OUTPUT.
    """
    import pandas as pd

    from skphotoz.reporting.plots import plot_roc, plot_zphot_vs_zspec

    X_train, X_test, y_train, y_test = split_demo_sample(n_galaxies, test_size, random_state)
    click.echo(
        f"Demo sample: {len(X_train)} training and {len(X_test)} test galaxies, "
        f"bands {', '.join(X_train.columns)}; early-type fraction "
        f"{(y_train['type'] == 'ET').mean():.2f}."
    )
    model = _train_network(X_train, y_train, epochs, random_state)
    cls, phz, late_true, p_late, z_spec, z_phot = evaluate_on(model, X_test, y_test)
    click.echo("\nClassification (test set)\n" + _format_metrics({"JointMorphZ": cls}))
    click.echo("\nPhotometric redshift (test set)\n" + _format_metrics({"JointMorphZ": phz}))

    output.mkdir(parents=True, exist_ok=True)
    pd.Series({**cls, **phz}, name="JointMorphZ").to_csv(output / "metrics.csv")
    plot_zphot_vs_zspec(z_spec, z_phot, label="JointMorphZ", path=output / "zphot_vs_zspec.png")
    plot_roc(late_true, p_late, path=output / "roc.png")
    click.echo(
        f"\nWrote {output / 'metrics.csv'}, {output / 'zphot_vs_zspec.png'} and "
        f"{output / 'roc.png'}."
    )


@main.command()
@_demo_options
def compare(output, n_galaxies, test_size, epochs, random_state):
    """Network against SED template fitting on the demo sample (paper Table 7, Figs. 6-7).

    Both estimators see the same training and test galaxies: JointMorphZ is
    trained; SEDTemplateFitter (desc-bpz templates, SDSS + 2MASS filter
    curves) only validates on the training set. Prints both metric sets side
    by side with the outlier counts, and writes compare_zphot_vs_zspec.png,
    compare_residuals.png and compare_metrics.csv to OUTPUT.
    """
    import matplotlib.pyplot as plt
    import pandas as pd

    from skphotoz.baselines.sed import SEDTemplateFitter
    from skphotoz.datasets import DEMO_BANDS
    from skphotoz.reporting.plots import plot_redshift_residuals, plot_zphot_vs_zspec

    X_train, X_test, y_train, y_test = split_demo_sample(n_galaxies, test_size, random_state)
    network = _train_network(X_train, y_train, epochs, random_state)
    templates = SEDTemplateFitter(list(DEMO_BANDS)).fit(X_train.to_numpy(), y_train)
    results = {
        "JointMorphZ": evaluate_on(network, X_test, y_test),
        "SED templates": evaluate_on(templates, X_test.to_numpy(), y_test),
    }
    click.echo(
        "\nClassification (test set)\n" + _format_metrics({k: v[0] for k, v in results.items()})
    )
    click.echo(
        "\nPhotometric redshift (test set; paper Table 7 and outlier counts)\n"
        + _format_metrics({k: v[1] for k, v in results.items()})
    )
    output.mkdir(parents=True, exist_ok=True)
    pd.DataFrame({k: {**v[0], **v[1]} for k, v in results.items()}).to_csv(
        output / "compare_metrics.csv"
    )
    z_spec = results["JointMorphZ"][4]
    plot_zphot_vs_zspec(
        z_spec,
        {"SED templates": results["SED templates"][5], "JointMorphZ": results["JointMorphZ"][5]},
        path=output / "compare_zphot_vs_zspec.png",
    )
    fig, axes = plt.subplots(2, 1, figsize=(6, 6.5), sharex=True)
    for ax, name in zip(axes, ("SED templates", "JointMorphZ"), strict=True):
        plot_redshift_residuals(z_spec, results[name][5], ax=ax, label=name)
        ax.set_title(name, fontsize=9)
    fig.savefig(output / "compare_residuals.png", dpi=120, bbox_inches="tight")
    click.echo(
        f"\nWrote compare_metrics.csv, compare_zphot_vs_zspec.png and "
        f"compare_residuals.png to {output}."
    )


# ------------------------------- shared by the catalog commands (cli_catalog.py)
_DEFAULT_SENTINELS = (-99.0, 99.0, 0.0)


def _split_list(values):
    """Options given as "a,b" and/or repeated: one flat list."""
    if values is None:
        return []
    if isinstance(values, str):
        values = [values]
    return [item.strip() for value in values for item in value.split(",") if item.strip()]


def _catalog_options(required):
    def decorate(command):
        options = [
            click.option(
                "--bands",
                multiple=True,
                required=required,
                help="Band columns, in order: comma-separated or repeated. Exact names "
                "(u,g,r), globs ('MAG_*') or a vector column (UBVRI means UBVRI_0..UBVRI_4).",
            ),
            click.option(
                "--type-col",
                required=required,
                help="Column with the galaxy type (ET/LT, 0/1, or any codes with --et-values).",
            ),
            click.option(
                "--z-col", required=required, help="Column with the spectroscopic redshift."
            ),
            click.option(
                "--et-values",
                default=None,
                help="Type values meaning early type, comma-separated (e.g. 2 for CNOC2's SC). "
                "Not needed when the column holds ET/LT or 0/1.",
            ),
            click.option(
                "--lt-values",
                default=None,
                help="Type values meaning late type (e.g. 4,5). Default: every value not in "
                "--et-values. Rows with other values are left out and counted.",
            ),
            click.option(
                "--unit",
                type=click.Choice(UNITS),
                default="mag",
                show_default=True,
                help="What the band columns hold: magnitudes, or fluxes converted to AB "
                "magnitudes (maggies, nanomaggies, Jy, mJy, uJy, nJy).",
            ),
            click.option(
                "--sentinel",
                "sentinels",
                type=float,
                multiple=True,
                help="Magnitude meaning 'not observed' (repeat for several). "
                "Default: -99, 99 and 0; |mag| >= 90 (e.g. 99.99) always counts as missing.",
            ),
            click.option(
                "--impute",
                is_flag=True,
                help="Keep galaxies with missing bands: the model fills them (median) and is "
                "told which were missing. Without it they are left out of training and "
                "flagged, not predicted, by `predict`.",
            ),
        ]
        for option in reversed(options):
            command = option(command)
        return command

    return decorate


def _network_options(command):
    options = [
        click.option(
            "--epochs",
            type=click.IntRange(1, None),
            default=300,
            show_default=True,
            help="Training epochs (the paper's 300; try 20 for a quick look).",
        ),
        click.option(
            "--protocol",
            type=click.Choice(["fixed", "paper", "total_loss"]),
            default="fixed",
            show_default=True,
            help="fixed: all data, exactly --epochs epochs; paper / total_loss: early "
            "stopping on a held-out third (see JointMorphZ).",
        ),
        click.option(
            "--base-units",
            default="512",
            show_default=True,
            help="Widths of the shared layers, comma-separated (smaller is faster).",
        ),
        click.option("--random-state", type=int, default=0, show_default=True),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def _load_training(catalog, bands, type_col, z_col, et_values, lt_values, unit, sentinels, impute):
    from skphotoz.catalogs.formats import read_training_catalog

    try:
        data = read_training_catalog(
            catalog,
            _split_list(bands),
            type_col,
            z_col,
            et_values=et_values,
            lt_values=lt_values,
            unit=unit,
            sentinels=sentinels or _DEFAULT_SENTINELS,
            keep_missing_bands=impute,
        )
    except (ValueError, FileNotFoundError) as exc:
        raise click.UsageError(str(exc)) from exc
    counts = data.y["type"].value_counts()
    click.echo(
        f"{catalog}: {len(data.frame)} rows; bands {', '.join(data.bands)}.\n"
        f"Using {len(data.y)} galaxies: {counts.get('ET', 0)} ET, {counts.get('LT', 0)} LT."
    )
    for reason, n in data.dropped.items():
        click.echo(f"  left out {n} row(s): {reason}")
    if len(counts) < 2:
        raise click.UsageError("Training needs both early (ET) and late (LT) types.")
    return data


def _make_estimator(
    epochs,
    protocol,
    base_units,
    random_state,
    impute,
    *,
    verbose=1,
    threshold="0.5",
    uncertainty=None,
):
    _import_keras_quietly()
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import make_pipeline

    from skphotoz.nn import JointMorphZ

    try:
        units = tuple(int(u) for u in _split_list(base_units))
    except ValueError as exc:
        raise click.UsageError(
            f"--base-units must be integers, e.g. 512 or 64,32 ({exc})."
        ) from exc
    params = {
        "base_units": units,
        "base_dropout": (0.5,) * len(units),
        "epochs": epochs,
        "random_state": random_state,
        "verbose": verbose,
    }
    if threshold not in ("0.5", "youden"):
        try:
            params["threshold"] = float(threshold)
        except ValueError as exc:
            raise click.UsageError("--threshold is a number in [0, 1] or 'youden'.") from exc
    if uncertainty:
        from skphotoz.nn.ensemble import ReplicaEnsemble

        if protocol != "fixed" or threshold == "youden":
            raise click.UsageError(
                "--uncertainty trains replicas with --protocol fixed and a fixed --threshold "
                "(not 'youden')."
            )
        estimator = ReplicaEnsemble(n_replicas=uncertainty, **params)
    else:
        estimator = JointMorphZ(protocol=protocol, **params)
    if threshold == "youden":
        from skphotoz.thresholding import YoudenThresholdCV

        estimator = YoudenThresholdCV(estimator, cv=5, random_state=random_state)
    if impute:
        estimator = make_pipeline(SimpleImputer(strategy="median", add_indicator=True), estimator)
    return estimator


# Importing the module registers its commands on `main` (it imports `main` and the
# helpers above from here, so this import has to come after them).
import skphotoz.cli.catalog  # noqa: E402, F401
