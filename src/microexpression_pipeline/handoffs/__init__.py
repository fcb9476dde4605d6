"""Handoffs between runs and people: run versions of their own, atomic saves, run
manifests, and the hooks that apply them (and set up MLflow) on every ``kedro run``.

Core code: nothing here imports the pipelines. The submodules are imported directly, so
that a dataset using ``atomic_save`` does not pull in MLflow.
"""
