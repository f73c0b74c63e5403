"""Galaxy samples: the embedded demo sample and loaders for real survey catalogs.

``load_demo`` needs nothing beyond the pip dependencies. The real-catalog
loaders read the files described in ``../shared/data/README.md``; they never
ship with the package.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

#: Environment variable that points at a folder laid out like ``shared/data``.
DATA_HOME_ENV = "SKPHOTOZ_DATA_HOME"


def shared_data_home(data_home=None):
    """Find the folder of real survey data, or return None when it is absent.

    Looks, in order, at ``data_home``, ``$SKPHOTOZ_DATA_HOME``, and
    ``../shared/data`` relative to the repository and to the working
    directory.

    Parameters
    ----------
    data_home : str or path-like, optional
        Explicit folder.

    Returns
    -------
    pathlib.Path or None

    Examples
    --------
    >>> from skphotoz.datasets import shared_data_home
    >>> home = shared_data_home()
    >>> home is None or home.is_dir()
    True
    """
    candidates = []
    if data_home is not None:
        candidates.append(Path(data_home))
    if os.environ.get(DATA_HOME_ENV):
        candidates.append(Path(os.environ[DATA_HOME_ENV]))
    repo = Path(__file__).resolve().parent.parent
    candidates += [repo.parent / "shared" / "data", Path.cwd().parent / "shared" / "data"]
    for path in candidates:
        if path.is_dir():
            return path
    return None


# ------------------------------------------------------------------ demo sample
#: Demo bands: SDSS ugriz and 2MASS J, H, Ks, as sedpy filter names.
DEMO_BANDS = (
    "sdss_u0",
    "sdss_g0",
    "sdss_r0",
    "sdss_i0",
    "sdss_z0",
    "twomass_J",
    "twomass_H",
    "twomass_Ks",
)
DEMO_COLUMNS = ("u", "g", "r", "i", "z", "J", "H", "Ks")
# SDSS asinh magnitudes are close to AB except in u and z (Blanton & Roweis
# 2007, AJ 133, 734); 2MASS magnitudes are Vega: AB = Vega + offset (same paper).
_SDSS_AB_OFFSET = np.array([-0.04, 0.0, 0.0, 0.0, 0.02])
_TWOMASS_AB_OFFSET = np.array([0.91, 1.39, 1.85])
_MAG_PER_LN = 2.5 / np.log(10)


@lru_cache(maxsize=1)
def _demo_frame():
    import kcorrect
    from astropy.table import Table

    from skphotoz.baselines.sed import label_by_template

    path = Path(kcorrect.__file__).parent / "data" / "test" / "gst_tests_small.fits"
    table = Table.read(path)
    flux = np.asarray(table["MODELFLUX"], dtype=float)  # nanomaggies
    ivar = np.asarray(table["MODELFLUX_IVAR"], dtype=float)
    nir = np.column_stack([np.asarray(table[f"{b}_M_EXT"], dtype=float) for b in "JHK"])
    nir_err = np.column_stack([np.asarray(table[f"{b}_MSIG_EXT"], dtype=float) for b in "JHK"])
    complete = (flux > 0).all(axis=1) & (ivar > 0).all(axis=1) & (nir > 0).all(axis=1)
    flux, ivar, nir, nir_err = flux[complete], ivar[complete], nir[complete], nir_err[complete]
    redshift = np.asarray(table["Z"], dtype=float)[complete]

    mags = np.column_stack(
        [22.5 - 2.5 * np.log10(flux) + _SDSS_AB_OFFSET, nir + _TWOMASS_AB_OFFSET]
    )
    errors = np.column_stack([_MAG_PER_LN / (flux * np.sqrt(ivar)), nir_err])
    labels, best_template = label_by_template(
        mags, redshift, bands=list(DEMO_BANDS), templates="bpz", magnitude_errors=errors
    )
    frame = pd.DataFrame(mags, columns=list(DEMO_COLUMNS))
    for column, err in zip(DEMO_COLUMNS, errors.T, strict=True):
        frame[f"{column}_err"] = err
    frame["redshift"] = redshift
    frame["type"] = labels
    frame["best_template"] = best_template
    frame.insert(0, "ra", np.asarray(table["RA"], dtype=float)[complete])
    frame.insert(1, "dec", np.asarray(table["DEC"], dtype=float)[complete])
    return frame


def load_demo(n_samples=None, random_state=0, return_X_y=False, early_type_fraction=None):
    """The demo sample: 9,987 SDSS main-sample galaxies with ugrizJHK and spec-z.

    What it is, exactly: the 10,000 galaxies of ``kcorrect``'s test file
    ``data/test/gst_tests_small.fits`` (SDSS DR model fluxes in ugriz, 2MASS
    extended-source J, H, Ks magnitudes and SDSS spectroscopic redshifts;
    Blanton & Roweis 2007), keeping the 9,987 with all eight bands. Fluxes
    are converted to AB magnitudes (SDSS u and z shifted by -0.04 and +0.02
    mag, 2MASS Vega magnitudes by +0.91, +1.39, +1.85), with no Galactic
    extinction correction, as OTELO's photometry was used "as it is".

    Type labels follow OTELO's recipe: the best-fitting template at the
    spectroscopic redshift (:func:`skphotoz.baselines.sed.label_by_template`, with the
    six desc-bpz B2004a templates and the magnitude errors), early type (ET)
    when that is the elliptical, late type (LT) otherwise. The bands are
    OTELO's (ugriz + JHKs) but the sample is brighter (r ~ 12-20) and at lower
    redshift (median z ~ 0.1) than OTELO's, and it is red: 78% of its galaxies
    are best fitted by the elliptical (79% have u - r > 2.22), against 8% ET in
    OTELO. ``early_type_fraction=0.08`` draws an OTELO-like mix.

    Parameters
    ----------
    n_samples : int or None
        Draw this many galaxies at random (without replacement).
    random_state : int, default=0
        Seed of the draw.
    return_X_y : bool, default=False
        Return ``(X, y)`` instead of a Bunch.
    early_type_fraction : float or None
        Keep all late types and draw early types at random so that they make
        up this fraction (applied before ``n_samples``).

    Returns
    -------
    Bunch with ``data`` (DataFrame of AB magnitudes u, g, r, i, z, J, H, Ks),
    ``target`` (DataFrame with ``type`` and ``redshift``), ``frame`` (all
    columns, with errors, coordinates and the best template index),
    ``feature_names``, ``bands`` (sedpy filter names) and ``DESCR``; or
    ``(data, target)``.

    Examples
    --------
    >>> from skphotoz.datasets import load_demo
    >>> X, y = load_demo(n_samples=200, return_X_y=True)
    >>> X.shape, list(y.columns)
    ((200, 8), ['type', 'redshift'])
    """
    from sklearn.utils import Bunch, check_random_state

    frame = _demo_frame()
    rng = check_random_state(random_state)
    if early_type_fraction is not None:
        if not 0 < early_type_fraction < 1:
            raise ValueError(f"early_type_fraction must be in (0, 1); got {early_type_fraction}.")
        early = np.flatnonzero(frame["type"].to_numpy() == "ET")
        n_late = len(frame) - len(early)
        n_early = min(len(early), round(n_late * early_type_fraction / (1 - early_type_fraction)))
        keep = np.sort(
            np.concatenate(
                [
                    np.flatnonzero(frame["type"].to_numpy() == "LT"),
                    rng.choice(early, size=n_early, replace=False),
                ]
            )
        )
        frame = frame.iloc[keep].reset_index(drop=True)
    if n_samples is not None:
        if not 0 < n_samples <= len(frame):
            raise ValueError(f"n_samples must be in [1, {len(frame)}]; got {n_samples}.")
        rows = np.sort(rng.choice(len(frame), size=n_samples, replace=False))
        frame = frame.iloc[rows].reset_index(drop=True)
    else:
        frame = frame.copy()
    X = frame[list(DEMO_COLUMNS)]
    y = frame[["type", "redshift"]]
    if return_X_y:
        return X, y
    return Bunch(
        data=X,
        target=y,
        frame=frame,
        feature_names=list(DEMO_COLUMNS),
        bands=list(DEMO_BANDS),
        DESCR=load_demo.__doc__,
    )


# ------------------------------------------------------------ real catalogs
CNOC2_BANDS = ("U", "B", "V", "R", "I")
SDSS_BANDS = ("u", "g", "r", "i", "z")
#: CNOC2 spectral classes: 2 absorption-line (early type), 4 intermediate and
#: 5 emission-line (late type); 6 (AGN) has no type and is left out.
CNOC2_TYPES = {2: "ET", 4: "LT", 5: "LT"}
_SDSS_MATCH_ARCSEC = 3.0


def _require(path):
    if not path.exists():
        raise FileNotFoundError(
            f"Expected {path}. Point skphotoz at the data folder with data_home=... or the "
            f"{DATA_HOME_ENV} environment variable (a folder laid out like shared/data)."
        )
    return path


def _data_folder(data_home, name):
    home = shared_data_home(data_home)
    if home is None:
        raise FileNotFoundError(
            f"No survey data folder found for {name!r}: pass data_home=... or set "
            f"{DATA_HOME_ENV} (a folder with {name}/ inside, laid out like shared/data)."
        )
    return home / name


def load_cnoc2(data_home=None, with_sdss=False, complete=True, return_X_y=False):
    """CNOC2 0223+00 galaxies: UBVRI magnitudes, spectroscopic z, spectral types.

    Source: CNOC2 Field Galaxy Redshift Survey (Yee et al. 2000, ApJS 129,
    475), the 0223+00 patch as kept in the kcorrect repository (BSD-3), files
    ``cnoc2/cnoc2.fits`` (+ ``cnoc2-obj.fits``, ``cnoc2-childobj.fits`` for
    SDSS). Types from the spectral class SC: 2 (absorption-line) is early
    type (ET); 4 (intermediate) and 5 (emission-line) are late type (LT);
    the 10 AGN (SC = 6) have no type and are left out (counted in
    ``DESCR``). Magnitudes are CNOC2's Vega-like UBVRI with 0 or 99.99
    meaning "not measured".

    Parameters
    ----------
    data_home : path-like, optional
        Folder containing ``cnoc2/`` (default: see :func:`shared_data_home`).
    with_sdss : bool, default=False
        Add SDSS ugriz AB model magnitudes of the counterpart matched within
        3 arcsec (851 of the 1255 objects); unmatched rows get NaN.
    complete : bool, default=True
        Keep only galaxies with every band measured (1164 with UBVRI). With
        False, missing bands are NaN.
    return_X_y : bool, default=False

    Returns
    -------
    Bunch with ``data`` (magnitudes), ``target`` (``type``, ``redshift``),
    ``frame`` (everything) and ``DESCR``; or ``(data, target)``.
    """
    from astropy.table import Table
    from sklearn.utils import Bunch

    folder = _data_folder(data_home, "cnoc2")
    table = Table.read(_require(folder / "cnoc2.fits"))
    mags = np.asarray(table["UBVRI"], dtype=float)
    # 0 and 99.99 (4 objects in U, inverse variance 0.01) both mean "not measured".
    mags[(mags <= 0) | (mags >= 90)] = np.nan
    frame = pd.DataFrame(mags, columns=list(CNOC2_BANDS))
    frame["redshift"] = np.asarray(table["Z"], dtype=float)
    spectral_class = np.asarray(table["SC"], dtype=float).astype(int)
    frame["spectral_class"] = spectral_class
    frame["type"] = pd.Series(spectral_class).map(CNOC2_TYPES)
    frame["ra"] = np.asarray(table["RA"], dtype=float)
    frame["dec"] = np.asarray(table["DEC"], dtype=float)
    bands = list(CNOC2_BANDS)
    if with_sdss:
        match = Table.read(_require(folder / "cnoc2-obj.fits"))
        child = Table.read(_require(folder / "cnoc2-childobj.fits"))
        close = np.asarray(match["MATCHDIST"], dtype=float) * 3600 < _SDSS_MATCH_ARCSEC
        flux = np.asarray(child["MODELFLUX"], dtype=float)
        good = close[:, None] & (flux > 0)
        with np.errstate(divide="ignore", invalid="ignore"):
            sdss = np.where(good, 22.5 - 2.5 * np.log10(flux), np.nan)
        for j, band in enumerate(SDSS_BANDS):
            frame[f"sdss_{band}"] = sdss[:, j]
        bands += [f"sdss_{band}" for band in SDSS_BANDS]
    n_agn = int((spectral_class == 6).sum())
    frame = frame[frame["type"].notna()]
    n_incomplete = int(frame[bands].isna().any(axis=1).sum())
    if complete:
        frame = frame[frame[bands].notna().all(axis=1)]
    frame = frame.reset_index(drop=True)
    X, y = frame[bands], frame[["type", "redshift"]]
    if return_X_y:
        return X, y
    descr = (
        f"{load_cnoc2.__doc__}\nThis load: {len(frame)} galaxies; {n_agn} AGN left out; "
        f"{n_incomplete} typed galaxies with a missing band "
        f"{'removed' if complete else 'kept, as NaN'}."
    )
    return Bunch(data=X, target=y, frame=frame, feature_names=bands, DESCR=descr)


# ------------------------------------------------------------------- VIPERS
#: VIPERS bands with CFHTLS MegaCam photometry in the BPZ catalog (column
#: names of ``bpz_catalog_i2.cat``); ``i2`` is the second MegaCam i filter.
VIPERS_BANDS = ("u", "g", "r", "i2", "z")
#: sedpy filter curves for ``VIPERS_BANDS``. sedpy has only the first
#: MegaCam i filter (``is_9701``), used for i2 as an approximation.
VIPERS_FILTERS = (
    "cfht_megacam_us_9301",
    "cfht_megacam_gs_9401",
    "cfht_megacam_rs_9601",
    "cfht_megacam_is_9701",
    "cfht_megacam_zs_9801",
)


def _read_commented_columns(path):
    """A whitespace table whose column names are in '#  N name' header lines."""
    names = []
    with open(path, encoding="ascii") as handle:
        for line in handle:
            if not line.startswith("#"):
                break
            parts = line[1:].split()
            if len(parts) == 2 and parts[0].isdigit():
                names.append(parts[1])
    return pd.read_csv(path, sep=r"\s+", comment="#", header=None, names=names)


def load_vipers(data_home=None, with_u=False, complete=True, return_X_y=False):
    """VIPERS galaxies: CFHTLS ugriz (i2) AB magnitudes, spectroscopic z, BPZ types.

    Source: VIPERS spectroscopic redshifts with CFHTLS MegaCam photometry, as
    the BPZ input and output files of the repository
    dirac-institute/photoz_template_learning (Crenshaw & Connolly 2020, AJ
    160, 191): ``vipers_i2/bpz_catalog_i2.cat`` (magnitude, error pairs;
    -99 = not observed) and ``vipers_i2/cwwsb4_i2_photoz.bpz``. Cite also
    VIPERS (Scodeggio et al. 2018, A&A 609, A84) and CFHTLS.

    Types, as OTELO's from LePhare's MOD_BEST: the BPZ best template ``tb``
    (templates in the order of ``cwwsb4.list``) is 1, the CWW elliptical,
    for an early type (ET, about 18%), anything else is late type (LT).
    These labels come from template fits to the same photometry, so they are
    a model's types, not spectral or morphological ones.

    Parameters
    ----------
    data_home : path-like, optional
        Folder containing ``vipers_i2/`` (default: see :func:`shared_data_home`).
    with_u : bool, default=False
        Add the u band. It is observed for only 1216 of the 2712 galaxies,
        and just 1 of them has the elliptical as best BPZ template (against
        497 of the 1496 without u): the BPZ types depend on whether u was
        there, so a u-complete sample has almost no ET. Hence g, r, i2, z by
        default (2220 complete galaxies, 357 ET).
    complete : bool, default=True
        Keep only galaxies observed in every band. With False, missing bands
        are NaN.
    return_X_y : bool, default=False

    Returns
    -------
    Bunch with ``data`` (AB magnitudes [u,] g, r, i2, z), ``target`` (``type``,
    ``redshift``), ``frame`` (also the errors ``<band>_err``, the BPZ
    template ``bpz_template`` and photo-z ``bpz_z``), ``feature_names``,
    ``bands`` (sedpy filter names) and ``DESCR``; or ``(data, target)``.

    Examples
    --------
    Needs the data folder, so skipped by doctest:

    >>> from skphotoz.datasets import load_vipers
    >>> X, y = load_vipers(return_X_y=True)  # doctest: +SKIP
    >>> X.shape, int((y["type"] == "ET").sum())  # doctest: +SKIP
    ((2220, 4), 357)
    """
    from sklearn.utils import Bunch

    folder = _data_folder(data_home, "vipers_i2")
    catalog = _read_commented_columns(_require(folder / "bpz_catalog_i2.cat"))
    bpz = _read_commented_columns(_require(folder / "cwwsb4_i2_photoz.bpz"))
    if not np.array_equal(catalog["id"].to_numpy(), bpz["id"].to_numpy()):
        raise ValueError("The VIPERS catalog and BPZ output are not row-matched by id.")
    frame = pd.DataFrame({"id": catalog["id"].to_numpy()})
    for band in VIPERS_BANDS:
        observed = catalog[band].to_numpy() != -99.0
        frame[band] = np.where(observed, catalog[band].to_numpy(dtype=float), np.nan)
        frame[f"{band}_err"] = np.where(observed, catalog[f"d{band}"].to_numpy(dtype=float), np.nan)
    frame["redshift"] = catalog["zspec"].to_numpy(dtype=float)
    frame["bpz_template"] = bpz["tb"].to_numpy(dtype=int)
    frame["bpz_z"] = bpz["zb"].to_numpy(dtype=float)
    frame["type"] = np.where(frame["bpz_template"] == 1, "ET", "LT")
    bands = list(VIPERS_BANDS) if with_u else list(VIPERS_BANDS[1:])
    filters = list(VIPERS_FILTERS) if with_u else list(VIPERS_FILTERS[1:])
    n_incomplete = int(frame[bands].isna().any(axis=1).sum())
    if complete:
        frame = frame[frame[bands].notna().all(axis=1)].reset_index(drop=True)
    X, y = frame[bands], frame[["type", "redshift"]]
    if return_X_y:
        return X, y
    descr = (
        f"{load_vipers.__doc__}\nThis load: {len(frame)} galaxies "
        f"({(y['type'] == 'ET').sum()} ET); {n_incomplete} with a missing band "
        f"{'removed' if complete else 'kept, as NaN'}."
    )
    return Bunch(data=X, target=y, frame=frame, feature_names=bands, bands=filters, DESCR=descr)


# --------------------------------------------------------------- SDSS+2MASS
SDSS_2MASS_COLUMNS = ("u", "g", "r", "i", "z", "J", "H", "K")
SDSS_2MASS_FILTERS = (*DEMO_BANDS[:5], "twomass_J", "twomass_H", "twomass_Ks")


def load_sdss_2mass(
    data_home=None,
    with_2mass=False,
    complete=True,
    label=None,
    n_samples=None,
    random_state=0,
    return_X_y=False,
):
    """SDSS galaxies with spectroscopic z and ugriz (+ 2MASS JHK) AB magnitudes; no types.

    Source: the kcorrect training set (Blanton & Roweis 2007, AJ 133, 734;
    BSD-3), ``sdss_2mass/sdss_training_set.test.fits``: 31,924 SDSS
    galaxies with ``MAGGIES`` (ugrizJHK, 2MASS present for about 4,700),
    ``MAGGIES_IVAR`` and ``REDSHIFT``. Cite SDSS (York et al. 2000) and
    2MASS (Skrutskie et al. 2006) too.

    Flux unit: the values are about 10^9 times what AB maggies of these
    galaxies would be (median r = 36), so they are read as nanomaggies,
    mag = 22.5 - 2.5 log10(f) (median r = 18.6 AB); read as maggies every
    magnitude would be negative. No Galactic extinction correction.

    The file has **no type labels**. ``label="template"`` labels the
    galaxies like :func:`load_demo` does (:func:`skphotoz.baselines.sed.label_by_template`
    at the spectroscopic redshift, desc-bpz templates, the elliptical means
    ET): a model's types, not observed ones. Without it ``target`` holds only
    the redshift.

    Parameters
    ----------
    data_home : path-like, optional
        Folder containing ``sdss_2mass/``.
    with_2mass : bool, default=False
        Add J, H, K. Otherwise ugriz, keeping galaxies measured in all five
        (30,291).
    complete : bool, default=True
        With ``with_2mass``: keep only galaxies measured in all eight bands
        (about 4,700). With False, keep every galaxy measured in all of ugriz
        and give J, H, K as NaN where 2MASS has no measurement (about 85% of
        them): the natural gappy sample of the set.
    label : {None, "template"}, default=None
    n_samples : int, optional
        Draw this many galaxies at random (before labelling, which costs
        time on the whole set).
    random_state : int, default=0
    return_X_y : bool, default=False

    Returns
    -------
    Bunch with ``data`` (AB magnitudes), ``target`` (``redshift``, and
    ``type`` with ``label="template"``), ``frame`` (with ``<band>_err``,
    coordinates), ``feature_names``, ``bands`` (sedpy names) and ``DESCR``;
    or ``(data, target)``.

    Examples
    --------
    Needs the data folder, so skipped by doctest:

    >>> from skphotoz.datasets import load_sdss_2mass
    >>> X, y = load_sdss_2mass(return_X_y=True)  # doctest: +SKIP
    >>> X.shape, list(y.columns)  # doctest: +SKIP
    ((30291, 5), ['redshift'])
    """
    from astropy.table import Table
    from sklearn.utils import Bunch, check_random_state

    if label not in (None, "template"):
        raise ValueError(f"label must be None or 'template'; got {label!r}.")
    folder = _data_folder(data_home, "sdss_2mass")
    table = Table.read(_require(folder / "sdss_training_set.test.fits"))
    n_bands = 8 if with_2mass else 5
    flux = np.asarray(table["MAGGIES"], dtype=float)[:, :n_bands]
    ivar = np.asarray(table["MAGGIES_IVAR"], dtype=float)[:, :n_bands]
    measured = (flux > 0) & (ivar > 0)
    # Without 2MASS, or with complete=False, a galaxy needs all of ugriz; the
    # near-infrared bands may then be missing (NaN), as they are in 2MASS.
    good = measured.all(axis=1) if complete else measured[:, :5].all(axis=1)
    rows = np.flatnonzero(good)
    if n_samples is not None:
        if not 0 < n_samples <= len(rows):
            raise ValueError(f"n_samples must be in [1, {len(rows)}]; got {n_samples}.")
        rows = np.sort(check_random_state(random_state).choice(rows, n_samples, replace=False))
    flux, ivar = flux[rows], ivar[rows]
    with np.errstate(divide="ignore", invalid="ignore"):
        observed = measured[rows]
        mags = np.where(observed, 22.5 - 2.5 * np.log10(np.where(observed, flux, 1.0)), np.nan)
        errors = np.where(observed, _MAG_PER_LN / (flux * np.sqrt(ivar)), np.nan)
    columns = list(SDSS_2MASS_COLUMNS[:n_bands])
    frame = pd.DataFrame(mags, columns=columns)
    for column, err in zip(columns, errors.T, strict=True):
        frame[f"{column}_err"] = err
    frame["redshift"] = np.asarray(table["REDSHIFT"], dtype=float)[rows]
    frame.insert(0, "ra", np.asarray(table["RA"], dtype=float)[rows])
    frame.insert(1, "dec", np.asarray(table["DEC"], dtype=float)[rows])
    filters = list(SDSS_2MASS_FILTERS[:n_bands])
    target_columns = ["redshift"]
    if label == "template":
        from skphotoz.baselines.sed import label_by_template

        frame["type"], frame["best_template"] = label_by_template(
            mags, frame["redshift"].to_numpy(), bands=filters, magnitude_errors=errors
        )
        target_columns = ["type", "redshift"]
    X, y = frame[columns], frame[target_columns]
    if return_X_y:
        return X, y
    descr = (
        f"{load_sdss_2mass.__doc__}\nThis load: {len(frame)} galaxies with all of "
        f"{', '.join(columns if complete else columns[:5])}; {int((~good).sum())} "
        f"without were left out"
        # ``complete`` only means something with J, H, K: ugriz alone are always complete.
        + (
            "."
            if complete or not with_2mass
            else f"; {int(np.isnan(mags).any(axis=1).sum())} kept with NaN in JHK."
        )
    )
    return Bunch(data=X, target=y, frame=frame, feature_names=columns, bands=filters, DESCR=descr)
