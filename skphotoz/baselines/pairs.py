"""``IndependentPair``: the two-separate-models baseline behind the joint API.

The usual alternative to one joint network is a classifier for the type and a
regressor for the redshift, trained independently (the "sequential" approach
de Diego et al. 2021 argue against). Wrapped as one estimator with the joint
``[type, redshift]`` target, it cross-validates, scores and reports like for
like with :class:`skphotoz.JointMorphZ` and :class:`skphotoz.SEDTemplateFitter`.
scikit-learn's ``MultiOutputRegressor``/``MultiOutputClassifier`` cannot do
this: each fits one kind of model to every column.
"""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, _fit_context, clone
from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor
from sklearn.utils._param_validation import HasMethods
from sklearn.utils.validation import check_is_fitted

from skphotoz.validation import (
    check_joint_fit_input,
    check_magnitude_input,
    joint_target_tags,
    split_targets,
)


class IndependentPair(ClassifierMixin, BaseEstimator):
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
    random_state : int, RandomState instance or None, default=None
        Seeds the default forests.

    Attributes
    ----------
    classes_ : ndarray of shape (2,)
        Sorted type labels; ``classes_[1]`` is the late type.
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
    """

    _parameter_constraints = {
        "classifier": [None, HasMethods(["fit", "predict_proba"])],
        "regressor": [None, HasMethods(["fit", "predict"])],
        "type_column": [str],
        "redshift_column": [str],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        classifier=None,
        regressor=None,
        *,
        type_column="type",
        redshift_column="redshift",
        random_state=None,
    ):
        self.classifier = classifier
        self.regressor = regressor
        self.type_column = type_column
        self.redshift_column = redshift_column
        self.random_state = random_state

    def __sklearn_tags__(self):
        tags = joint_target_tags(super().__sklearn_tags__())
        tags.input_tags.allow_nan = False
        return tags

    def _check_X(self, X, reset):
        return check_magnitude_input(self, X, reset=reset)

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y):
        """Fit the classifier on the type column and the regressor on the redshift column.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_bands)
        y : array-like of shape (n_samples, 2), DataFrame or astropy Table

        Returns
        -------
        self : IndependentPair
        """
        X, types, redshift, self.classes_ = check_joint_fit_input(self, X, y)
        classifier = self.classifier
        if classifier is None:
            classifier = RandomForestClassifier(n_estimators=300, random_state=self.random_state)
        regressor = self.regressor
        if regressor is None:
            regressor = RandomForestRegressor(n_estimators=300, random_state=self.random_state)
        self.classifier_ = clone(classifier).fit(X, types)
        self.regressor_ = clone(regressor).fit(X, redshift)
        return self

    def predict_proba(self, X):
        """[P(ET), P(LT)], columns ordered as ``classes_``."""
        check_is_fitted(self)
        return self.classifier_.predict_proba(self._check_X(X, reset=False))

    def predict_redshift(self, X):
        """Photometric redshifts, shape (n_samples,)."""
        check_is_fitted(self)
        return np.asarray(self.regressor_.predict(self._check_X(X, reset=False)), dtype=float)

    def predict(self, X):
        """Joint ``[type label, photometric redshift]``, laid out like ``y``."""
        labels = self.classes_[np.argmax(self.predict_proba(X), axis=1)]
        dtype = object if self.classes_.dtype.kind in "USO" else np.float64
        out = np.empty((len(labels), 2), dtype=dtype)
        out[:, 0], out[:, 1] = labels, self.predict_redshift(X)
        return out

    def score(self, X, y):
        """Joint score -(BCE + MSE), as :meth:`skphotoz.JointMorphZ.score`."""
        from skphotoz.metrics import joint_score

        types, redshift = split_targets(y, self.type_column, self.redshift_column)
        p_late = np.clip(self.predict_proba(X)[:, 1], 1e-7, 1 - 1e-7)
        return joint_score(types == self.classes_[1], p_late, redshift, self.predict_redshift(X))
