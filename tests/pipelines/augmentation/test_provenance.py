"""Fold selection: no test subject's clip, nor a copy of one, ever reaches training."""

from __future__ import annotations

import pandas as pd
import pytest

from microexpression_pipeline.pipelines.augmentation.nodes import label_clips, plan_samples
from microexpression_pipeline.pipelines.augmentation.schema import AugmentationParams
from microexpression_pipeline.pipelines.train.folds import (
    LeakageError,
    check_sample_table,
    select_fold,
)


@pytest.fixture(scope="module")
def samples(samm_like, label_mappings, _augmentation_conf) -> pd.DataFrame:
    clips, index = samm_like
    labelled = label_clips(clips, index, "multiclass", label_mappings)
    augmentation = AugmentationParams.model_validate(_augmentation_conf)
    return plan_samples(labelled, clips, "multiclass", label_mappings, augmentation, 42, "clip")


def _check_fold(samples: pd.DataFrame, train_ids: list[str], test_ids: list[str], test_subjects):
    by_id = samples.set_index("sample_id")
    train, test = by_id.loc[train_ids], by_id.loc[test_ids]
    assert not set(train_ids) & set(test_ids)
    assert not test["is_augmented"].any()
    assert set(test["subject"]) <= set(test_subjects)
    assert not set(train["subject"]) & set(test_subjects)
    assert not set(train["source_clip_id"]) & set(test["source_clip_id"])
    assert (
        len(train) + len(test)
        == len(samples) - (samples["subject"].isin(test_subjects) & samples["is_augmented"]).sum()
    )


def test_leave_one_subject_out_never_leaks(samples):
    for subject in sorted(samples["subject"].unique()):
        fold = select_fold(samples, test_subjects=[subject])
        _check_fold(samples, fold.train_ids, fold.test_ids, {subject})
        originals = samples[(samples["subject"] == subject) & ~samples["is_augmented"]]
        assert fold.test_ids == originals["sample_id"].tolist()
        others = samples[samples["subject"] != subject]
        assert fold.train_ids == others["sample_id"].tolist()  # originals and their copies


def test_several_test_subjects(samples):
    fold = select_fold(samples, test_subjects={"006", "009"})
    _check_fold(samples, fold.train_ids, fold.test_ids, {"006", "009"})


def test_split_by_clip_keeps_copies_of_test_clips_out_of_training(samples):
    copied = samples[samples["is_augmented"]]["source_clip_id"].unique()[:3].tolist()
    fold = select_fold(samples, test_clip_ids=copied)
    assert sorted(fold.test_ids) == sorted(f"{c}/orig" for c in copied)
    train = samples.set_index("sample_id").loc[fold.train_ids]
    assert not train["source_clip_id"].isin(copied).any()
    assert (
        train["subject"].isin(samples.loc[samples["source_clip_id"].isin(copied), "subject"]).any()
    )


def test_bad_requests_are_refused(samples):
    with pytest.raises(ValueError, match="exactly one"):
        select_fold(samples)
    with pytest.raises(ValueError, match="exactly one"):
        select_fold(samples, test_subjects=["006"], test_clip_ids=["x"])
    with pytest.raises(ValueError, match=r"test_subjects \['999'\] do not occur"):
        select_fold(samples, test_subjects=["006", "999"])
    with pytest.raises(ValueError, match="is empty"):
        select_fold(samples, test_subjects=[])
    with pytest.raises(ValueError, match=r"columns \['subject'\] are missing"):
        select_fold(samples.drop(columns="subject"), test_subjects=["006"])


def test_inconsistent_provenance_is_refused(samples):
    relabelled = samples.copy()
    copy_row = relabelled.index[relabelled["is_augmented"]][0]
    relabelled.loc[copy_row, "subject"] = "999"  # a copy claiming another subject
    with pytest.raises(LeakageError, match="belongs to subject"):
        select_fold(relabelled, test_subjects=["006"])
    orphan = samples[
        ~(
            ~samples["is_augmented"]
            & (samples["source_clip_id"] == samples.loc[copy_row, "source_clip_id"])
        )
    ]
    with pytest.raises(LeakageError, match="has no original row"):
        check_sample_table(orphan)
    duplicated = pd.concat([samples, samples.iloc[:1]])
    with pytest.raises(ValueError, match="occur more than once"):
        check_sample_table(duplicated)
