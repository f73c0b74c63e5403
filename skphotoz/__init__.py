"""skphotoz: galaxy type and photometric redshift from one scikit-learn estimator."""

from .estimator import JointMorphZ

__version__ = "0.1.0"

__all__ = ["JointMorphZ", "__version__"]
