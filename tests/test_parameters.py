"""Run parameters: sections validated by their schemas, the shared keys by ``run_problems``;
every problem named, with the valid choices."""

from __future__ import annotations

import pytest
from kedro.framework.project import configure_project
from kedro.validation import TypeExtractor

from microexpression_pipeline.models import model_choices
from microexpression_pipeline.parameters import ParameterError, run_problems
from microexpression_pipeline.pipelines.train.schema import TrainingParams


def test_shipped_configuration_is_valid(shipped_params: dict) -> None:
    assert run_problems(shipped_params, model_choices()) == []
    TrainingParams.model_validate(shipped_params["training"])
    assert shipped_params["mode"] == "binary"
    assert list(shipped_params["label_mappings"]["multiclass"]) == [
        "Happiness", "Surprise", "Anger", "Fear", "Disgust", "Contempt", "Sadness",
    ]  # fmt: skip


def test_a_mode_is_any_configured_mapping(shipped_params: dict) -> None:
    mappings = {**shipped_params["label_mappings"], "valence": {"a": ["x"], "b": ["y"]}}
    params = {**shipped_params, "label_mappings": mappings, "mode": "valence"}
    assert run_problems(params, model_choices()) == []


def test_every_problem_is_reported_at_once(shipped_params: dict) -> None:
    params = {**shipped_params, "mode": "ternary", "model": "vgg", "seed": 1.5}
    names = [problem.split(":")[0] for problem in run_problems(params, model_choices())]
    assert names == ["seed", "mode", "model"]


def test_label_mapped_to_two_classes_is_rejected(shipped_params: dict) -> None:
    mappings = {"broken": {"a": ["Anger"], "b": ["anger"]}}
    params = {**shipped_params, "label_mappings": mappings, "mode": "broken"}
    assert any(
        p.startswith("label_mappings.broken: label 'anger'")
        for p in run_problems(params, model_choices())
    )


def test_missing_global_is_named(shipped_params: dict) -> None:
    params = {k: v for k, v in shipped_params.items() if k != "seed"}
    assert run_problems(params, model_choices()) == [
        "seed: missing; set it in conf/base/parameters.yml"
    ]


def test_a_section_error_names_the_dotted_key_and_the_value(shipped_params: dict) -> None:
    training = {**shipped_params["training"], "epochs": -1, "intensity": "zscore"}
    with pytest.raises(ParameterError) as excinfo:
        TrainingParams.model_validate(training)
    problems = excinfo.value.problems
    assert any(p.startswith("training.epochs:") and "(got -1)" in p for p in problems)
    assert any(p.startswith("training.intensity:") and "'zscore'" in p for p in problems)


def test_every_node_section_is_typed_for_kedros_validation() -> None:
    """Kedro validates a `params:` input only where the node's argument has a schema type."""
    configure_project("microexpression_pipeline")
    from microexpression_pipeline.pipeline_registry import register_pipelines

    found = TypeExtractor(register_pipelines()).extract_types_from_pipelines()
    assert {name: schema.section for name, schema in found.items()} == {
        **{
            name: name
            for name in (
                "augmentation", "compute", "cross_dataset", "evaluation", "features", "inference",
                "ingestion", "reporting", "synthetic", "training", "megc2019.composite",
                "megc2019.references",
            )
        },
        # the MEGC 2019 pipeline's train nodes: one evaluation section per protocol
        **{f"megc2019.evaluation.{p}": "evaluation" for p in ("loso", "lodo", "holdout")},
    }  # fmt: skip
