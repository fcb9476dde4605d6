"""Evaluation protocols, fold selection and the leakage check, from the augmented set's
sample table.

A fold tests on ORIGINAL clips only and trains on the training clips' originals plus their
augmented copies, never a copy of a test clip; under a subject-independent protocol no subject
is on both sides. A subject is its (dataset, subject) pair (``subject_keys``): subject 1 of
one dataset is not subject 1 of another. ``select_fold`` picks a fold's samples and stops
(``LeakageError``) on any overlap ``leakage`` finds, so every fold ``make_folds`` returns has
been checked.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import pandas as pd
from sklearn.model_selection import (
    LeaveOneGroupOut,
    RepeatedStratifiedKFold,
    StratifiedGroupKFold,
)

PROVENANCE_COLUMNS: tuple[str, ...] = ("sample_id", "source_clip_id", "subject", "is_augmented")


class LeakageError(ValueError):
    """Raised when a fold would train on a test clip or a copy of one."""


class FoldSelection(NamedTuple):
    """Sample ids of one fold, in sample-table order."""

    train_ids: list[str]
    test_ids: list[str]


def check_sample_table(samples: pd.DataFrame) -> None:
    """Check the provenance columns: unique ids, and every copy traceable to its original."""
    missing = [col for col in PROVENANCE_COLUMNS if col not in samples.columns]
    if missing:
        raise ValueError(
            f"sample table: columns {missing} are missing (found {list(samples.columns)}); "
            "use augmentation.samples written by the augmentation pipeline."
        )
    ids = samples["sample_id"].astype(str)
    if ids.duplicated().any():
        raise ValueError(
            f"sample table: sample_id values {ids[ids.duplicated()].unique()[:5].tolist()} "
            "occur more than once."
        )
    originals = samples[~samples["is_augmented"].astype(bool)]
    subject_of = dict(
        zip(originals["source_clip_id"].astype(str), originals["subject"].astype(str), strict=True)
    )
    for row in samples.itertuples(index=False):
        source, subject = str(row.source_clip_id), str(row.subject)
        if source not in subject_of:
            raise LeakageError(
                f"sample table: sample {row.sample_id!r} comes from clip {source!r}, "
                "which has no original row; its subject cannot be checked."
            )
        if subject_of[source] != subject:
            raise LeakageError(
                f"sample table: sample {row.sample_id!r} has subject {subject!r} but its "
                f"source clip {source!r} belongs to subject {subject_of[source]!r}."
            )


def subject_keys(samples: pd.DataFrame) -> pd.Series:
    """Each row's subject as ``<dataset>/<subject>`` (without a dataset column: the subject)."""
    subjects = samples["subject"].astype(str)
    if "dataset" not in samples:
        return subjects
    return samples["dataset"].astype(str) + "/" + subjects


def select_fold(
    samples: pd.DataFrame,
    test_subjects: Iterable[str] | None = None,
    test_clip_ids: Iterable[str] | None = None,
) -> FoldSelection:
    """Train and test sample ids for one fold.

    Give either ``test_subjects`` (leave-subjects-out: ``subject_keys`` values, or bare
    subject ids, which match that subject in every dataset) or ``test_clip_ids`` (protocols
    that split by clip). Test = originals of the test subjects/clips; train = every sample
    (original or copy) whose source clip is on the training side.
    """
    if (test_subjects is None) == (test_clip_ids is None):
        raise ValueError("select_fold: give exactly one of test_subjects or test_clip_ids.")
    check_sample_table(samples)
    sources = samples["source_clip_id"].astype(str)
    keys, bare = subject_keys(samples), samples["subject"].astype(str)
    augmented = samples["is_augmented"].astype(bool)
    if test_subjects is not None:
        wanted = {str(s) for s in test_subjects}
        unknown = sorted(wanted - set(keys) - set(bare))
        key, column = "test_subjects", keys.where(keys.isin(wanted), bare)
    else:
        wanted = {str(c) for c in test_clip_ids}  # type: ignore[union-attr]
        unknown = sorted(wanted - set(sources))
        key, column = "test_clip_ids", sources
    if not wanted:
        raise ValueError(f"select_fold: {key} is empty.")
    if unknown:
        raise ValueError(
            f"select_fold: {key} {unknown[:10]} do not occur in the sample table "
            f"(it holds {column.nunique()} distinct values)."
        )
    on_test_side = column.isin(wanted)
    test = samples[on_test_side & ~augmented]
    train = samples[~on_test_side]
    selection = FoldSelection(
        train_ids=train["sample_id"].astype(str).tolist(),
        test_ids=test["sample_id"].astype(str).tolist(),
    )
    problems = leakage(samples, selection.train_ids, selection.test_ids, test_subjects is not None)
    if problems:
        raise LeakageError(f"select_fold: {'; '.join(problems)}")
    return selection


def leakage(
    samples: pd.DataFrame,
    train_ids: Iterable[str],
    test_ids: Iterable[str],
    subject_independent: bool,
) -> list[str]:
    """Every overlap of samples, clips, augmentation sources or (if required) subjects
    between a fold's two sides: the leakage check (empty: no leak)."""
    table = samples.set_index("sample_id")
    train_ids, test_ids = list(train_ids), list(test_ids)
    train, test = table.loc[train_ids], table.loc[test_ids]
    problems = []
    if overlap := set(train_ids) & set(test_ids):
        problems.append(f"samples in both train and test: {sorted(overlap)[:5]}")
    if test["is_augmented"].astype(bool).any():
        problems.append("augmented copies in the test set")
    if overlap := set(train["source_clip_id"]) & set(test["source_clip_id"]):
        problems.append(f"test clips (or copies of them) in training: {sorted(overlap)[:5]}")
    if overlap := set(train.index) & set(test["source_clip_id"]):
        problems.append(f"test clip ids used as training samples: {sorted(overlap)[:5]}")
    train_keys, test_keys = set(subject_keys(train)), set(subject_keys(test))
    if subject_independent and (overlap := train_keys & test_keys):
        problems.append(f"subjects in both train and test: {sorted(overlap)}")
    return problems


PROTOCOLS = ("loso", "group_kfold", "stratified_kfold", "leave_one_dataset_out", "holdout")
# Datasets never share a subject, so the cross-database protocols are subject-independent too.
SUBJECT_INDEPENDENT = frozenset({"loso", "group_kfold", "leave_one_dataset_out", "holdout"})
CROSS_DATABASE = frozenset({"leave_one_dataset_out", "holdout"})


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
    holdout_pairs: Sequence[Sequence[str]] = (),
) -> list[Fold]:
    """Folds of ``protocol`` over the original clips (copies follow their source clip).

    Cross-database protocols split by the ``dataset`` column: ``leave_one_dataset_out``
    tests each dataset on a model trained on all the others; ``holdout`` has one fold per
    ``(train dataset, test dataset)`` of ``holdout_pairs``, other datasets left unused.
    """
    if protocol not in PROTOCOLS:
        raise ValueError(
            f"evaluation.protocol: {protocol!r} is not valid; valid choices: {', '.join(PROTOCOLS)}"
        )
    if protocol in CROSS_DATABASE:
        return _cross_database_folds(samples, protocol, holdout_pairs)
    originals = _originals(samples).reset_index(drop=True)
    clip_ids = originals["source_clip_id"].to_numpy()
    labels = originals["label"].to_numpy()
    subjects = subject_keys(originals).to_numpy()
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


def _cross_database_folds(
    samples: pd.DataFrame, protocol: str, holdout_pairs: Sequence[Sequence[str]]
) -> list[Fold]:
    """The folds of a cross-database protocol, each checked by ``select_fold``."""
    if "dataset" not in samples.columns:
        raise ValueError(
            f"evaluation.protocol: {protocol} needs a sample table with a dataset column "
            "(a composite of several datasets: kedro run --pipeline=megc2019)"
        )
    datasets = samples["dataset"].astype(str)
    present = sorted(set(datasets))
    if protocol == "leave_one_dataset_out":
        if len(present) < 2:
            raise ValueError(
                f"evaluation.protocol: leave_one_dataset_out needs two datasets or more; the "
                f"sample table has {present}"
            )
        pairs = [([d for d in present if d != held_out], held_out) for held_out in present]
    else:
        if not holdout_pairs:
            raise ValueError(
                "evaluation.holdout_pairs: protocol holdout needs [train, test] dataset pairs"
            )
        pairs = [([str(train)], str(test)) for train, test in holdout_pairs]
    folds = []
    for index, (train_sets, test_set) in enumerate(pairs):
        unknown = sorted({*train_sets, test_set} - set(present))
        if unknown or test_set in train_sets:
            raise ValueError(
                f"evaluation.holdout_pairs: [{', '.join(train_sets)}, {test_set}] is not a "
                f"pair of two different datasets of the sample table ({', '.join(present)})"
            )
        used = samples[datasets.isin([*train_sets, test_set])]
        test_subjects = set(subject_keys(used[used["dataset"].astype(str) == test_set]))
        train_ids, test_ids = select_fold(used, test_subjects=test_subjects)
        name = f"train {'+'.join(train_sets)} -> test {test_set}"
        folds.append(Fold(index, name, 0, tuple(train_ids), tuple(test_ids)))
    return folds
