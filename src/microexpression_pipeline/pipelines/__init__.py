"""The project's pipelines, one package each (found by ``pipeline_registry``)."""

from microexpression_pipeline import log_filters

# Every pipeline but one imports TensorFlow: import it first, without its start-up notices.
log_filters.import_tensorflow()
