"""``skphotoz demo`` and ``skphotoz compare``: train and evaluate on the built-in sample.

The demo sample ships with the pip dependencies, so both commands run on a
fresh machine; :func:`split_demo_sample` and :func:`evaluate_on` are the
split and the metrics they share.
"""

from __future__ import annotations

import click

from skphotoz.cli.common import import_keras_quietly, progress_bars
from skphotoz.cli.options import demo_options


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


def _train_network(X_train, y_train, epochs, random_state):
    from skphotoz.nn.factory import make_model

    import_keras_quietly()
    verbose = int(progress_bars())  # an epoch bar, for a person at a terminal only
    return make_model(epochs=epochs, random_state=random_state, verbose=verbose).fit(
        X_train, y_train
    )


@click.command()
@demo_options
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


@click.command()
@demo_options
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
