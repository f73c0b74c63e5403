"""FlexZBoost: redshift PDFs from a basis expansion whose coefficients are boosted trees.

FlexZBoost (Izbicki & Lee 2017; Dalmasso et al. 2020) was the best code of
the LSST DESC DC1 photo-z challenge (Schmidt et al. 2020). It writes p(z | x)
as a sum of orthonormal functions of z (cosine, Fourier or Daubechies
wavelets) whose coefficients are regressions on the photometry, one xgboost
model per basis function; a held-out split then chooses how many basis
functions to keep and tunes two post-processing steps (removing small
spurious bumps, and sharpening by raising the density to a power). It is the
PDF peer the joint networks and the template fitter are measured against.

The model itself is the ``flexcode`` package with its xgboost backend, an
optional dependency: ``pip install "skphotoz[pdf]"``.
"""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
import pandas as pd
from joblib import effective_n_jobs
from sklearn.base import BaseEstimator, RegressorMixin, _fit_context
from sklearn.metrics import r2_score
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import (
    _check_sample_weight,
    check_consistent_length,
    check_is_fitted,
    column_or_1d,
    validate_data,
)

from skphotoz.pdf import check_z_grid, normalise_pdf
from skphotoz.validation import check_magnitudes, split_targets, to_numeric_frame

#: Candidate bump thresholds of ``bump_threshold="auto"`` (the defaults of
#: RAIL's FlexZBoost informer: 20 values from 0.02 to 0.35). A bump is a run
#: of positive density between zeros; one with less probability than the
#: threshold is removed.
BUMP_THRESHOLD_GRID = np.linspace(0.02, 0.35, 20)

#: Candidate exponents of ``sharpen_alpha="auto"`` (RAIL's: 15 values from 0.7
#: to 2.1). Above 1 the density is made peakier, below 1 broader.
SHARPEN_GRID = np.linspace(0.7, 2.1, 15)

_INSTALL_HINT = (
    'FlexZBoost needs the optional packages flexcode and xgboost: pip install "skphotoz[pdf]"'
)


def _flexcode():
    """``(FlexCodeModel, XGBoost)`` from the optional ``flexcode`` package."""
    try:
        # flexcode imports xgboost inside a try and only fails later, with a
        # bare Exception, when the backend is built: import it here to fail now.
        import xgboost  # noqa: F401
        from flexcode import FlexCodeModel
        from flexcode.regression_models import XGBoost
    except ImportError as exc:
        raise ImportError(f"{_INSTALL_HINT} ({exc}).") from exc
    return FlexCodeModel, XGBoost


def _training_redshifts(y):
    """The redshifts of ``y``: a 1-D target, or the redshift column of a joint target."""
    if y is None:
        raise ValueError(
            "FlexZBoost requires y to be passed, but the target y is None; y is the "
            "spectroscopic redshift (or the joint target [type, redshift])."
        )
    if not (isinstance(y, pd.DataFrame) or hasattr(y, "colnames")):
        y = np.asarray(y)
    # A DataFrame, a Table or a 2-D array of 2+ columns is a joint target; one
    # column is a column vector of redshifts (sklearn's (n, 1) y, with its warning).
    if hasattr(y, "colnames") or (y.ndim == 2 and y.shape[1] != 1):
        # The joint estimators' target: the type column is not needed here,
        # so the joint estimators' cross_validate calls can include this model.
        _, redshift = split_targets(y)
    else:
        try:
            redshift = np.asarray(column_or_1d(y, warn=True), dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise ValueError(
                "y must be the spectroscopic redshifts, shape (n_samples,), or the joint "
                f"target [type, redshift], shape (n_samples, 2) ({exc})."
            ) from exc
    n = len(redshift)
    bad = ~np.isfinite(redshift)
    if bad.any():
        raise ValueError(
            f"The redshift y contains {bad.sum()} non-finite value(s) out of {n} rows."
        )
    if (redshift < 0).any():
        raise ValueError(
            f"The redshift y contains {(redshift < 0).sum()} negative value(s) out of {n} rows "
            f"(minimum {redshift.min():g}); spectroscopic redshifts must be >= 0."
        )
    return redshift


class FlexZBoost(RegressorMixin, BaseEstimator):
    """FlexZBoost conditional density estimate p(z | photometry), as a regressor.

    p(z | x) is expanded in ``max_basis`` orthonormal functions of z on the
    training redshift range, and each coefficient is an xgboost regression
    on ``X`` (Izbicki & Lee 2017). A random ``validation_fraction`` of the
    training galaxies is held out to keep only the basis functions that
    lower the CDE loss and to tune the bump removal and the sharpening; the
    model is then refitted on all the galaxies with those choices (as RAIL's
    FlexZBoost informer does by default).

    Parameters
    ----------
    max_basis : int, default=35
        Basis functions fitted. Tuning keeps those that help on the
        held-out split (``n_basis_`` of them).
    basis_system : {"cosine", "Fourier", "db4"}, default="cosine"
        The orthonormal system on the (rescaled) redshift range.
    n_estimators : int, default=100
        Boosting rounds of each coefficient's xgboost regressor.
    max_depth : int, default=8
        Tree depth of each regressor.
    learning_rate : float, default=0.1
        Shrinkage of each regressor.
    bump_threshold : "auto", float or None, default="auto"
        Bumps of density (runs of positive density between zeros) holding
        less probability than this are removed. "auto" picks it from
        :data:`BUMP_THRESHOLD_GRID` by the CDE loss on the held-out split;
        None removes nothing.
    sharpen_alpha : "auto", float or None, default="auto"
        The density is raised to this power and renormalised. "auto" picks it
        from :data:`SHARPEN_GRID` on the held-out split (after the bump
        removal); None leaves the density as it is.
    validation_fraction : float in [0, 1), default=0.2
        Fraction of the training galaxies held out for the tuning. 0 tunes
        nothing: all ``max_basis`` functions are kept, and "auto" for either
        post-processing step is then a ValueError.
    n_grid : int, default=200
        Points of the default redshift grid ``z_grid_`` (evenly spaced over
        the training range), on which the post-processing is tuned and
        applied and :meth:`predict` takes the mode.
    random_state : int, RandomState instance or None, default=None
        Seeds the held-out split and xgboost.
    n_jobs : int or None, default=None
        Coefficient regressions fitted and predicted in parallel (joblib
        semantics: None is 1 outside a ``joblib.parallel_backend`` context,
        -1 is every core). Each xgboost model runs on one thread.

    Attributes
    ----------
    z_range_ : tuple of (float, float)
        ``(z_min, z_max)`` of the training redshifts: the support of every PDF.
    z_grid_ : ndarray of shape (n_grid,)
        The default grid of :meth:`predict_pdf` and of :meth:`predict`.
    n_basis_ : int
        Basis functions kept by the tuning (``max_basis`` without it).
    bump_threshold_, sharpen_alpha_ : float or None
        The post-processing applied (tuned, given, or None for none).
    model_ : flexcode.FlexCodeModel
        The fitted model, trained on redshifts rescaled to [0, 1].
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        Column names, when ``X`` was a DataFrame.

    Notes
    -----
    ``X`` is magnitudes, colours, or both, as the user chooses (RAIL feeds one
    magnitude and the adjacent colours). NaN marks a band that was not
    observed: xgboost learns at each split which side missing values go to.
    Infinite values and catalog placeholders (-99, 99, ``|x| >= 90``) are
    refused; convert them to NaN first (e.g. with
    :class:`~skphotoz.preprocessing.SentinelToNaN`).

    ``sample_weight`` is passed to every xgboost regression. The tuning on
    the held-out split is unweighted: flexcode's CDE loss takes no weights.

    ``flexcode`` rescales z to [0, 1] with the ``z_min``/``z_max`` it is
    given, but its ``tune`` then compares the rescaled validation redshifts
    with a grid in the original units, so the bump threshold and the
    sharpening it picks are wrong unless the range is [0, 1]. The redshifts
    are therefore rescaled here and flexcode is given the range [0, 1].

    References
    ----------
    Izbicki R. & Lee A. B. 2017, Electronic Journal of Statistics 11, 2800.
    Schmidt S. J. et al. 2020, MNRAS 499, 1587 (LSST DESC DC1 photo-z).

    Examples
    --------
    >>> import numpy as np
    >>> from skphotoz.baselines import FlexZBoost
    >>> rng = np.random.default_rng(0)
    >>> z = rng.uniform(0.1, 1.0, 120)
    >>> X = np.column_stack([21 + 2 * z, 0.5 + z]) + rng.normal(0, 0.05, (120, 2))
    >>> model = FlexZBoost(max_basis=10, n_estimators=10, max_depth=3, random_state=0)
    >>> pdf = model.fit(X, z).predict_pdf(X[:3], z_grid=np.linspace(0, 1.2, 61))
    >>> pdf.shape, np.allclose(np.trapezoid(pdf, np.linspace(0, 1.2, 61)), 1)
    ((3, 61), True)
    >>> model.predict(X[:3]).shape
    (3,)
    """

    _parameter_constraints = {
        "max_basis": [Interval(Integral, 1, None, closed="left")],
        "basis_system": [StrOptions({"cosine", "Fourier", "db4"})],
        "n_estimators": [Interval(Integral, 1, None, closed="left")],
        "max_depth": [Interval(Integral, 1, None, closed="left")],
        "learning_rate": [Interval(Real, 0, None, closed="neither")],
        "bump_threshold": [StrOptions({"auto"}), Interval(Real, 0, 1, closed="both"), None],
        "sharpen_alpha": [StrOptions({"auto"}), Interval(Real, 0, None, closed="neither"), None],
        "validation_fraction": [Interval(Real, 0, 1, closed="left")],
        "n_grid": [Interval(Integral, 2, None, closed="left")],
        "random_state": ["random_state"],
        "n_jobs": [Integral, None],
    }

    def __init__(
        self,
        *,
        max_basis=35,
        basis_system="cosine",
        n_estimators=100,
        max_depth=8,
        learning_rate=0.1,
        bump_threshold="auto",
        sharpen_alpha="auto",
        validation_fraction=0.2,
        n_grid=200,
        random_state=None,
        n_jobs=None,
    ):
        self.max_basis = max_basis
        self.basis_system = basis_system
        self.n_estimators = n_estimators
        self.max_depth = max_depth
        self.learning_rate = learning_rate
        self.bump_threshold = bump_threshold
        self.sharpen_alpha = sharpen_alpha
        self.validation_fraction = validation_fraction
        self.n_grid = n_grid
        self.random_state = random_state
        self.n_jobs = n_jobs

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True  # xgboost routes NaN at every split
        tags.target_tags.positive_only = True  # redshifts are >= 0
        return tags

    def _check_X(self, X, reset):
        # Strings are refused by column name, finite placeholders such as 99
        # by the band-naming check, which also reads NaN as a band not
        # observed and +inf as a non-detection, as every skphotoz estimator does.
        X = validate_data(
            self, to_numeric_frame(X), reset=reset, ensure_all_finite=False, dtype=np.float64
        )
        X = check_magnitudes(X, getattr(self, "feature_names_in_", None), allow_missing=True)
        # xgboost refuses inf: a non-detection becomes the largest float32, so
        # that its trees sort it as fainter than any detected magnitude.
        return np.where(np.isposinf(X), np.finfo(np.float32).max, X)

    def _new_model(self, seed):
        FlexCodeModel, XGBoost = _flexcode()
        regression_params = {
            "n_estimators": self.n_estimators,
            "max_depth": self.max_depth,
            "learning_rate": self.learning_rate,
            # flexcode's default objective is "reg:linear", xgboost's old name.
            "objective": "reg:squarederror",
            "random_state": seed,
            # One thread per model: the parallelism is over the coefficients.
            "n_jobs": 1,
        }
        model = FlexCodeModel(
            XGBoost,
            max_basis=self.max_basis,
            basis_system=self.basis_system,
            z_min=0.0,
            z_max=1.0,
            regression_params=regression_params,
        )
        # flexcode hard-codes n_jobs=-1 (a process per core) for its
        # MultiOutputRegressor of xgboost models; honour n_jobs instead.
        model.model.models.set_params(n_jobs=effective_n_jobs(self.n_jobs))
        return model

    def _tune(self, model, X_val, u_val):
        """Choose the basis functions and the post-processing on the held-out split."""
        bump, sharpen = self.bump_threshold, self.sharpen_alpha
        # flexcode tunes the bump removal first and the sharpening on the
        # densities with bumps removed, so a fixed threshold is given as a
        # one-value grid to be applied before the sharpening is chosen.
        bump_grid = BUMP_THRESHOLD_GRID if bump == "auto" else None if bump is None else [bump]
        sharpen_grid = SHARPEN_GRID if sharpen == "auto" else None
        model.tune(
            X_val,
            u_val,
            bump_threshold_grid=bump_grid,
            sharpen_grid=sharpen_grid,
            n_grid=self.n_grid,
        )
        if len(model.best_basis) == 0:
            # Every coefficient hurt the held-out loss: keep the constant
            # function (a flat density) so the model can still predict.
            model.best_basis = np.arange(1)
        # A fixed value is set, not tuned: flexcode's one-value choice could
        # come back None when the loss is NaN.
        if bump != "auto":
            model.bump_threshold = bump
        if sharpen != "auto":
            model.sharpen_alpha = sharpen

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Fit the coefficient regressions, tune on a held-out split, refit on all.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Magnitudes and/or colours; NaN for a band not observed.
        y : array-like of shape (n_samples,), or joint target
            Spectroscopic redshifts (finite, >= 0), or the joint target
            ``[type, redshift]`` of the other skphotoz estimators (a 2-column
            array, DataFrame or astropy Table read by
            :func:`skphotoz.validation.split_targets`), whose type column is
            ignored.
        sample_weight : array-like of shape (n_samples,), optional
            Per-galaxy weights of the xgboost regressions (not of the tuning,
            see Notes). Refused when NaN, infinite, negative or all zero.

        Returns
        -------
        self : FlexZBoost
        """
        tuned = self.validation_fraction > 0
        if not tuned and "auto" in (self.bump_threshold, self.sharpen_alpha):
            raise ValueError(
                "bump_threshold='auto' and sharpen_alpha='auto' are tuned on a held-out split, "
                "but validation_fraction=0 holds out none; give a validation_fraction in (0, 1) "
                "or fixed values (or None)."
            )
        X = self._check_X(X, reset=True)
        redshift = _training_redshifts(y)
        check_consistent_length(X, redshift)
        if sample_weight is not None:
            sample_weight = _check_sample_weight(
                sample_weight, X, dtype=np.float64, ensure_non_negative=True
            )
        n = len(redshift)
        n_val = int(np.ceil(self.validation_fraction * n))
        if n - n_val < 1 or n < 2:
            raise ValueError(
                f"FlexZBoost needs at least 2 samples (one to train on and one held out for "
                f"the tuning); got {n} sample(s)."
            )
        z_min, z_max = float(redshift.min()), float(redshift.max())
        if z_max == z_min:
            raise ValueError(
                f"All {n} training redshifts equal {z_min:g}; FlexZBoost needs a range of "
                "redshifts to place its basis functions on."
            )
        # flexcode's tune is only right on [0, 1] (see Notes), so rescale here.
        unit = (redshift - z_min) / (z_max - z_min)

        rng = check_random_state(self.random_state)
        seed = int(rng.randint(np.iinfo(np.int32).max))
        model = self._new_model(seed)
        if tuned:
            order = rng.permutation(n)
            val, train = order[:n_val], order[n_val:]
            weight = None if sample_weight is None else sample_weight[train]
            model.fit(X[train], unit[train], weight)
            self._tune(model, X[val], unit[val])
        else:
            model.bump_threshold, model.sharpen_alpha = self.bump_threshold, self.sharpen_alpha
        # The tuned choices (best_basis, bump_threshold, sharpen_alpha) are
        # attributes fit() keeps: refit on every galaxy with them, as RAIL does.
        model.fit(X, unit, sample_weight)

        self.model_ = model
        self.z_range_ = (z_min, z_max)
        self.z_grid_ = np.linspace(z_min, z_max, self.n_grid)
        self.n_basis_ = len(model.best_basis)
        self.bump_threshold_ = model.bump_threshold
        self.sharpen_alpha_ = model.sharpen_alpha
        return self

    def _native_pdf(self, X):
        """Densities per unit redshift on ``z_grid_``, as flexcode gives them."""
        check_is_fitted(self)
        X = self._check_X(X, reset=False)
        cdes, _ = self.model_.predict(X, n_grid=self.n_grid)
        # flexcode's densities are per unit of the rescaled redshift.
        return cdes / (self.z_range_[1] - self.z_range_[0])

    def predict_pdf(self, X, z_grid=None):
        """p(z) of every galaxy on a redshift grid.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        z_grid : array-like of shape (n_grid,), default=None
            Strictly increasing redshifts covering the training range
            ``z_range_`` (:func:`skphotoz.pdf.check_z_grid`). None is
            ``z_grid_``. flexcode's post-processing needs an even grid over
            the training range, so the PDFs are computed on ``z_grid_`` and
            linearly interpolated onto ``z_grid``; outside the training range
            they are 0.

        Returns
        -------
        pdf : ndarray of shape (n_samples, len(z_grid)), float64
            Densities that integrate to 1 over ``z_grid`` by the trapezoid
            rule (:func:`skphotoz.pdf.normalise_pdf`).
        """
        native = self._native_pdf(X)
        if z_grid is None:
            return normalise_pdf(self.z_grid_, native)
        grid = check_z_grid(z_grid, training_range=self.z_range_)
        # np.interp works on one row; the same two neighbours and weights
        # serve every galaxy, so interpolate all rows at once.
        right = np.clip(np.searchsorted(self.z_grid_, grid), 1, self.n_grid - 1)
        left = right - 1
        weight = (grid - self.z_grid_[left]) / (self.z_grid_[right] - self.z_grid_[left])
        values = native[:, left] * (1 - weight) + native[:, right] * weight
        outside = (grid < self.z_range_[0]) | (grid > self.z_range_[1])
        values[:, outside] = 0.0
        return normalise_pdf(grid, values)

    def predict(self, X):
        """Photometric redshifts: the mode of each PDF on ``z_grid_``.

        The mode is FlexZBoost's usual point estimate (RAIL's ``zmode``): the
        PDFs are often multimodal, and their mean can fall between the peaks
        where no galaxy lies.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        z_phot : ndarray of shape (n_samples,)
        """
        native = self._native_pdf(X)  # checks the fit before z_grid_ is read
        # Peaks equal up to round-off (the cosine basis is symmetric about the
        # middle of the range) go to the lowest redshift, so that the answer
        # does not depend on which other galaxies are predicted alongside.
        peak = native >= native.max(axis=1, keepdims=True) * (1 - 1e-9)
        return self.z_grid_[np.argmax(peak, axis=1)]

    def predict_redshift(self, X):
        """Photometric redshifts, shape (n_samples,): :meth:`predict`, as the pairs name it."""
        return self.predict(X)

    def score(self, X, y, sample_weight=None):
        """R^2 of :meth:`predict` on the redshifts of ``y`` (1-D, or a joint target)."""
        check_is_fitted(self)
        redshift = _training_redshifts(y)
        return float(r2_score(redshift, self.predict(X), sample_weight=sample_weight))
