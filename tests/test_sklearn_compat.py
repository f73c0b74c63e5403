"""The estimators as scikit-learn citizens: tags, checks, pipelines, CV, search, pickling.

Every estimator of the package runs ``check_estimator`` here. A check that
fails is listed with its reason, and the test asserts that exactly the listed
checks fail: a new failure and a stale entry are both errors. The checks that
cannot take a joint target are re-run with one in tests/test_joint_checks.py.
"""

import joblib
import numpy as np
import pytest
from sklearn.base import clone, is_classifier, is_regressor
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.model_selection import GridSearchCV, LeaveOneOut, cross_validate
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import check_estimator, check_param_validation

from skphotoz import JointMorphZ
from skphotoz.baselines import GradientBoostingPair
from skphotoz.baselines.pairs import IndependentPair
from skphotoz.baselines.sed import SEDTemplateFitter
from skphotoz.metrics import SCORERS, joint_scorer
from skphotoz.model_selection import StratifiedTypeKFold
from skphotoz.nn.ensemble import ReplicaEnsemble
from skphotoz.thresholding import YoudenThreshold, YoudenThresholdCV

from .conftest import TINY, make_joint_sample

#: The bands of conftest.make_joint_sample, as sedpy filters.
UGRIZ = ["sdss_u0", "sdss_g0", "sdss_r0", "sdss_i0", "sdss_z0"]
#: A coarse redshift grid: a template fit of tens of galaxies takes milliseconds.
COARSE_GRID = np.round(np.arange(0.0, 1.501, 0.1), 2)


def _template_fitter(n_bands=5, **kwargs):
    return SEDTemplateFitter(UGRIZ[:n_bands], redshift_grid=COARSE_GRID, **kwargs)


#: Every joint estimator, small enough that a fit takes well under a second
#: on conftest.make_joint_sample (ugriz magnitudes, y = [type, redshift]).
#: Each factory takes the joint estimators' keyword arguments, and
#: ``n_bands`` where the number of columns is a parameter (the SED fitter's
#: bands).
JOINT_ESTIMATORS = {
    "JointMorphZ": lambda n_bands=5, **kw: JointMorphZ(**{**TINY, "epochs": 1, **kw}),
    "ReplicaEnsemble": lambda n_bands=5, **kw: ReplicaEnsemble(
        **{**TINY, "epochs": 1, "n_replicas": 2, **kw}
    ),
    "IndependentPair": lambda n_bands=5, **kw: IndependentPair(
        LogisticRegression(), LinearRegression(), **kw
    ),
    "GradientBoostingPair": lambda n_bands=5, **kw: GradientBoostingPair(
        **{"classifier_max_iter": 10, "regressor_max_iter": 10, "random_state": 0, **kw}
    ),
    "SEDTemplateFitter": _template_fitter,
    "YoudenThresholdCV": lambda n_bands=5, **kw: YoudenThresholdCV(
        IndependentPair(LogisticRegression(), LinearRegression(), **kw), cv=2, random_state=0
    ),
}

# ---------------------------------------------------------------- reasons
JOINT_TARGET = "feeds a 1-D/1-column y; a joint estimator needs y = [type, redshift]"
PLACEHOLDER_X = (
    "feeds X ~ N(100, 1); a magnitude with |m| >= 90 is a catalog placeholder, refused "
    "(naming the band) before y is read"
)
#: The joint networks and the pairs: one contract, so one list.
EXPECTED_FAILED_CHECKS = {
    name: JOINT_TARGET
    for name in [
        "check_class_weight_classifiers",
        "check_all_zero_sample_weights_error",
        "check_classifier_data_not_an_array",
        "check_classifiers_classes",
        "check_classifiers_one_label",
        "check_classifiers_one_label_sample_weights",
        "check_classifiers_train",
        "check_dict_unchanged",
        "check_dont_overwrite_parameters",
        "check_dtype_object",
        "check_estimators_dtypes",
        "check_estimators_fit_returns_self",
        "check_estimators_nan_inf",
        "check_estimators_overwrite_params",
        "check_estimators_pickle",
        "check_f_contiguous_array_estimator",
        "check_fit2d_1feature",
        "check_fit2d_1sample",
        "check_fit2d_predict1d",
        "check_fit_score_takes_y",
        "check_methods_sample_order_invariance",
        "check_methods_subset_invariance",
        "check_n_features_in_after_fitting",
        "check_pipeline_consistency",
        "check_positive_only_tag_during_fit",
        "check_readonly_memmap_input",
        "check_sample_weight_equivalence_on_dense_data",
        "check_sample_weights_list",
        "check_sample_weights_not_an_array",
        "check_sample_weights_not_overwritten",
        "check_sample_weights_pandas_series",
        "check_sample_weights_shape",
    ]
}
EXPECTED_FAILED_CHECKS.update(
    {
        "check_fit_idempotent": PLACEHOLDER_X,
        "check_fit_check_is_fitted": PLACEHOLDER_X,
        "check_n_features_in": PLACEHOLDER_X,
        "check_requires_y_none": PLACEHOLDER_X,
        "check_classifier_multioutput": "passes a 3-column multilabel y; the joint target is "
        "exactly [type, redshift]",
        "check_classifier_not_supporting_multiclass": "passes a 1-D 3-class y; rejected by the "
        "joint-target shape check before the class count is read",
        "check_classifiers_regression_target": "passes a 1-D continuous y; rejected by the "
        "joint-target shape check, with a message sklearn does not recognise",
    }
)

BAND_COUNT = (
    "feeds X with another number of columns than the fitter's bands; each column is the "
    "magnitude through one filter curve, so the width is fixed by the bands parameter"
)
#: SEDTemplateFitter(3 bands): y is optional, so a check without y gets as far as X.
SED_EXPECTED_FAILED_CHECKS = {
    **{
        name: BAND_COUNT
        for name in [
            "check_classifier_data_not_an_array",
            "check_classifier_multioutput",
            "check_classifier_not_supporting_multiclass",
            "check_classifiers_classes",
            "check_classifiers_regression_target",
            "check_classifiers_train",
            "check_dtype_object",
            "check_estimators_dtypes",
            "check_estimators_fit_returns_self",
            "check_estimators_overwrite_params",
            "check_fit2d_1feature",
            "check_fit2d_1sample",
            "check_fit_check_is_fitted",
            "check_fit_idempotent",
            "check_n_features_in",
            "check_n_features_in_after_fitting",
            "check_positive_only_tag_during_fit",
            "check_readonly_memmap_input",
        ]
    },  # fmt: skip
    **{
        name: JOINT_TARGET
        for name in [
            "check_classifiers_one_label",
            "check_dict_unchanged",
            "check_dont_overwrite_parameters",
            "check_estimators_pickle",
            "check_f_contiguous_array_estimator",
            "check_fit2d_predict1d",
            "check_fit_score_takes_y",
            "check_methods_sample_order_invariance",
            "check_methods_subset_invariance",
            "check_pipeline_consistency",
        ]
    },  # fmt: skip
}

Y_FIRST = (
    "feeds a 1-D y, which YoudenThresholdCV reads first (its folds are stratified on the "
    "type), so the joint-target error comes before the input error the check expects"
)
#: YoudenThresholdCV(IndependentPair(...)): the joint-target checks, and those
#: whose bad X it never reaches.
YOUDEN_CV_EXPECTED_FAILED_CHECKS = {
    **{
        name: reason
        for name, reason in EXPECTED_FAILED_CHECKS.items()
        # It takes no sample_weight, and reads a missing y first.
        if "sample_weight" not in name and name != "check_requires_y_none"
    },
    **{
        name: Y_FIRST
        for name in [
            "check_complex_data",
            "check_estimator_sparse_array",
            "check_estimator_sparse_matrix",
            "check_estimator_sparse_tag",
            "check_estimators_empty_data_messages",
            "check_estimators_nan_inf",
            "check_fit_check_is_fitted",
            "check_fit_idempotent",
            "check_n_features_in",
        ]
    },
}

ONE_D_X = (
    "sklearn's check turns X into 1-D (the one_d_array tag: P(LT) scores) and then indexes "
    "it as 2-D itself, an IndexError inside the check"
)
THREE_TYPES = "feeds y with 3 or 4 classes; a threshold separates exactly two types"
LABELS = "transform returns one type label per galaxy (1-D, the labels' dtype), not features"
#: YoudenThreshold: X is P(LT) scores, (n,), (n, 1) or predict_proba's (n, 2).
YOUDEN_EXPECTED_FAILED_CHECKS = {
    **{
        name: ONE_D_X
        for name in [
            "check_dict_unchanged",
            "check_dont_overwrite_parameters",
            "check_f_contiguous_array_estimator",
            "check_fit2d_1feature",
            "check_fit2d_1sample",
            "check_fit2d_predict1d",
            "check_methods_sample_order_invariance",
            "check_methods_subset_invariance",
        ]
    },  # fmt: skip
    **{
        name: THREE_TYPES
        for name in [
            "check_dtype_object",
            "check_estimator_sparse_array",
            "check_estimator_sparse_matrix",
            "check_estimator_sparse_tag",
            "check_estimators_fit_returns_self",
            "check_estimators_overwrite_params",
            "check_fit_score_takes_y",
            "check_n_features_in_after_fitting",
            "check_positive_only_tag_during_fit",
            "check_readonly_memmap_input",
        ]
    },  # fmt: skip
    **{
        name: LABELS
        for name in [
            "check_transformer_data_not_an_array",
            "check_transformer_general",
            "check_transformer_preserve_dtypes",
        ]
    },  # fmt: skip
    "check_estimators_dtypes": "feeds the labels 1/2, of which neither is known to be the early "
    "type; YoudenThreshold(early_label=...) is needed",
    "check_complex_data": "feeds complex labels, refused as labels of unknown early type "
    "before the complex scores are read",
    "check_estimators_empty_data_messages": "a (n, 0) score array is refused with a message "
    "on the score shapes, not sklearn's '0 feature(s)'",
    "check_n_features_in": "scores may be (n,), (n, 1) or (n, 2) at every call, so there is no "
    "fixed number of features to record",
    "check_estimators_nan_inf": "feeds 3-column X with NaN or inf; the shape is refused first "
    "(scores have 1 or 2 columns), so the message names no NaN",
}

#: name -> (estimator for check_estimator, its expected failures).
CHECKED_ESTIMATORS = {
    "JointMorphZ": (JOINT_ESTIMATORS["JointMorphZ"], EXPECTED_FAILED_CHECKS),
    "ReplicaEnsemble": (JOINT_ESTIMATORS["ReplicaEnsemble"], EXPECTED_FAILED_CHECKS),
    "IndependentPair": (JOINT_ESTIMATORS["IndependentPair"], EXPECTED_FAILED_CHECKS),
    "GradientBoostingPair": (JOINT_ESTIMATORS["GradientBoostingPair"], EXPECTED_FAILED_CHECKS),
    "SEDTemplateFitter": (lambda: _template_fitter(n_bands=3), SED_EXPECTED_FAILED_CHECKS),
    "YoudenThresholdCV": (JOINT_ESTIMATORS["YoudenThresholdCV"], YOUDEN_CV_EXPECTED_FAILED_CHECKS),
    "YoudenThreshold": (YoudenThreshold, YOUDEN_EXPECTED_FAILED_CHECKS),
}


@pytest.mark.parametrize("name", CHECKED_ESTIMATORS)
def test_check_estimator_fails_exactly_the_listed_checks(name):
    make, expected = CHECKED_ESTIMATORS[name]
    # Run every check (an expected failure would be skipped, not run), so that
    # an entry whose check now passes is caught as stale.
    results = check_estimator(make(), on_fail=None)
    ran = {r["check_name"] for r in results}
    failed = {r["check_name"] for r in results if r["status"] == "failed"}
    assert failed - set(expected) == set(), "undocumented failures"
    assert (set(expected) & ran) - failed == set(), "listed checks that pass"
    passed = {r["check_name"] for r in results if r["status"] == "passed"}
    core = {
        "check_estimator_cloneable",
        "check_get_params_invariance",
        "check_set_params",
        "check_no_attributes_set_in_init",
        "check_parameters_default_constructible",
        "check_mixin_order",
    }
    assert core <= passed
    if name != "YoudenThreshold":  # a transformer has no predict
        assert "check_estimators_unfitted" in passed
    # Not among check_estimator's checks: every parameter has a constraint
    # (early_label included) and a bad value is refused by fit.
    check_param_validation(name, make())


def test_tags_say_joint_classifier_and_regressor():
    model = JointMorphZ()
    tags = model.__sklearn_tags__()
    assert is_classifier(model)
    assert tags.estimator_type == "classifier"
    assert tags.regressor_tags is not None and tags.classifier_tags is not None
    assert tags.target_tags.required and tags.target_tags.multi_output
    assert not tags.target_tags.single_output
    assert tags.input_tags.allow_nan  # missing bands are inputs by default
    assert not JointMorphZ(missing_bands="error").__sklearn_tags__().input_tags.allow_nan
    assert not is_regressor(model)  # sklearn has one estimator_type: classifier wins


def test_clone_and_nested_params_in_pipeline():
    pipe = Pipeline([("scale", StandardScaler()), ("net", JointMorphZ(base_units=(64,)))])
    params = pipe.get_params()
    assert params["net__base_units"] == (64,)
    pipe.set_params(net__learning_rate=0.01, net__class_units=(16,), net__class_dropout=(0.2,))
    cloned = clone(pipe)
    assert cloned.get_params()["net__learning_rate"] == 0.01
    assert cloned.get_params()["net__class_units"] == (16,)
    assert cloned["net"] is not pipe["net"]


def test_pipeline_with_standard_scaler_trains(joint_sample):
    X, y, types, _ = joint_sample
    pipe = Pipeline([("scale", StandardScaler()), ("net", JointMorphZ(**TINY, standardize=False))])
    pipe.fit(X, y)
    pred = pipe.predict(X)
    assert pred.shape == (len(X), 2)
    assert pipe.score(X, y) == pytest.approx(pipe["net"].score(pipe["scale"].transform(X), y))


def test_cross_validate_leave_one_out_with_all_scorers():
    X, y, _, _ = make_joint_sample(n=10)
    result = cross_validate(
        JointMorphZ(**{**TINY, "epochs": 1}),
        X,
        y,
        cv=LeaveOneOut(),
        scoring={"joint": joint_scorer, "neg_mse": SCORERS["neg_mse"]},
    )
    assert len(result["test_joint"]) == 10
    assert np.all(np.isfinite(result["test_joint"]))
    assert np.all(result["test_neg_mse"] <= 0)


def test_stratified_type_kfold_keeps_type_ratio_and_runs_in_parallel():
    X, y, types, _ = make_joint_sample(n=60)
    cv = StratifiedTypeKFold(n_splits=3, shuffle=True, random_state=0)
    overall = np.mean(types == "ET")
    for _, test in cv.split(X, y):
        assert abs(np.mean(types[test] == "ET") - overall) <= 1 / len(test) + 1e-9
    result = cross_validate(JointMorphZ(**TINY), X, y, cv=cv, scoring=SCORERS, n_jobs=2)
    for key in [
        "test_accuracy",
        "test_roc_auc",
        "test_neg_sigma_nmad",
        "test_joint",
        "test_true_early_type_rate",
        "test_residual_slope",
    ]:
        assert len(result[key]) == 3
        assert np.all(np.isfinite(result[key])), key
    assert np.all((0 <= result["test_roc_auc"]) & (result["test_roc_auc"] <= 1))


def test_grid_search_over_architecture():
    X, y, _, _ = make_joint_sample(n=48)
    grid = GridSearchCV(
        JointMorphZ(**TINY),
        {"base_units": [(8,), (16,)], "class_units": [(4,), (8,)], "learning_rate": [1e-3]},
        cv=StratifiedTypeKFold(n_splits=2),
        scoring=joint_scorer,
    )
    grid.fit(X, y)
    assert len(grid.cv_results_["params"]) == 4
    assert grid.best_params_["base_units"] in [(8,), (16,)]
    assert grid.best_estimator_.predict(X).shape == (48, 2)
    assert np.isfinite(grid.best_score_)


def test_pickle_and_joblib_round_trip(joint_sample, tmp_path):
    X, y, _, _ = joint_sample
    model = JointMorphZ(**TINY).fit(X, y)
    path = tmp_path / "model.joblib"
    joblib.dump(model, path)
    loaded = joblib.load(path)
    np.testing.assert_array_equal(loaded.predict_proba(X), model.predict_proba(X))
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))
    assert loaded.history_ == model.history_
