"""skphotoz: galaxy type and photometric redshift from one scikit-learn estimator."""

from .baselines import IndependentPair
from .estimator import JointMorphZ
from .model_selection import StratifiedTypeKFold
from .sed import SEDTemplateFitter
from .thresholding import YoudenThreshold, YoudenThresholdCV

__version__ = "0.1.0"

__all__ = [
    "IndependentPair",
    "JointMorphZ",
    "ReplicaEnsemble",
    "SEDTemplateFitter",
    "StratifiedTypeKFold",
    "YoudenThreshold",
    "YoudenThresholdCV",
    "__version__",
]


def __getattr__(name):
    # ReplicaEnsemble's module builds Keras layers at import time; loading it
    # lazily keeps `import skphotoz` (and `skphotoz --help`) free of TensorFlow.
    if name == "ReplicaEnsemble":
        from .ensemble import ReplicaEnsemble

        return ReplicaEnsemble
    raise AttributeError(f"module 'skphotoz' has no attribute {name!r}")
