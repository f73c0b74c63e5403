"""SED templates: synthetic photometry and template labelling of galaxies.

Templates and filter curves come from pip packages (desc-bpz's B2004a set,
sedpy's filter curves); the synthetic photometry is sedpy's photon-counting
AB magnitudes. What sedpy does not do is fit templates with a free
normalisation over many galaxies at once, so that part is written here.
"""

from __future__ import annotations

import os
from numbers import Integral, Real
from pathlib import Path

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils._tags import RegressorTags
from sklearn.utils.validation import check_is_fitted, validate_data

from ._validation import SENTINELS, split_targets, to_numeric_frame

#: The six desc-bpz templates (Benitez 2004 recalibration of CWW + Kinney).
BPZ_TEMPLATES = ("El_B2004a", "Sbc_B2004a", "Scd_B2004a", "Im_B2004a", "SB3_B2004a", "SB2_B2004a")
#: Early-type templates of each built-in set.
EARLY_TYPE_TEMPLATES = {"bpz": ("El_B2004a",), "cww_kinney": ("CWW_E_ext",)}


def load_templates(templates="bpz", early_type_templates=None):
    """Load SED templates as (names, wavelength list, F_lambda list, early-type mask).

    Parameters
    ----------
    templates : "bpz" or path-like
        ``"bpz"`` for desc-bpz's six B2004a templates, or a folder of
        LePhare-style ``.sed`` files (two columns: Angstrom, F_lambda), read in
        sorted order.
    early_type_templates : sequence of str, optional
        Template names (file stems) that count as early type. Defaults to the
        elliptical of the built-in sets (``El_B2004a``, ``CWW_E_ext``).

    Returns
    -------
    names : list of str
    waves, fluxes : list of ndarray
    early : ndarray of bool

    Examples
    --------
    >>> from skphotoz.sed import load_templates
    >>> names, waves, fluxes, early = load_templates()
    >>> names[0], early.tolist()
    ('El_B2004a', [True, False, False, False, False, False])
    """
    if isinstance(templates, str) and templates == "bpz":
        import desc_bpz

        folder = Path(desc_bpz.__file__).parent / "data_files" / "SED"
        paths = [folder / f"{name}.sed" for name in BPZ_TEMPLATES]
    else:
        folder = Path(templates)
        paths = sorted(folder.glob("*.sed"))
        if not paths:
            raise ValueError(f"No .sed template files in {folder}.")
    names = [p.stem for p in paths]
    if early_type_templates is None:
        early_type_templates = {n for group in EARLY_TYPE_TEMPLATES.values() for n in group}
    unknown = set(early_type_templates) - set(names)
    if unknown and not (set(early_type_templates) & set(names)):
        raise ValueError(
            f"None of the early-type templates {sorted(early_type_templates)} is among the "
            f"templates {names}."
        )
    waves, fluxes = [], []
    for path in paths:
        data = np.loadtxt(path, usecols=(0, 1))
        waves.append(data[:, 0])
        fluxes.append(data[:, 1])
    early = np.array([name in set(early_type_templates) for name in names])
    return names, waves, fluxes, early


def load_bands(bands):
    """Load sedpy filters by name, with a clear error for unknown names."""
    from sedpy import observate

    known = set(observate.list_available_filters())
    unknown = [b for b in bands if b not in known]
    if unknown:
        raise ValueError(
            f"Unknown band(s) {unknown}; sedpy knows e.g. "
            f"{sorted(b for b in known if b.startswith(('sdss', 'twomass', 'cfht')))}."
        )
    return observate.load_filters(list(bands))


def madau_igm_transmission(wavelength_observed, redshift):
    """Madau (1995) mean IGM transmission exp(-tau) at observed wavelengths.

    Lyman-series line blanketing (Lyman alpha to delta) plus the approximate
    photoelectric absorption below the Lyman limit, as in BPZ's
    ``etau_madau``; below the wavelength of maximum optical depth the depth
    is held at its maximum (BPZ's fix for the formula's upturn near 912 A).

    Examples
    --------
    >>> from skphotoz.sed import madau_igm_transmission
    >>> round(float(madau_igm_transmission([4500.0], 3.0)[0]), 3)  # Ly-alpha forest at z=3
    0.717
    """
    wl = np.asarray(wavelength_observed, dtype=float)
    xe = 1.0 + redshift
    tau = np.zeros_like(wl)
    for coeff, line in zip(
        (3.6e-3, 1.7e-3, 1.2e-3, 9.3e-4), (1216.0, 1026.0, 973.0, 950.0), strict=True
    ):
        tau += np.where(wl <= line * xe, coeff * (wl / line) ** 3.46, 0.0)
    xc = np.maximum(wl / 912.0, 1e-12)
    photo = (
        0.25 * xc**3 * (xe**0.46 - xc**0.46)
        + 9.4 * xc**1.5 * (xe**0.18 - xc**0.18)
        - 0.7 * xc**3 * (xc**-1.32 - xe**-1.32)
        - 0.023 * (xe**1.68 - xc**1.68)
    )
    tau += np.where(wl <= 912.0 * xe, photo, 0.0)
    if tau.size and np.any(tau > 0):
        peak = int(np.argmax(tau))
        tau = np.where(wl < wl.flat[peak], tau.flat[peak], tau)
    return np.where(tau > 700.0, 0.0, np.exp(-tau))


def calzetti_k(wavelength_rest):
    """Calzetti et al. (2000) starburst attenuation curve k(lambda), lambda in Angstrom.

    Extrapolated linearly below 1200 A and above 2.2 micron, floored at 0.
    """
    lam = np.asarray(wavelength_rest, dtype=float) / 1e4
    lam_c = np.clip(lam, 0.12, 2.2)
    blue = 2.659 * (-2.156 + 1.509 / lam_c - 0.198 / lam_c**2 + 0.011 / lam_c**3) + 4.05
    red = 2.659 * (-1.857 + 1.040 / lam_c) + 4.05
    k = np.where(lam_c < 0.63, blue, red)
    # Beyond the fitted range, continue along the dominant term's slope.
    k = np.where(lam < 0.12, k + (0.12 - lam) * 2.659 * 1.509 / 0.12**2, k)
    k = np.where(lam > 2.2, k - (lam - 2.2) * 2.659 * 1.040 / 2.2**2, k)
    return np.maximum(k, 0.0)


def _filter_curves(bands):
    """(name, wavelength, transmission) for sedpy names or user curves."""
    names = [b for b in bands if isinstance(b, str)]
    loaded = iter(load_bands(names)) if names else iter(())
    curves = []
    for band in bands:
        if isinstance(band, str):
            f = next(loaded)
            curves.append(
                (band, np.asarray(f.wavelength, float), np.asarray(f.transmission, float))
            )
        else:
            name, wave, trans = band
            curves.append((str(name), np.asarray(wave, float), np.asarray(trans, float)))
    return curves


def template_magnitudes(waves, fluxes, bands, redshift_grid, igm=True, ebv=0.0):
    """AB magnitudes of each template redshifted to each grid point.

    Photon-counting synthetic photometry, as sedpy computes it:
    m_AB = -2.5 log10( int f_lambda T lambda dlambda / int f_AB T lambda dlambda ),
    with f_AB = 3631 Jy c / lambda^2; evaluated on each filter's own
    wavelength grid for all redshifts at once (sedpy's ``getSED`` would need a
    call per redshift). The template flux is redshifted as
    f_obs(lambda) = f_rest(lambda / (1 + z)) / (1 + z), optionally attenuated
    by Calzetti dust (``ebv``, rest frame) and the Madau IGM (``igm``).

    Returns an array of shape (n_templates, n_redshifts, n_bands), ``inf``
    where a band falls outside a template's coverage.

    Examples
    --------
    >>> from skphotoz.sed import load_templates, template_magnitudes
    >>> _, waves, fluxes, _ = load_templates()
    >>> template_magnitudes(waves, fluxes, ["sdss_g0", "sdss_r0"], [0.0, 0.5]).shape
    (6, 2, 2)
    """
    z = np.asarray(redshift_grid, dtype=float)
    curves = _filter_curves(bands)
    out = np.full((len(waves), len(z), len(curves)), np.inf)
    c_angstrom = 2.998e18
    for b, (_, lam, trans) in enumerate(curves):
        f_ab = 3631e-23 * c_angstrom / lam**2
        norm = np.trapezoid(f_ab * trans * lam, lam)
        rest = lam[None, :] / (1 + z[:, None])  # (z, lambda)
        igm_t = (
            np.stack([madau_igm_transmission(lam, zz) for zz in z]) if igm else np.ones_like(rest)
        )
        dust = 10 ** (-0.4 * calzetti_k(rest) * ebv) if ebv else 1.0
        for t, (wave, flux) in enumerate(zip(waves, fluxes, strict=True)):
            inside = (rest >= wave[0]) & (rest <= wave[-1])
            f_obs = np.interp(rest, wave, flux, left=0.0, right=0.0) / (1 + z[:, None])
            counts = np.trapezoid(f_obs * igm_t * dust * trans * lam, lam, axis=1)
            covered = inside[:, trans > 0.01 * trans.max()].all(axis=1)
            with np.errstate(divide="ignore", invalid="ignore"):
                mags = -2.5 * np.log10(counts / norm)
            out[t, :, b] = np.where(covered & (counts > 0), mags, np.inf)
    return out


def _free_normalisation_chi2(obs_mags, obs_err, model_mags):
    """Chi-square of each galaxy against each model with the best-fit scale.

    In flux space f = 10^(-0.4 m), the best scale a of model F for data f
    with errors s is a = sum(f F / s^2) / sum(F^2 / s^2), and
    chi2 = sum(f^2/s^2) - a * sum(f F / s^2). Missing bands carry zero weight.
    """
    flux = 10 ** (-0.4 * np.nan_to_num(obs_mags, nan=99.0))
    weight = np.where(np.isfinite(obs_mags), 1.0 / (0.4 * np.log(10) * obs_err * flux) ** 2, 0.0)
    model = np.where(
        np.isfinite(model_mags),
        10 ** (-0.4 * np.where(np.isfinite(model_mags), model_mags, 0.0)),
        0.0,
    )
    # obs: (n, b); model: (n, t, b) -> (n, t)
    ff = np.einsum("nb,nb->n", flux * flux, weight)
    fm = np.einsum("nb,ntb->nt", flux * weight, model)
    mm = np.einsum("nb,ntb->nt", weight, model * model)
    return ff[:, None] - fm**2 / np.where(mm > 0, mm, np.inf)


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
    missing bands (NaN or a sentinel) are left out of that galaxy's
    chi-square.

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
    >>> from skphotoz.sed import label_by_template, load_templates, template_magnitudes
    >>> bands = ["sdss_u0", "sdss_g0", "sdss_r0", "sdss_i0", "sdss_z0"]
    >>> _, waves, fluxes, _ = load_templates()
    >>> mags = template_magnitudes(waves, fluxes, bands, [0.1])[:, 0, :]  # each template at z=0.1
    >>> label_by_template(mags[[0, 3]], [0.1, 0.1], bands)[0].tolist()
    ['ET', 'LT']
    """
    mags = np.array(magnitudes, dtype=float)
    mags[np.isin(mags, SENTINELS)] = np.nan
    redshift = np.asarray(redshift, dtype=float)
    if mags.ndim != 2 or mags.shape[1] != len(bands):
        raise ValueError(f"magnitudes must have shape (n, {len(bands)}); got {mags.shape}.")
    if len(redshift) != len(mags) or not np.all(np.isfinite(redshift)) or np.any(redshift < 0):
        raise ValueError("redshift must be finite, >= 0 and have one value per galaxy.")
    errors = (
        np.zeros_like(mags) if magnitude_errors is None else np.asarray(magnitude_errors, float)
    )
    errors = np.sqrt(np.nan_to_num(errors, nan=0.0) ** 2 + error_floor**2)

    _, waves, fluxes, early = load_templates(templates, early_type_templates)
    grid = np.arange(0.0, redshift.max() + 2 * grid_step, grid_step)
    table = template_magnitudes(waves, fluxes, bands, grid)  # (t, z, b)
    position = np.interp(redshift, grid, np.arange(len(grid)))
    lo = np.floor(position).astype(int)
    hi = np.minimum(lo + 1, len(grid) - 1)
    frac = (position - lo)[:, None, None]
    model = (1 - frac) * table[:, lo].transpose(1, 0, 2) + frac * table[:, hi].transpose(1, 0, 2)
    chi2 = _free_normalisation_chi2(mags, errors, model)
    best = np.argmin(chi2, axis=1)
    return np.where(early[best], "ET", "LT"), best


def _interpolated_templates(waves, fluxes, early, n_between):
    """Add ``n_between`` linear mixtures between adjacent templates.

    Templates are normalised at 5500 A before mixing, so the mixtures step
    evenly in colour; a mixture counts as early type only if both parents do.
    """
    if n_between == 0:
        return waves, fluxes, early
    out_w, out_f, out_e = [], [], []
    for k in range(len(waves)):
        norm_k = np.interp(5500.0, waves[k], fluxes[k])
        out_w.append(waves[k])
        out_f.append(fluxes[k] / norm_k)
        out_e.append(early[k])
        if k + 1 == len(waves):
            break
        grid = np.union1d(waves[k], waves[k + 1])
        a = np.interp(grid, waves[k], fluxes[k]) / norm_k
        b_flux = np.interp(grid, waves[k + 1], fluxes[k + 1])
        b = b_flux / np.interp(5500.0, grid, b_flux)
        for step in range(1, n_between + 1):
            w = step / (n_between + 1)
            out_w.append(grid)
            out_f.append((1 - w) * a + w * b)
            out_e.append(bool(early[k] and early[k + 1]))
    return out_w, out_f, np.array(out_e)


class SEDTemplateFitter(ClassifierMixin, BaseEstimator):
    """Template-fitting photo-z and type at once, like LePhare (the paper's baseline).

    Every galaxy is compared with every template at every redshift of a grid
    (optionally with Calzetti dust); the chi-square with a free
    normalisation is computed analytically, vectorised over galaxies x
    templates x redshifts. The best fit gives the redshift and, through its
    template, the type (LePhare's MOD_BEST: the elliptical means early type).
    No redshift prior is used (maximum likelihood).

    Parameters
    ----------
    bands : list
        One entry per magnitude column: a sedpy filter name (e.g.
        ``"sdss_r0"``, ``"cfht_megacam_rs_9601"``, ``"twomass_Ks"``) or a
        ``(name, wavelength_angstrom, transmission)`` curve.
    templates : "bpz" or path-like, default="bpz"
        desc-bpz's six B2004a templates, or a folder of LePhare ``.sed`` files.
    early_type_templates : sequence of str, optional
        Names of early-type templates (default: the elliptical of the set).
    redshift_grid : array-like, optional
        Default ``np.arange(0, 3.001, 0.01)`` (301 steps).
    igm : bool, default=True
        Madau (1995) IGM attenuation.
    ebv_grid : tuple of float, default=(0.0,)
        E(B-V) values of Calzetti (2000) attenuation to try.
    interpolate_templates : int, default=0
        Mixtures added between adjacent templates.
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
    type_column, redshift_column : str
        Column names for tabular ``y``.

    Attributes
    ----------
    classes_ : ndarray, ["ET", "LT"] or the training labels' classes
    template_names_ : list of str
    early_type_ : ndarray of bool, per template (after interpolation)
    model_magnitudes_ : ndarray (n_models, n_redshifts, n_bands)
        Models are templates x E(B-V) values.
    zero_point_offsets_ : ndarray (n_bands,)
    n_features_in_ : int

    Examples
    --------
    >>> import numpy as np
    >>> from skphotoz.sed import SEDTemplateFitter, load_templates, template_magnitudes
    >>> bands = ["sdss_u0", "sdss_g0", "sdss_r0", "sdss_i0", "sdss_z0"]
    >>> _, waves, fluxes, _ = load_templates()
    >>> mags = template_magnitudes(waves, fluxes, bands, [0.4])[[0, 2], 0, :]  # El, Scd at z=0.4
    >>> fitter = SEDTemplateFitter(bands).fit(mags, [["ET", 0.4], ["LT", 0.4]])
    >>> fitter.predict(mags).tolist()
    [['ET', 0.4], ['LT', 0.4]]
    """

    _parameter_constraints = {
        "bands": ["array-like"],
        "templates": [str, os.PathLike],
        "early_type_templates": [None, "array-like"],
        "redshift_grid": [None, "array-like"],
        "igm": ["boolean"],
        "ebv_grid": ["array-like"],
        "interpolate_templates": [Interval(Integral, 0, None, closed="left")],
        "magnitude_errors": [StrOptions({"floor", "columns"})],
        "error_floor": [Interval(Real, 0, None, closed="left")],
        "adapt_zero_points": ["boolean"],
        "type_column": [str],
        "redshift_column": [str],
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
        type_column="type",
        redshift_column="redshift",
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
        self.type_column = type_column
        self.redshift_column = redshift_column

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True  # missing bands are left out of the fit
        tags.target_tags.required = False
        tags.target_tags.two_d_labels = True
        tags.target_tags.multi_output = True
        tags.target_tags.single_output = False
        tags.classifier_tags.multi_class = False
        tags.regressor_tags = RegressorTags()
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
        mags[np.isin(mags, SENTINELS) | ~np.isfinite(mags)] = np.nan
        all_missing = np.isnan(mags).all(axis=1)
        if all_missing.any():
            raise ValueError(
                f"{all_missing.sum()} galaxy(ies) have no valid magnitude in any band "
                f"(rows {np.flatnonzero(all_missing)[:10].tolist()}...)."
            )
        errors = (
            np.nan_to_num(X[:, n_bands:], nan=0.0)
            if self.magnitude_errors == "columns"
            else np.zeros_like(mags)
        )
        return mags, np.sqrt(errors**2 + self.error_floor**2)

    def _build_models(self):
        names, waves, fluxes, early = load_templates(self.templates, self.early_type_templates)
        waves, fluxes, early = _interpolated_templates(
            waves, fluxes, early, self.interpolate_templates
        )
        grid = (
            np.arange(0.0, 3.001, 0.01)
            if self.redshift_grid is None
            else np.asarray(self.redshift_grid, dtype=float)
        )
        tables = [
            template_magnitudes(waves, fluxes, list(self.bands), grid, igm=self.igm, ebv=float(ebv))
            for ebv in self.ebv_grid
        ]
        self.template_names_ = names
        self.early_type_ = np.tile(early, len(tables))
        self.model_magnitudes_ = np.concatenate(tables, axis=0)
        self.redshift_grid_ = grid

    def _chi2(self, mags, errors):
        """Chi-square of shape (n_galaxies, n_models, n_redshifts).

        Fluxes are divided by each galaxy's brightest band first: the fit has
        a free scale, so chi-square is unchanged, and the numbers stay well
        inside float range (raw inverse variances reach 1e22).
        """
        n_models, n_z, n_bands = self.model_magnitudes_.shape
        model = 10 ** (-0.4 * self.model_magnitudes_.reshape(-1, n_bands))  # inf mag -> 0
        model /= model.max()
        rel = mags - self.zero_point_offsets_
        flux = 10 ** (-0.4 * (rel - np.nanmin(rel, axis=1, keepdims=True)))
        weight = np.where(np.isfinite(rel), 1.0 / (0.4 * np.log(10) * errors * flux) ** 2, 0.0)
        flux = np.nan_to_num(flux, nan=0.0)
        fw = flux * weight
        ff = np.einsum("nb,nb->n", fw, flux)
        fm = fw @ model.T
        mm = weight @ (model * model).T
        chi2 = np.full_like(fm, np.inf)
        np.divide(fm * fm, mm, out=chi2, where=mm > 0)
        chi2 = np.where(mm > 0, ff[:, None] - chi2, np.inf)
        return chi2.reshape(len(mags), n_models, n_z)

    def _fit_at_redshift(self, mags, errors, redshift):
        """Best model magnitudes (scaled) of each galaxy at a known redshift."""
        index = np.clip(
            np.searchsorted(self.redshift_grid_, redshift), 0, len(self.redshift_grid_) - 1
        )
        models = self.model_magnitudes_[:, index].transpose(1, 0, 2)  # (n, models, bands)
        chi2 = _free_normalisation_chi2(mags - self.zero_point_offsets_, errors, models)
        best = np.argmin(chi2, axis=1)
        chosen = models[np.arange(len(mags)), best]
        flux = 10 ** (-0.4 * np.nan_to_num(mags, nan=99.0))
        model_flux = 10 ** (-0.4 * chosen)
        w = np.where(np.isfinite(mags), 1 / errors**2, 0.0)
        scale = (w * flux * model_flux).sum(1) / (w * model_flux**2).sum(1)
        return chosen - 2.5 * np.log10(scale)[:, None]

    # ----------------------------------------------------------------- API
    def fit(self, X, y=None):
        """Build the model grid; with ``adapt_zero_points``, learn band offsets from spec-z.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_bands) or (n_samples, 2 n_bands)
        y : joint target [type, redshift], optional
            Needed only for ``adapt_zero_points`` and for the label names.
        """
        self._validate_params()
        mags, errors = self._split_X(X, reset=True)
        self._build_models()
        self.zero_point_offsets_ = np.zeros(len(self.bands))
        self.classes_ = np.array(["ET", "LT"])
        if y is not None:
            types, redshift = split_targets(y, self.type_column, self.redshift_column)
            classes = np.unique(types)
            if len(classes) == 2:
                self.classes_ = classes
            if self.adapt_zero_points:
                for _ in range(3):  # a few passes converge (LePhare iterates likewise)
                    model = self._fit_at_redshift(mags, errors, redshift)
                    self.zero_point_offsets_ += np.nanmedian(
                        mags - self.zero_point_offsets_ - model, axis=0
                    )
        elif self.adapt_zero_points:
            raise ValueError("adapt_zero_points=True needs y with spectroscopic redshifts.")
        return self

    def _likelihood(self, X):
        check_is_fitted(self)
        chi2 = self._chi2(*self._split_X(X, reset=False))
        shifted = chi2 - chi2.reshape(len(chi2), -1).min(axis=1)[:, None, None]
        return chi2, np.exp(-0.5 * shifted)

    def predict_template(self, X):
        """Index of the best-fitting model (the MOD_BEST analogue, 0-based)."""
        chi2, _ = self._likelihood(X)
        return np.argmin(chi2.reshape(len(chi2), -1), axis=1) // chi2.shape[2]

    def predict(self, X):
        """Joint ``[type, z_best]``; the type is that of the best-fit template."""
        chi2, _ = self._likelihood(X)
        flat = np.argmin(chi2.reshape(len(chi2), -1), axis=1)
        model, z_index = np.divmod(flat, chi2.shape[2])
        out = np.empty((len(chi2), 2), dtype=object)
        out[:, 0] = np.where(self.early_type_[model], self.classes_[0], self.classes_[1])
        out[:, 1] = self.redshift_grid_[z_index]
        return out

    def predict_redshift(self, X):
        """Best-fit redshift, shape (n,)."""
        return self.predict(X)[:, 1].astype(float)

    def predict_proba(self, X):
        """[P(ET), P(LT)] from the likelihood summed over redshift and models."""
        _, like = self._likelihood(X)
        per_model = like.sum(axis=2)
        total = per_model.sum(axis=1)
        p_early = per_model[:, self.early_type_].sum(axis=1) / total
        return np.column_stack([p_early, 1 - p_early])

    def predict_pdf(self, X):
        """p(z) on ``redshift_grid_``, normalised to unit sum, shape (n, n_redshifts)."""
        _, like = self._likelihood(X)
        pdf = like.sum(axis=1)
        return pdf / pdf.sum(axis=1, keepdims=True)

    def score(self, X, y):
        """Joint score -(BCE + MSE), as :meth:`skphotoz.JointMorphZ.score`."""
        from .metrics import joint_score

        types, redshift = split_targets(y, self.type_column, self.redshift_column)
        p_late = np.clip(self.predict_proba(X)[:, 1], 1e-7, 1 - 1e-7)
        return joint_score(types == self.classes_[1], p_late, redshift, self.predict_redshift(X))
