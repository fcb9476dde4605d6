"""Validation of the merged run parameters, before any node runs.

Every error names the parameter (as a dotted key, the form ``--params`` uses) and, for
choices, lists the valid values. Pipelines describe their own parameter section with a
pydantic model listed in ``section_schemas``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

ARCHITECTURES: tuple[str, ...] = ("3dcnn", "cnn+lstm", "convlstm2d", "2dcnn")
MODEL_CHOICES: tuple[str, ...] = (*ARCHITECTURES, "all")


class ParameterError(ValueError):
    """Raised when run parameters are invalid; the message lists every problem found."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        lines = "\n".join(f"  - {problem}" for problem in problems)
        super().__init__(f"Invalid parameters (conf/*/parameters*.yml or --params):\n{lines}")


class StrictSection(BaseModel):
    """Base for a pipeline's parameter section: typed strictly, unknown keys rejected."""

    model_config = ConfigDict(strict=True, extra="forbid")


def section_schemas() -> dict[str, type[BaseModel]]:
    """The schema of each pipeline's top-level parameter key (imported lazily)."""
    from microexpression_pipeline.pipelines.augmentation.schema import AugmentationParams
    from microexpression_pipeline.pipelines.cross_dataset.schema import CrossDatasetParams
    from microexpression_pipeline.pipelines.ingestion.schema import IngestionParams
    from microexpression_pipeline.pipelines.reporting.schema import ReportingParams
    from microexpression_pipeline.pipelines.synthetic.schema import SyntheticSettings
    from microexpression_pipeline.pipelines.train.schema import EvaluationParams, TrainingParams

    return {
        "augmentation": AugmentationParams,
        "ingestion": IngestionParams,
        "training": TrainingParams,
        "evaluation": EvaluationParams,
        "synthetic": SyntheticSettings,
        "reporting": ReportingParams,
        "cross_dataset": CrossDatasetParams,
    }


def _format_choice(name: str, value: Any, choices: list[str] | tuple[str, ...]) -> str:
    return f"{name}: {value!r} is not valid; valid choices: {', '.join(choices)}"


def _label_mapping_problems(mappings: Any) -> list[str]:
    if not isinstance(mappings, Mapping) or not mappings:
        return ["label_mappings: must be a non-empty mapping of mode -> {class: [labels]}"]
    problems = []
    for mode, classes in mappings.items():
        if not isinstance(classes, Mapping) or len(classes) < 2:
            problems.append(
                f"label_mappings.{mode}: must map at least two class names to label lists"
            )
            continue
        seen: dict[str, str] = {}
        for cls, labels in classes.items():
            if not isinstance(labels, list | tuple) or not labels:
                problems.append(
                    f"label_mappings.{mode}.{cls}: must be a non-empty list of emotion labels"
                )
                continue
            for label in labels:
                key = str(label).strip().lower()
                if key in seen and seen[key] != cls:
                    problems.append(
                        f"label_mappings.{mode}: label {label!r} is mapped to both "
                        f"{seen[key]!r} and {cls!r}"
                    )
                seen[key] = cls
    return problems


def _global_problems(params: Mapping[str, Any]) -> list[str]:
    problems: list[str] = []
    for required in ("seed", "mode", "model", "label_mappings"):
        if required not in params:
            problems.append(f"{required}: missing; set it in conf/base/parameters.yml")
    seed = params.get("seed")
    if "seed" in params and (not isinstance(seed, int) or isinstance(seed, bool) or seed < 0):
        problems.append(f"seed: must be a non-negative integer (got {seed!r})")
    mappings = params.get("label_mappings")
    if "label_mappings" in params:
        problems += _label_mapping_problems(mappings)
    if "mode" in params and isinstance(mappings, Mapping) and params["mode"] not in mappings:
        problems.append(_format_choice("mode", params["mode"], list(mappings)))
    if "model" in params and params["model"] not in MODEL_CHOICES:
        problems.append(_format_choice("model", params["model"], MODEL_CHOICES))
    return problems


def _section_problems(name: str, value: Any, schema: type[BaseModel]) -> list[str]:
    try:
        schema.model_validate(value)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            where = ".".join(str(part) for part in (name, *error["loc"]))
            got = "" if error["type"] == "missing" else f" (got {error['input']!r})"
            problems.append(f"{where}: {error['msg']}{got}")
        return problems
    return []


def validate_parameters(params: Mapping[str, Any]) -> None:
    """Check the run parameters; raise ``ParameterError`` naming every invalid one."""
    problems = _global_problems(params)
    for name, schema in section_schemas().items():
        if name not in params:
            problems.append(f"{name}: missing; it belongs in conf/base/parameters_*.yml")
            continue
        problems += _section_problems(name, params[name], schema)
    if problems:
        raise ParameterError(problems)


def selected_architectures(model: str) -> tuple[str, ...]:
    """The architectures a ``model`` parameter selects (``all`` selects every one)."""
    if model == "all":
        return ARCHITECTURES
    if model not in ARCHITECTURES:
        raise ParameterError([_format_choice("model", model, MODEL_CHOICES)])
    return (model,)
