"""Survey catalogs: formats, photometry, training catalogs, model files and prediction."""

from skphotoz.catalogs.formats import (
    count_rows,
    iter_catalog,
    read_catalog,
    read_training_catalog,
    write_catalog,
)
from skphotoz.catalogs.model_file import load_model, predict_catalog, save_model
from skphotoz.catalogs.scaleout import predict_partitions

__all__ = [
    "count_rows",
    "iter_catalog",
    "load_model",
    "predict_catalog",
    "predict_partitions",
    "read_catalog",
    "read_training_catalog",
    "save_model",
    "write_catalog",
]
