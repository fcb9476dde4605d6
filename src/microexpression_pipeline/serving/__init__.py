"""The served model: an MLflow pyfunc that runs the inference pipeline."""
