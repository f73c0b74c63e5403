"""Bootstrap analysis of the redshift-neuron weights (paper Sect. 3.3, Fig. 8)."""

import functools

import numpy as np
import pytest
from scipy import stats

import skphotoz.nn.replica as replica
from skphotoz.model_selection.weight_analysis import (
    WEIGHT_GROUPS,
    bootstrap_weight_analysis,
    weight_statistics,
)
from skphotoz.reporting.plots import plot_weight_qq

from .conftest import TINY, make_joint_sample

# The paper's redshift branch (no hidden layer), as its Fig. 8.
PARAMS = {**{k: v for k, v in TINY.items() if k != "random_state"}, "redshift_units": ()}


@pytest.fixture(scope="module")
def analysis():
    X, y, _, _ = make_joint_sample(50)
    with pytest.MonkeyPatch.context() as patch:
        # XLA compilation costs seconds per call; the tiny network does not need it.
        patch.setattr(
            replica, "train_replicas", functools.partial(replica.train_replicas, jit_compile=False)
        )
        result = bootstrap_weight_analysis(X, y, n_runs=40, estimator_params=PARAMS, random_state=0)
    return y, result


def test_statistics_table(analysis):
    _, result = analysis
    table = result.statistics
    assert table.index.tolist() == list(WEIGHT_GROUPS)
    for column in (
        "median",
        "median_error",
        "kurtosis",
        "kurtosis_error",
        "fraction_above_1_sigma",
        "fraction_above_2_sigma",
        "n",
    ):
        assert column in table.columns
    assert table.loc["class_probability", "n"] == 40
    assert table.loc["layer", "n"] == result.raw_weights.shape[1] == 17  # 16 base + p
    assert (table[["median_error", "kurtosis_error"]] > 0).all().all()


def test_standardisation_by_each_runs_layer(analysis):
    _, result = analysis
    raw = result.raw_weights
    assert raw.shape == (40, 17)
    by_hand = (raw - raw.mean(axis=1)[:, None]) / raw.std(axis=1)[:, None]
    np.testing.assert_allclose(result.class_weights, by_hand[:, -1])
    np.testing.assert_allclose(result.random_neuron_weights, by_hand[:, result.random_neuron])
    np.testing.assert_allclose(result.layer_weights, by_hand[0])
    assert 0 <= result.random_neuron < 16  # a base-module input, never p itself
    row = result.statistics.loc["class_probability"]
    assert row["median"] == pytest.approx(np.median(by_hand[:, -1]))
    assert row["kurtosis"] == pytest.approx(stats.kurtosis(by_hand[:, -1], fisher=False))
    assert row["fraction_above_1_sigma"] == pytest.approx(np.mean(by_hand[:, -1] > 1))


def test_runs_are_stratified_bootstrap_resamples(analysis):
    y, result = analysis
    counts = result.bootstrap_counts
    assert counts.shape == (50, 40)
    np.testing.assert_array_equal(counts.sum(axis=0), 50)
    early = y[:, 0] == "ET"
    np.testing.assert_array_equal(counts[early].sum(axis=0), early.sum())
    assert len({tuple(c) for c in counts.T}) == 40  # every run its own resample


# Three runs only: scipy warns that their moments are degenerate.
@pytest.mark.filterwarnings("ignore::scipy.stats.DegenerateDataWarning")
@pytest.mark.filterwarnings("ignore:Precision loss:RuntimeWarning")
def test_same_seed_same_resamples():
    X, y, _, _ = make_joint_sample(30)
    params = {**PARAMS, "epochs": 1}
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(
            replica, "train_replicas", functools.partial(replica.train_replicas, jit_compile=False)
        )
        a = bootstrap_weight_analysis(X, y, n_runs=3, estimator_params=params, random_state=5)
        b = bootstrap_weight_analysis(X, y, n_runs=3, estimator_params=params, random_state=5)
    np.testing.assert_array_equal(a.bootstrap_counts, b.bootstrap_counts)
    assert a.random_neuron == b.random_neuron


def test_with_hidden_redshift_layers_it_reads_the_last_one():
    # The default branch (two hidden layers): the neuron's inputs are the
    # last hidden layer's 64 units and p, so 65 weights per run.
    X, y, _, _ = make_joint_sample(30)
    params = {**PARAMS, "epochs": 1, "redshift_units": "auto"}
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(
            replica, "train_replicas", functools.partial(replica.train_replicas, jit_compile=False)
        )
        result = bootstrap_weight_analysis(X, y, n_runs=3, estimator_params=params, random_state=0)
    assert result.raw_weights.shape == (3, 64 + 1)
    assert 0 <= result.random_neuron < 64


def test_weight_statistics_of_a_normal_sample():
    values = np.random.default_rng(1).normal(size=20000)
    row = weight_statistics(values, n_resamples=200, random_state=0)
    assert row["kurtosis"] == pytest.approx(3.0, abs=0.1)
    assert row["fraction_above_1_sigma"] == pytest.approx(0.159, abs=0.01)
    assert row["fraction_above_2_sigma"] == pytest.approx(0.023, abs=0.005)
    assert row["median_error"] == pytest.approx(1.2533 / np.sqrt(20000), rel=0.3)


def test_refuses_unanalysable_settings():
    X, y, _, _ = make_joint_sample(20)
    with pytest.raises(ValueError, match="protocol='fixed'"):
        bootstrap_weight_analysis(X, y, n_runs=2, estimator_params={"protocol": "paper"})
    with pytest.raises(ValueError, match="feed_class_probability"):
        bootstrap_weight_analysis(
            X, y, n_runs=2, estimator_params={"feed_class_probability": False}
        )
    X[0, 0] = -99.0
    with pytest.raises(ValueError, match="sentinel"):
        bootstrap_weight_analysis(X, y, n_runs=2)


def test_qq_plot_written(analysis, tmp_path):
    _, result = analysis
    path = tmp_path / "fig8.png"
    fig = plot_weight_qq(result, path=path)
    assert path.stat().st_size > 1000
    assert len(fig.axes[0].lines) == 4  # three distributions and the normal line
