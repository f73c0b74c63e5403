"""The Youden-J type threshold: a transformer, a meta-estimator, and calibration.

With 8% early types, the accuracy-maximising threshold p = 0.5 recovers LT
galaxies better than ET ones; de Diego et al. (2021, Sect. 3.1) choose the
threshold that maximises Youden's J = true-ET rate + true-LT rate - 1 on the
ROC curve instead (p_J = 0.897). J + 1 is twice the balanced accuracy, so
this is the threshold that scikit-learn's
``TunedThresholdClassifierCV(scoring="balanced_accuracy")`` finds; the ROC
curve gives it exactly, without a threshold grid.

Conventions
-----------
* Scores are p = P(LT), as the paper's sigmoid output; a galaxy is late type
  when p >= threshold ("p < p_th as ET, LT otherwise", Sect. 3.1).
* The ROC arrays (``fpr_``, ``tpr_``, ``thresholds_``) take the late type as
  the positive class with score p, so that ``roc_curve``'s rule
  "positive when score >= threshold" *is* the paper's rule, ties included,
  and ``thresholds_`` are values of P(LT). The paper's Fig. 5 names the axes
  the other way round (ET as "sensitivity"): its True LT Rate is ``tpr_`` and
  its True ET Rate is ``1 - fpr_``. J is the same either way.
* ``classes_`` is [early, late] (:func:`skphotoz.validation.type_classes`):
  ``classes_[1]`` is the late type ("LT", 1, True, "blue", ...) whatever the
  labels' sort order, and a pair of labels that is no known vocabulary needs
  ``early_label``.

Probability calibration
-----------------------
Youden's J uses only the ranking of the scores, so a strictly increasing
recalibration (Platt scaling) leaves the ROC curve and J unchanged; it moves
the value of p_J. To calibrate P(LT) of a fitted joint model on held-out
galaxies (the paper cites Platt scaling and isotonic regression)::

    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.frozen import FrozenEstimator
    calibrated = CalibratedClassifierCV(
        FrozenEstimator(TypeClassifier(fitted_joint_model)), method="sigmoid"
    ).fit(X_calibration, types_calibration)
    late = list(calibrated.classes_).index(fitted_joint_model.classes_[1])
    p_late = calibrated.predict_proba(X_new)[:, late]

:class:`TypeClassifier` is needed because ``CalibratedClassifierCV`` trains
and scores a classifier with a 1-D ``y``, while a joint model needs
``[type, z]``. Its ``classes_`` are sorted, as scikit-learn's tools assume,
so the late type's column is ``[:, 1]`` only when the late label sorts last
("LT", 1, "late"; not "blue").
"""

from __future__ import annotations

import numbers
import warnings

import numpy as np
from sklearn.base import (
    BaseEstimator,
    ClassifierMixin,
    MetaEstimatorMixin,
    TransformerMixin,
    _fit_context,
    clone,
)
from sklearn.metrics import roc_curve
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_is_fitted

from skphotoz.model_selection.out_of_fold import fold_predictions
from skphotoz.model_selection.split import StratifiedTypeKFold
from skphotoz.validation import (
    EARLY_LABEL_CONSTRAINT,
    final_estimator,
    late_type_mask,
    late_type_scores,
    split_targets,
)

#: The paper's default threshold on P(LT) (Table 3).
DEFAULT_THRESHOLD = 0.5


# ---------------------------------------------------------- the threshold
def youden_threshold(y_true, p_late, *, early_label=None):
    """The threshold on P(LT) that maximises Youden's J, and the rates there.

    A galaxy is late type when p >= threshold. The threshold returned is one
    of the observed scores (as in ``sklearn.metrics.roc_curve``): every value
    between it and the next lower score gives the same labels on these
    galaxies. When several thresholds reach the same maximal J, the one with
    the most balanced true-ET and true-LT rates is taken (the point of J in
    the paper), then the highest.

    Parameters
    ----------
    y_true : array-like of shape (n,)
        Type labels ("ET"/"LT", 0/1, red/blue, ...) or late-type booleans;
        :func:`skphotoz.validation.type_classes` says which is the late type.
        A joint ``[type, z]`` target works too.
    p_late : array-like of shape (n,), (n, 1) or (n, 2)
        P(LT) from any classifier (``predict_proba`` output is read as
        [P(ET), P(LT)]). Any score that increases with lateness works.
    early_label : str, int, bool or None, default=None
        The early-type label, for labels that are no known vocabulary.

    Returns
    -------
    dict
        ``threshold``, ``youden_j``, ``true_early_type_rate``,
        ``true_late_type_rate`` and the ROC arrays ``fpr``, ``tpr``,
        ``thresholds`` (late type positive, all points kept).

    Raises
    ------
    ValueError
        For NaN or infinite scores, a single type, labels whose early type
        is unknown, or scores that are all tied (then no threshold separates
        anything). Partial ties are fine: galaxies with the same score always
        get the same label.

    Examples
    --------
    >>> from skphotoz.thresholding import youden_threshold
    >>> result = youden_threshold(["ET", "ET", "LT", "LT", "LT"], [0.2, 0.7, 0.6, 0.8, 0.9])
    >>> float(result["threshold"]), round(float(result["youden_j"]), 3)
    (0.8, 0.667)
    """
    late_true, _, _, _ = late_type_mask(y_true, early_label=early_label)
    p_late = late_type_scores(p_late)
    if len(p_late) != len(late_true):
        raise ValueError(f"{len(p_late)} scores but {len(late_true)} type labels.")
    if np.all(p_late == p_late[0]):
        raise ValueError(
            f"All {len(p_late)} scores are tied (P(LT) = {p_late[0]:g} for every galaxy): "
            "no threshold separates the types, so the Youden threshold is undefined."
        )
    fpr, tpr, thresholds = roc_curve(late_true, p_late, drop_intermediate=False)
    j = tpr - fpr
    # Index 0 is roc_curve's artificial threshold +inf (nothing late type);
    # never return it: a threshold must be a usable value of P(LT).
    candidates = np.arange(1, len(j))
    best_j = j[candidates].max()
    tied = candidates[np.isclose(j[candidates], best_j, rtol=0, atol=1e-12)]
    imbalance = np.abs(tpr[tied] - (1 - fpr[tied]))
    best = int(tied[np.isclose(imbalance, imbalance.min(), rtol=0, atol=1e-12)][0])
    if best_j <= 0:
        warnings.warn(
            f"The scores do not separate early from late types better than chance "
            f"(Youden J = {best_j:.3f}); the threshold {thresholds[best]:g} is arbitrary.",
            UserWarning,
            stacklevel=2,
        )
    return {
        "threshold": float(thresholds[best]),
        "youden_j": float(j[best]),
        "true_early_type_rate": float(1 - fpr[best]),
        "true_late_type_rate": float(tpr[best]),
        "fpr": fpr,
        "tpr": tpr,
        "thresholds": thresholds,
    }


class YoudenThreshold(TransformerMixin, BaseEstimator):
    """Learn the Youden-J threshold on P(LT) and turn scores into type labels.

    ``fit(scores, y_true)`` takes P(LT) from any classifier and the true
    types; ``transform(scores)`` returns labels, ``classes_[1]`` (late type)
    when p >= ``threshold_``. See :func:`youden_threshold` for the choice of
    the threshold among equally good ones and for the errors raised.

    Fit on out-of-fold or held-out scores (the paper used leave-one-out
    predictions); in-sample scores of a flexible model give a threshold
    that is too optimistic. :class:`YoudenThresholdCV` does this for a model.

    Parameters
    ----------
    early_label : str, int, bool or None, default=None
        The early-type label of ``y_true``; None recognises the known pairs
        of labels (:func:`skphotoz.validation.type_classes`).

    Attributes
    ----------
    threshold_ : float
        p_J; an observed score.
    youden_j_ : float
    balanced_accuracy_ : float
        (J + 1) / 2.
    true_early_type_rate_, true_late_type_rate_ : float
        Rates at ``threshold_`` on the fitted scores.
    fpr_, tpr_, thresholds_ : ndarray
        The ROC curve with the late type positive (``tpr_`` = true-LT rate,
        ``1 - fpr_`` = true-ET rate), as from ``sklearn.metrics.roc_curve``.
    classes_ : ndarray of shape (2,)
        ``[early, late]`` labels; ``classes_[1]`` is the late type.

    Examples
    --------
    >>> from skphotoz.thresholding import YoudenThreshold
    >>> t = YoudenThreshold().fit([0.2, 0.7, 0.6, 0.8, 0.9], ["ET", "ET", "LT", "LT", "LT"])
    >>> t.threshold_, t.transform([0.5, 0.85]).tolist()
    (0.8, ['ET', 'LT'])
    """

    _parameter_constraints: dict = {"early_label": EARLY_LABEL_CONSTRAINT}

    def __init__(self, early_label=None):
        self.early_label = early_label

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, scores, y_true):
        """Learn the threshold.

        Parameters
        ----------
        scores : array-like of shape (n,), (n, 1) or (n, 2)
            P(LT), or ``predict_proba`` output [P(ET), P(LT)].
        y_true : array-like of shape (n,) or joint target (n, 2)
            True types (labels or late-type booleans).

        Returns
        -------
        self
        """
        _, self.classes_, _, _ = late_type_mask(y_true, early_label=self.early_label)
        result = youden_threshold(y_true, scores, early_label=self.early_label)
        self.threshold_ = result["threshold"]
        self.youden_j_ = result["youden_j"]
        self.balanced_accuracy_ = (self.youden_j_ + 1) / 2
        self.true_early_type_rate_ = result["true_early_type_rate"]
        self.true_late_type_rate_ = result["true_late_type_rate"]
        self.fpr_, self.tpr_, self.thresholds_ = result["fpr"], result["tpr"], result["thresholds"]
        return self

    def transform(self, scores):
        """Type labels: ``classes_[1]`` (late) where P(LT) >= ``threshold_``.

        Parameters
        ----------
        scores : array-like of shape (n,), (n, 1) or (n, 2)

        Returns
        -------
        ndarray of shape (n,)
        """
        check_is_fitted(self)
        return np.where(
            late_type_scores(scores) >= self.threshold_, self.classes_[1], self.classes_[0]
        )

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = True
        # Scores are P(LT) of shape (n,), or (n, 1) and predict_proba's (n, 2).
        tags.input_tags.one_d_array = True
        return tags


# ------------------------------------------------- the threshold in a model
def _estimator_has(attribute):
    def check(self):
        return hasattr(getattr(self, "estimator_", self.estimator), attribute)

    return check


class YoudenThresholdCV(MetaEstimatorMixin, ClassifierMixin, BaseEstimator):
    """A joint estimator whose type threshold is Youden's, learned by internal CV.

    ``fit`` collects out-of-fold P(LT) on the training data (folds
    stratified by type), learns the Youden threshold from them, then refits
    the estimator on all the data. ``predict`` returns the joint
    ``[type, z]`` of the refitted estimator with the type thresholded at
    ``threshold_``; the redshift is untouched.

    Parameters
    ----------
    estimator : estimator with ``predict_proba`` and a joint ``predict``
        :class:`skphotoz.JointMorphZ`, a Pipeline ending in one, or any
        estimator whose ``predict_proba`` gives [P(ET), P(LT)] and whose
        ``predict`` gives an (n, 2) ``[type, z]`` array.
    cv : int or CV splitter, default=5
        An int means :class:`skphotoz.model_selection.StratifiedTypeKFold`
        with shuffling. A splitter gets ``split(X, y)`` with the joint ``y``.
    n_jobs : int, default=None
        Folds (or replica chunks) trained in parallel (joblib).
    replicas : {"auto", True, False}, default="auto"
        Train the folds as replicas of one network when the estimator (or a
        Pipeline's final step) declares ``replica_settings()``; see
        :func:`skphotoz.model_selection.cross_val_predict_joint`.
    random_state : int, RandomState instance or None, default=None
        Seeds the fold shuffling when ``cv`` is an int.

    Attributes
    ----------
    estimator_ : estimator
        Refitted on all the training data.
    threshold_ : float
        p_J from the out-of-fold scores.
    thresholder_ : YoudenThreshold
        Fitted on the out-of-fold scores (J, rates and ROC arrays).
    oof_p_late_ : ndarray of shape (n_samples,)
        Out-of-fold P(LT), e.g. for :func:`classification_report`; NaN for a
        galaxy the model gives no score (too few observed bands).
    n_unscored_ : int
        Those galaxies: the threshold is learnt on the others.
    classes_ : ndarray of shape (2,)
        The refitted estimator's; ``classes_[1]`` is the late type.
    z_grid_ : ndarray of shape (n_grid,)
        The refitted estimator's, when it has one (a PDF head): with it,
        ``predict_pdf`` gives the estimator's p(z).
    n_features_in_ : int
    feature_names_in_ : ndarray, when the estimator exposes it

    Examples
    --------
    >>> import numpy as np
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
        "replicas": [StrOptions({"auto"}), "boolean"],
    }

    def __init__(self, estimator, *, cv=5, n_jobs=None, replicas="auto", random_state=None):
        self.estimator = estimator
        self.cv = cv
        self.n_jobs = n_jobs
        self.replicas = replicas
        self.random_state = random_state

    def _target_columns(self):
        final = final_estimator(self.estimator)
        return getattr(final, "type_column", "type"), getattr(final, "redshift_column", "redshift")

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y):
        """Learn the threshold on out-of-fold P(LT), then refit on all data.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_bands)
        y : joint target of shape (n_samples, 2), DataFrame or astropy Table

        Returns
        -------
        self
        """
        if hasattr(y, "colnames") and hasattr(y, "to_pandas"):  # astropy Table
            y = y.to_pandas()  # row indexing for the folds
        type_column, redshift_column = self._target_columns()
        types, _ = split_targets(y, type_column, redshift_column)
        if isinstance(self.cv, numbers.Integral):
            seed = check_random_state(self.random_state).randint(np.iinfo(np.int32).max)
            cv = StratifiedTypeKFold(
                self.cv,
                shuffle=True,
                random_state=seed,
                type_column=type_column,
                redshift_column=redshift_column,
            )
        else:
            cv = self.cv
        # The shared out-of-fold engine: a joint network (or a Pipeline ending
        # in one) trains all folds as replicas of one network.
        splits = list(cv.split(X, y))
        oof = np.full(len(types), np.nan)
        outputs = fold_predictions(
            self.estimator,
            X,
            y,
            splits,
            n_jobs=self.n_jobs,
            replicas=self.replicas,
            random_state=None,
            verbose=0,
        )
        covered = np.zeros(len(types), dtype=bool)
        for (_, test), (p_late, _) in zip(splits, outputs, strict=True):
            oof[test] = p_late
            covered[test] = True
        if not covered.all():
            raise ValueError(
                f"The CV splitter left {int((~covered).sum())} galaxies out of every test "
                "fold; use a splitter whose test folds cover every galaxy."
            )
        self.oof_p_late_ = oof
        # A galaxy the model gives no score (fewer observed bands than it
        # stands behind) would get none after the refit either: the threshold
        # is learnt on the galaxies that are scored.
        scored = ~np.isnan(oof)
        self.n_unscored_ = int((~scored).sum())
        self.estimator_ = clone(self.estimator).fit(X, y)
        self.classes_ = self.estimator_.classes_
        # The labels mean what they mean to the estimator, whose P(LT) is
        # thresholded: its classes_[0] is the early type.
        self.thresholder_ = YoudenThreshold(early_label=self.classes_[0]).fit(
            oof[scored], np.asarray(types)[scored]
        )
        self.threshold_ = self.thresholder_.threshold_
        for name in ("n_features_in_", "feature_names_in_"):
            if hasattr(self.estimator_, name):
                setattr(self, name, getattr(self.estimator_, name))
        return self

    def predict_proba(self, X):
        """[P(ET), P(LT)] of the refitted estimator (the threshold does not change them)."""
        check_is_fitted(self)
        return self.estimator_.predict_proba(X)

    def predict(self, X):
        """Joint ``[type, z]`` with the type thresholded at ``threshold_``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_bands)

        Returns
        -------
        ndarray of shape (n_samples, 2)
        """
        check_is_fitted(self)
        pred = np.array(self.estimator_.predict(X), copy=True)
        if pred.ndim != 2 or pred.shape[1] != 2:
            raise ValueError(
                "YoudenThresholdCV needs an estimator whose predict gives a joint (n, 2) "
                f"[type, z] array; got shape {pred.shape}."
            )
        proba = np.asarray(self.estimator_.predict_proba(X), dtype=np.float64)
        # A galaxy the estimator gives no score (too few observed bands)
        # keeps the estimator's own "no type" (None or NaN): not thresholded.
        scored = np.isfinite(proba).all(axis=1)
        labels = self.thresholder_.transform(proba[scored])
        if pred.dtype.kind not in "O" and labels.dtype.kind in "USO":
            pred = pred.astype(object)
        pred[scored, 0] = labels
        return pred

    @available_if(_estimator_has("predict_redshift"))
    def predict_redshift(self, X):
        """Photometric redshifts of the refitted estimator."""
        check_is_fitted(self)
        return self.estimator_.predict_redshift(X)

    @available_if(_estimator_has("predict_pdf"))
    def predict_pdf(self, X, z_grid=None):
        """p(z) of the refitted estimator (the type threshold does not change it).

        Available when the estimator has ``predict_pdf``, e.g.
        :class:`skphotoz.JointMorphZ` (which needs ``redshift_pdf`` at fit).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_bands)
        z_grid : array-like of shape (n_grid,), optional
            Default: the estimator's ``z_grid_``.

        Returns
        -------
        ndarray of shape (n_samples, n_grid)
        """
        check_is_fitted(self)
        return self.estimator_.predict_pdf(X, z_grid=z_grid)

    @property
    def z_grid_(self):
        """The refitted estimator's default redshift grid of :meth:`predict_pdf`.

        Present only when the fitted estimator has one (``hasattr`` is False
        before ``fit`` and for an estimator without a PDF head).
        """
        check_is_fitted(self)  # NotFittedError is an AttributeError
        return self.estimator_.z_grid_

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
    """The type half of a *fitted* joint estimator, as a 1-D-target classifier.

    Tools built for ordinary classifiers (``CalibratedClassifierCV``,
    ``TunedThresholdClassifierCV``, ``RocCurveDisplay.from_estimator``)
    expect ``fit(X, types)`` with a 1-D target, which a joint model cannot
    train on: it needs the redshifts too. So this view never trains; wrap
    it in ``sklearn.frozen.FrozenEstimator`` and calibrate P(LT) on held-out
    galaxies (see the module docstring for the full recipe)::

        CalibratedClassifierCV(FrozenEstimator(TypeClassifier(fitted)), method="isotonic")

    Unlike the joint estimator's [early, late] ``classes_``, the view's
    ``classes_`` are sorted, with ``predict_proba`` columns to match:
    scikit-learn's tools read column 1 as the label that sorts last
    (``CalibratedClassifierCV`` fails on unsorted classes and the
    ``"roc_auc"`` scorer returns 1 - AUC).

    Parameters
    ----------
    joint_estimator : fitted estimator with ``predict_proba`` and ``classes_``

    Examples
    --------
    >>> import numpy as np
    >>> from skphotoz import JointMorphZ
    >>> from skphotoz.thresholding import TypeClassifier
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(22, 1, size=(40, 3))
    >>> y = np.column_stack([np.where(X[:, 0] > 22, "LT", "ET"), np.abs(X[:, 1] - 21) / 4])
    >>> view = TypeClassifier(JointMorphZ(base_units=(8,), epochs=1).fit(X, y))
    >>> view.predict(X[:3]).shape
    (3,)
    """

    def __init__(self, joint_estimator):
        self.joint_estimator = joint_estimator

    def fit(self, X=None, y=None):
        """Check that the joint estimator is fitted; nothing is trained here.

        Raises
        ------
        sklearn.exceptions.NotFittedError
            With the recipe, when the wrapped estimator is not fitted (for
            instance after ``clone`` inside a CV loop).
        """
        check_is_fitted(
            self.joint_estimator,
            msg=(
                "TypeClassifier is a view of an already fitted joint estimator and cannot "
                "train it on 1-D types. Fit the joint model on [type, z] first and wrap the "
                "view in sklearn.frozen.FrozenEstimator, e.g. CalibratedClassifierCV("
                "FrozenEstimator(TypeClassifier(fitted)), method='sigmoid')."
            ),
        )
        return self

    def __sklearn_is_fitted__(self):
        return hasattr(self.joint_estimator, "classes_")

    @property
    def classes_(self):
        """The joint estimator's labels, sorted (red/blue gives ["blue", "red"])."""
        return np.sort(self.joint_estimator.classes_)

    def predict_proba(self, X):
        """The joint estimator's probabilities, columns ordered as ``classes_`` (sorted)."""
        order = np.argsort(self.joint_estimator.classes_, kind="stable")
        return self.joint_estimator.predict_proba(X)[:, order]

    def predict(self, X):
        """Type labels at the joint estimator's own threshold."""
        labels, _ = split_targets(self.joint_estimator.predict(X))
        return labels
