"""Splitters, out-of-fold predictions and the replica machinery."""

import numpy as np
import pandas as pd
import pytest
from joblib import parallel_backend
from sklearn.model_selection import GridSearchCV, LeaveOneOut, cross_val_predict, cross_validate
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skphotoz.metrics import SCORERS
from skphotoz.model_selection import (
    BootstrapSplit,
    StratifiedTypeKFold,
    cross_val_predict_joint,
    paper_split,
    replica_weights,
)
from skphotoz.model_selection.evaluation import bootstrap_evaluation

from .conftest import linear_pair, make_joint_sample, tiny_model

pytestmark = pytest.mark.usefixtures("fast_replicas")


def paper_sample(n_early=30, n_late=340, seed=0):
    rng = np.random.default_rng(seed)
    types = np.array(["ET"] * n_early + ["LT"] * n_late)
    return np.column_stack([types, rng.uniform(0.1, 1.2, len(types))]).astype(object)


# ------------------------------------------------------------------ splitters
def test_bootstrap_split_contract():
    y = paper_sample(12, 48)
    cv = BootstrapSplit(7, random_state=3)
    splits = list(cv.split(y, y))
    assert cv.get_n_splits() == len(splits) == 7
    again = list(BootstrapSplit(7, random_state=3).split(y, y))
    other = list(BootstrapSplit(7, random_state=4).split(y, y))
    for (train, test), (train2, test2) in zip(splits, again, strict=True):
        np.testing.assert_array_equal(train, train2)
        np.testing.assert_array_equal(test, test2)
    assert any(not np.array_equal(a[0], b[0]) for a, b in zip(splits, other, strict=True))
    for train, test in splits:
        assert len(train) == len(y)
        assert len(np.unique(train)) < len(train)  # drawn with replacement
        assert np.intersect1d(train, test).size == 0  # out-of-bag is disjoint
        np.testing.assert_array_equal(np.union1d(train, test), np.arange(len(y)))
        # Stratified: each type is resampled within itself.
        assert (y[train, 0] == "ET").sum() == 12
    assert "BootstrapSplit(n_splits=7" in repr(cv)


def test_bootstrap_split_unstratified_and_validation():
    train, test = next(BootstrapSplit(1, random_state=0).split(np.zeros((30, 2))))
    assert len(train) == 30 and np.intersect1d(train, test).size == 0
    y = paper_sample(12, 48)
    ets = {
        (y[t, 0] == "ET").sum()
        for t, _ in BootstrapSplit(20, stratify=False, random_state=0).split(y, y)
    }
    assert len(ets) > 1  # without stratification the type mix varies
    with pytest.raises(ValueError, match="n_splits"):
        BootstrapSplit(0)


def test_bootstrap_split_in_cross_validate_and_grid_search():
    X, y, _, _ = make_joint_sample(60)
    scores = cross_validate(
        tiny_model(epochs=2),
        X,
        y,
        cv=BootstrapSplit(2, random_state=0),
        scoring={"joint": SCORERS["joint"], "roc_auc": SCORERS["roc_auc"]},
    )
    assert len(scores["test_joint"]) == 2 and np.all(np.isfinite(scores["test_joint"]))
    search = GridSearchCV(
        make_pipeline(StandardScaler(), linear_pair()),
        {"standardscaler__with_std": [True, False]},
        cv=BootstrapSplit(4, random_state=0),
        scoring=SCORERS["neg_mse"],
    ).fit(X, y)
    assert search.cv_results_["split3_test_score"].shape == (2,)
    assert search.best_params_["standardscaler__with_std"] in (True, False)


def test_sklearn_cross_val_predict_refuses_bootstrap_ours_works():
    X, y, _, _ = make_joint_sample(40)
    with pytest.raises(ValueError, match="partitions"):
        cross_val_predict(linear_pair(), X, y, cv=BootstrapSplit(3, random_state=0))
    oof = cross_val_predict_joint(linear_pair(), X, y, cv=BootstrapSplit(3, random_state=0))
    assert list(oof.columns) == ["p_late", "z_phot", "n_predictions"]


def test_paper_split_sizes_and_stratification():
    y = paper_sample(31, 339)  # the paper's 31 ET / 339 LT
    cv = paper_split(random_state=0)
    splits = list(cv.split(y, y))
    assert cv.get_n_splits() == len(splits) == 100
    for train, test in splits[:10]:
        assert (len(train), len(test)) == (192, 178)
        assert np.intersect1d(train, test).size == 0
        assert (y[train, 0] == "ET").sum() in (16, 17)  # 192 * 31 / 370 = 16.1
    first = next(paper_split(random_state=0).split(y, y))
    np.testing.assert_array_equal(first[0], splits[0][0])


def test_paper_inner_split_is_128_train_64_validation():
    X, y, _, _ = make_joint_sample(192)
    model = tiny_model(protocol="paper", validation_fraction=1 / 3)
    Xs = X.astype(np.float32)
    targets = {"p_late": (y[:, 0] == "LT").astype(np.float32), "redshift": Xs[:, 0]}
    (X_train, _, _), validation = model._validation_split(Xs, targets, None, seed=0)
    assert len(X_train) == 128 and len(validation[0]) == 64


def test_stratified_type_kfold_unchanged():
    y = np.array([["ET", 0.1]] * 4 + [["LT", 0.5]] * 8, dtype=object)
    folds = list(StratifiedTypeKFold(4).split(y, y))
    assert [int((y[test, 0] == "ET").sum()) for _, test in folds] == [1, 1, 1, 1]


# ----------------------------------------------------------- predictions
def test_replica_weights_loo_isolation():
    weights = replica_weights(list(LeaveOneOut().split(np.zeros(6))), 6)
    np.testing.assert_array_equal(np.diag(weights), 0)
    np.testing.assert_array_equal(weights.sum(axis=0), 5)
    with pytest.raises(AssertionError, match="own"):
        replica_weights([(np.array([0, 1, 2]), np.array([2, 3]))], 4)


def test_loo_through_replicas_never_sees_its_galaxy(fast_replicas):
    X, y, _, _ = make_joint_sample(40)
    frame = pd.DataFrame(X, index=np.arange(100, 140))
    oof = cross_val_predict_joint(tiny_model(), frame, y, cv="loo", replicas=True, random_state=0)
    assert (oof["n_predictions"] == 1).all() and np.isfinite(oof[["p_late", "z_phot"]]).all().all()
    assert oof.index.equals(frame.index)
    assert len(fast_replicas) == 1 and fast_replicas[0].shape == (40, 40)
    np.testing.assert_array_equal(np.diag(fast_replicas[0]), 0)  # replica k: weight 0 on k
    np.testing.assert_array_equal(fast_replicas[0].sum(axis=0), 39)


def test_loo_through_per_fold_fits_of_a_pipeline(fast_replicas):
    X, y, _, _ = make_joint_sample(30)
    pipeline = make_pipeline(StandardScaler(), linear_pair())
    oof = cross_val_predict_joint(pipeline, X, y, cv=LeaveOneOut())
    assert not fast_replicas
    assert (oof["n_predictions"] == 1).all() and np.isfinite(oof["z_phot"]).all()
    # Row 0 is predicted by a model that never saw it.
    fitted = make_pipeline(StandardScaler(), linear_pair()).fit(X[1:], y[1:])
    assert oof["p_late"][0] == pytest.approx(fitted.predict_proba(X[:1])[0, 1])


def test_replicas_chunked(monkeypatch, fast_replicas):
    import skphotoz.model_selection.out_of_fold as engine

    monkeypatch.setattr(engine, "MAX_REPLICAS_PER_CALL", 8)
    X, y, _, _ = make_joint_sample(20)
    oof = cross_val_predict_joint(tiny_model(epochs=1), X, y, cv="loo", random_state=0)
    assert [w.shape[1] for w in fast_replicas] == [7, 7, 6]
    assert (oof["n_predictions"] == 1).all()


def test_bootstrap_oob_means_match_manual_fits():
    X, y, _, _ = make_joint_sample(30)
    cv = BootstrapSplit(4, random_state=1)
    estimator = make_pipeline(StandardScaler(), linear_pair())
    with parallel_backend("threading"):  # the joblib path, without process start-up
        oof = cross_val_predict_joint(estimator, X, y, cv=cv, n_jobs=2)
    p_sum, count = np.zeros(30), np.zeros(30)
    for train, test in cv.split(X, y):
        fitted = make_pipeline(StandardScaler(), linear_pair()).fit(X[train], y[train])
        p_sum[test] += fitted.predict_proba(X[test])[:, 1]
        count[test] += 1
    np.testing.assert_array_equal(oof["n_predictions"], count)
    seen = count > 0
    np.testing.assert_allclose(oof["p_late"][seen], p_sum[seen] / count[seen])
    assert oof["p_late"][~seen].isna().all()


def test_replicas_option_errors():
    X, y, _, _ = make_joint_sample(20)
    with pytest.raises(ValueError, match="protocol='fixed'"):
        cross_val_predict_joint(tiny_model(protocol="paper"), X, y, cv=2, replicas=True)
    with pytest.raises(ValueError, match="does not declare replica_settings"):
        cross_val_predict_joint(linear_pair(), X, y, cv=2, replicas=True)
    with pytest.raises(ValueError, match="cv="):
        cross_val_predict_joint(linear_pair(), X, y, cv="kfold")


# ------------------------------------------------------------- agreement
def _split_metric_medians(replicas, n, n_splits, epochs, trainer="keras"):
    X, y, _, _ = make_joint_sample(n, seed=1)
    result = bootstrap_evaluation(
        tiny_model(epochs=epochs, random_state=None, trainer=trainer),
        X,
        y,
        n_splits=n_splits,
        replicas=replicas,
        random_state=0,
    )
    return result.per_split


def _medians_agree(a, b, metric):
    rng = np.random.default_rng(0)

    def boot_error(values):
        return np.std([np.median(rng.choice(values, len(values))) for _ in range(500)], ddof=1)

    va, vb = a[metric].to_numpy(), b[metric].to_numpy()
    gap = abs(np.median(va) - np.median(vb))
    return gap <= 3 * np.hypot(boot_error(va), boot_error(vb)), gap


def test_replicas_agree_with_per_fold_fits():
    # Same data, same splits (same random_state), same epochs: only the
    # training machinery differs (per-fold fits by Keras' own loop).
    replicated = _split_metric_medians(True, 48, 5, 20)
    per_fold = _split_metric_medians(False, 48, 5, 20)
    for metric in ("mse", "binary_cross_entropy"):
        agree, gap = _medians_agree(replicated, per_fold, metric)
        assert agree, f"{metric} medians differ by {gap:.4f}"


def test_compiled_single_fits_agree_with_keras_fits():
    """Issue 13: the fast single-network trainer agrees with Keras' loop."""
    compiled = _split_metric_medians(False, 48, 5, 20, trainer="compiled")
    keras_loop = _split_metric_medians(False, 48, 5, 20, trainer="keras")
    for metric in ("mse", "binary_cross_entropy"):
        agree, gap = _medians_agree(compiled, keras_loop, metric)
        assert agree, f"{metric} medians differ by {gap:.4f}"


@pytest.mark.slow
def test_replicas_agree_with_per_fold_fits_larger():
    replicated = _split_metric_medians(True, 90, 40, 100)
    per_fold = _split_metric_medians(False, 90, 40, 100)
    compiled = _split_metric_medians(False, 90, 40, 100, trainer="compiled")
    for metric in ("mse", "mae", "binary_cross_entropy", "roc_auc"):
        agree, gap = _medians_agree(compiled, per_fold, metric)
        assert agree, f"compiled vs Keras: {metric} medians differ by {gap:.4f}"
    for metric in ("mse", "mae", "binary_cross_entropy", "roc_auc"):
        agree, gap = _medians_agree(replicated, per_fold, metric)
        assert agree, f"{metric} medians differ by {gap:.4f}"
