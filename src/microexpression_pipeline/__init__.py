"""microexpression-pipeline: micro-expression datasets to tracked spatio-temporal Keras models."""

from microexpression_pipeline import log_filters

__version__ = "0.1.0"

log_filters.install()
