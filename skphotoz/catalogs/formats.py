"""Survey catalogs in and out: FITS, VOTable, ECSV, CSV and parquet.

Reading and writing go through astropy.table, pandas and pyarrow. What they
do not do, and this module adds: picking band columns by name or glob,
turning fluxes, maggies or nanomaggies into AB magnitudes, treating the
catalog sentinels (-99, 99, 0) as missing, and reading a labelled training
catalog. Vector columns (e.g. CNOC2's ``UBVRI`` with shape (n, 5)) become one
column per element, ``UBVRI_0`` ... ``UBVRI_4``, because pandas and parquet
hold only scalar columns.

Saving a model with its bands and predicting a catalog chunk by chunk live in
:mod:`skphotoz.catalogs.model_file`; their names are also reachable from here.
"""

from __future__ import annotations

import fnmatch
import re
from pathlib import Path

import numpy as np
import pandas as pd

#: Values read as "not observed / not detected" in magnitude columns.
MAGNITUDE_SENTINELS = (-99.0, 99.0, 0.0)
#: Magnitudes this far from zero are placeholders too (99.99 in CNOC2, 999...).
SENTINEL_LIMIT = 90.0

#: AB zero points: mag = ZP - 2.5 log10(flux) for each flux unit.
FLUX_ZERO_POINTS = {
    "maggies": 0.0,
    "nanomaggies": 22.5,
    "jy": 8.90,  # 3631 Jy = AB 0
    "mjy": 16.40,
    "ujy": 23.90,
    "njy": 31.40,
}
UNITS = ("mag", *FLUX_ZERO_POINTS)

_FORMATS = {
    ".fits": "fits",
    ".fit": "fits",
    ".fts": "fits",
    ".fits.gz": "fits",
    ".vot": "votable",
    ".xml": "votable",
    ".votable": "votable",
    ".ecsv": "ecsv",
    ".csv": "csv",
    ".parquet": "parquet",
    ".pq": "parquet",
}
_MAG_PER_LN = 2.5 / np.log(10)


def catalog_format(path, format=None):
    """The format name of a catalog path, from ``format`` or the file suffix.

    Examples
    --------
    >>> from skphotoz.catalogs.formats import catalog_format
    >>> catalog_format("galaxies.fits.gz"), catalog_format("out.parquet")
    ('fits', 'parquet')
    """
    if format is not None:
        if format not in set(_FORMATS.values()):
            raise ValueError(f"Unknown catalog format {format!r}; use one of {_format_names()}.")
        return format
    name = Path(path).name.lower()
    for suffix in sorted(_FORMATS, key=len, reverse=True):
        if name.endswith(suffix):
            return _FORMATS[suffix]
    raise ValueError(
        f"Cannot tell the format of {str(path)!r} from its suffix; name it *.fits, *.vot, "
        f"*.ecsv, *.csv or *.parquet, or pass format= (one of {_format_names()})."
    )


def _format_names():
    return sorted(set(_FORMATS.values()))


def _flatten_table(table):
    """astropy Table -> DataFrame, with vector columns split as NAME_0, NAME_1, ..."""
    columns = {}
    for name in table.colnames:
        values = np.asarray(table[name])
        if values.dtype.byteorder not in ("=", "|"):
            values = values.astype(values.dtype.newbyteorder("="))
        if values.dtype.kind == "S":
            values = np.char.decode(values, "utf-8")
        if values.ndim == 1:
            columns[name] = values
        else:
            flat = values.reshape(len(values), -1)
            for j in range(flat.shape[1]):
                columns[f"{name}_{j}"] = flat[:, j]
    return pd.DataFrame(columns)


def read_catalog(path, *, columns=None, format=None):
    """Read a whole catalog into a DataFrame.

    Parameters
    ----------
    path : str or path-like
        FITS (first table HDU), VOTable, ECSV, CSV or parquet file.
    columns : list of str, optional
        Keep only these columns (after vector columns are split).
    format : str, optional
        Override the format guessed from the suffix.

    Returns
    -------
    pandas.DataFrame
        One row per catalog row, in file order.

    Examples
    --------
    >>> import pandas as pd, tempfile, os
    >>> from skphotoz.catalogs.formats import read_catalog
    >>> path = os.path.join(tempfile.mkdtemp(), "cat.csv")
    >>> pd.DataFrame({"r": [20.1, -99.0]}).to_csv(path, index=False)
    >>> read_catalog(path)["r"].tolist()
    [20.1, -99.0]
    """
    return pd.concat(list(iter_catalog(path, columns=columns, format=format)), ignore_index=True)


def count_rows(path, format=None):
    """Number of rows from the file header (FITS, parquet), or None when unknown cheaply."""
    fmt = catalog_format(path, format)
    if fmt == "fits":
        from astropy.io import fits

        with fits.open(path, memmap=True) as hdul:
            hdu = next(h for h in hdul if isinstance(h, fits.BinTableHDU | fits.TableHDU))
            return int(hdu.header["NAXIS2"])
    if fmt == "parquet":
        import pyarrow.parquet as pq

        return pq.ParquetFile(path).metadata.num_rows
    return None


def iter_catalog(path, *, chunk_size=100_000, columns=None, format=None):
    """Read a catalog in chunks of ``chunk_size`` rows, each a DataFrame.

    Memory stays bounded for FITS (memory-mapped, only the chunk is copied),
    parquet (pyarrow ``iter_batches``) and CSV (pandas ``chunksize``).
    VOTable and ECSV have no random access, so astropy reads them whole and
    the chunks are slices of that table.

    Parameters
    ----------
    path : str or path-like
    chunk_size : int, default=100000
    columns : list of str, optional
    format : str, optional

    Yields
    ------
    pandas.DataFrame
    """
    fmt = catalog_format(path, format)
    if not Path(path).exists():
        raise FileNotFoundError(f"Catalog {str(path)!r} does not exist.")
    if chunk_size < 1:
        raise ValueError(f"chunk_size must be >= 1; got {chunk_size}.")
    if fmt == "parquet":
        import pyarrow.parquet as pq

        source = pq.ParquetFile(path)
        for batch in source.iter_batches(batch_size=chunk_size, columns=columns):
            yield batch.to_pandas()
        return
    if fmt == "csv":
        yield from pd.read_csv(path, chunksize=chunk_size, usecols=columns)
        return
    from astropy.table import Table

    kwargs = {"memmap": True} if fmt == "fits" else {}
    table = Table.read(path, format=fmt, **kwargs)
    for start in range(0, max(len(table), 1), chunk_size):
        frame = _flatten_table(table[start : start + chunk_size])
        if columns is not None:
            _require_columns(frame.columns, columns, path)
            frame = frame[list(columns)]
        yield frame


def _require_columns(available, wanted, path):
    missing = [c for c in wanted if c not in available]
    if missing:
        raise ValueError(
            f"Column(s) {missing} not found in {str(path)!r}; it has {list(available)}."
        )


def write_catalog(frame, path, *, format=None, overwrite=False):
    """Write a DataFrame as FITS, VOTable, ECSV, CSV or parquet (chosen by suffix).

    Examples
    --------
    >>> import pandas as pd, tempfile, os
    >>> from skphotoz.catalogs.formats import read_catalog, write_catalog
    >>> path = os.path.join(tempfile.mkdtemp(), "cat.fits")
    >>> write_catalog(pd.DataFrame({"id": [3, 1], "z_phot": [0.5, 0.7]}), path)
    >>> read_catalog(path)["id"].tolist()
    [3, 1]
    """
    path = Path(path)
    fmt = catalog_format(path, format)
    if path.exists() and not overwrite:
        raise FileExistsError(f"{path} exists; pass overwrite=True (CLI: --overwrite).")
    if fmt == "csv":
        frame.to_csv(path, index=False)
    elif fmt == "parquet":
        frame.to_parquet(path, index=False)
    else:
        from astropy.table import Table

        Table.from_pandas(_fixed_width_strings(frame)).write(path, format=fmt, overwrite=overwrite)


def _fixed_width_strings(frame):
    # FITS and VOTable need fixed-width strings; object columns of str become "U<n>".
    out = frame.copy()
    for name in out.columns:
        if is_text_column(out[name]):
            out[name] = out[name].fillna("").astype(str).to_numpy(dtype=str)
    return out


def is_text_column(series):
    return series.dtype == object or pd.api.types.is_string_dtype(series.dtype)


# --------------------------------------------------------------- band columns
def select_bands(columns, bands):
    """Resolve band names or glob patterns against catalog columns, in the given order.

    Each entry of ``bands`` is an exact column name, a glob (``"MAG_*"``,
    ``"mag_[ugriz]"``), or the name of a vector column split by
    :func:`read_catalog` (``"UBVRI"`` -> ``UBVRI_0`` ... ``UBVRI_4``).

    Raises
    ------
    ValueError
        Naming every entry that matched no column, with the columns available.

    Examples
    --------
    >>> from skphotoz.catalogs.formats import select_bands
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

    Returns
    -------
    dict
        ``{band: (column, kind)}`` with kind ``"sigma"`` or ``"ivar"``, for the
        bands that have one.

    Examples
    --------
    >>> from skphotoz.catalogs.formats import find_error_columns
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
    sentinels : tuple of float, optional
        Magnitude values meaning "not observed"; default
        :data:`MAGNITUDE_SENTINELS` (-99, 99, 0). Magnitudes with
        ``|m| >= 90`` (99.99, 999, ...) and non-positive fluxes are always
        missing.

    Returns
    -------
    magnitudes : ndarray of shape (n, n_bands)
    magnitude_errors : ndarray or None
        Propagated: sigma_m = 2.5 / ln(10) * sigma_f / f for fluxes.

    Examples
    --------
    >>> from skphotoz.catalogs.formats import to_ab_magnitudes
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
        sentinels = MAGNITUDE_SENTINELS if sentinels is None else tuple(sentinels)
        missing = ~np.isfinite(values) | np.isin(values, np.asarray(sentinels, dtype=float))
        with np.errstate(invalid="ignore"):
            missing |= np.abs(values) >= SENTINEL_LIMIT
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

    Returns
    -------
    DataFrame with one column per band, index as ``frame``.
    """
    _require_columns(frame.columns, bands, "the catalog")
    non_numeric = [b for b in bands if not pd.api.types.is_numeric_dtype(frame[b])]
    if non_numeric:
        raise ValueError(f"Band column(s) {non_numeric} are not numeric.")
    mags, _ = to_ab_magnitudes(frame[bands].to_numpy(dtype=float), unit, sentinels=sentinels)
    return pd.DataFrame(mags, columns=list(bands), index=frame.index)


def missing_band_flags(magnitudes, prefix="missing"):
    """One string per row: "" when every band is present, else ``"missing:u,z"``."""
    missing = magnitudes.isna().to_numpy()
    names = np.asarray(magnitudes.columns, dtype=str)
    flags = np.full(len(missing), "", dtype=object)
    for i in np.flatnonzero(missing.any(axis=1)):  # only the few incomplete rows
        flags[i] = f"{prefix}:" + ",".join(names[missing[i]])
    return flags


# ------------------------------------------------------------ training catalogs
def _parse_values(values, numeric):
    if values is None:
        return None
    if isinstance(values, str):
        values = [v for v in values.split(",") if v.strip()]
    out = []
    for v in values:
        try:
            out.append(float(v) if numeric else str(v).strip())
        except ValueError as exc:
            raise ValueError(f"Type value {v!r} is not a number, but the type column is.") from exc
    return out


def early_late_labels(values, et_values=None, lt_values=None):
    """Map a catalog's type column to "ET" / "LT"; values in neither map to None.

    Parameters
    ----------
    values : array-like
        The catalog's type column (strings or numbers).
    et_values : sequence or comma-separated str, optional
        Values meaning early type. Without it the column must already hold
        exactly two classes: ``ET``/``LT`` or ``0``/``1`` (0 = early type).
    lt_values : sequence or comma-separated str, optional
        Values meaning late type; default every value not in ``et_values``.

    Examples
    --------
    >>> from skphotoz.catalogs.formats import early_late_labels
    >>> early_late_labels([2.0, 4.0, 5.0, 6.0], et_values="2", lt_values="4,5").tolist()
    ['ET', 'LT', 'LT', None]
    """
    values = pd.Series(np.asarray(values))
    numeric = pd.api.types.is_numeric_dtype(values)
    if not numeric:
        values = values.astype(str).str.strip()
    et, lt = _parse_values(et_values, numeric), _parse_values(lt_values, numeric)
    if et is None:
        distinct = sorted(values.dropna().unique().tolist())
        if numeric and set(distinct) <= {0, 1}:
            et, lt = [0], [1]
        elif not numeric and set(distinct) <= {"ET", "LT"}:
            et, lt = ["ET"], ["LT"]
        else:
            shown = distinct[:20]
            raise ValueError(
                f"The type column holds {len(distinct)} distinct value(s) {shown}; say which "
                "mean early type with et_values (CLI: --et-values, e.g. --et-values 2) and, "
                "if some are neither, which mean late type (--lt-values 4,5)."
            )
    early = values.isin(et).to_numpy()
    late = values.isin(lt).to_numpy() if lt is not None else ~early & values.notna().to_numpy()
    overlap = early & late
    if overlap.any():
        raise ValueError(f"Value(s) {sorted(set(values[overlap]))} are listed as both ET and LT.")
    return np.where(early, "ET", np.where(late, "LT", None)).astype(object)


def read_training_catalog(
    path,
    bands,
    type_column,
    redshift_column,
    *,
    et_values=None,
    lt_values=None,
    unit="mag",
    sentinels=None,
    keep_missing_bands=False,
):
    """Read a labelled catalog for training: magnitudes, joint target and what was left out.

    Rows are left out, and counted, when the type maps to neither ET nor LT
    (:func:`early_late_labels`), the redshift is missing or negative, or a
    band is missing (unless ``keep_missing_bands``, for a model that imputes).

    Returns
    -------
    Bunch
        ``X`` (DataFrame of magnitudes, NaN = missing), ``y`` (DataFrame with
        ``type`` "ET"/"LT" and ``redshift``), ``rows`` (catalog row numbers
        kept), ``frame`` (the whole catalog), ``bands`` and ``dropped``
        (dict reason -> count).
    """
    from sklearn.utils import Bunch

    frame = read_catalog(path)
    band_columns = select_bands(frame.columns, bands)
    _require_columns(frame.columns, [type_column, redshift_column], path)
    X = catalog_magnitudes(frame, band_columns, unit, sentinels)
    types = early_late_labels(frame[type_column], et_values, lt_values)
    redshift = pd.to_numeric(frame[redshift_column], errors="coerce").to_numpy(dtype=float)
    bad_type = pd.isna(types)
    bad_z = ~np.isfinite(redshift) | (redshift < 0) | np.isin(redshift, [-99.0, 99.0])
    bad_band = X.isna().any(axis=1).to_numpy() & (not keep_missing_bands)
    dropped = {
        f"type value in neither ET nor LT list (column {type_column})": int(bad_type.sum()),
        f"missing or negative redshift (column {redshift_column})": int((bad_z & ~bad_type).sum()),
        "missing band(s)": int((bad_band & ~bad_z & ~bad_type).sum()),
    }
    keep = ~(bad_type | bad_z | bad_band)
    y = pd.DataFrame({"type": types[keep].astype(str), "redshift": redshift[keep]})
    return Bunch(
        X=X[keep].reset_index(drop=True),
        y=y,
        rows=np.flatnonzero(keep),
        frame=frame,
        bands=band_columns,
        dropped={k: v for k, v in dropped.items() if v},
    )
