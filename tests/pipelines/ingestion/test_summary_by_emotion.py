"""The ingestion summary's per-emotion accounting: rows read, kept and rejected by reason."""

from __future__ import annotations

from collections import Counter

import pandas as pd

from microexpression_pipeline.pipelines.ingestion.metadata import (
    emotion_key,
    normalise_sheet,
    sheet_emotions,
)
from microexpression_pipeline.pipelines.ingestion.sheet_files import read_metadata_sheet
from microexpression_pipeline.pipelines.ingestion.summary import ingestion_summary

from .conftest import CASME_COLUMNS, write_sheet

ROWS = [
    (1, "EP02_01f", 46, 59, 86, "happiness"),
    (1, "EP03_02", 10, 40, 30, "Happiness"),  # apex after offset: rejected
    (2, "EP04_01", 10, 20, 30, "others"),
    ("", "EP05_01", 10, 20, 30, "disgust"),  # no subject: rejected
    (3, "EP06_01", 10, 20, 30, "sadness"),
]


def test_summary_counts_rows_per_emotion(tmp_path):
    records = [
        dict(
            zip(
                ("Subject", "Filename", "OnsetFrame", "ApexFrame", "OffsetFrame"),
                row[:5],
                strict=True,
            )
        )
        | {"Action Units": "4", "Estimated Emotion": row[5]}
        for row in ROWS
    ]
    sheet = read_metadata_sheet(write_sheet(tmp_path / "c.xlsx", records, CASME_COLUMNS), "casme2")
    frame, rejected = normalise_sheet(
        sheet,
        dataset="casme2",
        sheet_format="casme2",
        root=tmp_path,
        known_emotions={"happiness", "others", "disgust", "sadness"},
        corrections=[],
    )
    stats = {
        "dataset": "casme2",
        "rows_read": len(sheet),
        "emotions_read": dict(Counter(emotion_key(e) for e in sheet["emotion"])),
        "emotion_of_clip": sheet_emotions(sheet, "casme2"),
    }
    summary = ingestion_summary(
        stats,
        pd.DataFrame(rejected),
        frame.assign(face_found=True),
        {"clips_per_second": 1.0, "frames_per_second": 9.0},
        frames_per_clip=9,
        image_size=32,
    )
    assert summary["by_emotion"] == {
        "disgust": {"read": 1, "kept": 0, "rejected_by_reason": {"invalid_subject": 1}},
        "happiness": {"read": 2, "kept": 1, "rejected_by_reason": {"apex_outside_range": 1}},
        "others": {"read": 1, "kept": 1, "rejected_by_reason": {}},
        "sadness": {"read": 1, "kept": 1, "rejected_by_reason": {}},
    }


def test_summary_without_sheet_labels_has_no_breakdown():
    summary = ingestion_summary(
        {"dataset": "samm", "rows_read": 0},
        pd.DataFrame(columns=["clip_id", "reason", "action"]),
        pd.DataFrame(columns=["clip_id", "emotion", "face_found"]),
        {"clips_per_second": 0.0, "frames_per_second": 0.0},
        frames_per_clip=9,
        image_size=32,
    )
    assert summary["by_emotion"] == {} and summary["apex_by_source"] == {}
