"""redshift_units="auto": two hidden relu layers of 64, none under the paper's protocol."""

import numpy as np
import pytest

from skphotoz import JointMorphZ, ReplicaEnsemble
from skphotoz.baselines import SequentialPair
from skphotoz.nn.spec import ARCHITECTURES, AUTO_REDSHIFT_UNITS, resolve_redshift_units

from .conftest import TINY, make_joint_sample


def test_the_rule():
    assert resolve_redshift_units("auto") == AUTO_REDSHIFT_UNITS == (64, 64)
    assert resolve_redshift_units("auto", protocol="paper") == ()
    assert resolve_redshift_units([16]) == (16,)  # an explicit layout stays
    assert resolve_redshift_units((), protocol="fixed") == ()
    with pytest.raises(ValueError, match="'auto'"):
        resolve_redshift_units("wide")


def test_every_estimator_resolves_it_alike():
    assert JointMorphZ().network_spec().redshift_units == (64, 64)
    assert JointMorphZ(protocol="paper").network_spec().redshift_units == ()
    assert ReplicaEnsemble().network_spec().redshift_units == (64, 64)
    # The sequential ablation has the joint network's redshift branch, so the
    # two designs differ only in what they share.
    assert SequentialPair().network_spec().redshift_units == (64, 64)


def test_the_papers_architectures_keep_their_branch():
    # Table 2's Architectures 1-3 have no hidden redshift layer whatever the
    # default: the comparison of architectures reproduces the paper's.
    for number in (1, 2, 3):
        assert JointMorphZ(**ARCHITECTURES[number]).network_spec().redshift_units == ()
    assert JointMorphZ(**ARCHITECTURES[4]).network_spec().redshift_units == (16,)


@pytest.mark.parametrize("trainer", ["keras", "compiled"])
def test_a_fitted_network_has_the_layers(trainer):
    X, y, _, _ = make_joint_sample(120)
    model = JointMorphZ(trainer=trainer, **TINY).fit(X, y)
    if trainer == "keras":
        widths = [model.model_.get_layer(f"redshift_dense_{i}").units for i in range(2)]
        assert widths == [64, 64]
        # Dense(1) reads the last hidden layer and p: 64 + 1 inputs.
        assert tuple(model.model_.get_layer("redshift").kernel.shape) == (65, 1)
    z = model.predict_redshift(X)
    assert z.shape == (len(X),) and np.isfinite(z).all()


def test_a_bad_value_is_refused():
    X, y, _, _ = make_joint_sample(120)
    with pytest.raises(ValueError, match="redshift_units"):
        JointMorphZ(redshift_units="wide", **TINY).fit(X, y)
    with pytest.raises(ValueError, match="positive integers"):
        JointMorphZ(redshift_units=(0,), **TINY).fit(X, y)
