"""microexpression-pipeline: micro-expression datasets to tracked spatio-temporal Keras models."""

__version__ = "0.1.0"
