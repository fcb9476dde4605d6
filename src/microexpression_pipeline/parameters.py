"""Run parameters: the strict base of every section schema, and the checks across keys.

Each pipeline's section (``training``, ``ingestion``, ...) has a ``StrictSection`` schema.
Kedro's own parameter validation (``kedro.validation``) validates every node input
``params:<section>`` typed with one, before the first node runs, and hands the node the
validated model. What no single section can check (``mode`` is a key of ``label_mappings``,
``model`` names an architecture, ``seed`` is a non-negative integer) is checked by
``RunParametersHook`` right after, also before any node. Every message names the parameter as
a dotted key, the form ``--params`` takes, and lists the valid choices. This module imports
nothing of the project but its error type.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from typing import Any, ClassVar

from kedro.framework.hooks import hook_impl
from kedro.validation import ModelInstantiationError
from pydantic import BaseModel, ConfigDict, ValidationError

from microexpression_pipeline.errors import InputError

WHERE = "conf/*/parameters*.yml or --params"


class ParameterError(ModelInstantiationError, InputError):
    """Invalid run parameters; ``problems`` names each one (``key.path: what is wrong``).

    A subclass of Kedro's ``ModelInstantiationError``, so that Kedro's parameter validation
    passes the message on as it is."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("\n- ".join(problems))


def section_problems(section: str, exc: ValidationError) -> list[str]:
    """One line per pydantic error: dotted key, message and the value given."""
    problems = []
    for error in exc.errors():
        where = ".".join(str(part) for part in (section, *error["loc"]))
        got = "" if error["type"] == "missing" else f" (got {error['input']!r})"
        problems.append(f"{where}: {error['msg']}{got}")
    return problems


class StrictSection(BaseModel):
    """Base of a parameter section: typed strictly, unknown keys rejected, read-only.

    A top-level section sets ``section`` (its key), so that errors are named from the top:
    ``training.epochs: ...``."""

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)
    section: ClassVar[str] = ""

    @classmethod
    def model_validate(cls, obj: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        try:
            return super().model_validate(obj, **kwargs)
        except ValidationError as exc:
            raise ParameterError(section_problems(cls.section or cls.__name__, exc)) from exc


def plain(value: Any) -> Any:
    """``value`` with every section model turned back into the dict it was given as."""
    if isinstance(value, BaseModel):
        return value.model_dump(by_alias=True, exclude_unset=True)
    if isinstance(value, Mapping):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [plain(item) for item in value]
    return value


def choice_problem(name: str, value: Any, choices: Collection[str]) -> str:
    return f"{name}: {value!r} is not valid; valid choices: {', '.join(choices)}"


def label_mapping_problems(mappings: Any) -> list[str]:
    """What is wrong with ``label_mappings`` (mode -> class -> emotion labels)."""
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


def run_problems(params: Mapping[str, Any], models: Collection[str]) -> list[str]:
    """What is wrong with the keys shared by every pipeline: ``seed``, ``mode``, ``model``
    (one of ``models``), ``label_mappings`` and ``data_source`` (a key of
    ``ingestion.sources``)."""
    problems: list[str] = []
    for required in ("seed", "mode", "model", "label_mappings"):
        if required not in params:
            problems.append(f"{required}: missing; set it in conf/base/parameters.yml")
    seed = params.get("seed")
    if "seed" in params and (not isinstance(seed, int) or isinstance(seed, bool) or seed < 0):
        problems.append(f"seed: must be a non-negative integer (got {seed!r})")
    mappings = params.get("label_mappings")
    if "label_mappings" in params:
        problems += label_mapping_problems(mappings)
    if "mode" in params and isinstance(mappings, Mapping) and params["mode"] not in mappings:
        problems.append(choice_problem("mode", params["mode"], list(mappings)))
    if "model" in params and params["model"] not in models:
        problems.append(choice_problem("model", params["model"], models))
    ingestion = plain(params.get("ingestion"))
    sources = ingestion.get("sources") if isinstance(ingestion, Mapping) else None
    chosen = params.get("data_source")
    if isinstance(sources, Mapping) and "data_source" in params and chosen not in sources:
        problems.append(choice_problem("data_source", params["data_source"], list(sources)))
    return problems


class RunParametersHook:
    """Stops a run whose shared keys are invalid (``run_problems``), once the catalog (with
    the parameters Kedro has validated) exists and before any node or MLflow run starts."""

    def __init__(self, model_choices: Callable[[], Collection[str]]) -> None:
        self._model_choices = model_choices

    @hook_impl
    def after_catalog_created(self, parameters: Mapping[str, Any]) -> None:
        # ``parameters`` holds the catalog's parameter entries; "parameters" is all of them.
        problems = run_problems(parameters.get("parameters", {}), self._model_choices())
        if problems:
            raise ParameterError(problems)
