"""SED templates: synthetic photometry and template labelling of galaxies.

Templates and filter curves come from pip packages (desc-bpz's B2004a set,
sedpy's filter curves); the synthetic photometry is sedpy's photon-counting
AB magnitudes. What sedpy does not do is fit templates with a free
normalisation over many galaxies at once, so that part is written here.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ._validation import SENTINELS

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


def template_magnitudes(waves, fluxes, bands, redshift_grid):
    """AB magnitudes of each template redshifted to each grid point.

    Returns an array of shape (n_templates, n_redshifts, n_bands), with
    ``inf`` where a band falls outside a template's wavelength coverage.
    IGM absorption is not applied here (negligible for the optical bands
    below z ~ 2).
    """
    from sedpy import observate

    filters = load_bands(bands) if isinstance(bands[0], str) else bands
    out = np.full((len(waves), len(redshift_grid), len(filters)), np.inf)
    for t, (wave, flux) in enumerate(zip(waves, fluxes, strict=True)):
        for k, z in enumerate(redshift_grid):
            with np.errstate(all="ignore"):
                mags = observate.getSED(wave * (1 + z), flux / (1 + z), filterlist=filters)
            out[t, k] = np.where(np.isfinite(mags), mags, np.inf)
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
