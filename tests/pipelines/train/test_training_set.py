"""Inside a fold: validation subjects apart from fitting subjects, balancing from a pool with
no test information, and the record of who was where."""

from __future__ import annotations

import pandas as pd
import pytest

from microexpression_pipeline.pipelines.train import training_set as training_set_module
from microexpression_pipeline.pipelines.train.folds import (
    LeakageError,
    make_folds,
    subject_keys,
)
from microexpression_pipeline.pipelines.train.training_set import training_set

CLASSES = ("negative", "positive")


@pytest.fixture(scope="module")
def samples(augmented_set) -> pd.DataFrame:
    return augmented_set(n_subjects=10, clips_per_subject=4, copies=3)[1]


def _keys(samples: pd.DataFrame, ids) -> set[str]:
    return set(subject_keys(samples.set_index("sample_id").loc[list(ids)].reset_index()))


@pytest.mark.parametrize(
    ("protocol", "kwargs"), [("loso", {}), ("group_kfold", {"n_splits": 3, "seed": 1})]
)
def test_fit_validation_and_test_subjects_are_disjoint(samples, protocol, kwargs) -> None:
    for fold in make_folds(samples, protocol, **kwargs):
        train = samples.set_index("sample_id", drop=False).loc[list(fold.train_ids)]
        chosen = training_set(train, CLASSES, seed=fold.index, validation_fraction=0.25)
        fit, validation = chosen.fit, chosen.validation
        test = _keys(samples, fold.test_ids)
        assert len(validation) and not validation["is_augmented"].any()
        assert set(chosen.record["fit_subjects"]) == set(subject_keys(fit))
        assert set(chosen.record["validation_subjects"]) == set(subject_keys(validation))
        fit_keys, validation_keys = set(subject_keys(fit)), set(subject_keys(validation))
        assert not fit_keys & validation_keys and not (fit_keys | validation_keys) & test
        assert chosen.record["validation"].startswith("by subject")
        # a validation subject's copies are fitted by no one
        assert not set(fit["source_clip_id"]) & set(validation["source_clip_id"])


def test_a_planted_overlap_is_caught(samples, monkeypatch) -> None:
    fold = make_folds(samples, "loso")[0]
    train = samples.set_index("sample_id", drop=False).loc[list(fold.train_ids)]
    honest = training_set(train, CLASSES, seed=0, validation_fraction=0.25)
    leaky = pd.concat([honest.fit, honest.validation.iloc[:1]])  # a validation clip fitted

    def planted(*args, **kwargs):
        return leaky, honest.validation, "planted"

    monkeypatch.setattr(training_set_module, "split_validation", planted)
    with pytest.raises(LeakageError, match="subjects in both"):
        training_set(train, CLASSES, seed=0, validation_fraction=0.25)


def test_the_validation_group_is_drawn_by_the_seed(samples) -> None:
    drawn = {
        tuple(training_set(samples, CLASSES, seed, 0.25).record["validation_subjects"])
        for seed in range(8)
    }
    assert len(drawn) > 2  # not always the same subjects whatever the seed


def test_too_few_subjects_fall_back_to_no_validation_and_say_so(augmented_set) -> None:
    samples = augmented_set(n_subjects=2, clips_per_subject=4, copies=1)[1]
    chosen = training_set(samples, CLASSES, seed=0, validation_fraction=0.25)
    assert chosen.validation.empty and len(chosen.fit) == len(samples)
    assert chosen.record["validation"].startswith("none: 2 training subjects")
    assert chosen.record["validation_subjects"] == []


def test_the_studys_clip_split_is_available_and_recorded(samples) -> None:
    chosen = training_set(samples, CLASSES, 0, 0.25, validation_split="clip")
    assert "by clip" in chosen.record["validation"]
    # the study's split validates on clips of fitted subjects
    assert set(chosen.record["validation_subjects"]) & set(chosen.record["fit_subjects"])
    assert not set(chosen.fit["source_clip_id"]) & set(chosen.validation["source_clip_id"])


def _pool(n_subjects: int = 9) -> pd.DataFrame:
    """A balancing pool: every original with 6 copies; class ``positive`` is rare."""
    rows = []
    for s in range(n_subjects):
        for c in range(4):
            label = "positive" if c == 0 else "negative"
            for k in range(7):
                rows.append(
                    {
                        "sample_id": f"{s}_{c}/{k}",
                        "source_clip_id": f"{s}_{c}",
                        "dataset": "SAMM",
                        "subject": f"{s:03d}",
                        "label": label,
                        "is_augmented": k > 0,
                        "copy_index": k,
                    }
                )
    return pd.DataFrame(rows)


def test_balancing_draws_from_the_pool_by_the_fitting_subjects_counts() -> None:
    pool = _pool()
    chosen = training_set(pool, CLASSES, 0, 0.25, balance_pool=True)
    counts = chosen.record["fit_class_counts"]
    assert counts["negative"] == counts["positive"] == 3 * len(chosen.record["fit_subjects"])
    assert chosen.record["balance_shortfall"] == 0
    assert chosen.record["n_fit_copies"] == 2 * len(chosen.record["fit_subjects"])


def test_test_labels_do_not_shape_a_folds_training_set() -> None:
    pool = _pool()
    fold = make_folds(pool, "loso")[0]
    test_subject = pool.set_index("sample_id").loc[fold.test_ids[0], "subject"]

    def fitted(samples: pd.DataFrame) -> list[str]:
        fold = make_folds(samples, "loso")[0]
        train = samples.set_index("sample_id", drop=False).loc[list(fold.train_ids)]
        return training_set(train, CLASSES, 0, 0.25, balance_pool=True).fit["sample_id"].tolist()

    relabelled = pool.copy()
    mine = relabelled["subject"] == test_subject
    relabelled.loc[mine, "label"] = "positive"  # the test subject's labels all change
    assert fitted(relabelled) == fitted(pool)
    # ... while a training subject's labels do change the balance
    other = pool.copy()
    other.loc[other["subject"] != test_subject, "label"] = "negative"
    other.loc[other["source_clip_id"].str.endswith("_1"), "label"] = "positive"
    assert fitted(other) != fitted(pool)


def test_subjects_of_different_datasets_are_different_subjects(samples) -> None:
    two = pd.concat(
        [samples.assign(dataset="SAMM"), samples.assign(
            dataset="CASME II",
            sample_id="c" + samples["sample_id"], source_clip_id="c" + samples["source_clip_id"],
        )],
        ignore_index=True,
    )  # fmt: skip
    folds = make_folds(two, "loso")
    assert len(folds) == 2 * samples["subject"].nunique()
    for fold in folds:
        assert len(_keys(two, fold.test_ids)) == 1
