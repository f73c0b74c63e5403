"""Survey catalogs: formats, photometry, training catalogs, model files and prediction."""

from skphotoz.catalogs.formats import (
    ChunkWriter,
    catalog_format,
    count_rows,
    declared_string_widths,
    iter_catalog,
    read_catalog,
    write_catalog,
)
from skphotoz.catalogs.model_file import load_model, save_model
from skphotoz.catalogs.photometry import (
    FLUX_ZERO_POINTS,
    MAGNITUDE_SENTINELS,
    SENTINEL_LIMIT,
    UNITS,
    catalog_magnitudes,
    find_error_columns,
    missing_band_flags,
    placeholder_mask,
    select_bands,
    to_ab_magnitudes,
)
from skphotoz.catalogs.predict import (
    PREDICTION_COLUMNS,
    accepts_missing_bands,
    check_model_bands,
    predict_block,
    predict_catalog,
    predict_chunk,
    predict_partitions,
)
from skphotoz.catalogs.training import early_late_labels, read_training_catalog

__all__ = [
    "FLUX_ZERO_POINTS",
    "MAGNITUDE_SENTINELS",
    "PREDICTION_COLUMNS",
    "SENTINEL_LIMIT",
    "UNITS",
    "ChunkWriter",
    "accepts_missing_bands",
    "catalog_format",
    "catalog_magnitudes",
    "check_model_bands",
    "count_rows",
    "declared_string_widths",
    "early_late_labels",
    "find_error_columns",
    "iter_catalog",
    "load_model",
    "missing_band_flags",
    "placeholder_mask",
    "predict_block",
    "predict_catalog",
    "predict_chunk",
    "predict_partitions",
    "read_catalog",
    "read_training_catalog",
    "save_model",
    "select_bands",
    "to_ab_magnitudes",
    "write_catalog",
]
