"""Scale-out: large catalogs over dask partitions, fold loops on a dask cluster.

Two mechanisms, both from well-kept libraries, so the code a user runs on a
laptop runs unchanged on a cluster:

* **Catalog prediction.** :func:`predict_partitions` maps a fitted estimator
  over the partitions of a dask DataFrame (``map_partitions``) and returns a
  lazy dask DataFrame with the input columns plus ``p_lt``, ``type`` and
  ``z_phot``. A pandas DataFrame is split into partitions, a parquet path is
  read with ``dask.dataframe.read_parquet``. Nothing runs until you call
  ``.compute()``, ``.to_parquet(...)`` or ``.persist()``; the scheduler that
  runs it is dask's: the local threads by default, or a cluster when a
  ``distributed.Client`` is active.
* **Fold and replica loops.** Everything in skphotoz that loops over folds
  or replicas (``cross_validate`` of :class:`~skphotoz.JointMorphZ`, the
  model-selection helpers) runs through joblib, so joblib's dask backend
  sends each fit to the cluster's workers.

On a cluster::

    from distributed import Client
    import joblib
    from sklearn.model_selection import cross_validate
    from skphotoz.catalogs.scaleout import predict_partitions

    client = Client("tcp://scheduler:8786")   # or Client(LocalCluster())
    predict_partitions(model, "catalog/*.parquet").to_parquet("predicted/")
    with joblib.parallel_backend("dask"):
        cross_validate(JointMorphZ(), X, y, cv=StratifiedTypeKFold(5), n_jobs=-1)

The estimator travels to the workers by pickle (:class:`~skphotoz.JointMorphZ`
and :class:`~skphotoz.nn.replica.ReplicaEnsemble` pickle their weights and
rebuild the network), so workers need skphotoz and the same Keras backend.
"""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
from sklearn.utils.validation import check_is_fitted

#: Output columns added by :func:`predict_partitions`.
OUTPUT_COLUMNS = ("p_lt", "type", "z_phot")

#: Rows per partition when a pandas DataFrame is split.
DEFAULT_CHUNKSIZE = 100_000


def _predict_frame(frame, estimator, columns, label_dtype):
    """Predictions for one partition: the partition plus p_lt, type and z_phot."""
    out = frame.copy()
    if len(frame) == 0:  # dask probes and empty partitions: sklearn rejects 0 rows
        out["p_lt"] = np.empty(0)
        out["type"] = np.empty(0, dtype=label_dtype)
        out["z_phot"] = np.empty(0)
        return out
    X = frame[columns]
    if hasattr(estimator, "_forward") and hasattr(estimator, "threshold"):
        # One forward pass gives both outputs; predict + predict_proba would run two.
        p_late, z_phot = estimator._forward(X)
        late = p_late >= estimator.threshold
        labels = np.where(late, estimator.classes_[1], estimator.classes_[0])
    else:  # a Pipeline or a threshold wrapper: use the public API
        joint = estimator.predict(X)
        labels, z_phot = joint[:, 0], joint[:, 1].astype(np.float64)
        p_late = estimator.predict_proba(X)[:, 1]
    out["p_lt"] = np.asarray(p_late, dtype=np.float64)
    out["type"] = np.asarray(labels).astype(label_dtype)
    out["z_phot"] = np.asarray(z_phot, dtype=np.float64)
    return out


def predict_partitions(estimator, data, *, columns=None, chunksize=None):
    """Predict type and redshift for a catalog of any size, lazily, over dask partitions.

    Parameters
    ----------
    estimator : fitted estimator
        :class:`~skphotoz.JointMorphZ`, :class:`~skphotoz.nn.replica.ReplicaEnsemble`,
        or any fitted estimator (e.g. a Pipeline) with ``predict`` returning
        ``[type, redshift]`` and ``predict_proba``.
    data : pandas.DataFrame, dask.dataframe.DataFrame, str or path-like
        The catalog; a path (file, folder or glob) is read as parquet.
    columns : list of str, optional
        Band columns fed to the estimator, in its training order. Defaults to
        the estimator's ``feature_names_in_``.
    chunksize : int, optional
        Rows per partition when ``data`` is a pandas DataFrame (default
        100,000); existing dask or parquet partitions are kept as they are.

    Returns
    -------
    dask.dataframe.DataFrame
        Lazy: the input columns plus ``p_lt`` (P(late type)), ``type`` (the
        predicted label) and ``z_phot``.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from skphotoz import JointMorphZ
    >>> from skphotoz.catalogs.scaleout import predict_partitions
    >>> rng = np.random.default_rng(0)
    >>> X = pd.DataFrame(rng.normal(22, 1, (60, 3)), columns=["g", "r", "i"])
    >>> y = np.column_stack([np.where(X["g"] > 22, "LT", "ET"), np.abs(X["r"] - 21) / 4])
    >>> model = JointMorphZ(base_units=(8,), class_units=(4,), class_dropout=(0.1,), epochs=1)
    >>> out = predict_partitions(model.fit(X, y), X, chunksize=25)
    >>> out.npartitions, list(out.columns)
    (3, ['g', 'r', 'i', 'p_lt', 'type', 'z_phot'])
    """
    import dask.dataframe as dd

    check_is_fitted(estimator)
    if isinstance(data, (str, os.PathLike)):
        data = dd.read_parquet(data)
    elif isinstance(data, pd.DataFrame):
        data = dd.from_pandas(data, chunksize=chunksize or DEFAULT_CHUNKSIZE, sort=False)
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
    clash = [c for c in OUTPUT_COLUMNS if c in data.columns]
    if clash:
        raise ValueError(
            f"The catalog already has column(s) {clash}, which predict_partitions would overwrite; "
            "rename or drop them first."
        )
    classes = getattr(estimator, "classes_", np.array(["ET", "LT"]))
    label_dtype = object if np.asarray(classes).dtype.kind in "USO" else np.asarray(classes).dtype
    meta = _predict_frame(data._meta, estimator, columns, label_dtype)
    return data.map_partitions(
        _predict_frame, estimator, columns, label_dtype, meta=meta, align_dataframes=False
    )
