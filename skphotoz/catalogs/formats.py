"""Survey catalogs in and out: FITS, VOTable, ECSV, CSV and parquet.

Reading and writing go through astropy.table, pandas and pyarrow. What they
do not do, and this module adds: vector columns (e.g. CNOC2's ``UBVRI`` with
shape (n, 5)) become one column per element, ``UBVRI_0`` ... ``UBVRI_4``,
because pandas and parquet hold only scalar columns; and :class:`ChunkWriter`
appends chunks to one output file, so a catalog of any size is written in
bounded memory.
An entry astropy reads as masked (ECSV writes NaN as an empty field)
comes back as NaN or None, never as the value under the mask
(:func:`iter_catalog`).

Band columns, flux units and sentinels are
:mod:`skphotoz.catalogs.photometry`; labelled training catalogs are
:mod:`skphotoz.catalogs.training`; prediction is
:mod:`skphotoz.catalogs.predict`.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import numpy as np
import pandas as pd

# MAGNITUDE_SENTINELS and UNITS are defined in photometry; they are imported
# here as well because the CLI reads them from this module.
from skphotoz.catalogs.photometry import MAGNITUDE_SENTINELS, UNITS, require_columns

__all__ = [
    "MAGNITUDE_SENTINELS",
    "UNITS",
    "ChunkWriter",
    "catalog_format",
    "count_rows",
    "declared_string_widths",
    "is_text_column",
    "iter_catalog",
    "read_catalog",
    "write_catalog",
]

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


def _flatten_table(table, masked=frozenset()):
    """astropy Table -> DataFrame, with vector columns split as NAME_0, NAME_1, ...

    A masked entry is never the value under astropy's mask (ECSV stores 0.0
    under a NaN it wrote as an empty field): in a float column it is NaN. A
    column of ``masked`` (:func:`_masked_columns`: masked somewhere in the
    whole table, so that every chunk gets the same type) of integers becomes
    float64 with NaN there; of text, pandas' text column with a missing value
    (None, or NaN in pandas >= 3); of booleans, an object column with None.
    """
    columns, text = {}, set()
    for name in table.colnames:
        column = table[name]
        values = np.asarray(column)  # the data under any mask
        if values.dtype.byteorder not in ("=", "|"):
            values = values.astype(values.dtype.newbyteorder("="))
        if values.dtype.kind == "S":
            values = np.char.decode(values, "utf-8")
        kind, mask = values.dtype.kind, getattr(column, "mask", None)
        filled = name in masked or (kind in "fc" and mask is not None and np.any(mask))
        if filled:
            values = _fill_masked(values, np.asarray(mask, dtype=bool))
        if values.ndim == 1:
            names = [name]
            columns[name] = values
        else:
            flat = values.reshape(len(values), -1)
            names = [f"{name}_{j}" for j in range(flat.shape[1])]
            columns.update(zip(names, flat.T, strict=True))
        if filled and kind == "U":
            text.update(names)
    frame = pd.DataFrame(columns)
    for name in text:
        # The type pandas gives text, also to a chunk whose every entry is masked.
        frame[name] = pd.Series(frame[name].to_numpy(), dtype=_TEXT_DTYPE, index=frame.index)
    return frame


#: The dtype pandas infers for text: object before pandas 3, "str" since.
_TEXT_DTYPE = pd.Series(np.array([""])).dtype


def _masked_columns(table):
    """Columns of ``table`` with a masked entry anywhere."""
    return frozenset(
        name
        for name in table.colnames
        if getattr(table[name], "mask", None) is not None and np.any(table[name].mask)
    )


def _fill_masked(values, mask):
    """``values`` with NaN where masked (integers become float64), None for other types."""
    if values.dtype.kind in "fc":
        return np.where(mask, np.nan, values)
    filled = values.astype(np.float64 if values.dtype.kind in "iu" else object)
    filled[mask] = np.nan if values.dtype.kind in "iu" else None
    return filled


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
    """Number of rows from the file header (FITS, parquet), or None when unknown cheaply.

    Parameters
    ----------
    path : str or path-like
        The catalog.
    format : str, optional
        Override the format guessed from the suffix.

    Returns
    -------
    int or None
        None for CSV, VOTable and ECSV, which would have to be read to count.

    Examples
    --------
    >>> import pandas as pd, tempfile, os
    >>> from skphotoz.catalogs.formats import count_rows, write_catalog
    >>> path = os.path.join(tempfile.mkdtemp(), "cat.parquet")
    >>> write_catalog(pd.DataFrame({"r": [20.0, 21.0, 22.0]}), path)
    >>> count_rows(path)
    3
    """
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

    An entry astropy reads as masked (an empty ECSV or VOTable field, a FITS
    null) is never given the value under the mask: a float is NaN; a column
    of integers with a masked entry anywhere in the file is read as float64
    with NaN there, one of text as pandas' text type with a missing value
    (None; NaN in pandas >= 3), one of booleans as objects with None, in
    every chunk alike.

    Parameters
    ----------
    path : str or path-like
        FITS (first table HDU), VOTable, ECSV, CSV or parquet file.
    chunk_size : int, default=100000
        Rows per chunk (the last one may be shorter).
    columns : list of str, optional
        Keep only these columns (after vector columns are split).
    format : str, optional
        Override the format guessed from the suffix.

    Yields
    ------
    pandas.DataFrame
        The next ``chunk_size`` rows, in file order.

    Examples
    --------
    >>> import pandas as pd, tempfile, os
    >>> from skphotoz.catalogs.formats import iter_catalog, write_catalog
    >>> path = os.path.join(tempfile.mkdtemp(), "cat.csv")
    >>> write_catalog(pd.DataFrame({"r": range(5)}), path)
    >>> [len(chunk) for chunk in iter_catalog(path, chunk_size=2)]
    [2, 2, 1]
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
    masked = _masked_columns(table)
    for start in range(0, max(len(table), 1), chunk_size):
        try:
            frame = _flatten_table(table[start : start + chunk_size], masked)
        except TypeError as exc:
            # A FITS file cut short: the memory map ends before the rows its
            # header promises, and NumPy says "buffer is too small".
            raise ValueError(
                f"Catalog {str(path)!r} is damaged: its data end before row {start + chunk_size} "
                f"({exc})."
            ) from exc
        if columns is not None:
            require_columns(frame.columns, columns, path)
            frame = frame[list(columns)]
        yield frame


def write_catalog(frame, path, *, format=None, overwrite=False):
    """Write a DataFrame as FITS, VOTable, ECSV, CSV or parquet (chosen by suffix).

    Parameters
    ----------
    frame : pandas.DataFrame
        Scalar columns; text columns become fixed-width strings in FITS and
        VOTable.
    path : str or path-like
        The output file.
    format : str, optional
        Override the format guessed from the suffix.
    overwrite : bool, default=False
        Replace an existing file instead of raising FileExistsError.

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
    """True for a column of strings (object or pandas string dtype).

    Examples
    --------
    >>> import pandas as pd
    >>> from skphotoz.catalogs.formats import is_text_column
    >>> is_text_column(pd.Series(["gal1"])), is_text_column(pd.Series([1.5]))
    (True, False)
    """
    return series.dtype == object or pd.api.types.is_string_dtype(series.dtype)


class ChunkWriter:
    """Append DataFrame chunks to one output file in bounded memory.

    Parquet uses pyarrow's ParquetWriter, CSV appends, FITS streams rows
    after a header sized for ``n_rows`` (astropy's StreamingHDU). VOTable and
    ECSV cannot be appended to, so their chunks are collected and written at
    the end (memory grows with the catalog: prefer FITS or parquet for big
    ones).

    Parameters
    ----------
    path : str or path-like
        The output file; its suffix chooses the format.
    n_rows : int or None
        Rows that will be written in all. FITS streams only when it is known,
        because the header that states it comes first.
    format : str, optional
        Override the format guessed from the suffix.
    overwrite : bool, default=False
        Replace an existing file instead of raising FileExistsError.
    string_widths : dict, optional
        ``{column: width}`` for FITS string columns, e.g. the input's
        (:func:`declared_string_widths`); other string columns get twice the
        width of the first chunk (at least 16, 64 for ``predict_flag``).

    Attributes
    ----------
    written : int
        Rows written so far.

    Examples
    --------
    >>> import pandas as pd, tempfile, os
    >>> from skphotoz.catalogs.formats import ChunkWriter, read_catalog
    >>> path = os.path.join(tempfile.mkdtemp(), "out.fits")
    >>> writer = ChunkWriter(path, n_rows=3)
    >>> writer.write(pd.DataFrame({"id": [1, 2], "flag": ["", "missing:u"]}))
    >>> writer.write(pd.DataFrame({"id": [3], "flag": [""]}))
    >>> writer.close()
    >>> read_catalog(path)["id"].tolist()
    [1, 2, 3]
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
        """Append ``frame``; its columns must be those of the first chunk."""
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
        """Finish the file; raise RuntimeError if fewer or more than ``n_rows`` were written."""
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


def declared_string_widths(path, format=None):
    """Declared widths of the string columns of a FITS table (other formats: none).

    Parameters
    ----------
    path : str or path-like
        The catalog.
    format : str, optional
        Override the format guessed from the suffix.

    Returns
    -------
    dict
        ``{column: width in characters}``; empty for formats other than FITS.

    Examples
    --------
    >>> import pandas as pd, tempfile, os
    >>> from skphotoz.catalogs.formats import declared_string_widths, write_catalog
    >>> path = os.path.join(tempfile.mkdtemp(), "cat.fits")
    >>> write_catalog(pd.DataFrame({"name": ["gal1", "gal22"], "r": [20.0, 21.0]}), path)
    >>> declared_string_widths(path)
    {'name': 5}
    """
    if catalog_format(path, format) != "fits":
        return {}
    from astropy.io import fits

    with fits.open(path, memmap=True) as hdul:
        hdu = next(h for h in hdul if isinstance(h, fits.BinTableHDU | fits.TableHDU))
        return {
            c.name: int(c.dtype.itemsize)
            for c in hdu.columns
            if hdu.columns.dtype[c.name].kind in "SU"
        }
