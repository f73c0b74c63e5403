"""Issue 12's bad inputs through the Python API: each is refused clearly, never used.

(a) placeholder magnitudes, (b) type labels whose meaning is not known,
labels a model was not trained on, (c) bad sample weights, (d) global random
state, (f) TensorFlow retracing warnings. (e), the SED fitter's chunk-size
invariance, is tests/test_sed.py::test_chunking_and_threads_give_identical_results.
The command line's side is tests/test_bad_input_cli.py.
"""

import importlib
import logging
import random

import numpy as np
import pandas as pd
import pytest
from sklearn.impute import SimpleImputer
from sklearn.pipeline import make_pipeline
from sklearn.utils._param_validation import InvalidParameterError

from skphotoz.baselines.templates import load_templates, template_magnitudes
from skphotoz.metrics import SCORERS
from skphotoz.model_selection import cross_val_predict_joint
from skphotoz.preprocessing import SentinelToNaN
from skphotoz.thresholding import YoudenThreshold, youden_threshold
from skphotoz.validation import check_magnitudes, late_type_mask

from .conftest import make_joint_sample
from .test_sklearn_compat import JOINT_ESTIMATORS, UGRIZ

BANDS = [f"mag_{b}" for b in "ugriz"]
#: The estimators whose X is whatever the user feeds them (the SED fitter
#: reads magnitudes only, and leaves placeholders out: see below).
TRAINED = [name for name in JOINT_ESTIMATORS if name != "SEDTemplateFitter"]
#: Those that take sample weights.
WEIGHTED = ["JointMorphZ", "ReplicaEnsemble", "IndependentPair", "GradientBoostingPair"]


def _sample(labels=("ET", "LT"), n=60):
    X, y, _, _ = make_joint_sample(n=n, labels=labels)
    return pd.DataFrame(X, columns=BANDS), y


@pytest.fixture(scope="module")
def fitted():
    """Every joint estimator, fitted once on clean ET/LT data."""
    X, y = _sample()
    return {name: make().fit(X, y) for name, make in JOINT_ESTIMATORS.items()}


# ------------------------------------------------------- (a) placeholders
PLACEHOLDERS = [99.99, 99.0, -99.0, 90.0, -90.0, 999.0, 1e300, -1e300]


@pytest.mark.parametrize("value", PLACEHOLDERS)
@pytest.mark.parametrize("name", TRAINED)
def test_placeholder_magnitudes_are_refused_naming_the_band(name, value):
    X, y = _sample()
    X.iloc[4, 2] = value
    with pytest.raises(ValueError, match=r"mag_r: 1 row\(s\) with sentinel"):
        JOINT_ESTIMATORS[name]().fit(X, y)


@pytest.mark.parametrize("name", TRAINED)
def test_placeholder_magnitudes_get_no_prediction(name, fitted):
    X, _ = _sample()
    X.iloc[[1, 7], 3] = [99.99, 1e300]
    model = fitted[name]
    for method in ("predict", "predict_proba", "predict_redshift", "predict_joint"):
        if hasattr(model, method):
            with pytest.raises(ValueError, match=r"mag_i: 2 row\(s\) with sentinel"):
                getattr(model, method)(X)


def test_placeholders_are_refused_by_the_out_of_fold_replica_path():
    X, y = _sample()
    X.iloc[0, 0] = 99.99
    with pytest.raises(ValueError, match=r"mag_u: 1 row\(s\) with sentinel"):
        cross_val_predict_joint(JOINT_ESTIMATORS["JointMorphZ"](), X, y, cv=2)


def test_zero_is_a_value_for_estimators_and_a_placeholder_for_catalogs():
    # The decided policy (skphotoz.validation, ESTIMATOR_SENTINELS): an
    # estimator's input may be a 0/1 missing indicator, a colour or a
    # standardised magnitude, so 0 is not refused there; in a catalog's
    # magnitude column 0 means "not measured", and SentinelToNaN (as the
    # catalog readers) makes it NaN before an estimator sees it.
    X, y = _sample()
    X.iloc[4, 2] = 0.0
    assert check_magnitudes(X.to_numpy(), BANDS) is not None
    assert np.isnan(SentinelToNaN().fit_transform(X)[4, 2])
    model = make_pipeline(SentinelToNaN(), JOINT_ESTIMATORS["JointMorphZ"]()).fit(X, y)
    flags = model[-1].predict_joint(model[0].transform(X))["flags"]
    assert "missing:column 2" in flags.iloc[4] and "missing" not in flags.iloc[3]


@pytest.mark.parametrize("value", [99.99, 1e300, -1e300, 0.0, -99.0, 95.0])
def test_template_fitter_leaves_placeholders_out_of_the_fit(value, fitted):
    # The SED fitter reads AB magnitudes only, so any placeholder (0 included)
    # is a band left out of that galaxy's chi-square: the fit of the NaN band.
    X, _ = _sample()
    bad, missing = X.copy(), X.copy()
    bad.iloc[:5, 1], missing.iloc[:5, 1] = value, np.nan
    model = fitted["SEDTemplateFitter"]
    np.testing.assert_array_equal(model.predict_proba(bad), model.predict_proba(missing))
    np.testing.assert_array_equal(model.predict(bad), model.predict(missing))
    bad.iloc[0] = value
    with pytest.raises(ValueError, match="no valid magnitude"):
        model.predict(bad)


# --------------------------------------------------------------- (b) labels
@pytest.mark.parametrize(
    "labels",
    [("early", "Late"), ("red", "blue"), ("E", "L"), ("Elliptical", "spiral"), (0, 1)],
    ids=["early/Late", "red/blue", "E/L", "Elliptical/spiral", "0/1"],
)
@pytest.mark.parametrize("name", JOINT_ESTIMATORS)
def test_known_label_pairs_mean_early_then_late(name, labels):
    # classes_ is [early, late] and the model is the one trained on ET/LT:
    # red sorts after blue, yet it is the early type.
    X, y = _sample(labels)
    model = JOINT_ESTIMATORS[name]().fit(X, y)
    assert model.classes_.tolist() == list(labels)
    reference = JOINT_ESTIMATORS[name]().fit(*_sample())
    np.testing.assert_allclose(model.predict_proba(X), reference.predict_proba(X), atol=1e-6)
    as_labels = np.where(reference.predict(X)[:, 0] == "LT", labels[1], labels[0])
    np.testing.assert_array_equal(model.predict(X)[:, 0], as_labels)


@pytest.mark.parametrize("name", JOINT_ESTIMATORS)
def test_unknown_label_pairs_need_early_label(name):
    X, y = _sample((2, 1))
    with pytest.raises(ValueError, match=r"which of the type labels \[1, 2\].*early_label"):
        JOINT_ESTIMATORS[name]().fit(X, y)
    model = JOINT_ESTIMATORS[name](early_label=2).fit(X, y)
    assert model.classes_.tolist() == [2, 1]
    reference = JOINT_ESTIMATORS[name]().fit(*_sample())
    np.testing.assert_allclose(model.predict_proba(X), reference.predict_proba(X), atol=1e-6)
    with pytest.raises(ValueError, match="early_label=3 is not one of the two type labels"):
        JOINT_ESTIMATORS[name](early_label=3).fit(X, y)
    with pytest.raises(ValueError, match="early_label='2'"):  # a string is not the number
        JOINT_ESTIMATORS[name](early_label="2").fit(X, y)
    with pytest.raises(ValueError, match=r"\['A', 'B'\]"):
        JOINT_ESTIMATORS[name]().fit(*_sample(("A", "B")))


@pytest.mark.parametrize("name", JOINT_ESTIMATORS)
def test_early_label_is_a_validated_parameter(name):
    X, y = _sample()
    params = JOINT_ESTIMATORS[name]().get_params()  # YoudenThresholdCV's is its estimator's
    assert params.get("early_label", params.get("estimator__early_label", "absent")) is None
    with pytest.raises(InvalidParameterError, match="early_label"):
        JOINT_ESTIMATORS[name](early_label=0.5).fit(X, y)


def test_template_fitter_gives_its_ellipticals_the_early_label(fitted):
    _, waves, fluxes, _ = load_templates()
    mags = template_magnitudes(waves, fluxes, UGRIZ, [0.4])[[0, 2], 0, :]  # El, Scd at z=0.4
    assert fitted["SEDTemplateFitter"].predict(mags)[:, 0].tolist() == ["ET", "LT"]
    for labels, kwargs in ((("red", "blue"), {}), ((2, 1), {"early_label": 2})):
        X, y = _sample(labels)
        model = JOINT_ESTIMATORS["SEDTemplateFitter"](**kwargs).fit(X, y)
        assert model.predict(mags)[:, 0].tolist() == list(labels)


@pytest.mark.parametrize("scorer", ["accuracy", "roc_auc", "true_late_type_rate", "joint"])
@pytest.mark.parametrize("name", JOINT_ESTIMATORS)
def test_scorers_refuse_labels_the_model_was_not_trained_on(name, scorer, fitted):
    # Before, the unknown labels counted as early type: an accuracy of 0.287
    # and a NaN true-LT rate for a y labelled early/late against ET/LT.
    X, y = _sample(("early", "late"))
    with pytest.raises(ValueError, match=r"not trained on \(\['early', 'late'\]\)"):
        SCORERS[scorer](fitted[name], X, y)
    y_mixed = _sample()[1]
    y_mixed[:3, 0] = "S0"
    with pytest.raises(ValueError, match=r"3 type label\(s\) the model was not trained on"):
        SCORERS[scorer](fitted[name], X, y_mixed)


@pytest.mark.parametrize("name", ["IndependentPair", "GradientBoostingPair", "SEDTemplateFitter"])
def test_score_refuses_labels_the_model_was_not_trained_on(name, fitted):
    X, y = _sample(("early", "late"))
    with pytest.raises(ValueError, match="not trained on"):
        fitted[name].score(X, y)


def test_youden_threshold_needs_labels_of_known_meaning():
    scores = [0.1, 0.3, 0.35, 0.8, 0.9]
    with pytest.raises(ValueError, match=r"\['E', 'S0'\].*early_label"):
        YoudenThreshold().fit(scores, ["E", "E", "S0", "S0", "S0"])
    fitted = YoudenThreshold(early_label="E").fit(scores, ["E", "E", "S0", "S0", "S0"])
    assert fitted.classes_.tolist() == ["E", "S0"] and fitted.threshold_ == 0.35
    red_blue = YoudenThreshold().fit(scores, ["red", "red", "blue", "blue", "blue"])
    assert red_blue.classes_.tolist() == ["red", "blue"] and red_blue.threshold_ == 0.35
    assert red_blue.transform([0.2, 0.95]).tolist() == ["red", "blue"]
    # Before, blue sorted first and was read as the early type: no better than chance.
    assert youden_threshold(["red", "red", "blue", "blue", "blue"], scores)["youden_j"] == 1.0
    with pytest.raises(ValueError, match="not trained on"):
        late_type_mask(["ET", "S0"], classes=np.array(["ET", "LT"]))


def test_youden_threshold_cv_reads_labels_as_its_estimator():
    X, y = _sample((2, 1))
    model = JOINT_ESTIMATORS["YoudenThresholdCV"](early_label=2).fit(X, y)
    assert model.classes_.tolist() == [2, 1] == model.thresholder_.classes_.tolist()
    late = model.predict_proba(X)[:, 1] >= model.threshold_
    np.testing.assert_array_equal(model.predict(X)[:, 0], np.where(late, 1, 2))


# --------------------------------------------------------- (c) sample weights
@pytest.mark.parametrize(
    "bad, message", [(np.nan, "NaN"), (np.inf, "infinity"), (-1.0, "(?i)negative")]
)
@pytest.mark.parametrize("name", WEIGHTED)
def test_bad_sample_weights_are_refused(name, bad, message):
    X, y = _sample()
    weights = np.ones(len(X))
    weights[3] = bad
    with pytest.raises(ValueError, match=message):
        JOINT_ESTIMATORS[name]().fit(X, y, sample_weight=weights)


@pytest.mark.parametrize("name", ["SEDTemplateFitter", "YoudenThresholdCV"])
def test_estimators_without_sample_weight_refuse_any(name):
    # Nothing is trained by the template fitter (its zero points are medians);
    # YoudenThresholdCV refits its estimator as given. A weight is a TypeError.
    X, y = _sample()
    with pytest.raises(TypeError, match="sample_weight"):
        JOINT_ESTIMATORS[name]().fit(X, y, sample_weight=np.ones(len(X)))


def test_boosting_pair_passes_weights_through_its_search():
    X, y = _sample()
    weights = np.where(y[:, 0] == "ET", 5.0, 1.0)
    tuned = JOINT_ESTIMATORS["GradientBoostingPair"](tune=True, classifier_max_iter=3)
    tuned.set_params(regressor_max_iter=3).fit(X, y, sample_weight=weights)
    plain = JOINT_ESTIMATORS["GradientBoostingPair"]().fit(X, y)
    weighted = JOINT_ESTIMATORS["GradientBoostingPair"]().fit(X, y, sample_weight=weights)
    # Early types weigh 5x: they are predicted more likely.
    early = y[:, 0] == "ET"
    assert weighted.predict_proba(X)[early, 0].mean() > plain.predict_proba(X)[early, 0].mean()
    assert tuned.predict(X).shape == (len(X), 2)


# ------------------------------------------------------------ (d) random state
@pytest.mark.parametrize("name", [*JOINT_ESTIMATORS, "YoudenThreshold", "default forests"])
def test_fit_leaves_the_global_random_state_alone(name):
    # With random_state=None an estimator draws from NumPy's global generator,
    # as scikit-learn documents; with a seed it must not touch it (Keras'
    # set_random_seed would reseed NumPy and Python: skphotoz.nn.network.keras_seed).
    X, y = _sample()
    np.random.seed(12345)  # noqa: NPY002 - the global state is what is tested
    random.seed(12345)
    numpy_before, python_before = np.random.get_state(), random.getstate()  # noqa: NPY002
    if name == "YoudenThreshold":
        YoudenThreshold().fit(np.linspace(0, 1, len(y)), y[:, 0])
    elif name == "default forests":
        JOINT_ESTIMATORS["IndependentPair"]().set_params(
            classifier=None, regressor=None, random_state=0
        ).fit(X, y).predict(X)
    else:
        model = JOINT_ESTIMATORS[name]()
        seeds = [k for k in model.get_params() if k.endswith("random_state")]
        model.set_params(**dict.fromkeys(seeds, 0)).fit(X, y).predict(X)
    numpy_after = np.random.get_state()  # noqa: NPY002
    assert numpy_after[0] == numpy_before[0] and numpy_after[2:] == numpy_before[2:]
    np.testing.assert_array_equal(numpy_after[1], numpy_before[1])
    assert random.getstate() == python_before


# ------------------------------------------------------------- (f) retracing
class _Records(logging.Handler):
    def __init__(self):
        super().__init__(logging.WARNING)
        self.messages = []

    def emit(self, record):
        self.messages.append(record.getMessage())


@pytest.fixture
def tensorflow_warnings(monkeypatch):
    """Messages TensorFlow logs (its 'triggered tf.function retracing' warning is one).

    TensorFlow gives that warning at most twice per traced function per
    process, so an earlier test could have used it up: the count starts
    afresh here (a TensorFlow internal; this fails loudly if it moves).
    """
    tracing = importlib.import_module(
        "tensorflow.python.eager.polymorphic_function.polymorphic_function"
    )
    monkeypatch.setattr(
        tracing, "_frequent_tracing_detector_manager", tracing._FrequentTracingDetectorManager()
    )
    handler, logger = _Records(), logging.getLogger("tensorflow")
    logger.addHandler(handler)
    yield handler.messages
    logger.removeHandler(handler)


def test_no_retracing_in_a_predict_loop_over_a_pipeline(tensorflow_warnings):
    # A catalog predicted in pieces of varying size, through an imputing
    # Pipeline: each call has a new batch shape, none may retrace.
    X, y = _sample()
    X.iloc[::4, 0] = np.nan
    pipe = make_pipeline(SimpleImputer(), JOINT_ESTIMATORS["JointMorphZ"]()).fit(X, y)
    for size in (1, 2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31):
        pipe.predict(X.iloc[:size])
        pipe.predict_proba(X.iloc[size:])
    assert [m for m in tensorflow_warnings if "retracing" in m] == []


def test_no_retracing_in_a_loop_over_fitted_models(tensorflow_warnings):
    # Each model traces its own functions once (see skphotoz.nn.network's
    # _OneTracePerModel); a cross-validation loop must stay quiet.
    X, y = _sample(n=30)
    models = [JOINT_ESTIMATORS["JointMorphZ"]().fit(X, y) for _ in range(6)]
    for model in models:
        model.predict(X)
    assert [m for m in tensorflow_warnings if "retracing" in m] == []
