"""Figures in the style of de Diego et al. (2021).

Each function draws on a given Matplotlib ``ax`` (or a new figure), returns
the Figure, and saves it when ``path`` is given. The Agg backend is used
when no display is present, so the functions work on a headless node.
"""

from __future__ import annotations

from collections.abc import Mapping

import matplotlib

if matplotlib.get_backend().lower() not in {"agg", "pdf", "svg", "ps", "cairo"}:
    try:  # a headless machine: never try to open a window
        import os

        if not os.environ.get("DISPLAY"):
            matplotlib.use("Agg")
    except Exception:  # pragma: no cover - backend already fixed by the user
        pass

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from skphotoz.metrics import OUTLIER_LIMIT, interval_coverage, pit_histogram  # noqa: E402


def _figure(ax, figsize=(5.5, 5.0)):
    if ax is None:
        fig, ax = plt.subplots(figsize=figsize)
    return ax.figure, ax


def _finish(fig, path):
    if path is not None:
        fig.savefig(path, dpi=120, bbox_inches="tight")
    return fig


def plot_zphot_vs_zspec(
    z_spec, z_phot, label=None, ax=None, outlier_limit=OUTLIER_LIMIT, path=None
):
    """Photometric against spectroscopic redshift with the outlier limits (paper Fig. 6).

    Parameters
    ----------
    z_spec : array-like of shape (n,)
    z_phot : array-like of shape (n,) or mapping of label -> array
        One estimator, or several to overlay (e.g. the network and the SED
        baseline).
    label : str, optional
        Legend entry for a single estimator.
    ax : matplotlib Axes, optional
    outlier_limit : float, default=0.15
        Draws z_phot = z_spec +/- limit * (1 + z_spec).
    path : str or path-like, optional
        Save the figure there.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> from skphotoz.reporting.plots import plot_zphot_vs_zspec
    >>> fig = plot_zphot_vs_zspec([0.1, 0.5, 1.0], [0.12, 0.45, 1.3], label="net")
    """
    fig, ax = _figure(ax)
    z_spec = np.asarray(z_spec, dtype=float)
    series = z_phot if isinstance(z_phot, Mapping) else {label or "z_phot": z_phot}
    markers = ["o", "+", "s", "x"]
    for (name, values), marker in zip(series.items(), markers * 4, strict=False):
        filled = marker in "os"
        ax.scatter(
            z_spec,
            np.asarray(values, dtype=float),
            s=12,
            marker=marker,
            label=name,
            alpha=0.6,
            linewidths=0.8,
            **({"edgecolors": "none"} if filled else {}),
        )
    top = 1.05 * max(np.max(z_spec), *(np.max(np.asarray(v, float)) for v in series.values()))
    grid = np.linspace(0, top, 100)
    ax.plot(grid, grid, color="tab:blue", lw=2, label="z_phot = z_spec")
    for sign in (-1, 1):
        ax.plot(
            grid,
            grid + sign * outlier_limit * (1 + grid),
            "--",
            color="tab:blue",
            lw=0.8,
            label=f"|dz|/(1+z) = {outlier_limit}" if sign > 0 else None,
        )
    ax.set(xlim=(0, top), ylim=(0, top), xlabel="z_spec", ylabel="z_phot")
    ax.legend(loc="upper left", fontsize=8)
    return _finish(fig, path)


def plot_roc(late_true, p_late, threshold=0.5, youden_threshold=None, ax=None, path=None):
    """ROC curve with the 0.5 and Youden points and iso-accuracy lines (paper Fig. 5).

    Axes follow the paper: x is the True LT Rate (specificity), decreasing
    to the right, and y the True ET Rate (sensitivity), so the curve climbs
    from (1, 0), where every galaxy is called LT, to (0, 1). Drawn as in
    Fig. 5:

    * the stepped ROC curve (black);
    * the cyan square at ``threshold`` and the magenta circle at p_J;
    * through both points, iso-accuracy lines for a balanced sample (red,
      R_ET + R_LT constant) and for this sample (gray dotted,
      A = (R_ET + p_c R_LT) / (p_c + 1) constant with p_c = N_LT / N_ET);
      lines of equal accuracy meet on the descending diagonal R_ET = R_LT
      (black dotted);
    * the baseline iso-accuracy line through (1, 0) (orange): the accuracy
      N_LT / N of calling every galaxy LT (through (0, 1), all ET, when
      early types dominate the sample).

    Parameters
    ----------
    late_true : array-like of shape (n,)
        True for late-type galaxies (type labels "ET"/"LT" or 0/1 work too).
    p_late : array-like of shape (n,)
        P(LT) from any classifier; late type when p >= threshold.
    threshold : float, default=0.5
        The default threshold point (cyan square).
    youden_threshold : float, optional
        p_J (magenta circle), e.g. learned on training data; found on these
        scores with :func:`skphotoz.thresholding.youden_threshold` when
        omitted.
    ax : matplotlib Axes, optional
    path : str or path-like, optional
        Save the figure there.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> from skphotoz.reporting.plots import plot_roc
    >>> fig = plot_roc([0, 0, 1, 1, 1], [0.2, 0.6, 0.7, 0.9, 0.4])
    """
    from skphotoz.thresholding import youden_threshold as find_youden
    from skphotoz.validation import late_type_mask, late_type_scores

    late_true, _, _, _ = late_type_mask(late_true)
    p_late = late_type_scores(p_late)
    roc = find_youden(late_true, p_late)
    if youden_threshold is None:
        youden_threshold = roc["threshold"]
    # Late type positive: tpr is the True LT Rate, 1 - fpr the True ET Rate.
    true_lt_rate, true_et_rate = roc["tpr"], 1.0 - roc["fpr"]
    fig, ax = _figure(ax)
    ax.plot(true_lt_rate, true_et_rate, color="black", lw=1.5, label="ROC")

    def rates_at(t):
        late_pred = p_late >= t
        return np.mean(late_pred[late_true]), np.mean(~late_pred[~late_true])

    default_point, youden_point = rates_at(threshold), rates_at(youden_threshold)
    n_late, n_early = int(late_true.sum()), int((~late_true).sum())
    prevalence = n_late / n_early  # the paper's p_c = N_LT / N_ET
    grid = np.linspace(0, 1, 50)
    for k, (x0, y0) in enumerate((default_point, youden_point)):
        ax.plot(
            grid,
            y0 - (grid - x0),
            color="tab:red",
            lw=0.8,
            label="iso-accuracy, balanced sample" if k == 0 else None,
        )
        ax.plot(
            grid,
            y0 - prevalence * (grid - x0),
            ":",
            color="gray",
            lw=1.0,
            label=f"iso-accuracy, this sample (N_LT/N_ET = {prevalence:.1f})" if k == 0 else None,
        )
    # Baseline: every galaxy given the majority type (all LT in the paper,
    # the point (1, 0)); its iso-accuracy line has this sample's slope.
    base_late = n_late >= n_early
    base_x, base_y = (1.0, 0.0) if base_late else (0.0, 1.0)
    ax.plot(
        grid,
        base_y - prevalence * (grid - base_x),
        color="orange",
        lw=1.2,
        label=f"baseline (all {'LT' if base_late else 'ET'}), accuracy "
        f"{max(n_late, n_early) / (n_late + n_early):.2f}",
    )
    ax.plot([0, 1], [0, 1], ":", color="black", lw=0.7, label="True ET Rate = True LT Rate")
    ax.plot(
        *default_point,
        "s",
        color="cyan",
        mec="black",
        ms=8,
        label=f"p = {threshold:g} ({default_point[0]:.3f}, {default_point[1]:.3f})",
    )
    ax.plot(
        *youden_point,
        "o",
        color="magenta",
        mec="black",
        ms=8,
        label=f"Youden p_J = {youden_threshold:.3f} ({youden_point[0]:.3f}, {youden_point[1]:.3f})",
    )
    ax.set(
        xlim=(1.02, -0.02),
        ylim=(-0.02, 1.02),
        xlabel="True LT Rate",
        ylabel="True ET Rate",
        aspect="equal",
    )
    ax.legend(loc="best", fontsize=7)
    return _finish(fig, path)


def plot_redshift_residuals(z_spec, z_phot, ax=None, level=0.99, label=None, path=None):
    """Residuals dz = z_phot - z_spec against z_spec, with the OLS line (paper Fig. 7).

    Draws the least-squares line and its ``level`` confidence band (for the
    mean residual) and prediction band (for a new galaxy), from the usual
    Student-t formulas of simple linear regression.

    Examples
    --------
    >>> from skphotoz.reporting.plots import plot_redshift_residuals
    >>> fig = plot_redshift_residuals([0.1, 0.5, 0.9, 1.2], [0.2, 0.5, 0.8, 1.0])
    """
    from scipy import stats

    z_spec = np.asarray(z_spec, dtype=float)
    dz = np.asarray(z_phot, dtype=float) - z_spec
    fig, ax = _figure(ax, figsize=(6.0, 3.5))
    ax.scatter(z_spec, dz, marker="+", s=18, color="black", linewidths=0.7, label=label)
    n = len(z_spec)
    slope, intercept = np.polyfit(z_spec, dz, 1)
    grid = np.linspace(z_spec.min(), z_spec.max(), 100)
    fit = intercept + slope * grid
    resid = dz - (intercept + slope * z_spec)
    s = np.sqrt(np.sum(resid**2) / max(n - 2, 1))
    sxx = np.sum((z_spec - z_spec.mean()) ** 2)
    t = stats.t.ppf(0.5 + level / 2, max(n - 2, 1))
    conf = t * s * np.sqrt(1 / n + (grid - z_spec.mean()) ** 2 / sxx)
    pred = t * s * np.sqrt(1 + 1 / n + (grid - z_spec.mean()) ** 2 / sxx)
    ax.plot(grid, fit, color="green", lw=2.5, label=f"fit: {intercept:.3f} {slope:+.3f} z")
    for band, style, color, name in (
        (conf, "--", "tab:blue", "confidence"),
        (pred, ":", "tab:red", "prediction"),
    ):
        ax.plot(grid, fit + band, style, color=color, lw=1, label=f"{level:.0%} {name} band")
        ax.plot(grid, fit - band, style, color=color, lw=1)
    ax.axhline(0, color="gray", lw=0.5)
    ax.set(xlabel="z_spec", ylabel="z_phot - z_spec")
    ax.legend(fontsize=7, loc="best")
    return _finish(fig, path)


def plot_data_distribution(
    magnitude, z_spec, types, magnitude_label="r", early_type="ET", bins=20, path=None
):
    """r magnitude against z_spec by type, with both histograms (paper Fig. 1).

    Bottom left: the scatter plot (late types black crosses, early types red
    squares); top: the z_spec histogram; right: the magnitude histogram.

    Parameters
    ----------
    magnitude, z_spec : array-like of shape (n,)
    types : array-like of shape (n,)
        Type labels; ``early_type`` marks the early types.
    magnitude_label : str, default="r"
    early_type : str, default="ET"
    bins : int, default=20
    path : str or path-like, optional

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> from skphotoz.reporting.plots import plot_data_distribution
    >>> fig = plot_data_distribution([20, 21, 22], [0.1, 0.5, 0.9], ["ET", "LT", "LT"])
    """
    magnitude = np.asarray(magnitude, dtype=float)
    z_spec = np.asarray(z_spec, dtype=float)
    early = np.asarray(types).astype(str) == str(early_type)
    fig = plt.figure(figsize=(6.0, 6.0))
    grid = fig.add_gridspec(
        2, 2, width_ratios=(4, 1.3), height_ratios=(1.3, 4), hspace=0.05, wspace=0.05
    )
    ax = fig.add_subplot(grid[1, 0])
    top = fig.add_subplot(grid[0, 0], sharex=ax)
    right = fig.add_subplot(grid[1, 1], sharey=ax)
    ax.scatter(
        z_spec[~early],
        magnitude[~early],
        marker="x",
        s=14,
        color="black",
        linewidths=0.7,
        label=f"LT ({int((~early).sum())})",
    )
    ax.scatter(
        z_spec[early],
        magnitude[early],
        marker="s",
        s=14,
        facecolors="none",
        edgecolors="red",
        linewidths=0.8,
        label=f"{early_type} ({int(early.sum())})",
    )
    ax.set(xlabel="z_spec", ylabel=magnitude_label)
    ax.legend(fontsize=8, loc="lower right")
    top.hist(z_spec, bins=bins, color="gray", edgecolor="black")
    top.set_ylabel("N")
    top.tick_params(labelbottom=False)
    right.hist(magnitude, bins=bins, orientation="horizontal", color="gray", edgecolor="black")
    right.set_xlabel("N")
    right.tick_params(labelleft=False)
    return _finish(fig, path)


def plot_weight_qq(analysis, path=None, ax=None):
    """Q-Q plot of the standardised redshift-neuron weights against a normal (paper Fig. 8).

    Draws the whole concatenate layer of one run (blue), one random neuron
    over the bootstrap runs (orange), the class-probability neuron over the
    runs (gray) and the standard-normal line (red dashed).

    Parameters
    ----------
    analysis : Bunch
        The result of :func:`skphotoz.model_selection.weight_analysis.bootstrap_weight_analysis`
        (``layer_weights``, ``random_neuron_weights``, ``class_weights``).
    path : str or path-like, optional
        Save the figure there.
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.utils import Bunch
    >>> from skphotoz.reporting.plots import plot_weight_qq
    >>> rng = np.random.default_rng(0)
    >>> fig = plot_weight_qq(Bunch(layer_weights=rng.normal(size=513),
    ...                            random_neuron_weights=rng.normal(size=100),
    ...                            class_weights=rng.uniform(-1, 2, size=100)))
    """
    from scipy import stats

    fig, ax = _figure(ax)
    series = (
        ("layer_weights", "concatenate layer (one run)", "tab:blue"),
        ("random_neuron_weights", "random neuron (bootstrap runs)", "tab:orange"),
        ("class_weights", "class-probability neuron (bootstrap runs)", "tab:gray"),
    )
    extent = []
    for key, label, color in series:
        (theoretical, ordered), _ = stats.probplot(np.asarray(analysis[key], float), dist="norm")
        ax.plot(theoretical, ordered, color=color, lw=1.5, label=label)
        extent += [theoretical.min(), theoretical.max()]
    grid = np.linspace(min(extent), max(extent), 2)
    ax.plot(grid, grid, "--", color="red", lw=1, label="standard normal")
    ax.set(xlabel="theoretical quantiles", ylabel="standardised weight")
    ax.legend(loc="upper left", fontsize=8)
    return _finish(fig, path)


def plot_pit_histogram(pit_values, bins=20, ax=None, path=None):
    """Histogram of PIT values as a density, with the flat line of calibrated PDFs.

    Parameters
    ----------
    pit_values : array-like of shape (n,)
        :func:`skphotoz.metrics.pit` of out-of-sample PDFs.
    bins : int, default=20
    ax : matplotlib Axes, optional
    path : str or path-like, optional
        Save the figure there.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> from skphotoz.reporting.plots import plot_pit_histogram
    >>> fig = plot_pit_histogram([0.1, 0.4, 0.5, 0.8, 0.9], bins=5)
    """
    density, edges = pit_histogram(pit_values, bins=bins)
    fig, ax = _figure(ax, figsize=(5.5, 3.5))
    # All NaN when a PDF had no mass: an empty panel, not a misleading one.
    ax.stairs(np.nan_to_num(density), edges, fill=True, color="gray", alpha=0.7, label="PIT")
    ax.axhline(1, ls="--", color="tab:red", lw=1, label="calibrated")
    ax.set(xlim=(0, 1), xlabel="PIT = CDF(z_spec)", ylabel="density")
    ax.legend(fontsize=8, loc="best")
    return _finish(fig, path)


def plot_interval_coverage(z_spec, z_grid, pdf, levels=None, ax=None, path=None):
    """Fraction of z_spec inside each PDF's central interval against its nominal level.

    Parameters
    ----------
    z_spec : array-like of shape (n,)
    z_grid : array-like of shape (n_grid,)
    pdf : array-like of shape (n, n_grid)
    levels : array-like of float in (0, 1), optional
        The nominal levels; 0.05 to 0.95 in steps of 0.05 by default.
    ax : matplotlib Axes, optional
    path : str or path-like, optional
        Save the figure there.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> from skphotoz.reporting.plots import plot_interval_coverage
    >>> fig = plot_interval_coverage([0.5, 1.0], [0.0, 1.0, 2.0], [[1.0, 1.0, 1.0]] * 2)
    """
    if levels is None:
        levels = np.arange(1, 20) / 20
    levels = np.asarray(levels, dtype=float)
    coverage = [interval_coverage(z_spec, z_grid, pdf, level=level) for level in levels]
    fig, ax = _figure(ax, figsize=(4.5, 4.5))
    ax.plot([0, 1], [0, 1], ":", color="black", lw=1, label="calibrated")
    ax.plot(levels, coverage, "o-", color="tab:blue", ms=4, label="out-of-sample PDFs")
    ax.set(
        xlim=(0, 1),
        ylim=(0, 1),
        xlabel="nominal level of the central interval",
        ylabel="fraction of z_spec inside",
        aspect="equal",
    )
    ax.legend(fontsize=8, loc="upper left")
    return _finish(fig, path)
