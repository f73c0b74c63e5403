"""Catalog prediction over dask partitions, and fold loops on a local dask cluster."""

import sys

import dask.dataframe as dd
import joblib
import numpy as np
import pandas as pd
import pytest
from sklearn.model_selection import cross_validate
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skphotoz import JointMorphZ
from skphotoz.catalogs.predict import predict_partitions
from skphotoz.model_selection import StratifiedTypeKFold

from .conftest import TINY, make_joint_sample
from .test_io import JointRule


@pytest.fixture(scope="module")
def fitted():
    X, _, types, redshift = make_joint_sample(n=90)
    frame = pd.DataFrame(X, columns=[f"mag_{b}" for b in "ugriz"])
    y = pd.DataFrame({"type": types, "redshift": redshift})
    return JointMorphZ(**TINY).fit(frame, y), frame, y


def _expected(model, frame):
    joint = model.predict(frame)
    return model.predict_proba(frame)[:, 1], joint[:, 0], joint[:, 1].astype(float)


def _check(out, model, frame):
    p_late, labels, z_phot = _expected(model, frame)
    np.testing.assert_allclose(out["p_lt"].to_numpy(), p_late, atol=1e-6)  # float32 round-off
    np.testing.assert_array_equal(out["type"].to_numpy(), labels)
    np.testing.assert_allclose(out["z_phot"].to_numpy(), z_phot, atol=1e-6)
    pd.testing.assert_frame_equal(out[frame.columns], frame)


def test_pandas_input_is_split_and_lazy(fitted):
    model, frame, _ = fitted
    catalog = frame.assign(ra=np.arange(len(frame)))
    out = predict_partitions(model, catalog, chunksize=40)
    assert isinstance(out, dd.DataFrame) and out.npartitions == 3
    assert list(out.columns) == [*catalog.columns, "p_lt", "type", "z_phot"]
    result = out.compute()
    _check(result, model, frame)
    np.testing.assert_array_equal(result["ra"], catalog["ra"])


def test_parquet_path(fitted, tmp_path):
    model, frame, _ = fitted
    dd.from_pandas(frame, npartitions=2).to_parquet(tmp_path / "catalog")
    out = predict_partitions(model, tmp_path / "catalog").compute()
    _check(out.reset_index(drop=True), model, frame)


def test_pipeline_uses_public_api(fitted):
    model, frame, y = fitted
    pipe = make_pipeline(StandardScaler(), JointMorphZ(**TINY)).fit(frame, y)
    out = predict_partitions(pipe, frame, chunksize=50).compute()
    _check(out, pipe, frame)


def test_bad_catalogs(fitted):
    model, frame, _ = fitted
    with pytest.raises(ValueError, match=r"lacks the band column\(s\) \['mag_z'\]"):
        predict_partitions(model, frame.drop(columns="mag_z"))
    with pytest.raises(ValueError, match="already has column"):
        predict_partitions(model, frame.assign(type="x"))
    with pytest.raises(TypeError, match="pandas DataFrame, a dask DataFrame"):
        predict_partitions(model, frame.to_numpy())
    bare = JointMorphZ(**TINY).fit(frame.to_numpy(), fitted[2].to_numpy())
    with pytest.raises(ValueError, match="columns="):
        predict_partitions(bare, frame)
    # Bad photometry in one partition surfaces with the band named, at compute time.
    dirty = frame.copy()
    dirty.loc[70, "mag_r"] = 99.0
    with pytest.raises(ValueError, match="mag_r: 1 row"):
        predict_partitions(model, dirty, chunksize=40).compute()


def test_predict_joint_is_used_when_declared(fitted):
    _, frame, _ = fitted
    rule = JointRule().fit(frame)
    out = predict_partitions(rule, frame, chunksize=40).compute()
    assert list(out.columns) == [*frame.columns, "p_lt", "type", "z_phot"]
    expected = rule.predict_joint(frame)
    np.testing.assert_allclose(out["p_lt"], expected["p_late"])
    np.testing.assert_array_equal(out["type"], expected["type"])
    np.testing.assert_allclose(out["z_phot"], expected["z_phot"])


def test_without_dask_the_error_names_the_extra(fitted, monkeypatch):
    monkeypatch.setitem(sys.modules, "dask.dataframe", None)  # as if dask were not installed
    with pytest.raises(ImportError, match=r'pip install "skphotoz\[dask\]"'):
        predict_partitions(fitted[0], fitted[1])


def test_local_dask_cluster_runs_catalog_and_cross_validation(fitted):
    distributed = pytest.importorskip("distributed")
    model, frame, y = fitted
    # joblib's dask backend sizes n_jobs to the cluster's threads: with one
    # thread it would run the folds sequentially in this process.
    cluster = distributed.LocalCluster(
        n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None
    )
    with cluster, distributed.Client(cluster) as client:
        with distributed.get_task_stream(client) as stream:
            out = predict_partitions(model, dd.from_pandas(frame, npartitions=3)).compute()
        assert len(stream.data) >= 3  # the partitions ran as tasks on the cluster
        _check(out, model, frame)

        cv = StratifiedTypeKFold(3, shuffle=True, random_state=0)
        with distributed.get_task_stream(client) as stream:
            with joblib.parallel_backend("dask"):
                scores = cross_validate(JointMorphZ(**TINY), frame, y, cv=cv, n_jobs=2)
        assert len(stream.data) >= 1  # joblib batches the fold fits into cluster tasks
        workers = {entry["worker"] for entry in stream.data}
        assert workers <= set(client.scheduler_info()["workers"])
    # Two fits share one process here, so their Keras global seeds race and the
    # scores are not bit-for-bit those of a sequential run; what is checked is
    # that the folds ran on the cluster and gave usable scores.
    assert scores["test_score"].shape == (3,)
    assert np.all(np.isfinite(scores["test_score"]))
