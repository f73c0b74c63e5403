"""SED template fitting: a LePhare/BPZ-like fitter and template labelling.

The templates, filters, synthetic photometry and the BPZ prior are in
:mod:`skphotoz.baselines.templates` (re-exported here, so ``from skphotoz.baselines.sed import
load_templates`` keeps working). The fit itself is written here because no
pip library does it for many galaxies at once: desc-bpz's ``p_c_z_t`` /
``likelihood`` compute the same free-normalisation chi-square one galaxy at a
time in a Python loop, and sedpy only does photometry. Here the chi-square is
two matrix products over galaxies x (templates x redshifts), in float64
(the chi-square cancels; see ``_scan``) and in chunks of galaxies so memory
stays bounded.
"""

from __future__ import annotations

import os
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils import Bunch
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data

from skphotoz.baselines.templates import (
    BPZ_TEMPLATES,
    CWW_KINNEY_ORDER,
    EARLY_TYPE_TEMPLATES,
    calzetti_k,
    filter_curves,
    hdfn_prior,
    interpolated_templates,
    load_bands,
    load_templates,
    madau_igm_transmission,
    template_magnitudes,
)
from skphotoz.catalogs.photometry import placeholder_mask
from skphotoz.validation import (
    EARLY_LABEL_CONSTRAINT,
    check_joint_target,
    joint_target_tags,
    late_type_flags,
    split_targets,
    to_numeric_frame,
    type_classes,
)

__all__ = [
    "BPZ_TEMPLATES",
    "CWW_KINNEY_ORDER",
    "EARLY_TYPE_TEMPLATES",
    "SEDTemplateFitter",
    "calzetti_k",
    "hdfn_prior",
    "label_by_template",
    "load_bands",
    "load_templates",
    "madau_igm_transmission",
    "template_magnitudes",
]


def _free_normalisation_chi2(obs_mags, obs_err, model_mags):
    """Chi-square of each galaxy against each model with the best-fit scale.

    In flux space f = 10^(-0.4 m), the best scale a of model F for data f
    with errors s is a = sum(f F / s^2) / sum(F^2 / s^2), and
    chi2 = sum(f^2/s^2) - a * sum(f F / s^2). Missing bands carry zero weight.
    Fluxes are taken relative to each galaxy's brightest band (the free scale
    absorbs it) so the sums stay far from float overflow.
    """
    rel = obs_mags - np.nanmin(obs_mags, axis=1, keepdims=True)
    flux = 10 ** (-0.4 * np.nan_to_num(rel, nan=99.0))
    weight = np.where(np.isfinite(rel), 1.0 / (0.4 * np.log(10) * obs_err * flux) ** 2, 0.0)
    model = 10 ** (-0.4 * np.where(np.isfinite(model_mags), model_mags, 99.0))
    model /= model.max(axis=-1, keepdims=True)
    # obs: (n, b); model: (n, t, b) -> (n, t)
    ff = np.einsum("nb,nb->n", flux * flux, weight)
    fm = np.einsum("nb,ntb->nt", flux * weight, model)
    mm = np.einsum("nb,ntb->nt", weight, model * model)
    return ff[:, None] - fm**2 / np.where(mm > 0, mm, np.inf)


def _models_at_redshift(table, grid, redshift):
    """Model magnitudes linearly interpolated to each galaxy's redshift: (n, models, bands)."""
    position = np.interp(redshift, grid, np.arange(len(grid)))
    lo = np.floor(position).astype(int)
    hi = np.minimum(lo + 1, len(grid) - 1)
    frac = (position - lo)[:, None, None]
    with np.errstate(invalid="ignore"):  # inf - inf where a band leaves the coverage
        model = (1 - frac) * table[:, lo].transpose(1, 0, 2) + frac * table[:, hi].transpose(
            1, 0, 2
        )
    return np.where(np.isnan(model), np.inf, model)


def label_by_template(
    magnitudes,
    redshift,
    bands,
    templates="bpz",
    early_type_templates=None,
    magnitude_errors=None,
    error_floor=0.05,
    grid_step=0.002,
):
    """Label galaxies ET/LT by the best-fitting template at their known redshift.

    This is how OTELO labelled its galaxies (LePhare's MOD_BEST: template 1,
    the elliptical, means early type). Each template is placed at the
    galaxy's spectroscopic redshift (linear interpolation of the synthetic
    magnitudes on a fine redshift grid) and fitted with a free normalisation;
    missing bands (NaN, inf or a catalog placeholder: -99, 99, 0,
    ``|m| >= 90``, :func:`~skphotoz.catalogs.photometry.placeholder_mask`)
    are left out of that galaxy's chi-square.

    Parameters
    ----------
    magnitudes : array-like of shape (n_galaxies, n_bands)
        AB magnitudes.
    redshift : array-like of shape (n_galaxies,)
        Spectroscopic redshifts.
    bands : list of str
        sedpy filter names, one per column.
    templates, early_type_templates
        See :func:`load_templates`.
    magnitude_errors : array-like, optional
        1-sigma errors; combined in quadrature with ``error_floor``.
    error_floor : float, default=0.05
        Systematic floor in magnitudes (template mismatch, zero points).
    grid_step : float, default=0.002
        Redshift grid spacing for the interpolation.

    Returns
    -------
    labels : ndarray of str, "ET" or "LT"
    best_template : ndarray of int
        Index into the template list (the MOD_BEST analogue, 0-based).

    Examples
    --------
    >>> import numpy as np
    >>> from skphotoz.baselines.sed import label_by_template
    >>> from skphotoz.baselines.templates import load_templates, template_magnitudes
    >>> bands = ["sdss_u0", "sdss_g0", "sdss_r0", "sdss_i0", "sdss_z0"]
    >>> _, waves, fluxes, _ = load_templates()
    >>> mags = template_magnitudes(waves, fluxes, bands, [0.1])[:, 0, :]  # each template at z=0.1
    >>> label_by_template(mags[[0, 3]], [0.1, 0.1], bands)[0].tolist()
    ['ET', 'LT']
    """
    mags = np.array(magnitudes, dtype=float)
    mags[placeholder_mask(mags)] = np.nan
    redshift = np.asarray(redshift, dtype=float)
    if mags.ndim != 2 or mags.shape[1] != len(bands):
        raise ValueError(f"magnitudes must have shape (n, {len(bands)}); got {mags.shape}.")
    if len(redshift) != len(mags) or not np.all(np.isfinite(redshift)) or np.any(redshift < 0):
        raise ValueError("redshift must be finite, >= 0 and have one value per galaxy.")
    if np.isnan(mags).all(axis=1).any():
        raise ValueError(
            f"{np.isnan(mags).all(axis=1).sum()} galaxy(ies) have no valid magnitude in any band."
        )
    errors = (
        np.zeros_like(mags) if magnitude_errors is None else np.asarray(magnitude_errors, float)
    )
    errors = np.sqrt(np.nan_to_num(errors, nan=0.0) ** 2 + error_floor**2)
    if np.any((errors <= 0) & np.isfinite(mags)):
        raise ValueError("Zero magnitude errors: give magnitude_errors or error_floor > 0.")

    _, waves, fluxes, early = load_templates(templates, early_type_templates)
    grid = np.arange(0.0, redshift.max() + 2 * grid_step, grid_step)
    table = template_magnitudes(waves, fluxes, bands, grid)  # (t, z, b)
    chi2 = _free_normalisation_chi2(mags, errors, _models_at_redshift(table, grid, redshift))
    best = np.argmin(chi2, axis=1)
    return np.where(early[best], "ET", "LT"), best


#: Magnitudes at which the BPZ prior is tabulated (BPZ quantises m_0 to 0.1 mag likewise).
_PRIOR_MAGNITUDES = np.round(np.arange(20.0, 32.05, 0.1), 1)


class SEDTemplateFitter(ClassifierMixin, BaseEstimator):
    """Template-fitting photo-z and type at once, like LePhare and BPZ (the paper's baseline).

    Every galaxy is compared with every template at every redshift of a grid
    (optionally with Calzetti dust and mixtures of adjacent templates); the
    chi-square with a free normalisation is computed analytically,
    vectorised over galaxies x templates x redshifts, in float64 and in
    chunks of galaxies (memory stays bounded for any catalog size).

    By default (``prior="hdfn"``) the likelihood is multiplied by BPZ's HDF-N
    prior p(z, T | m) and, as BPZ's ``zb``/``tb``, the redshift is the mode
    of the posterior summed over models and the template the most probable
    one at that redshift. (BPZ also smooths p(z) with a Gaussian of
    0.05 (1 + z) before taking the mode; that is not done here.) With
    ``prior=None`` the fit is maximum likelihood, as LePhare's Z_BEST /
    MOD_BEST: the redshift and template of the smallest chi-square.

    The defaults were chosen on VIPERS, CNOC2, SDSS+2MASS and the demo
    sample against spec-z (benchmarks/results_sed.md): maximum likelihood
    over z = 0-3 with optical bands alone gives 14-32 % outliers (the
    4000 A break taken for the Lyman break at z > 2); the prior brings that
    to 3-13 % and never hurt. Template mixtures and zero-point adaptation
    help some samples and hurt others, so they stay options.

    Parameters
    ----------
    bands : list
        One entry per magnitude column: a sedpy filter name (e.g.
        ``"sdss_r0"``, ``"cfht_megacam_rs_9601"``, ``"twomass_Ks"``) or a
        ``(name, wavelength_angstrom, transmission)`` curve.
    templates : "bpz", path-like or sequence of path-like, default="bpz"
        See :func:`load_templates` (folder, ``.list`` file or ordered paths).
    early_type_templates : sequence of str, optional
        Names of early-type templates (default: the elliptical of the set).
    redshift_grid : array-like, optional
        Default ``np.arange(0, 3.001, 0.01)`` (301 steps).
    igm : bool, default=True
        Madau (1995) IGM attenuation.
    ebv_grid : tuple of float, default=(0.0,)
        E(B-V) values of Calzetti (2000) attenuation to try (for every template).
    interpolate_templates : int, default=0
        Mixtures added between adjacent templates (BPZ's INTERP); a mixture
        has the type of its nearer parent. Two mixtures helped optical-only
        samples (VIPERS, CNOC2) but hurt the 8-band demo sample.
    magnitude_errors : {"floor", "columns"}, default="floor"
        ``"columns"``: ``X`` holds the magnitudes then their 1-sigma errors
        (2 x n_bands columns). ``"floor"``: only magnitudes; each band gets
        ``error_floor``.
    error_floor : float, default=0.05
        Added in quadrature to every error (zero points, template mismatch).
    adapt_zero_points : bool, default=False
        Learn per-band zero-point offsets from the training set at its
        spectroscopic redshifts (like LePhare's AUTO_ADAPT); otherwise
        ``fit`` only validates and builds the model grid.
    prior : {"hdfn", None}, default="hdfn"
        ``"hdfn"``: BPZ's magnitude-dependent prior (:func:`hdfn_prior`),
        which curbs the high-redshift solutions of optical-only fits (the
        magnitudes must then be real AB magnitudes, not arbitrary offsets).
        None: maximum likelihood.
    prior_band : int, str or None, default=None
        Column (index or band name) whose magnitude drives the prior; None
        takes the band nearest 8140 A (the prior is calibrated in I814). A
        galaxy missing that band gets a flat prior.
    prior_types : (int, int), default=(1, 2)
        Numbers of elliptical and spiral templates at the start of the
        ordered list (the rest are irregular/starburst), for the prior.
    chunk_size : int or None, default=None
        Galaxies per chunk; None keeps each work array near 1 MB.
        Results do not depend on it.
    n_jobs : int or None, default=None
        Threads over chunks in ``predict*`` (None: 1, as in joblib).
    type_column, redshift_column : str
        Column names for tabular ``y``.
    early_label : str, int, bool or None, default=None
        The early-type label of ``y``, given to the early-type templates;
        None recognises the known pairs of labels
        (:func:`skphotoz.validation.type_classes`). Without ``y`` the labels
        are "ET" and "LT".

    Attributes
    ----------
    classes_ : ndarray of shape (2,)
        ``[early, late]``: ``["ET", "LT"]`` without ``y``, else the labels of
        ``y`` (:func:`~skphotoz.validation.type_classes`); the early-type
        templates predict ``classes_[0]``.
    template_names_ : list of str
    early_type_ : ndarray of bool, per model
    model_template_ : ndarray of float, per model
        Position in the template list (k + w for a mixture of templates k, k+1).
    model_magnitudes_ : ndarray (n_models, n_redshifts, n_bands)
        Models are (templates and mixtures) x E(B-V) values.
    redshift_grid_ : ndarray
    z_grid_ : ndarray
        ``redshift_grid_`` (read-only): the grid of :meth:`predict_pdf`'s
        densities, under the name every skphotoz PDF estimator uses.
    zero_point_offsets_ : ndarray (n_bands,)
        Subtracted from the observed magnitudes before the fit.
    prior_band_ : int or None
    n_features_in_ : int

    Examples
    --------
    >>> import numpy as np
    >>> from skphotoz.baselines.sed import SEDTemplateFitter
    >>> from skphotoz.baselines.templates import load_templates, template_magnitudes
    >>> bands = ["sdss_u0", "sdss_g0", "sdss_r0", "sdss_i0", "sdss_z0"]
    >>> _, waves, fluxes, _ = load_templates()
    >>> mags = template_magnitudes(waves, fluxes, bands, [0.4])[[0, 2], 0, :]  # El, Scd at z=0.4
    >>> fitter = SEDTemplateFitter(bands).fit(mags, [["ET", 0.4], ["LT", 0.4]])
    >>> fitter.predict(mags).tolist()
    [['ET', 0.4], ['LT', 0.4]]
    """

    _parameter_constraints = {
        "bands": ["array-like"],
        "templates": [str, os.PathLike, "array-like"],
        "early_type_templates": [None, "array-like"],
        "redshift_grid": [None, "array-like"],
        "igm": ["boolean"],
        "ebv_grid": ["array-like"],
        "interpolate_templates": [Interval(Integral, 0, None, closed="left")],
        "magnitude_errors": [StrOptions({"floor", "columns"})],
        "error_floor": [Interval(Real, 0, None, closed="left")],
        "adapt_zero_points": ["boolean"],
        "prior": [None, StrOptions({"hdfn"})],
        "prior_band": [None, Interval(Integral, 0, None, closed="left"), str],
        "prior_types": [tuple, list],
        "chunk_size": [None, Interval(Integral, 1, None, closed="left")],
        "n_jobs": [None, Integral],
        "type_column": [str],
        "redshift_column": [str],
        "early_label": EARLY_LABEL_CONSTRAINT,
    }

    def __init__(
        self,
        bands,
        *,
        templates="bpz",
        early_type_templates=None,
        redshift_grid=None,
        igm=True,
        ebv_grid=(0.0,),
        interpolate_templates=0,
        magnitude_errors="floor",
        error_floor=0.05,
        adapt_zero_points=False,
        prior="hdfn",
        prior_band=None,
        prior_types=(1, 2),
        chunk_size=None,
        n_jobs=None,
        type_column="type",
        redshift_column="redshift",
        early_label=None,
    ):
        self.bands = bands
        self.templates = templates
        self.early_type_templates = early_type_templates
        self.redshift_grid = redshift_grid
        self.igm = igm
        self.ebv_grid = ebv_grid
        self.interpolate_templates = interpolate_templates
        self.magnitude_errors = magnitude_errors
        self.error_floor = error_floor
        self.adapt_zero_points = adapt_zero_points
        self.prior = prior
        self.prior_band = prior_band
        self.prior_types = prior_types
        self.chunk_size = chunk_size
        self.n_jobs = n_jobs
        self.type_column = type_column
        self.redshift_column = redshift_column
        self.early_label = early_label

    def __sklearn_tags__(self):
        # y is optional: it only names the classes and feeds zero-point adaptation.
        tags = joint_target_tags(super().__sklearn_tags__(), required=False)
        tags.input_tags.allow_nan = True  # missing bands are left out of the fit
        return tags

    # ------------------------------------------------------------- helpers
    def _split_X(self, X, reset):
        X = validate_data(
            self, to_numeric_frame(X), reset=reset, ensure_all_finite=False, dtype=np.float64
        )
        n_bands = len(self.bands)
        expected = 2 * n_bands if self.magnitude_errors == "columns" else n_bands
        if X.shape[1] != expected:
            raise ValueError(
                f"X has {X.shape[1]} columns but {n_bands} bands were given"
                + (
                    " (magnitude_errors='columns' expects magnitudes then errors)"
                    if self.magnitude_errors == "columns"
                    else ""
                )
                + "."
            )
        mags = X[:, :n_bands].copy()
        # The whole catalog policy, 0 included: these columns are AB magnitudes, one
        # per filter curve, never indicators or colours, so a 0 can only be a
        # placeholder, and a missing band is simply left out of the chi-square.
        mags[placeholder_mask(mags)] = np.nan
        all_missing = np.isnan(mags).all(axis=1)
        if all_missing.any():
            raise ValueError(
                f"{all_missing.sum()} galaxy(ies) have no valid magnitude in any band "
                f"(rows {np.flatnonzero(all_missing)[:10].tolist()}...)."
            )
        if self.magnitude_errors == "columns":
            errors = X[:, n_bands:]
            bad = np.isfinite(mags) & ~(np.isfinite(errors) & (errors >= 0))
            if bad.any():
                raise ValueError(
                    f"{bad.sum()} observed magnitude(s) have a missing or negative error "
                    f"(error columns {sorted(set(np.flatnonzero(bad.any(axis=0)).tolist()))}, "
                    f"rows {np.flatnonzero(bad.any(axis=1))[:10].tolist()}...)."
                )
        else:
            errors = np.zeros_like(mags)
        errors = np.sqrt(np.where(np.isfinite(mags), errors, 0.0) ** 2 + self.error_floor**2)
        if np.any((errors <= 0) & np.isfinite(mags)):
            raise ValueError(
                "Some observed magnitudes have zero error: give error columns or error_floor > 0."
            )
        return mags, errors

    def _build_models(self):
        names, waves, fluxes, early = load_templates(self.templates, self.early_type_templates)
        waves, fluxes, early, position = interpolated_templates(
            waves, fluxes, early, self.interpolate_templates
        )
        grid = (
            np.round(np.arange(0.0, 3.001, 0.01), 2)
            if self.redshift_grid is None
            else np.asarray(self.redshift_grid, dtype=float)
        )
        if grid.ndim != 1 or len(grid) < 2 or np.any(np.diff(grid) <= 0) or grid[0] < 0:
            raise ValueError("redshift_grid must be increasing, >= 0, with at least 2 values.")
        if len(self.ebv_grid) == 0 or np.any(np.asarray(self.ebv_grid, dtype=float) < 0):
            raise ValueError(f"ebv_grid must hold at least one E(B-V) >= 0; got {self.ebv_grid}.")
        tables = [
            template_magnitudes(waves, fluxes, list(self.bands), grid, igm=self.igm, ebv=float(ebv))
            for ebv in self.ebv_grid
        ]
        self.template_names_ = names
        self.early_type_ = np.tile(early, len(tables))
        self.model_template_ = np.tile(position, len(tables))
        self.model_magnitudes_ = np.concatenate(tables, axis=0)
        self.redshift_grid_ = grid
        self._build_prior(len(names))

    def _build_prior(self, n_templates):
        """Tabulate the prior per 0.1 mag (plus a flat row for a missing prior band)."""
        self.prior_band_ = None
        if self.prior is None:
            return
        if isinstance(self.prior_band, str):
            names = [b if isinstance(b, str) else b[0] for b in self.bands]
            if self.prior_band not in names:
                raise ValueError(f"prior_band {self.prior_band!r} is not one of the bands {names}.")
            self.prior_band_ = names.index(self.prior_band)
        elif self.prior_band is None:
            pivots = [
                np.sqrt(np.trapezoid(t * w, w) / np.trapezoid(t / w, w))
                for _, w, t in filter_curves(self.bands)
            ]
            self.prior_band_ = int(np.argmin(np.abs(np.log(np.array(pivots) / 8140.0))))
        elif self.prior_band >= len(self.bands):
            raise ValueError(f"prior_band={self.prior_band} but there are {len(self.bands)} bands.")
        else:
            self.prior_band_ = int(self.prior_band)
        table = hdfn_prior(self.redshift_grid_, _PRIOR_MAGNITUDES, n_templates, self.prior_types)
        # Mixtures take the prior interpolated between their parents (as BPZ does).
        lo = np.floor(self.model_template_).astype(int)
        hi = np.minimum(lo + 1, n_templates - 1)
        w = self.model_template_ - lo
        per_model = (1 - w) * table[:, :, lo] + w * table[:, :, hi]  # (m, z, models)
        flat = np.full((1,) + per_model.shape[1:], 1.0 / per_model[0].size)
        prior = np.concatenate([per_model, flat]).transpose(0, 2, 1)  # (m, models, z)
        with np.errstate(divide="ignore"):  # BPZ zeroes the prior's far tails
            self.log_prior_table_ = np.log(prior.reshape(len(prior), -1))

    def _fit_at_redshift(self, mags, errors, redshift):
        """Best model magnitudes (scaled) of each galaxy at a known redshift."""
        out = np.empty_like(mags)
        for start in range(0, len(mags), 2048):
            rows = slice(start, start + 2048)
            models = _models_at_redshift(
                self.model_magnitudes_, self.redshift_grid_, redshift[rows]
            )
            m = mags[rows] - self.zero_point_offsets_
            chi2 = _free_normalisation_chi2(m, errors[rows], models)
            chosen = models[np.arange(len(m)), np.argmin(chi2, axis=1)]
            # Chi-square best scale a = sum(1 / (s^2 r)) / sum(1 / (s^2 r^2)), r = data / model.
            valid = np.isfinite(m) & np.isfinite(chosen)
            r = 10 ** (-0.4 * np.where(valid, m - chosen, 0.0))
            w = valid / errors[rows] ** 2
            scale = np.sum(w / r, axis=1) / np.sum(w / r**2, axis=1)
            out[rows] = chosen - 2.5 * np.log10(scale)[:, None]
        return out

    def _chunk_rows(self, n_columns):
        if self.chunk_size is not None:
            return int(self.chunk_size)
        return max(1, (1 << 20) // (8 * n_columns))  # ~1 MB work arrays stay in cache: fastest

    def _scan(self, X, proba=True, pdf=False):
        """One pass over the galaxies, chunk by chunk: best model and z, P(ET), p(z).

        For each chunk the chi-square (c, models x z) is two float64 matrix
        products, then turned in place into the likelihood (times the
        prior); every output is a reduction of that one array. Chunks run in
        ``n_jobs`` threads with single-threaded BLAS: with only 8 bands the
        products are too thin for BLAS threads to pay (10x slower measured on
        a loaded 2-core machine), while numpy releases the GIL chunk-wide.
        """
        from joblib import Parallel, delayed
        from threadpoolctl import threadpool_limits

        check_is_fitted(self)
        mags, errors = self._split_X(X, reset=False)
        mags = mags - self.zero_point_offsets_
        n_models, n_z, n_bands = self.model_magnitudes_.shape
        model = 10 ** (-0.4 * self.model_magnitudes_.reshape(-1, n_bands))  # inf mag -> 0
        model_t = np.ascontiguousarray((model / model.max()).T, dtype=np.float64)
        # Fluxes relative to each galaxy's brightest band: the free scale absorbs it, and
        # float32 stays far from overflow (raw inverse flux variances reach 1e22).
        # Bands more than 20 mag below the brightest (non-detections either way) are held
        # at 20 mag and errors at >= 0.001 mag (BPZ's MIN_MAGERR), so float32 cannot overflow.
        rel = np.minimum(mags - np.nanmin(mags, axis=1, keepdims=True), 20.0)
        flux = 10 ** (-0.4 * rel)
        sigma = 0.4 * np.log(10) * np.maximum(errors, 1e-3) * flux
        weight = np.where(np.isfinite(mags), 1.0 / sigma**2, 0.0)
        flux = np.nan_to_num(flux, nan=0.0)
        prior_row = None
        if self.prior_band_ is not None:
            m0 = mags[:, self.prior_band_] + self.zero_point_offsets_[self.prior_band_]
            bins = np.rint((np.clip(m0, 20.0, 32.0) - 20.0) / 0.1)
            prior_row = np.where(np.isnan(m0), len(_PRIOR_MAGNITUDES), bins).astype(int)
        n = len(mags)
        out = Bunch(
            best=np.empty(n, dtype=np.int64),
            p_early=np.empty(n) if proba else None,
            pdf=np.empty((n, n_z)) if pdf else None,
        )
        data = Bunch(
            # Float64: -chi2/2 = (f.w.m)^2 / (w.m^2) - f.w.f cancels where the fit is
            # good, and both terms reach ~1e6 for bright galaxies with small errors.
            # In float32 the round-off left (~0.1 in chi2) depended on how BLAS
            # split each product, so probabilities changed with the chunk size.
            fw=flux * weight * np.sqrt(0.5),
            ff=(0.5 * np.einsum("nb,nb,nb->n", flux, flux, weight))[:, None],
            weight=weight.astype(np.float64),
            prior_row=prior_row,
            model_t=model_t,
            # Floored so a model dark in all of a galaxy's bands gets chi2 = ff (as BPZ), not 0/0.
            model_sq_t=np.maximum(model_t * model_t, 1e-30),
        )
        step = self._chunk_rows(n_models * n_z)
        with threadpool_limits(1, user_api="blas"):
            Parallel(n_jobs=self.n_jobs, prefer="threads")(
                delayed(self._scan_chunk)(slice(start, start + step), data, out)
                for start in range(0, n, step)
            )
        model_index, z_index = np.divmod(out.best, n_z)
        return Bunch(model=model_index, z_index=z_index, p_early=out.p_early, pdf=out.pdf)

    def _scan_chunk(self, rows, data, out):
        n_models, n_z, _ = self.model_magnitudes_.shape
        like = data.fw[rows] @ data.model_t  # (c, models * z)
        c = len(like)
        mm = data.weight[rows] @ data.model_sq_t
        np.square(like, out=like)
        np.divide(like, mm, out=like)
        np.subtract(like, data.ff[rows], out=like)  # -chi2 / 2 (fw and ff carry the 1/2)
        if data.prior_row is not None:  # log space: the prior may be zero at the ML solution
            like += self.log_prior_table_[data.prior_row[rows]]
        if data.prior_row is None:
            out.best[rows] = np.argmax(like, axis=1)  # maximum likelihood (LePhare)
            if out.p_early is None and out.pdf is None:
                return  # predict alone needs no likelihood
        like -= like.max(axis=1, keepdims=True)
        np.exp(like, out=like)
        cube = like.reshape(c, n_models, n_z)
        # Sums as products with ones: BLAS reduces 5-10x faster than ndarray.sum here.
        if out.p_early is not None:
            per_model = cube @ np.ones(n_z)
            out.p_early[rows] = per_model[:, self.early_type_].sum(axis=1) / per_model.sum(axis=1)
        if data.prior_row is not None or out.pdf is not None:
            z_like = np.matmul(np.ones((1, n_models)), cube)[:, 0]
        if data.prior_row is not None:  # BPZ: mode of p(z), then the most probable model there
            z_best = np.argmax(z_like, axis=1)
            model_best = np.argmax(cube[np.arange(c), :, z_best], axis=1)
            out.best[rows] = model_best * n_z + z_best
        if out.pdf is not None:
            # Densities, as every skphotoz PDF (skphotoz.pdf): the likelihood summed
            # over models at each grid redshift, over its trapezoid integral on the
            # grid. The row's maximum is 1 (like was shifted), so the integral is > 0.
            z_pdf = z_like.astype(np.float64)
            mass = np.trapezoid(z_pdf, self.redshift_grid_, axis=1)
            out.pdf[rows] = z_pdf / mass[:, np.newaxis]

    # ----------------------------------------------------------------- API
    def fit(self, X, y=None):
        """Build the model grid; with ``adapt_zero_points``, learn band offsets from spec-z.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_bands) or (n_samples, 2 n_bands)
        y : joint target [type, redshift], optional
            Needed only for ``adapt_zero_points`` and for the label names:
            both types must be present, and ``early_label`` (or a known pair
            of labels) says which label the early-type templates get.

        Returns
        -------
        self
        """
        self._validate_params()
        mags, errors = self._split_X(X, reset=True)
        if y is None:
            if self.adapt_zero_points:
                raise ValueError("adapt_zero_points=True needs y with spectroscopic redshifts.")
            self.classes_ = type_classes(["ET", "LT"], self.early_label)
        else:
            types, redshift = split_targets(y, self.type_column, self.redshift_column)
            if len(types) != len(mags):
                raise ValueError(
                    f"X has {len(mags)} rows but y has {len(types)}; they must match row by row."
                )
            self.classes_ = check_joint_target(types, redshift, self.early_label)
        self._build_models()
        self.zero_point_offsets_ = np.zeros(len(self.bands))
        if self.adapt_zero_points:
            for _ in range(5):  # a few passes converge (LePhare iterates likewise)
                model = self._fit_at_redshift(mags, errors, redshift)
                step = np.nanmedian(mags - self.zero_point_offsets_ - model, axis=0)
                self.zero_point_offsets_ += np.nan_to_num(step, nan=0.0)
        return self

    def predict_all(self, X, pdf=False):
        """Every output from one pass over the data (cheaper than calling each method).

        Parameters
        ----------
        X : array-like
        pdf : bool, default=False
            Also return p(z): densities on ``redshift_grid_`` (n x n_redshifts
            floats), as :meth:`predict_pdf` with ``z_grid=None``.

        Returns
        -------
        Bunch with ``type``, ``redshift``, ``template`` (as :meth:`predict_template`),
        ``model`` (index into the models), ``proba`` (as :meth:`predict_proba`) and
        ``pdf`` (None unless asked).
        """
        return self._results(X, proba=True, pdf=pdf)

    def _results(self, X, proba, pdf):
        scan = self._scan(X, proba=proba, pdf=pdf)
        return Bunch(
            type=np.where(self.early_type_[scan.model], self.classes_[0], self.classes_[1]),
            redshift=self.redshift_grid_[scan.z_index],
            template=np.floor(self.model_template_[scan.model] + 0.5).astype(int),
            model=scan.model,
            proba=np.column_stack([scan.p_early, 1 - scan.p_early]) if proba else None,
            pdf=scan.pdf,
        )

    def predict_template(self, X):
        """Best-fit template, 0-based index into ``template_names_`` (the MOD_BEST analogue).

        A mixture of templates k and k+1 (``interpolate_templates``) counts as
        the nearer of the two; ``predict_all(X).model`` gives the exact model.
        """
        return self._results(X, proba=False, pdf=False).template

    def predict(self, X):
        """Joint ``[type, z_best]``; the type is that of the best-fit template."""
        res = self._results(X, proba=False, pdf=False)
        return np.column_stack([res.type.astype(object), res.redshift.astype(object)])

    def predict_redshift(self, X):
        """Best-fit redshift, shape (n,)."""
        return self._results(X, proba=False, pdf=False).redshift

    def predict_proba(self, X):
        """[P(ET), P(LT)] from the likelihood (times the prior) summed over z and models."""
        return self.predict_all(X).proba

    @property
    def z_grid_(self):
        """The grid :meth:`predict_pdf` tabulates p(z) on by default: ``redshift_grid_``.

        Read-only; it lets grid-agnostic tools
        (:class:`skphotoz.metrics.PDFScorer`, :func:`skphotoz.pdf.to_qp_ensemble`)
        treat the fitter as they treat the network's PDF head.
        """
        check_is_fitted(self)
        return self.redshift_grid_

    def predict_pdf(self, X, z_grid=None):
        """p(z) of every galaxy: the likelihood (times the prior) summed over models.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_bands) or (n_samples, 2 n_bands)
        z_grid : array-like of shape (n_grid,), optional
            Redshifts to tabulate p(z) on: increasing and non-negative
            (:func:`skphotoz.pdf.check_z_grid`). The fit's densities are
            interpolated linearly onto it, taken as 0 outside
            ``redshift_grid_`` (no model is fitted there), and normalised
            again on ``z_grid`` (:func:`skphotoz.pdf.normalise_pdf`): a grid
            narrower than ``redshift_grid_`` gives the PDF truncated to it.
            Default ``z_grid_`` (``redshift_grid_``), the fit's own values.

        Returns
        -------
        ndarray of shape (n_samples, n_grid)
            Densities, each row integrating to 1 over the grid by the
            trapezoid rule; a row of NaN where ``z_grid`` holds none of the
            galaxy's probability.

        Raises
        ------
        ValueError
            A ``z_grid`` that is not a valid grid, or that lies wholly
            outside ``redshift_grid_``.

        Examples
        --------
        >>> import numpy as np
        >>> from skphotoz.baselines.sed import SEDTemplateFitter
        >>> from skphotoz.baselines.templates import load_templates, template_magnitudes
        >>> bands = ["sdss_u0", "sdss_g0", "sdss_r0", "sdss_i0", "sdss_z0"]
        >>> _, waves, fluxes, _ = load_templates()
        >>> mags = template_magnitudes(waves, fluxes, bands, [0.4])[[0], 0, :]  # El at z=0.4
        >>> fitter = SEDTemplateFitter(bands, redshift_grid=np.linspace(0, 1, 101)).fit(mags)
        >>> pdf = fitter.predict_pdf(mags)
        >>> grid = fitter.z_grid_  # its redshift_grid_
        >>> round(float(np.trapezoid(pdf[0], grid)), 12), float(grid[pdf[0].argmax()])
        (1.0, 0.4)
        >>> coarse = np.linspace(0, 1, 21)  # interpolated onto another grid: still a density
        >>> round(float(np.trapezoid(fitter.predict_pdf(mags, z_grid=coarse)[0], coarse)), 12)
        1.0
        """
        pdf = self.predict_all(X, pdf=True).pdf
        if z_grid is None:
            return pdf
        from skphotoz.pdf import check_z_grid, normalise_pdf

        z_grid = check_z_grid(z_grid)
        native = self.redshift_grid_
        if z_grid[-1] < native[0] or z_grid[0] > native[-1]:
            raise ValueError(
                f"z_grid [{z_grid[0]:g}, {z_grid[-1]:g}] lies outside redshift_grid_ "
                f"[{native[0]:g}, {native[-1]:g}], where the fitter has no likelihood; "
                "choose a grid that overlaps it, or refit with another redshift_grid."
            )
        # Column-wise linear interpolation (np.interp for every row at once): the
        # bracketing native points of each new redshift, and 0 outside the native grid.
        inside = (z_grid >= native[0]) & (z_grid <= native[-1])
        j = np.clip(np.searchsorted(native, z_grid, side="right") - 1, 0, len(native) - 2)
        t = np.clip((z_grid - native[j]) / (native[j + 1] - native[j]), 0.0, 1.0)
        values = ((1 - t) * pdf[:, j] + t * pdf[:, j + 1]) * inside
        return normalise_pdf(z_grid, values)

    def score(self, X, y):
        """Joint score -(BCE + MSE), as :meth:`skphotoz.JointMorphZ.score`."""
        from skphotoz.metrics import joint_score

        check_is_fitted(self)
        types, redshift = split_targets(y, self.type_column, self.redshift_column)
        late = late_type_flags(types, self.classes_)  # an unknown label is an error
        res = self.predict_all(X)
        p_late = np.clip(res.proba[:, 1], 1e-7, 1 - 1e-7)
        return joint_score(late, p_late, redshift, res.redshift)
