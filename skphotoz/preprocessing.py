"""Catalog preprocessing: missing-photometry placeholders to NaN, and adjacent-band colours.

Catalogs write "not observed" as -99, 99, 0, 99.99 or 999. Those are finite
numbers, so a scaler or a network would use them as real magnitudes.
``SentinelToNaN`` applies the catalogs' placeholder policy
(:mod:`skphotoz.catalogs.photometry`); after it any scikit-learn imputer can
handle them, for example ``SimpleImputer(add_indicator=True)``, which also
tells the model which bands were missing.

``AdjacentColours`` appends the colours of adjacent bands (u-g, g-r, ...),
which carry the spectral shape that type and redshift are read from; a colour
is NaN wherever one of its two bands is missing, so models that handle NaN
natively (histogram gradient boosting) see the gaps as they are.
"""

from __future__ import annotations

from numbers import Real

import numpy as np
from sklearn.base import BaseEstimator, OneToOneFeatureMixin, TransformerMixin, _fit_context
from sklearn.utils._param_validation import Interval
from sklearn.utils.validation import (
    _check_feature_names_in,
    check_is_fitted,
    validate_data,
)

from skphotoz.catalogs.photometry import MAGNITUDE_SENTINELS, SENTINEL_LIMIT, placeholder_mask
from skphotoz.validation import to_numeric_frame


class SentinelToNaN(OneToOneFeatureMixin, TransformerMixin, BaseEstimator):
    """Replace catalog placeholder magnitudes by NaN.

    A placeholder is what the catalogs' one policy says it is
    (:func:`skphotoz.catalogs.photometry.placeholder_mask`): one of
    ``sentinels``, a magnitude with ``|m| >= limit`` (99.99, 999, ...), or a
    non-finite value. Everything comes out as NaN, "not observed", which any
    scikit-learn imputer or a skphotoz network with missing bands takes.

    Parameters
    ----------
    sentinels : tuple of float, default=MAGNITUDE_SENTINELS
        Values that mean "no measurement"; the default is the catalogs'
        policy, :data:`skphotoz.catalogs.photometry.MAGNITUDE_SENTINELS`
        (-99, 99, 0: a magnitude of 0 is no galaxy's).
    limit : float or None, default=SENTINEL_LIMIT
        Magnitudes at least this far from zero are placeholders too
        (:data:`skphotoz.catalogs.photometry.SENTINEL_LIMIT`, 90); None turns
        this test off.
    bright_limit, faint_limit : float or None, default=None
        Optionally treat magnitudes outside ``[bright_limit, faint_limit]``
        as missing too (e.g. a survey's saturation or detection limits).

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
    >>> X = np.array([[20.0, -99.0], [21.0, 22.0], [22.0, 23.0], [23.0, 99.99]])
    >>> make_pipeline(SentinelToNaN(), SimpleImputer(add_indicator=True)).fit_transform(X)
    array([[20. , 22.5,  1. ],
           [21. , 22. ,  0. ],
           [22. , 23. ,  0. ],
           [23. , 22.5,  1. ]])
    """

    _parameter_constraints = {
        "sentinels": ["array-like"],
        "limit": [None, Interval(Real, 0, None, closed="neither")],
        "bright_limit": [None, Real],
        "faint_limit": [None, Real],
    }

    def __init__(
        self,
        sentinels=MAGNITUDE_SENTINELS,
        limit=SENTINEL_LIMIT,
        bright_limit=None,
        faint_limit=None,
    ):
        self.sentinels = sentinels
        self.limit = limit
        self.bright_limit = bright_limit
        self.faint_limit = faint_limit

    def _missing(self, X):
        missing = placeholder_mask(X, self.sentinels, self.limit)
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
        """Return a float copy of ``X`` with placeholders replaced by NaN."""
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


class AdjacentColours(TransformerMixin, BaseEstimator):
    """Append the colours of adjacent bands, band_j - band_(j+1), to the magnitudes.

    Bands are paired in column order, so order the columns by wavelength
    (u, g, r, i, z gives u-g, g-r, r-i, i-z). A colour is NaN when either of
    its bands is NaN or infinite: the difference of two missing magnitudes is
    missing, never a number (inf - inf would be NaN by accident, inf - 20
    would be inf). Sentinels such as -99 are not recognised here: put
    :class:`SentinelToNaN` first.

    Parameters
    ----------
    keep_magnitudes : bool, default=True
        Output the magnitudes followed by the colours; False outputs the
        colours only.

    Attributes
    ----------
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        Band names, when ``X`` given to ``fit`` was a DataFrame.

    Examples
    --------
    >>> import numpy as np
    >>> import pandas as pd
    >>> from skphotoz.preprocessing import AdjacentColours
    >>> X = pd.DataFrame({"u": [22.0, 23.0], "g": [21.0, np.nan], "r": [20.5, 21.0]})
    >>> colours = AdjacentColours(keep_magnitudes=False).fit(X)
    >>> colours.transform(X)
    array([[1. , 0.5],
           [nan, nan]])
    >>> colours.get_feature_names_out().tolist()
    ['u-g', 'g-r']
    """

    _parameter_constraints = {"keep_magnitudes": ["boolean"]}

    def __init__(self, keep_magnitudes=True):
        self.keep_magnitudes = keep_magnitudes

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Record the bands; at least two are needed to form a colour."""
        X = validate_data(self, to_numeric_frame(X), ensure_all_finite=False, dtype=np.float64)
        if X.shape[1] < 2:
            raise ValueError(
                f"AdjacentColours needs at least 2 bands to form a colour; got "
                f"{X.shape[1]} feature(s)."
            )
        return self

    def transform(self, X):
        """Return the magnitudes (unless ``keep_magnitudes=False``) and the colours."""
        check_is_fitted(self)
        X = validate_data(
            self, to_numeric_frame(X), reset=False, ensure_all_finite=False, dtype=np.float64
        )
        colours = X[:, :-1] - X[:, 1:]
        colours[~(np.isfinite(X[:, :-1]) & np.isfinite(X[:, 1:]))] = np.nan
        return np.hstack([X, colours]) if self.keep_magnitudes else colours

    def get_feature_names_out(self, input_features=None):
        """Band names (when kept) followed by colour names such as ``u-g``.

        Parameters
        ----------
        input_features : array-like of str or None, default=None
            Band names; None uses ``feature_names_in_`` or ``x0, x1, ...``.

        Returns
        -------
        feature_names_out : ndarray of str objects
        """
        check_is_fitted(self)
        bands = list(_check_feature_names_in(self, input_features))
        colours = [f"{blue}-{red}" for blue, red in zip(bands[:-1], bands[1:], strict=True)]
        return np.asarray(bands + colours if self.keep_magnitudes else colours, dtype=object)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        return tags
