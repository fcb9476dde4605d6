"""Project pipelines."""

from __future__ import annotations

from kedro.framework.project import find_pipelines
from kedro.pipeline import Pipeline

# Pipelines run on their own only: `synthetic` (re)generates the embedded sample and measures
# its frame-difference baseline (ingestion generates the sample on first use by itself);
# `megc2019` is the MEGC 2019 composite benchmark (it runs ingestion itself); `inference`
# runs a trained model on a user's video or folder of frames.
STANDALONE = frozenset({"synthetic", "megc2019", "inference"})


def register_pipelines() -> dict[str, Pipeline]:
    """Every pipeline under ``pipelines/``; the default chains all but the standalone ones:
    ingestion -> augmentation -> train -> reporting (and the cross-dataset test)."""
    pipelines = find_pipelines(raise_errors=True)
    pipelines["__default__"] = sum(
        (p for name, p in pipelines.items() if name not in STANDALONE), Pipeline([])
    )
    return pipelines
