"""Evaluation units of a training node: one fit (and prediction) per (architecture, mode,
seed, fold), plus the final model's fit on all data, planned in a fixed order.

``fitting.fit_unit`` is the one function that runs a unit, in-process or on a Dask worker
(``compute.run_units``): it depends on nothing but its arguments, so a unit's outputs do not
depend on where or after which other unit it ran.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from microexpression_pipeline.pipelines.train.folds import Fold

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
