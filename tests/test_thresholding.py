"""Youden threshold, YoudenThresholdCV, the classification report and P(LT) calibration."""

import numpy as np
import pandas as pd
import pytest
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.calibration import CalibratedClassifierCV
from sklearn.exceptions import NotFittedError
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.metrics import balanced_accuracy_score, log_loss, roc_auc_score
from sklearn.model_selection import StratifiedKFold, TunedThresholdClassifierCV, cross_val_predict

from skphotoz import JointMorphZ
from skphotoz.model_selection import StratifiedTypeKFold
from skphotoz.reporting.plots import plot_roc
from skphotoz.reporting.tables import (
    classification_report,
    classification_report_figures,
    classification_report_from_estimator,
    format_report,
)
from skphotoz.thresholding import (
    TypeClassifier,
    YoudenThreshold,
    YoudenThresholdCV,
    youden_threshold,
)
from skphotoz.validation import split_targets

from .conftest import TINY, make_joint_sample


def _imbalanced_scores(seed=0, n=400):
    rng = np.random.default_rng(seed)
    late = rng.random(n) > 0.1  # ~10% early types, as in the paper
    p_late = np.clip(np.where(late, rng.normal(0.8, 0.15, n), rng.normal(0.45, 0.2, n)), 0, 1)
    return late, np.round(p_late, 2)  # rounding creates ties between galaxies


def _brute_force_j(late, p_late):
    """Try every observed score as threshold; best J, then most balanced, then highest."""
    best_key, best = None, None
    for t in np.unique(p_late):
        pred = p_late >= t
        tet, tlt = np.mean(~pred[~late]), np.mean(pred[late])
        key = (round(tet + tlt - 1, 12), -round(abs(tet - tlt), 12), t)
        if best_key is None or key > best_key:
            best_key, best = key, (t, tet + tlt - 1, tet, tlt)
    return best


# ------------------------------------------------------------------ threshold
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_threshold_matches_brute_force(seed):
    late, p_late = _imbalanced_scores(seed)
    t_ref, j_ref, tet_ref, tlt_ref = _brute_force_j(late, p_late)
    labels = np.where(late, "LT", "ET")
    model = YoudenThreshold().fit(p_late, labels)
    assert model.threshold_ == t_ref
    assert model.youden_j_ == pytest.approx(j_ref)
    assert model.balanced_accuracy_ == pytest.approx((j_ref + 1) / 2)
    assert model.true_early_type_rate_ == pytest.approx(tet_ref)
    assert model.true_late_type_rate_ == pytest.approx(tlt_ref)
    np.testing.assert_array_equal(model.transform(p_late), np.where(p_late >= t_ref, "LT", "ET"))
    # the ROC arrays: late type positive, one point per distinct score (+ the inf start)
    assert len(model.thresholds_) == len(np.unique(p_late)) + 1
    np.testing.assert_allclose(np.max(model.tpr_ - model.fpr_), j_ref)


def test_hand_example_with_tied_j_takes_the_balanced_point():
    # Scores from high to low: LT LT ET LT ET ET ET LT. J = 0.5 both at t = 0.8
    # (true ET 1, true LT 0.5) and at t = 0.6 (0.75, 0.75): the balanced one wins.
    p = np.array([0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2])
    types = np.array(["LT", "LT", "ET", "LT", "ET", "ET", "ET", "LT"])
    result = youden_threshold(types, p)
    assert result["threshold"] == 0.6
    assert result["youden_j"] == pytest.approx(0.5)
    assert (result["true_early_type_rate"], result["true_late_type_rate"]) == (0.75, 0.75)


@pytest.mark.parametrize(
    "as_scores",
    [
        lambda p: p,
        lambda p: p[:, None],
        lambda p: np.column_stack([1 - p, p]),  # predict_proba output
        lambda p: list(p),
    ],
    ids=["1d", "n1", "proba", "list"],
)
def test_score_shapes_and_label_kinds_agree(as_scores):
    late, p_late = _imbalanced_scores(5, n=200)
    reference = YoudenThreshold().fit(p_late, late).threshold_
    joint_target = np.column_stack([np.where(late, "LT", "ET"), np.ones(len(late))])
    for y in (late, late.astype(int), np.where(late, "LT", "ET"), joint_target):
        fitted = YoudenThreshold().fit(as_scores(p_late), y)
        assert fitted.threshold_ == reference
    assert YoudenThreshold().fit(p_late, late.astype(int)).transform([0.0, 1.0]).tolist() == [0, 1]


def test_errors_for_bad_scores_and_labels():
    types = ["ET", "LT", "LT"]
    with pytest.raises(ValueError, match="NaN"):
        YoudenThreshold().fit([0.1, np.nan, 0.9], types)
    with pytest.raises(ValueError, match="infinite"):
        YoudenThreshold().fit([0.1, np.inf, 0.9], types)
    with pytest.raises(ValueError, match="both early- and late-type"):
        YoudenThreshold().fit([0.1, 0.5, 0.9], ["LT", "LT", "LT"])
    with pytest.raises(ValueError, match="tied"):
        YoudenThreshold().fit([0.5, 0.5, 0.5], types)
    with pytest.raises(ValueError, match="shape"):
        YoudenThreshold().fit(np.zeros((3, 3)), types)
    with pytest.raises(ValueError, match="do not sum to 1"):  # a joint predict() output
        YoudenThreshold().fit([[0, 0.3], [1, 0.8], [1, 1.2]], types)
    with pytest.raises(ValueError, match="3 scores but 2"):
        YoudenThreshold().fit([0.1, 0.5, 0.9], ["ET", "LT"])
    with pytest.raises(ValueError, match="NaN"):
        YoudenThreshold().fit([0.1, 0.5, 0.9], [0.0, 1.0, np.nan])
    with pytest.raises(NotFittedError):
        YoudenThreshold().transform([0.5])
    with pytest.warns(UserWarning, match="better than chance"):  # inverted scores
        result = youden_threshold(["LT", "LT", "ET", "ET"], [0.1, 0.2, 0.8, 0.9])
    assert result["threshold"] == 0.1  # J = 0: everything late type, the baseline


# -------------------------------------------------- agreement with sklearn
class _ScoreAsProbability(ClassifierMixin, BaseEstimator):
    """A 'classifier' whose P(LT) is its single input column: precomputed scores."""

    def fit(self, X, y):
        self.classes_ = np.unique(y)
        return self

    def predict_proba(self, X):
        p = np.asarray(X, dtype=float)[:, 0]
        return np.column_stack([1 - p, p])

    def predict(self, X):
        return self.classes_[(self.predict_proba(X)[:, 1] >= 0.5).astype(int)]


def _tuned_on_scores(p_late, labels):
    scores = p_late[:, None]
    return TunedThresholdClassifierCV(
        FrozenEstimator(_ScoreAsProbability().fit(scores, labels)),
        scoring="balanced_accuracy",
        thresholds=np.unique(p_late),
        cv="prefit",
        refit=False,
    ).fit(scores, labels)


def test_agrees_with_tuned_threshold_classifier_cv_on_fixed_scores():
    late, p_late = _imbalanced_scores(3)
    labels = np.where(late, "LT", "ET")
    ours = YoudenThreshold().fit(p_late, labels)
    tuned = _tuned_on_scores(p_late, labels)
    # balanced accuracy = (J + 1) / 2, maximised over the same candidate thresholds
    assert tuned.best_score_ == pytest.approx((ours.youden_j_ + 1) / 2)
    assert balanced_accuracy_score(labels, ours.transform(p_late)) == pytest.approx(
        tuned.best_score_
    )


class _LogisticJoint(ClassifierMixin, BaseEstimator):
    """A minimal joint model from sklearn parts: logistic type, linear redshift."""

    def fit(self, X, y):
        types, redshift = split_targets(y)
        self.classifier_ = LogisticRegression().fit(X, types)
        self.regressor_ = LinearRegression().fit(X, redshift)
        self.classes_ = self.classifier_.classes_
        self.n_features_in_ = X.shape[1]
        return self

    def predict_proba(self, X):
        return self.classifier_.predict_proba(X)

    def predict(self, X):
        labels = self.classifier_.predict(X)
        out = np.empty((len(X), 2), dtype=object if labels.dtype.kind in "US" else float)
        out[:, 0], out[:, 1] = labels, self.regressor_.predict(X)
        return out

    def score(self, X, y):
        return 0.0


def _noisy_joint_sample(n=300, seed=0):
    X, y, types, redshift = make_joint_sample(n=n, seed=seed)
    X = X + np.random.default_rng(seed).normal(0, 2.0, X.shape)  # overlapping types
    return X, y, types, redshift


def test_youden_threshold_cv_agrees_with_tuned_threshold_classifier_cv():
    X, y, types, _ = _noisy_joint_sample()
    splitter = StratifiedTypeKFold(5, shuffle=True, random_state=0)
    model = YoudenThresholdCV(_LogisticJoint(), cv=splitter).fit(X, y)
    # The out-of-fold scores are sklearn's for the same folds ...
    oof = cross_val_predict(
        LogisticRegression(),
        X,
        types,
        cv=StratifiedKFold(5, shuffle=True, random_state=0),
        method="predict_proba",
    )[:, 1]
    np.testing.assert_allclose(model.oof_p_late_, oof)
    # ... and on them TunedThresholdClassifierCV reaches the same balanced accuracy.
    tuned = _tuned_on_scores(oof, types)
    assert 0.5 < tuned.best_score_ < 1  # a non-trivial problem
    assert model.thresholder_.balanced_accuracy_ == pytest.approx(tuned.best_score_)
    assert balanced_accuracy_score(types, np.where(oof >= model.threshold_, "LT", "ET")) == (
        pytest.approx(tuned.best_score_)
    )
    # predict applies the threshold to the refitted model; the redshift is untouched
    pred = model.predict(X)
    p_late = model.predict_proba(X)[:, 1]
    np.testing.assert_array_equal(pred[:, 0], np.where(p_late >= model.threshold_, "LT", "ET"))
    np.testing.assert_allclose(
        pred[:, 1].astype(float), model.estimator_.regressor_.predict(X), rtol=1e-12
    )
    assert model.n_features_in_ == X.shape[1]
    assert not hasattr(model, "predict_redshift")  # only when the estimator has it


def test_youden_threshold_cv_integer_labels_and_seeding():
    X, _, types, redshift = _noisy_joint_sample(n=120, seed=2)
    y = np.column_stack([(types == "LT").astype(float), redshift])
    first = YoudenThresholdCV(_LogisticJoint(), cv=4, random_state=0).fit(X, y)
    again = YoudenThresholdCV(_LogisticJoint(), cv=4, random_state=0).fit(X, y)
    np.testing.assert_array_equal(first.oof_p_late_, again.oof_p_late_)
    assert first.classes_.tolist() == [0, 1]
    pred = first.predict(X)
    assert pred.dtype == np.float64
    assert set(np.unique(pred[:, 0])) <= {0.0, 1.0}


def test_youden_threshold_cv_with_joint_model():
    X, y, types, _ = make_joint_sample(n=60)
    model = YoudenThresholdCV(JointMorphZ(**TINY), cv=3, random_state=0).fit(X, y)
    assert model.oof_p_late_.shape == (60,)
    assert model.threshold_ == model.thresholder_.threshold_
    assert model.threshold_ in set(model.oof_p_late_)
    pred = model.predict(X)
    p_late = model.predict_proba(X)[:, 1]
    np.testing.assert_array_equal(pred[:, 0] == "LT", p_late >= model.threshold_)
    np.testing.assert_allclose(pred[:, 1].astype(float), model.predict_redshift(X))
    assert np.isfinite(model.score(X, y))
    clone(model)  # parameters stay cloneable
    # JointMorphZ has predict_pdf, so the wrapper offers it; without a PDF head
    # there is no grid, and predict_pdf says how to get one.
    assert hasattr(model, "predict_pdf") and not hasattr(model, "z_grid_")
    with pytest.raises(ValueError, match="redshift_pdf="):
        model.predict_pdf(X[:2])


def test_youden_threshold_cv_passes_the_pdf_through():
    X, y, _, _ = make_joint_sample(n=60)
    unfitted = YoudenThresholdCV(JointMorphZ(**TINY, redshift_pdf="mixture"), cv=3)
    assert hasattr(unfitted, "predict_pdf") and not hasattr(unfitted, "z_grid_")
    model = unfitted.set_params(random_state=0).fit(X, y)
    np.testing.assert_array_equal(model.z_grid_, model.estimator_.z_grid_)
    pdf = model.predict_pdf(X[:5])
    np.testing.assert_array_equal(pdf, model.estimator_.predict_pdf(X[:5]))
    np.testing.assert_allclose(np.trapezoid(pdf, model.z_grid_, axis=1), 1.0, rtol=1e-9)
    z_grid = np.linspace(0.0, 2.0, 50)
    np.testing.assert_array_equal(
        model.predict_pdf(X[:5], z_grid=z_grid), model.estimator_.predict_pdf(X[:5], z_grid)
    )
    # An estimator without a PDF hides both.
    plain = YoudenThresholdCV(_LogisticJoint(), cv=3).fit(*_noisy_joint_sample(n=60)[:2])
    assert not hasattr(plain, "predict_pdf") and not hasattr(plain, "z_grid_")


# ---------------------------------------------------------------- the report
LATE = np.array([0, 0, 0, 1, 1, 1, 1, 1], dtype=bool)
P_LATE = np.array([0.1, 0.6, 0.85, 0.95, 0.8, 0.9, 0.7, 0.99])


def test_report_tables_hand_checked():
    # From high to low: L L L E L L E E. J peaks at p = 0.7: true ET 2/3, true LT 1.
    report = classification_report(
        np.where(LATE, "LT", "ET"),
        P_LATE,
        ids=np.arange(100, 108),
        z_spec=np.linspace(0, 0.7, 8),
        z_phot=np.linspace(0, 0.7, 8) + 0.01,
        extra_columns={"visual": list("EELLLLLL")},
        n_bootstrap=200,
        model_name="DNN",
    )
    assert report["youden_threshold"] == 0.7
    assert (report["n_early_type"], report["n_late_type"]) == (3, 5)
    # Table 3, predicted in rows, true in columns: two ET galaxies above 0.5
    t3 = report["contingency_default"]
    assert t3.to_numpy().tolist() == [[1, 0, 1], [2, 5, 7], [3, 5, 8]]
    assert t3.index.tolist() == ["ET_DNN", "LT_DNN", "Sum"]
    # Table 5: only the ET galaxy at 0.85 is above p_J
    assert report["contingency_youden"].to_numpy().tolist() == [[2, 0, 2], [1, 5, 6], [3, 5, 8]]
    # Table 6
    stats = report["statistics"]
    expected = {
        "Baseline (all LT)": (0.0, 5 / 8, 0.0, 1.0),
        "Default threshold (0.5)": (0.5, 6 / 8, 1 / 3, 1.0),
        "Youden's J (0.700)": (0.7, 7 / 8, 2 / 3, 1.0),
    }
    assert stats.index.tolist() == list(expected)
    for row, values in expected.items():
        got = stats.loc[
            row, ["threshold", "accuracy", "true_early_type_rate", "true_late_type_rate"]
        ]
        np.testing.assert_allclose(got.to_numpy(dtype=float), values)
    assert stats.loc["Baseline (all LT)", "true_late_type_rate_err"] == 0
    assert stats.loc["Baseline (all LT)", "true_early_type_rate_err"] == 0
    assert (stats.filter(like="_err") >= 0).all().all()
    # Table 4: the off-diagonal of Table 3, with labels and redshifts
    miss = report["misclassified"]
    assert miss["id"].tolist() == [101, 102]
    assert miss["true"].tolist() == ["ET", "ET"]
    assert miss["DNN (p=0.5)"].tolist() == ["LT", "LT"]
    assert miss["DNN (p_J=0.700)"].tolist() == ["ET", "LT"]
    assert miss["visual"].tolist() == ["E", "L"]
    np.testing.assert_allclose(miss["z_spec"], [0.1, 0.2])
    np.testing.assert_allclose(miss["z_DNN"], [0.11, 0.21])
    youden_only = classification_report(LATE, P_LATE, misclassified_at="youden", n_bootstrap=10)
    assert youden_only["misclassified"]["id"].tolist() == [2]
    text = format_report(report)
    for part in ("Table 3", "Table 4", "Table 5", "Table 6", "0.875 ± ", "ET_DNN"):
        assert part in text


def test_baseline_is_the_majority_type():
    # 5 ET, 3 LT: the baseline calls everything ET (the paper's sample had 92% LT)
    report = classification_report(~LATE, 1 - P_LATE, n_bootstrap=10)
    stats = report["statistics"]
    assert stats.index[0] == "Baseline (all ET)"
    row = stats.loc["Baseline (all ET)"]
    assert (row["accuracy"], row["true_early_type_rate"], row["true_late_type_rate"]) == (
        5 / 8,
        1.0,
        0.0,
    )
    fig = plot_roc(~LATE, 1 - P_LATE)
    baseline = next(line for line in fig.axes[0].get_lines() if "baseline" in line.get_label())
    assert baseline.get_label() == "baseline (all ET), accuracy 0.62"
    x, y = baseline.get_data()
    np.testing.assert_allclose(y, 1 - 3 / 5 * x)  # through (0, 1), slope -N_LT/N_ET


def test_bootstrap_errors_match_the_binomial_formula():
    # Resampling galaxies makes the accuracy Binomial(n, a) / n: sd = sqrt(a (1 - a) / n).
    report = classification_report(LATE, P_LATE, n_bootstrap=20000, random_state=1)
    stats = report["statistics"]
    for row, accuracy in (("Baseline (all LT)", 5 / 8), ("Default threshold (0.5)", 6 / 8)):
        binomial = np.sqrt(accuracy * (1 - accuracy) / 8)
        assert stats.loc[row, "accuracy_err"] == pytest.approx(binomial, rel=0.03)
    again = classification_report(LATE, P_LATE, n_bootstrap=20000, random_state=1)
    pd.testing.assert_frame_equal(stats, again["statistics"])


def test_report_errors():
    with pytest.raises(ValueError, match="misclassified_at"):
        classification_report(LATE, P_LATE, misclassified_at="all")
    with pytest.raises(ValueError, match="8 scores but 7"):
        classification_report(LATE[:7], P_LATE)
    with pytest.raises(ValueError, match="NaN"):
        classification_report(LATE, np.where(LATE, np.nan, 0.5))


def test_report_from_estimator_and_files(tmp_path):
    X, y, types, redshift = _noisy_joint_sample(n=200, seed=3)
    model = YoudenThresholdCV(_LogisticJoint(), cv=3, random_state=0).fit(X[:120], y[:120])
    report = classification_report_from_estimator(
        model, X[120:], y[120:], ids=np.arange(120, 200), n_bootstrap=50
    )
    # the threshold learned out of fold on the training galaxies is used
    assert report["youden_threshold"] == model.threshold_
    assert report["contingency_youden"].iloc[2, 2] == 80
    late_test = types[120:] == "LT"
    wrong = late_test != (model.predict_proba(X[120:])[:, 1] >= 0.5)
    assert report["misclassified"]["id"].tolist() == list(np.arange(120, 200)[wrong])
    np.testing.assert_allclose(report["misclassified"]["z_spec"], redshift[120:][wrong])
    with pytest.raises(ValueError, match="not trained on"):
        classification_report_from_estimator(
            model, X[:5], np.column_stack([["S0"] * 5, np.ones(5)])
        )

    out = classification_report_figures(model, X[120:], y[120:], output_dir=tmp_path / "m")
    assert out["report"]["youden_threshold"] == model.threshold_
    for path in out["paths"].values():
        assert path.stat().st_size > 0
    assert out["paths"]["roc"].stat().st_size > 5000
    table3 = pd.read_csv(out["paths"]["contingency_default"], index_col=0)
    assert table3.loc["Sum", "Sum"] == 80
    assert "Table 6" in out["paths"]["classification_report"].read_text(encoding="utf-8")

    from_scores = classification_report_figures(
        P_LATE, y=LATE, output_dir=tmp_path / "s", prefix="oof_", n_bootstrap=20
    )
    assert from_scores["paths"]["roc"].name == "oof_roc.png"
    assert from_scores["report"]["youden_threshold"] == 0.7
    with pytest.raises(ValueError, match="X is only used"):
        classification_report_figures(P_LATE, X, LATE, output_dir=tmp_path)


# ---------------------------------------------------------------- calibration
@pytest.mark.parametrize("method", ["sigmoid", "isotonic"])
def test_calibration_of_p_late(method):
    X, y, types, _ = make_joint_sample(n=120, seed=1)
    fitted = JointMorphZ(**TINY).fit(X[:60], y[:60])
    calibrated = CalibratedClassifierCV(FrozenEstimator(TypeClassifier(fitted)), method=method)
    calibrated.fit(X[60:], types[60:])
    proba = calibrated.predict_proba(X[60:])
    assert proba.shape == (60, 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert calibrated.classes_.tolist() == ["ET", "LT"]
    # fitted on these galaxies, the calibration cannot worsen their log loss by much
    raw = log_loss(types[60:], np.clip(fitted.predict_proba(X[60:]), 1e-7, 1 - 1e-7))
    assert log_loss(types[60:], np.clip(proba, 1e-7, 1 - 1e-7)) <= raw + 0.05


def test_platt_scaling_keeps_the_roc_and_youden_j():
    X, y, types, _ = _noisy_joint_sample(n=300, seed=4)
    fitted = _LogisticJoint().fit(X[:150], y[:150])
    calibrated = CalibratedClassifierCV(
        FrozenEstimator(TypeClassifier(fitted)), method="sigmoid"
    ).fit(X[150:], types[150:])
    raw = fitted.predict_proba(X[150:])[:, 1]
    platt = calibrated.predict_proba(X[150:])[:, 1]
    # a strictly increasing map: same ranking, same ROC, same J; p_J moves
    assert roc_auc_score(types[150:], platt) == pytest.approx(roc_auc_score(types[150:], raw))
    j_raw = YoudenThreshold().fit(raw, types[150:]).youden_j_
    assert YoudenThreshold().fit(platt, types[150:]).youden_j_ == pytest.approx(j_raw)


def test_type_classifier_refuses_to_train():
    X, y, types, _ = make_joint_sample(n=40)
    with pytest.raises(NotFittedError, match="FrozenEstimator"):
        CalibratedClassifierCV(TypeClassifier(_LogisticJoint()), cv=2).fit(X, types)
    view = TypeClassifier(_LogisticJoint().fit(X, y))
    assert view.fit(X, types) is view
    assert view.predict(X[:4]).tolist() == view.joint_estimator.predict(X[:4])[:, 0].tolist()


# ----------------------------------------------------------------------- plot
def test_roc_plot_follows_fig5(tmp_path):
    path = tmp_path / "roc.png"
    fig = plot_roc(LATE, P_LATE, path=path)
    assert path.stat().st_size > 5000
    ax = fig.axes[0]
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("True LT Rate", "True ET Rate")
    assert ax.get_xlim()[0] > ax.get_xlim()[1]  # True LT Rate decreases to the right
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    for part in ("Youden p_J = 0.700", "baseline (all LT), accuracy 0.62", "balanced sample"):
        assert any(part in label for label in labels), (part, labels)
    points = {line.get_marker(): line.get_xydata()[0].tolist() for line in ax.get_lines()}
    np.testing.assert_allclose(points["s"], [1.0, 1 / 3])  # p = 0.5: (True LT, True ET)
    np.testing.assert_allclose(points["o"], [1.0, 2 / 3])  # p_J = 0.7
    baseline = next(line for line in ax.get_lines() if "baseline" in str(line.get_label()))
    x, y = baseline.get_data()
    np.testing.assert_allclose(y, 5 / 3 * (1 - x))  # through (1, 0), slope -N_LT/N_ET


# ------------------------------------------------------ labels of any order
def test_youden_threshold_takes_one_and_two_column_scores():
    tags = YoudenThreshold().__sklearn_tags__().input_tags
    assert tags.one_d_array and tags.two_d_array
    assert YoudenThreshold().get_params() == {"early_label": None}


def test_type_classifier_is_sorted_for_sklearn_with_red_blue_labels():
    # classes_ of the joint model is [early, late] = [red, blue]; sklearn's tools
    # assume sorted classes (CalibratedClassifierCV fails on unsorted ones and
    # the "roc_auc" scorer returns 1 - AUC), so the view sorts them.
    X, y, types, _ = make_joint_sample(n=120, seed=1, labels=("red", "blue"))
    fitted = _LogisticJoint().fit(X[:60], y[:60])
    # A tiny network that ranks the types the right way round (seed 0's
    # starts in a corner it does not leave in 30 epochs), so that Platt
    # scaling on it has a positive slope.
    joint = JointMorphZ(**{**TINY, "epochs": 30, "random_state": 1}).fit(X[:60], y[:60])
    assert joint.classes_.tolist() == ["red", "blue"]
    view = TypeClassifier(joint)
    assert view.classes_.tolist() == ["blue", "red"]
    np.testing.assert_allclose(view.predict_proba(X), joint.predict_proba(X)[:, ::-1])
    calibrated = CalibratedClassifierCV(FrozenEstimator(view), method="sigmoid")
    calibrated.fit(X[60:], types[60:])
    late = list(calibrated.classes_).index(joint.classes_[1])
    p_blue = calibrated.predict_proba(X[60:])[:, late]
    # Platt scaling is increasing: the ranking of P(blue) is the model's.
    assert roc_auc_score(types[60:] == "blue", p_blue) == pytest.approx(
        roc_auc_score(types[60:] == "blue", joint.predict_proba(X[60:])[:, 1])
    )
    assert TypeClassifier(fitted).classes_.tolist() == ["blue", "red"]


def test_youden_threshold_cv_keeps_the_estimator_labels():
    X, _, types, redshift = _noisy_joint_sample(n=120, seed=2)
    y = np.column_stack([np.where(types == "LT", "blue", "red"), redshift]).astype(object)
    model = YoudenThresholdCV(_LogisticJoint(), cv=3, random_state=0).fit(X, y)
    # _LogisticJoint's classes_ are sorted: column 1 (red) is what it calls late.
    assert model.classes_.tolist() == ["blue", "red"] == model.thresholder_.classes_.tolist()
    late = model.predict_proba(X)[:, 1] >= model.threshold_
    np.testing.assert_array_equal(model.predict(X)[:, 0], np.where(late, "red", "blue"))


def test_youden_cv_learns_on_scored_galaxies_and_leaves_one_band_rows_untyped():
    X, y, _, _ = make_joint_sample(n=90)
    X = np.array(X, dtype=float)
    X[0, 1:] = np.nan  # one observed band: the network gives it no score
    model = YoudenThresholdCV(JointMorphZ(**TINY), cv=3, random_state=0).fit(X, y)
    assert model.n_unscored_ == 1 and np.isnan(model.oof_p_late_[0])
    assert np.isfinite(model.oof_p_late_[1:]).all()
    pred = model.predict(X[:3])
    assert pred[0, 0] is None and np.isnan(float(pred[0, 1]))
    assert set(pred[1:, 0]) <= {"ET", "LT"}
