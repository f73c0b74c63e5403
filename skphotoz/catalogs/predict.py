"""Predict catalogs: file by file in chunks, or lazily over dask partitions.

Both ways go through :func:`predict_block`, which asks a fitted model for
P(late type), the type label and the redshift of a block of rows:

* :func:`predict_catalog` reads a catalog file chunk by chunk, applies the
  saved model's bands, unit and sentinels (:mod:`skphotoz.catalogs.model_file`),
  and writes the input columns plus ``p_lt``, ``type``, ``z_phot`` (and
  ``p_lt_err``, ``z_phot_err`` for ensembles) and ``predict_flag``: millions
  of rows in bounded memory. A row with a missing band is flagged, never
  dropped; a model that takes missing bands (:func:`accepts_missing_bands`)
  predicts it from the bands it has.
  With ``pdf_path`` the same loop writes each galaxy's redshift PDF
  (quantiles or densities on the model's grid) to a second file, row for
  row with the first.
* :func:`predict_partitions` maps a fitted estimator over the partitions of a
  dask DataFrame (``map_partitions``) and returns a lazy dask DataFrame with
  the input columns plus ``p_lt``, ``type`` and ``z_phot``. The band columns
  go to the estimator as they are, so a sentinel or NaN raises at compute
  time with the band named. Dask is an optional dependency
  (``pip install "skphotoz[dask]"``).

What a model can do is read from what it declares, not from its class: a
final estimator with a ``predict_joint(X)`` method gives both outputs in one
pass; one without it is asked ``predict`` and ``predict_proba``; and
:func:`accepts_missing_bands` reads scikit-learn's ``allow_nan`` tag.

On a cluster the same code runs unchanged: :func:`predict_partitions` uses
the active ``distributed.Client``, and everything in skphotoz that loops over
folds or replicas runs through joblib, so joblib's dask backend sends each
fit to the cluster's workers::

    from distributed import Client
    import joblib
    from sklearn.model_selection import cross_validate
    from skphotoz.catalogs.predict import predict_partitions

    client = Client("tcp://scheduler:8786")   # or Client(LocalCluster())
    predict_partitions(model, "catalog/*.parquet").to_parquet("predicted/")
    with joblib.parallel_backend("dask"):
        cross_validate(JointMorphZ(), X, y, cv=StratifiedTypeKFold(5), n_jobs=-1)

The estimator travels to the workers by pickle (:class:`~skphotoz.JointMorphZ`
and :class:`~skphotoz.ReplicaEnsemble` pickle their weights and rebuild the
network), so workers need skphotoz and the same Keras backend.
"""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
from sklearn.pipeline import Pipeline
from sklearn.utils import get_tags
from sklearn.utils.validation import check_is_fitted

from skphotoz.catalogs.formats import (
    ChunkWriter,
    catalog_format,
    count_rows,
    declared_string_widths,
    iter_catalog,
)
from skphotoz.catalogs.model_file import load_model
from skphotoz.catalogs.photometry import catalog_magnitudes, missing_band_flags
from skphotoz.pdf import pdf_quantiles

#: Columns added by :func:`predict_catalog` (the error columns only for models that give them).
PREDICTION_COLUMNS = ("p_lt", "type", "z_phot", "p_lt_err", "z_phot_err", "predict_flag")

#: Columns added by :func:`predict_partitions`.
PARTITION_COLUMNS = PREDICTION_COLUMNS[:3]

#: Rows per chunk read by :func:`predict_catalog`, and per partition when
#: :func:`predict_partitions` splits a pandas DataFrame.
DEFAULT_CHUNK_SIZE = 100_000

#: Levels of the quantiles a ``pdf_format="quantiles"`` PDF file holds: the median,
#: the central 50, 68, 80, 90, 95 and 98% intervals. 13 float32 values, 52 bytes a galaxy.
PDF_QUANTILE_LEVELS = (0.01, 0.025, 0.05, 0.1, 0.16, 0.25, 0.5, 0.75, 0.84, 0.9, 0.95, 0.975, 0.99)

#: The column of a PDF file that says which catalog row (0-based) a PDF belongs to.
ROW_COLUMN = "catalog_row"

# Galaxies per predict_pdf call: the float64 densities and their CDF for this
# many rows and a 200-point grid stay near 25 MB each, whatever the chunk size.
_PDF_BLOCK = 2**14

# predict_joint's column names -> the catalog's (kept from before predict_joint existed,
# so catalogs written by older versions read the same).
_CATALOG_NAMES = {
    "p_late": "p_lt",
    "type": "type",
    "z_phot": "z_phot",
    "p_late_err": "p_lt_err",
    "z_phot_err": "z_phot_err",
    "flags": "predict_flag",
}


# The estimators' flag for a galaxy given no number for lack of bands (see
# JointMorphZ.predict_joint); predict_chunk gives it to rows it does not predict
# because no band at all was observed.
_TOO_FEW_BANDS = "too_few_bands"


def accepts_missing_bands(model):
    """Whether ``model`` predicts rows with missing bands (NaN) itself.

    Read from scikit-learn's ``allow_nan`` input tag. sklearn does not
    propagate that tag through a Pipeline, so for a Pipeline the first
    step's tag is used: an imputer there says True.

    Parameters
    ----------
    model : estimator or Pipeline
        Anything with scikit-learn tags.

    Returns
    -------
    bool

    Examples
    --------
    >>> from sklearn.impute import SimpleImputer
    >>> from sklearn.pipeline import make_pipeline
    >>> from skphotoz import JointMorphZ
    >>> from skphotoz.catalogs.predict import accepts_missing_bands
    >>> accepts_missing_bands(JointMorphZ(missing_bands="error"))
    False
    >>> accepts_missing_bands(make_pipeline(SimpleImputer(), JointMorphZ(missing_bands="error")))
    True
    """
    first = model[0] if isinstance(model, Pipeline) else model
    return bool(get_tags(first).input_tags.allow_nan)


def joint_outputs(model, X):
    """Every output of a joint model for ``X``, under the estimators' own names.

    A final estimator (a Pipeline's last step sees ``X`` transformed by the
    steps before it) that declares ``predict_joint(X)`` is called once;
    otherwise ``predict`` (joint ``[type, redshift]``) and ``predict_proba``
    give ``p_late``, ``type`` and ``z_phot``.

    Parameters
    ----------
    model : fitted estimator or Pipeline
    X : array-like of shape (n_samples, n_bands)

    Returns
    -------
    dict of ndarray
        ``p_late``, ``type``, ``z_phot`` and whatever else ``predict_joint``
        gives (errors, ``flags``).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LinearRegression, LogisticRegression
    >>> from skphotoz.baselines import IndependentPair
    >>> from skphotoz.catalogs.predict import joint_outputs
    >>> X = np.array([[20.0], [21.0], [22.0], [23.0]])
    >>> y = np.array([["ET", 0.1], ["ET", 0.2], ["LT", 0.3], ["LT", 0.4]], dtype=object)
    >>> pair = IndependentPair(LogisticRegression(), LinearRegression()).fit(X, y)
    >>> sorted(joint_outputs(pair, X))
    ['flags', 'p_late', 'type', 'z_phot']
    """
    # Imported here: skphotoz.validation imports catalogs.photometry while it loads.
    from skphotoz.validation import final_step

    final, Xt = final_step(model, X)
    if hasattr(final, "predict_joint"):
        joint = final.predict_joint(Xt)
        return {name: joint[name].to_numpy() for name in joint.columns}
    labels_and_z = np.asarray(model.predict(X))
    return {
        "p_late": np.asarray(model.predict_proba(X)[:, 1], dtype=float),
        "type": labels_and_z[:, 0],
        "z_phot": labels_and_z[:, 1].astype(float),
    }


def predict_block(model, X):
    """P(late type), type and redshift of a block of rows, with flags.

    The one prediction used by :func:`predict_chunk` (catalog files) and
    :func:`predict_partitions` (dask). A final estimator that declares
    ``predict_joint(X)`` is called once for both outputs; otherwise the model's
    ``predict`` (joint ``[type, redshift]``) and ``predict_proba`` are used.

    Parameters
    ----------
    model : fitted estimator or Pipeline
        JointMorphZ, ReplicaEnsemble, a Pipeline ending in one, or any
        estimator with a joint ``predict`` and ``predict_proba``.
    X : pandas.DataFrame
        The band columns, in the model's order.

    Returns
    -------
    pandas.DataFrame
        Indexed like ``X``: ``p_lt``, ``type`` (the model's labels),
        ``z_phot``, ``p_lt_err`` and ``z_phot_err`` when the model gives them,
        and ``predict_flag`` ("" when the model has nothing to say).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from skphotoz import JointMorphZ
    >>> from skphotoz.catalogs.predict import predict_block
    >>> rng = np.random.default_rng(0)
    >>> X = pd.DataFrame(rng.normal(22, 1, (40, 3)), columns=["g", "r", "i"])
    >>> y = np.column_stack([np.where(X["g"] > 22, "LT", "ET"), np.abs(X["r"] - 21) / 4])
    >>> model = JointMorphZ(base_units=(8,), class_units=(4,), class_dropout=(0.1,), epochs=1)
    >>> list(predict_block(model.fit(X, y), X.head(2)).columns)
    ['p_lt', 'type', 'z_phot', 'predict_flag']
    """
    if len(X) == 0:  # dask probes with empty frames, and sklearn rejects 0 rows
        return pd.DataFrame(
            {
                "p_lt": np.empty(0),
                "type": np.empty(0, dtype=object),
                "z_phot": np.empty(0),
                "predict_flag": np.empty(0, dtype=object),
            },
            index=X.index,
        )
    outputs = joint_outputs(model, X)
    columns = {
        _CATALOG_NAMES[name]: values for name, values in outputs.items() if name in _CATALOG_NAMES
    }
    columns.setdefault("predict_flag", np.full(len(X), "", dtype=object))
    order = [name for name in PREDICTION_COLUMNS if name in columns]
    return pd.DataFrame({name: columns[name] for name in order}, index=X.index)


def check_model_bands(model, columns):
    """Raise a ValueError naming the model's bands that the catalog lacks.

    Parameters
    ----------
    model : dict
        A :func:`~skphotoz.catalogs.model_file.load_model` payload.
    columns : iterable of str
        The catalog's columns.

    Examples
    --------
    >>> from skphotoz.catalogs.predict import check_model_bands
    >>> check_model_bands({"bands": ["g", "r"]}, ["id", "g", "r"])
    >>> check_model_bands({"bands": ["g", "r"]}, ["id", "r"])
    Traceback (most recent call last):
    ...
    ValueError: The catalog lacks the band column(s) ['g'] ...
    """
    missing = [b for b in model["bands"] if b not in set(map(str, columns))]
    if missing:
        raise ValueError(
            f"The catalog lacks the band column(s) {missing} that the model was trained on "
            f"(model bands, in order: {model['bands']}). Rename the catalog columns to match."
        )


def _join_flags(*flags):
    """One flag string from several, each token once, in order."""
    return ";".join(dict.fromkeys(t for flag in flags for t in flag.split(";") if t))


def _catalog_labels(values):
    """Type labels as catalog text; a galaxy the model left unlabelled gets ""."""
    values = np.asarray(values, dtype=object)
    return np.where(pd.isna(values), "", values.astype(str)).astype(object)


def predict_chunk(model, chunk):
    """Input columns + predictions for one DataFrame chunk; nothing is dropped.

    A row with a missing band (NaN or a placeholder after conversion) is
    flagged ``"missing:<bands>"``. A model that does not accept missing bands
    (:func:`accepts_missing_bands`) is not asked about it: its predictions
    are NaN. One that does predicts it; when the band never reached the
    final estimator (an imputer before it filled the band, so the model
    reports no ``missing:`` token of its own) the flag reads
    ``"imputed:<bands>"``. A row with no observed band at all is never
    predicted, whatever the model: an imputer would make up every magnitude.
    It gets NaN and ``"missing:<every band>;too_few_bands"``, the token a
    network gives a galaxy with fewer observed bands than it predicts from.
    Flags the model returns are appended after a ``;``.

    Parameters
    ----------
    model : dict
        A :func:`~skphotoz.catalogs.model_file.load_model` payload.
    chunk : pandas.DataFrame
        Catalog rows with at least the model's band columns.

    Returns
    -------
    pandas.DataFrame
        ``chunk`` (index reset) with :data:`PREDICTION_COLUMNS` appended
        (the error columns only for models that give them); prediction
        columns already in ``chunk`` are replaced.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from skphotoz import JointMorphZ
    >>> from skphotoz.catalogs.predict import predict_chunk
    >>> rng = np.random.default_rng(0)
    >>> X = pd.DataFrame(rng.normal(22, 1, (40, 2)), columns=["g", "r"])
    >>> y = np.column_stack([np.where(X["g"] > 22, "LT", "ET"), np.abs(X["r"] - 21) / 4])
    >>> net = JointMorphZ(
    ...     base_units=(8,), class_units=(4,), class_dropout=(0.1,), epochs=1,
    ...     missing_bands="error",
    ... )
    >>> model = {"estimator": net.fit(X, y), "bands": ["g", "r"], "unit": "mag", "sentinels": None}
    >>> chunk = pd.DataFrame({"id": [7, 8], "g": [21.5, -99.0], "r": [21.0, 22.0]})
    >>> result = predict_chunk(model, chunk)
    >>> result["id"].tolist(), result["predict_flag"][1], result["z_phot"].isna().tolist()
    ([7, 8], 'missing:g', [False, True])
    """
    check_model_bands(model, chunk.columns)
    estimator = model["estimator"]
    mags = catalog_magnitudes(chunk, model["bands"], model["unit"], model["sentinels"])
    flags = missing_band_flags(mags)
    if accepts_missing_bands(estimator):
        usable = mags.notna().any(axis=1).to_numpy()
        flags[~usable] = [_join_flags(f, _TOO_FEW_BANDS) for f in flags[~usable]]
    else:
        usable = mags.notna().all(axis=1).to_numpy()
    out = chunk.reset_index(drop=True)
    out = out.drop(columns=[c for c in PREDICTION_COLUMNS if c in out.columns])  # re-prediction
    pred = pd.DataFrame(
        {"p_lt": np.nan, "type": "", "z_phot": np.nan}, index=range(len(out))
    ).astype({"type": object})
    if usable.any():
        done = predict_block(estimator, mags[usable])
        for name in done.columns.drop("predict_flag"):
            values = done[name].to_numpy()
            if name == "type":
                values = _catalog_labels(values)  # catalogs store labels as text
            elif name not in pred.columns:
                pred[name] = np.nan
            pred.loc[usable, name] = values
        said = done["predict_flag"].fillna("").astype(str).to_numpy()
        rows = np.flatnonzero(usable)
        for i in np.flatnonzero((said != "") | (flags[rows] != "")):  # the few flagged rows
            own = flags[rows[i]]
            # A model that saw the gap reports it ("missing:..." in its flags); one that
            # did not had the band filled by an earlier pipeline step.
            if own and "missing:" not in said[i]:
                own = "imputed:" + own.removeprefix("missing:")
            flags[rows[i]] = _join_flags(own, said[i])
    pred["predict_flag"] = flags
    return pd.concat([out, pred], axis=1)


# ------------------------------------------------------------- PDF files
def pdf_columns(pdf_format, z_grid=None):
    """The value columns of a PDF file: quantile levels or grid redshifts in the name.

    ``"quantiles"``: ``z_q<digits>`` for each of :data:`PDF_QUANTILE_LEVELS`,
    where the level is ``0.<digits>`` (``z_q025`` is the 0.025 quantile,
    ``z_q50`` the median). ``"grid"``: ``pdf_<z>`` for each redshift of
    ``z_grid``, written as the shortest text that reads back as the same
    float32 (the precision the densities are stored in), or in full float64
    if that would make two names equal.

    Parameters
    ----------
    pdf_format : {"quantiles", "grid"}
    z_grid : array-like of shape (n_grid,), optional
        The model's ``z_grid_``; needed for ``"grid"``.

    Returns
    -------
    list of str

    Examples
    --------
    >>> from skphotoz.catalogs.predict import pdf_columns
    >>> pdf_columns("quantiles")[:4], pdf_columns("quantiles")[6]
    (['z_q01', 'z_q025', 'z_q05', 'z_q10'], 'z_q50')
    >>> pdf_columns("grid", [0.0, 0.0066331658291457, 1.32])
    ['pdf_0.0', 'pdf_0.0066331658', 'pdf_1.32']
    >>> [float("0." + name[3:]) for name in pdf_columns("quantiles")][:3]  # reading back
    [0.01, 0.025, 0.05]
    """
    if pdf_format == "quantiles":
        # The digits after "0.", at least two: 0.1 -> "10", 0.025 -> "025".
        return [f"z_q{f'{q:.6f}'.rstrip('0')[2:]:0<2}" for q in PDF_QUANTILE_LEVELS]
    if pdf_format != "grid":
        raise ValueError(f"pdf_format is 'quantiles' or 'grid', not {pdf_format!r}.")
    z_grid = np.asarray(z_grid, dtype=np.float64)
    names = [f"pdf_{np.format_float_positional(np.float32(z), trim='0')}" for z in z_grid]
    if len(set(names)) < len(names):  # grid points closer than float32 tells apart
        names = [f"pdf_{float(z)!r}" for z in z_grid]
    return names


def check_pdf_model(model):
    """Raise a ValueError, saying how to refit, unless the model gives redshift PDFs.

    The final estimator must have ``predict_pdf`` and a ``z_grid_`` (a
    network fitted with ``redshift_pdf``, or a
    :class:`~skphotoz.thresholding.YoudenThresholdCV` around one).

    Parameters
    ----------
    model : dict
        A :func:`~skphotoz.catalogs.model_file.load_model` payload.

    Returns
    -------
    estimator
        The final estimator, which gives the PDFs.

    Examples
    --------
    >>> from sklearn.dummy import DummyClassifier
    >>> from skphotoz.catalogs.predict import check_pdf_model
    >>> check_pdf_model({"estimator": DummyClassifier()})
    Traceback (most recent call last):
    ...
    ValueError: The model has no redshift-PDF head, so there is no p(z) to write: ...
    """
    # Imported here: skphotoz.validation imports catalogs.photometry while it loads.
    from skphotoz.validation import final_estimator

    final = final_estimator(model["estimator"])
    if not hasattr(final, "predict_pdf") or getattr(final, "z_grid_", None) is None:
        raise ValueError(
            "The model has no redshift-PDF head, so there is no p(z) to write: refit it with "
            "redshift_pdf='mixture' or 'bins' (`skphotoz fit ... --redshift-pdf mixture`)."
        )
    return final


class _PdfWriter:
    """A PDF file, written chunk by chunk, row for row with predict_catalog's output.

    Everything that can refuse the request (a model without a PDF head, a
    path of no known format, an id column the catalog lacks or one that
    clashes) is checked when it is made, before any file is written.
    """

    def __init__(self, path, model, catalog, pdf_format, id_columns):
        self.z_grid = check_pdf_model(model).z_grid_
        catalog_format(path)  # a suffix no writer knows
        self.path, self.model = path, model
        self.format, self.id_columns = pdf_format, list(id_columns)
        self.columns = pdf_columns(pdf_format, self.z_grid)
        clash = [c for c in self.id_columns if c in {ROW_COLUMN, *self.columns}]
        if clash:
            raise ValueError(
                f"PDF id columns {clash} would clash with a column the PDF file has anyway "
                f"({ROW_COLUMN}, z_q.. or pdf_..); rename the catalog column."
            )
        if self.id_columns:
            present = set(map(str, next(iter_catalog(catalog, chunk_size=1)).columns))
            lacking = [c for c in self.id_columns if c not in present]
            if lacking:
                raise ValueError(
                    f"{catalog} has no column(s) {lacking} to copy into the PDF file "
                    f"(CLI: --pdf-id-col); its columns: {sorted(present)[:20]}."
                )
        self.writer, self.written, self.n_with_pdf = None, 0, 0

    def open(self, n_rows, *, overwrite, string_widths):
        self.writer = ChunkWriter(
            self.path, n_rows, overwrite=overwrite, string_widths=string_widths
        )

    def write(self, chunk, result):
        """Append the PDFs of ``chunk``, given its predictions ``result`` (predict_chunk's).

        A galaxy gets a PDF where the main output has a z_phot (its bands were
        enough for the model); every other row is NaN, never dropped.
        """
        n = len(chunk)
        values = np.full((n, len(self.columns)), np.nan, dtype=np.float32)
        rows = np.flatnonzero(result["z_phot"].notna().to_numpy())
        if len(rows):
            # Imported here: skphotoz.validation imports catalogs.photometry while it loads.
            from skphotoz.validation import final_step

            model = self.model
            mags = catalog_magnitudes(
                chunk.iloc[rows], model["bands"], model["unit"], model["sentinels"]
            )
            for start in range(0, len(rows), _PDF_BLOCK):
                # The steps before the final estimator (an imputer) transform X for it.
                final, X = final_step(model["estimator"], mags.iloc[start : start + _PDF_BLOCK])
                pdf = final.predict_pdf(X)
                if self.format == "quantiles":
                    pdf = pdf_quantiles(self.z_grid, pdf, PDF_QUANTILE_LEVELS)
                values[rows[start : start + _PDF_BLOCK]] = pdf
        ids = {name: chunk[name].to_numpy() for name in self.id_columns}
        ids[ROW_COLUMN] = np.arange(self.written, self.written + n, dtype=np.int64)
        self.writer.write(
            pd.concat([pd.DataFrame(ids), pd.DataFrame(values, columns=self.columns)], axis=1)
        )
        self.written += n
        self.n_with_pdf += int(np.isfinite(values[:, 0]).sum())

    def close(self):
        self.writer.close()


def predict_catalog(
    model,
    catalog,
    output,
    *,
    chunk_size=DEFAULT_CHUNK_SIZE,
    overwrite=False,
    progress=True,
    pdf_path=None,
    pdf_format="quantiles",
    pdf_id_columns=(),
):
    """Predict every row of a catalog file and write input columns + predictions.

    Reads and writes chunk by chunk (:func:`~skphotoz.catalogs.formats.iter_catalog`,
    :class:`~skphotoz.catalogs.formats.ChunkWriter`), so memory is set by
    ``chunk_size``, not by the catalog, for FITS, parquet and CSV.

    With ``pdf_path`` the same loop also writes each galaxy's redshift PDF
    p(z) to a second file, chunk for chunk, so its row i is ``output``'s row
    i: the ``pdf_id_columns``, :data:`ROW_COLUMN` (0-based), then the
    :data:`PDF_QUANTILE_LEVELS` quantiles (``"quantiles"``) or the densities
    on the model's ``z_grid_`` (``"grid"``), float32, named as
    :func:`pdf_columns` says. A row without a prediction (too few bands) is
    NaN there, never left out. A model without a PDF head
    (:func:`check_pdf_model`) or id columns the catalog lacks are refused
    before any file is written.

    Parameters
    ----------
    model : dict or path-like
        A :func:`~skphotoz.catalogs.model_file.save_model` payload or ``.skz`` path.
    catalog, output : path-like
        Input and output catalogs (any supported format, chosen by suffix).
    chunk_size : int, default=100000
        Rows per chunk.
    overwrite : bool, default=False
        Replace ``output`` (and ``pdf_path``) if it exists.
    progress : bool, default=True
        A tqdm bar over rows.
    pdf_path : path-like, optional
        Also write the redshift PDFs here (any supported format).
    pdf_format : {"quantiles", "grid"}, default="quantiles"
        What the PDF file holds of each p(z).
    pdf_id_columns : sequence of str, default=()
        Catalog columns (e.g. the galaxy ID) copied into the PDF file.

    Returns
    -------
    dict
        Counts: ``n_rows``, ``n_predicted``, ``n_flagged``, and with
        ``pdf_path`` ``n_with_pdf`` (rows with a finite PDF).

    Examples
    --------
    >>> import os, tempfile
    >>> import numpy as np, pandas as pd
    >>> from skphotoz import JointMorphZ
    >>> from skphotoz.catalogs import predict_catalog, read_catalog, write_catalog
    >>> rng = np.random.default_rng(0)
    >>> X = pd.DataFrame(rng.normal(22, 1, (40, 2)), columns=["g", "r"])
    >>> y = np.column_stack([np.where(X["g"] > 22, "LT", "ET"), np.abs(X["r"] - 21) / 4])
    >>> net = JointMorphZ(base_units=(8,), class_units=(4,), class_dropout=(0.1,), epochs=1)
    >>> model = {"estimator": net.fit(X, y), "bands": ["g", "r"], "unit": "mag", "sentinels": None}
    >>> folder = tempfile.mkdtemp()
    >>> write_catalog(X.assign(id=range(40)), os.path.join(folder, "in.parquet"))
    >>> counts = predict_catalog(
    ...     model, os.path.join(folder, "in.parquet"), os.path.join(folder, "out.fits"),
    ...     chunk_size=16, progress=False,
    ... )
    >>> counts["n_rows"], counts["n_predicted"]
    (40, 40)
    """
    from tqdm.auto import tqdm

    if not isinstance(model, dict):
        model = load_model(model)
    fmt_in = catalog_format(catalog)
    pdf = None
    if pdf_path is not None:
        pdf = _PdfWriter(pdf_path, model, catalog, pdf_format, pdf_id_columns)
    n_rows = count_rows(catalog, fmt_in)
    widths = declared_string_widths(catalog, fmt_in)
    writer = ChunkWriter(output, n_rows, overwrite=overwrite, string_widths=widths)
    if pdf is not None:
        pdf.open(n_rows, overwrite=overwrite, string_widths=widths)
    counts = {"n_rows": 0, "n_predicted": 0, "n_flagged": 0}
    with tqdm(total=n_rows, unit="row", disable=None if progress else True, desc="predict") as bar:
        for chunk in iter_catalog(catalog, chunk_size=chunk_size, format=fmt_in):
            if counts["n_rows"] == 0:
                check_model_bands(model, chunk.columns)
            result = predict_chunk(model, chunk)
            writer.write(result)
            if pdf is not None:
                pdf.write(chunk, result)
            counts["n_rows"] += len(result)
            counts["n_predicted"] += int(result["z_phot"].notna().sum())
            counts["n_flagged"] += int((result["predict_flag"] != "").sum())
            bar.update(len(result))
    writer.close()
    if pdf is not None:
        pdf.close()
        counts["n_with_pdf"] = pdf.n_with_pdf
    return counts


# ----------------------------------------------------------------- dask
def _predict_partition(frame, estimator, columns, label_dtype):
    """One partition plus p_lt, type and z_phot."""
    pred = predict_block(estimator, frame[columns])
    out = frame.copy()
    out["p_lt"] = pred["p_lt"].to_numpy(dtype=np.float64)
    out["type"] = pred["type"].to_numpy().astype(label_dtype)
    out["z_phot"] = pred["z_phot"].to_numpy(dtype=np.float64)
    return out


def predict_partitions(estimator, data, *, columns=None, chunksize=None):
    """Predict type and redshift for a catalog of any size, lazily, over dask partitions.

    Needs dask (``pip install "skphotoz[dask]"``). The band columns go to
    the estimator as they are: convert fluxes and sentinels first, or use
    :func:`predict_catalog`, which also writes flags and ensemble errors.

    Parameters
    ----------
    estimator : fitted estimator
        :class:`~skphotoz.JointMorphZ`, :class:`~skphotoz.ReplicaEnsemble`,
        or any fitted estimator (e.g. a Pipeline) that :func:`predict_block`
        can use.
    data : pandas.DataFrame, dask.dataframe.DataFrame, str or path-like
        The catalog; a path (file, folder or glob) is read as parquet.
    columns : list of str, optional
        Band columns fed to the estimator, in its training order. Defaults to
        the estimator's ``feature_names_in_``.
    chunksize : int, optional
        Rows per partition when ``data`` is a pandas DataFrame (default
        :data:`DEFAULT_CHUNK_SIZE`); existing dask or parquet partitions are
        kept as they are.

    Returns
    -------
    dask.dataframe.DataFrame
        Lazy: the input columns plus ``p_lt`` (P(late type)), ``type`` (the
        predicted label) and ``z_phot``. Nothing runs until ``.compute()``,
        ``.to_parquet(...)`` or ``.persist()``, on dask's local threads or on
        the cluster of an active ``distributed.Client``.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from skphotoz import JointMorphZ
    >>> from skphotoz.catalogs.predict import predict_partitions
    >>> rng = np.random.default_rng(0)
    >>> X = pd.DataFrame(rng.normal(22, 1, (60, 3)), columns=["g", "r", "i"])
    >>> y = np.column_stack([np.where(X["g"] > 22, "LT", "ET"), np.abs(X["r"] - 21) / 4])
    >>> model = JointMorphZ(base_units=(8,), class_units=(4,), class_dropout=(0.1,), epochs=1)
    >>> out = predict_partitions(model.fit(X, y), X, chunksize=25)
    >>> out.npartitions, list(out.columns)
    (3, ['g', 'r', 'i', 'p_lt', 'type', 'z_phot'])
    """
    try:
        import dask.dataframe as dd
    except ImportError as exc:  # dask is an optional extra
        raise ImportError('predict_partitions needs dask: pip install "skphotoz[dask]".') from exc

    check_is_fitted(estimator)
    if isinstance(data, (str, os.PathLike)):
        data = dd.read_parquet(data)
    elif isinstance(data, pd.DataFrame):
        data = dd.from_pandas(data, chunksize=chunksize or DEFAULT_CHUNK_SIZE, sort=False)
    elif not isinstance(data, dd.DataFrame):
        raise TypeError(
            "data must be a pandas DataFrame, a dask DataFrame or a parquet path; got "
            f"{type(data).__name__}."
        )
    if columns is None:
        if not hasattr(estimator, "feature_names_in_"):
            raise ValueError(
                "The estimator was fitted without column names; pass columns=[...] with its "
                "bands in training order."
            )
        columns = [str(c) for c in estimator.feature_names_in_]
    columns = list(columns)
    missing = [c for c in columns if c not in data.columns]
    if missing:
        raise ValueError(f"The catalog lacks the band column(s) {missing}.")
    clash = [c for c in PARTITION_COLUMNS if c in data.columns]
    if clash:
        raise ValueError(
            f"The catalog already has column(s) {clash}, which predict_partitions would overwrite; "
            "rename or drop them first."
        )
    classes = np.asarray(getattr(estimator, "classes_", np.array(["ET", "LT"])))
    label_dtype = object if classes.dtype.kind in "USO" else classes.dtype
    meta = _predict_partition(data._meta, estimator, columns, label_dtype)
    return data.map_partitions(
        _predict_partition, estimator, columns, label_dtype, meta=meta, align_dataframes=False
    )
