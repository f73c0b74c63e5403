"""The Youden-J type threshold, and the paper's classification report.

With 8% early types, the accuracy-maximising threshold p = 0.5 recovers LT
galaxies better than ET ones; de Diego et al. (2021, Sect. 3.1) choose the
threshold that maximises Youden's J = true-ET rate + true-LT rate - 1 on the
ROC curve instead (p_J = 0.897). J + 1 is twice the balanced accuracy, so
this is the threshold that scikit-learn's
``TunedThresholdClassifierCV(scoring="balanced_accuracy")`` finds; the ROC
curve gives it exactly, without a threshold grid.
"""

from __future__ import annotations

import numbers

import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from sklearn.base import (
    BaseEstimator,
    ClassifierMixin,
    MetaEstimatorMixin,
    TransformerMixin,
    _fit_context,
    clone,
)
from sklearn.metrics import roc_curve
from sklearn.utils import _safe_indexing, check_random_state
from sklearn.utils._param_validation import HasMethods, Interval
from sklearn.utils.validation import check_is_fitted

from ._validation import split_targets
from .metrics import contingency_table, true_early_type_rate, true_late_type_rate


def _late_scores(scores):
    scores = np.asarray(scores, dtype=float)
    if scores.ndim == 2 and scores.shape[1] in (1, 2):
        scores = scores[:, -1]  # predict_proba output: the last column is P(LT)
    if scores.ndim != 1:
        raise ValueError(
            f"scores must be P(LT) of shape (n,), (n, 1) or predict_proba's (n, 2); "
            f"got shape {scores.shape}."
        )
    n_nan = int(np.isnan(scores).sum())
    if n_nan:
        raise ValueError(f"scores contain {n_nan} NaN value(s); P(LT) must be finite.")
    return scores


def _type_labels(y_true):
    y_true = np.asarray(y_true, dtype=object if np.asarray(y_true).dtype.kind == "O" else None)
    if y_true.ndim == 2:
        y_true, _ = split_targets(y_true)
    classes = np.unique(y_true)
    if len(classes) != 2:
        raise ValueError(
            f"The Youden threshold needs both early and late types; got {len(classes)} "
            f"class(es): {classes.tolist()}."
        )
    return y_true, classes


def youden_threshold(late_true, p_late):
    """The threshold on P(LT) that maximises Youden's J, and the rates there.

    A galaxy is late type when p >= threshold. Among thresholds with the same
    (maximal) J, the highest is returned; it is one of the observed scores.

    Parameters
    ----------
    late_true : array-like of bool, shape (n,)
    p_late : array-like of float, shape (n,)

    Returns
    -------
    dict with threshold, youden_j, true_early_type_rate, true_late_type_rate,
    and the ROC arrays fpr, tpr, thresholds (LT as the positive class).

    Examples
    --------
    >>> from skphotoz.thresholding import youden_threshold
    >>> result = youden_threshold([0, 0, 1, 1, 1], [0.2, 0.7, 0.6, 0.8, 0.9])
    >>> float(result["threshold"]), round(float(result["youden_j"]), 3)
    (0.8, 0.667)
    """
    late_true = np.asarray(late_true, dtype=bool)
    p_late = _late_scores(p_late)
    if late_true.all() or (~late_true).all():
        raise ValueError("The Youden threshold needs both early- and late-type galaxies.")
    if np.all(p_late == p_late[0]):
        raise ValueError(
            "All scores are tied (the same P(LT) for every galaxy): no threshold separates "
            "the types."
        )
    # LT positive with score p: roc_curve's "score >= threshold" is exactly
    # our "late type when p >= threshold", ties included.
    fpr, tpr, thresholds = roc_curve(late_true, p_late, drop_intermediate=False)
    j = tpr - fpr
    best = int(np.argmax(j))
    threshold = float(min(thresholds[best], 1.0))
    late_pred = p_late >= threshold
    return {
        "threshold": threshold,
        "youden_j": float(j[best]),
        "true_early_type_rate": true_early_type_rate(late_true, late_pred),
        "true_late_type_rate": true_late_type_rate(late_true, late_pred),
        "fpr": fpr,
        "tpr": tpr,
        "thresholds": thresholds,
    }


class YoudenThreshold(TransformerMixin, BaseEstimator):
    """Learn the Youden-J threshold on P(LT) and turn scores into type labels.

    ``fit(scores, y_true)`` takes P(LT) from any classifier (shape (n,), (n, 1)
    or ``predict_proba``'s (n, 2)) and the true types (labels, or a joint
    ``[type, z]`` target); ``transform(scores)`` returns labels, late type
    when p >= ``threshold_``.

    Attributes
    ----------
    threshold_ : float
    youden_j_ : float
    balanced_accuracy_ : float
        (J + 1) / 2.
    true_early_type_rate_, true_late_type_rate_ : float
        Rates at ``threshold_`` on the fitted data.
    fpr_, tpr_, thresholds_ : ndarray
        The ROC curve, late type as the positive class.
    classes_ : ndarray of shape (2,)
        Sorted labels; ``classes_[1]`` is the late type.

    Examples
    --------
    >>> from skphotoz.thresholding import YoudenThreshold
    >>> t = YoudenThreshold().fit([0.2, 0.7, 0.6, 0.8, 0.9], ["ET", "ET", "LT", "LT", "LT"])
    >>> t.threshold_, t.transform([0.5, 0.85]).tolist()
    (0.8, ['ET', 'LT'])
    """

    def fit(self, scores, y_true):
        """Learn the threshold from scores P(LT) and the true types."""
        labels, self.classes_ = _type_labels(y_true)
        scores = _late_scores(scores)
        if len(scores) != len(labels):
            raise ValueError(f"{len(scores)} scores but {len(labels)} labels.")
        result = youden_threshold(labels == self.classes_[1], scores)
        self.threshold_ = result["threshold"]
        self.youden_j_ = result["youden_j"]
        self.balanced_accuracy_ = (self.youden_j_ + 1) / 2
        self.true_early_type_rate_ = result["true_early_type_rate"]
        self.true_late_type_rate_ = result["true_late_type_rate"]
        self.fpr_, self.tpr_, self.thresholds_ = result["fpr"], result["tpr"], result["thresholds"]
        return self

    def transform(self, scores):
        """Type labels: ``classes_[1]`` (late) where P(LT) >= ``threshold_``."""
        check_is_fitted(self)
        return np.where(_late_scores(scores) >= self.threshold_, self.classes_[1], self.classes_[0])

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = True
        tags.input_tags.one_d_array = True
        return tags


def _oof_p_late(estimator, X, y, train, test):
    model = clone(estimator).fit(_safe_indexing(X, train), _safe_indexing(y, train))
    return test, model.predict_proba(_safe_indexing(X, test))[:, 1]


class YoudenThresholdCV(MetaEstimatorMixin, ClassifierMixin, BaseEstimator):
    """A joint estimator whose type threshold is Youden's, learned by internal CV.

    ``fit`` collects out-of-fold P(LT) on the training data (stratified by
    type), learns the Youden threshold from them, then refits the estimator
    on all the data. ``predict`` returns the joint ``[type, z]`` with the
    type thresholded at ``threshold_``.

    Parameters
    ----------
    estimator : estimator with ``predict_proba`` and a joint ``predict``
        E.g. :class:`skphotoz.JointMorphZ` or a Pipeline ending in one.
    cv : int or CV splitter, default=5
        An int means :class:`skphotoz.model_selection.StratifiedTypeKFold`
        with shuffling.
    n_jobs : int, default=None
    random_state : int or None, default=None
        Seeds the fold shuffling.

    Attributes
    ----------
    estimator_ : the refitted estimator
    threshold_ : float
    thresholder_ : YoudenThreshold
        Fitted on the out-of-fold scores.
    oof_p_late_ : ndarray of shape (n_samples,)
    classes_ : ndarray

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skphotoz import JointMorphZ
    >>> from skphotoz.thresholding import YoudenThresholdCV
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(22, 1, size=(60, 3))
    >>> y = np.column_stack([np.where(X[:, 0] > 21.5, "LT", "ET"), np.abs(X[:, 1] - 21) / 4])
    >>> model = YoudenThresholdCV(JointMorphZ(base_units=(8,), epochs=2, random_state=0), cv=3)
    >>> model.fit(X, y).predict(X[:2]).shape
    (2, 2)
    """

    _parameter_constraints = {
        "estimator": [HasMethods(["fit", "predict", "predict_proba"])],
        "cv": ["cv_object"],
        "n_jobs": [None, Interval(numbers.Integral, None, None, closed="neither")],
        "random_state": ["random_state"],
    }

    def __init__(self, estimator, *, cv=5, n_jobs=None, random_state=None):
        self.estimator = estimator
        self.cv = cv
        self.n_jobs = n_jobs
        self.random_state = random_state

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y):
        """Learn the threshold on out-of-fold P(LT), then refit on all data."""
        from .model_selection import StratifiedTypeKFold

        final = self.estimator[-1] if hasattr(self.estimator, "steps") else self.estimator
        types, _ = split_targets(
            y, getattr(final, "type_column", "type"), getattr(final, "redshift_column", "redshift")
        )
        if isinstance(self.cv, numbers.Integral):
            seed = check_random_state(self.random_state).randint(np.iinfo(np.int32).max)
            cv = StratifiedTypeKFold(self.cv, shuffle=True, random_state=seed)
        else:
            cv = self.cv
        oof = np.full(len(types), np.nan)
        for test, p_late in Parallel(n_jobs=self.n_jobs)(
            delayed(_oof_p_late)(self.estimator, X, y, train, test)
            for train, test in cv.split(X, y)
        ):
            oof[test] = p_late
        if np.isnan(oof).any():
            raise ValueError("The CV splitter left some galaxies without an out-of-fold score.")
        self.oof_p_late_ = oof
        self.thresholder_ = YoudenThreshold().fit(oof, types)
        self.threshold_ = self.thresholder_.threshold_
        self.estimator_ = clone(self.estimator).fit(X, y)
        self.classes_ = self.thresholder_.classes_
        return self

    def predict_proba(self, X):
        """Type probabilities of the refitted estimator."""
        check_is_fitted(self)
        return self.estimator_.predict_proba(X)

    def predict(self, X):
        """Joint ``[type, z]`` with the type thresholded at ``threshold_``."""
        check_is_fitted(self)
        pred = self.estimator_.predict(X)
        pred[:, 0] = self.thresholder_.transform(self.estimator_.predict_proba(X))
        return pred

    def score(self, X, y):
        """The wrapped estimator's score (the joint total loss is threshold-free)."""
        check_is_fitted(self)
        return self.estimator_.score(X, y)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        inner = self.estimator.__sklearn_tags__()
        tags.target_tags = inner.target_tags
        tags.regressor_tags = inner.regressor_tags
        tags.input_tags = inner.input_tags
        return tags


class TypeClassifier(ClassifierMixin, BaseEstimator):
    """The type half of a fitted joint estimator, as a plain 1-D-target classifier.

    Tools built for ordinary classifiers (``CalibratedClassifierCV``,
    ``TunedThresholdClassifierCV``) expect a 1-D ``y``. Wrap a *fitted*
    joint estimator and freeze it, then calibrate P(LT) on held-out types:

    >>> from sklearn.calibration import CalibratedClassifierCV
    >>> from sklearn.frozen import FrozenEstimator
    >>> # calibrated = CalibratedClassifierCV(FrozenEstimator(TypeClassifier(fitted)),
    >>> #                                     method="isotonic").fit(X_cal, types_cal)

    Parameters
    ----------
    joint_estimator : fitted estimator with ``predict_proba`` and ``classes_``

    Examples
    --------
    >>> import numpy as np
    >>> from skphotoz import JointMorphZ
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(22, 1, size=(40, 3))
    >>> y = np.column_stack([np.where(X[:, 0] > 22, "LT", "ET"), np.abs(X[:, 1] - 21) / 4])
    >>> view = TypeClassifier(JointMorphZ(base_units=(8,), epochs=1).fit(X, y))
    >>> view.predict(X[:3]).shape
    (3,)
    """

    def __init__(self, joint_estimator):
        self.joint_estimator = joint_estimator

    def fit(self, X, y):
        """Fit the joint estimator on a joint target (unused when frozen)."""
        self.joint_estimator.fit(X, y)
        return self

    def __sklearn_is_fitted__(self):
        return hasattr(self.joint_estimator, "classes_")

    @property
    def classes_(self):
        """Labels of the joint estimator; ``classes_[1]`` is the late type."""
        return self.joint_estimator.classes_

    def predict_proba(self, X):
        """[P(ET), P(LT)] from the joint estimator."""
        return self.joint_estimator.predict_proba(X)

    def predict(self, X):
        """Type labels at the joint estimator's threshold."""
        labels, _ = split_targets(self.joint_estimator.predict(X))
        return labels


# ------------------------------------------------------------------ the report
def _bootstrap(values_fn, n, n_bootstrap, random_state):
    rng = check_random_state(random_state)
    draws = [values_fn(rng.randint(0, n, n)) for _ in range(n_bootstrap)]
    return np.nanstd(np.asarray(draws, dtype=float), axis=0, ddof=1)


def classification_report(
    late_true,
    p_late,
    *,
    youden=None,
    ids=None,
    z_spec=None,
    z_phot=None,
    labels=("ET", "LT"),
    model_name="model",
    truth_name="true",
    n_bootstrap=1000,
    random_state=0,
):
    """The paper's classification tables for any scores: Tables 3, 4, 5 and 6.

    Parameters
    ----------
    late_true : array-like of bool
    p_late : array-like of float
        P(LT), ideally out-of-fold (LOO or K-fold predictions).
    youden : float, optional
        The Youden threshold; learned from these scores when omitted.
    ids, z_spec, z_phot : array-like, optional
        Identifiers and redshifts for the list of misclassified objects.
    labels, model_name, truth_name : naming of the tables.
    n_bootstrap : int, default=1000
        Bootstrap resamples of the galaxies for the +/- uncertainties (the
        thresholds stay fixed).
    random_state : int, default=0

    Returns
    -------
    dict with ``contingency_default`` (Table 3), ``contingency_youden``
    (Table 5), ``statistics`` (Table 6: accuracy, true-ET and true-LT rates
    with bootstrap errors for the all-LT baseline, p = 0.5 and p_J),
    ``misclassified`` (Table 4) and ``youden_threshold``.

    Examples
    --------
    >>> from skphotoz.thresholding import classification_report
    >>> report = classification_report([0, 0, 1, 1, 1], [0.2, 0.7, 0.6, 0.8, 0.9],
    ...                                n_bootstrap=20)
    >>> report["contingency_default"].to_numpy().tolist()
    [[1, 0, 1], [1, 3, 4], [2, 3, 5]]
    """
    late_true = np.asarray(late_true, dtype=bool)
    p_late = _late_scores(p_late)
    if youden is None:
        youden = youden_threshold(late_true, p_late)["threshold"]
    n = len(late_true)

    def rates(late_pred, idx):
        t, p = late_true[idx], late_pred[idx]
        return [np.mean(t == p), true_early_type_rate(t, p), true_late_type_rate(t, p)]

    rows = {}
    for name, late_pred in [
        ("Baseline (all LT)", np.ones(n, dtype=bool)),
        ("Default threshold (0.5)", p_late >= 0.5),
        (f"Youden's J ({youden:.3f})", p_late >= youden),
    ]:
        value = rates(late_pred, np.arange(n))
        error = _bootstrap(lambda idx, lp=late_pred: rates(lp, idx), n, n_bootstrap, random_state)
        rows[name] = {
            "accuracy": value[0],
            "accuracy_err": error[0],
            "true_early_type_rate": value[1],
            "true_early_type_rate_err": error[1],
            "true_late_type_rate": value[2],
            "true_late_type_rate_err": error[2],
        }
    statistics = pd.DataFrame(rows).T

    wrong = (p_late >= 0.5) != late_true
    wrong |= (p_late >= youden) != late_true
    misclassified = pd.DataFrame(
        {
            "id": np.asarray(ids)[wrong] if ids is not None else np.flatnonzero(wrong),
            truth_name: np.where(late_true[wrong], labels[1], labels[0]),
            f"{model_name} (p=0.5)": np.where(p_late[wrong] >= 0.5, labels[1], labels[0]),
            f"{model_name} (p_J)": np.where(p_late[wrong] >= youden, labels[1], labels[0]),
            "p_late": p_late[wrong],
        }
    )
    if z_spec is not None:
        misclassified["z_spec"] = np.asarray(z_spec, dtype=float)[wrong]
    if z_phot is not None:
        misclassified["z_phot"] = np.asarray(z_phot, dtype=float)[wrong]
    kwargs = {"labels": labels, "model_name": model_name, "truth_name": truth_name}
    return {
        "contingency_default": contingency_table(late_true, p_late >= 0.5, **kwargs),
        "contingency_youden": contingency_table(late_true, p_late >= youden, **kwargs),
        "statistics": statistics,
        "misclassified": misclassified,
        "youden_threshold": float(youden),
    }


def format_report(report):
    """Render :func:`classification_report` as plain text (no extra dependency)."""
    stats = report["statistics"]
    lines = [
        "Table 3. Contingency table, threshold 0.5",
        report["contingency_default"].to_string(),
        "",
        f"Table 5. Contingency table, Youden threshold {report['youden_threshold']:.3f}",
        report["contingency_youden"].to_string(),
        "",
        "Table 6. Classification statistics",
    ]
    table6 = pd.DataFrame(
        {
            name: [
                f"{stats.loc[row, name]:.3f} ± {stats.loc[row, name + '_err']:.3f}"
                for row in stats.index
            ]
            for name in ("accuracy", "true_early_type_rate", "true_late_type_rate")
        },
        index=stats.index,
    )
    lines += [
        table6.to_string(),
        "",
        "Table 4. Misclassified objects",
        report["misclassified"].to_string(index=False, float_format=lambda v: f"{v:.3f}"),
    ]
    return "\n".join(lines)
