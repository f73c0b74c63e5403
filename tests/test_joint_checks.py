"""sklearn's estimator checks, re-run with a joint ``[type, redshift]`` target.

``check_estimator`` generates its own 1-D or 1-column ``y`` (and, for the SED
fitter, X of any width), so the checks listed in
``test_sklearn_compat``'s expected failures cannot run as they are. Each test
here asserts what the skipped checks assert (the test names them), on every
joint estimator of ``test_sklearn_compat.JOINT_ESTIMATORS``, with the data a
joint estimator needs. YoudenThreshold, whose X is P(LT) scores, has its own
test at the end.

The one check with no joint equivalent for the networks is
``check_sample_weight_equivalence_on_dense_data`` (weight 2 == a duplicated
row): minibatch training with shuffling is not deterministic in that sense,
which is why sklearn itself marks it as an expected failure for its own
SGD-trained estimators (e.g. MLPClassifier). The pair of linear models
passes it (last tests).
"""

import pickle

import numpy as np
import pandas as pd
import pytest
from joblib import dump, load
from scipy import sparse
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.utils.validation import check_is_fitted, has_fit_parameter

from skphotoz import JointMorphZ
from skphotoz.thresholding import YoudenThreshold

from .conftest import TINY, make_joint_sample
from .test_sklearn_compat import JOINT_ESTIMATORS

PREDICTIONS = ("predict", "predict_proba", "predict_redshift", "predict_joint")
#: The estimators that take sample weights (the SED fitter and YoudenThresholdCV do not).
WEIGHTED = [
    n for n in JOINT_ESTIMATORS if has_fit_parameter(JOINT_ESTIMATORS[n](), "sample_weight")
]


@pytest.fixture(scope="module")
def sample():
    X, y, types, redshift = make_joint_sample(n=64)
    return X, y


@pytest.fixture(scope="module", params=list(JOINT_ESTIMATORS))
def fitted(request, sample):
    X, y = sample
    return JOINT_ESTIMATORS[request.param]().fit(X, y)


def _outputs(model, X):
    return model.predict_proba(X), np.asarray(model.predict(X)[:, 1], dtype=float)


@pytest.mark.parametrize("name", JOINT_ESTIMATORS)
def test_fit_returns_self_and_unfitted_raises(name, sample):
    # check_estimators_fit_returns_self, check_fit_check_is_fitted, check_estimators_unfitted
    X, y = sample
    model = JOINT_ESTIMATORS[name]()
    with pytest.raises(NotFittedError):
        check_is_fitted(model)
    for method in PREDICTIONS:
        if hasattr(model, method):
            with pytest.raises(NotFittedError):
                getattr(model, method)(X)
    with pytest.raises(NotFittedError):
        model.score(X, y)
    assert model.fit(X, y) is model
    check_is_fitted(model)


@pytest.mark.parametrize("name", JOINT_ESTIMATORS)
def test_fit_idempotent_and_params_not_overwritten(name, sample):
    # check_fit_idempotent, check_estimators_overwrite_params, check_dont_overwrite_parameters
    X, y = sample
    model = JOINT_ESTIMATORS[name]()
    params_before = clone(model).get_params()
    public_before = {k for k in vars(model) if not k.startswith("_")}
    first = _outputs(model.fit(X, y), X)
    assert model.get_params().keys() == params_before.keys()
    assert {k: repr(v) for k, v in model.get_params().items()} == {
        k: repr(v) for k, v in params_before.items()
    }
    added = {k for k in vars(model) if not k.startswith("_")} - public_before
    assert added and all(k.endswith("_") for k in added), added
    second = _outputs(model.fit(X, y), X)
    for a, b in zip(first, second, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def _same(a, b):
    if isinstance(a, np.ndarray):
        return a.shape == b.shape and bool(np.all((a == b) | (a != a)))  # NaN == NaN here
    return a is b or a == b


def test_predict_does_not_change_state(fitted, sample):
    # check_dict_unchanged
    X, _ = sample
    before = {k: v for k, v in vars(fitted).items() if k != "model_"}
    for method in PREDICTIONS:
        if hasattr(fitted, method):
            getattr(fitted, method)(X)
    after = {k: v for k, v in vars(fitted).items() if k != "model_"}
    assert before.keys() == after.keys()
    for key, value in before.items():
        assert _same(value, after[key]), key


def test_subset_and_sample_order_invariance(fitted, sample):
    # check_methods_subset_invariance, check_methods_sample_order_invariance
    X, _ = sample
    p_all, z_all = _outputs(fitted, X)
    p_part, z_part = _outputs(fitted, X[10:20])
    np.testing.assert_allclose(p_part, p_all[10:20], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(z_part, z_all[10:20], rtol=1e-5, atol=1e-6)
    order = np.random.default_rng(0).permutation(len(X))
    p_perm, z_perm = _outputs(fitted, X[order])
    np.testing.assert_allclose(p_perm, p_all[order], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(z_perm, z_all[order], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", JOINT_ESTIMATORS)
def test_n_features_in_and_feature_names(name, sample):
    # check_n_features_in, check_n_features_in_after_fitting
    X, y = sample
    model = JOINT_ESTIMATORS[name]().fit(X, y)
    assert model.n_features_in_ == X.shape[1]
    assert not hasattr(model, "feature_names_in_")
    with pytest.raises(ValueError, match="features"):
        model.predict(X[:, :-1])
    bands = [f"mag_{b}" for b in "ugriz"]
    framed = JOINT_ESTIMATORS[name]().fit(pd.DataFrame(X, columns=bands), y)
    assert list(framed.feature_names_in_) == bands
    with pytest.raises(ValueError, match="feature names"):
        framed.predict(pd.DataFrame(X, columns=bands[::-1]))


@pytest.mark.parametrize("name", JOINT_ESTIMATORS)
def test_input_layouts_and_dtypes_give_the_same_model(name, sample, tmp_path):
    # check_estimators_dtypes, check_f_contiguous_array_estimator,
    # check_readonly_memmap_input, check_classifier_data_not_an_array, check_dtype_object,
    # check_pipeline_consistency (the same data gives the same model)
    X, y = sample
    make = JOINT_ESTIMATORS[name]
    reference = _outputs(make().fit(X, y), X)
    dump(X, tmp_path / "X.joblib")
    variants = {
        "float32": X.astype(np.float32),
        "fortran": np.asfortranarray(X),
        "memmap": load(tmp_path / "X.joblib", mmap_mode="r"),
        "lists": X.tolist(),
        "object": X.astype(object),
    }
    for kind, Xv in variants.items():
        out = _outputs(make().fit(Xv, y.tolist() if kind == "lists" else y), Xv)
        for a, b in zip(reference, out, strict=True):
            np.testing.assert_allclose(a, b, rtol=1e-3, atol=1e-4, err_msg=kind)


@pytest.mark.parametrize("name", JOINT_ESTIMATORS)
def test_degenerate_shapes_are_refused(name, sample):
    # check_fit2d_1sample, check_fit2d_predict1d, check_fit2d_1feature,
    # check_estimator_sparse_tag, check_classifiers_one_label
    X, y = sample
    make = JOINT_ESTIMATORS[name]
    with pytest.raises(ValueError):
        make().fit(X[:1], y[:1])
    with pytest.raises(ValueError, match="class"):
        make().fit(X[y[:, 0] == "LT"], y[y[:, 0] == "LT"])
    if name == "GradientBoostingPair":  # colours need two bands: the refusal sklearn accepts
        with pytest.raises(ValueError, match="1 feature"):
            make().fit(X[:, :1], y)
    else:
        model = make(n_bands=1).fit(X[:, :1], y)
        assert model.predict(X[:3, :1]).shape == (3, 2)
    model = make().fit(X, y)
    with pytest.raises(ValueError, match="2D"):
        model.predict(X[0])
    with pytest.raises(TypeError, match="Sparse"):
        make().fit(sparse.csr_matrix(X), y)


@pytest.mark.parametrize("name", WEIGHTED)
def test_sample_weight_forms_and_errors(name, sample):
    # check_sample_weights_list, _pandas_series, _not_an_array, _shape,
    # _not_overwritten, check_all_zero_sample_weights_error
    X, y = sample
    make = JOINT_ESTIMATORS[name]
    weights = np.linspace(0.5, 1.5, len(X))
    kept = weights.copy()
    reference = _outputs(make().fit(X, y, sample_weight=weights), X)
    np.testing.assert_array_equal(weights, kept)
    for form in (weights.tolist(), pd.Series(weights)):
        out = _outputs(make().fit(X, y, sample_weight=form), X)
        np.testing.assert_allclose(out[1], reference[1], rtol=1e-4, atol=1e-5)
    with pytest.raises(ValueError, match="sample_weight"):
        make().fit(X, y, sample_weight=weights[:-1])
    with pytest.raises(ValueError, match="zero"):
        make().fit(X, y, sample_weight=np.zeros(len(X)))
    with pytest.raises(ValueError, match="(?i)negative"):
        make().fit(X, y, sample_weight=-weights)


def test_fitted_models_pickle_and_give_probabilities(fitted, sample):
    # check_estimators_pickle, check_classifiers_train (the shape of the outputs)
    X, _ = sample
    proba = fitted.predict_proba(X)
    assert proba.shape == (len(X), 2) and np.all((proba >= 0) & (proba <= 1))
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert set(fitted.predict(X)[:, 0]) <= set(fitted.classes_)
    restored = pickle.loads(pickle.dumps(fitted))
    np.testing.assert_array_equal(restored.predict_proba(X), proba)
    np.testing.assert_array_equal(restored.predict(X), fitted.predict(X))


def test_classifier_learns():
    # check_classifiers_train: the network learns the type
    X, y = make_joint_sample(n=200, seed=3)[:2]
    model = JointMorphZ(**{**TINY, "epochs": 40}).fit(X, y)
    assert np.mean(model.predict(X)[:, 0] == y[:, 0]) > 0.85


def test_weights_equal_duplicated_rows_for_the_linear_pair(sample):
    # check_sample_weight_equivalence_on_dense_data, for a pair of deterministic models
    X, y = sample
    weights = np.ones(len(X))
    weights[:10] = 2
    doubled = np.r_[np.arange(len(X)), np.arange(10)]
    weighted = JOINT_ESTIMATORS["IndependentPair"]().fit(X, y, sample_weight=weights)
    repeated = JOINT_ESTIMATORS["IndependentPair"]().fit(X[doubled], y[doubled])
    np.testing.assert_allclose(weighted.predict_proba(X), repeated.predict_proba(X), atol=1e-4)
    np.testing.assert_allclose(weighted.predict_redshift(X), repeated.predict_redshift(X))
    # The weights reach both models as sklearn's would take them.
    types, redshift = y[:, 0], y[:, 1].astype(float)
    alone = LogisticRegression().fit(X, types, sample_weight=weights)
    np.testing.assert_allclose(weighted.predict_proba(X), alone.predict_proba(X))
    line = LinearRegression().fit(X, redshift, sample_weight=weights)
    np.testing.assert_allclose(weighted.predict_redshift(X), line.predict(X))


# -------------------------------------------------------------- YoudenThreshold
def test_youden_threshold_checks_with_scores(tmp_path):
    # YoudenThreshold's listed checks on P(LT) scores and two types:
    # check_dict_unchanged, check_dont_overwrite_parameters,
    # check_estimators_fit_returns_self, check_estimators_overwrite_params,
    # check_f_contiguous_array_estimator, check_readonly_memmap_input,
    # check_fit2d_1sample, check_fit2d_predict1d, check_fit_score_takes_y,
    # check_methods_sample_order_invariance, check_methods_subset_invariance,
    # check_estimators_dtypes, check_dtype_object, check_estimators_pickle
    rng = np.random.default_rng(0)
    types = np.where(rng.random(60) < 0.6, "LT", "ET")
    scores = np.clip(np.where(types == "LT", 0.7, 0.4) + rng.normal(0, 0.2, 60), 0, 1)
    model = YoudenThreshold()
    with pytest.raises(NotFittedError):
        model.transform(scores)
    assert model.fit(scores, types) is model
    assert model.get_params() == {"early_label": None}
    assert all(k.endswith("_") for k in vars(model) if k != "early_label")
    labels = model.transform(scores)
    state = {k: repr(v) for k, v in vars(model).items()}
    order = rng.permutation(60)
    np.testing.assert_array_equal(model.transform(scores[order]), labels[order])
    np.testing.assert_array_equal(model.transform(scores[10:20]), labels[10:20])
    assert {k: repr(v) for k, v in vars(model).items()} == state
    dump(scores[:, None], tmp_path / "s.joblib")
    for variant in (
        scores[:, None].astype(np.float32),
        np.asfortranarray(scores[:, None]),
        load(tmp_path / "s.joblib", mmap_mode="r"),
        scores.tolist(),
        scores.astype(object),
        np.column_stack([1 - scores, scores]),
    ):
        assert YoudenThreshold().fit(variant, types).threshold_ == pytest.approx(
            model.threshold_, rel=1e-6
        )
    with pytest.raises(ValueError, match="both early- and late-type"):
        YoudenThreshold().fit(scores[:1], types[:1])
    restored = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(restored.transform(scores), labels)
