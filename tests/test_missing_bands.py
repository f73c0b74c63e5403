"""Missing bands in the joint networks: training with gaps, any subset at prediction, flags."""

import pickle

import numpy as np
import pandas as pd
import pytest
from sklearn.impute import SimpleImputer
from sklearn.model_selection import LeaveOneOut
from sklearn.pipeline import make_pipeline

import skphotoz.nn.replica as replica_module
from skphotoz import JointMorphZ, ReplicaEnsemble
from skphotoz.model_selection import cross_val_predict_joint
from skphotoz.nn.base import observed_standardisation, replica_standardisation
from skphotoz.nn.loss import class_weight_factors

from .conftest import TINY, make_joint_sample

BANDS = [f"mag_{b}" for b in "ugriz"]


def _input_width(model):
    """Inputs of the first Dense layer, for either trainer's network."""
    kernel = model.model_.get_layer("base_dense_0").kernel
    return kernel.shape[-1] if model.trainer_ == "compiled" else kernel.shape[0]


def _gappy(n=120, seed=0, fraction=0.25):
    X, y, types, redshift = make_joint_sample(n=n, seed=seed)
    rng = np.random.default_rng(seed + 1)
    X = X.copy()
    holes = rng.random(X.shape) < fraction
    holes[:, 2] = False  # r always observed, so every row keeps bands
    X[holes] = np.nan
    return pd.DataFrame(X, columns=BANDS), y, holes


def test_trains_and_predicts_with_gaps_and_flags_them():
    X, y, holes = _gappy()
    model = JointMorphZ(**TINY).fit(X, y)
    assert model.missing_bands_  # "auto" saw gaps
    assert model.get_params()["missing_bands"] == "auto"
    out = model.predict_joint(X)
    assert list(out.columns) == ["p_late", "type", "z_phot", "coverage_distance", "flags"]
    # Every row gets a number (>= 2 observed bands), and its flag names its gaps.
    assert np.isfinite(out["p_late"]).all() and np.isfinite(out["z_phot"]).all()
    row = int(np.flatnonzero(holes[:, 0] & ~holes[:, 1])[0])
    assert "missing:mag_u" in out["flags"].iloc[row]
    assert "mag_g" not in out["flags"].iloc[row]
    assert not any("missing" in f for f in out["flags"].to_numpy()[~holes.any(axis=1)])
    assert out.index.equals(X.index)
    # The first layer sees value, observed and not-detected per band and
    # colour: by default the colours of every pair of bands, n (n - 1) / 2.
    n = len(BANDS)
    assert _input_width(model) == 3 * (n + n * (n - 1) // 2)


def test_any_subset_of_bands_gives_a_finite_prediction():
    X, y, _ = _gappy()
    model = JointMorphZ(**TINY, missing_bands="native").fit(X, y)
    full = np.nan_to_num(X.to_numpy(), nan=22.0)
    rng = np.random.default_rng(3)
    for _ in range(5):
        keep = rng.random(len(BANDS)) < 0.5
        keep[rng.integers(len(BANDS), size=2)] = True
        subset = np.where(keep, full[:10], np.nan)
        z = model.predict_redshift(subset)
        assert np.isfinite(z).all()


def test_too_few_bands_and_all_missing_rows_get_no_number():
    X, y, _ = _gappy()
    model = JointMorphZ(**TINY).fit(X, y)
    probe = X.iloc[:3].copy()
    probe.iloc[0, :] = np.nan  # nothing observed
    probe.iloc[1, 1:] = np.nan  # one band only
    out = model.predict_joint(probe)
    assert np.isnan(out["z_phot"].iloc[0]) and np.isnan(out["p_late"].iloc[1])
    assert pd.isna(out["type"].iloc[0])  # no label, not a guessed one
    assert "too_few_bands" in out["flags"].iloc[0] and "too_few_bands" in out["flags"].iloc[1]
    assert np.isfinite(out["z_phot"].iloc[2])
    joint = model.predict(probe)
    assert joint[0, 0] is None and np.isnan(joint[0, 1])
    assert np.isnan(model.predict_proba(probe)[:2]).all()


def test_non_detection_is_kept_apart_from_not_observed():
    X, y, _ = _gappy()
    X.iloc[::7, 0] = np.inf  # u not detected in some galaxies
    model = JointMorphZ(**TINY, trainer="keras", colours=False).fit(X, y)
    probe = X.iloc[:2].copy()
    probe.iloc[0, 0], probe.iloc[1, 0] = np.inf, np.nan
    flags = model.predict_joint(probe)["flags"].tolist()
    assert flags[0].startswith("not_detected:mag_u") and flags[1].startswith("missing:mag_u")
    # The encoding differs, so the network can tell the two apart.
    encoded = model.model_.get_layer("encoding")(probe.to_numpy().astype("float32"))
    encoded = np.asarray(encoded)
    assert encoded[0, 2 * len(BANDS)] == 1 and encoded[1, 2 * len(BANDS)] == 0


def test_band_missing_in_every_training_row_is_an_error():
    X, y, _ = _gappy()
    X["mag_z"] = np.nan
    with pytest.raises(ValueError, match=r"\['mag_z'\] have no magnitude in any training row"):
        JointMorphZ(**TINY).fit(X, y)


def test_complete_training_data_keeps_the_papers_input():
    X, y, _, _ = make_joint_sample()
    model = JointMorphZ(**TINY, colours=False).fit(X, y)
    assert not model.missing_bands_
    assert _input_width(model) == X.shape[1]
    # The default adds the colours of every pair of bands; the paper's protocol does not.
    n = X.shape[1]
    assert _input_width(JointMorphZ(**TINY).fit(X, y)) == n + n * (n - 1) // 2
    assert _input_width(JointMorphZ(**TINY, colours="adjacent").fit(X, y)) == 2 * n - 1
    assert not JointMorphZ(protocol="paper").network_spec().colours
    probe = X[:2].copy()
    probe[0, 1] = np.nan  # predicted from the other bands, but flagged
    out = model.predict_joint(probe)
    # A gap the training data never had: predicted, but out of coverage.
    assert out["flags"].iloc[0].startswith("missing:column 1;out_of_coverage")
    assert "missing" not in out["flags"].iloc[1]


def test_standardisation_uses_observed_values_only():
    X = np.array([[20.0, 1.0], [22.0, np.nan], [24.0, 3.0]])
    mean, scale = observed_standardisation(X)
    np.testing.assert_allclose(mean, [22.0, 2.0])
    np.testing.assert_allclose(scale, [np.sqrt(8 / 3), 1.0])


def test_pickle_round_trip_with_gaps():
    X, y, _ = _gappy()
    model = JointMorphZ(**TINY).fit(X, y)
    clone = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(clone.predict_redshift(X), model.predict_redshift(X))


def test_replica_ensemble_with_gaps(fast_replicas):
    X, y, _ = _gappy()
    model = ReplicaEnsemble(**TINY, n_replicas=3).fit(X, y)
    out = model.predict_joint(X)
    assert {"p_late_err", "z_phot_err", "flags"} <= set(out.columns)
    assert np.isfinite(out["z_phot"]).all()
    clone = pickle.loads(pickle.dumps(model))
    np.testing.assert_allclose(clone.predict_redshift(X), model.predict_redshift(X), rtol=0)


def test_replica_path_with_gaps_in_cross_validation(monkeypatch):
    X, y, _ = _gappy(n=60)
    calls = []
    train = replica_module.train_replicas

    def spy(*args, **kwargs):
        calls.append(kwargs)
        return train(*args, **{**kwargs, "jit_compile": False})

    monkeypatch.setattr(replica_module, "train_replicas", spy)
    oof = cross_val_predict_joint(JointMorphZ(**TINY), X, y, cv=5, random_state=0)
    assert len(calls) == 1 and calls[0]["spec"].missing_bands
    assert np.isfinite(oof["z_phot"]).all()


def test_pipeline_with_an_imputer_gets_replica_training_in_leave_one_out(monkeypatch):
    """Issue 11: a Pipeline ending in JointMorphZ takes the replica path."""
    X, y, _ = _gappy(n=30)
    shapes = []
    train = replica_module.train_replicas

    def spy(inputs, *args, **kwargs):
        shapes.append(np.shape(inputs))
        return train(inputs, *args, **{**kwargs, "jit_compile": False})

    monkeypatch.setattr(replica_module, "train_replicas", spy)
    pipeline = make_pipeline(SimpleImputer(add_indicator=True), JointMorphZ(**TINY))
    oof = cross_val_predict_joint(pipeline, X, y, cv=LeaveOneOut(), random_state=0)
    # One replica call; each replica took its own fold's imputed magnitudes.
    assert len(shapes) == 1 and shapes[0][0] == len(X) and shapes[0][1] == len(X)
    assert np.isfinite(oof["z_phot"]).all() and (oof["n_predictions"] == 1).all()


def test_pipeline_replica_inputs_never_see_their_test_row():
    from skphotoz.model_selection.out_of_fold import replica_inputs

    X = np.array([[1.0], [np.nan], [3.0], [50.0]])
    y = np.array([["ET", 0.1], ["LT", 0.2], ["LT", 0.3], ["ET", 0.4]], dtype=object)
    splits = list(LeaveOneOut().split(X))
    inputs = replica_inputs(make_pipeline(SimpleImputer(), JointMorphZ()), X, y, splits)
    # Replica 3 left out the 50: its imputed value for row 1 is mean(1, 3) = 2.
    assert inputs[3, 1, 0] == 2.0 and inputs[0, 1, 0] == pytest.approx(53 / 2)


def test_class_weight_balanced_and_dict():
    late = np.array([True] * 9 + [False])
    factors = class_weight_factors(late, "balanced")
    assert factors[late].sum() == pytest.approx(factors[~late].sum())
    np.testing.assert_allclose(class_weight_factors(late, {"early": 3.0}), [1.0] * 9 + [3.0])
    with pytest.raises(ValueError, match="keys must be"):
        class_weight_factors(late, {"elliptical": 2.0})
    X, y, _, _ = make_joint_sample()
    model = JointMorphZ(**TINY, class_weight="balanced").fit(X, y)
    assert np.isfinite(model.predict_proba(X)).all()


def test_constant_band_in_a_replica_does_not_blow_up():
    """Issue 17: a band constant within a resample must not be divided by round-off.

    The case from the field: an imputer's indicator column after scaling
    reads -0.0291 for every galaxy but one (34.7). Bootstrap replicas that
    never drew that galaxy see a constant column; with E[x^2] - E[x]^2 the
    round-off left a scale of ~1e-9, and 34.7 / 1e-9 gave z = 3e8.
    """
    rng = np.random.default_rng(0)
    n = 300
    X = np.column_stack([rng.normal(22, 1, n), np.full(n, -0.0291)])
    X[0, 1] = 34.7
    weights = rng.poisson(1.0, (n, 10)).astype(float)
    weights[0, :5] = 0  # replicas 0-4 never draw the odd galaxy
    weights[0, 5:] = 1  # replicas 5-9 do
    mean, scale = replica_standardisation(X, weights)
    np.testing.assert_array_equal(scale[:5, 1], 1.0)  # guarded, not round-off
    assert np.all(scale[5:, 1] > 1)  # the replicas that drew it see its spread
    late = rng.random(n) < 0.5
    model = replica_module.train_replicas(
        X,
        late,
        rng.random(n),
        weights,
        epochs=2,
        batch_size=64,
        standardize=True,
        base_units=(8,),
        base_dropout=(0.0,),
        class_units=(4,),
        class_dropout=(0.0,),
        jit_compile=False,
    )
    _, z = replica_module.predict_replicas(model, X[:1])
    assert np.isfinite(z).all() and np.abs(z).max() < 100


def test_colours_inside_the_network_match_the_numpy_features():
    from skphotoz.nn.base import network_features
    from skphotoz.nn.layers import MagnitudeEncoding

    X = np.array([[21.0, 20.5, np.nan, 19.0], [22.0, np.inf, 21.0, 20.0]])
    features = network_features(X, colours=True)
    layer = MagnitudeEncoding(np.zeros(7), np.ones(7), indicators=True, colours=True)
    encoded = np.asarray(layer(X.astype("float32")))
    observed = np.isfinite(features)
    np.testing.assert_array_equal(encoded[:, 7:14], observed)
    np.testing.assert_allclose(encoded[:, :7][observed], features[observed])
    # u - g with g undetected is -inf: absent, not "not detected".
    assert encoded[1, 14 + 4] == 0 and encoded[1, 14 + 1] == 1


@pytest.mark.parametrize("missing", [False, True])
def test_colours_option_trains_predicts_and_pickles(missing, fast_replicas):
    X, y, _ = (
        _gappy() if missing else (pd.DataFrame(make_joint_sample()[0]), make_joint_sample()[1], 0)
    )
    model = JointMorphZ(**TINY, colours=True).fit(X, y)
    width = (3 if missing else 1) * (2 * X.shape[1] - 1)
    assert _input_width(model) == width
    clone = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(clone.predict_redshift(X), model.predict_redshift(X))
    ensemble = ReplicaEnsemble(**TINY, colours=True, n_replicas=2).fit(X, y)
    again = pickle.loads(pickle.dumps(ensemble))
    np.testing.assert_array_equal(again.predict_redshift(X), ensemble.predict_redshift(X))
    oof = cross_val_predict_joint(JointMorphZ(**TINY, colours=True), X, y, cv=3, random_state=0)
    assert np.isfinite(oof["z_phot"]).all()


@pytest.mark.parametrize("trainer", ["keras", "compiled"])
def test_band_dropout_hides_bands_in_training_only(trainer):
    X, y, _ = _gappy()
    model = JointMorphZ(**TINY, band_dropout=0.3, trainer=trainer).fit(X, y)
    if trainer == "compiled":
        assert any("band_dropout" in layer.name for layer in model.model_.layers)
        return
    assert model.model_.get_layer("band_dropout").rate == 0.3
    first = model.predict_redshift(X)
    np.testing.assert_array_equal(first, model.predict_redshift(X))  # inference is deterministic


def test_band_dropout_counter_hash_masks():
    # The compiled replica epoch draws band-dropout masks from a keyed hash
    # (cheap under XLA) instead of Keras' generator: the same keep
    # probability, independent per replica and per step, NaN where hidden.
    from skphotoz.nn.layers import BandDropout

    x = np.full((4000, 8), 20.0, "float32")
    layer = BandDropout(0.1, n_replicas=3, seed=0, counter_hash=True)
    first = np.asarray(layer(x, training=True))
    second = np.asarray(layer(x, training=True))
    assert first.shape == (3, 4000, 8)
    hidden = np.isnan(first)
    # 96,000 Bernoulli(0.1) draws: standard error 0.001, so 0.01 is 10 errors.
    assert abs(hidden.mean() - 0.1) < 0.01
    assert np.all(first[~hidden] == 20.0)
    assert not np.array_equal(hidden[0], hidden[1])  # replicas differ
    assert not np.array_equal(hidden, np.isnan(second))  # steps differ
    np.testing.assert_array_equal(np.asarray(layer(x, training=False)), x)
    assert BandDropout.from_config(layer.get_config()).counter_hash
