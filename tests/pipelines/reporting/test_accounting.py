"""Test-set sizes against the sheet, per class, and the CASME II test described in words."""

from __future__ import annotations

import pandas as pd

from microexpression_pipeline.pipelines.reporting.accounting import (
    LEFT_OUT_ROW,
    account_test_sets,
    class_accounting,
    clips_tested_per_class,
)
from microexpression_pipeline.pipelines.reporting.cross_dataset_text import (
    final_model_line,
    mapping_statement,
    training_statement,
)
from microexpression_pipeline.pipelines.reporting.results import ModelResult

MAPPING = {"negative": ["Anger", "disgust"], "positive": ["happiness"]}
BY_EMOTION = {
    "anger": {"read": 10, "kept": 8, "rejected_by_reason": {"no_face": 2}},
    "disgust": {"read": 5, "kept": 4, "rejected_by_reason": {"missing_frame": 1}},
    "happiness": {"read": 6, "kept": 6, "rejected_by_reason": {}},
    "other": {"read": 4, "kept": 3, "rejected_by_reason": {"no_face": 1}},
}
# Three seeds test the same 12 negative and 5 positive clips.
PREDICTIONS = pd.DataFrame(
    {
        "clip_id": [f"n{i}" for i in range(12)] * 3 + [f"p{i}" for i in range(5)] * 3,
        "true_label": ["negative"] * 36 + ["positive"] * 15,
        "seed": ([42] * 12 + [43] * 12 + [44] * 12) + ([42] * 5 + [43] * 5 + [44] * 5),
    }
)


def _rows(frame: pd.DataFrame) -> dict[str, dict]:
    return frame.set_index("class").to_dict(orient="index")


def test_tested_counts_distinct_clips_not_rows():
    assert clips_tested_per_class(PREDICTIONS, ["negative", "positive"]) == {
        "negative": 12,
        "positive": 5,
    }
    assert clips_tested_per_class(None, ["negative"]) == {"negative": 0}


def test_class_accounting_against_the_sheet():
    frame = class_accounting(
        MAPPING,
        BY_EMOTION,
        {"negative": 12, "positive": 6},
        {"Other": 3},
        {"tested: 3D CNN": {"negative": 12, "positive": 5}},
    )
    rows = _rows(frame)
    assert list(frame["class"]) == ["negative", "positive", LEFT_OUT_ROW, "total"]
    assert rows["negative"] == {
        "sheet labels": "anger, disgust",
        "read from sheet": 15,
        "quarantined": 3,
        "quarantine reasons": "missing_frame 1, no_face 2",
        "left out by the mode": 0,
        "kept for the mode": 12,
        "tested: 3D CNN": 12,
    }
    assert rows[LEFT_OUT_ROW]["sheet labels"] == "other"
    assert rows[LEFT_OUT_ROW]["read from sheet"] == 4
    assert rows[LEFT_OUT_ROW]["left out by the mode"] == 3
    assert rows["total"]["read from sheet"] == 25
    assert rows["total"]["quarantined"] == 4
    assert rows["total"]["quarantine reasons"] == "missing_frame 1, no_face 3"
    assert rows["total"]["tested: 3D CNN"] == 17
    # every row read is quarantined, left out or kept
    for row in rows.values():
        kept = row["quarantined"] + row["left out by the mode"] + row["kept for the mode"]
        assert row["read from sheet"] == kept


def test_class_accounting_without_ingestion_summary_shows_na():
    rows = _rows(class_accounting(MAPPING, None, {"negative": 12, "positive": 6}, {}, {}))
    assert rows["negative"]["read from sheet"] == "n/a"
    assert rows["total"]["quarantined"] == "n/a"
    assert rows["total"]["kept for the mode"] == 18


def test_account_test_sets_uses_this_data_sources_summaries():
    meta = {
        "label_mapping": MAPPING,
        "counts_before": {"negative": 12, "positive": 6},
        "left_out": [{"clip_id": f"o{i}", "emotion": "Other"} for i in range(3)],
    }
    result = ModelResult(
        "synthetic", "binary", "3dcnn", "v1", {"architecture": "3D CNN"}, PREDICTIONS, None
    )
    cross = {
        "label_mapping": {"negative": ["disgust"], "positive": ["happiness"]},
        "class_counts": {"negative": 4, "positive": 2},
        "left_out_emotions": {"others": 3},
        "models": {"3dcnn": {"architecture": "3D CNN", "status": "evaluated"}},
    }
    casme2 = {
        "by_emotion": {
            "disgust": {"read": 5, "kept": 4, "rejected_by_reason": {"no_face": 1}},
            "happiness": {"read": 2, "kept": 2, "rejected_by_reason": {}},
            "others": {"read": 3, "kept": 3, "rejected_by_reason": {}},
        }
    }
    tables = account_test_sets(
        [result],
        {"synthetic/binary": meta, "real/binary": meta},
        {"synthetic/binary": cross},
        {"by_emotion": BY_EMOTION},
        casme2,
        {"data_source": "synthetic"},
    )
    samm = _rows(tables["samm"]["synthetic/binary"])
    assert samm["total"]["tested: 3D CNN"] == 17 and samm["total"]["read from sheet"] == 25
    assert _rows(tables["samm"]["real/binary"])["total"]["read from sheet"] == "n/a"
    rows = _rows(tables["casme2"]["synthetic/binary"])
    assert rows["negative"]["quarantined"] == 1 and rows["negative"]["tested: 3D CNN"] == 4
    assert rows[LEFT_OUT_ROW]["left out by the mode"] == 3


def test_cross_dataset_text_names_the_training_set_and_mapping():
    summary = {
        "source_mode": "binary",
        "data_source": "synthetic",
        "label_mapping": {"negative": ["disgust", "fear"], "positive": ["happiness"]},
        "left_out_emotions": {"others": 9, "surprise": 2},
    }
    assert "SAMM clips of mode binary" in training_statement(summary)
    assert mapping_statement(summary) == (
        "CASME II label mapping (cross_dataset.label_mappings.binary): negative = disgust, "
        "fear; positive = happiness; left out, not in the mapping: others (9 clips), "
        "surprise (2 clips)"
    )
    record = {
        "fit_subjects": ["samm/006", "samm/007", "samm/009"],
        "validation_subjects": ["samm/011"],
        "n_fit_originals": 30,
        "n_fit_copies": 90,
        "n_validation_originals": 4,
    }
    line = final_model_line("3D CNN", record)
    assert "fitted on 3 subjects (30 originals + 90 augmented copies)" in line
    assert line.endswith("(1, 4 original clips, never fitted): samm/011")
    assert "not recorded" in final_model_line("3D CNN", None)
    none = {**record, "validation_subjects": [], "n_validation_originals": 0, "validation": "none"}
    assert final_model_line("3D CNN", none).endswith("no validation share (none)")
    # the study's clip split: its validation clips' subjects are fitted too, and it says so
    by_clip = {**record, "validation": "by clip (training.validation_split: clip): ..."}
    line = final_model_line("3D CNN", by_clip)
    assert "never fitted" not in line and "validation share: 4 original clips (by clip" in line
