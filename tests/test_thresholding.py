import numpy as np
import pytest
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.calibration import CalibratedClassifierCV
from sklearn.frozen import FrozenEstimator
from sklearn.model_selection import TunedThresholdClassifierCV

from skphotoz import JointMorphZ
from skphotoz.plotting import plot_roc
from skphotoz.thresholding import (
    TypeClassifier,
    YoudenThreshold,
    YoudenThresholdCV,
    classification_report,
    format_report,
    youden_threshold,
)

from .conftest import TINY, make_joint_sample


def _imbalanced_scores(seed=0, n=400):
    rng = np.random.default_rng(seed)
    late = rng.random(n) > 0.1  # ~10% early types, as in the paper
    p_late = np.clip(np.where(late, rng.normal(0.8, 0.15, n), rng.normal(0.45, 0.2, n)), 0, 1)
    return late, np.round(p_late, 3)  # rounding creates ties between galaxies


def _brute_force_j(late, p_late):
    best_j, best_t = -np.inf, None
    for t in np.unique(p_late)[::-1]:  # from the highest: the first maximum wins
        pred = p_late >= t
        j = np.mean(~pred[~late]) + np.mean(pred[late]) - 1
        if j > best_j + 1e-12:
            best_j, best_t = j, t
    return best_t, best_j


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_threshold_matches_brute_force(seed):
    late, p_late = _imbalanced_scores(seed)
    t_ref, j_ref = _brute_force_j(late, p_late)
    labels = np.where(late, "LT", "ET")
    model = YoudenThreshold().fit(p_late, labels)
    assert model.threshold_ == pytest.approx(t_ref)
    assert model.youden_j_ == pytest.approx(j_ref)
    pred = p_late >= model.threshold_
    assert model.true_early_type_rate_ == pytest.approx(np.mean(~pred[~late]))
    assert model.true_late_type_rate_ == pytest.approx(np.mean(pred[late]))
    np.testing.assert_array_equal(model.transform(p_late), np.where(pred, "LT", "ET"))
    # predict_proba-shaped input gives the same answer
    assert (
        YoudenThreshold().fit(np.column_stack([1 - p_late, p_late]), labels).threshold_
        == model.threshold_
    )


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


def test_agrees_with_tuned_threshold_classifier_cv():
    late, p_late = _imbalanced_scores(3)
    labels = np.where(late, "LT", "ET")
    ours = YoudenThreshold().fit(p_late, labels)
    scores = p_late[:, None]
    frozen = FrozenEstimator(_ScoreAsProbability().fit(scores, labels))
    tuned = TunedThresholdClassifierCV(
        frozen,
        scoring="balanced_accuracy",
        thresholds=np.unique(p_late),
        cv="prefit",
        refit=False,
    ).fit(scores, labels)
    # balanced accuracy = (J + 1) / 2, maximised over the same candidate thresholds
    assert tuned.best_score_ == pytest.approx((ours.youden_j_ + 1) / 2)
    pred = p_late >= tuned.best_threshold_
    j_tuned = np.mean(~pred[~late]) + np.mean(pred[late]) - 1
    assert j_tuned == pytest.approx(ours.youden_j_)


def test_errors_for_nan_single_class_and_ties():
    with pytest.raises(ValueError, match="NaN"):
        YoudenThreshold().fit([0.1, np.nan, 0.9], ["ET", "LT", "LT"])
    with pytest.raises(ValueError, match="both early and late"):
        YoudenThreshold().fit([0.1, 0.5, 0.9], ["LT", "LT", "LT"])
    with pytest.raises(ValueError, match="tied"):
        YoudenThreshold().fit([0.5, 0.5, 0.5], ["ET", "LT", "LT"])
    with pytest.raises(ValueError, match="shape"):
        YoudenThreshold().fit(np.zeros((3, 3)), ["ET", "LT", "LT"])


def test_report_tables_hand_checked():
    late = np.array([0, 0, 0, 1, 1, 1, 1, 1], dtype=bool)
    p = np.array([0.1, 0.6, 0.85, 0.95, 0.8, 0.9, 0.7, 0.99])
    report = classification_report(
        late,
        p,
        ids=np.arange(100, 108),
        z_spec=np.linspace(0, 1, 8),
        z_phot=np.linspace(0, 1, 8) + 0.01,
        n_bootstrap=50,
    )
    # p >= 0.5: ET 1 correct, 2 wrong; LT all correct
    assert report["contingency_default"].to_numpy().tolist() == [[1, 0, 1], [2, 5, 7], [3, 5, 8]]
    youden = report["youden_threshold"]
    assert youden == pytest.approx(_brute_force_j(late, p)[0])
    stats = report["statistics"]
    assert stats.loc["Default threshold (0.5)", "accuracy"] == pytest.approx(6 / 8)
    assert stats.loc["Baseline (all LT)", "true_early_type_rate"] == 0
    assert stats.loc["Baseline (all LT)", "accuracy"] == pytest.approx(5 / 8)
    assert (stats.filter(like="_err") >= 0).all().all()
    miss = report["misclassified"]
    assert 101 in miss["id"].tolist() and 102 in miss["id"].tolist()
    assert {"z_spec", "z_phot", "p_late"} <= set(miss.columns)
    text = format_report(report)
    assert "Table 3" in text and "Table 6" in text and "±" in text


def test_youden_threshold_cv_with_joint_model():
    X, y, types, _ = make_joint_sample(n=60)
    model = YoudenThresholdCV(JointMorphZ(**TINY), cv=3, random_state=0).fit(X, y)
    assert model.oof_p_late_.shape == (60,)
    assert 0 <= model.threshold_ <= 1
    pred = model.predict(X)
    p_late = model.predict_proba(X)[:, 1]
    np.testing.assert_array_equal(pred[:, 0] == "LT", p_late >= model.threshold_)
    np.testing.assert_allclose(pred[:, 1].astype(float), model.estimator_.predict_redshift(X))
    assert np.isfinite(model.score(X, y))


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
    # calibration on these galaxies cannot worsen their log loss by much
    from sklearn.metrics import log_loss

    raw = log_loss(types[60:], np.clip(fitted.predict_proba(X[60:]), 1e-7, 1 - 1e-7))
    assert log_loss(types[60:], np.clip(proba, 1e-7, 1 - 1e-7)) <= raw + 0.05


def test_roc_plot_is_written(tmp_path):
    late, p_late = _imbalanced_scores(4)
    result = youden_threshold(late, p_late)
    path = tmp_path / "roc.png"
    fig = plot_roc(late, p_late, youden_threshold=result["threshold"], path=path)
    assert path.stat().st_size > 5000
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert any("Youden" in t for t in labels) and any("baseline" in t for t in labels)
