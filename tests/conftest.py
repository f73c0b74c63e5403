"""Shared fixtures: a small synthetic joint sample and tiny network settings."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import functools

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LinearRegression, LogisticRegression

import skphotoz.nn.replica as replica
from skphotoz import JointMorphZ
from skphotoz.baselines.pairs import IndependentPair
from skphotoz.datasets import shared_data_home

#: A network small enough that a fit takes well under a second.
TINY = {
    "base_units": (16,),
    "base_dropout": (0.1,),
    "class_units": (8,),
    "class_dropout": (0.0,),
    "epochs": 3,
    "batch_size": 16,
    "random_state": 0,
}


def make_joint_sample(n=90, n_bands=5, seed=0, labels=("ET", "LT")):
    """Magnitudes whose colours carry both type and redshift, like real galaxies."""
    rng = np.random.default_rng(seed)
    redshift = rng.uniform(0.05, 1.2, n)
    late = rng.random(n) < 0.7
    late[:3], late[3:6] = False, True  # both classes present in any split
    base = 21.0 + 2.5 * np.log10(1 + redshift)[:, None]
    slope = np.where(late, -0.15, 0.35)[:, None] * np.arange(n_bands)[None, :]
    X = base + slope * (1 + redshift[:, None]) + rng.normal(0, 0.05, (n, n_bands))
    types = np.where(late, labels[1], labels[0])
    return X, np.column_stack([types, redshift]).astype(object), types, redshift


@pytest.fixture
def joint_sample():
    return make_joint_sample()


@pytest.fixture
def joint_frame():
    X, _, types, redshift = make_joint_sample()
    bands = [f"mag_{b}" for b in "ugriz"]
    return pd.DataFrame(X, columns=bands), pd.DataFrame({"type": types, "redshift": redshift})


@pytest.fixture
def data_home():
    home = shared_data_home()
    if home is None:
        pytest.skip("../shared/data (real survey catalogs) is absent; set SKPHOTOZ_DATA_HOME")
    return home


@pytest.fixture
def fast_replicas(monkeypatch):
    """Record each replica call's weights (the returned list); skip XLA (seconds per tiny call)."""
    calls = []
    original = replica.train_replicas

    @functools.wraps(original)
    def recording(X, late, redshift, weights, **kwargs):
        calls.append(np.array(weights))
        return original(X, late, redshift, weights, **{**kwargs, "jit_compile": False})

    monkeypatch.setattr(replica, "train_replicas", recording)
    return calls


def linear_pair():
    """A fast, deterministic joint model: logistic type + linear redshift."""
    return IndependentPair(LogisticRegression(), LinearRegression())


def tiny_model(**kwargs):
    """A JointMorphZ with the TINY network, overridden by ``kwargs``."""
    return JointMorphZ(**{**TINY, **kwargs})


def report_sample(n=120, seed=0):
    """(X, y, predictions): a labelled sample and noisy out-of-sample predictions for reports."""
    X, _, types, redshift = make_joint_sample(n=n, seed=seed)
    X = pd.DataFrame(X, columns=list("ugriz"))
    y = pd.DataFrame({"type": types, "redshift": redshift})
    rng = np.random.default_rng(seed)
    late = types == "LT"
    predictions = pd.DataFrame(
        {
            "p_late": np.clip(np.where(late, 0.8, 0.3) + rng.normal(0, 0.2, n), 0, 1),
            "z_phot": redshift + rng.normal(0, 0.05, n),
        }
    )
    return X, y, predictions
