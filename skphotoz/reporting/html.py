"""The paper's whole analysis as one self-contained HTML report.

:func:`write_report` takes out-of-sample predictions (from
:func:`skphotoz.reporting.run.out_of_sample_predictions`; the whole analysis
runs as :func:`skphotoz.reporting.run.run_report`) and writes ``report.html``
with every figure embedded as a base64 PNG (the PNG and CSV files are written
next to it too): Fig. 1 and Table 1 (the data), Tables 3, 5 and 6 (classification
at 0.5 and at Youden's threshold) with the ROC figure (Fig. 5), z_phot vs
z_spec for the network and the SED baseline (Fig. 6), the residuals with
99% confidence and prediction bands (Fig. 7), the residual table (Table 7)
with bootstrap errors, outlier counts, the peers predicted on the same folds
with their paired differences from the network (:func:`paired_comparison`),
the redshift PDFs' PIT histogram, interval coverage and metrics when the
network has a PDF head and, when asked, the weight Q-Q analysis.
"""

from __future__ import annotations

import base64
import html
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pandas as pd

from skphotoz.metrics import OUTLIER_LIMIT, outlier_fraction, sigma_nmad

_MODEL = "JointMorphZ"
_SED = "SED templates"

#: The figures of the peers table: key of
#: :func:`skphotoz.model_selection.evaluation.evaluate_predictions` -> label.
PEER_FIGURES = {
    "accuracy_youden": "accuracy (p_J)",
    "true_early_type_rate_youden": "true ET rate (p_J)",
    "true_late_type_rate_youden": "true LT rate (p_J)",
    "roc_auc": "ROC AUC",
    "sigma_nmad": "sigma_NMAD",
    "outlier_fraction": "outlier fraction",
    "std_delta_z": "std(dz)",
}

#: Central-interval levels of the PDF coverage plot.
COVERAGE_LEVELS = np.arange(1, 20) / 20


# -------------------------------------------------------------------- tables
def type_statistics(r_magnitude, z_spec, types):
    """Medians and interquartile ranges of r and z_spec by type (paper Table 1).

    Examples
    --------
    >>> from skphotoz.reporting.html import type_statistics
    >>> table = type_statistics([20, 21, 22, 23], [0.1, 0.2, 0.3, 0.4], ["ET", "LT", "LT", "LT"])
    >>> float(table.loc["Total", "r_median"]), int(table.loc["LT", "n"])
    (21.5, 3)
    """
    frame = pd.DataFrame(
        {"r": np.asarray(r_magnitude, float), "z": np.asarray(z_spec, float), "type": types}
    )

    def row(part):
        q = part[["r", "z"]].quantile([0.25, 0.5, 0.75])
        return {
            "n": len(part),
            "r_median": q.loc[0.5, "r"],
            "r_iqr": q.loc[0.75, "r"] - q.loc[0.25, "r"],
            "z_spec_median": q.loc[0.5, "z"],
            "z_spec_iqr": q.loc[0.75, "z"] - q.loc[0.25, "z"],
        }

    rows = {str(t): row(frame[frame["type"] == t]) for t in sorted(frame["type"].unique())}
    rows["Total"] = row(frame)
    return pd.DataFrame(rows).T.astype({"n": int})


def residual_table(z_spec, z_phot, n_bootstrap=1000, random_state=0):
    """Mean, std, OLS intercept and slope of dz = z_phot - z_spec, with bootstrap errors.

    The errors are standard deviations over ``n_bootstrap`` resamples of the
    galaxies (paper Table 7).

    Returns
    -------
    DataFrame indexed by mean_delta_z, std_delta_z, residual_intercept,
    residual_slope, with columns ``value`` and ``error``.

    Examples
    --------
    >>> from skphotoz.reporting.html import residual_table
    >>> t = residual_table([0.0, 1.0, 2.0, 3.0], [0.1, 1.0, 1.9, 2.8], n_bootstrap=50)
    >>> round(float(t.loc["residual_slope", "value"]), 3)
    -0.1
    """
    z_spec = np.asarray(z_spec, dtype=float)
    dz = np.asarray(z_phot, dtype=float) - z_spec

    def stats(z, d):
        # Rows are resamples: closed-form OLS so all resamples run as one array op.
        zm, dm = z.mean(axis=-1, keepdims=True), d.mean(axis=-1, keepdims=True)
        sxx = ((z - zm) ** 2).sum(axis=-1)
        slope = ((z - zm) * (d - dm)).sum(axis=-1) / np.where(sxx > 0, sxx, np.nan)
        intercept = dm[..., 0] - slope * zm[..., 0]
        return np.stack([dm[..., 0], d.std(axis=-1, ddof=1), intercept, slope], axis=-1)

    value = stats(z_spec[None], dz[None])[0]
    rng = np.random.default_rng(random_state)
    idx = rng.integers(0, len(dz), size=(n_bootstrap, len(dz)))
    error = np.nanstd(stats(z_spec[idx], dz[idx]), axis=0, ddof=1)
    names = ["mean_delta_z", "std_delta_z", "residual_intercept", "residual_slope"]
    return pd.DataFrame({"value": value, "error": error}, index=names)


def outlier_counts(z_spec, z_phot_by_model, limit=OUTLIER_LIMIT):
    """Outliers |dz| / (1 + z_spec) > limit per estimator, with sigma_NMAD."""
    rows = {}
    for name, z_phot in z_phot_by_model.items():
        frac = outlier_fraction(z_spec, z_phot, limit)
        rows[name] = {
            "n_galaxies": len(z_spec),
            "n_outliers": int(round(frac * len(z_spec))),
            "outlier_fraction": frac,
            "sigma_nmad": sigma_nmad(z_spec, z_phot),
        }
    return pd.DataFrame(rows).T.astype({"n_galaxies": int, "n_outliers": int})


def _metric_summary(types, z_spec, predictions_by_model, n_bootstrap, random_state):
    """Every metric of skphotoz.metrics with bootstrap errors, one column per model."""
    from skphotoz.model_selection.evaluation import evaluate_predictions

    columns = {}
    for name, pred in predictions_by_model.items():
        if pred is None:
            continue
        frame = pd.DataFrame(
            {
                "type": types,
                "z_spec": z_spec,
                "p_late": np.asarray(pred["p_late"], float),
                "z_phot": np.asarray(pred["z_phot"], float),
            }
        )
        metrics = evaluate_predictions(
            frame, n_bootstrap=n_bootstrap, random_state=random_state
        ).metrics
        columns[name] = [f"{v:.4f} ± {e:.4f}" for v, e in metrics.to_numpy()]
        index = metrics.index
    return pd.DataFrame(columns, index=index)


def paired_comparison(types, z_spec, predictions_by_system, n_bootstrap=1000, random_state=0):
    """Each system's figures and each one's paired difference from the first, with errors.

    Every figure is :func:`~skphotoz.model_selection.evaluation.evaluate_predictions`'
    (accuracy and type rates at each system's own Youden threshold, found
    again in each resample). All systems are evaluated on the same
    ``n_bootstrap`` resamples of the galaxies, drawn as ``evaluate_predictions``
    draws them, so the reference's errors equal that function's and a
    difference's error is the spread of the difference itself: it cancels
    the galaxies that are hard for every system.

    Parameters
    ----------
    types : array-like of shape (n,)
        True type labels (the sorted second is the late type).
    z_spec : array-like of shape (n,)
    predictions_by_system : mapping of name -> DataFrame with ``p_late`` and ``z_phot``
        Out-of-sample predictions, row by row with ``types``; the first is
        the reference (the network).
    n_bootstrap : int, default=1000
    random_state : int, default=0

    Returns
    -------
    DataFrame indexed by (system, figure) with ``value``, ``error``,
    ``difference`` (system - reference) and ``difference_error`` (NaN for
    the reference). The figures are the keys of :data:`PEER_FIGURES`.

    Examples
    --------
    >>> import pandas as pd
    >>> from skphotoz.reporting.html import paired_comparison
    >>> net = pd.DataFrame({"p_late": [0.2, 0.9, 0.6, 0.4, 0.8, 0.7],
    ...                     "z_phot": [0.15, 0.45, 0.8, 0.35, 0.72, 0.3]})
    >>> peer = net.assign(z_phot=net["z_phot"] + 0.01)
    >>> table = paired_comparison(["ET", "LT", "LT", "ET", "LT", "LT"],
    ...                           [0.1, 0.5, 0.9, 0.3, 0.7, 0.2],
    ...                           {"net": net, "peer": peer}, n_bootstrap=20)
    >>> float(table.loc[("peer", "roc_auc"), "difference"])
    0.0
    """
    from sklearn import config_context
    from sklearn.utils import check_random_state

    from skphotoz.model_selection.evaluation import evaluate_predictions

    keys = list(PEER_FIGURES)
    frames = {
        name: pd.DataFrame(
            {
                "type": np.asarray(types),
                "z_spec": np.asarray(z_spec, dtype=float),
                "p_late": np.asarray(pred["p_late"], dtype=float),
                "z_phot": np.asarray(pred["z_phot"], dtype=float),
            }
        )
        for name, pred in predictions_by_system.items()
    }

    def figures(frame):
        return evaluate_predictions(frame, n_bootstrap=0).metrics.loc[keys, "value"].to_numpy()

    values = {name: figures(frame) for name, frame in frames.items()}
    n = len(np.asarray(types))
    draws = {name: np.empty((n_bootstrap, len(keys))) for name in frames}
    rng = check_random_state(random_state)
    # The full-sample calls above checked the inputs; as in evaluate_predictions,
    # sklearn's per-call validation would otherwise dominate the resampling.
    with config_context(skip_parameter_validation=True, assume_finite=True):
        for b in range(n_bootstrap):
            idx = rng.randint(n, size=n)  # evaluate_predictions' resamples, in its order
            for name, frame in frames.items():
                draws[name][b] = figures(frame.iloc[idx])

    def spread(d):
        # A resample without an early type has no AUC or p_J: left out, as NaN.
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.nanstd(d, axis=0, ddof=1) if len(d) > 1 else np.full(len(keys), np.nan)

    reference = next(iter(frames))
    parts = []
    for name in frames:
        part = pd.DataFrame(
            {"value": values[name], "error": spread(draws[name])},
            index=pd.MultiIndex.from_product([[name], keys], names=["system", "figure"]),
        )
        if name == reference:
            part["difference"] = part["difference_error"] = np.nan
        else:
            part["difference"] = values[name] - values[reference]
            part["difference_error"] = spread(draws[name] - draws[reference])
        parts.append(part)
    return pd.concat(parts)


def _peer_table(comparison):
    """The paired comparison as the page shows it: a row per figure, value and difference cells."""
    columns = {}
    systems = list(dict.fromkeys(comparison.index.get_level_values("system")))
    for k, name in enumerate(systems):
        part = comparison.loc[name]
        columns[name] = [f"{v:.4f} ± {e:.4f}" for v, e in part[["value", "error"]].to_numpy()]
        if k:
            pairs = part[["difference", "difference_error"]].to_numpy()
            columns[f"{name} − {systems[0]}"] = [f"{d:+.4f} ± {e:.4f}" for d, e in pairs]
    return pd.DataFrame(columns, index=[PEER_FIGURES[key] for key in part.index])


# -------------------------------------------------------------------- report
def _image(path):
    data = base64.b64encode(Path(path).read_bytes()).decode("ascii")
    return f'<img alt="{html.escape(Path(path).stem)}" src="data:image/png;base64,{data}">'


def _table(frame, digits=3):
    return frame.to_html(
        float_format=lambda v: f"{v:.{digits}f}", border=0, classes="table", na_rep="-"
    )


def _save(fig, path):
    import matplotlib.pyplot as plt

    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)
    return path


def _pdf_section(z_spec, z_grid, pdf, output_dir):
    """PIT histogram, coverage plot and PDF metrics of out-of-sample PDFs, as HTML."""
    from skphotoz.metrics import pdf_metrics, pit, pit_cvm, pit_ks
    from skphotoz.reporting import plots as plotting

    pit_values = pit(z_spec, z_grid, pdf)
    fig_pit = _save(plotting.plot_pit_histogram(pit_values), output_dir / "pdf_pit_histogram.png")
    fig_cov = _save(
        plotting.plot_interval_coverage(z_spec, z_grid, pdf, levels=COVERAGE_LEVELS),
        output_dir / "pdf_coverage.png",
    )
    metrics = pd.Series(pdf_metrics(z_spec, z_grid, pdf), name=_MODEL).to_frame()
    metrics.to_csv(output_dir / "pdf_metrics.csv")
    return (
        _image(fig_pit)
        + "<p>PIT: each galaxy's out-of-sample CDF at its z_spec. Calibrated PDFs give a flat "
        "histogram at 1 (dashed); a peak in the middle means PDFs too wide, a U shape too "
        f"narrow. Against U(0, 1): Kolmogorov-Smirnov {pit_ks(pit_values):.4f}, "
        f"Cramér-von Mises {pit_cvm(pit_values):.4f}.</p>"
        + _image(fig_cov)
        + "<p>Fraction of spectroscopic redshifts inside each PDF's central interval against "
        f"the interval's level ({COVERAGE_LEVELS[0]:g} to {COVERAGE_LEVELS[-1]:g}): calibrated "
        "PDFs lie on the diagonal, too wide ones above it, too narrow ones below.</p>"
        + "<h3>PDF metrics</h3>"
        + _table(metrics, 4)
    )


def guess_r_band(columns):
    """The column that looks like the r band (``r``, ``mag_r``, ``sdss_r0``, ``R``...), or None.

    Examples
    --------
    >>> from skphotoz.reporting.html import guess_r_band
    >>> guess_r_band(["u", "g", "r", "i"]), guess_r_band(["MAG_U", "MAG_R"]), guess_r_band(["x"])
    ('r', 'MAG_R', None)
    """
    import re

    for pattern in (r"^r$", r"(^|_)r(_|$)", r"^sdss_r0?$", r"(^|_)r0?$", r"^R$", r"(^|_)R(_|$)"):
        for name in map(str, columns):
            if re.search(pattern, name if pattern.endswith("R$") else name.lower()):
                return name
    return None


def write_report(
    output_dir,
    X,
    y,
    predictions,
    *,
    r_band=None,
    sed_predictions=None,
    sed_note=None,
    peer_predictions=None,
    peer_notes=(),
    pdf_predictions=None,
    weight_analysis=None,
    weight_note=None,
    title="skphotoz report",
    notes=(),
    n_bootstrap=1000,
    random_state=0,
    model_name=_MODEL,
):
    """Write ``report.html`` (self-contained) plus its PNG and CSV files.

    Parameters
    ----------
    output_dir : path-like
        Created if needed.
    X : DataFrame of shape (n, n_bands)
        Magnitudes of the galaxies.
    y : DataFrame with ``type`` and ``redshift``
        True types and spectroscopic redshifts.
    predictions : DataFrame with ``p_late`` and ``z_phot``
        Out-of-sample network predictions, row by row with ``y`` (see
        :func:`skphotoz.reporting.run.out_of_sample_predictions`).
    r_band : str, optional
        Column of ``X`` for Fig. 1 and Table 1 (guessed by
        :func:`guess_r_band`, else the middle band, with a note).
    sed_predictions : DataFrame with ``p_late`` and ``z_phot``, optional
        SED template-fitting baseline; ``sed_note`` says why it is absent.
    peer_predictions : mapping of name -> DataFrame with ``p_late`` and ``z_phot``, optional
        Peers predicted out of sample on the same folds as ``predictions``;
        compared with the network in a table of paired differences
        (:func:`paired_comparison`, ``peers.csv``). None leaves the section
        out.
    peer_notes : sequence of str
        Lines under the peers table (what each peer is, which were left out).
    pdf_predictions : (z_grid, pdf), optional
        The network's out-of-sample redshift PDFs, row by row with ``y``
        (:func:`skphotoz.model_selection.cross_val_predict_pdf`): adds the
        PIT histogram, the interval coverage and
        :func:`skphotoz.metrics.pdf_metrics` (``pdf_metrics.csv``).
    weight_analysis : object, optional
        Result of :func:`skphotoz.model_selection.weight_analysis.bootstrap_weight_analysis`,
        drawn with :func:`skphotoz.reporting.plots.plot_weight_qq`; ``weight_note``
        is printed in its section otherwise.
    title : str
    notes : sequence of str
        Lines printed under the title (sample, protocol, what was left out).
    n_bootstrap : int, default=1000
        Resamples for every uncertainty.
    random_state : int, default=0

    Returns
    -------
    pathlib.Path
        The HTML file.
    """
    from skphotoz.reporting import plots as plotting
    from skphotoz.reporting.tables import classification_report_figures, format_report

    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    y = pd.DataFrame(y).reset_index(drop=True)
    types = y["type"].astype(str).to_numpy()
    z_spec = y["redshift"].to_numpy(dtype=float)
    p_late = np.asarray(predictions["p_late"], dtype=float)
    z_phot = {model_name: np.asarray(predictions["z_phot"], dtype=float)}
    if len(p_late) != len(y):
        raise ValueError(f"{len(p_late)} predictions for {len(y)} galaxies.")
    if sed_predictions is not None:
        z_phot[_SED] = np.asarray(sed_predictions["z_phot"], dtype=float)
    notes = list(notes)
    if r_band is None:
        r_band = guess_r_band(X.columns)
        if r_band is None:
            r_band = str(X.columns[len(X.columns) // 2])
            notes.append(f"No r band recognised; Fig. 1 and Table 1 use {r_band!r}.")
    r_mag = X[r_band].to_numpy(dtype=float)
    sections = []

    # Fig. 1 and Table 1: the data
    fig1 = _save(
        plotting.plot_data_distribution(r_mag, z_spec, types, magnitude_label=r_band),
        output_dir / "fig1_data_distribution.png",
    )
    table1 = type_statistics(r_mag, z_spec, types)
    table1.to_csv(output_dir / "table1_type_statistics.csv")
    sections.append(
        (
            "Data (Fig. 1, Table 1)",
            _image(fig1)
            + f"<p>Medians and interquartile ranges of {html.escape(r_band)} and z_spec.</p>"
            + _table(table1),
        )
    )

    # Tables 3-6 and Fig. 5: classification
    late_label = "LT" if "LT" in set(types) else sorted(set(types))[-1]
    cls = classification_report_figures(
        p_late,
        y=types,
        output_dir=output_dir,
        z_spec=z_spec,
        z_phot=z_phot[model_name],
        model_name=model_name,
        n_bootstrap=n_bootstrap,
        random_state=random_state,
    )
    report = cls["report"]
    body = (
        f"<p>Late type ({late_label}) when P(LT) &ge; threshold. Youden threshold p_J = "
        f"{report['youden_threshold']:.3f}, learned from these out-of-sample scores as in "
        "the paper. Uncertainties: bootstrap standard deviations.</p>"
        f"<h3>Contingency table at {report['default_threshold']:g} (Table 3)</h3>"
        + _table(report["contingency_default"])
        + f"<h3>Contingency table at Youden's p_J = {report['youden_threshold']:.3f} "
        "(Table 5)</h3>"
        + _table(report["contingency_youden"])
        + "<h3>Accuracy and true type rates (Table 6)</h3>"
        + _table(report["statistics"])
        + f"<h3>ROC curve (Fig. 5)</h3>{_image(cls['paths']['roc'])}"
        + f"<p>{len(report['misclassified'])} galaxies misclassified at "
        f"{report['default_threshold']:g} (Table 4: misclassified.csv).</p>"
        + f"<pre>{html.escape(format_report(report))}</pre>"
    )
    sections.append(("Classification (Tables 3-6, Fig. 5)", body))

    # Fig. 6, Fig. 7, Table 7 and outliers: redshifts
    fig6 = _save(
        plotting.plot_zphot_vs_zspec(z_spec, z_phot), output_dir / "fig6_zphot_vs_zspec.png"
    )
    body = _image(fig6)
    if sed_predictions is None:
        body += f"<p><b>SED baseline skipped:</b> {html.escape(sed_note or 'not requested')}</p>"
    for name, values in z_phot.items():
        slug = "network" if name == model_name else "sed"
        fig7 = _save(
            plotting.plot_redshift_residuals(z_spec, values, label=name),
            output_dir / f"fig7_residuals_{slug}.png",
        )
        table7 = residual_table(z_spec, values, n_bootstrap, random_state)
        table7.to_csv(output_dir / f"table7_residuals_{slug}.csv")
        body += (
            f"<h3>{html.escape(name)}: residuals with 99% confidence and prediction bands "
            f"(Fig. 7)</h3>{_image(fig7)}<h4>Residual table (Table 7)</h4>" + _table(table7, 4)
        )
    outliers = outlier_counts(z_spec, z_phot)
    outliers.to_csv(output_dir / "outliers.csv")
    body += f"<h3>Outliers, |dz|/(1+z) &gt; {OUTLIER_LIMIT}</h3>" + _table(outliers, 4)
    sections.append(("Photometric redshift (Figs. 6-7, Table 7)", body))

    # Every metric with its bootstrap error, network and baseline side by side
    summary = _metric_summary(
        types, z_spec, {model_name: predictions, _SED: sed_predictions}, n_bootstrap, random_state
    )
    summary.to_csv(output_dir / "metrics.csv")
    sections.append(("All metrics (value ± bootstrap error)", _table(summary, 4)))

    # The peers on the same folds, by paired bootstrap differences
    if peer_predictions is not None:
        body = ""
        if peer_predictions:
            comparison = paired_comparison(
                types,
                z_spec,
                {model_name: predictions, **peer_predictions},
                n_bootstrap=n_bootstrap,
                random_state=random_state,
            )
            comparison.to_csv(output_dir / "peers.csv")
            body += (
                f"<p>Every system predicted each galaxy out of sample on the same folds as "
                f"{model_name}. A difference is peer − {model_name} on the same "
                f"{n_bootstrap} bootstrap resamples of the galaxies, and its ± the spread of "
                "that difference, so it is smaller than either system's error when both err on "
                "the same galaxies. Accuracy and type rates at each system's own Youden "
                "threshold p_J, found again in each resample. Lower sigma_NMAD, outlier "
                "fraction and std(dz) are better; higher is better for the rest.</p>"
                + _table(_peer_table(comparison))
            )
        body += "<ul>" + "".join(f"<li>{html.escape(n)}</li>" for n in peer_notes) + "</ul>"
        sections.append(("Peers on the same folds (paired differences)", body))

    # Redshift PDFs: calibration (PIT, coverage) and their metrics
    if pdf_predictions is not None:
        sections.append(
            ("Redshift PDFs (PIT, coverage)", _pdf_section(z_spec, *pdf_predictions, output_dir))
        )

    # Weight Q-Q analysis (optional)
    if weight_analysis is not None:
        fig_w = _save(plotting.plot_weight_qq(weight_analysis), output_dir / "weights_qq.png")
        body = _image(fig_w)
        statistics = getattr(weight_analysis, "statistics", None)
        if isinstance(statistics, pd.DataFrame):
            statistics.to_csv(output_dir / "weights_statistics.csv")
            body += _table(statistics, 3)
        sections.append(("Network weights: Q-Q analysis (Fig. 8)", body))
    elif weight_note:
        sections.append(("Network weights: Q-Q analysis", f"<p>{html.escape(weight_note)}</p>"))

    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    page = [
        "<!DOCTYPE html><html><head><meta charset='utf-8'>",
        f"<title>{html.escape(title)}</title><style>",
        "body{font-family:sans-serif;max-width:960px;margin:auto;padding:1em}",
        "img{max-width:100%}table.table{border-collapse:collapse;margin:.5em 0}",
        "table.table td,table.table th{padding:2px 8px;border-bottom:1px solid #ccc}",
        "</style></head><body>",
        f"<h1>{html.escape(title)}</h1><p>{len(y)} galaxies; written {stamp}.</p>",
        *(f"<p>{html.escape(n)}</p>" for n in notes),
        *(f"<h2>{html.escape(h)}</h2>\n{b}" for h, b in sections),
        "</body></html>",
    ]
    path = output_dir / "report.html"
    path.write_text("\n".join(page), encoding="utf-8")
    return path
