"""SequentialPair: the paper's two sequential networks behind the joint API."""

import inspect
import pickle

import keras
import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone, is_classifier
from sklearn.metrics import log_loss, mean_squared_error, roc_auc_score
from sklearn.model_selection import GridSearchCV, cross_validate
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils._param_validation import InvalidParameterError
from sklearn.utils.estimator_checks import check_estimator

from skphotoz import JointMorphZ
from skphotoz.baselines import SequentialPair
from skphotoz.baselines.scikeras_compat import CompatKerasClassifier, CompatKerasRegressor
from skphotoz.metrics import SCORERS, joint_scorer
from skphotoz.model_selection import StratifiedTypeKFold, cross_val_predict_joint
from skphotoz.nn.network import sigmoid_learning_rate
from skphotoz.nn.spec import NetworkSpec

from .conftest import make_joint_sample
from .test_sklearn_compat import EXPECTED_FAILED_CHECKS as JOINT_TARGET_CHECKS

#: Networks small enough that a pair trains in about a second.
TINY = {
    "base_units": (16,),
    "base_dropout": (0.1,),
    "class_units": (8,),
    "class_dropout": (0.0,),
    "epochs": 2,
    "batch_size": 16,
    "random_state": 0,
}


def tiny_pair(**kwargs):
    return SequentialPair(**{**TINY, **kwargs})


@pytest.fixture(scope="module")
def trained():
    """A pair trained long enough to learn the synthetic sample, with its data."""
    X, y, types, redshift = make_joint_sample(n=90)
    X = pd.DataFrame(X, columns=list("ugriz"))
    pair = tiny_pair(epochs=10, learning_rate=0.03).fit(X, y)
    return pair, X, y, types, redshift


def dense_layers(wrapper):
    """(units, activation) of each Dense layer and the rate of each Dropout, in order."""
    layers = wrapper.model_.layers
    dense = [(lay.units, lay.activation.__name__) for lay in layers if hasattr(lay, "units")]
    return dense, [lay.rate for lay in layers if hasattr(lay, "rate")]


def test_joint_api_end_to_end(trained):
    pair, X, y, types, redshift = trained
    assert is_classifier(pair) and pair.classes_.tolist() == ["ET", "LT"]
    joint = pair.predict(X)
    proba = pair.predict_proba(X)
    assert joint.shape == (90, 2) and proba.shape == (90, 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1, atol=1e-6)
    np.testing.assert_array_equal(joint[:, 0], pair.classes_[proba.argmax(axis=1)])
    np.testing.assert_allclose(joint[:, 1].astype(float), pair.predict_redshift(X))
    table = pair.predict_joint(X.set_index(X.index + 100))
    assert table.columns.tolist() == ["p_late", "type", "z_phot", "flags"]
    assert table.index[0] == 100 and (table["flags"] == "").all()
    np.testing.assert_allclose(table["p_late"], proba[:, 1])
    assert np.isfinite(pair.score(X, y))
    assert pair.feature_names_in_.tolist() == list("ugriz")
    for fitted, wrapper in [(pair.classifier_, CompatKerasClassifier),
                            (pair.regressor_, CompatKerasRegressor)]:  # fmt: skip
        assert isinstance(fitted, Pipeline) and isinstance(fitted["scale"], StandardScaler)
        assert isinstance(fitted["network"], wrapper)


def test_each_network_is_trained_under_the_fixed_protocol(trained):
    pair = trained[0]
    for fitted in (pair.classifier_, pair.regressor_):
        history = fitted["network"].history_
        expected = [sigmoid_learning_rate(epoch, 10, 0.03) for epoch in range(10)]
        np.testing.assert_allclose(history["learning_rate"], expected, rtol=1e-6)
        assert len(history["loss"]) == 10
    assert dense_layers(pair.classifier_["network"]) == (
        [(16, "relu"), (8, "relu"), (1, "sigmoid")],
        [0.1],  # no layer for a dropout of 0
    )
    # The redshift network has the joint network's default branch: two Dense(64).
    assert dense_layers(pair.regressor_["network"]) == (
        [(16, "relu"), (64, "relu"), (64, "relu"), (1, "linear")],
        [0.1],
    )


def test_learns_the_synthetic_sample_better_than_a_constant(trained):
    pair, _, _, types, redshift = trained
    X_test, _, types_test, z_test = make_joint_sample(n=200, seed=1)
    X_test = pd.DataFrame(X_test, columns=list("ugriz"))
    late = types_test == "LT"
    p_late, z_phot = pair.predict_proba(X_test)[:, 1], pair.predict_redshift(X_test)
    assert roc_auc_score(late, p_late) > 0.9
    assert log_loss(late, p_late) < log_loss(late, np.full(len(late), np.mean(types == "LT")))
    constant = mean_squared_error(z_test, np.full(len(z_test), redshift.mean()))
    assert mean_squared_error(z_test, z_phot) < 0.3 * constant


def test_pickle_round_trip_and_refit_give_identical_predictions(trained):
    pair, X, y, _, _ = trained
    loaded = pickle.loads(pickle.dumps(pair))
    np.testing.assert_array_equal(loaded.predict_proba(X), pair.predict_proba(X))
    np.testing.assert_array_equal(loaded.predict(X), pair.predict(X))
    refitted = clone(pair)
    assert refitted.get_params() == pair.get_params() and not hasattr(refitted, "classes_")
    refitted.fit(X, y)
    np.testing.assert_array_equal(refitted.predict_proba(X), pair.predict_proba(X))
    np.testing.assert_array_equal(refitted.predict_redshift(X), pair.predict_redshift(X))


def test_defaults_are_the_paper_layout_and_the_joint_protocol():
    params = SequentialPair().get_params()
    joint = JointMorphZ().get_params()
    shared = set(params) - {"verbose"}
    assert shared < set(joint)
    assert {name: params[name] for name in shared} == {name: joint[name] for name in shared}
    paper = NetworkSpec()
    assert (params["base_units"], params["class_units"]) == (paper.base_units, paper.class_units)
    assert (params["epochs"], params["batch_size"], params["learning_rate"]) == ("auto", 64, 1e-3)
    assert "classifier" not in inspect.signature(SequentialPair).parameters


def test_default_networks_have_the_paper_base_and_the_joint_redshift_branch():
    X, y, _, _ = make_joint_sample(n=40)
    pair = SequentialPair(epochs=1, random_state=0).fit(X, y)
    classifier, regressor = pair.classifier_["network"], pair.regressor_["network"]
    relu = [(512, "relu"), (32, "relu"), (32, "relu")]
    assert dense_layers(classifier) == ([*relu, (1, "sigmoid")], [0.5, 0.1, 0.1])
    assert dense_layers(regressor) == (
        [(512, "relu"), (64, "relu"), (64, "relu"), (1, "linear")],
        [0.5],
    )
    assert isinstance(classifier.model_.optimizer, keras.optimizers.RMSprop)
    assert (classifier.loss, regressor.loss) == ("binary_crossentropy", "mse")


def test_missing_bands_and_bad_settings_are_refused():
    X, y, _, _ = make_joint_sample(n=40)
    gappy = X.copy()
    gappy[3, 1] = np.nan
    with pytest.raises(ValueError, match="column 1: 1 row\\(s\\) with NaN"):
        tiny_pair().fit(gappy, y)
    with pytest.raises(ValueError, match="dropout tuple has 2 entries"):
        tiny_pair(base_dropout=(0.5, 0.5)).fit(X, y)
    with pytest.raises(InvalidParameterError, match="epochs"):
        tiny_pair(epochs=0).fit(X, y)


def test_cross_validate_with_type_folds_and_every_scorer():
    X, y, _, _ = make_joint_sample(n=60)
    # Two folds: each of the 17 scorers predicts with both networks.
    result = cross_validate(tiny_pair(), X, y, cv=StratifiedTypeKFold(2), scoring=SCORERS)
    for name in ("joint", "roc_auc", "neg_sigma_nmad", "true_early_type_rate", "accuracy"):
        assert np.all(np.isfinite(result[f"test_{name}"])), name
    assert np.all((result["test_roc_auc"] >= 0) & (result["test_roc_auc"] <= 1))


def test_grid_search_over_the_layout():
    X, y, _, _ = make_joint_sample(n=60)
    one_split = [next(StratifiedTypeKFold(2).split(X, y))]  # two fits, not four
    search = GridSearchCV(
        tiny_pair(epochs=1),
        {"base_units": [(8,), (16,)]},
        cv=one_split,
        scoring=joint_scorer,
        refit=False,
    )
    search.fit(X, y)
    assert np.all(np.isfinite(search.cv_results_["mean_test_score"]))
    assert search.best_params_["base_units"] in [(8,), (16,)]


def test_out_of_fold_predictions_of_every_galaxy():
    X, y, _, _ = make_joint_sample(n=60)
    folds = list(StratifiedTypeKFold(2, shuffle=True, random_state=0).split(X, y))
    oof = cross_val_predict_joint(tiny_pair(epochs=1), X, y, cv=folds, random_state=0)
    assert (oof["n_predictions"] == 1).all()
    assert np.isfinite(oof[["p_late", "z_phot"]].to_numpy()).all()


def test_scikit_learn_checks_with_the_joint_target_skips():
    results = check_estimator(
        tiny_pair(epochs=1), expected_failed_checks=JOINT_TARGET_CHECKS, on_fail=None
    )
    assert [r["check_name"] for r in results if r["status"] == "failed"] == []
    passed = {r["check_name"] for r in results if r["status"] == "passed"}
    assert {
        "check_no_attributes_set_in_init",
        "check_parameters_default_constructible",
        "check_get_params_invariance",
        "check_estimators_unfitted",
        "check_mixin_order",
    } <= passed
