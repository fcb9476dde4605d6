"""Cross-database protocols: leave one database out, and hold-out database pairs."""

from __future__ import annotations

import pandas as pd
import pytest

from microexpression_pipeline.pipelines.train.folds import leakage, make_folds


@pytest.fixture(scope="module")
def composite(augmented_set) -> pd.DataFrame:
    """Six subjects in three datasets; subject ids repeat across datasets on purpose."""
    samples = augmented_set(n_subjects=6, clips_per_subject=3, copies=1)[1].copy()
    subject = samples["subject"].astype(str)
    order = sorted(set(subject))
    dataset = subject.map({s: ("smic", "casme2", "samm")[order.index(s) % 3] for s in order})
    samples["dataset"] = dataset.to_numpy()
    # the same bare subject id in every dataset: only the dataset tells them apart
    samples["subject"] = subject.map({s: f"s{order.index(s) // 3}" for s in order}).to_numpy()
    return samples


def _datasets(samples: pd.DataFrame, ids) -> set[str]:
    return set(samples.set_index("sample_id").loc[list(ids), "dataset"])


def test_leave_one_dataset_out_tests_each_dataset_on_the_other_two(composite) -> None:
    folds = make_folds(composite, "leave_one_dataset_out")
    assert len(folds) == 3
    table = composite.set_index("sample_id")
    tested = []
    for fold in folds:
        (held_out,) = _datasets(composite, fold.test_ids)
        assert _datasets(composite, fold.train_ids) == {"smic", "casme2", "samm"} - {held_out}
        assert not table.loc[list(fold.test_ids), "is_augmented"].any()
        assert table.loc[list(fold.train_ids), "is_augmented"].any()  # copies train
        assert leakage(composite, fold.train_ids, fold.test_ids, subject_independent=True) == []
        assert fold.name.endswith(f"test {held_out}")
        tested += fold.test_ids
    originals = composite.loc[~composite["is_augmented"], "sample_id"]
    assert sorted(tested) == sorted(originals)


def test_holdout_trains_on_one_dataset_only(composite) -> None:
    pairs = [["samm", "casme2"], ["casme2", "samm"]]
    folds = make_folds(composite, "holdout", holdout_pairs=pairs)
    assert [f.name for f in folds] == ["train samm -> test casme2", "train casme2 -> test samm"]
    for fold, (train, test) in zip(folds, pairs, strict=True):
        assert _datasets(composite, fold.train_ids) == {train}
        assert _datasets(composite, fold.test_ids) == {test}
        expected = composite[(composite["dataset"] == test) & ~composite["is_augmented"]]
        assert sorted(fold.test_ids) == sorted(expected["sample_id"])


@pytest.mark.parametrize(
    ("pairs", "message"),
    [
        ([], "needs \\[train, test\\] dataset pairs"),
        ([["samm", "smicc"]], "smicc.*not a pair of two different datasets"),
        ([["samm", "samm"]], "not a pair of two different datasets"),
    ],
)
def test_holdout_pairs_are_checked(composite, pairs, message) -> None:
    with pytest.raises(ValueError, match=message):
        make_folds(composite, "holdout", holdout_pairs=pairs)


def test_cross_database_protocols_need_a_dataset_column(composite) -> None:
    with pytest.raises(ValueError, match="needs a sample table with a dataset column"):
        make_folds(composite.drop(columns="dataset"), "leave_one_dataset_out")
