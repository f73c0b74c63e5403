"""Replica training: isolation, LOO hygiene, agreement with JointMorphZ."""

import keras
import numpy as np
import pytest
from sklearn.model_selection import LeaveOneOut
from sklearn.utils import check_random_state

from skphotoz import JointMorphZ
from skphotoz.nn.base import replica_standardisation
from skphotoz.nn.network import build_joint_network
from skphotoz.nn.replica import (
    ReplicaDropout,
    predict_replicas,
    redshift_layer_weights,
    train_replicas,
)

from .conftest import TINY, make_joint_sample

ARCH = {k: TINY[k] for k in ("base_units", "base_dropout", "class_units", "class_dropout")}
NO_DROPOUT = {**ARCH, "base_dropout": (0.0,), "class_dropout": (0.0,)}
# With a hidden redshift layer, so that the equivalence test covers the branch.
NO_DROPOUT_BRANCH = {**NO_DROPOUT, "redshift_units": (8,)}


@pytest.fixture(scope="module")
def sample():
    X, y, types, redshift = make_joint_sample(n=40)
    return X, y, types == "LT", redshift


def _train(X, late, z, weights, **kwargs):
    mean, scale = replica_standardisation(X, weights)
    params = {"epochs": 3, "batch_size": 16, "seed": 1, **ARCH, **kwargs}
    model = train_replicas(X, late, z, weights, input_mean=mean, input_scale=scale, **params)
    return predict_replicas(model, X)


def test_replica_standardisation_equals_repeated_rows():
    rng = np.random.default_rng(0)
    X = rng.normal(20, 2, (30, 3))
    X[:, 2] = 7.0  # a constant band: zero scale becomes 1, as in JointMorphZ
    counts = rng.integers(0, 3, (30, 2))
    mean, scale = replica_standardisation(X, counts)
    for k in range(2):
        rows = np.repeat(X, counts[:, k], axis=0)
        np.testing.assert_allclose(mean[k], rows.mean(axis=0))
        np.testing.assert_allclose(scale[k, :2], rows.std(axis=0)[:2], rtol=1e-6)
        assert scale[k, 2] == 1.0


def test_replica_standardisation_rejects_empty_replica():
    with pytest.raises(ValueError, match="positive sum"):
        replica_standardisation(np.ones((3, 2)), np.array([[1, 0], [1, 0], [0, 0]]))


def test_changing_one_replica_leaves_the_others_unchanged(sample):
    X, _, late, z = sample
    weights = np.ones((len(X), 3))
    p_a, z_a = _train(X, late, z, weights)
    changed = weights.copy()
    changed[:, 2] = np.random.default_rng(5).integers(0, 4, len(X))  # other data for replica 2
    p_b, z_b = _train(X, late, z, changed)
    np.testing.assert_allclose(p_a[:, :2], p_b[:, :2], atol=1e-6)
    np.testing.assert_allclose(z_a[:, :2], z_b[:, :2], atol=1e-6)
    assert np.abs(z_a[:, 2] - z_b[:, 2]).max() > 1e-4  # replica 2 did change


def test_loo_replica_never_sees_its_galaxy(sample):
    X, _, late, z = sample
    n_replicas = 4
    weights = np.ones((len(X), n_replicas))
    for k, (_, test) in zip(range(n_replicas), LeaveOneOut().split(X), strict=False):
        weights[test, k] = 0.0
    assert np.all(weights[np.arange(n_replicas), np.arange(n_replicas)] == 0)
    p_a, z_a = _train(X, late, z, weights)
    # Galaxy 0 gets other magnitudes, type and redshift: only replica 0 must not care.
    X2, late2, z2 = X.copy(), late.copy(), z.copy()
    X2[0] += 3.0
    late2[0], z2[0] = not late2[0], 5.0
    p_b, z_b = _train(X2, late2, z2, weights)
    rows = np.arange(1, len(X))  # row 0 itself is a different input now
    np.testing.assert_allclose(p_a[rows, 0], p_b[rows, 0], atol=1e-6)
    np.testing.assert_allclose(z_a[rows, 0], z_b[rows, 0], atol=1e-6)
    assert np.abs(z_a[rows, 1] - z_b[rows, 1]).max() > 1e-4


def test_same_result_as_jointmorphz_fixed_with_same_start():
    # One batch per epoch and no dropout remove the only two sources of
    # difference (batch order, dropout masks); the same initial weights are
    # rebuilt the way JointMorphZ.fit seeds them.
    X, y, types, z = make_joint_sample(n=48)
    params = {"epochs": 6, "batch_size": 48, "redshift_loss_weight": 10.0}
    est = JointMorphZ(**NO_DROPOUT_BRANCH, **params, trainer="keras", colours=False, random_state=0)
    est.fit(X, y)
    seed = int(check_random_state(0).randint(np.iinfo(np.int32).max))
    keras.utils.set_random_seed(seed)
    start = build_joint_network(X.shape[1], seed=seed, **NO_DROPOUT_BRANCH).get_weights()
    p, zp = _train(
        X, types == "LT", z, np.ones((48, 2)), initial_weights=start, **params, **NO_DROPOUT_BRANCH,
    )  # fmt: skip
    np.testing.assert_allclose(p[:, 0], est.predict_proba(X)[:, 1], atol=1e-5)
    # The estimator clips its redshifts to the bounds of its training range;
    # after 6 epochs many are still below 0.
    bounds = est.coverage_.redshift_bounds()
    np.testing.assert_allclose(np.clip(zp[:, 0], *bounds), est.predict_redshift(X), atol=1e-5)
    np.testing.assert_array_equal(p[:, 0], p[:, 1])  # same start, same data


def test_padding_rows_do_not_count(sample):
    # 40 rows in batches of 16: the last batch is padded by 8 rows. Doubling
    # every weight doubles every gradient; RMSprop is invariant to that up to
    # epsilon, so padding that leaked into the loss would show up here.
    X, _, late, z = sample
    p_1, z_1 = _train(X, late, z, np.ones((len(X), 1)), **NO_DROPOUT)
    p_2, z_2 = _train(X, late, z, 2 * np.ones((len(X), 1)), **NO_DROPOUT)
    np.testing.assert_allclose(z_1, z_2, atol=1e-4)
    np.testing.assert_allclose(p_1, p_2, atol=1e-4)


@pytest.mark.parametrize(
    "rate, counter_hash",
    [(0.5, False), (0.1, False), (0.5, True), (0.1, True)],  # byte masks, Keras', hashed
)
def test_replica_dropout_keeps_each_element_with_probability_1_minus_rate(rate, counter_hash):
    ones = np.ones((4, 64, 512), np.float32)
    layer = ReplicaDropout(rate, seed=3, counter_hash=counter_hash)
    out = keras.ops.convert_to_numpy(layer(ones, training=True))
    kept = out != 0
    assert abs(kept.mean() - (1 - rate)) < 0.01  # 131072 draws: 5 sigma is < 0.007
    np.testing.assert_allclose(out[kept], 1 / (1 - rate), rtol=1e-6)
    again = keras.ops.convert_to_numpy(layer(ones, training=True))
    assert (again != out).any()  # a fresh mask every step
    assert (kept[0] != kept[1]).mean() > 0.1  # replicas draw independent masks
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(layer(ones)), ones)


def test_shapes_and_layer_weights(sample):
    X, _, late, z = sample
    model = train_replicas(X, late, z, np.ones((len(X), 2)), epochs=1, batch_size=16, **ARCH)
    assert redshift_layer_weights(model).shape == (2, ARCH["base_units"][0] + 1)
    p, zp = predict_replicas(model, X[:5], chunk=2)
    assert p.shape == zp.shape == (5, 2)
    assert np.all((p > 0) & (p < 1))


def test_bad_arguments(sample):
    X, _, late, z = sample
    with pytest.raises(ValueError, match="weights must have shape"):
        train_replicas(X, late, z, np.ones(len(X)), epochs=1, **ARCH)
    with pytest.raises(ValueError, match="input_mean must have shape"):
        train_replicas(
            X, late, z, np.ones((len(X), 2)), epochs=1,
            input_mean=np.zeros((3, 5)), input_scale=np.ones((3, 5)), **ARCH,
        )  # fmt: skip
    with pytest.raises(ValueError, match="both input_mean and input_scale"):
        train_replicas(X, late, z, np.ones((len(X), 2)), input_mean=np.zeros((2, 5)))
    with pytest.raises(TypeError, match="Unknown architecture"):
        train_replicas(X, late, z, np.ones((len(X), 2)), epochs=1, base_width=3)


def test_counter_hash_masks_are_uncorrelated_between_steps_and_neighbours():
    layer = ReplicaDropout(0.5, seed=0, counter_hash=True)
    ones = np.ones((8, 64, 512), np.float32)
    first = keras.ops.convert_to_numpy(layer(ones, training=True)).ravel() > 0
    second = keras.ops.convert_to_numpy(layer(ones, training=True)).ravel() > 0
    # For independent fair coins each agreement rate is 0.5 with sd 0.0005.
    assert abs((first == second).mean() - 0.5) < 0.003  # the next step's mask
    assert abs((first[1:] == first[:-1]).mean() - 0.5) < 0.003  # adjacent elements
    assert abs((first[512:] == first[:-512]).mean() - 0.5) < 0.003  # adjacent rows
