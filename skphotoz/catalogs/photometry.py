"""Photometry of a catalog: band columns, flux units, and which values are placeholders.

Survey catalogs write "not observed" or "not detected" as finite numbers
(-99, 99, 0, 99.99, 999, ...). A scaler or a network would use them as real
magnitudes, so the one policy of what counts as a placeholder lives here
(:data:`MAGNITUDE_SENTINELS`, :data:`SENTINEL_LIMIT`, :func:`placeholder_mask`)
and the input checks (:data:`ESTIMATOR_SENTINELS`),
:class:`~skphotoz.preprocessing.SentinelToNaN`, the SED template fitter, the
training reader, catalog prediction and ``skphotoz inspect`` all use it. A
placeholder means "not observed": it becomes NaN, never a magnitude.

This module imports only numpy and pandas: :mod:`skphotoz.validation`, which
every estimator imports, takes the sentinel policy from here, so anything
heavier (or any other skphotoz module) would slow down or cycle that import.
"""

from __future__ import annotations

import fnmatch
import re

import numpy as np
import pandas as pd

#: Values read as "not observed / not detected" in magnitude columns.
MAGNITUDE_SENTINELS = (-99.0, 99.0, 0.0)
#: Magnitudes this far from zero are placeholders too (99.99 in CNOC2, 999...).
SENTINEL_LIMIT = 90.0
#: The sentinels an estimator refuses in its input
#: (:func:`skphotoz.validation.check_magnitudes`, with :data:`SENTINEL_LIMIT`):
#: :data:`MAGNITUDE_SENTINELS` without 0. In a catalog's magnitude column 0 means
#: "not measured" (no galaxy in a photo-z sample is that bright), and the catalog
#: readers and :class:`~skphotoz.preprocessing.SentinelToNaN` turn it into NaN
#: before any estimator sees it. What reaches an estimator, though, need not be a
#: magnitude: the 0/1 missing indicators of ``SimpleImputer(add_indicator=True)``,
#: a colour or a standardised magnitude hold real zeros, and refusing them would
#: break those pipelines. -99, 99 and ``|x| >= 90`` are a value in none of them.
ESTIMATOR_SENTINELS = tuple(s for s in MAGNITUDE_SENTINELS if s != 0.0)

#: AB zero points: mag = ZP - 2.5 log10(flux) for each flux unit.
FLUX_ZERO_POINTS = {
    "maggies": 0.0,
    "nanomaggies": 22.5,
    "jy": 8.90,  # 3631 Jy = AB 0
    "mjy": 16.40,
    "ujy": 23.90,
    "njy": 31.40,
}
#: Units accepted for band columns: magnitudes, or one of the fluxes above.
UNITS = ("mag", *FLUX_ZERO_POINTS)

_MAG_PER_LN = 2.5 / np.log(10)


def placeholder_mask(values, sentinels=MAGNITUDE_SENTINELS, limit=SENTINEL_LIMIT):
    """Where ``values`` are placeholders rather than photometry.

    A value is a placeholder when it is NaN or infinite, equals one of
    ``sentinels``, or has ``|value| >= limit``.

    Parameters
    ----------
    values : array-like
        Magnitudes, any shape.
    sentinels : sequence of float or None, default=MAGNITUDE_SENTINELS
        Exact values meaning "not observed"; None means the default.
    limit : float or None, default=SENTINEL_LIMIT
        Magnitudes at least this far from zero are placeholders; None turns
        this test off.

    Returns
    -------
    ndarray of bool
        The shape of ``values``; True marks a placeholder.

    Examples
    --------
    >>> from skphotoz.catalogs.photometry import placeholder_mask
    >>> placeholder_mask([21.3, -99.0, 0.0, 99.99, float("nan")]).tolist()
    [False, True, True, True, True]
    >>> placeholder_mask([0.0, 30.0], sentinels=(30.0,), limit=None).tolist()
    [False, True]
    """
    values = np.asarray(values, dtype=np.float64)
    sentinels = MAGNITUDE_SENTINELS if sentinels is None else sentinels
    mask = ~np.isfinite(values) | np.isin(values, np.asarray(sentinels, dtype=np.float64))
    if limit is not None:
        with np.errstate(invalid="ignore"):  # NaN compares False; it is already masked
            mask |= np.abs(values) >= limit
    return mask


def describe_placeholders(sentinels=MAGNITUDE_SENTINELS, limit=SENTINEL_LIMIT):
    """The placeholder policy in words, for messages and help texts.

    Parameters
    ----------
    sentinels : sequence of float or None, default=MAGNITUDE_SENTINELS
        As in :func:`placeholder_mask`.
    limit : float or None, default=SENTINEL_LIMIT
        As in :func:`placeholder_mask`.

    Returns
    -------
    str

    Examples
    --------
    >>> from skphotoz.catalogs.photometry import ESTIMATOR_SENTINELS, describe_placeholders
    >>> describe_placeholders()
    '-99, 99, 0 or |value| >= 90'
    >>> describe_placeholders(ESTIMATOR_SENTINELS, limit=None)
    '-99 or 99'
    """
    sentinels = MAGNITUDE_SENTINELS if sentinels is None else sentinels
    parts = [f"{float(v):g}" for v in sentinels]
    if limit is not None:
        parts.append(f"|value| >= {float(limit):g}")
    if len(parts) < 2:
        return "".join(parts) or "nothing"
    return f"{', '.join(parts[:-1])} or {parts[-1]}"


def require_columns(available, wanted, where):
    """Raise a ValueError naming the ``wanted`` columns that are not ``available``.

    Parameters
    ----------
    available : iterable of str
        The columns a catalog has.
    wanted : iterable of str
        The columns needed.
    where : str or path-like
        What to call the catalog in the message (its path, usually).

    Examples
    --------
    >>> from skphotoz.catalogs.photometry import require_columns
    >>> require_columns(["r", "i"], ["r"], "cat.fits")
    >>> require_columns(["r", "i"], ["g", "r"], "cat.fits")
    Traceback (most recent call last):
    ...
    ValueError: Column(s) ['g'] not found in 'cat.fits'; it has ['r', 'i'].
    """
    available = list(available)
    missing = [c for c in wanted if c not in available]
    if missing:
        raise ValueError(f"Column(s) {missing} not found in {str(where)!r}; it has {available}.")


# --------------------------------------------------------------- band columns
def select_bands(columns, bands):
    """Resolve band names or glob patterns against catalog columns, in the given order.

    Parameters
    ----------
    columns : iterable of str
        The catalog's columns.
    bands : iterable of str
        Each entry is an exact column name, a glob (``"MAG_*"``,
        ``"mag_[ugriz]"``), or the name of a vector column split by
        :func:`~skphotoz.catalogs.formats.read_catalog` (``"UBVRI"`` ->
        ``UBVRI_0`` ... ``UBVRI_4``).

    Returns
    -------
    list of str
        The matching columns, each once, in the order of ``bands``.

    Raises
    ------
    ValueError
        Naming every entry that matched no column, with the columns available.

    Examples
    --------
    >>> from skphotoz.catalogs.photometry import select_bands
    >>> select_bands(["id", "mag_u", "mag_g", "magerr_u", "Z"], ["mag_*"])
    ['mag_u', 'mag_g']
    >>> select_bands(["UBVRI_0", "UBVRI_1", "Z"], ["UBVRI"])
    ['UBVRI_0', 'UBVRI_1']
    """
    columns = [str(c) for c in columns]
    chosen, unmatched = [], []
    for entry in bands:
        entry = str(entry).strip()
        if entry in columns:
            matches = [entry]
        else:
            matches = [c for c in columns if fnmatch.fnmatchcase(c, entry)]
            if not matches:
                vector = re.compile(re.escape(entry) + r"_(\d+)$")
                matches = sorted(
                    (c for c in columns if vector.match(c)),
                    key=lambda c: int(vector.match(c).group(1)),
                )
        if not matches:
            unmatched.append(entry)
        chosen += [m for m in matches if m not in chosen]
    if unmatched:
        raise ValueError(
            f"Band(s) {unmatched} match no column of the catalog. Columns available: {columns}."
        )
    return chosen


def find_error_columns(columns, bands):
    """Guess the error (or inverse-variance) column of each band from common naming styles.

    Recognised: ``{b}_err``, ``{b}err``, ``{b}_error``, ``e_{b}``, ``err_{b}``,
    ``d{b}``, ``{b}_sig``, ``magerr_{x}`` for ``mag_{x}``, and inverse
    variances ``{b}_ivar`` (also ``NAME_IVAR_j`` for a split vector column
    ``NAME_j``). Case-insensitive.

    Parameters
    ----------
    columns : iterable of str
        The catalog's columns.
    bands : iterable of str
        Band columns, as returned by :func:`select_bands`.

    Returns
    -------
    dict
        ``{band: (column, kind)}`` with kind ``"sigma"`` or ``"ivar"``, for the
        bands that have one.

    Examples
    --------
    >>> from skphotoz.catalogs.photometry import find_error_columns
    >>> find_error_columns(["mag_r", "magerr_r", "UBVRI_0", "UBVRI_IVAR_0"], ["mag_r", "UBVRI_0"])
    {'mag_r': ('magerr_r', 'sigma'), 'UBVRI_0': ('UBVRI_IVAR_0', 'ivar')}
    """
    lookup = {str(c).lower(): str(c) for c in columns}
    found = {}
    for band in bands:
        b = band.lower()
        sigma = [f"{b}_err", f"{b}err", f"{b}_error", f"e_{b}", f"err_{b}", f"d{b}", f"{b}_sig"]
        ivar = [f"{b}_ivar"]
        if b.startswith("mag_"):
            sigma.append("magerr_" + b[4:])
        vector = re.match(r"(.*)_(\d+)$", b)
        if vector:
            base, j = vector.groups()
            sigma += [f"{base}_err_{j}", f"{base}err_{j}"]
            ivar.append(f"{base}_ivar_{j}")
        for kind, names in (("sigma", sigma), ("ivar", ivar)):
            hit = next((lookup[n] for n in names if n in lookup), None)
            if hit is not None and band not in found:
                found[band] = (hit, kind)
    return found


# ------------------------------------------------------------ units and flags
def to_ab_magnitudes(values, unit="mag", *, errors=None, error_kind="sigma", sentinels=None):
    """Convert a band block to AB magnitudes, with missing values as NaN.

    Parameters
    ----------
    values : array-like of shape (n, n_bands)
        Magnitudes or fluxes.
    unit : {"mag", "maggies", "nanomaggies", "jy", "mjy", "ujy", "njy"}
        ``"mag"`` means AB (or whatever system the training used) magnitudes.
        Fluxes use mag = ZP - 2.5 log10(f) with ZP 0 (maggies), 22.5
        (nanomaggies), 8.90 (Jy), 16.40 (mJy), 23.90 (uJy), 31.40 (nJy).
    errors : array-like of shape (n, n_bands), optional
        1-sigma errors (or inverse variances with ``error_kind="ivar"``) in the
        unit of ``values``.
    error_kind : {"sigma", "ivar"}, default="sigma"
        What ``errors`` hold.
    sentinels : tuple of float, optional
        Magnitude values meaning "not observed"; default
        :data:`MAGNITUDE_SENTINELS` (-99, 99, 0). Magnitudes with
        ``|m| >= SENTINEL_LIMIT`` (99.99, 999, ...) and non-positive fluxes
        are always missing (:func:`placeholder_mask`).

    Returns
    -------
    magnitudes : ndarray of shape (n, n_bands)
    magnitude_errors : ndarray or None
        Propagated: sigma_m = 2.5 / ln(10) * sigma_f / f for fluxes.

    Examples
    --------
    >>> from skphotoz.catalogs.photometry import to_ab_magnitudes
    >>> mags, _ = to_ab_magnitudes([[1.0, 1e-8], [100.0, 0.0]], unit="nanomaggies")
    >>> mags.round(3).tolist()
    [[22.5, 42.5], [17.5, nan]]
    """
    if unit not in UNITS:
        raise ValueError(f"Unknown unit {unit!r}; use one of {list(UNITS)}.")
    values = np.array(values, dtype=np.float64, ndmin=2)
    err = None if errors is None else np.array(errors, dtype=np.float64, ndmin=2)
    if err is not None and err.shape != values.shape:
        raise ValueError(f"errors have shape {err.shape} but values have {values.shape}.")
    if err is not None and error_kind == "ivar":
        with np.errstate(divide="ignore"):
            err = np.where(err > 0, 1.0 / np.sqrt(np.abs(err)), np.nan)
    elif err is not None and error_kind != "sigma":
        raise ValueError(f"error_kind must be 'sigma' or 'ivar'; got {error_kind!r}.")
    if unit == "mag":
        missing = placeholder_mask(values, sentinels)
        mags = np.where(missing, np.nan, values)
        if err is not None:
            err = np.where(missing | ~(err > 0), np.nan, err)
        return mags, err
    good = np.isfinite(values) & (values > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        mags = np.where(good, FLUX_ZERO_POINTS[unit] - 2.5 * np.log10(values), np.nan)
        if err is not None:
            err = np.where(good & (err > 0), _MAG_PER_LN * err / values, np.nan)
    return mags, err


def catalog_magnitudes(frame, bands, unit="mag", sentinels=None):
    """AB magnitudes of the band columns of a catalog DataFrame, missing as NaN.

    Parameters
    ----------
    frame : pandas.DataFrame
        The catalog.
    bands : list of str
        Band columns, in the order the model wants them.
    unit, sentinels
        As in :func:`to_ab_magnitudes`.

    Returns
    -------
    pandas.DataFrame
        One column per band, index as ``frame``.

    Examples
    --------
    >>> import pandas as pd
    >>> from skphotoz.catalogs.photometry import catalog_magnitudes
    >>> catalog_magnitudes(pd.DataFrame({"g": [21.0, -99.0], "r": [20.5, 20.0]}), ["g", "r"])
          g     r
    0  21.0  20.5
    1   NaN  20.0
    """
    require_columns(frame.columns, bands, "the catalog")
    non_numeric = [b for b in bands if not pd.api.types.is_numeric_dtype(frame[b])]
    if non_numeric:
        raise ValueError(f"Band column(s) {non_numeric} are not numeric.")
    mags, _ = to_ab_magnitudes(frame[bands].to_numpy(dtype=float), unit, sentinels=sentinels)
    return pd.DataFrame(mags, columns=list(bands), index=frame.index)


def missing_band_flags(magnitudes, prefix="missing"):
    """One string per row: "" when every band is present, else ``"<prefix>:u,z"``.

    Parameters
    ----------
    magnitudes : pandas.DataFrame
        Band columns with NaN for missing values (:func:`catalog_magnitudes`).
    prefix : str, default="missing"
        The flag's first word.

    Returns
    -------
    ndarray of object
        One flag per row.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from skphotoz.catalogs.photometry import missing_band_flags
    >>> missing_band_flags(pd.DataFrame({"u": [np.nan, 1.0], "z": [np.nan, 2.0]})).tolist()
    ['missing:u,z', '']
    """
    missing = magnitudes.isna().to_numpy()
    names = np.asarray(magnitudes.columns, dtype=str)
    flags = np.full(len(missing), "", dtype=object)
    for i in np.flatnonzero(missing.any(axis=1)):  # only the few incomplete rows
        flags[i] = f"{prefix}:" + ",".join(names[missing[i]])
    return flags
