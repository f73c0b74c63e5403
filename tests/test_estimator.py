import sys

import numpy as np
import pytest
from astropy.table import Table

from skphotoz import JointMorphZ
from skphotoz.metrics import joint_score
from skphotoz.nn.network import sigmoid_learning_rate

from .conftest import TINY, make_joint_sample


def test_string_labels_and_prediction_layout(joint_sample):
    X, y, types, redshift = joint_sample
    model = JointMorphZ(**TINY).fit(X, y)
    assert model.classes_.tolist() == ["ET", "LT"]
    pred = model.predict(X)
    assert pred.shape == (len(X), 2) and pred.dtype == object
    assert set(pred[:, 0]) <= {"ET", "LT"}
    proba = model.predict_proba(X)
    assert proba.shape == (len(X), 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-6)
    z = model.predict_redshift(X)
    assert z.shape == (len(X),)
    np.testing.assert_allclose(pred[:, 1].astype(float), z)
    # predict applies the threshold to P(LT) = predict_proba[:, 1]
    np.testing.assert_array_equal(pred[:, 0] == "LT", proba[:, 1] >= 0.5)
    assert model.n_features_in_ == X.shape[1]


def test_integer_labels_give_float_predictions():
    X, _, types, redshift = make_joint_sample(labels=(0, 1))
    y = np.column_stack([types.astype(int), redshift])
    model = JointMorphZ(**TINY).fit(X, y)
    assert model.classes_.tolist() == [0, 1]
    pred = model.predict(X)
    assert pred.dtype == np.float64
    assert set(np.unique(pred[:, 0])) <= {0.0, 1.0}


def test_threshold_moves_the_type_boundary(joint_sample):
    X, y, _, _ = joint_sample
    model = JointMorphZ(**TINY).fit(X, y)
    p_late = model.predict_proba(X)[:, 1]
    cut = float(np.median(p_late))
    model.set_params(threshold=cut)
    np.testing.assert_array_equal(model.predict(X)[:, 0] == "LT", p_late >= cut)


def test_dataframe_and_astropy_targets_with_named_columns(joint_frame):
    X, y = joint_frame
    y_named = y.rename(columns={"type": "MORPH", "redshift": "Z_SPEC"})[["Z_SPEC", "MORPH"]]
    model = JointMorphZ(type_column="MORPH", redshift_column="Z_SPEC", **TINY)
    model.fit(X, y_named)
    assert model.feature_names_in_.tolist() == list(X.columns)
    ref = JointMorphZ(**TINY).fit(X.to_numpy(), y.to_numpy(dtype=object))
    np.testing.assert_allclose(
        model.predict_redshift(X), ref.predict_redshift(X.to_numpy()), rtol=1e-5
    )
    table = Table.from_pandas(y_named)
    from_table = JointMorphZ(type_column="MORPH", redshift_column="Z_SPEC", **TINY).fit(X, table)
    np.testing.assert_allclose(from_table.predict_redshift(X), model.predict_redshift(X), rtol=1e-5)


def test_score_is_joint_total_loss(joint_sample):
    X, y, types, redshift = joint_sample
    model = JointMorphZ(**TINY).fit(X, y)
    expected = joint_score(
        types == "LT", model.predict_proba(X)[:, 1], redshift, model.predict_redshift(X)
    )
    assert model.score(X, y) == pytest.approx(expected)
    assert model.score(X, y) < 0


def test_random_state_reproduces_and_history_is_kept(joint_sample):
    X, y, _, _ = joint_sample
    a = JointMorphZ(**TINY).fit(X, y)
    b = JointMorphZ(**TINY).fit(X, y)
    np.testing.assert_array_equal(a.predict_redshift(X), b.predict_redshift(X))
    c = JointMorphZ(**{**TINY, "random_state": 1}).fit(X, y)
    assert not np.allclose(a.predict_redshift(X), c.predict_redshift(X))
    assert a.n_epochs_ == 3
    assert {"loss", "p_late_loss", "redshift_loss", "learning_rate"} <= set(a.history_)


def test_fixed_protocol_follows_the_sigmoid_schedule(joint_sample):
    X, y, _, _ = joint_sample
    params = {**TINY, "epochs": 12, "learning_rate": 2e-3, "lr_decay_floor": 0.25}
    model = JointMorphZ(protocol="fixed", **params).fit(X, y)
    expected = [sigmoid_learning_rate(e, 12, 2e-3, floor_fraction=0.25) for e in range(12)]
    np.testing.assert_allclose(model.history_["learning_rate"], expected, rtol=1e-5)
    assert "val_loss" not in model.history_


def test_paper_protocol_stops_on_class_loss_and_reduces_lr_on_redshift_loss(joint_sample):
    X, y, _, _ = joint_sample
    params = {**TINY, "epochs": 400, "learning_rate": 0.05}
    model = JointMorphZ(
        protocol="paper", early_stopping_patience=2, lr_reduce_patience=1, **params
    ).fit(X, y)
    assert model.n_epochs_ < 400
    val = model.history_["val_p_late_loss"]
    # EarlyStopping fires exactly `patience` epochs after the best class loss
    assert len(val) - 1 - int(np.argmin(val)) == 2
    rates = np.array(model.history_["learning_rate"])
    assert rates.min() < 0.05 * 0.95  # ReduceLROnPlateau(factor 0.9) fired
    np.testing.assert_allclose(np.unique(np.round(rates / 0.05, 6)) ** 0, 1)


def test_total_loss_protocol_monitors_total_validation_loss(joint_sample):
    X, y, _, _ = joint_sample
    model = JointMorphZ(
        protocol="total_loss",
        early_stopping_patience=3,
        **{**TINY, "epochs": 300, "learning_rate": 0.05},
    ).fit(X, y)
    val = model.history_["val_loss"]
    assert len(val) - 1 - int(np.argmin(val)) == 3


def test_sample_weight_changes_the_fit(joint_sample):
    X, y, _, _ = joint_sample
    w = np.ones(len(X))
    w[: len(X) // 2] = 0.0
    a = JointMorphZ(**TINY).fit(X, y)
    b = JointMorphZ(**TINY).fit(X, y, sample_weight=w)
    assert not np.allclose(a.predict_redshift(X), b.predict_redshift(X))
    with pytest.raises(ValueError, match="sample_weight"):
        JointMorphZ(**TINY).fit(X, y, sample_weight=w[:-1])


@pytest.mark.parametrize("trainer", ["compiled", "keras"])
def test_progress_bar_on_a_terminal_only(joint_sample, capsys, monkeypatch, trainer):
    X, y, _, _ = joint_sample
    JointMorphZ(**{**TINY, "verbose": 1, "trainer": trainer}).fit(X, y)
    assert capsys.readouterr().err == ""  # not a terminal: no bar, not one line per epoch
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True, raising=False)
    JointMorphZ(**{**TINY, "verbose": 1, "trainer": trainer}).fit(X, y)
    err = capsys.readouterr().err
    assert "JointMorphZ" in err and "3/3" in err


# ------------------------------------------------------------------ bad input
@pytest.mark.parametrize(
    ("value", "message", "missing_bands"),
    [
        (np.nan, "NaN", "error"),
        (np.inf, "inf", "error"),
        (-99.0, "sentinel", "error"),
        (99.0, "sentinel", "error"),
        # Missing-band handling takes NaN and +inf, never a sentinel.
        (-99.0, "sentinel", "auto"),
        (99.0, "sentinel", "native"),
        (-np.inf, "-inf", "native"),
    ],
)
def test_bad_magnitudes_name_band_and_count(joint_frame, value, message, missing_bands):
    X, y = joint_frame
    X = X.copy()
    X.iloc[[1, 4], 2] = value
    with pytest.raises(ValueError, match=message) as err:
        JointMorphZ(**TINY, missing_bands=missing_bands).fit(X, y)
    assert "mag_r: 2 row(s)" in str(err.value)
    if missing_bands == "error":
        assert "missing_bands='native'" in str(err.value)  # the hint to the option


def test_bad_magnitudes_at_predict_time(joint_sample):
    X, y, _, _ = joint_sample
    model = JointMorphZ(**TINY, missing_bands="error").fit(X, y)
    bad = X[:5].copy()
    bad[0, 0] = np.nan
    with pytest.raises(ValueError, match="column 0: 1 row"):
        model.predict(bad)
    with pytest.raises(ValueError, match="5 features"):
        model.predict(X[:, :4])


def test_string_magnitudes_are_rejected(joint_frame):
    X, y = joint_frame
    X = X.astype({"mag_r": str})
    X.loc[0, "mag_r"] = "faint"
    with pytest.raises(ValueError, match="mag_r"):
        JointMorphZ(**TINY).fit(X, y)
    with pytest.raises(ValueError, match="numeric"):
        JointMorphZ(**TINY).fit(np.array([["21.0", "x"]] * 10), y.iloc[:10])


def test_one_class_target_is_rejected(joint_sample):
    X, y, _, _ = joint_sample
    y = y.copy()
    y[:, 0] = "LT"
    with pytest.raises(ValueError, match="exactly two classes"):
        JointMorphZ(**TINY).fit(X, y)


@pytest.mark.parametrize(("value", "message"), [(-0.2, "negative"), (np.nan, "non-finite")])
def test_bad_redshifts_are_rejected(joint_sample, value, message):
    X, y, _, _ = joint_sample
    y = y.copy()
    y[3, 1] = value
    with pytest.raises(ValueError, match=message):
        JointMorphZ(**TINY).fit(X, y)


def test_target_shape_and_row_count_errors(joint_sample):
    X, y, types, _ = joint_sample
    with pytest.raises(ValueError, match=r"shape \(n_samples, 2\)"):
        JointMorphZ(**TINY).fit(X, types)
    with pytest.raises(ValueError, match="rows"):
        JointMorphZ(**TINY).fit(X[:-1], y)


def test_invalid_layout_parameters(joint_sample):
    X, y, _, _ = joint_sample
    with pytest.raises(ValueError, match="dropout tuple"):
        JointMorphZ(**{**TINY, "base_units": (16, 8)}).fit(X, y)
    with pytest.raises(ValueError, match="positive integers"):
        JointMorphZ(**{**TINY, "class_units": (0,), "class_dropout": (0.0,)}).fit(X, y)
    with pytest.raises(ValueError, match="protocol"):
        JointMorphZ(protocol="magic").fit(X, y)


@pytest.mark.parametrize(
    ("protocol", "weight", "expected"),
    [("fixed", "auto", 10.0), ("paper", "auto", 1.0), ("fixed", 3.0, 3.0)],
)
def test_redshift_loss_weight_reaches_the_total_loss(joint_sample, protocol, weight, expected):
    X, y, _, _ = joint_sample
    model = JointMorphZ(
        **TINY, protocol=protocol, redshift_loss_weight=weight, trainer="keras", colours=False
    )
    model.fit(X, y)
    # One batch holding every galaxy: Keras' total loss is then exactly
    # BCE + weight * MSE (epoch histories average the parts differently).
    Xs = ((X.astype(float) - model.mean_) / model.scale_).astype(np.float32)
    targets = {
        "p_late": (y[:, 0] == "LT").astype(np.float32),
        "redshift": y[:, 1].astype(np.float32),
    }
    losses = model.model_.evaluate(Xs, targets, batch_size=len(X), verbose=0, return_dict=True)
    implied = (losses["loss"] - losses["p_late_loss"]) / losses["redshift_loss"]
    assert implied == pytest.approx(expected, rel=1e-3)
    assert model.get_params()["redshift_loss_weight"] == weight
    if protocol == "fixed":  # the compiled trainer's history splits the same total
        fast = JointMorphZ(**TINY, redshift_loss_weight=weight).fit(X, y)
        history = {k: np.asarray(v) for k, v in fast.history_.items()}
        implied = (history["loss"] - history["p_late_loss"]) / history["redshift_loss"]
        np.testing.assert_allclose(implied, expected, rtol=1e-4)
