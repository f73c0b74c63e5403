"""Classification and photo-z metrics, and scorers for joint (type, z) models.

Exact definitions are in docs/metrics.md. Conventions: ``late_true`` and
``late_pred`` are booleans (or 0/1), True for a late-type (LT) galaxy, so
p = P(LT) as in de Diego et al. (2021); ``dz = z_phot - z_spec``.

Scorers are callables ``scorer(estimator, X, y)`` for ``scoring=`` in
``cross_validate`` and ``GridSearchCV``. They read the joint ``y`` and call
only ``predict`` and ``predict_proba``, so they work on a ``Pipeline`` too.
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

from skphotoz.validation import final_estimator, late_type_flags, split_targets

#: Outlier limit on |dz| / (1 + z_spec) (Hildebrandt et al. 2010).
OUTLIER_LIMIT = 0.15
#: Scale factor turning a median absolute deviation into a Gaussian sigma.
NMAD_SCALE = 1.4826


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
