"""Inside one fold's training side: who is fitted, who validates, and which copies are fitted.

The validation share (for ReduceLROnPlateau and early stopping) is a share of the training
SUBJECTS: one of ``round(1 / validation_fraction)`` subject groups stratified by class as far
as the subjects allow (``StratifiedGroupKFold``), the group drawn by the fit's seed. No
validation subject is fitted, so the schedule cannot reward memorising a face. A fold with
fewer than ``min_subjects`` training subjects has no validation share; the schedule then
watches the training loss, and the fold's record says why.

With a balancing pool (``augmentation.balance: true``), the augmented set holds a fixed number
of copies of every original, made without looking at any label count. Each fitting set draws
from its own clips' copies, as many as fill every class up to its largest one; the counts
come from the fitting subjects alone, so nothing about a fold's test (or validation)
subjects shapes what the fold fits.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sklearn.model_selection import StratifiedGroupKFold, train_test_split

from microexpression_pipeline.pipelines.train.folds import LeakageError, leakage, subject_keys


@dataclass(frozen=True)
class TrainingSet:
    """The fitting and validation rows of one training side, and how they were chosen."""

    fit: pd.DataFrame
    validation: pd.DataFrame
    record: dict[str, Any] = field(default_factory=dict)


def _subjects(rows: pd.DataFrame) -> list[str]:
    return sorted(set(subject_keys(rows)))


def _by_subject(
    originals: pd.DataFrame, fraction: float, seed: int, min_subjects: int
) -> tuple[set[str], str]:
    """The validation subjects (keys) and how they were chosen: one of ``round(1 / fraction)``
    class-stratified subject groups (at most one group per subject), the group drawn by
    ``seed``."""
    keys = subject_keys(originals).to_numpy()
    n_subjects = len(set(keys))
    if n_subjects < min_subjects:
        return set(), (
            f"none: {n_subjects} training subjects, fewer than {min_subjects} "
            "(training.min_validation_subjects); the schedule watches the training loss"
        )
    n_groups = min(max(2, round(1 / fraction)), n_subjects)
    splitter = StratifiedGroupKFold(n_splits=n_groups, shuffle=True, random_state=seed)
    splits = list(splitter.split(np.zeros(len(keys)), originals["label"].astype(str), keys))
    held = splits[int(np.random.default_rng([seed, 4]).integers(n_groups))][1]
    subjects = set(keys[held])
    return subjects, (
        f"by subject: {len(subjects)} of {n_subjects} training subjects (1 of {n_groups} "
        "subject groups, stratified by class)"
    )


def _by_clip(originals: pd.DataFrame, fraction: float, seed: int) -> tuple[set[str], str]:
    """The validation clips (the study's split; its subjects are also fitted)."""
    clip_ids, labels = originals["source_clip_id"], originals["label"]
    try:
        _, held = train_test_split(clip_ids, test_size=fraction, stratify=labels, random_state=seed)
    except ValueError:  # a class too small to stratify
        _, held = train_test_split(clip_ids, test_size=fraction, random_state=seed)
    return set(held), "by clip (training.validation_split: clip): validation subjects are fitted"


def split_validation(
    train: pd.DataFrame, fraction: float, seed: int, by: str = "subject", min_subjects: int = 3
) -> tuple[pd.DataFrame, pd.DataFrame, str]:
    """Fitting rows, validation rows (originals only) and how the share was drawn.

    A held-out subject's (or clip's) copies are fitted by no one, so validation never sees a
    copy of a fitted clip."""
    originals = train.loc[~train["is_augmented"].astype(bool)]
    if fraction <= 0 or len(originals) < 4:
        return train, train.iloc[:0], "none: validation_fraction is 0 or fewer than 4 clips"
    if by == "subject":
        subjects, how = _by_subject(originals, fraction, seed, min_subjects)
        held = subject_keys(train).isin(subjects)
    else:
        clips, how = _by_clip(originals, fraction, seed)
        held = train["source_clip_id"].isin(clips)
    return train.loc[~held], train.loc[held & ~train["is_augmented"].astype(bool)], how


def copies_needed(labels: pd.Series, classes: Sequence[str], seed: int) -> np.ndarray:
    """Copies per clip (row of ``labels``) that fill each class up to its largest one: an
    even share per clip, the remainder spread over randomly chosen clips of the class."""
    values = labels.astype(str).to_numpy()
    rng = np.random.default_rng([seed, 3])
    counts = {cls: int((values == cls).sum()) for cls in classes}
    target = max(counts.values(), default=0)
    result = np.zeros(len(values), dtype=np.int64)
    for cls in classes:
        rows = np.flatnonzero(values == cls)
        if rows.size:
            base, extra = divmod(target - rows.size, rows.size)
            result[rows] = base
            result[rng.permutation(rows)[:extra]] += 1
    return result


def draw_balanced(fit: pd.DataFrame, classes: Sequence[str], seed: int) -> tuple[pd.DataFrame, int]:
    """The fitting rows with, per original, its first ``copies_needed`` copies of the pool;
    and how many copies the pool lacked (a class that cannot be filled up is fitted as is)."""
    originals = fit.loc[~fit["is_augmented"].astype(bool)]
    wanted = dict(
        zip(originals["source_clip_id"], copies_needed(originals["label"], classes, seed),
            strict=True)
    )  # fmt: skip
    want = fit["source_clip_id"].map(wanted).fillna(0).to_numpy()
    keep = fit["copy_index"].to_numpy() <= want
    available = fit.loc[fit["is_augmented"].astype(bool)].groupby("source_clip_id").size()
    shortfall = int(sum(max(0, n - int(available.get(c, 0))) for c, n in wanted.items()))
    return fit.loc[keep], shortfall


def training_set(
    train: pd.DataFrame,
    classes: Sequence[str],
    seed: int,
    validation_fraction: float,
    validation_split: str = "subject",
    min_validation_subjects: int = 3,
    balance_pool: bool = False,
) -> TrainingSet:
    """Split a fold's training rows into fitting and validation rows (checked for overlap),
    draw the fitting copies from a balancing pool, and record who is where."""
    fit, validation, how = split_validation(
        train, validation_fraction, seed, validation_split, min_validation_subjects
    )
    shortfall = 0
    if balance_pool:
        fit, shortfall = draw_balanced(fit, classes, seed)
    if len(validation):
        problems = leakage(
            pd.concat([fit, validation]).reset_index(drop=True),
            fit["sample_id"], validation["sample_id"], validation_split == "subject",
        )  # fmt: skip
        if problems:
            raise LeakageError(f"validation split: {'; '.join(problems)}")
    augmented = fit["is_augmented"].astype(bool)
    record = {
        "validation": how,
        "fit_subjects": _subjects(fit),
        "validation_subjects": _subjects(validation),
        "n_fit_originals": int((~augmented).sum()),
        "n_fit_copies": int(augmented.sum()),
        "n_validation_originals": len(validation),
        "fit_class_counts": {c: int((fit["label"].astype(str) == c).sum()) for c in classes},
    }
    if balance_pool:
        record["balance_shortfall"] = shortfall
    return TrainingSet(fit, validation, record)
