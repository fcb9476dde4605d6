"""Projected wall time of the study's leave-one-subject-out evaluation on SAMM-sized data.

Real SAMM has 159 clips of 29 subjects. The synthetic generator's design at ``size: 1`` has
exactly SAMM's clips per class and subjects (no frame is rendered here). Its clips are
labelled, copied, split into LOSO folds and validation splits by the project's own functions
with the study's settings (``conf/real``), which gives, for every fold f of every mode m, the
clips fitted (n_fit) and validated (n_val) per epoch and the test clips (n_test). With the
measured training rate r (clips/s) of each architecture a and variant:

    T = sum_a sum_m [ sum_f ( E * (n_fit / r + n_val / (3 r)) + n_test / (3 r) ) ]

over the 29 folds plus the final fit on all data (no test), E epochs (25 in the study). A
forward pass costs a third of a training step (the FLOP convention of ``flops``), hence 3 r
for validation and test. Ingestion and augmentation of 159 clips at the measured rates are
added. Per-fold overhead and model saving are not counted.

The FLOP-bound time is the same sum with every rate at the machine's dense matmul rate
(measured in the same run) over the variant's training FLOPs per clip: the time the trainings
would take if every FLOP ran as fast as a large float32 matmul. Its ratio to T is the
projection's distance from the machine's limit. The machine's rate drifts within a run, so
the bound is given three ways: at the run's fastest matmul (the strictest), at the matmul
measured in the process that measured each rate (paired), and at the run's slowest.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from microexpression_pipeline.models import ARCHITECTURES
from microexpression_pipeline.pipelines.augmentation.balancing import check_copies
from microexpression_pipeline.pipelines.augmentation.labels import assign_classes, class_order
from microexpression_pipeline.pipelines.augmentation.schema import AugmentationParams
from microexpression_pipeline.pipelines.train.folds import make_folds
from microexpression_pipeline.pipelines.train.schema import TrainingParams
from microexpression_pipeline.pipelines.train.training_set import split_validation
from microexpression_pipeline.synthetic import samm_format
from microexpression_pipeline.synthetic.settings import resolve, validate_settings

MODES = ("binary", "multiclass")
VARIANT_KEY = {
    "binary": "pipeline_clips_per_second",
    "multiclass": "multiclass_pipeline_clips_per_second",
}
FLOPS_KEY = {
    "binary": "training_gflop_per_clip",
    "multiclass": "multiclass_training_gflop_per_clip",
}
OWN_MATMUL_KEY = {
    "binary": "process_matmul_gflops",
    "multiclass": "multiclass_process_matmul_gflops",
}


def samm_sized_samples(mode: str, params: Mapping[str, Any], seed: int) -> pd.DataFrame:
    """The sample table of ``mode`` for a SAMM-sized set: originals and their copies."""
    render = resolve(validate_settings({"size": 1.0, "full_size": True}))
    clips = samm_format.design_clips(np.random.default_rng([seed, 0, 0]), render)
    index = pd.DataFrame(
        {
            "dataset": "samm",
            "clip_id": [c.clip_id for c in clips],
            "subject": [f"{c.subject:03d}" for c in clips],
            "emotion": [c.emotion for c in clips],
        }
    )
    mappings = params["label_mappings"]
    augmentation = AugmentationParams.model_validate(params["augmentation"])
    labelled = assign_classes(index, mode, mappings)
    kept = labelled[labelled["label_index"] >= 0].reset_index(drop=True)
    classes = class_order(mode, mappings)
    if augmentation.balance:  # the pool every original gets (folds draw from it)
        counts = np.full(len(kept), augmentation.balance_pool_copies)
    else:
        counts = kept["label"].map(check_copies(mode, classes, augmentation.copies)).to_numpy()
    rows = []
    for clip, count in zip(kept.itertuples(index=False), counts, strict=True):
        for k in range(int(count) + 1):
            rows.append(
                {
                    "sample_id": f"{clip.clip_id}/{'orig' if k == 0 else f'aug{k:02d}'}",
                    "source_clip_id": clip.clip_id,
                    "subject": clip.subject,
                    "label": clip.label,
                    "is_augmented": k > 0,
                }
            )
    return pd.DataFrame(rows)


def fold_sizes(
    samples: pd.DataFrame, fraction: float, params: Mapping[str, Any], seed: int
) -> list[dict[str, int]]:
    """n_fit, n_val and n_test of every fold of the study's protocol, then the final fit."""
    evaluation = params["evaluation"]
    folds = make_folds(
        samples, evaluation["protocol"], evaluation["n_splits"], evaluation["n_repeats"], seed
    )
    table = samples.set_index("sample_id", drop=False)
    sizes = []
    for fold in folds:
        fit, val, _ = split_validation(table.loc[list(fold.train_ids)], fraction, seed + fold.index)
        sizes.append({"n_fit": len(fit), "n_val": len(val), "n_test": len(fold.test_ids)})
    fit, val, _ = split_validation(table, fraction, seed + len(folds))
    sizes.append({"n_fit": len(fit), "n_val": len(val), "n_test": 0})
    return sizes


def run(
    training_results: Mapping[str, Any],
    ingestion_rate: float | None,
    augmentation_rate: float | None,
    study_params: Mapping[str, Any],
    seed: int,
) -> dict[str, Any]:
    """The projection per architecture and mode, and in total."""
    training = TrainingParams.model_validate(study_params["training"])
    frames = training_results["clip_shape"][0]
    per_model: dict[str, Any] = {}
    total = bound_total = paired_total = slowest_total = 0.0
    matmul = training_results["matmul_gflops"]
    slowest = min(training_results.get("matmul_gflops_all") or [matmul])
    copies_total = 0
    for mode in MODES:
        samples = samm_sized_samples(mode, study_params, seed)
        copies_total += int(samples["is_augmented"].sum())
        for key, measured in training_results["architectures"].items():
            overrides = training.architectures[key].overrides
            epochs = training.epochs if overrides.epochs is None else overrides.epochs
            fraction = (
                training.validation_fraction
                if overrides.validation_fraction is None
                else overrides.validation_fraction
            )
            rate = measured[VARIANT_KEY[mode]]
            sizes = fold_sizes(samples, fraction, study_params, seed)

            def wall(r: float, sizes: list[dict[str, int]] = sizes, epochs: int = epochs) -> float:
                return sum(
                    epochs * (s["n_fit"] / r + s["n_val"] / (3 * r)) + s["n_test"] / (3 * r)
                    for s in sizes
                )

            seconds = wall(rate)
            bound = wall(matmul / measured[FLOPS_KEY[mode]])
            # the matmul rate of the process that measured this rate (binary's if estimated)
            own = (
                measured.get(OWN_MATMUL_KEY[mode]) or measured.get("process_matmul_gflops")
            ) or matmul
            total += seconds
            bound_total += bound
            paired_total += wall(own / measured[FLOPS_KEY[mode]])
            slowest_total += wall(slowest / measured[FLOPS_KEY[mode]])
            per_model[f"{key} {mode}"] = {
                "architecture": key,
                "name": ARCHITECTURES[key].name,
                "mode": mode,
                "folds": len(sizes) - 1,
                "epochs": epochs,
                "clips_per_second": rate,
                "rate": "measured" if mode == "binary" else measured["multiclass_rate"],
                "mean_n_fit": float(np.mean([s["n_fit"] for s in sizes[:-1]])),
                "mean_n_val": float(np.mean([s["n_val"] for s in sizes[:-1]])),
                "mean_epoch_seconds": float(
                    np.mean([s["n_fit"] / rate + s["n_val"] / (3 * rate) for s in sizes[:-1]])
                ),
                "hours": seconds / 3600,
                "flop_bound_hours": bound / 3600,
            }
    clips = len(
        samm_format.design_clips(
            np.random.default_rng([seed, 0, 0]),
            resolve(validate_settings({"size": 1.0, "full_size": True})),
        )
    )
    ingestion_s = clips / ingestion_rate if ingestion_rate else 0.0
    augmentation_s = copies_total / augmentation_rate if augmentation_rate else 0.0
    total += ingestion_s + augmentation_s
    return {
        "clips": clips,
        "clip_shape": list(training_results["clip_shape"]),
        "study_image_size": int(study_params["ingestion"]["image_size"]),
        "frames_per_clip": frames,
        "protocol": study_params["evaluation"]["protocol"],
        "epochs": training.epochs,
        "modes": list(MODES),
        "ingestion_hours": ingestion_s / 3600,
        "augmentation_hours": augmentation_s / 3600,
        "per_model": per_model,
        "total_hours": total / 3600,
        "matmul_gflops": matmul,
        "flop_bound_training_hours": bound_total / 3600,
        "flop_bound_training_hours_paired": paired_total / 3600,
        "flop_bound_training_hours_slowest": slowest_total / 3600,
        "matmul_gflops_slowest": slowest,
        "training_hours": (total - ingestion_s - augmentation_s) / 3600,
        "formula": "T = sum_a sum_m sum_f [E (n_fit/r + n_val/(3r)) + n_test/(3r)] "
        "+ ingestion + augmentation",
    }
