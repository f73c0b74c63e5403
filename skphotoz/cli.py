"""The ``skphotoz`` command line.

``skphotoz demo`` trains on the embedded demo sample; the other commands work
on a user's catalog. Run ``skphotoz COMMAND --help`` for each one.
"""

from __future__ import annotations

import os
from pathlib import Path

import click

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="skphotoz")
def main():
    """Galaxy type (early/late) and photometric redshift from one network.

    \b
    Start here:
      skphotoz demo               train and evaluate on the built-in sample
      skphotoz COMMAND --help     options of any command
    """


def _format_metrics(columns):
    """A plain-text table of metric dicts, one column per estimator."""
    import pandas as pd

    table = pd.DataFrame(columns)
    return table.to_string(float_format=lambda v: f"{v:.4f}")


def split_demo_sample(n_galaxies, test_size, random_state):
    """Load the demo sample and split it, stratified by type."""
    from sklearn.model_selection import train_test_split

    from .datasets import load_demo

    X, y = load_demo(n_samples=n_galaxies, random_state=random_state, return_X_y=True)
    return train_test_split(
        X, y, test_size=test_size, stratify=y["type"], random_state=random_state
    )


def evaluate_on(model, X_test, y_test):
    """Metrics dicts and predictions of a fitted joint model on a labelled set."""
    from .metrics import classification_metrics, photoz_metrics

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
    from . import JointMorphZ

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

    from .plotting import plot_roc, plot_zphot_vs_zspec

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

    from .datasets import DEMO_BANDS
    from .plotting import plot_redshift_residuals, plot_zphot_vs_zspec
    from .sed import SEDTemplateFitter

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


if __name__ == "__main__":  # pragma: no cover
    main()
