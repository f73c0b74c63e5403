"""SED templates and synthetic photometry: the physics behind template fitting.

A galaxy's spectral energy distribution (SED) is modelled by a small set of
empirical templates (desc-bpz's B2004a set, LePhare's CWW_KINNEY or the
user's own), redshifted, dimmed by Calzetti (2000) dust and the Madau (1995)
intergalactic medium, and integrated through filter curves (sedpy's) into AB
magnitudes on a redshift grid. Template mixtures and BPZ's HDF-N prior
p(z, T | m) complete what a fitter needs; the fit itself lives in
:mod:`skphotoz.baselines.sed`.

Templates and filter curves come from pip packages (desc-bpz, sedpy); the
synthetic photometry is sedpy's photon-counting AB magnitudes, written here
only so that all redshifts are evaluated at once (sedpy needs a call per
redshift).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

__all__ = [
    "BPZ_TEMPLATES",
    "CWW_KINNEY_ORDER",
    "EARLY_TYPE_TEMPLATES",
    "calzetti_k",
    "hdfn_prior",
    "load_bands",
    "load_templates",
    "madau_igm_transmission",
    "template_magnitudes",
]

#: The six desc-bpz templates (Benitez 2004 recalibration of CWW + Kinney).
BPZ_TEMPLATES = ("El_B2004a", "Sbc_B2004a", "Scd_B2004a", "Im_B2004a", "SB3_B2004a", "SB2_B2004a")
#: LePhare's CWW_KINNEY set in Hubble order (template 1, the elliptical, is early type).
CWW_KINNEY_ORDER = ("CWW_E_ext", "CWW_Sbc_ext", "CWW_Scd_ext", "CWW_Im_ext") + tuple(
    f"KIN_SB{k}_ext" for k in range(1, 7)
)
#: Early-type templates of the known sets.
EARLY_TYPE_TEMPLATES = {"bpz": ("El_B2004a",), "cww_kinney": ("CWW_E_ext",)}
_C_ANGSTROM = 2.998e18


def _bpz_sed_folder():
    import desc_bpz

    return Path(desc_bpz.__file__).parent / "data_files" / "SED"


def _template_paths(templates):
    """Ordered template files: the order matters for interpolation and the prior."""
    if isinstance(templates, str) and templates == "bpz":
        return [_bpz_sed_folder() / f"{name}.sed" for name in BPZ_TEMPLATES]
    if isinstance(templates, (str, os.PathLike)):
        path = Path(templates)
        if path.is_dir():
            paths = sorted(path.glob("*.sed"))
            if sorted(p.stem for p in paths) == sorted(CWW_KINNEY_ORDER):
                paths = [path / f"{stem}.sed" for stem in CWW_KINNEY_ORDER]
        elif path.is_file():
            # A BPZ/LePhare list: one file per line, next to the list or in desc-bpz's SED folder.
            lines = [line.split()[0] for line in path.read_text().splitlines() if line.strip()]
            paths = [
                path.parent / n if (path.parent / n).is_file() else _bpz_sed_folder() / n
                for n in lines
                if not n.startswith("#")
            ]
        else:
            raise ValueError(f"Templates {path} is neither a folder nor a template list file.")
    else:
        paths = [Path(p) for p in templates]
    if not paths:
        raise ValueError(f"No .sed template files in {templates}.")
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        raise ValueError(f"Template file(s) not found: {missing}.")
    return paths


def load_templates(templates="bpz", early_type_templates=None):
    """Load SED templates as (names, wavelength list, F_lambda list, early-type mask).

    Parameters
    ----------
    templates : "bpz", path-like or sequence of path-like
        ``"bpz"`` for desc-bpz's six B2004a templates; a folder of
        LePhare-style ``.sed`` files (two columns: Angstrom, F_lambda), read
        in sorted order except LePhare's CWW_KINNEY set, read in Hubble order
        (E, Sbc, Scd, Im, SB1..SB6); a BPZ/LePhare ``.list`` file (one file
        name per line, looked up next to the list, then in desc-bpz's SED
        folder); or an ordered sequence of ``.sed`` paths. Order matters for
        template interpolation and for the BPZ prior (ellipticals first).
    early_type_templates : sequence of str, optional
        Template names (file stems) that count as early type. Defaults to the
        elliptical of the known sets (``El_B2004a``, ``CWW_E_ext``).

    Returns
    -------
    names : list of str
    waves, fluxes : list of ndarray
    early : ndarray of bool

    Examples
    --------
    >>> from skphotoz.baselines.templates import load_templates
    >>> names, waves, fluxes, early = load_templates()
    >>> names[0], early.tolist()
    ('El_B2004a', [True, False, False, False, False, False])
    """
    paths = _template_paths(templates)
    names = [p.stem for p in paths]
    if early_type_templates is None:
        default = {n for group in EARLY_TYPE_TEMPLATES.values() for n in group}
        if not default & set(names):
            raise ValueError(
                f"None of the templates {names} is a known elliptical; say which are early "
                "type with early_type_templates."
            )
        early_type_templates = default & set(names)
    unknown = sorted(set(early_type_templates) - set(names))
    if unknown:
        raise ValueError(f"Early-type template(s) {unknown} are not among the templates {names}.")
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
            f"{sorted(b for b in known if b.startswith(('sdss', 'twomass', 'cfht', 'bessell')))}."
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
    >>> from skphotoz.baselines.templates import madau_igm_transmission
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


def filter_curves(bands):
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
    >>> from skphotoz.baselines.templates import load_templates, template_magnitudes
    >>> _, waves, fluxes, _ = load_templates()
    >>> template_magnitudes(waves, fluxes, ["sdss_g0", "sdss_r0"], [0.0, 0.5]).shape
    (6, 2, 2)
    """
    z = np.asarray(redshift_grid, dtype=float)
    curves = filter_curves(bands)
    out = np.full((len(waves), len(z), len(curves)), np.inf)
    for b, (_, lam, trans) in enumerate(curves):
        f_ab = 3631e-23 * _C_ANGSTROM / lam**2
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


def interpolated_templates(waves, fluxes, early, n_between):
    """Add ``n_between`` linear mixtures between adjacent templates.

    Templates are normalised at 5500 A before mixing, so the mixtures step
    evenly in colour; a mixture has the type of its nearer parent (early type
    only if both are, half-way).
    Returns also each model's position in the original list (k + w for the
    mixture (1 - w) T_k + w T_k+1), as BPZ numbers interpolated types.
    """
    position = np.arange(len(waves), dtype=float)
    if n_between == 0:
        return waves, fluxes, early, position
    out_w, out_f, out_e, out_p = [], [], [], []
    for k in range(len(waves)):
        norm_k = np.interp(5500.0, waves[k], fluxes[k])
        out_w.append(waves[k])
        out_f.append(fluxes[k] / norm_k)
        out_e.append(early[k])
        out_p.append(float(k))
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
            # The type of the nearer parent, as predict_template reports it.
            out_e.append(
                bool(
                    early[k] if w < 0.5 else early[k + 1] if w > 0.5 else early[k] and early[k + 1]
                )
            )
            out_p.append(k + w)
    return out_w, out_f, np.array(out_e), np.array(out_p)


def hdfn_prior(redshift, magnitude, n_templates, prior_types=(1, 2)):
    """BPZ's HDF-N prior p(z, T | m) (Benitez 2000, Table 1), as desc-bpz's ``hdfn_gen``.

    p(z | T, m) ~ z^a exp(-(z / z_m)^a) with z_m = z_0 + k_m (m - 20), and
    type fractions f_T(m) that shift from ellipticals to starbursts at faint
    magnitudes. ``m`` is an I(814)-like AB magnitude, clipped to 20..32.

    Parameters
    ----------
    redshift : array-like of shape (n_z,)
    magnitude : array-like of shape (n_mag,)
    n_templates : int
    prior_types : (int, int), default=(1, 2)
        Numbers of elliptical and spiral templates at the start of the
        ordered list; the rest are irregular/starburst (BPZ's default).

    Returns
    -------
    ndarray of shape (n_mag, n_z, n_templates), each (z, T) slice summing to 1.

    Examples
    --------
    >>> from skphotoz.baselines.templates import hdfn_prior
    >>> hdfn_prior([0.2, 0.5, 1.0], [22.0], 6).shape
    (1, 3, 6)
    """
    z = np.asarray(redshift, dtype=float)
    m = np.clip(np.atleast_1d(np.asarray(magnitude, dtype=float)), 20.0, 32.0)
    n_ell, n_sp = prior_types
    n_sb = n_templates - n_ell - n_sp
    if min(n_ell, n_sp, n_sb) < 0 or n_templates < 1:
        raise ValueError(f"prior_types={prior_types} does not fit {n_templates} templates.")
    counts = (n_ell, n_sp, n_sb)
    a = np.repeat([2.465, 1.806, 0.906], counts)
    z0 = np.repeat([0.431, 0.390, 0.0626], counts)
    km = np.repeat([0.0913, 0.0636, 0.123], counts)
    dm = (m - 20.0)[:, None]
    zm = np.clip(z0 + km * dm, 0.01, 15.0)  # (n_mag, t)
    z_a = z[None, :, None] ** a
    p = z_a * np.exp(-np.clip(z_a / (zm**a)[:, None, :], 0.0, 700.0))
    p /= p.sum(axis=1, keepdims=True)
    p = np.where(p < 1e-2 / len(z), 0.0, p)  # BPZ drops the far tails
    p /= p.sum(axis=1, keepdims=True)
    fractions = np.repeat(np.array([0.35, 0.5]) / np.maximum([n_ell, n_sp], 1), [n_ell, n_sp])
    f_t = fractions * np.exp(-np.repeat([0.450, 0.147], [n_ell, n_sp]) * dm)
    f_sb = (1.0 - f_t.sum(axis=1, keepdims=True)) / max(n_sb, 1)
    return p * np.hstack([f_t, np.repeat(f_sb, n_sb, axis=1)])[:, None, :]
