"""Fixtures for the architecture tests: the shipped training section, validated."""

from __future__ import annotations

import pytest

from microexpression_pipeline.pipelines.train.schema import TrainingParams


@pytest.fixture(scope="session")
def shipped_training(shipped_params: dict) -> TrainingParams:
    return TrainingParams.model_validate(shipped_params["training"])
