"""CASME II rows whose apex is '/': the ``ingestion.missing_apex`` rule and '/'-guarded
corrections, recorded in the quarantine table, the clip index and the summary."""

from __future__ import annotations

import pandas as pd
import pytest

from microexpression_pipeline.parameters import ParameterError
from microexpression_pipeline.pipelines.ingestion.metadata import normalise_sheet
from microexpression_pipeline.pipelines.ingestion.schema import Correction, IngestionParams
from microexpression_pipeline.pipelines.ingestion.sheet_files import read_metadata_sheet
from microexpression_pipeline.pipelines.ingestion.summary import ingestion_summary

from .conftest import CASME_COLUMNS, write_sheet

ROWS = [
    (1, "EP02_01f", 46, 59, 86),
    (2, "EP03_02", 10, "/", 31),
    (5, "EP03_01", 41, "/", 101),
]


def _sheet(tmp_path, rows=ROWS) -> pd.DataFrame:
    records = [
        {
            "Subject": subject,
            "Filename": filename,
            "OnsetFrame": onset,
            "ApexFrame": apex,
            "OffsetFrame": offset,
            "Action Units": "14",
            "Estimated Emotion": "repression",
        }
        for subject, filename, onset, apex, offset in rows
    ]
    return read_metadata_sheet(write_sheet(tmp_path / "c.xlsx", records, CASME_COLUMNS), "casme2")


def _normalise(tmp_path, corrections=(), missing_apex="middle", rows=ROWS):
    return normalise_sheet(
        _sheet(tmp_path, rows),
        dataset="casme2",
        sheet_format="casme2",
        root=tmp_path / "CASME2_RAW_selected",
        known_emotions={"repression"},
        corrections=list(corrections),
        missing_apex=missing_apex,
    )


def _estimate(original: int | str = "/") -> Correction:
    return Correction(
        dataset="casme2",
        clip_id="sub05_EP03_01",
        field="apex",
        original=original,
        value=68,
        note="estimated apex",
    )


def test_slash_apex_gets_the_middle_frame_and_is_recorded(tmp_path):
    frame, records = _normalise(tmp_path)
    assert list(frame["apex"]) == [59, 20, 71]  # (10 + 31) // 2, (41 + 101) // 2
    assert list(frame["apex_source"]) == ["sheet", "middle", "middle"]
    assert [(r["clip_id"], r["reason"], r["action"]) for r in records] == [
        ("sub02_EP03_02", "apex_fallback", "patched"),
        ("sub05_EP03_01", "apex_fallback", "patched"),
    ]
    assert "middle frame 20" in records[0]["detail"]
    assert "ingestion.missing_apex: middle" in records[0]["detail"]
    assert any("middle frame 20" in note for note in frame.loc[1, "notes"])


def test_quarantine_rule_rejects_uncoded_apexes(tmp_path):
    frame, records = _normalise(tmp_path, missing_apex="quarantine")
    assert list(frame["clip_id"]) == ["sub01_EP02_01f"]
    assert {(r["reason"], r["action"]) for r in records} == {("missing_apex", "rejected")}
    assert "sheet row 3" in records[0]["detail"] and "missing_apex" in records[0]["detail"]


def test_slash_guarded_correction_comes_before_the_rule(tmp_path):
    frame, records = _normalise(tmp_path, corrections=[_estimate()], missing_apex="quarantine")
    assert list(frame["clip_id"]) == ["sub01_EP02_01f", "sub05_EP03_01"]
    assert list(frame["apex"]) == [59, 68]
    assert list(frame["apex_source"]) == ["sheet", "correction"]
    patched = [r for r in records if r["action"] == "patched"]
    assert [r["reason"] for r in patched] == ["corrected"]
    assert patched[0]["detail"].startswith("apex '/' -> 68")


def test_slash_guard_fails_on_a_coded_apex(tmp_path):
    rows = [(5, "EP03_01", 41, 70, 101)]
    frame, records = _normalise(tmp_path, corrections=[_estimate()], rows=rows)
    assert frame.empty
    assert [(r["reason"], r["action"]) for r in records] == [
        ("correction_guard_failed", "rejected")
    ]
    assert "'70'" in records[0]["detail"] and "sheet row 2" in records[0]["detail"]


def test_numeric_guard_does_not_accept_a_slash(tmp_path):
    frame, records = _normalise(tmp_path, corrections=[_estimate(original=59)])
    assert "sub05_EP03_01" not in set(frame["clip_id"])
    assert "correction_guard_failed" in {r["reason"] for r in records}


def test_rule_parameter_is_validated(ingestion_params):
    with pytest.raises(ParameterError, match=r"ingestion\.missing_apex.*'meb'"):
        IngestionParams.model_validate({**ingestion_params, "missing_apex": "meb"})
    with pytest.raises(ParameterError, match=r"ingestion\.corrections\.0\.original"):
        IngestionParams.model_validate(
            {**ingestion_params, "corrections": [{**_estimate().model_dump(), "original": "?"}]}
        )
    with pytest.raises(ValueError, match=r"ingestion\.missing_apex: 'first'.*middle, quarantine"):
        _normalise_rule_only("first")
    assert IngestionParams.model_validate(ingestion_params).missing_apex == "middle"


def _normalise_rule_only(rule: str) -> None:
    normalise_sheet(
        pd.DataFrame(),
        dataset="casme2",
        sheet_format="casme2",
        root=".",
        known_emotions=set(),
        corrections=[],
        missing_apex=rule,
    )


def test_summary_counts_apex_sources(tmp_path):
    frame, records = _normalise(tmp_path, corrections=[_estimate()])
    quarantine = pd.DataFrame(records)
    summary = ingestion_summary(
        {"dataset": "casme2", "rows_read": len(ROWS)},
        quarantine,
        frame.assign(face_found=True),
        {"clips_per_second": 1.0, "frames_per_second": 9.0},
        frames_per_clip=9,
        image_size=32,
    )
    assert summary["apex_by_source"] == {"correction": 1, "middle": 1, "sheet": 1}
    assert summary["missing_apex"] == "middle"
    assert summary["patched_by_reason"] == {"apex_fallback": 1, "corrected": 1}
