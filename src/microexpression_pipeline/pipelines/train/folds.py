"""Evaluation protocols and the leakage check that runs before every fold.

A fold tests on ORIGINAL clips only and trains on the training clips' originals plus their
augmented copies; under a subject-independent protocol no subject is on both sides.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.model_selection import (
    LeaveOneGroupOut,
    RepeatedStratifiedKFold,
    StratifiedGroupKFold,
)

from microexpression_pipeline.provenance import LeakageError, select_fold

__all__ = ["PROTOCOLS", "Fold", "LeakageError", "check_fold", "make_folds"]

PROTOCOLS = ("loso", "group_kfold", "stratified_kfold")
SUBJECT_INDEPENDENT = frozenset({"loso", "group_kfold"})


@dataclass(frozen=True)
class Fold:
    """One train/test split, as sample ids of the augmented set's sample table."""

    index: int
    name: str
    repeat: int
    train_ids: tuple[str, ...]
    test_ids: tuple[str, ...]


def _originals(samples: pd.DataFrame) -> pd.DataFrame:
    return samples.loc[~samples["is_augmented"].astype(bool)]


def make_folds(
    samples: pd.DataFrame,
    protocol: str,
    n_splits: int = 5,
    n_repeats: int = 3,
    seed: int = 0,
) -> list[Fold]:
    """Folds of ``protocol`` over the original clips (copies follow their source clip)."""
    if protocol not in PROTOCOLS:
        raise ValueError(
            f"evaluation.protocol: {protocol!r} is not valid; valid choices: {', '.join(PROTOCOLS)}"
        )
    originals = _originals(samples).reset_index(drop=True)
    clip_ids = originals["source_clip_id"].to_numpy()
    labels = originals["label"].to_numpy()
    subjects = originals["subject"].astype(str).to_numpy()
    placeholder = np.zeros(len(originals))
    subject_independent = protocol in SUBJECT_INDEPENDENT
    if protocol == "loso":
        splits = [(0, test) for _, test in LeaveOneGroupOut().split(placeholder, groups=subjects)]
    elif protocol == "group_kfold":
        n_groups = len(set(subjects))
        if n_splits > n_groups:
            raise ValueError(
                f"evaluation.n_splits: {n_splits} folds need at least {n_splits} subjects; "
                f"the data has {n_groups}. Lower evaluation.n_splits or use protocol loso."
            )
        splitter = StratifiedGroupKFold(n_splits=n_splits, shuffle=True, random_state=seed)
        splits = [(0, test) for _, test in splitter.split(placeholder, labels, groups=subjects)]
    else:
        splitter = RepeatedStratifiedKFold(
            n_splits=n_splits, n_repeats=n_repeats, random_state=seed
        )
        splits = [
            (i // n_splits, test) for i, (_, test) in enumerate(splitter.split(placeholder, labels))
        ]
    folds = []
    for index, (repeat, test_rows) in enumerate(splits):
        if subject_independent:
            train_ids, test_ids = select_fold(samples, test_subjects=set(subjects[test_rows]))
        else:
            train_ids, test_ids = select_fold(samples, test_clip_ids=set(clip_ids[test_rows]))
        if subject_independent:
            name = "subjects " + ",".join(sorted(set(subjects[test_rows])))
        else:
            name = f"repeat {repeat + 1} fold {index % n_splits + 1}"
        folds.append(Fold(index, name, repeat, tuple(train_ids), tuple(test_ids)))
    return folds


def check_fold(samples: pd.DataFrame, fold: Fold, subject_independent: bool) -> None:
    """Stop on any overlap of samples, clips, augmentation sources or (if required) subjects."""
    table = samples.set_index("sample_id")
    train, test = table.loc[list(fold.train_ids)], table.loc[list(fold.test_ids)]
    problems = []
    if overlap := set(fold.train_ids) & set(fold.test_ids):
        problems.append(f"samples in both train and test: {sorted(overlap)[:5]}")
    if test["is_augmented"].astype(bool).any():
        problems.append("augmented copies in the test set")
    if overlap := set(train["source_clip_id"]) & set(test["source_clip_id"]):
        problems.append(f"test clips (or copies of them) in training: {sorted(overlap)[:5]}")
    if overlap := set(train.index) & set(test["source_clip_id"]):
        problems.append(f"test clip ids used as training samples: {sorted(overlap)[:5]}")
    if subject_independent and (overlap := set(train["subject"]) & set(test["subject"])):
        problems.append(f"subjects in both train and test: {sorted(overlap)}")
    if problems:
        raise LeakageError(
            f"Leakage in fold {fold.index + 1} ({fold.name}): " + "; ".join(problems)
        )
