"""ReplicaEnsemble: bootstrap replicas as one estimator, with per-galaxy uncertainties."""

import pickle

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.model_selection import cross_validate

from skphotoz.model_selection import StratifiedTypeKFold
from skphotoz.nn.ensemble import ReplicaEnsemble

from .conftest import TINY, make_joint_sample


@pytest.fixture(scope="module")
def sample():
    X, y, types, redshift = make_joint_sample(n=40)
    return X, y, types == "LT", redshift


@pytest.fixture(scope="module")
def ensemble(sample):
    X, y, _, _ = sample
    return ReplicaEnsemble(**TINY, n_replicas=5).fit(X, y)


def test_ensemble_predictions_and_uncertainty(ensemble, sample):
    X, y, _, _ = sample
    frame = pd.DataFrame(X, index=np.arange(100, 100 + len(X)))
    table = ensemble.predict_uncertainty(frame)
    assert list(table.columns) == [
        "p_late", "p_late_err", "z_phot", "z_phot_err", "z_phot_lo68", "z_phot_hi68",
    ]  # fmt: skip
    assert table.index[0] == 100
    np.testing.assert_allclose(table["p_late"], ensemble.predict_proba(X)[:, 1])
    np.testing.assert_allclose(table["z_phot"], ensemble.predict_redshift(X))
    assert (table["p_late_err"] > 0).all() and (table["z_phot_err"] > 0).all()
    assert (table["z_phot_lo68"] <= table["z_phot_hi68"]).all()
    joint = ensemble.predict(X)
    assert joint.shape == (len(X), 2) and set(joint[:, 0]) <= {"ET", "LT"}
    assert np.isfinite(ensemble.score(X, y))


def test_ensemble_bootstrap_counts_are_stratified_resamples(ensemble, sample):
    _, _, late, _ = sample
    counts = ensemble.bootstrap_counts_
    assert counts.shape == (len(late), 5)
    np.testing.assert_array_equal(counts[late].sum(axis=0), late.sum())
    np.testing.assert_array_equal(counts[~late].sum(axis=0), (~late).sum())
    assert (counts == 0).any(axis=0).all()  # every replica has out-of-bag rows
    assert len({tuple(c) for c in counts.T}) == 5  # different resamples


def test_ensemble_pickle_clone_and_cv(ensemble, sample):
    X, y, _, _ = sample
    restored = pickle.loads(pickle.dumps(ensemble))
    np.testing.assert_array_equal(restored.predict_proba(X), ensemble.predict_proba(X))
    np.testing.assert_array_equal(restored.predict_redshift(X), ensemble.predict_redshift(X))
    assert clone(ensemble).get_params() == ensemble.get_params()
    scores = cross_validate(ReplicaEnsemble(**TINY, n_replicas=2), X, y, cv=StratifiedTypeKFold(2))[
        "test_score"
    ]
    assert np.all(np.isfinite(scores))


def test_ensemble_single_replica_has_zero_spread(sample):
    X, y, _, _ = sample
    y_int = np.column_stack([(y[:, 0] == "LT").astype(int), y[:, 1]])
    model = ReplicaEnsemble(**TINY, n_replicas=1).fit(X, y_int)
    assert model.classes_.tolist() == [0, 1]
    assert (model.predict_uncertainty(X)["z_phot_err"] == 0).all()


def test_ensemble_validates_input(sample):
    X, y, _, _ = sample
    with pytest.raises(ValueError, match="n_replicas"):
        ReplicaEnsemble(n_replicas=0).fit(X, y)
    bad = X.copy()
    bad[3, 1] = -99.0
    with pytest.raises(ValueError, match="sentinel"):
        ReplicaEnsemble(**TINY, n_replicas=2).fit(bad, y)


def test_error_calibration_scales_the_replica_spread():
    X, y = make_joint_sample(n=120, seed=1)[:2]
    raw = ReplicaEnsemble(**TINY, n_replicas=8, calibrate_errors=False).fit(X, y)
    calibrated = ReplicaEnsemble(**TINY, n_replicas=8).fit(X, y)
    assert raw.error_scale_ == 1.0
    assert np.isfinite(calibrated.error_scale_) and calibrated.error_scale_ > 0
    spread = calibrated._replica_outputs(X)[1].std(axis=1, ddof=1)
    table = calibrated.predict_uncertainty(X)
    np.testing.assert_allclose(table["z_phot_err"], calibrated.error_scale_ * spread)
    replicas = calibrated._replica_outputs(X)[1]
    lo, hi = np.percentile(replicas, [16, 84], axis=1)
    mean, scale = replicas.mean(axis=1), calibrated.error_scale_
    # Stretched about the mean, then clipped to the redshift bounds as z_phot is.
    bounds = calibrated.coverage_.redshift_bounds()
    np.testing.assert_allclose(table["z_phot_lo68"], np.clip(mean - scale * (mean - lo), *bounds))
    np.testing.assert_allclose(table["z_phot_hi68"], np.clip(mean + scale * (hi - mean), *bounds))
    np.testing.assert_allclose(
        raw.predict_uncertainty(X)["z_phot_err"], raw._replica_outputs(X)[1].std(axis=1, ddof=1)
    )


def test_out_of_bag_scale_covers_the_requested_fraction():
    from skphotoz.nn.ensemble import out_of_bag_error_scale

    rng = np.random.default_rng(2)
    z = rng.uniform(0, 1, 3000)
    replicas = z[:, None] + rng.normal(0, 0.03, (3000, 25)) + rng.normal(0, 0.05, (3000, 1))
    counts = rng.poisson(1.0, (3000, 25))
    scale = out_of_bag_error_scale(replicas, z, counts)
    oob = np.ma.masked_array(replicas, mask=counts != 0)
    usable = oob.count(axis=1) >= 3
    residual = np.abs(oob.mean(axis=1)[usable] - z[usable])
    covered = residual <= scale * oob.std(axis=1, ddof=1)[usable]
    assert covered.mean() == pytest.approx(0.68, abs=0.002)
    # Too few out-of-bag galaxies: no calibration rather than a noisy one.
    assert out_of_bag_error_scale(replicas[:5], z[:5], counts[:5]) == 1.0
