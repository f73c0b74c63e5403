"""Survey catalogs in and out: FITS, VOTable, ECSV, CSV and parquet.

Reading and writing go through astropy.table, pandas and pyarrow. What they
do not do, and this module adds: picking band columns by name or glob,
turning fluxes, maggies or nanomaggies into AB magnitudes, treating the
catalog sentinels (-99, 99, 0) as missing, saving a model together with the
bands and preprocessing it needs, and predicting a catalog chunk by chunk so
that millions of rows run in bounded memory. Vector columns (e.g. CNOC2's
``UBVRI`` with shape (n, 5)) become one column per element, ``UBVRI_0`` ...
``UBVRI_4``, because pandas and parquet hold only scalar columns.
"""

from __future__ import annotations

import fnmatch
import io
import re
from datetime import datetime, timezone
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

#: Columns added by :func:`predict_catalog`.
PREDICTION_COLUMNS = ("p_lt", "type", "z_phot", "p_lt_err", "z_phot_err", "predict_flag")

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
    >>> from skphotoz.io import catalog_format
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
    >>> from skphotoz.io import read_catalog
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
    >>> from skphotoz.io import read_catalog, write_catalog
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
        if _is_text(out[name]):
            out[name] = out[name].fillna("").astype(str).to_numpy(dtype=str)
    return out


def _is_text(series):
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
    >>> from skphotoz.io import select_bands
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
    >>> from skphotoz.io import find_error_columns
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
    >>> from skphotoz.io import to_ab_magnitudes
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
    >>> from skphotoz.io import early_late_labels
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


# ------------------------------------------------------------------ saved models
def save_model(path, estimator, bands, *, unit="mag", sentinels=None, **metadata):
    """Save a fitted model with what ``predict`` needs to use it on a new catalog.

    The ``.skz`` file is a joblib pickle of a dict: the estimator (a
    JointMorphZ, a Pipeline ending in one, or a ReplicaEnsemble), the band
    columns in training order, the flux unit and sentinels, the type labels,
    the skphotoz version and any extra ``metadata``. Like any pickle, load
    only files you trust.

    Examples
    --------
    >>> import os, tempfile
    >>> from sklearn.dummy import DummyClassifier
    >>> from skphotoz.io import load_model, save_model
    >>> path = os.path.join(tempfile.mkdtemp(), "m.skz")
    >>> save_model(path, DummyClassifier().fit([[1]], [0]), ["r"], note="toy")
    >>> load_model(path)["bands"], load_model(path)["note"]
    (['r'], 'toy')
    """
    import joblib

    from . import __version__

    payload = {
        "estimator": estimator,
        "bands": [str(b) for b in bands],
        "unit": unit,
        "sentinels": list(MAGNITUDE_SENTINELS if sentinels is None else sentinels),
        "type_labels": [str(c) for c in getattr(estimator, "classes_", [])],
        "skphotoz_version": __version__,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        **metadata,
    }
    joblib.dump(payload, path)


def load_model(path):
    """Load a ``.skz`` file written by :func:`save_model`; returns its dict."""
    import joblib

    payload = joblib.load(path)
    if not isinstance(payload, dict) or "estimator" not in payload or "bands" not in payload:
        raise ValueError(f"{path} is not a skphotoz model file (made by `skphotoz fit`).")
    return payload


def _imputes(estimator):
    """True when the model fills missing bands itself (a Pipeline with an imputer)."""
    steps = getattr(estimator, "steps", None)
    return bool(steps) and any("imput" in type(s).__name__.lower() for _, s in steps[:-1])


def predict_frame(estimator, magnitudes):
    """Predict a block of magnitudes; returns p_lt, type, z_phot (+ errors when available)."""
    final = estimator.steps[-1][1] if hasattr(estimator, "steps") else estimator
    X = magnitudes.astype(np.float64)  # a DataFrame: the model knows its band names
    if hasattr(final, "predict_uncertainty"):
        Xt = X
        for _, step in getattr(estimator, "steps", [])[:-1]:
            Xt = step.transform(Xt)
        unc = final.predict_uncertainty(Xt)
        p_late = np.asarray(unc["p_late"], dtype=float)
        threshold = getattr(final, "threshold_", getattr(final, "threshold", 0.5))
        labels = np.where(p_late >= threshold, final.classes_[1], final.classes_[0])
        return pd.DataFrame(
            {
                "p_lt": p_late,
                "type": labels.astype(str),
                "z_phot": np.asarray(unc["z_phot"], dtype=float),
                "p_lt_err": np.asarray(unc["p_late_err"], dtype=float),
                "z_phot_err": np.asarray(unc["z_phot_err"], dtype=float),
            }
        )
    if type(estimator).__name__ == "JointMorphZ":
        # One forward pass gives both outputs; predict + predict_proba would run two,
        # which doubles the cost of predicting a large catalog.
        p_late, z_phot = estimator._forward(X)
        labels = np.where(p_late >= estimator.threshold, *estimator.classes_[::-1])
        return pd.DataFrame({"p_lt": p_late, "type": labels.astype(str), "z_phot": z_phot})
    joint = estimator.predict(X)
    return pd.DataFrame(
        {
            "p_lt": estimator.predict_proba(X)[:, 1],
            "type": np.asarray(joint[:, 0]).astype(str),
            "z_phot": np.asarray(joint[:, 1], dtype=float),
        }
    )


def check_model_bands(model, columns):
    """Raise a ValueError naming the model's bands that the catalog lacks."""
    missing = [b for b in model["bands"] if b not in set(map(str, columns))]
    if missing:
        raise ValueError(
            f"The catalog lacks the band column(s) {missing} that the model was trained on "
            f"(model bands, in order: {model['bands']}). Rename the catalog columns to match."
        )


def predict_chunk(model, chunk):
    """Input columns + predictions for one DataFrame chunk; nothing is dropped.

    Rows with a missing band (NaN or sentinel after conversion) get NaN
    predictions and ``predict_flag = "missing:<bands>"``, unless the model
    imputes missing bands (then ``"imputed:<bands>"`` and a prediction).
    """
    check_model_bands(model, chunk.columns)
    estimator = model["estimator"]
    mags = catalog_magnitudes(chunk, model["bands"], model["unit"], model["sentinels"])
    imputes = _imputes(estimator)
    flags = missing_band_flags(mags, "imputed" if imputes else "missing")
    usable = np.ones(len(mags), bool) if imputes else mags.notna().all(axis=1).to_numpy()
    out = chunk.reset_index(drop=True).copy()
    for name in PREDICTION_COLUMNS:
        if name in out.columns:
            out = out.drop(columns=name)  # a re-prediction replaces old columns
    pred = pd.DataFrame(
        {"p_lt": np.nan, "type": "", "z_phot": np.nan}, index=range(len(out))
    ).astype({"type": object})
    if usable.any():
        done = predict_frame(estimator, mags[usable])
        for name in done.columns:
            if name not in pred.columns:
                pred[name] = np.nan
            pred.loc[usable, name] = done[name].to_numpy()
    pred["predict_flag"] = flags
    return pd.concat([out, pred], axis=1)


class _ChunkWriter:
    """Append DataFrame chunks to one output file in bounded memory.

    Parquet uses pyarrow's ParquetWriter, CSV appends, FITS streams rows
    after a header sized for ``n_rows`` (astropy's StreamingHDU). VOTable and
    ECSV cannot be appended to, so their chunks are collected and written at
    the end (memory grows with the catalog: prefer FITS or parquet for big
    ones).
    """

    def __init__(self, path, n_rows, format=None, overwrite=False, string_widths=None):
        self.path = Path(path)
        self.format = catalog_format(self.path, format)
        if self.path.exists() and not overwrite:
            raise FileExistsError(f"{self.path} exists; pass overwrite=True (CLI: --overwrite).")
        if self.path.exists():
            self.path.unlink()
        self.n_rows, self.written, self._held = n_rows, 0, []
        self._writer = self._widths = self._row_dtype = None
        self._declared = dict(string_widths or {})
        if self.format == "fits" and n_rows is None:
            self._streaming = False
        else:
            self._streaming = self.format in ("fits", "parquet", "csv")

    def write(self, frame):
        if not self._streaming:
            self._held.append(frame)
        elif self.format == "parquet":
            import pyarrow as pa
            import pyarrow.parquet as pq

            table = pa.Table.from_pandas(frame, preserve_index=False)
            if self._writer is None:
                self._writer = pq.ParquetWriter(self.path, table.schema)
            self._writer.write_table(table.cast(self._writer.schema))
        elif self.format == "csv":
            frame.to_csv(self.path, mode="a", header=self.written == 0, index=False)
        else:
            self._write_fits(frame)
        self.written += len(frame)

    def _write_fits(self, frame):
        from astropy.io import fits
        from astropy.table import Table

        strings = [c for c in frame.columns if _is_text(frame[c])]
        text = {c: frame[c].fillna("").astype(str) for c in strings}
        lengths = {c: int(v.str.len().max() or 1) if len(v) else 1 for c, v in text.items()}
        if self._widths is None:
            # FITS string widths are fixed in the header, before later chunks are seen:
            # the input's declared widths, else room to spare over the first chunk.
            self._widths = {
                c: self._declared.get(c) or max(2 * n, 64 if c == "predict_flag" else 16)
                for c, n in lengths.items()
            }
        columns = {}
        for c in frame.columns:
            if c in self._widths:
                if lengths[c] > self._widths[c]:
                    raise ValueError(
                        f"Column {c!r} holds strings longer ({lengths[c]}) than in the first "
                        f"chunk ({self._widths[c]}); write parquet or CSV instead."
                    )
                columns[c] = text[c].to_numpy(dtype=f"U{self._widths[c]}")
            else:
                columns[c] = frame[c].to_numpy()
        if self._writer is None:
            header = fits.table_to_hdu(Table({c: v[:1] for c, v in columns.items()})).header
            header["NAXIS2"] = self.n_rows
            self._writer = fits.StreamingHDU(self.path, header)
            self._row_dtype = _fits_row_dtype(header)
        if self._row_dtype is not None:
            # Packing the big-endian records with numpy is ~10x faster than astropy's
            # per-chunk table conversion (its ASCII encoding of strings dominates).
            rows = np.empty(len(frame), dtype=self._row_dtype)
            for c, values in columns.items():
                rows[c] = values
            self._writer.write(rows.view(np.uint8))
            return
        # Column types numpy cannot pack directly (booleans, scaled or unsigned ints):
        # the rows in FITS byte layout as astropy writes them.
        hdu = fits.table_to_hdu(Table(columns))
        buffer = io.BytesIO()
        fits.HDUList([fits.PrimaryHDU(), hdu]).writeto(buffer)
        start = 2880 + len(hdu.header.tostring())  # an empty primary HDU is one block
        rows = buffer.getvalue()[start : start + hdu.header["NAXIS1"] * len(frame)]
        self._writer.write(np.frombuffer(rows, dtype=np.uint8))

    def close(self):
        if self._held:
            write_catalog(pd.concat(self._held, ignore_index=True), self.path, format=self.format)
        elif self._writer is not None:
            self._writer.close()
        if self._streaming and self.n_rows is not None and self.written != self.n_rows:
            raise RuntimeError(
                f"Wrote {self.written} rows but the catalog header announced {self.n_rows}."
            )


_FITS_TYPES = {"D": ">f8", "E": ">f4", "K": ">i8", "J": ">i4", "I": ">i2", "B": "u1"}


def _fits_row_dtype(header):
    """numpy dtype of one binary-table row, or None when a column needs astropy."""
    fields = []
    for j in range(1, header["TFIELDS"] + 1):
        if any(f"{key}{j}" in header for key in ("TZERO", "TSCAL", "TNULL", "TDIM")):
            return None
        match = re.fullmatch(r"(\d*)([A-Z])", header[f"TFORM{j}"].strip())
        if match is None:
            return None
        repeat, code = int(match.group(1) or 1), match.group(2)
        if code == "A":
            fields.append((header[f"TTYPE{j}"], f"S{repeat}"))
        elif code in _FITS_TYPES and repeat == 1:
            fields.append((header[f"TTYPE{j}"], _FITS_TYPES[code]))
        else:
            return None
    return np.dtype(fields)


def _string_widths(path, fmt):
    """Declared widths of the string columns of a FITS table (other formats: none)."""
    if fmt != "fits":
        return {}
    from astropy.io import fits

    with fits.open(path, memmap=True) as hdul:
        hdu = next(h for h in hdul if isinstance(h, fits.BinTableHDU | fits.TableHDU))
        return {
            c.name: int(c.dtype.itemsize)
            for c in hdu.columns
            if hdu.columns.dtype[c.name].kind in "SU"
        }


def predict_catalog(model, catalog, output, *, chunk_size=100_000, overwrite=False, progress=True):
    """Predict every row of a catalog file and write input columns + predictions.

    Reads and writes chunk by chunk (:func:`iter_catalog`), so memory is set
    by ``chunk_size``, not by the catalog, for FITS, parquet and CSV.

    Parameters
    ----------
    model : dict or path-like
        A :func:`save_model` payload or ``.skz`` path.
    catalog, output : path-like
        Input and output catalogs (any supported format, chosen by suffix).
    chunk_size : int, default=100000
    overwrite : bool, default=False
    progress : bool, default=True
        A tqdm bar over rows.

    Returns
    -------
    dict
        Counts: ``n_rows``, ``n_predicted``, ``n_flagged``.
    """
    from tqdm.auto import tqdm

    if not isinstance(model, dict):
        model = load_model(model)
    fmt_in = catalog_format(catalog)
    n_rows = count_rows(catalog, fmt_in)
    writer = _ChunkWriter(
        output, n_rows, overwrite=overwrite, string_widths=_string_widths(catalog, fmt_in)
    )
    counts = {"n_rows": 0, "n_predicted": 0, "n_flagged": 0}
    with tqdm(total=n_rows, unit="row", disable=not progress, desc="predict") as bar:
        for chunk in iter_catalog(catalog, chunk_size=chunk_size, format=fmt_in):
            if counts["n_rows"] == 0:
                check_model_bands(model, chunk.columns)
            result = predict_chunk(model, chunk)
            writer.write(result)
            counts["n_rows"] += len(result)
            counts["n_predicted"] += int(result["z_phot"].notna().sum())
            counts["n_flagged"] += int((result["predict_flag"] != "").sum())
            bar.update(len(result))
    writer.close()
    return counts
