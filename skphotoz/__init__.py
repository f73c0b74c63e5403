"""skphotoz: galaxy type and photometric redshift from one scikit-learn estimator."""

__version__ = "0.1.0"

from skphotoz.baselines import IndependentPair, SEDTemplateFitter  # noqa: E402
from skphotoz.model_selection import StratifiedTypeKFold  # noqa: E402
from skphotoz.nn import JointMorphZ, ReplicaEnsemble  # noqa: E402
from skphotoz.thresholding import YoudenThreshold, YoudenThresholdCV  # noqa: E402

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
