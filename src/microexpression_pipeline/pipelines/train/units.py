"""Evaluation units of a training node: one fit (and prediction) per (architecture, mode,
seed, fold), plus the final model's fit on all data.

``fit_unit`` is the one function that runs a unit, in-process or on a Dask worker
(``compute.run_units``): it depends on nothing but its arguments, so a unit's outputs do not
depend on where or after which other unit it ran.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import keras
import numpy as np
import pandas as pd
import tensorflow as tf

from microexpression_pipeline.pipelines.train.fitting import (
    TrainingSpec,
    fit_model,
    indexed,
    run_fold,
)
from microexpression_pipeline.pipelines.train.folds import Fold

logger = logging.getLogger(__name__)

FINAL = -1  # the fold index of the final model's fit on all data


def unit_seed(seed: int, fold: int) -> int:
    """The seed of one fit (a training seed and a fold; fold -1: the final model), hashed from
    the pair, so that (almost surely) no two fits share their initial weights or batches."""
    return int(np.random.SeedSequence([seed, fold + 1]).generate_state(1)[0] % 2**31)


@dataclass(frozen=True)
class Unit:
    """One fit: training seed and fold (``FINAL``: all data, no test clips)."""

    architecture: str
    mode: str
    protocol: str
    seed: int
    fold: int
    name: str
    repeat: int
    train_ids: tuple[str, ...]
    test_ids: tuple[str, ...]

    @property
    def label(self) -> str:
        which = "final model" if self.fold == FINAL else f"fold {self.fold} ({self.name})"
        return f"unit {self.architecture} {self.mode} {self.protocol} seed {self.seed} {which}"

    @property
    def key(self) -> str:
        fold = "final" if self.fold == FINAL else f"fold{self.fold}"
        return f"unit-{self.architecture}-{self.mode}-{self.protocol}-seed{self.seed}-{fold}"

    @property
    def fit_seed(self) -> int:
        return unit_seed(self.seed, self.fold)


def plan_units(
    architecture: str, mode: str, protocol: str, seeds: Sequence[int], folds: Sequence[Fold],
    sample_ids: Sequence[str],
) -> list[Unit]:  # fmt: skip
    """Every fold once per seed (seed-major), then the final model (first seed, all data)."""
    units = []
    for seed in seeds:
        for fold in folds:
            ids = tuple(fold.train_ids), tuple(fold.test_ids)
            units.append(
                Unit(architecture, mode, protocol, seed, fold.index, fold.name, fold.repeat, *ids)
            )
    final = Unit(
        architecture, mode, protocol, seeds[0], FINAL, "all data", 0, tuple(sample_ids), ()
    )
    return [*units, final]


def fit_unit(
    unit: Unit,
    spec: TrainingSpec,
    clips: np.ndarray,
    samples: pd.DataFrame,
    callbacks: list[keras.callbacks.Callback] | None = None,
) -> dict[str, Any]:
    """Fit one unit from a fresh model. A fold gives its test predictions, history and
    record; the final model gives its ``.keras`` file's bytes instead (``load_final``)."""
    if spec.deterministic:
        tf.config.experimental.enable_op_determinism()
    elif tf.config.experimental.is_op_determinism_enabled():
        logger.warning(
            "%s: training.deterministic is false, but this process ran a deterministic unit "
            "before, and TensorFlow cannot turn op determinism off again: it stays on",
            unit.label,
        )
    if unit.fold != FINAL:
        predictions, history, record = run_fold(
            spec, clips, samples, unit.train_ids, unit.test_ids, unit.fit_seed,
            callbacks=callbacks,
        )  # fmt: skip
        return {"predictions": predictions, "history": history, "record": record}
    table = indexed(samples)
    model, history, record = fit_model(
        spec, clips, table.loc[list(unit.train_ids)], unit.fit_seed, callbacks=callbacks
    )
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "model.keras"
        model.save(path)
        return {"model_file": path.read_bytes(), "history": history, "record": record}


def load_final(model_file: bytes) -> keras.Model:
    """The final unit's fitted model (for a frame-level architecture, the frame model) from
    its ``.keras`` file, loaded in safe mode: the model as it was trained, optimizer state
    included, wherever it was fitted."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "model.keras"
        path.write_bytes(model_file)
        return keras.models.load_model(path, safe_mode=True)
