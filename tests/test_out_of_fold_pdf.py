"""Out-of-fold redshift PDFs (issue 15): cross_val_predict_pdf on both paths of the engine."""

import functools

import numpy as np
import pandas as pd
import pytest
from sklearn.impute import SimpleImputer
from sklearn.model_selection import GroupKFold
from sklearn.pipeline import make_pipeline

import skphotoz.nn.replica as replica
from skphotoz import JointMorphZ
from skphotoz.model_selection import (
    StratifiedTypeKFold,
    cross_val_predict_joint,
    cross_val_predict_pdf,
)
from skphotoz.nn.density import replica_pdf_range
from skphotoz.pdf import default_z_grid

from .conftest import linear_pair, make_joint_sample

SMALL = {
    "base_units": (16,),
    "base_dropout": (0.0,),
    "class_units": (8,),
    "class_dropout": (0.0,),
    "epochs": 3,
    "batch_size": 16,
    "random_state": 0,
}


@pytest.fixture
def replica_calls(monkeypatch):
    """Record each replica call's weights and PDF range; skip XLA (seconds per tiny call)."""
    calls = []
    original = replica.train_replicas

    @functools.wraps(original)
    def recording(X, late, redshift, weights, **kwargs):
        calls.append({"weights": np.array(weights), "pdf_range": kwargs.get("pdf_range")})
        return original(X, late, redshift, weights, **{**kwargs, "jit_compile": False})

    monkeypatch.setattr(replica, "train_replicas", recording)
    return calls


def _assert_normalised(grid, pdf, n):
    assert pdf.shape == (n, len(grid))
    assert np.all(pdf >= 0)
    np.testing.assert_allclose(np.trapezoid(pdf, grid, axis=1), 1.0, atol=1e-9)


@pytest.mark.parametrize("family", ["mixture", "bins"])
def test_replica_path_gives_every_galaxy_a_normalised_pdf(family, replica_calls):
    X, y, _, redshift = make_joint_sample(n=60)
    model = JointMorphZ(redshift_pdf=family, **SMALL)
    grid, pdf = cross_val_predict_pdf(model, X, y, cv=3, random_state=0)
    assert len(replica_calls) == 1 and replica_calls[0]["weights"].shape == (60, 3)
    np.testing.assert_array_equal(grid, default_z_grid((redshift.min(), redshift.max())))
    _assert_normalised(grid, pdf, 60)


def test_training_and_evaluation_share_each_replicas_own_range(replica_calls):
    X, y, _, redshift = make_joint_sample(n=40)
    top = int(np.argmax(redshift))
    splits = [(np.setdiff1d(np.arange(40), test), test) for test in ([top], [0, 1, 2])]
    cross_val_predict_pdf(JointMorphZ(redshift_pdf="bins", **SMALL), X, y, cv=splits)
    (call,) = replica_calls
    z_lo, z_hi = call["pdf_range"]
    # The range is that of the redshifts the replicas train on (float32).
    expected = replica_pdf_range(redshift.astype(np.float32), call["weights"])
    np.testing.assert_array_equal(z_lo, expected[0])
    np.testing.assert_array_equal(z_hi, expected[1])
    # Replica 0 held out the highest redshift: its head's range never saw it.
    second = np.sort(redshift)[-2]
    assert z_hi[0] == pytest.approx(second + 0.1 * (second - redshift.min()))
    assert z_hi[0] < z_hi[1]


def test_per_fold_path_gives_normalised_pdfs_too(monkeypatch):
    import skphotoz.model_selection.out_of_fold as out_of_fold

    def no_replicas(*args, **kwargs):
        raise AssertionError("replicas=False must fit a clone per fold")

    monkeypatch.setattr(out_of_fold, "_fold_replicas", no_replicas)
    X, y, _, _ = make_joint_sample(n=60)
    model = JointMorphZ(redshift_pdf="mixture", **SMALL)
    # The same kind of answer as the replica path (not the same numbers: a
    # clone per fold trains with other batches and seeds).
    grid, pdf = cross_val_predict_pdf(model, X, y, cv=3, replicas=False, random_state=0)
    _assert_normalised(grid, pdf, 60)


def test_return_joint_gives_both_from_one_training_of_the_folds(replica_calls):
    X, y, _, _ = make_joint_sample(n=60)
    model = JointMorphZ(redshift_pdf="mixture", **SMALL)
    grid, pdf, joint = cross_val_predict_pdf(model, X, y, cv=3, random_state=0, return_joint=True)
    assert len(replica_calls) == 1  # the folds trained once, for both outputs
    # What the two separate calls give (same seeds, so the same replicas;
    # the tolerance absorbs float32 sums whose order threads may change).
    alone_grid, alone_pdf = cross_val_predict_pdf(model, X, y, cv=3, random_state=0)
    points = cross_val_predict_joint(model, X, y, cv=3, random_state=0)
    np.testing.assert_array_equal(grid, alone_grid)
    np.testing.assert_allclose(pdf, alone_pdf, rtol=1e-4, atol=1e-6)
    assert list(joint.columns) == list(points.columns)
    np.testing.assert_allclose(
        joint[["p_late", "z_phot"]], points[["p_late", "z_phot"]], rtol=1e-4, atol=1e-6
    )
    np.testing.assert_array_equal(joint["n_predictions"], points["n_predictions"])


def test_return_joint_on_the_per_fold_path_fits_each_fold_once(monkeypatch):
    import skphotoz.model_selection.out_of_fold as out_of_fold

    fits = []
    original = out_of_fold._fit_predict_fold

    def counting(*args, **kwargs):
        fits.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(out_of_fold, "_fit_predict_fold", counting)
    X, y, _, _ = make_joint_sample(n=45)
    X[::7, 2] = np.nan
    pipeline = make_pipeline(SimpleImputer(), JointMorphZ(redshift_pdf="bins", **SMALL))
    grid, pdf, joint = cross_val_predict_pdf(
        pipeline, X, y, cv=3, replicas=False, random_state=0, return_joint=True
    )
    assert len(fits) == 3
    _assert_normalised(grid, pdf, 45)
    assert joint.index.equals(pd.RangeIndex(45)) and joint["n_predictions"].eq(1).all()
    assert joint[["p_late", "z_phot"]].notna().all().all()


def test_pipeline_with_an_imputer_and_groups(replica_calls):
    X, y, _, _ = make_joint_sample(n=60)
    X[::7, 2] = np.nan
    groups = np.arange(60) % 4
    pipeline = make_pipeline(SimpleImputer(), JointMorphZ(redshift_pdf="mixture", **SMALL))
    grid, pdf = cross_val_predict_pdf(pipeline, X, y, cv=GroupKFold(4), groups=groups)
    assert len(replica_calls) == 1  # the Pipeline's network still trains as replicas
    _assert_normalised(grid, pdf, 60)


def test_pipeline_per_fold_predicts_through_its_steps():
    X, y, _, _ = make_joint_sample(n=45)
    X[::7, 2] = np.nan
    pipeline = make_pipeline(SimpleImputer(), JointMorphZ(redshift_pdf="bins", **SMALL))
    grid, pdf = cross_val_predict_pdf(pipeline, X, y, cv=3, replicas=False)
    _assert_normalised(grid, pdf, 45)


def test_a_galaxys_pdf_ignores_its_own_redshift(replica_calls):
    """Moving fold 0's redshifts far away changes fold 0's PDFs not at all, the others' a lot."""
    X, y, _, redshift = make_joint_sample(n=45)
    splits = list(StratifiedTypeKFold(3).split(X, y))
    test0 = splits[0][1]
    moved = y.copy()
    moved[test0, 1] = redshift[test0] + 5.0
    grid = np.linspace(0.0, 7.0, 141)
    model = JointMorphZ(redshift_pdf="mixture", **SMALL)
    _, pdf = cross_val_predict_pdf(model, X, y, cv=splits, z_grid=grid, random_state=0)
    _, pdf_moved = cross_val_predict_pdf(model, X, moved, cv=splits, z_grid=grid, random_state=0)
    np.testing.assert_allclose(pdf_moved[test0], pdf[test0], rtol=1e-4, atol=1e-6)
    others = np.setdiff1d(np.arange(45), test0)
    assert np.abs(pdf_moved[others] - pdf[others]).max() > 0.1


def test_a_galaxy_never_held_out_gets_nan():
    X, y, _, _ = make_joint_sample(n=40)
    splits = [(np.arange(10, 40), np.arange(10)), (np.arange(20, 40), np.arange(10, 20))]
    grid, pdf = cross_val_predict_pdf(
        JointMorphZ(redshift_pdf="bins", **SMALL), X, y, cv=splits, replicas=False
    )
    _assert_normalised(grid, pdf[:20], 20)
    assert np.isnan(pdf[20:]).all()


@pytest.mark.parametrize(
    "estimator, error",
    [
        (JointMorphZ(**SMALL), ValueError),
        (make_pipeline(SimpleImputer(), JointMorphZ(**SMALL)), ValueError),
        (linear_pair(), TypeError),
    ],
    ids=["no-head", "pipeline-no-head", "no-predict_pdf"],
)
def test_an_estimator_without_a_pdf_is_refused_before_any_fit(estimator, error):
    X, y, _, _ = make_joint_sample(n=30)
    with pytest.raises(error, match="redshift_pdf"):
        cross_val_predict_pdf(estimator, X, y, cv=3)


def test_a_grid_must_cover_the_sample():
    X, y, _, redshift = make_joint_sample(n=30)
    with pytest.raises(ValueError, match="cover"):
        cross_val_predict_pdf(
            JointMorphZ(redshift_pdf="bins", **SMALL), X, y, z_grid=np.linspace(0.5, 0.8, 20)
        )
