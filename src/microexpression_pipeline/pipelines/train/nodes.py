"""Training nodes: one per architecture, each running the whole evaluation protocol.

Every fold is trained, once per training seed, from a fresh model on the fitting subjects'
originals and their augmented copies (validation subjects held out: ``training_set``),
checked for leakage first, and tested on original clips only. Nothing is chosen on the test
fold: fixed epochs, no checkpoint selection, no early stopping on test data. Metrics are
pooled within a run (one seed, one repeat) and given as mean and std over runs.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from microexpression_pipeline.compute import ComputeParams, run_units
from microexpression_pipeline.metrics import HEADLINE, accuracy, mean_std, run_scores
from microexpression_pipeline.models import Architecture
from microexpression_pipeline.models.card import make_card
from microexpression_pipeline.parameters import plain
from microexpression_pipeline.pipelines.train.folds import SUBJECT_INDEPENDENT, Fold, make_folds
from microexpression_pipeline.pipelines.train.schema import EvaluationParams, TrainingParams
from microexpression_pipeline.pipelines.train.spec import TrainingSpec
from microexpression_pipeline.pipelines.train.units import FINAL, plan_units

logger = logging.getLogger(__name__)


def check_augmented_set(
    meta: Mapping[str, Any], mode: str, mapping: Mapping[str, Any], transform_set: str
) -> None:
    """Refuse a training set made for another mode, label mapping or transform set."""
    made_with = meta.get("transform_set")
    if made_with is not None and made_with != transform_set:
        raise ValueError(
            f"The augmented set was made with transform set {made_with!r}, but this "
            f"architecture trains on {transform_set!r}; pin a version of "
            f"augmentation.{transform_set}.* (--load-versions) or re-run augmentation."
        )
    classes = list(mapping)
    if meta.get("mode") != mode or list(meta.get("classes", [])) != classes:
        raise ValueError(
            f"The augmented set was made for mode {meta.get('mode')!r} with classes "
            f"{meta.get('classes')}, but this run has mode {mode!r} with classes {classes}. "
            f"Make the right one with: kedro run --pipeline=augmentation --params mode:{mode}"
        )
    recorded = meta.get("label_mapping")
    if recorded is not None and {k: list(v) for k, v in recorded.items()} != {
        k: list(v) for k, v in mapping.items()
    }:
        raise ValueError(
            f"The augmented set for mode {mode!r} was made with another label mapping "
            f"({recorded}); re-run: kedro run --pipeline=augmentation --params mode:{mode}"
        )


def _spec(
    architecture: Architecture,
    shape: tuple[int, int, int],
    classes: tuple[str, ...],
    training: TrainingParams,
    balance_pool: bool = False,
) -> TrainingSpec:
    block = training.architectures[architecture.key]

    def setting(name: str) -> Any:
        override = getattr(block.overrides, name)
        return getattr(training, name) if override is None else override

    if setting("step_decay") is not None and setting("reduce_lr").enabled:
        raise ValueError(
            f"training.architectures.{architecture.key}: step_decay and reduce_lr both set the "
            "learning rate; disable one (e.g. overrides.reduce_lr.enabled: false)"
        )

    return TrainingSpec(
        architecture=architecture,
        shape=shape,
        classes=classes,
        arch_params=block,
        epochs=setting("epochs"),
        batch_size=setting("batch_size"),
        learning_rate=setting("learning_rate"),
        validation_fraction=setting("validation_fraction"),
        validation_split=training.validation_split,
        min_validation_subjects=training.min_validation_subjects,
        balance_pool=balance_pool,
        drop_remainder=setting("drop_last_batch"),
        optimizer=setting("optimizer"),
        momentum=setting("momentum"),
        step_decay=None if setting("step_decay") is None else setting("step_decay").model_dump(),
        reduce_lr=setting("reduce_lr").model_dump(),
        early_stopping=training.early_stopping.model_dump(),
        intensity=training.intensity,
        verbose=training.keras_verbose,
        deterministic=training.deterministic,
        precision=training.precision,
        fused_batch_norm=training.fused_batch_norm,
    )


def train_and_evaluate(
    architecture: Architecture,
    augmented: Mapping[str, np.ndarray],
    samples: pd.DataFrame,
    meta: Mapping[str, Any],
    training: TrainingParams,
    evaluation: EvaluationParams,
    seed: int,
    mode: str,
    label_mappings: Mapping[str, Any],
    run_info: Mapping[str, Any],
    compute: ComputeParams | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame, Any, dict[str, Any], dict[str, Any]]:
    """Evaluate ``architecture`` under the configured protocol, then fit a final model on all
    data. Returns predictions, histories, the final clip model, MLflow metrics and a
    summary. Its units (``units.plan_units``) run where ``compute`` says; their results are
    gathered in plan order, so the outputs are the same wherever they ran. The final model
    is a ``keras.Model``."""
    # TensorFlow is imported here, when a model is trained, not when Kedro lists pipelines.
    from microexpression_pipeline.models.building import clip_model
    from microexpression_pipeline.pipelines.train.fitting import fit_unit, load_final
    from microexpression_pipeline.pipelines.train.progress import FoldProgress

    check_augmented_set(meta, mode, label_mappings[mode], architecture.transform_set)
    compute = compute or ComputeParams()
    clips = augmented["clips"]
    if [str(s) for s in augmented["sample_ids"]] != samples["sample_id"].astype(str).tolist():
        raise ValueError(
            "augmented clips and sample table are not row-aligned; re-run augmentation"
        )
    classes = tuple(label_mappings[mode])
    spec = _spec(architecture, tuple(clips.shape[1:]), classes, training, bool(meta.get("balance")))
    protocol = evaluation.protocol
    independent = protocol in SUBJECT_INDEPENDENT
    seeds = list(evaluation.seeds or [seed])
    folds = make_folds(
        samples, protocol, evaluation.n_splits, evaluation.n_repeats, seed, evaluation.holdout_pairs
    )
    ids = samples["sample_id"].astype(str).tolist()
    units = plan_units(architecture.key, mode, protocol, seeds, folds, ids)
    in_process = compute.address() is None
    progress = FoldProgress(
        architecture.name, len(units) - 1, spec.epochs, enabled=in_process and spec.verbose == 0
    )
    started = time.perf_counter()
    try:
        outcomes = run_units(
            fit_unit, units, {"spec": spec, "clips": clips, "samples": samples}, compute,
            label=lambda unit: unit.label, key=lambda unit: unit.key, name=architecture.name,
            serial_kwargs={"callbacks": [progress]},
            on_start=lambda i: progress.start_fold(i + 1 if i < len(units) - 1 else None),
        )  # fmt: skip
    finally:
        progress.close()
    units_seconds = time.perf_counter() - started
    all_predictions, all_histories, records = [], [], []
    for unit, (result, cost) in zip(units[:-1], outcomes[:-1], strict=True):
        predictions = result["predictions"]
        logger.info(
            "%s seed %d fold %d/%d (%s): %d test clips, accuracy %.3f",
            architecture.name, unit.seed, unit.fold + 1, len(folds), unit.name, len(predictions),
            accuracy(predictions["true_label"], predictions["predicted_label"]),
        )  # fmt: skip
        tags = {"seed": unit.seed, "fold": unit.fold, "repeat": unit.repeat}
        all_predictions.append(predictions.assign(**tags))
        all_histories.append(result["history"].assign(seed=unit.seed, fold=unit.fold))
        records.append({**tags, "name": unit.name, **result["record"], "unit": cost})
    predictions = pd.concat(all_predictions, ignore_index=True)
    predictions["protocol"] = protocol
    predictions["subject_independent"] = independent
    final, final_cost = outcomes[-1]
    final_model = clip_model(architecture, load_final(final["model_file"]), clips.shape[1])
    final_history = final["history"].assign(seed=seeds[0], fold=FINAL)
    histories = pd.concat([*all_histories, final_history], ignore_index=True)

    metrics, summary = summarise(architecture, predictions, classes, protocol, independent, folds)
    metrics |= unit_metrics(architecture.key, [cost for _, cost in outcomes], final["record"])
    summary.update(
        mode=mode,
        seed=seed,
        seeds=seeds,
        folds=records,
        final_model={"seed": seeds[0], **final["record"], "unit": final_cost},
        compute=compute_record(compute, outcomes) | {"wall_seconds": round(units_seconds, 2)},
        n_training_samples=len(samples),
        clip_shape=list(clips.shape[1:]),
        transform_set=meta.get("transform_set"),
        features=_flow_record(augmented),
        settings={k: v for k, v in plain(training).items() if k != "architectures"}
        | {"architecture": plain(training.architectures[architecture.key])},
        evaluation=plain(evaluation),
        run=dict(run_info),
    )
    return predictions, histories, final_model, metrics, summary


def unit_metrics(
    slug: str, costs: list[dict[str, Any]], final_record: Mapping[str, Any]
) -> dict[str, Any]:
    """Per unit (step: its place in the plan, the final model last): wall seconds and the
    peak resident memory of the process that ran it; the model's parameter count."""
    return {
        f"{slug}.unit_wall_seconds": [
            {"value": float(c["wall_seconds"]), "step": i} for i, c in enumerate(costs)
        ],
        f"{slug}.unit_peak_rss_mb": [
            {"value": float(c["peak_rss_mb"]), "step": i} for i, c in enumerate(costs)
        ],
        f"{slug}.parameters": {"value": float(final_record["parameters"]), "step": 0},
    }


def compute_record(compute: ComputeParams, outcomes: list[tuple[Any, dict]]) -> dict[str, Any]:
    """Where the units ran: the scheduler, the workers used and the sum of the units' wall
    times (``wall_seconds``, added by the node: from the first unit's start to the last's
    end, the final model's fit included)."""
    workers = sorted({cost["worker"] for _, cost in outcomes})
    return {
        "scheduler": compute.address() or "in-process",
        "workers": workers,
        "units": len(outcomes),
        "unit_wall_seconds": round(sum(cost["wall_seconds"] for _, cost in outcomes), 2),
    }


def _flow_record(augmented: Mapping[str, np.ndarray]) -> dict[str, Any] | None:
    """How a flow training set's flow was computed (None for frame clips)."""
    if "flow_settings" not in augmented:
        return None
    return json.loads(str(augmented["flow_settings"]))


def summarise(
    architecture: Architecture,
    predictions: pd.DataFrame,
    classes: tuple[str, ...],
    protocol: str,
    subject_independent: bool,
    folds: list[Fold],
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Accuracy / UF1 / UAR pooled within each run (seed x repeat), their mean and std over
    runs, and per-fold accuracy, as MLflow metrics and a summary."""
    per_run = run_scores(predictions, classes)
    mean, std = mean_std(per_run)
    correct = predictions["true_label"] == predictions["predicted_label"]
    per_fold = predictions.assign(correct=correct).groupby(["seed", "fold"])["correct"].mean()
    slug = architecture.key
    metrics: dict[str, Any] = {
        f"{slug}.{name}": {"value": value, "step": 0} for name, value in mean.items()
    }
    metrics |= {f"{slug}.{name}_std": {"value": value, "step": 0} for name, value in std.items()}
    for run in per_run.itertuples(index=False):
        prefix = f"{slug}.seed_{run.seed}" + (
            f".repeat_{run.repeat}" if per_run["repeat"].nunique() > 1 else ""
        )
        metrics |= {
            f"{prefix}.{name}": {"value": getattr(run, name), "step": 0} for name in HEADLINE
        }
    metrics[f"{slug}.fold_accuracy"] = [
        {"value": float(v), "step": int(i)} for i, v in enumerate(per_fold.to_numpy())
    ]
    summary = {
        "architecture": architecture.name,
        "classes": list(classes),
        "protocol": protocol,
        "subject_independent": subject_independent,
        "n_folds": len(folds),
        "n_runs": len(per_run),
        "n_test_clips": int(predictions["clip_id"].nunique()),
        "metrics": mean,
        "metrics_std": std,
        "per_run": per_run.to_dict(orient="records"),
        "fold_accuracy_mean": float(per_fold.mean()),
        "fold_accuracy_std": float(per_fold.std(ddof=0)),
    }
    return metrics, summary


def trainer(architecture: Architecture) -> Callable[..., tuple]:
    """The training node of ``architecture``: ``train_and_evaluate`` with it bound, under a
    name of its own and with typed parameters (which Kedro validates before the run), plus
    the final model's card (``models.card``: what using it needs, from ``ingestion``)."""

    def train(
        augmented: Mapping[str, np.ndarray],
        samples: pd.DataFrame,
        meta: Mapping[str, Any],
        training: TrainingParams,
        evaluation: EvaluationParams,
        seed: int,
        mode: str,
        label_mappings: Mapping[str, Any],
        run_info: Mapping[str, Any],
        ingestion: Mapping[str, Any],
        compute: ComputeParams,
    ) -> tuple:
        outputs = train_and_evaluate(
            architecture, augmented, samples, meta, training, evaluation, seed, mode,
            label_mappings, run_info, compute,
        )  # fmt: skip
        summary = outputs[-1]
        card = make_card(summary, architecture.key, architecture.sees, plain(ingestion))
        return (*outputs, card.model_dump(mode="json"))

    train.__name__ = train.__qualname__ = f"train_{architecture.key}"
    train.__doc__ = f"Train and evaluate the {architecture.description} ({architecture.name})."
    return train


def package(model: Any, card: Mapping[str, Any]) -> dict[str, Any]:
    """The final model (``keras.Model``) with its card: what the catalog logs to MLflow as the
    served model."""
    return {"model": model, "card": dict(card)}
