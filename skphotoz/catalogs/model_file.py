"""Saved models and whole-catalog prediction.

A fitted model is saved with the band columns, flux unit and sentinels it was
trained with (:func:`save_model`), so that :func:`predict_catalog` applies the
same conversion to a new catalog, refuses one without those bands, and
predicts it chunk by chunk: millions of rows run in bounded memory. Rows with
a missing band are flagged, not dropped. Reading and writing the catalogs
themselves is :mod:`skphotoz.catalogs.formats`.
"""

from __future__ import annotations

import io
import re
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pandas as pd

from skphotoz.catalogs.formats import (
    MAGNITUDE_SENTINELS,
    catalog_format,
    catalog_magnitudes,
    count_rows,
    is_text_column,
    iter_catalog,
    missing_band_flags,
    write_catalog,
)

#: Columns added by :func:`predict_catalog`.
PREDICTION_COLUMNS = ("p_lt", "type", "z_phot", "p_lt_err", "z_phot_err", "predict_flag")


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
    >>> from skphotoz.catalogs.model_file import load_model, save_model
    >>> path = os.path.join(tempfile.mkdtemp(), "m.skz")
    >>> save_model(path, DummyClassifier().fit([[1]], [0]), ["r"], note="toy")
    >>> load_model(path)["bands"], load_model(path)["note"]
    (['r'], 'toy')
    """
    import joblib

    from skphotoz import __version__

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

        strings = [c for c in frame.columns if is_text_column(frame[c])]
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
