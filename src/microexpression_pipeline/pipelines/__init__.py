"""The project's pipelines, one package each (found by ``pipeline_registry``)."""
