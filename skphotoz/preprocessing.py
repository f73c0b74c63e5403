"""Catalog preprocessing: turn missing-photometry sentinels into NaN.

Catalogs write "not observed" as -99 or 99 (and some as 0). Those are finite
numbers, so a scaler or a network would use them as real magnitudes. After
``SentinelToNaN`` any scikit-learn imputer can handle them, for example
``SimpleImputer(add_indicator=True)``, which also tells the model which bands
were missing.
"""

from __future__ import annotations

from numbers import Real

import numpy as np
from sklearn.base import BaseEstimator, OneToOneFeatureMixin, TransformerMixin, _fit_context
from sklearn.utils.validation import check_is_fitted, validate_data

from skphotoz.validation import SENTINELS, to_numeric_frame


class SentinelToNaN(OneToOneFeatureMixin, TransformerMixin, BaseEstimator):
    """Replace catalog sentinel magnitudes by NaN.

    Parameters
    ----------
    sentinels : tuple of float, default=(-99.0, 99.0)
        Values that mean "no measurement".
    bright_limit, faint_limit : float or None, default=None
        Optionally treat magnitudes outside ``[bright_limit, faint_limit]``
        as missing too (e.g. 0 in CNOC2, or >= 90 in some catalogs).

    Attributes
    ----------
    n_features_in_ : int
    feature_names_in_ : ndarray of str
    n_missing_ : ndarray of shape (n_features_in_,)
        Missing values per band in the data seen by ``fit``.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.impute import SimpleImputer
    >>> from sklearn.pipeline import make_pipeline
    >>> from skphotoz.preprocessing import SentinelToNaN
    >>> X = np.array([[20.0, -99.0], [21.0, 22.0], [22.0, 23.0]])
    >>> make_pipeline(SentinelToNaN(), SimpleImputer(add_indicator=True)).fit_transform(X)
    array([[20. , 22.5,  1. ],
           [21. , 22. ,  0. ],
           [22. , 23. ,  0. ]])
    """

    _parameter_constraints = {
        "sentinels": ["array-like"],
        "bright_limit": [None, Real],
        "faint_limit": [None, Real],
    }

    def __init__(self, sentinels=SENTINELS, bright_limit=None, faint_limit=None):
        self.sentinels = sentinels
        self.bright_limit = bright_limit
        self.faint_limit = faint_limit

    def _missing(self, X):
        missing = np.isin(X, np.asarray(self.sentinels, dtype=float)) | ~np.isfinite(X)
        if self.bright_limit is not None:
            missing |= X < self.bright_limit
        if self.faint_limit is not None:
            missing |= X > self.faint_limit
        return missing

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Record the band layout and count the missing values per band."""
        X = validate_data(self, to_numeric_frame(X), ensure_all_finite=False, dtype=np.float64)
        self.n_missing_ = self._missing(X).sum(axis=0)
        return self

    def transform(self, X):
        """Return a float copy of ``X`` with sentinels replaced by NaN."""
        check_is_fitted(self)
        X = validate_data(
            self,
            to_numeric_frame(X),
            reset=False,
            ensure_all_finite=False,
            dtype=np.float64,
            copy=True,
        )
        X[self._missing(X)] = np.nan
        return X

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        return tags
