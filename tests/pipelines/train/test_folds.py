"""Evaluation protocols, the leakage check, and fresh weights in every fold."""

from __future__ import annotations

import dataclasses
import re

import keras
import numpy as np
import pandas as pd
import pytest

from microexpression_pipeline.models import get
from microexpression_pipeline.pipelines.train.fitting import fresh_model, run_fold
from microexpression_pipeline.pipelines.train.folds import (
    Fold,
    leakage,
    make_folds,
)
from microexpression_pipeline.pipelines.train.schema import TrainingParams
from microexpression_pipeline.pipelines.train.spec import TrainingSpec


@pytest.fixture(scope="module")
def samples(augmented_set) -> pd.DataFrame:
    return augmented_set(n_subjects=6, clips_per_subject=4, copies=2)[1]


def _subjects(samples: pd.DataFrame, ids) -> set[str]:
    return set(samples.set_index("sample_id").loc[list(ids), "subject"])


def test_loso_has_one_fold_per_subject_and_tests_originals_only(samples) -> None:
    folds = make_folds(samples, "loso")
    assert len(folds) == samples["subject"].nunique()
    tested = []
    table = samples.set_index("sample_id")
    for fold in folds:
        test_subjects = _subjects(samples, fold.test_ids)
        assert len(test_subjects) == 1
        assert not table.loc[list(fold.test_ids), "is_augmented"].any()
        assert not _subjects(samples, fold.train_ids) & test_subjects
        # Training keeps the other subjects' originals AND their copies.
        assert table.loc[list(fold.train_ids), "is_augmented"].any()
        assert leakage(samples, fold.train_ids, fold.test_ids, subject_independent=True) == []
        tested += fold.test_ids
    originals = samples.loc[~samples["is_augmented"], "sample_id"]
    assert sorted(tested) == sorted(originals)  # every original clip tested exactly once


def test_group_kfold_is_subject_independent(samples) -> None:
    folds = make_folds(samples, "group_kfold", n_splits=3, seed=1)
    assert len(folds) == 3
    for fold in folds:
        assert not _subjects(samples, fold.train_ids) & _subjects(samples, fold.test_ids)
        assert leakage(samples, fold.train_ids, fold.test_ids, subject_independent=True) == []


def test_stratified_kfold_repeats_and_keeps_copies_of_test_clips_out(samples) -> None:
    folds = make_folds(samples, "stratified_kfold", n_splits=3, n_repeats=2, seed=1)
    assert len(folds) == 6
    assert [f.repeat for f in folds] == [0, 0, 0, 1, 1, 1]
    table = samples.set_index("sample_id")
    for fold in folds:
        train_sources = set(table.loc[list(fold.train_ids), "source_clip_id"])
        assert not train_sources & set(fold.test_ids)
        assert leakage(samples, fold.train_ids, fold.test_ids, subject_independent=False) == []


def test_too_many_group_folds_is_a_clear_error(samples) -> None:
    with pytest.raises(ValueError, match=r"evaluation\.n_splits"):
        make_folds(samples, "group_kfold", n_splits=50)


@pytest.mark.parametrize(
    ("plant", "message"),
    [
        ("copy_of_test_clip", r"test clips \(or copies of them\) in training: \['000_0'\]"),
        ("test_subject_original", r"subjects in both train and test: \['000'\]"),
        ("augmented_in_test", "augmented copies in the test set"),
        ("same_sample", r"samples in both train and test: \['000_0'\]"),
    ],
)
def test_leakage_check_catches_a_planted_overlap(samples, plant: str, message: str) -> None:
    fold = make_folds(samples, "loso")[0]
    table = samples.set_index("sample_id")
    test_clip = fold.test_ids[0]
    copies = table.index[(table["source_clip_id"] == test_clip) & table["is_augmented"]]
    subject = table.loc[test_clip, "subject"]
    other_original = next(
        i
        for i in table.index[(table["subject"] == subject) & ~table["is_augmented"]]
        if i != test_clip
    )
    planted = {
        "copy_of_test_clip": dataclasses.replace(fold, train_ids=(*fold.train_ids, copies[0])),
        "test_subject_original": dataclasses.replace(
            fold,
            train_ids=(*fold.train_ids, other_original),
            test_ids=tuple(i for i in fold.test_ids if i != other_original),
        ),
        "augmented_in_test": dataclasses.replace(fold, test_ids=(*fold.test_ids, copies[0])),
        "same_sample": dataclasses.replace(fold, train_ids=(*fold.train_ids, test_clip)),
    }[plant]
    problems = leakage(samples, planted.train_ids, planted.test_ids, subject_independent=True)
    assert any(re.search(message, problem) for problem in problems), problems


def test_every_fold_starts_from_fresh_weights(tiny_training, augmented_set) -> None:
    augmented, samples = augmented_set(n_subjects=4, clips_per_subject=4, copies=1)
    spec = TrainingSpec(
        architecture=get("3dcnn"),
        shape=augmented["clips"].shape[1:],
        classes=("negative", "positive"),
        arch_params=TrainingParams.model_validate(tiny_training).architectures["3dcnn"],
        epochs=2,
        batch_size=8,
        learning_rate=0.003,
        validation_fraction=0.0,
        verbose=0,
    )
    initial: list[list[np.ndarray]] = []
    trained: list[keras.Model] = []

    def recording_factory(s: TrainingSpec) -> keras.Model:
        model = fresh_model(s)
        initial.append([w.copy() for w in model.get_weights()])
        trained.append(model)
        return model

    folds: list[Fold] = make_folds(samples, "group_kfold", n_splits=2, seed=0)
    for fold in folds:
        run_fold(spec, augmented["clips"], samples, fold.train_ids, fold.test_ids, 7,
                 recording_factory)  # fmt: skip
    assert trained[0] is not trained[1]
    # Fold 2 starts exactly where a brand-new model with the same seed starts ...
    for a, b in zip(initial[0], initial[1], strict=True):
        np.testing.assert_array_equal(a, b)
    # ... and not from the weights fold 1 ended with.
    fold1_final = trained[0].get_weights()
    assert any(not np.array_equal(a, b) for a, b in zip(fold1_final, initial[1], strict=True))
