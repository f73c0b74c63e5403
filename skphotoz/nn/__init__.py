"""The joint network: its spec, loss, Keras and replica builders, trainer and estimators.

Importing this package does not import Keras: the estimators build their
networks on first use, so ``import skphotoz`` (and ``skphotoz --help``) stay
quick.
"""

from skphotoz.nn.ensemble import ReplicaEnsemble
from skphotoz.nn.estimator import JointMorphZ

__all__ = ["JointMorphZ", "ReplicaEnsemble"]
