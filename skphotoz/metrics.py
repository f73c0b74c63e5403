"""Classification and photo-z metrics, and scorers for joint (type, z) models.

Exact definitions are in docs/metrics.md. Conventions: ``late_true`` and
``late_pred`` are booleans (or 0/1), True for a late-type (LT) galaxy, so
p = P(LT) as in de Diego et al. (2021); ``dz = z_phot - z_spec``.

Redshift PDFs are ``(n, G)`` densities on a grid ``z_grid`` of ``G``
redshifts (see :mod:`skphotoz.pdf`); every integral over z is the trapezoid
rule on that grid, and rows are normalised first.

Scorers are callables ``scorer(estimator, X, y)`` for ``scoring=`` in
``cross_validate`` and ``GridSearchCV``. They read the joint ``y`` and call
only ``predict`` and ``predict_proba`` (``predict_pdf`` for the PDF
scorers), so they work on a ``Pipeline`` too.
The late type is the model's ``classes_[1]`` (``classes_`` is [early, late],
whatever the labels' sort order), and a label of ``y`` the model does not
know is a ValueError, never counted as either type.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.metrics import (
    accuracy_score,
    log_loss,
    mean_absolute_error,
    mean_squared_error,
    roc_auc_score,
)

from skphotoz.pdf import (
    cdf_at,
    cdf_quantiles,
    check_z_grid,
    interpolate_rows,
    normalise_pdf,
    pdf_cdf,
)
from skphotoz.validation import final_estimator, final_step, late_type_flags, split_targets

#: Outlier limit on |dz| / (1 + z_spec) (Hildebrandt et al. 2010).
OUTLIER_LIMIT = 0.15
#: Scale factor turning a median absolute deviation into a Gaussian sigma.
NMAD_SCALE = 1.4826
#: Scale factor turning an interquartile range into a Gaussian sigma (2 x 0.6745).
IQR_SCALE = 1.349
#: Smallest outlier limit on |dz| / (1 + z_spec) of the LSST DESC SRD definition.
DESC_OUTLIER_FLOOR = 0.06
#: PIT values below or above these are PIT outliers (as qp and RAIL).
PIT_OUTLIER_LIMITS = (1e-4, 0.9999)


def _as_bool(values):
    values = np.asarray(values)
    if values.dtype.kind in "USO":
        raise ValueError(
            "Metrics take late-type booleans (True = LT); convert labels with "
            "`labels == model.classes_[1]`."
        )
    return values.astype(bool)


# ------------------------------------------------------------ classification
def true_early_type_rate(late_true, late_pred):
    """Fraction of true early-type galaxies classified as early type (ET recall).

    Examples
    --------
    >>> from skphotoz.metrics import true_early_type_rate
    >>> true_early_type_rate([0, 0, 1, 1], [0, 1, 1, 1])
    0.5
    """
    late_true, late_pred = _as_bool(late_true), _as_bool(late_pred)
    early = ~late_true
    return float(np.mean(~late_pred[early])) if early.any() else float("nan")


def true_late_type_rate(late_true, late_pred):
    """Fraction of true late-type galaxies classified as late type (LT recall).

    Examples
    --------
    >>> from skphotoz.metrics import true_late_type_rate
    >>> true_late_type_rate([0, 0, 1, 1], [0, 1, 1, 0])
    0.5
    """
    late_true, late_pred = _as_bool(late_true), _as_bool(late_pred)
    return float(np.mean(late_pred[late_true])) if late_true.any() else float("nan")


def youden_j(late_true, late_pred):
    """Youden's J = true-ET rate + true-LT rate - 1, at one threshold.

    Examples
    --------
    >>> from skphotoz.metrics import youden_j
    >>> youden_j([0, 0, 1, 1], [0, 1, 1, 1])
    0.5
    """
    return (
        true_early_type_rate(late_true, late_pred) + true_late_type_rate(late_true, late_pred) - 1
    )


def binary_cross_entropy(late_true, p_late, sample_weight=None):
    """Mean binary cross-entropy of P(LT) (natural log, sklearn ``log_loss``).

    Examples
    --------
    >>> from skphotoz.metrics import binary_cross_entropy
    >>> round(binary_cross_entropy([1, 0], [0.8, 0.4]), 4)  # -(ln 0.8 + ln 0.6) / 2
    0.367
    """
    return float(
        log_loss(
            _as_bool(late_true),
            np.asarray(p_late, float),
            labels=[False, True],
            sample_weight=sample_weight,
        )
    )


def contingency_table(
    late_true, late_pred, labels=("ET", "LT"), model_name="model", truth_name="true"
):
    """Contingency table in the layout of the paper's Tables 3 and 5.

    Rows are the predicted classes, columns the true classes, with sums.

    Examples
    --------
    >>> from skphotoz.metrics import contingency_table
    >>> contingency_table([0, 0, 1, 1, 1], [0, 1, 1, 1, 0]).to_numpy().tolist()
    [[1, 1, 2], [1, 2, 3], [2, 3, 5]]
    """
    late_true, late_pred = _as_bool(late_true), _as_bool(late_pred)
    counts = np.array(
        [
            [np.sum(~late_pred & ~late_true), np.sum(~late_pred & late_true)],
            [np.sum(late_pred & ~late_true), np.sum(late_pred & late_true)],
        ]
    )
    table = np.zeros((3, 3), dtype=int)
    table[:2, :2] = counts
    table[:2, 2] = counts.sum(axis=1)
    table[2, :] = table[:2, :].sum(axis=0)
    rows = [f"{label}_{model_name}" for label in labels] + ["Sum"]
    cols = [f"{label}_{truth_name}" for label in labels] + ["Sum"]
    return pd.DataFrame(table, index=rows, columns=cols)


def classification_metrics(late_true, p_late, threshold=0.5):
    """All classification figures at one threshold, as a dict.

    Keys: accuracy, true_early_type_rate, true_late_type_rate, youden_j,
    roc_auc, binary_cross_entropy, threshold.
    """
    late_true = _as_bool(late_true)
    p_late = np.asarray(p_late, dtype=float)
    late_pred = p_late >= threshold
    both = late_true.any() and (~late_true).any()
    return {
        "accuracy": float(accuracy_score(late_true, late_pred)),
        "true_early_type_rate": true_early_type_rate(late_true, late_pred),
        "true_late_type_rate": true_late_type_rate(late_true, late_pred),
        "youden_j": youden_j(late_true, late_pred),
        "roc_auc": float(roc_auc_score(late_true, p_late)) if both else float("nan"),
        "binary_cross_entropy": binary_cross_entropy(late_true, p_late),
        "threshold": float(threshold),
    }


# ------------------------------------------------------------------- photo-z
def _z_pair(z_spec, z_phot):
    z_spec = np.asarray(z_spec, dtype=float)
    z_phot = np.asarray(z_phot, dtype=float)
    if z_spec.shape != z_phot.shape:
        raise ValueError(f"z_spec {z_spec.shape} and z_phot {z_phot.shape} differ in shape.")
    return z_spec, z_phot


def delta_z(z_spec, z_phot):
    """Residuals dz = z_phot - z_spec."""
    z_spec, z_phot = _z_pair(z_spec, z_phot)
    return z_phot - z_spec


def sigma_nmad(z_spec, z_phot):
    """Normalised median absolute deviation.

    sigma_NMAD = 1.4826 * median(|dz - median(dz)| / (1 + z_spec)).

    Examples
    --------
    >>> from skphotoz.metrics import sigma_nmad
    >>> round(sigma_nmad([0.0, 0.0, 0.0], [0.0, 0.1, 0.3]), 4)  # 1.4826 * median(0.1, 0, 0.2)
    0.1483
    """
    z_spec, z_phot = _z_pair(z_spec, z_phot)
    dz = z_phot - z_spec
    return float(NMAD_SCALE * np.median(np.abs(dz - np.median(dz)) / (1 + z_spec)))


def outlier_fraction(z_spec, z_phot, limit=OUTLIER_LIMIT):
    """Fraction of catastrophic outliers, |dz| / (1 + z_spec) > limit.

    Examples
    --------
    >>> from skphotoz.metrics import outlier_fraction
    >>> outlier_fraction([0.0, 1.0, 1.0, 0.5], [0.2, 1.2, 1.4, 0.5])  # 0.2, 0.1, 0.2, 0
    0.5
    """
    z_spec, z_phot = _z_pair(z_spec, z_phot)
    return float(np.mean(np.abs(z_phot - z_spec) / (1 + z_spec) > limit))


def bias(z_spec, z_phot):
    """Median normalised residual, median(dz / (1 + z_spec))."""
    z_spec, z_phot = _z_pair(z_spec, z_phot)
    return float(np.median((z_phot - z_spec) / (1 + z_spec)))


def median_precision(z_spec, z_phot):
    """The paper's median precision, median(|dz| / (1 + z_spec)) (0.040 in Sect. 3.2)."""
    z_spec, z_phot = _z_pair(z_spec, z_phot)
    return float(np.median(np.abs(z_phot - z_spec) / (1 + z_spec)))


def residual_regression(z_spec, z_phot):
    """Least-squares line of dz against z_spec, as (intercept, slope) (paper Table 7).

    Examples
    --------
    >>> from skphotoz.metrics import residual_regression
    >>> [round(v, 6) for v in residual_regression([0, 1, 2], [0.1, 1.0, 1.9])]
    [0.1, -0.1]
    """
    z_spec, z_phot = _z_pair(z_spec, z_phot)
    slope, intercept = np.polyfit(z_spec, z_phot - z_spec, 1)
    return float(intercept), float(slope)


def photoz_metrics(z_spec, z_phot, outlier_limit=OUTLIER_LIMIT):
    """All photo-z figures as a dict.

    Keys: mean_delta_z, std_delta_z (ddof=1), sigma_nmad, outlier_fraction,
    n_outliers, bias, median_precision, mse, mae, residual_intercept,
    residual_slope.
    """
    z_spec, z_phot = _z_pair(z_spec, z_phot)
    dz = z_phot - z_spec
    intercept, slope = residual_regression(z_spec, z_phot)
    frac = outlier_fraction(z_spec, z_phot, outlier_limit)
    return {
        "mean_delta_z": float(np.mean(dz)),
        "std_delta_z": float(np.std(dz, ddof=1)),
        "sigma_nmad": sigma_nmad(z_spec, z_phot),
        "outlier_fraction": frac,
        "n_outliers": int(round(frac * len(dz))),
        "bias": bias(z_spec, z_phot),
        "median_precision": median_precision(z_spec, z_phot),
        "mse": float(mean_squared_error(z_spec, z_phot)),
        "mae": float(mean_absolute_error(z_spec, z_phot)),
        "residual_intercept": intercept,
        "residual_slope": slope,
    }


def sigma_iqr(z_spec, z_phot):
    """Interquartile range of dz / (1 + z_spec), divided by 1.349 (a Gaussian's sigma).

    The LSST DESC width (as ``qp.metrics.PointSigmaIQR``).

    Examples
    --------
    >>> from skphotoz.metrics import sigma_iqr
    >>> round(sigma_iqr([0.0, 0.0, 0.0, 0.0, 0.0], [-0.2, -0.1, 0.0, 0.1, 0.2]), 4)  # 0.2 / 1.349
    0.1483
    """
    z_spec, z_phot = _z_pair(z_spec, z_phot)
    q75, q25 = np.percentile((z_phot - z_spec) / (1 + z_spec), [75, 25])
    return float((q75 - q25) / IQR_SCALE)


def desc_outlier_fraction(z_spec, z_phot):
    """Fraction with |dz| / (1 + z_spec) > max(0.06, 3 sigma_IQR) (the LSST DESC SRD outliers).

    The paper's outliers, with the fixed limit 0.15, are :func:`outlier_fraction`.

    Examples
    --------
    >>> from skphotoz.metrics import desc_outlier_fraction
    >>> desc_outlier_fraction([0.0] * 8, [0.0] * 7 + [0.1])  # sigma_IQR = 0: the limit is 0.06
    0.125
    """
    z_spec, z_phot = _z_pair(z_spec, z_phot)
    limit = max(DESC_OUTLIER_FLOOR, 3 * sigma_iqr(z_spec, z_phot))
    return float(np.mean(np.abs(z_phot - z_spec) / (1 + z_spec) > limit))


def joint_score(late_true, p_late, z_spec, z_phot, sample_weight=None):
    """Minus the paper's total loss: -(BCE(P(LT)) + MSE(z)); higher is better.

    The paper picks its architecture by this total loss (Sect. 2.2.1).

    Examples
    --------
    >>> from skphotoz.metrics import joint_score
    >>> round(joint_score([1, 0], [0.8, 0.4], [0.5, 1.0], [0.6, 0.8]), 4)  # -(0.367 + 0.025)
    -0.392
    """
    bce = binary_cross_entropy(late_true, p_late, sample_weight=sample_weight)
    mse = float(mean_squared_error(z_spec, z_phot, sample_weight=sample_weight))
    return -(bce + mse)


# ------------------------------------------------------------------- scorers


class JointScorer:
    """Scorer for joint (type, z) estimators: ``scorer(estimator, X, y) -> float``.

    Parameters
    ----------
    name : str
        A key of :data:`METRIC_FUNCTIONS`.
    sign : {1, -1}
        -1 turns a loss into a score (higher is better), as sklearn's
        ``neg_*`` scorers do.
    **kwargs
        Passed to the metric (e.g. ``limit=0.2`` for outliers).

    Examples
    --------
    >>> from skphotoz.metrics import JointScorer
    >>> scorer = JointScorer("sigma_nmad", sign=-1)
    """

    def __init__(self, name, sign=1, **kwargs):
        if name not in METRIC_FUNCTIONS:
            raise ValueError(f"Unknown metric {name!r}; choose from {sorted(METRIC_FUNCTIONS)}.")
        self.name, self.sign, self.kwargs = name, sign, kwargs

    def __repr__(self):
        return f"JointScorer({self.name!r}, sign={self.sign})"

    def __call__(self, estimator, X, y, sample_weight=None):
        final = final_estimator(estimator)
        types, z_spec = split_targets(
            y, getattr(final, "type_column", "type"), getattr(final, "redshift_column", "redshift")
        )
        late_true = late_type_flags(types, final.classes_)
        kind, func = METRIC_FUNCTIONS[self.name]
        if kind == "proba":
            value = func(late_true, estimator.predict_proba(X)[:, 1], **self.kwargs)
        elif kind == "label":
            labels, _ = split_targets(estimator.predict(X))
            # A galaxy the model gives no type (too few bands) is refused too.
            late_pred = late_type_flags(labels, final.classes_, name="predict(X)")
            value = func(late_true, late_pred, **self.kwargs)
        elif kind == "redshift":
            _, z_phot = split_targets(estimator.predict(X))
            value = func(z_spec, z_phot, **self.kwargs)
        else:  # joint
            _, z_phot = split_targets(estimator.predict(X))
            p_late = estimator.predict_proba(X)[:, 1]
            value = func(late_true, p_late, z_spec, z_phot, sample_weight=sample_weight)
        return self.sign * float(value)


def _mean_delta_z(z_spec, z_phot):
    return float(np.mean(delta_z(z_spec, z_phot)))


def _std_delta_z(z_spec, z_phot):
    return float(np.std(delta_z(z_spec, z_phot), ddof=1))


#: name -> (what the metric reads, function).
METRIC_FUNCTIONS = {
    "joint": ("joint", joint_score),
    "accuracy": ("label", lambda t, p: float(accuracy_score(t, p))),
    "true_early_type_rate": ("label", true_early_type_rate),
    "true_late_type_rate": ("label", true_late_type_rate),
    "youden_j": ("label", youden_j),
    "roc_auc": ("proba", lambda t, p: float(roc_auc_score(t, p))),
    "binary_cross_entropy": ("proba", binary_cross_entropy),
    "mean_delta_z": ("redshift", _mean_delta_z),
    "std_delta_z": ("redshift", _std_delta_z),
    "sigma_nmad": ("redshift", sigma_nmad),
    "outlier_fraction": ("redshift", outlier_fraction),
    "bias": ("redshift", bias),
    "median_precision": ("redshift", median_precision),
    "mse": ("redshift", lambda s, p: float(mean_squared_error(s, p))),
    "mae": ("redshift", lambda s, p: float(mean_absolute_error(s, p))),
    "residual_intercept": ("redshift", lambda s, p: residual_regression(s, p)[0]),
    "residual_slope": ("redshift", lambda s, p: residual_regression(s, p)[1]),
}

#: The joint score, -(BCE + MSE): pass as ``scoring=joint_scorer``.
joint_scorer = JointScorer("joint")


def make_scorers(outlier_limit=OUTLIER_LIMIT):
    """Every figure of the paper as a ready ``scoring=`` dict.

    Losses carry a ``neg_`` prefix and are negated (higher is better), as in
    scikit-learn. ``mean_delta_z``, ``bias`` and the residual regression are
    reported as they are: they are diagnostics, not quantities to maximise.

    Examples
    --------
    >>> from skphotoz.metrics import make_scorers
    >>> sorted(make_scorers())[:3]
    ['accuracy', 'bias', 'joint']
    """
    losses = {
        "binary_cross_entropy",
        "std_delta_z",
        "sigma_nmad",
        "outlier_fraction",
        "mse",
        "mae",
        "median_precision",
    }
    scorers = {}
    for name in METRIC_FUNCTIONS:
        kwargs = {"limit": outlier_limit} if name == "outlier_fraction" else {}
        if name in losses:
            scorers[f"neg_{name}"] = JointScorer(name, sign=-1, **kwargs)
        else:
            scorers[name] = JointScorer(name, **kwargs)
    return scorers


#: :func:`make_scorers` with the default outlier limit.
SCORERS = make_scorers()


# ------------------------------------------------------------- redshift PDFs
def _pdf_inputs(z_spec, z_grid, pdf):
    """Checked z_spec, grid, normalised PDFs and their CDFs (NaN rows for PDFs without mass)."""
    z_grid = check_z_grid(z_grid)
    density = normalise_pdf(z_grid, pdf)  # also checks the PDFs' shape against the grid
    cdf = pdf_cdf(z_grid, density)
    z_spec = np.asarray(z_spec, dtype=np.float64)
    if z_spec.ndim != 1 or z_spec.size != cdf.shape[0]:
        raise ValueError(
            f"z_spec must have shape ({cdf.shape[0]},), one redshift per PDF row; "
            f"got {z_spec.shape}."
        )
    if not np.all(np.isfinite(z_spec)):
        n_bad = int(np.sum(~np.isfinite(z_spec)))
        raise ValueError(f"z_spec contains {n_bad} non-finite value(s).")
    return z_spec, z_grid, density, cdf


def _check_pit(pit_values):
    pit_values = np.asarray(pit_values, dtype=np.float64).ravel()
    if pit_values.size == 0:
        raise ValueError("pit_values is empty.")
    finite = pit_values[~np.isnan(pit_values)]
    if np.any((finite < 0) | (finite > 1)):
        raise ValueError("PIT values must lie in [0, 1] (they are CDF values).")
    return pit_values


def pit(z_spec, z_grid, pdf):
    """Probability integral transform: each galaxy's CDF at its spectroscopic redshift.

    The CDF (:func:`skphotoz.pdf.pdf_cdf`) is linear between grid points; a
    ``z_spec`` below the grid gives 0 and above it 1. Calibrated PDFs give PIT
    values uniform on [0, 1]. NaN for a PDF without mass.

    Parameters
    ----------
    z_spec : array-like of shape (n_galaxies,)
    z_grid : array-like of shape (n_grid,)
    pdf : array-like of shape (n_galaxies, n_grid)

    Returns
    -------
    pit_values : ndarray of shape (n_galaxies,)

    Examples
    --------
    >>> from skphotoz.metrics import pit
    >>> pit([0.5, 3.0], [0.0, 1.0, 2.0], [[1.0, 1.0, 1.0], [1.0, 1.0, 1.0]])
    array([0.25, 1.  ])
    """
    z_spec, z_grid, _, cdf = _pdf_inputs(z_spec, z_grid, pdf)
    return cdf_at(z_grid, cdf, z_spec)


def pit_histogram(pit_values, bins=20):
    """Histogram of PIT values on [0, 1] as a density (1 everywhere when calibrated).

    Returns
    -------
    density : ndarray of shape (bins,)
        All NaN if any PIT value is NaN (a PDF without mass): dropping it
        would hide a galaxy.
    edges : ndarray of shape (bins + 1,)

    Examples
    --------
    >>> from skphotoz.metrics import pit_histogram
    >>> pit_histogram([0.1, 0.2, 0.6, 0.9], bins=2)[0]
    array([1., 1.])
    """
    pit_values = _check_pit(pit_values)
    finite = pit_values[~np.isnan(pit_values)]
    density, edges = np.histogram(finite, bins=bins, range=(0, 1), density=True)
    if finite.size < pit_values.size:
        density = np.full(density.shape, np.nan)
    return density, edges


def pit_ks(pit_values):
    """Kolmogorov-Smirnov statistic of the PIT values against U(0, 1); NaN if any is NaN.

    Examples
    --------
    >>> from skphotoz.metrics import pit_ks
    >>> pit_ks([0.125, 0.375, 0.625, 0.875])  # largest CDF gap 1/8
    0.125
    """
    from scipy.stats import kstest

    pit_values = _check_pit(pit_values)
    if np.isnan(pit_values).any():
        return float("nan")
    return float(kstest(pit_values, "uniform").statistic)


def pit_cvm(pit_values):
    """Cramér-von Mises statistic of the PIT values against U(0, 1); NaN if any is NaN.

    Examples
    --------
    >>> from skphotoz.metrics import pit_cvm
    >>> round(pit_cvm([0.125, 0.375, 0.625, 0.875]), 4)  # its minimum for n = 4, 1/(12 n)
    0.0208
    """
    from scipy.stats import cramervonmises

    pit_values = _check_pit(pit_values)
    if np.isnan(pit_values).any():
        return float("nan")
    return float(cramervonmises(pit_values, "uniform").statistic)


def pit_outlier_fraction(pit_values, low=PIT_OUTLIER_LIMITS[0], high=PIT_OUTLIER_LIMITS[1]):
    """Fraction of PIT values below ``low`` or above ``high``: z_spec in a PDF's far tail.

    Counted on the PIT values themselves (qp reads it off a quantile fit of
    their distribution instead). NaN if any value is NaN.

    Examples
    --------
    >>> from skphotoz.metrics import pit_outlier_fraction
    >>> pit_outlier_fraction([0.0, 0.5, 0.5, 1.0])
    0.5
    """
    pit_values = _check_pit(pit_values)
    if np.isnan(pit_values).any():
        return float("nan")
    return float(np.mean((pit_values < low) | (pit_values > high)))


def _linear_square_integral(a, b, h):
    """Exact integral of g^2 over a step h where g runs linearly from a to b."""
    return h * (a * a + a * b + b * b) / 3


def _crps_per_galaxy(z_spec, z_grid, cdf):
    # Integral of (F - H(z - z_spec))^2 with F linear between grid points, as
    # PIT and the quantiles read it: F^2 below z_spec and (1 - F)^2 above are
    # then quadratics, integrated exactly cell by cell, and the cell holding
    # z_spec is split there so the step of H is exact too. Outside the grid
    # F is 0 or 1, so a z_spec off the grid adds exactly its distance to it.
    z = np.clip(z_spec, z_grid[0], z_grid[-1])
    h = np.diff(z_grid)
    below = np.zeros_like(cdf)  # integral of F^2 from the grid's start to each point
    np.cumsum(_linear_square_integral(cdf[:, :-1], cdf[:, 1:], h), axis=1, out=below[:, 1:])
    above = np.zeros_like(cdf)  # integral of (1 - F)^2 from each point to the grid's end
    tail = _linear_square_integral(1 - cdf[:, :-1], 1 - cdf[:, 1:], h)
    above[:, :-1] = np.cumsum(tail[:, ::-1], axis=1)[:, ::-1]
    rows = np.arange(cdf.shape[0])
    j = np.clip(np.searchsorted(z_grid, z, side="right") - 1, 0, z_grid.size - 2)
    f_z = interpolate_rows(z_grid, cdf, z)
    inside = (
        below[rows, j]
        + _linear_square_integral(cdf[rows, j], f_z, z - z_grid[j])
        + _linear_square_integral(1 - f_z, 1 - cdf[rows, j + 1], z_grid[j + 1] - z)
        + above[rows, j + 1]
    )
    return inside + np.abs(z_spec - z)


def crps(z_spec, z_grid, pdf):
    """Mean continuous ranked probability score, in units of redshift (lower is better).

    CRPS_i = integral (F_i(z) - H(z - z_spec_i))^2 dz with H the unit step
    and F_i the CDF (:func:`skphotoz.pdf.pdf_cdf`, trapezoid) taken linear
    between grid points, as :func:`pit` reads it; the integral of that
    piecewise-linear F is exact, split at z_spec. F is 0 below the grid and 1
    above it, so a z_spec off the grid adds its distance to the grid.

    Examples
    --------
    >>> from skphotoz.metrics import crps
    >>> round(crps([1.0], [0.0, 1.0, 2.0], [[1.0, 1.0, 1.0]]), 4)  # U(0, 2): 2 * int_0^1 (z/2)^2 dz
    0.1667
    """
    z_spec, z_grid, _, cdf = _pdf_inputs(z_spec, z_grid, pdf)
    return float(np.mean(_crps_per_galaxy(z_spec, z_grid, cdf)))


def _density_at(z_grid, density, z_spec):
    inside = interpolate_rows(z_grid, density, np.clip(z_spec, z_grid[0], z_grid[-1]))
    return np.where((z_spec < z_grid[0]) | (z_spec > z_grid[-1]), 0.0, inside)


def cde_loss(z_spec, z_grid, pdf):
    """Conditional density estimation loss of Izbicki & Lee (2017), as in FlexCode and RAIL.

    mean_i integral f_i(z)^2 dz - 2 mean_i f_i(z_spec_i), lower is better,
    the integral by the trapezoid rule. f_i(z_spec) is interpolated linearly
    between grid points (FlexCode and qp take the nearest grid point) and is
    0 off the grid.

    Examples
    --------
    >>> from skphotoz.metrics import cde_loss
    >>> cde_loss([1.0], [0.0, 1.0, 2.0], [[1.0, 1.0, 1.0]])  # 2 * 0.5^2 - 2 * 0.5
    -0.5
    """
    z_spec, z_grid, density, _ = _pdf_inputs(z_spec, z_grid, pdf)
    term1 = np.mean(np.trapezoid(density**2, z_grid, axis=1))
    return float(term1 - 2 * np.mean(_density_at(z_grid, density, z_spec)))


def _coverage(z_spec, z_grid, cdf, level):
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1); got {level}.")
    if np.isnan(cdf[:, -1]).any():
        return float("nan")
    bounds = cdf_quantiles(z_grid, cdf, np.array([(1 - level) / 2, (1 + level) / 2]))
    return float(np.mean((bounds[:, 0] <= z_spec) & (z_spec <= bounds[:, 1])))


def interval_coverage(z_spec, z_grid, pdf, level=0.68):
    """Fraction of z_spec inside each PDF's central ``level`` interval (``level`` when calibrated).

    The interval runs from the quantile (1 - level)/2 to (1 + level)/2
    (:func:`skphotoz.pdf.pdf_quantiles`). NaN if a PDF has no mass.

    Examples
    --------
    >>> from skphotoz.metrics import interval_coverage
    >>> interval_coverage([0.1, 1.0], [0.0, 1.0, 2.0], [[1.0, 1.0, 1.0]] * 2, level=0.5)
    0.5
    """
    z_spec, z_grid, _, cdf = _pdf_inputs(z_spec, z_grid, pdf)
    return _coverage(z_spec, z_grid, cdf, level)


def pdf_metrics(z_spec, z_grid, pdf):
    """Every PDF figure as a dict, with the point metrics of each PDF's median.

    Keys: pit_ks, pit_cvm, pit_outlier_fraction, crps, cde_loss, coverage_68,
    coverage_95, and, for z_phot = the PDF median, sigma_nmad,
    outlier_fraction (|dz| / (1 + z) > 0.15), sigma_iqr and
    desc_outlier_fraction.

    Examples
    --------
    >>> from skphotoz.metrics import pdf_metrics
    >>> sorted(pdf_metrics([0.5, 1.0], [0.0, 1.0, 2.0], [[1.0, 1.0, 1.0]] * 2))[:3]
    ['cde_loss', 'coverage_68', 'coverage_95']
    """
    z_spec, z_grid, density, cdf = _pdf_inputs(z_spec, z_grid, pdf)
    values = cdf_at(z_grid, cdf, z_spec)
    median = cdf_quantiles(z_grid, cdf, np.array([0.5]))[:, 0]
    cde_term = np.mean(_density_at(z_grid, density, z_spec))
    return {
        "pit_ks": pit_ks(values),
        "pit_cvm": pit_cvm(values),
        "pit_outlier_fraction": pit_outlier_fraction(values),
        "crps": float(np.mean(_crps_per_galaxy(z_spec, z_grid, cdf))),
        "cde_loss": float(np.mean(np.trapezoid(density**2, z_grid, axis=1)) - 2 * cde_term),
        "coverage_68": _coverage(z_spec, z_grid, cdf, 0.68),
        "coverage_95": _coverage(z_spec, z_grid, cdf, 0.95),
        "sigma_nmad": sigma_nmad(z_spec, median),
        "outlier_fraction": outlier_fraction(z_spec, median),
        "sigma_iqr": sigma_iqr(z_spec, median),
        "desc_outlier_fraction": desc_outlier_fraction(z_spec, median),
    }


#: name -> function(z_spec, z_grid, pdf) for :class:`PDFScorer`.
PDF_METRIC_FUNCTIONS = {
    "pit_ks": lambda z, g, p: pit_ks(pit(z, g, p)),
    "pit_cvm": lambda z, g, p: pit_cvm(pit(z, g, p)),
    "pit_outlier_fraction": lambda z, g, p: pit_outlier_fraction(pit(z, g, p)),
    "crps": crps,
    "cde_loss": cde_loss,
    "coverage_68": lambda z, g, p: interval_coverage(z, g, p, level=0.68),
    "coverage_95": lambda z, g, p: interval_coverage(z, g, p, level=0.95),
}


class PDFScorer:
    """Scorer for estimators with ``predict_pdf``: ``scorer(estimator, X, y) -> float``.

    It calls ``predict_pdf(X, z_grid)``, which must return (n, G) densities
    on ``z_grid``; with ``z_grid=None`` it calls ``predict_pdf(X)`` and reads
    the grid from the estimator's fitted ``z_grid_``. On a ``Pipeline`` the
    earlier steps transform X first. ``y`` is the joint target (its
    redshift column is used) or a 1-D array of spectroscopic redshifts.

    Parameters
    ----------
    name : str
        A key of :data:`PDF_METRIC_FUNCTIONS`.
    sign : {1, -1}, default=-1
        -1 turns a loss into a score (higher is better), as sklearn's
        ``neg_*`` scorers do.
    z_grid : array-like of shape (n_grid,), optional
        The grid to ask for; the estimator's own when None.

    Examples
    --------
    >>> from skphotoz.metrics import PDFScorer
    >>> PDFScorer("crps")
    PDFScorer('crps', sign=-1)
    """

    def __init__(self, name, sign=-1, z_grid=None):
        if name not in PDF_METRIC_FUNCTIONS:
            raise ValueError(
                f"Unknown PDF metric {name!r}; choose from {sorted(PDF_METRIC_FUNCTIONS)}."
            )
        self.name, self.sign = name, sign
        self.z_grid = None if z_grid is None else check_z_grid(z_grid)

    def __repr__(self):
        return f"PDFScorer({self.name!r}, sign={self.sign})"

    def __call__(self, estimator, X, y, sample_weight=None):
        if sample_weight is not None:
            raise ValueError("The PDF metrics take no sample_weight; they weight galaxies equally.")
        final = final_estimator(estimator)
        if not hasattr(final, "predict_pdf"):
            raise TypeError(
                f"{type(final).__name__} has no predict_pdf, so it gives no redshift PDF to "
                f"score with {self.name!r}; use an estimator that predicts p(z)."
            )
        final, X = final_step(estimator, X)
        if self.z_grid is not None:
            z_grid, pdf = self.z_grid, final.predict_pdf(X, self.z_grid)
        else:
            z_grid = getattr(final, "z_grid_", None)
            if z_grid is None:
                raise TypeError(
                    f"{type(final).__name__} has no z_grid_ saying on which redshifts "
                    "predict_pdf(X) tabulates p(z); pass z_grid= to the scorer."
                )
            pdf = final.predict_pdf(X)
        if np.ndim(y) == 1 and not hasattr(y, "columns"):
            z_spec = np.asarray(y, dtype=np.float64)
        else:
            _, z_spec = split_targets(
                y,
                getattr(final, "type_column", "type"),
                getattr(final, "redshift_column", "redshift"),
            )
        return self.sign * float(PDF_METRIC_FUNCTIONS[self.name](z_spec, z_grid, pdf))


def make_pdf_scorers(z_grid=None):
    """The PDF figures as a ready ``scoring=`` dict.

    Losses (PIT KS and CvM statistics, CRPS, CDE loss) carry a ``neg_`` prefix
    and are negated, as in :func:`make_scorers`. The coverages are reported as
    they are: the best is the nominal level (0.68, 0.95), not the highest.

    Parameters
    ----------
    z_grid : array-like of shape (n_grid,), optional
        The grid every scorer asks for; the estimator's own when None.

    Examples
    --------
    >>> from skphotoz.metrics import make_pdf_scorers
    >>> sorted(make_pdf_scorers())
    ['coverage_68', 'coverage_95', 'neg_cde_loss', 'neg_crps', 'neg_pit_cvm', 'neg_pit_ks']
    """
    scorers = {
        f"neg_{name}": PDFScorer(name, sign=-1, z_grid=z_grid)
        for name in ("pit_ks", "pit_cvm", "crps", "cde_loss")
    }
    for name in ("coverage_68", "coverage_95"):
        scorers[name] = PDFScorer(name, sign=1, z_grid=z_grid)
    return scorers
