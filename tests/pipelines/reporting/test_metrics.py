"""Every reported metric against scikit-learn on hand-made predictions."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import (
    accuracy_score,
    confusion_matrix,
    f1_score,
    precision_recall_fscore_support,
    recall_score,
)

from microexpression_pipeline.metrics import chance_level, chance_uf1, encode, headline
from microexpression_pipeline.pipelines.reporting.tables import (
    fmt,
    fold_accuracy,
    fold_statistics,
    majority_baseline,
    majority_predictions,
    per_class_table,
    per_subject_accuracy,
)

CLASSES = ["negative", "positive", "surprise"]
K = len(CLASSES)
LABELS = list(range(K))


def _encoded(frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    return encode(frame["true_label"], CLASSES), encode(frame["predicted_label"], CLASSES)


def test_pooled_metrics_match_sklearn_with_a_class_absent_from_a_fold(make_predictions):
    frame = make_predictions()
    assert "positive" not in set(frame.loc[frame["fold"] == 1, "true_label"])
    y_true, y_pred = _encoded(frame)
    scores = headline(y_true, y_pred, K)
    assert scores["accuracy"] == pytest.approx(accuracy_score(y_true, y_pred))
    assert scores["uf1"] == pytest.approx(
        f1_score(y_true, y_pred, labels=LABELS, average="macro", zero_division=np.nan)
    )
    assert scores["uar"] == pytest.approx(
        recall_score(y_true, y_pred, labels=LABELS, average="macro", zero_division=np.nan)
    )


def test_per_class_and_confusion_match_sklearn(make_predictions):
    y_true, y_pred = _encoded(make_predictions())
    table = per_class_table(y_true, y_pred, CLASSES)
    precision, recall, f1, support = precision_recall_fscore_support(
        y_true, y_pred, labels=LABELS, zero_division=np.nan
    )
    np.testing.assert_allclose(table["precision"], precision)
    np.testing.assert_allclose(table["recall"], recall)
    np.testing.assert_allclose(table["f1"], f1)
    np.testing.assert_array_equal(table["support"], support)
    from microexpression_pipeline.metrics import confusion, row_normalised

    counts = confusion(y_true, y_pred, K)
    np.testing.assert_array_equal(counts, confusion_matrix(y_true, y_pred, labels=LABELS))
    np.testing.assert_allclose(
        row_normalised(counts), confusion_matrix(y_true, y_pred, labels=LABELS, normalize="true")
    )


def test_a_class_never_seen_nor_predicted_is_left_out_and_shown_as_na(make_predictions):
    frame = make_predictions().query("true_label != 'surprise' and predicted_label != 'surprise'")
    y_true, y_pred = _encoded(frame)
    scores = headline(y_true, y_pred, K)
    assert scores["uf1"] == pytest.approx(
        f1_score(y_true, y_pred, labels=LABELS, average="macro", zero_division=np.nan)
    )
    assert scores["uar"] == pytest.approx(
        recall_score(y_true, y_pred, labels=LABELS, average="macro", zero_division=np.nan)
    )
    table = per_class_table(y_true, y_pred, CLASSES)
    assert fmt(table.loc[2, "f1"]) == "n/a"
    assert fmt(headline(y_true[:0], y_pred[:0], K)["uf1"]) == "n/a"
    assert fmt(0.0) == "0.000"


def test_per_fold_accuracy_and_mean_std_match_sklearn(make_predictions):
    frame = make_predictions()
    per_fold = fold_accuracy(frame)
    expected = [
        accuracy_score(*_encoded(frame[frame["fold"] == fold]))
        for fold in sorted(frame["fold"].unique())
    ]
    np.testing.assert_allclose(per_fold["accuracy"], expected)
    stats = fold_statistics(per_fold)
    assert list(stats["scope"]) == ["all folds"]
    assert stats.loc[0, "mean"] == pytest.approx(np.mean(expected))
    assert stats.loc[0, "std"] == pytest.approx(np.std(expected))


def test_stratified_kfold_reports_mean_and_std_per_repeat(make_predictions):
    frame = pd.concat(
        [
            make_predictions(protocol="stratified_kfold", repeat=0),
            make_predictions(protocol="stratified_kfold", repeat=1).assign(
                predicted_label=lambda f: f["true_label"]
            ),
        ],
        ignore_index=True,
    )
    stats = fold_statistics(fold_accuracy(frame)).set_index("scope")
    assert list(stats.index) == ["all folds of all runs", "repeat 0", "repeat 1"]
    assert stats.loc["repeat 1", "mean"] == pytest.approx(1.0)
    assert stats.loc["repeat 1", "std"] == pytest.approx(0.0)
    assert stats.loc["all folds of all runs", "n_folds"] == 6


def test_majority_baseline_uses_the_other_folds_of_the_same_protocol(make_predictions):
    frame = make_predictions()
    predicted = majority_predictions(frame, CLASSES)
    # Every fold's complement is mostly "negative".
    assert set(predicted) == {"negative"}
    rows = [
        (0, "a", "positive", "positive"),
        (1, "b", "negative", "negative"),
        (1, "b", "negative", "negative"),
        (2, "c", "positive", "positive"),
        (2, "c", "positive", "positive"),
    ]
    small = make_predictions(rows)
    # fold 0 learns from folds 1+2 (2 neg, 2 pos: tie -> first class), fold 1 from 3 pos,
    # fold 2 from 1 pos + 2 neg.
    assert list(majority_predictions(small, CLASSES)) == [
        "negative",
        "positive",
        "positive",
        "negative",
        "negative",
    ]
    baseline = majority_baseline(small, CLASSES)
    y_true = encode(small["true_label"], CLASSES)
    y_base = encode(
        pd.Series(["negative", "positive", "positive", "negative", "negative"]), CLASSES
    )
    assert baseline["accuracy"] == pytest.approx(accuracy_score(y_true, y_base))
    assert baseline["uf1"] == pytest.approx(
        f1_score(y_true, y_base, labels=LABELS, average="macro", zero_division=np.nan)
    )
    assert baseline["uar"] == pytest.approx(
        recall_score(y_true, y_base, labels=LABELS, average="macro", zero_division=np.nan)
    )


def test_single_fold_has_no_majority_baseline(make_predictions):
    frame = make_predictions().assign(fold=0)
    baseline = majority_baseline(frame, CLASSES)
    assert math.isnan(baseline["accuracy"]) and fmt(baseline["uf1"]) == "n/a"


def test_chance_level_matches_simulated_uniform_guessing(rng):
    y_true = np.repeat([0, 1, 2], [780, 180, 40])
    chance = chance_level(y_true, K)
    assert chance["accuracy"] == pytest.approx(1 / K)
    assert chance["uar"] == pytest.approx(1 / K)
    assert chance["uf1"] == pytest.approx(chance_uf1(np.bincount(y_true)))
    simulated = [
        f1_score(y_true, rng.integers(0, K, y_true.size), labels=LABELS, average="macro")
        for _ in range(200)
    ]
    assert chance["uf1"] == pytest.approx(np.mean(simulated), abs=0.01)


def test_per_subject_accuracy_matches_sklearn(make_predictions):
    frame = make_predictions()
    table = per_subject_accuracy(frame).set_index("subject")
    for subject, group in frame.groupby("subject"):
        assert table.loc[subject, "accuracy"] == pytest.approx(
            accuracy_score(group["true_label"], group["predicted_label"])
        )
        assert table.loc[subject, "n"] == len(group)
