"""Fold selection from the augmented set's sample table, without leakage.

A test fold holds only *original* clips of its test subjects (or test clips); training gets
the originals of every other subject plus their augmented copies, and never a copy of a
test clip. ``select_fold`` raises if the table would let anything of the test side into
training.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple

import pandas as pd

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


def select_fold(
    samples: pd.DataFrame,
    test_subjects: Iterable[str] | None = None,
    test_clip_ids: Iterable[str] | None = None,
) -> FoldSelection:
    """Train and test sample ids for one fold.

    Give either ``test_subjects`` (leave-subjects-out) or ``test_clip_ids`` (protocols that
    split by clip). Test = originals of the test subjects/clips; train = every sample
    (original or copy) whose source clip is on the training side.
    """
    if (test_subjects is None) == (test_clip_ids is None):
        raise ValueError("select_fold: give exactly one of test_subjects or test_clip_ids.")
    check_sample_table(samples)
    sources = samples["source_clip_id"].astype(str)
    subjects = samples["subject"].astype(str)
    augmented = samples["is_augmented"].astype(bool)
    if test_subjects is not None:
        wanted = {str(s) for s in test_subjects}
        unknown = sorted(wanted - set(subjects))
        key, column = "test_subjects", subjects
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

    test_sources = set(test["source_clip_id"].astype(str))
    leaks = train["source_clip_id"].astype(str).isin(test_sources)
    if test_subjects is not None:
        leaks |= train["subject"].astype(str).isin(wanted)
    leaked = train[leaks]
    if not leaked.empty or set(train["sample_id"]) & set(test["sample_id"]):
        raise LeakageError(
            f"select_fold: training would contain {leaked['sample_id'].tolist()[:5]}, "
            "which share a source clip or subject with the test fold."
        )
    return FoldSelection(
        train_ids=train["sample_id"].astype(str).tolist(),
        test_ids=test["sample_id"].astype(str).tolist(),
    )
