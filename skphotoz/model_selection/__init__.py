"""Splitters, the out-of-fold engine and the paper's evaluation protocols."""

from skphotoz.model_selection.evaluation import (
    TABLE2_METRICS,
    bootstrap_evaluation,
    compare_architectures,
    evaluate_predictions,
    loo_evaluation,
)
from skphotoz.model_selection.out_of_fold import (
    MAX_REPLICAS_PER_CALL,
    cross_val_predict_joint,
    cross_val_predict_pdf,
    replica_weights,
)
from skphotoz.model_selection.split import (
    BootstrapSplit,
    StratifiedTypeKFold,
    StratifiedTypeShuffleSplit,
    paper_split,
)

__all__ = [
    "MAX_REPLICAS_PER_CALL",
    "TABLE2_METRICS",
    "BootstrapSplit",
    "StratifiedTypeKFold",
    "StratifiedTypeShuffleSplit",
    "bootstrap_evaluation",
    "compare_architectures",
    "cross_val_predict_joint",
    "cross_val_predict_pdf",
    "evaluate_predictions",
    "loo_evaluation",
    "paper_split",
    "replica_weights",
]
