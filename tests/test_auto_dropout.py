"""base_dropout="auto": the paper's 0.5 below 5,000 training galaxies, 0.2 from there."""

import numpy as np
import pytest

from skphotoz import JointMorphZ, ReplicaEnsemble
from skphotoz.model_selection import cross_val_predict_joint
from skphotoz.nn.spec import AUTO_DROPOUT_ROWS, resolve_base_dropout

TINY = {"base_units": (8,), "class_units": (4,), "class_dropout": (0.0,), "epochs": 1}


def _sample(n, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(21.0, 1.0, size=(n, 3))
    y = np.empty((n, 2), dtype=object)
    y[:, 0] = np.where(X[:, 0] > 21.0, "LT", "ET")
    y[:, 1] = np.abs(X[:, 1] - 20.0) / 5
    return X, y


def test_the_rule():
    assert resolve_base_dropout("auto", (512,), AUTO_DROPOUT_ROWS - 1) == (0.5,)
    assert resolve_base_dropout("auto", (512, 64), AUTO_DROPOUT_ROWS) == (0.2, 0.2)
    assert resolve_base_dropout("auto", (512,), None) == (0.5,)  # size unknown: the paper's
    assert resolve_base_dropout([0.3], (512,), 10**6) == (0.3,)  # an explicit rate stays


@pytest.mark.parametrize("n, expected", [(300, (0.5,)), (AUTO_DROPOUT_ROWS, (0.2,))])
def test_a_fit_records_the_rate_it_trained_with(n, expected):
    X, y = _sample(n)
    model = JointMorphZ(random_state=0, **TINY).fit(X, y)
    assert model.base_dropout_ == expected
    assert model.network_spec().base_dropout == expected  # after fit, without X
    assert JointMorphZ(base_dropout=(0.3,), random_state=0, **TINY).fit(X, y).base_dropout_ == (
        0.3,
    )


def test_the_paper_protocol_keeps_the_papers_rate():
    X, y = _sample(AUTO_DROPOUT_ROWS)
    model = JointMorphZ(protocol="paper", random_state=0, **TINY).fit(X, y)
    assert model.base_dropout_ == (0.5,)
    ensemble = ReplicaEnsemble(n_replicas=2, random_state=0, **TINY).fit(X, y)
    assert ensemble.base_dropout_ == (0.2,)


def test_the_engine_resolves_it_by_a_folds_training_size(monkeypatch):
    # 6,000 galaxies in 2 folds: each replica trains on 3,000, so the paper's
    # rate, as a clone fitted on a fold would use; the whole sample would give 0.2.
    X, y = _sample(6000)
    seen = []
    original = JointMorphZ.network_spec

    def spy(self, X=None, n_rows=None):
        spec = original(self, X, n_rows)
        seen.append(spec.base_dropout)
        return spec

    monkeypatch.setattr(JointMorphZ, "network_spec", spy)
    folds = np.arange(6000) % 2
    splits = [(np.flatnonzero(folds != k), np.flatnonzero(folds == k)) for k in range(2)]
    oof = cross_val_predict_joint(JointMorphZ(random_state=0, **TINY), X, y, cv=splits)
    assert oof["z_phot"].notna().all()
    assert seen and set(seen) == {(0.5,)}


def test_the_sequential_pair_follows_the_same_rule():
    from skphotoz.baselines import SequentialPair

    pair = SequentialPair()
    assert pair.base_dropout == JointMorphZ().base_dropout == "auto"
    assert pair.network_spec(AUTO_DROPOUT_ROWS).base_dropout == (0.2,)
    assert pair.network_spec(300).base_dropout == pair.network_spec().base_dropout == (0.5,)
