"""The pairs: two separate models behind the joint [type, redshift] API."""

import pickle

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone, is_classifier
from sklearn.ensemble import (
    HistGradientBoostingClassifier,
    HistGradientBoostingRegressor,
    RandomForestClassifier,
    RandomForestRegressor,
)
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.metrics import log_loss, mean_absolute_error
from sklearn.model_selection import GridSearchCV, cross_validate
from sklearn.utils._param_validation import InvalidParameterError
from threadpoolctl import threadpool_limits

from skphotoz.baselines import GradientBoostingPair
from skphotoz.baselines.pairs import TUNING_GRID, IndependentPair
from skphotoz.metrics import SCORERS
from skphotoz.model_selection import StratifiedTypeKFold

from .conftest import linear_pair, make_joint_sample


def test_pair_equals_its_two_models_fitted_separately():
    X, y, types, redshift = make_joint_sample(n=80)
    pair = IndependentPair(LogisticRegression(), LinearRegression()).fit(X, y)
    classifier = LogisticRegression().fit(X, types)
    regressor = LinearRegression().fit(X, redshift)
    np.testing.assert_allclose(pair.predict_proba(X), classifier.predict_proba(X))
    np.testing.assert_allclose(pair.predict_redshift(X), regressor.predict(X))
    joint = pair.predict(X)
    assert joint.shape == (80, 2)
    np.testing.assert_array_equal(joint[:, 0], classifier.predict(X))
    assert pair.classes_.tolist() == ["ET", "LT"] and is_classifier(pair)
    # The prototypes are cloned, never fitted in place.
    unfitted = LogisticRegression()
    IndependentPair(unfitted, LinearRegression()).fit(X, y)
    assert not hasattr(unfitted, "coef_")


def test_default_forests_are_seeded_and_cross_validate():
    X, y, _, _ = make_joint_sample(n=90)
    pair = IndependentPair(random_state=3)
    assert clone(pair).get_params()["random_state"] == 3
    fitted = pair.fit(pd.DataFrame(X, columns=list("ugriz")), y)
    assert isinstance(fitted.classifier_, RandomForestClassifier)
    assert isinstance(fitted.regressor_, RandomForestRegressor)
    assert fitted.classifier_.random_state == 3
    scores = cross_validate(
        IndependentPair(random_state=0), X, y, cv=StratifiedTypeKFold(3), scoring=SCORERS
    )
    assert np.all(np.isfinite(scores["test_joint"]))
    assert np.all(scores["test_roc_auc"] > 0.5)


def test_bad_input_is_refused():
    X, y, _, _ = make_joint_sample(n=40)
    bad = X.copy()
    bad[5, 2] = 99.0
    with pytest.raises(ValueError, match="sentinel"):
        IndependentPair(LogisticRegression(), LinearRegression()).fit(bad, y)
    with pytest.raises(ValueError, match="rows"):
        IndependentPair(LogisticRegression(), LinearRegression()).fit(X, y[:-1])
    with pytest.raises(ValueError, match="classifier"):
        IndependentPair(classifier=LinearRegression()).fit(X, y)


@pytest.fixture(autouse=True)
def one_openmp_thread():
    """Gradient boosting on tens of galaxies: starting OpenMP threads costs more than the fit."""
    with threadpool_limits(limits=1, user_api="openmp"):
        yield


def small_boosting(**kwargs):
    """A GradientBoostingPair with few rounds: a fit takes a few tens of milliseconds."""
    params = {"classifier_max_iter": 20, "regressor_max_iter": 20, "random_state": 0}
    return GradientBoostingPair(**{**params, **kwargs})


def gappy_sample(n=90, seed=0, fraction=0.15):
    """make_joint_sample with a random ``fraction`` of the magnitudes missing (NaN)."""
    X, y, types, redshift = make_joint_sample(n=n, seed=seed)
    X[np.random.default_rng(seed).random(X.shape) < fraction] = np.nan
    return X, y, types, redshift


def test_boosting_fits_and_predicts_with_missing_bands():
    X, y, _, _ = gappy_sample()
    X[0] = np.nan  # a galaxy with no photometry at all still gets a prediction
    X[1, 2] = np.inf  # a non-detection: fainter than any threshold
    pair = small_boosting().fit(X, y)
    assert pair.__sklearn_tags__().input_tags.allow_nan and is_classifier(pair)
    assert pair.classes_.tolist() == ["ET", "LT"]
    proba, redshift, joint = pair.predict_proba(X), pair.predict_redshift(X), pair.predict(X)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert np.isfinite(redshift).all() and joint.shape == (len(X), 2)
    np.testing.assert_array_equal(joint[:, 0], pair.classes_[np.argmax(proba, axis=1)])
    np.testing.assert_allclose(joint[:, 1].astype(float), redshift)
    # Five magnitudes and four adjacent colours reach both models.
    assert isinstance(pair.classifier_[-1], HistGradientBoostingClassifier)
    assert isinstance(pair.regressor_[-1], HistGradientBoostingRegressor)
    assert pair.classifier_[-1].n_features_in_ == pair.regressor_[-1].n_features_in_ == 9
    assert small_boosting(colours=False).fit(X, y).regressor_[-1].n_features_in_ == 5


def test_boosting_settings_reach_both_models():
    X, y, _, _ = gappy_sample(n=60)
    pair = small_boosting(
        regressor_max_iter=15,
        learning_rate=0.1,
        max_leaf_nodes=7,
        min_samples_leaf=5,
        l2_regularization=0.5,
        class_weight="balanced",
    ).fit(X, y)
    classifier, regressor = pair.classifier_[-1], pair.regressor_[-1]
    assert (classifier.max_iter, regressor.max_iter) == (20, 15)
    for model in (classifier, regressor):
        assert (model.learning_rate, model.max_leaf_nodes, model.min_samples_leaf) == (0.1, 7, 5)
        assert model.l2_regularization == 0.5 and model.random_state == 0
    assert classifier.class_weight == "balanced"
    defaults = GradientBoostingPair().get_params()
    assert (defaults["classifier_max_iter"], defaults["regressor_max_iter"]) == (300, 500)
    assert defaults["learning_rate"] == 0.05 and defaults["tune"] is False
    with pytest.raises(InvalidParameterError, match="learning_rate"):
        GradientBoostingPair(learning_rate=0).fit(X, y)
    with pytest.raises(InvalidParameterError, match="class_weight"):
        GradientBoostingPair(class_weight="inverse").fit(X, y)


def test_boosting_refuses_sentinels_and_names_the_band():
    X, y, _, _ = gappy_sample(n=40)
    bands = pd.DataFrame(X, columns=list("ugriz"))
    bands.iloc[3, 2] = 99.0
    with pytest.raises(ValueError, match="r: 1 row"):
        small_boosting().fit(bands, y)
    bands.iloc[3, 2] = -np.inf
    with pytest.raises(ValueError, match="-inf"):
        small_boosting().fit(bands, y)
    with pytest.raises(ValueError, match="rows"):
        small_boosting().fit(X, y[:-1])


def test_boosting_clones_pickles_and_keeps_band_names():
    X, y, _, _ = gappy_sample(n=60)
    pair = small_boosting(class_weight="balanced")
    assert clone(pair).get_params() == pair.get_params()
    bands = pd.DataFrame(X, columns=list("ugriz"))
    fitted = pair.fit(bands, y)
    assert list(fitted.feature_names_in_) == list("ugriz")
    restored = pickle.loads(pickle.dumps(fitted))
    pd.testing.assert_frame_equal(restored.predict_joint(bands), fitted.predict_joint(bands))
    with pytest.raises(ValueError, match="feature names"):
        fitted.predict(bands[list("zirgu")])
    # Refitting with the same seed gives the same model.
    np.testing.assert_array_equal(
        clone(pair).fit(bands, y).predict_proba(bands), fitted.predict_proba(bands)
    )


def test_boosting_cross_validates_with_stratified_type_folds():
    X, y, _, _ = gappy_sample(n=90)
    scores = cross_validate(small_boosting(), X, y, cv=StratifiedTypeKFold(3), scoring=SCORERS)
    assert np.all(np.isfinite(scores["test_joint"]))
    assert np.all(scores["test_roc_auc"] > 0.8)


def test_tuning_searches_each_task_on_shared_type_stratified_folds():
    X, y, types, _ = gappy_sample(n=60)
    pair = small_boosting(tune=True, classifier_max_iter=5, regressor_max_iter=5).fit(X, y)
    classifier, regressor = pair.classifier_, pair.regressor_
    assert isinstance(classifier, GridSearchCV) and isinstance(regressor, GridSearchCV)
    grid = {f"model__{name}": values for name, values in TUNING_GRID.items()}
    for search in (classifier, regressor):
        assert search.param_grid == grid and len(search.cv_results_["params"]) == 8
        assert search.best_params_["model__learning_rate"] in (0.05, 0.1)
    assert classifier.scoring == "neg_log_loss"
    assert len(classifier.cv) == 3
    for (_, test_c), (_, test_r) in zip(classifier.cv, regressor.cv, strict=True):
        np.testing.assert_array_equal(test_c, test_r)
        assert set(types[test_c]) == {"ET", "LT"}
    assert pair.predict(X).shape == (60, 2)


def test_boosting_beats_a_constant_predictor():
    X, y, types, redshift = gappy_sample(n=300, seed=1)
    train, test = np.arange(200), np.arange(200, 300)
    pair = small_boosting(classifier_max_iter=100, regressor_max_iter=100).fit(X[train], y[train])
    late = types[test] == "LT"
    prior = np.full(len(test), np.mean(types[train] == "LT"))
    assert log_loss(late, pair.predict_proba(X[test])[:, 1]) < 0.5 * log_loss(late, prior)
    constant_z = np.full(len(test), np.median(redshift[train]))
    z_phot = pair.predict_redshift(X[test])
    assert mean_absolute_error(redshift[test], z_phot) < 0.5 * mean_absolute_error(
        redshift[test], constant_z
    )


@pytest.mark.parametrize("make_pair", [linear_pair, small_boosting], ids=["linear", "boosting"])
@pytest.mark.parametrize("labels", [("ET", "LT"), (0, 1)])
def test_predict_joint_is_one_catalog_row_per_galaxy(make_pair, labels):
    X, y, _, _ = make_joint_sample(n=60, labels=labels)
    pair = make_pair().fit(X, y)
    bands = pd.DataFrame(X, columns=list("ugriz"), index=np.arange(100, 160))
    table = pair.fit(bands, y).predict_joint(bands)
    assert list(table.columns) == ["p_late", "type", "z_phot", "flags"]
    assert table.index.equals(bands.index)
    np.testing.assert_allclose(table["p_late"], pair.predict_proba(bands)[:, 1])
    np.testing.assert_allclose(table["z_phot"], pair.predict_redshift(bands))
    np.testing.assert_array_equal(table["type"], pair.predict(bands)[:, 0])
    assert set(table["type"]) <= set(labels) and (table["flags"] == "").all()
    from_array = pair.fit(X, y).predict_joint(X[:7])
    assert from_array.index.equals(pd.RangeIndex(7))
