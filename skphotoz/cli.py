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


@main.command()
@click.option(
    "-o",
    "--output",
    "output",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("skphotoz_demo_output"),
    show_default=True,
    help="Folder for the plots and the metrics table.",
)
@click.option(
    "--n-galaxies",
    type=click.IntRange(100, None),
    default=3000,
    show_default=True,
    help="Galaxies drawn from the 9,987-galaxy demo sample.",
)
@click.option(
    "--test-size",
    type=click.FloatRange(0.05, 0.9),
    default=0.25,
    show_default=True,
    help="Fraction held out for the reported metrics.",
)
@click.option(
    "--epochs",
    type=click.IntRange(1, None),
    default=None,
    help="Training epochs (default: the estimator's default).",
)
@click.option("--random-state", type=int, default=0, show_default=True)
def demo(output, n_galaxies, test_size, epochs, random_state):
    """Train JointMorphZ on the built-in SDSS+2MASS sample and report its metrics.

    The sample (ugrizJHK AB magnitudes, spectroscopic redshifts, ET/LT labels
    from the best-fitting template) ships with the pip dependencies, so this
    runs on a fresh machine. Writes zphot_vs_zspec.png, roc.png and
    metrics.csv to OUTPUT.
    """
    import pandas as pd

    from . import JointMorphZ
    from .metrics import classification_metrics, photoz_metrics
    from .plotting import plot_roc, plot_zphot_vs_zspec

    X_train, X_test, y_train, y_test = split_demo_sample(n_galaxies, test_size, random_state)
    click.echo(
        f"Demo sample: {len(X_train)} training and {len(X_test)} test galaxies, "
        f"bands {', '.join(X_train.columns)}; early-type fraction "
        f"{(y_train['type'] == 'ET').mean():.2f}."
    )
    params = {"random_state": random_state, "verbose": 1}
    if epochs is not None:
        params["epochs"] = epochs
    model = JointMorphZ(**params).fit(X_train, y_train)

    p_late = model.predict_proba(X_test)[:, 1]
    z_phot = model.predict_redshift(X_test)
    late_true = (y_test["type"] == model.classes_[1]).to_numpy()
    z_spec = y_test["redshift"].to_numpy()
    cls = classification_metrics(late_true, p_late, threshold=model.threshold)
    phz = photoz_metrics(z_spec, z_phot)
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


if __name__ == "__main__":  # pragma: no cover
    main()
