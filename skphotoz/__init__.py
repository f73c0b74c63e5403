"""skphotoz: galaxy type and photometric redshift from one scikit-learn estimator."""

from .estimator import JointMorphZ
from .model_selection import StratifiedTypeKFold
from .sed import SEDTemplateFitter
from .thresholding import YoudenThreshold, YoudenThresholdCV

__version__ = "0.1.0"

__all__ = [
    "JointMorphZ",
    "SEDTemplateFitter",
    "StratifiedTypeKFold",
    "YoudenThreshold",
    "YoudenThresholdCV",
    "__version__",
]
