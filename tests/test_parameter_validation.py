"""Parameter validation: every problem named, with the valid choices."""

from __future__ import annotations

from pathlib import Path

import pytest
from kedro.config import OmegaConfigLoader

from microexpression_pipeline.parameter_validation import (
    ARCHITECTURES,
    ParameterError,
    selected_architectures,
    validate_parameters,
)
from microexpression_pipeline.settings import CONFIG_LOADER_ARGS


@pytest.fixture(scope="module")
def base_params(project_root: Path) -> dict:
    loader = OmegaConfigLoader(
        conf_source=str(project_root / "conf"),
        **{k: v for k, v in CONFIG_LOADER_ARGS.items() if k != "default_run_env"},
        default_run_env="base",
    )
    return dict(loader["parameters"])


def test_shipped_configuration_is_valid(base_params: dict) -> None:
    validate_parameters(base_params)
    assert base_params["mode"] == "binary"
    assert list(base_params["label_mappings"]["multiclass"]) == [
        "Happiness",
        "Surprise",
        "Anger",
        "Fear",
        "Disgust",
        "Contempt",
        "Sadness",
    ]


def test_a_mode_is_any_configured_mapping(base_params: dict) -> None:
    params = {
        **base_params,
        "label_mappings": {**base_params["label_mappings"], "valence": {"a": ["x"], "b": ["y"]}},
        "mode": "valence",
    }
    validate_parameters(params)


def test_every_problem_is_reported_at_once(base_params: dict) -> None:
    params = {**base_params, "mode": "ternary", "model": "vgg", "seed": 1.5}
    with pytest.raises(ParameterError) as excinfo:
        validate_parameters(params)
    names = [problem.split(":")[0] for problem in excinfo.value.problems]
    assert names[:3] == ["seed", "mode", "model"]


def test_label_mapped_to_two_classes_is_rejected(base_params: dict) -> None:
    mappings = {"broken": {"a": ["Anger"], "b": ["anger"]}}
    with pytest.raises(ParameterError, match=r"label_mappings.broken: label 'anger'"):
        validate_parameters({**base_params, "label_mappings": mappings, "mode": "broken"})


def test_missing_global_is_named(base_params: dict) -> None:
    params = {k: v for k, v in base_params.items() if k != "seed"}
    with pytest.raises(ParameterError, match=r"seed: missing"):
        validate_parameters(params)


def test_model_selection() -> None:
    assert selected_architectures("all") == ARCHITECTURES
    assert selected_architectures("2dcnn") == ("2dcnn",)
    with pytest.raises(ParameterError, match="valid choices"):
        selected_architectures("vgg")
