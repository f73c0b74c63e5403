"""Issue 17: every prediction the model cannot stand behind says so."""

import numpy as np
import pytest

from skphotoz import JointMorphZ, ReplicaEnsemble
from skphotoz.metrics import OUTLIER_LIMIT
from skphotoz.nn.coverage import TrainingCoverage

from .conftest import TINY, make_joint_sample


def test_about_one_percent_of_in_distribution_galaxies_are_flagged():
    rng = np.random.default_rng(0)
    X = rng.normal(22, 1, (4000, 5))
    coverage = TrainingCoverage().fit(X[:2000], rng.uniform(0, 1, 2000))
    _, outside, _ = coverage.flags(X[2000:], np.full(2000, 0.5))
    # Calibrated at the training galaxies' 99th percentile; a held-out draw
    # of 2000 has a binomial error of ~0.2%, and held-out galaxies sit a
    # little farther from the training set than the training set from itself.
    assert 0.003 <= outside.mean() <= 0.03


def test_far_galaxies_unseen_gaps_and_absurd_redshifts_are_flagged():
    rng = np.random.default_rng(1)
    X = rng.normal(22, 1, (500, 4))
    coverage = TrainingCoverage().fit(X, rng.uniform(0.1, 0.5, 500))
    probe = np.vstack([X[:1], X[:1] + [30, 0, 0, 0], X[:1]])
    probe[2, 3] = np.nan  # band 3 was never missing in training
    ratio, outside, z_bad = coverage.flags(probe, [0.3, 0.3, 3.0e8])
    assert outside.tolist() == [False, True, True]
    assert z_bad.tolist() == [False, False, True]
    assert ratio[1] > 10 * ratio[0]
    assert coverage.flags(X[:2], [-0.2, 0.55])[2].tolist() == [True, False]  # margin 0.08


def test_flag_catches_outliers_on_a_shifted_sample():
    """Train on z < 0.5, predict everything: the flagged galaxies are the bad ones."""
    X, y, _, z = make_joint_sample(n=900, seed=2)
    low = z < 0.5
    params = {**TINY, "base_units": (32,), "epochs": 40}
    model = JointMorphZ(**params).fit(X[low], y[low])
    out = model.predict_joint(X[~low])
    flagged = out["flags"].str.contains("out_of_coverage|z_out_of_range").to_numpy()
    dz = np.abs(out["z_phot"].to_numpy() - z[~low]) / (1 + z[~low])
    outlier = dz > OUTLIER_LIMIT
    assert flagged.sum() > 0 and (~flagged).sum() > 0
    assert outlier[flagged].mean() > 2 * outlier[~flagged].mean()
    assert outlier[flagged].sum() >= 0.5 * outlier.sum()  # recall of the flag


def test_coverage_column_and_flags_from_joint_prediction():
    X, y, _, _ = make_joint_sample()
    model = JointMorphZ(**TINY).fit(X, y)
    probe = np.vstack([X[:3], X[:1] + 40])
    out = model.predict_joint(probe)
    assert out["coverage_distance"].iloc[3] > 1 >= out["coverage_distance"].iloc[0]
    assert "out_of_coverage" in out["flags"].iloc[3]


def test_replica_disagreement_flag(fast_replicas):
    X, y, _, _ = make_joint_sample()
    model = ReplicaEnsemble(**TINY, n_replicas=3).fit(X, y)
    assert model.typical_spread_ > 0
    out = model.predict_joint(X)
    assert "replica_disagreement" not in ";".join(out["flags"])  # none on training-like data
    model.typical_spread_ = 1e-9  # every real spread now exceeds the threshold
    assert (
        out.shape[0] == model.predict_joint(X)["flags"].str.contains("replica_disagreement").sum()
    )


@pytest.mark.parametrize("estimator", [JointMorphZ, ReplicaEnsemble])
def test_out_of_coverage_row_still_gets_its_number(estimator, fast_replicas):
    X, y, _, _ = make_joint_sample()
    model = (
        estimator(**TINY).fit(X, y)
        if estimator is JointMorphZ
        else estimator(**TINY, n_replicas=2).fit(X, y)
    )
    out = model.predict_joint(X[:1] + 40)
    assert np.isfinite(out["z_phot"]).all()  # flagged, not hidden: the user decides


def test_out_of_range_redshifts_are_clipped_to_the_flag_bounds():
    X, y, _, z = make_joint_sample()
    model = JointMorphZ(**TINY).fit(X, y)
    lo, hi = model.coverage_.redshift_bounds()
    # The bounds are the flag's: the training range widened by 20% of its
    # width each side, never below z = 0.
    width = z.max() - z.min()
    assert lo == pytest.approx(max(z.min() - 0.2 * width, 0.0))
    assert hi == pytest.approx(z.max() + 0.2 * width)
    # A galaxy 40 magnitudes off drives the linear output far out of range.
    probe = np.vstack([X[:1], X[:1] + 40, X[:1] - 40])
    out = model.predict_joint(probe)
    assert np.all((out["z_phot"] >= lo) & (out["z_phot"] <= hi))
    at_bound = np.isclose(out["z_phot"], lo) | np.isclose(out["z_phot"], hi)
    flagged = out["flags"].str.contains("z_out_of_range").to_numpy()
    assert flagged[1:].any() and np.array_equal(at_bound[1:], flagged[1:])
    np.testing.assert_array_equal(model.predict_redshift(probe), out["z_phot"].to_numpy())
