"""Labelled training catalogs: magnitudes, the joint (type, redshift) target and what was left out.

A survey's type column holds its own codes (``2`` for ellipticals, ``"S0"``,
...); :func:`early_late_labels` maps them to the "ET"/"LT" labels the
estimators learn, and :func:`read_training_catalog` reads a catalog into
``X`` and ``y`` with every row it leaves out counted by reason.
"""

from __future__ import annotations

import numbers

import numpy as np
import pandas as pd

from skphotoz.catalogs.formats import read_catalog
from skphotoz.catalogs.photometry import (
    catalog_magnitudes,
    placeholder_mask,
    require_columns,
    select_bands,
)


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

    Returns
    -------
    ndarray of object
        "ET", "LT" or None per value.

    Raises
    ------
    ValueError
        When ``et_values`` is needed but not given, or a value is listed as both.

    Examples
    --------
    >>> from skphotoz.catalogs.training import early_late_labels
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
    min_observed_bands=1,
):
    """Read a labelled catalog for training: magnitudes, joint target and what was left out.

    Band placeholders (:func:`~skphotoz.catalogs.photometry.placeholder_mask`)
    become NaN: "not observed". Rows are left out, and counted, when the type
    maps to neither ET nor LT (:func:`early_late_labels`), the redshift is
    missing, negative or a placeholder (``|z| >= SENTINEL_LIMIT``), or fewer
    than ``min_observed_bands`` bands are observed. Every other row is kept,
    gaps included: the skphotoz networks train on missing bands.

    Parameters
    ----------
    path : str or path-like
        The catalog (any format :func:`~skphotoz.catalogs.formats.read_catalog` reads).
    bands : list of str
        Band columns, names or globs (:func:`~skphotoz.catalogs.photometry.select_bands`).
    type_column, redshift_column : str
        The columns holding the type and the spectroscopic redshift.
    et_values, lt_values : sequence or comma-separated str, optional
        As in :func:`early_late_labels`.
    unit : str, default="mag"
        Unit of the band columns (:func:`~skphotoz.catalogs.photometry.to_ab_magnitudes`).
    sentinels : tuple of float, optional
        Magnitude placeholders; default
        :data:`~skphotoz.catalogs.photometry.MAGNITUDE_SENTINELS`.
    min_observed_bands : int or "all", default=1
        Observed bands a row needs to be kept. 1 leaves out only rows with
        no magnitude at all, which nothing can be learnt from; "all" keeps
        complete photometry only, for a model that refuses gaps.

    Returns
    -------
    Bunch
        ``X`` (DataFrame of magnitudes, NaN = missing), ``y`` (DataFrame with
        ``type`` "ET"/"LT" and ``redshift``), ``rows`` (catalog row numbers
        kept), ``frame`` (the whole catalog), ``bands`` and ``dropped``
        (dict reason -> count).

    Examples
    --------
    >>> import pandas as pd, tempfile, os
    >>> from skphotoz.catalogs.training import read_training_catalog
    >>> path = os.path.join(tempfile.mkdtemp(), "train.csv")
    >>> frame = pd.DataFrame({"g": [21.0, 22.0, -99.0, 0.0], "r": [20.0, 21.0, 20.5, 99.99]})
    >>> frame.assign(T=[2, 5, 5, 2], z=[0.3, 0.5, 0.4, 0.2]).to_csv(path, index=False)
    >>> data = read_training_catalog(path, ["g", "r"], "T", "z", et_values="2")
    >>> data.y["type"].tolist(), data.X["g"].isna().tolist(), data.dropped
    (['ET', 'LT', 'LT'], [False, False, True], {'no observed band': 1})
    >>> read_training_catalog(
    ...     path, ["g", "r"], "T", "z", et_values="2", min_observed_bands="all"
    ... ).dropped
    {'missing band(s)': 2}
    """
    from sklearn.utils import Bunch

    frame = read_catalog(path)
    band_columns = select_bands(frame.columns, bands)
    require_columns(frame.columns, [type_column, redshift_column], path)
    needed = _bands_needed(min_observed_bands, len(band_columns))
    X = catalog_magnitudes(frame, band_columns, unit, sentinels)
    types = early_late_labels(frame[type_column], et_values, lt_values)
    redshift = pd.to_numeric(frame[redshift_column], errors="coerce").to_numpy(dtype=float)
    bad_type = pd.isna(types)
    # The magnitude sentinel 0 is a real redshift, so only the limit (99, 999, ...)
    # and NaN/inf mark a placeholder here; -99 is caught as negative.
    bad_z = placeholder_mask(redshift, sentinels=()) | (redshift < 0)
    bad_band = X.notna().sum(axis=1).to_numpy() < needed
    if needed == len(band_columns):
        band_reason = "missing band(s)"
    elif needed == 1:
        band_reason = "no observed band"
    else:
        band_reason = f"fewer than {needed} observed bands"
    dropped = {
        f"type value in neither ET nor LT list (column {type_column})": int(bad_type.sum()),
        f"missing or negative redshift (column {redshift_column})": int((bad_z & ~bad_type).sum()),
        band_reason: int((bad_band & ~bad_z & ~bad_type).sum()),
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


def _bands_needed(min_observed_bands, n_bands):
    """``min_observed_bands`` as a count in 1..n_bands, or a one-line error."""
    if isinstance(min_observed_bands, str) and min_observed_bands == "all":
        return n_bands
    if isinstance(min_observed_bands, numbers.Integral) and min_observed_bands >= 1:
        # More than the catalog has means all of them, as in the networks.
        return min(int(min_observed_bands), n_bands)
    raise ValueError(
        f"min_observed_bands must be a positive integer or 'all'; got {min_observed_bands!r}."
    )
