"""The paper's evaluation protocols: bootstrap errors, LOO, repeated splits, Table 2."""

import numpy as np
import pandas as pd
import pytest

from skphotoz.metrics import classification_metrics, photoz_metrics
from skphotoz.model_selection import paper_split
from skphotoz.model_selection.evaluation import (
    bootstrap_evaluation,
    compare_architectures,
    evaluate_predictions,
    loo_evaluation,
)
from skphotoz.thresholding import youden_threshold

from .conftest import TINY, linear_pair, make_joint_sample, tiny_model

pytestmark = pytest.mark.usefixtures("fast_replicas")


def test_loo_evaluation_metrics_are_the_metrics_module():
    X, y, types, z_spec = make_joint_sample(40)
    result = loo_evaluation(tiny_model(), X, y, n_bootstrap=50, random_state=0)
    pred = result.predictions
    assert list(pred.columns) == ["type", "z_spec", "p_late", "z_phot"]
    np.testing.assert_array_equal(pred["type"], types)
    late = types == "LT"
    expected = {
        **classification_metrics(late, pred["p_late"], 0.5),
        **photoz_metrics(z_spec, pred["z_phot"]),
    }
    for name, value in expected.items():
        if name != "threshold":
            assert result.metrics.loc[name, "value"] == pytest.approx(value, nan_ok=True), name
    youden = youden_threshold(late, pred["p_late"])
    assert result.youden_threshold == pytest.approx(youden["threshold"])
    assert result.metrics.loc["youden_j_youden", "value"] == pytest.approx(youden["youden_j"])
    assert result.metrics.loc["total_loss", "value"] == pytest.approx(
        expected["binary_cross_entropy"] + expected["mse"]
    )
    errors = result.metrics.loc[["accuracy", "roc_auc", "mse", "sigma_nmad"], "error"]
    assert (errors > 0).all()


def test_bootstrap_errors_shrink_with_sample_size():
    rng = np.random.default_rng(0)

    def predictions(n):
        types = np.where(rng.random(n) < 0.8, "LT", "ET")
        z = rng.uniform(0.1, 1.2, n)
        p = np.clip((types == "LT") * 0.6 + 0.2 + rng.normal(0, 0.2, n), 0, 1)
        return pd.DataFrame(
            {"type": types, "z_spec": z, "p_late": p, "z_phot": z + rng.normal(0, 0.05, n)}
        )

    small = evaluate_predictions(predictions(100), n_bootstrap=200, random_state=0).metrics
    large = evaluate_predictions(predictions(1600), n_bootstrap=200, random_state=0).metrics
    for name in ("accuracy", "mse", "roc_auc"):
        ratio = small.loc[name, "error"] / large.loc[name, "error"]
        assert 2 < ratio < 8, (name, ratio)  # ~sqrt(16) = 4
    acc = large.loc["accuracy", "value"]
    binomial = np.sqrt(acc * (1 - acc) / 1600)
    assert large.loc["accuracy", "error"] == pytest.approx(binomial, rel=0.3)


def test_bootstrap_evaluation_per_split():
    X, y, _, _ = make_joint_sample(60)
    result = bootstrap_evaluation(linear_pair(), X, y, n_splits=6, random_state=0)
    per_split = result.per_split
    assert len(per_split) == 6 and (per_split["n_train"] == 60).all()
    np.testing.assert_allclose(
        per_split["total_loss"], per_split["binary_cross_entropy"] + per_split["mse"]
    )
    assert result.summary.loc["mse", "median"] == pytest.approx(per_split["mse"].median())
    assert {"median", "spread"} <= set(result.summary.columns)


def test_compare_architectures_table():
    X, y, _, _ = make_joint_sample(60)
    params = {k: v for k, v in TINY.items() if k != "random_state"}
    table = compare_architectures(
        X,
        y,
        architectures=[1, 3],
        cv=paper_split(3, train_size=32, test_size=28, random_state=0),
        estimator_params=params,
        random_state=0,
    )
    assert list(table.columns) == ["Arch. 1", "Arch. 3"]
    assert table.shape == (10, 2) and np.isfinite(table.to_numpy()).all()
    assert table.index.get_level_values("statistic").unique().tolist() == ["median", "spread"]
    assert len(table.attrs["per_split"]["Arch. 3"]) == 3
    with pytest.raises(ValueError, match="Unknown architecture"):
        compare_architectures(X, y, architectures=[7], n_trials=1)
