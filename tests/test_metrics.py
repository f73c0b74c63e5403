import numpy as np
import pytest

from skphotoz import metrics


def test_classification_metrics_hand_computed():
    late_true = np.array([0, 0, 0, 1, 1, 1, 1, 1])
    p_late = np.array([0.1, 0.6, 0.3, 0.9, 0.8, 0.4, 0.7, 0.95])
    m = metrics.classification_metrics(late_true, p_late, threshold=0.5)
    # predicted late: [0,1,0,1,1,0,1,1] -> ET recall 2/3, LT recall 4/5
    assert m["true_early_type_rate"] == pytest.approx(2 / 3)
    assert m["true_late_type_rate"] == pytest.approx(4 / 5)
    assert m["accuracy"] == pytest.approx(6 / 8)
    assert m["youden_j"] == pytest.approx(2 / 3 + 4 / 5 - 1)
    # AUC: pairs (ET, LT) with p_LT > p_ET: 0.1 < all 5; 0.6 < 0.9,0.8,0.7,0.95; 0.3 < 5 -> 14/15
    assert m["roc_auc"] == pytest.approx(14 / 15)
    expected_bce = -np.mean(np.log(np.where(late_true == 1, p_late, 1 - p_late)))
    assert m["binary_cross_entropy"] == pytest.approx(expected_bce)


def test_contingency_table_layout():
    table = metrics.contingency_table(
        [0, 0, 0, 1, 1], [0, 0, 1, 1, 0], model_name="DNN", truth_name="OTELO"
    )
    assert list(table.index) == ["ET_DNN", "LT_DNN", "Sum"]
    assert list(table.columns) == ["ET_OTELO", "LT_OTELO", "Sum"]
    assert table.to_numpy().tolist() == [[2, 1, 3], [1, 1, 2], [3, 2, 5]]


def test_labels_are_rejected_by_boolean_metrics():
    with pytest.raises(ValueError, match="late-type booleans"):
        metrics.true_late_type_rate(["ET", "LT"], ["ET", "ET"])


def test_photoz_metrics_hand_computed():
    z_spec = np.array([0.0, 0.5, 1.0, 1.0])
    z_phot = np.array([0.1, 0.5, 1.5, 0.9])
    dz = z_phot - z_spec  # [0.1, 0, 0.5, -0.1]
    m = metrics.photoz_metrics(z_spec, z_phot)
    assert m["mean_delta_z"] == pytest.approx(0.125)
    assert m["std_delta_z"] == pytest.approx(np.std(dz, ddof=1))
    # median(dz) = 0.05; |dz - 0.05| / (1+z) = [0.05, 0.0333, 0.225, 0.075] -> median 0.0625
    assert m["sigma_nmad"] == pytest.approx(1.4826 * 0.0625)
    # |dz|/(1+z) = [0.1, 0, 0.25, 0.05] -> one outlier above 0.15
    assert m["outlier_fraction"] == pytest.approx(0.25)
    assert m["n_outliers"] == 1
    assert metrics.outlier_fraction(z_spec, z_phot, limit=0.05) == pytest.approx(0.5)
    assert m["bias"] == pytest.approx(np.median([0.1, 0.0, 0.25, -0.05]))
    assert m["median_precision"] == pytest.approx(0.075)
    assert m["mse"] == pytest.approx(np.mean(dz**2))
    assert m["mae"] == pytest.approx(np.mean(np.abs(dz)))
    slope, intercept = np.polyfit(z_spec, dz, 1)
    assert m["residual_intercept"] == pytest.approx(intercept)
    assert m["residual_slope"] == pytest.approx(slope)


def test_residual_regression_exact_line():
    z_spec = np.linspace(0, 1.4, 8)
    z_phot = z_spec + (0.10 - 0.15 * z_spec)  # the paper's Table 7 line
    intercept, slope = metrics.residual_regression(z_spec, z_phot)
    assert intercept == pytest.approx(0.10)
    assert slope == pytest.approx(-0.15)


def test_joint_score_is_minus_total_loss():
    late, p = np.array([1, 0, 1]), np.array([0.9, 0.2, 0.6])
    zs, zp = np.array([0.5, 1.0, 0.2]), np.array([0.4, 1.3, 0.2])
    bce = -np.mean(np.log([0.9, 0.8, 0.6]))
    mse = np.mean([0.01, 0.09, 0.0])
    assert metrics.joint_score(late, p, zs, zp) == pytest.approx(-(bce + mse))


def test_scorers_cover_every_figure():
    names = set(metrics.SCORERS)
    for required in [
        "joint",
        "accuracy",
        "true_early_type_rate",
        "true_late_type_rate",
        "roc_auc",
        "neg_binary_cross_entropy",
        "youden_j",
        "mean_delta_z",
        "neg_std_delta_z",
        "neg_sigma_nmad",
        "neg_outlier_fraction",
        "bias",
        "neg_mse",
        "neg_mae",
        "residual_intercept",
        "residual_slope",
    ]:
        assert required in names
    with pytest.raises(ValueError, match="Unknown metric"):
        metrics.JointScorer("not_a_metric")


class _FixedJoint:
    """A fitted joint model stub: classes_ [early, late] and fixed outputs."""

    def __init__(self, classes, p_late, z):
        self.classes_ = np.asarray(classes)
        self.p_late, self.z = np.asarray(p_late, float), np.asarray(z, float)

    def predict_proba(self, X):
        return np.column_stack([1 - self.p_late, self.p_late])

    def predict(self, X):
        labels = np.where(self.p_late >= 0.5, self.classes_[1], self.classes_[0])
        return np.column_stack([labels.astype(object), self.z])


def test_scorers_read_the_late_type_from_classes_not_sort_order():
    p_late, z = [0.9, 0.2, 0.7, 0.4], [0.5, 1.0, 0.2, 0.3]
    y_etlt = np.column_stack([["LT", "ET", "LT", "LT"], z]).astype(object)
    y_redblue = np.column_stack([["blue", "red", "blue", "blue"], z]).astype(object)
    etlt, redblue = _FixedJoint(["ET", "LT"], p_late, z), _FixedJoint(["red", "blue"], p_late, z)
    for name in ("accuracy", "roc_auc", "true_late_type_rate", "joint", "youden_j"):
        scorer = metrics.SCORERS[name]
        assert scorer(redblue, None, y_redblue) == pytest.approx(scorer(etlt, None, y_etlt))
    assert metrics.SCORERS["accuracy"](etlt, None, y_etlt) == 0.75
    with pytest.raises(ValueError, match="not trained on"):
        metrics.SCORERS["neg_mse"](etlt, None, y_redblue)
