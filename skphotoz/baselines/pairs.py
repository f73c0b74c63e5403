"""Two separate models behind the joint API: the baselines the joint network must beat.

The usual alternative to one joint network is a classifier for the type and a
regressor for the redshift, trained independently (the "sequential" approach
de Diego et al. 2021 argue against). Wrapped as one estimator with the joint
``[type, redshift]`` target, it cross-validates, scores and reports like for
like with :class:`skphotoz.JointMorphZ` and :class:`skphotoz.SEDTemplateFitter`.
scikit-learn's ``MultiOutputRegressor``/``MultiOutputClassifier`` cannot do
this: each fits one kind of model to every column.

* :class:`IndependentPair`: any classifier and regressor (random forests by
  default).
* :class:`GradientBoostingPair`: histogram gradient boosting on magnitudes and
  adjacent colours, with missing bands left as NaN; the strongest simple peer
  on gappy, imbalanced photometry.
"""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin, _fit_context, clone
from sklearn.ensemble import (
    HistGradientBoostingClassifier,
    HistGradientBoostingRegressor,
    RandomForestClassifier,
    RandomForestRegressor,
)
from sklearn.metrics import make_scorer
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from sklearn.pipeline import Pipeline
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.validation import _check_sample_weight, check_is_fitted, has_fit_parameter

from skphotoz.metrics import joint_score, median_precision
from skphotoz.preprocessing import AdjacentColours
from skphotoz.validation import (
    EARLY_LABEL_CONSTRAINT,
    check_joint_fit_input,
    check_magnitude_input,
    joint_target_tags,
    late_type_flags,
    split_targets,
)

#: The inner grid of ``GradientBoostingPair(tune=True)``, searched for each task.
TUNING_GRID = {
    "learning_rate": [0.05, 0.1],
    "max_leaf_nodes": [15, 31],
    "min_samples_leaf": [10, 20],
}

#: Folds of the inner search; stratified on the type so a rare type is in every fold.
TUNING_FOLDS = 3


def _fit_weighted(model, X, target, sample_weight):
    """``model.fit(X, target)``, with the sample weights for its final estimator.

    A Pipeline (alone, or inside a search) routes them to its last step by
    the ``step__sample_weight`` convention; any other model must take them.
    """
    if sample_weight is None:
        return model.fit(X, target)
    pipeline = model if hasattr(model, "steps") else getattr(model, "estimator", None)
    if hasattr(pipeline, "steps"):
        return model.fit(X, target, **{f"{pipeline.steps[-1][0]}__sample_weight": sample_weight})
    if not has_fit_parameter(model, "sample_weight"):
        raise ValueError(
            f"{type(model).__name__}.fit takes no sample_weight, so the pair cannot be "
            "trained with sample weights; use models that take them."
        )
    return model.fit(X, target, sample_weight=sample_weight)


class _JointPair(ClassifierMixin, BaseEstimator):
    """The joint API over a type classifier and a redshift regressor fitted independently.

    A subclass names its two models in :meth:`_prototypes` and declares in its
    tags whether they take NaN; validation, fitting, prediction and scoring
    live here, so every pair behaves alike.
    """

    _parameter_constraints = {
        "type_column": [str],
        "redshift_column": [str],
        "early_label": EARLY_LABEL_CONSTRAINT,
        "random_state": ["random_state"],
    }

    def __init__(
        self, *, type_column="type", redshift_column="redshift", early_label=None, random_state=None
    ):
        self.type_column = type_column
        self.redshift_column = redshift_column
        self.early_label = early_label
        self.random_state = random_state

    def __sklearn_tags__(self):
        tags = joint_target_tags(super().__sklearn_tags__())
        tags.input_tags.allow_nan = False
        return tags

    def _prototypes(self, types):
        """Unfitted ``(classifier, regressor)``; ``types`` are the training labels."""
        raise NotImplementedError

    def _allows_missing(self):
        # The tag is what scikit-learn's checks read, so it also decides
        # whether NaN (and +inf) reach the models: the two cannot disagree.
        return self.__sklearn_tags__().input_tags.allow_nan

    def _check_X(self, X, reset):
        return check_magnitude_input(self, X, reset=reset, allow_missing=self._allows_missing())

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y, sample_weight=None):
        """Fit the classifier on the type column and the regressor on the redshift column.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_bands)
        y : array-like of shape (n_samples, 2), DataFrame or astropy Table
        sample_weight : array-like of shape (n_samples,), optional
            Per-galaxy weights, given to both models (to a Pipeline's last
            step). Refused when NaN, infinite, negative or all zero.

        Returns
        -------
        self : estimator
        """
        X, types, redshift, self.classes_ = check_joint_fit_input(
            self, X, y, allow_missing=self._allows_missing()
        )
        if sample_weight is not None:
            # The check of the joint networks (skphotoz.nn.base): sklearn's, which
            # refuses NaN, inf, negative and all-zero weights and a wrong length.
            sample_weight = _check_sample_weight(
                sample_weight, X, dtype=np.float64, ensure_non_negative=True
            )
        classifier, regressor = self._prototypes(types)
        self.classifier_ = _fit_weighted(clone(classifier), X, types, sample_weight)
        self.regressor_ = _fit_weighted(clone(regressor), X, redshift, sample_weight)
        return self

    def _type_proba(self, X):
        """The classifier's probabilities with columns in the order of ``classes_``.

        The classifier orders its columns by its own sorted ``classes_``;
        ``classes_`` here is [early, late], which sorts the other way for
        labels such as red/blue.
        """
        columns = [np.flatnonzero(self.classifier_.classes_ == c)[0] for c in self.classes_]
        return self.classifier_.predict_proba(X)[:, columns]

    def _outputs(self, X):
        """``predict_proba`` and the redshifts, from one validation of ``X``."""
        check_is_fitted(self)
        X = self._check_X(X, reset=False)
        return self._type_proba(X), np.asarray(self.regressor_.predict(X), float)

    def predict_proba(self, X):
        """[P(ET), P(LT)], columns ordered as ``classes_``."""
        check_is_fitted(self)
        return self._type_proba(self._check_X(X, reset=False))

    def predict_redshift(self, X):
        """Photometric redshifts, shape (n_samples,)."""
        check_is_fitted(self)
        return np.asarray(self.regressor_.predict(self._check_X(X, reset=False)), dtype=float)

    def predict(self, X):
        """Joint ``[type label, photometric redshift]``, laid out like ``y``."""
        proba, redshift = self._outputs(X)
        dtype = object if self.classes_.dtype.kind in "USO" else np.float64
        out = np.empty((len(redshift), 2), dtype=dtype)
        out[:, 0], out[:, 1] = self.classes_[np.argmax(proba, axis=1)], redshift
        return out

    def predict_joint(self, X):
        """P(LT), type and photometric redshift of every galaxy, as a catalog table.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_bands)

        Returns
        -------
        DataFrame with one row per row of ``X`` (indexed as ``X`` when it is a
        DataFrame) and the columns ``p_late`` (P(LT)), ``type`` (the label
        with the higher probability, as :meth:`predict`), ``z_phot`` and
        ``flags`` (empty strings: these models flag nothing).
        """
        proba, redshift = self._outputs(X)
        index = X.index if isinstance(X, pd.DataFrame) else pd.RangeIndex(len(redshift))
        return pd.DataFrame(
            {
                "p_late": proba[:, 1],
                "type": self.classes_[np.argmax(proba, axis=1)],
                "z_phot": redshift,
                "flags": np.full(len(redshift), "", dtype=object),
            },
            index=index,
        )

    def score(self, X, y, sample_weight=None):
        """Joint score -(BCE + MSE), as :meth:`skphotoz.JointMorphZ.score`.

        A type label of ``y`` that is not in ``classes_`` is a ValueError.
        """
        check_is_fitted(self)
        types, redshift = split_targets(y, self.type_column, self.redshift_column)
        late = late_type_flags(types, self.classes_)
        proba, z_phot = self._outputs(X)
        p_late = np.clip(proba[:, 1], 1e-7, 1 - 1e-7)
        return joint_score(late, p_late, redshift, z_phot, sample_weight=sample_weight)


class IndependentPair(_JointPair):
    """A type classifier and a redshift regressor, fitted independently.

    Parameters
    ----------
    classifier : classifier with ``predict_proba``, default=None
        Fitted (a clone) on the type column. None means
        ``RandomForestClassifier(n_estimators=300, random_state=random_state)``.
    regressor : regressor, default=None
        Fitted (a clone) on the redshift column. None means
        ``RandomForestRegressor(n_estimators=300, random_state=random_state)``.
    type_column, redshift_column : str, default="type", "redshift"
        Column names when ``y`` is a DataFrame or an astropy Table.
    early_label : str, int, bool or None, default=None
        The early-type label of ``y``; None recognises the known pairs of
        labels (:func:`skphotoz.validation.type_classes`).
    random_state : int, RandomState instance or None, default=None
        Seeds the default forests.

    Attributes
    ----------
    classes_ : ndarray of shape (2,)
        ``[early, late]`` type labels; ``predict_proba`` columns follow them.
    classifier_, regressor_ : fitted estimators
    n_features_in_ : int

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LinearRegression, LogisticRegression
    >>> from skphotoz.baselines.pairs import IndependentPair
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(22, 1, size=(60, 4))
    >>> y = np.column_stack([np.where(X[:, 0] > 22, "LT", "ET"), np.abs(X[:, 1] - 21) / 4])
    >>> pair = IndependentPair(LogisticRegression(), LinearRegression()).fit(X, y)
    >>> pair.predict(X[:2]).shape, pair.predict_proba(X[:2]).shape
    ((2, 2), (2, 2))
    >>> pair.predict_joint(X[:2]).columns.tolist()
    ['p_late', 'type', 'z_phot', 'flags']
    """

    _parameter_constraints = {
        **_JointPair._parameter_constraints,
        "classifier": [None, HasMethods(["fit", "predict_proba"])],
        "regressor": [None, HasMethods(["fit", "predict"])],
    }

    def __init__(
        self,
        classifier=None,
        regressor=None,
        *,
        type_column="type",
        redshift_column="redshift",
        early_label=None,
        random_state=None,
    ):
        super().__init__(
            type_column=type_column,
            redshift_column=redshift_column,
            early_label=early_label,
            random_state=random_state,
        )
        self.classifier = classifier
        self.regressor = regressor

    def _prototypes(self, types):
        classifier = self.classifier
        if classifier is None:
            classifier = RandomForestClassifier(n_estimators=300, random_state=self.random_state)
        regressor = self.regressor
        if regressor is None:
            regressor = RandomForestRegressor(n_estimators=300, random_state=self.random_state)
        return classifier, regressor


class GradientBoostingPair(_JointPair):
    """Histogram gradient boosting for the type and for z, on magnitudes and colours.

    The strongest simple peer of the joint network: a
    ``HistGradientBoostingClassifier`` for the type and a
    ``HistGradientBoostingRegressor`` for the redshift, each fed the
    magnitudes and the colours of adjacent bands
    (:class:`~skphotoz.preprocessing.AdjacentColours`). A band that was not
    observed stays NaN: gradient boosting learns at each split which side a
    missing value goes to, so nothing is imputed. A non-detection may be
    +inf, fainter than any threshold. Either way the colours that use the
    band are NaN. Sentinels (-99, 99) and -inf are refused; convert them with
    :class:`~skphotoz.preprocessing.SentinelToNaN` first.

    Parameters
    ----------
    colours : bool, default=True
        Add the adjacent colours (u-g, g-r, ...; bands in column order) to
        the magnitudes. A colour is NaN when either band is missing.
    classifier_max_iter : int, default=300
        Boosting rounds of the type classifier.
    regressor_max_iter : int, default=500
        Boosting rounds of the redshift regressor. Two values rather than one:
        at ``learning_rate=0.05`` the redshift, a continuous target, keeps
        improving over more rounds, while the log loss of the binary type
        levels off earlier and further rounds mostly make P(LT) over-confident
        on the training galaxies. Above 10 000 galaxies both stop early on a
        held-out 10% (scikit-learn's ``early_stopping="auto"``), so these are
        then ceilings.
    learning_rate : float, default=0.05
        Shrinkage of both models.
    max_leaf_nodes : int or None, default=31
        Leaves per tree, for both models.
    min_samples_leaf : int, default=20
        Galaxies per leaf, for both models.
    l2_regularization : float, default=0.0
        L2 penalty on the leaf values, for both models.
    class_weight : "balanced", dict or None, default=None
        Passed to the classifier. "balanced" weights each type by the inverse
        of its frequency (a dict, ``{label: weight}``, sets the weights): more
        of the rare type is recovered at P(LT) = 0.5, but P(LT) is no longer
        calibrated to the training mix. With None, choose the threshold with
        :class:`skphotoz.YoudenThresholdCV` instead.
    tune : bool, default=False
        Choose ``learning_rate``, ``max_leaf_nodes`` and ``min_samples_leaf``
        for each task by ``GridSearchCV`` over :data:`TUNING_GRID` (8 points)
        on the training galaxies only, with 3 folds stratified on the type and
        shared by both tasks. The classifier is scored by log loss (it rewards
        calibrated P(LT), not just the label); the regressor by the paper's
        median precision, median(|dz| / (1 + z)), which, unlike the MSE,
        does not let a few catastrophic outliers pick the grid point. The
        three values given to the constructor are then ignored. The search
        sees only the galaxies passed to ``fit``, so cross-validating a tuned
        pair is nested: no test galaxy informs the choice.
    type_column, redshift_column : str, default="type", "redshift"
        Column names when ``y`` is a DataFrame or an astropy Table.
    early_label : str, int, bool or None, default=None
        The early-type label of ``y``; None recognises the known pairs of
        labels (:func:`skphotoz.validation.type_classes`).
    random_state : int, RandomState instance or None, default=None
        Seeds both models (their early-stopping split) and the tuning folds.

    Attributes
    ----------
    classes_ : ndarray of shape (2,)
        ``[early, late]`` type labels; ``predict_proba`` columns follow them.
    classifier_, regressor_ : Pipeline or GridSearchCV
        Fitted ``Pipeline([("colours", ...), ("model", ...)])``; with
        ``tune=True`` the search around it (see ``best_params_``).
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        Band names, when ``X`` was a DataFrame.

    Examples
    --------
    >>> import numpy as np
    >>> from skphotoz.baselines import GradientBoostingPair
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(22, 1, size=(60, 4))
    >>> y = np.column_stack([np.where(X[:, 0] > X[:, 1], "LT", "ET"), np.abs(X[:, 1] - 21) / 4])
    >>> X[::5, 2] = np.nan  # a band missing for every fifth galaxy
    >>> pair = GradientBoostingPair(classifier_max_iter=20, regressor_max_iter=20, random_state=0)
    >>> pair.fit(X, y).predict_joint(X[:2]).columns.tolist()
    ['p_late', 'type', 'z_phot', 'flags']
    """

    _parameter_constraints = {
        **_JointPair._parameter_constraints,
        "colours": ["boolean"],
        "classifier_max_iter": [Interval(Integral, 1, None, closed="left")],
        "regressor_max_iter": [Interval(Integral, 1, None, closed="left")],
        "learning_rate": [Interval(Real, 0, None, closed="neither")],
        "max_leaf_nodes": [Interval(Integral, 2, None, closed="left"), None],
        "min_samples_leaf": [Interval(Integral, 1, None, closed="left")],
        "l2_regularization": [Interval(Real, 0, None, closed="left")],
        "class_weight": [dict, StrOptions({"balanced"}), None],
        "tune": ["boolean"],
    }

    def __init__(
        self,
        *,
        colours=True,
        classifier_max_iter=300,
        regressor_max_iter=500,
        learning_rate=0.05,
        max_leaf_nodes=31,
        min_samples_leaf=20,
        l2_regularization=0.0,
        class_weight=None,
        tune=False,
        type_column="type",
        redshift_column="redshift",
        early_label=None,
        random_state=None,
    ):
        super().__init__(
            type_column=type_column,
            redshift_column=redshift_column,
            early_label=early_label,
            random_state=random_state,
        )
        self.colours = colours
        self.classifier_max_iter = classifier_max_iter
        self.regressor_max_iter = regressor_max_iter
        self.learning_rate = learning_rate
        self.max_leaf_nodes = max_leaf_nodes
        self.min_samples_leaf = min_samples_leaf
        self.l2_regularization = l2_regularization
        self.class_weight = class_weight
        self.tune = tune

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True  # gradient boosting routes NaN at every split
        return tags

    def _with_colours(self, model):
        return Pipeline(
            [("colours", AdjacentColours() if self.colours else "passthrough"), ("model", model)]
        )

    def _prototypes(self, types):
        trees = {
            "learning_rate": self.learning_rate,
            "max_leaf_nodes": self.max_leaf_nodes,
            "min_samples_leaf": self.min_samples_leaf,
            "l2_regularization": self.l2_regularization,
            "random_state": self.random_state,
        }
        classifier = self._with_colours(
            HistGradientBoostingClassifier(
                max_iter=self.classifier_max_iter, class_weight=self.class_weight, **trees
            )
        )
        regressor = self._with_colours(
            HistGradientBoostingRegressor(max_iter=self.regressor_max_iter, **trees)
        )
        if not self.tune:
            return classifier, regressor
        # One set of type-stratified folds for both tasks: neither gets an
        # easier split, and every fold holds the rare type.
        splitter = StratifiedKFold(TUNING_FOLDS, shuffle=True, random_state=self.random_state)
        folds = list(splitter.split(np.zeros((len(types), 1)), types))
        grid = {f"model__{name}": values for name, values in TUNING_GRID.items()}
        search = {"param_grid": grid, "cv": folds, "error_score": "raise"}
        return (
            GridSearchCV(classifier, scoring="neg_log_loss", **search),
            GridSearchCV(
                regressor, scoring=make_scorer(median_precision, greater_is_better=False), **search
            ),
        )
