"""Small broken datasets: each quarantine reason is recorded, survivors are unchanged."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from microexpression_pipeline.pipelines.ingestion.clip_index import near_miss_hint
from microexpression_pipeline.pipelines.ingestion.nodes import build_clip_index
from microexpression_pipeline.pipelines.ingestion.schema import IngestionParams

from .conftest import (
    CLEAN_SAMM,
    build_samm,
    copy_dataset,
    extract_source,
    samm_names,
    samm_row,
    source_spec,
    write_frames,
)

CLEAN_IDS = [clip[1] for clip in CLEAN_SAMM]


def _index(tmp_path, ingestion_params, label_mappings, extra_rows=(), mutate=None, **kwargs):
    root, sheet = build_samm(tmp_path, extra_rows=list(extra_rows), image_files=False, **kwargs)
    if mutate:
        mutate(root)
    ingestion = IngestionParams.model_validate(ingestion_params)
    return build_clip_index(source_spec(root, sheet), ingestion, label_mappings)


@pytest.fixture
def clean_index(tmp_path_factory, ingestion_params, label_mappings):
    candidates, quarantine, stats = _index(
        tmp_path_factory.mktemp("clean"), ingestion_params, label_mappings
    )
    assert quarantine.empty and stats["rows_read"] == 3
    return candidates


def _assert_survivors_unchanged(candidates, clean_index, ids=CLEAN_IDS):
    kept = candidates.set_index("clip_id").loc[ids]
    clean = clean_index.set_index("clip_id").loc[ids]
    for column in ("subject", "onset", "apex", "offset", "emotion", "frame_files", "frame_numbers"):
        assert kept[column].tolist() == clean[column].tolist(), column
    assert all(not s for s in kept["substitutions"])


BROKEN_ROWS = {
    "onset_not_numeric": (samm_row(7, "007_1_1", "abc", 5, 9), "invalid_key_frame"),
    "offset_missing": (samm_row(7, "007_1_1", 1, 5, None), "invalid_key_frame"),
    "offset_before_onset": (samm_row(7, "007_1_1", 20, 15, 10), "invalid_key_frame"),
    "apex_not_numeric": (samm_row(7, "007_1_1", 1, "x12", 9), "invalid_key_frame"),
    "apex_after_offset": (samm_row(7, "007_1_1", 1, 12, 9), "apex_outside_range"),
    "apex_before_onset": (samm_row(7, "007_1_1", 5, 2, 9), "apex_outside_range"),
    "missing_folder": (samm_row(7, "007_1_1", 1, 5, 9), "missing_clip_folder"),
    "unknown_emotion": (samm_row(6, "006_1_2b", 100, 108, 116, "Confusion"), "unknown_emotion"),
    "dotdot_filename": (samm_row(6, "..", 1, 5, 9), "unsafe_path"),
    "traversal_filename": (samm_row(6, "../../etc", 1, 5, 9), "unsafe_path"),
    "absolute_filename": (samm_row(6, "/etc/passwd", 1, 5, 9), "unsafe_path"),
    "dotdot_subject": (samm_row("..", "006_1_2", 1, 5, 9), "unsafe_path"),
    "subject_not_number": (samm_row("abc", "abc_1", 1, 5, 9), "invalid_subject"),
    # an empty cell, as merged cells read: not mistaken for a path attack
    "subject_empty": (samm_row(None, "007_1_1", 1, 5, 9), "invalid_subject"),
    "filename_empty": (samm_row(7, None, 1, 5, 9), "missing_clip_folder"),
}


@pytest.mark.parametrize("case", sorted(BROKEN_ROWS))
def test_broken_row_quarantined(case, tmp_path, ingestion_params, label_mappings, clean_index):
    row, reason = BROKEN_ROWS[case]
    candidates, quarantine, stats = _index(tmp_path, ingestion_params, label_mappings, [row])
    assert stats["rows_read"] == 4
    assert len(quarantine) == 1
    record = quarantine.iloc[0]
    assert (record["reason"], record["action"]) == (reason, "rejected")
    assert record["detail"]
    assert sorted(candidates["clip_id"]) == sorted(CLEAN_IDS)
    _assert_survivors_unchanged(candidates, clean_index)


def test_duplicate_clip_ids_rejected(tmp_path, ingestion_params, label_mappings, clean_index):
    duplicate = samm_row(6, "006_1_3", 41, 44, 50, "Happiness")
    candidates, quarantine, _ = _index(tmp_path, ingestion_params, label_mappings, [duplicate])
    assert set(quarantine["reason"]) == {"duplicate_clip_id"}
    assert list(quarantine["clip_id"]) == ["006_1_3", "006_1_3"]
    assert "006_1_3" not in set(candidates["clip_id"])
    _assert_survivors_unchanged(candidates, clean_index, ["006_1_2", "017_3_1"])


def test_missing_frame_beyond_tolerance(tmp_path, ingestion_params, label_mappings, clean_index):
    def remove_apex(root):
        for number in range(106, 111):  # apex 108, tolerance 2
            (root / "006" / "006_1_2" / samm_names(6, [number])[number]).unlink()

    candidates, quarantine, _ = _index(
        tmp_path, ingestion_params, label_mappings, mutate=remove_apex
    )
    assert list(quarantine["reason"]) == ["missing_frame"]
    assert "apex frame 108" in quarantine.iloc[0]["detail"]
    _assert_survivors_unchanged(candidates, clean_index, ["006_1_3", "017_3_1"])


@pytest.mark.parametrize("on_disk", ["006_1_3 ", " 006_1_3"])
def test_clip_folder_differing_in_case_or_spaces_is_named(
    on_disk, tmp_path, ingestion_params, label_mappings, clean_index
):
    """A copy from a case-insensitive file system: the reason names the look-alike folder."""

    def rename(root):
        (root / "006" / "006_1_3").rename(root / "006" / on_disk)

    candidates, quarantine, _ = _index(tmp_path, ingestion_params, label_mappings, mutate=rename)
    assert list(quarantine["reason"]) == ["missing_clip_folder"]
    assert f"{on_disk} differs only in case or spelling: rename it" in quarantine.iloc[0]["detail"]
    _assert_survivors_unchanged(candidates, clean_index, ["006_1_2", "017_3_1"])


def test_near_miss_names_case_and_unicode_form(tmp_path):
    """CASME II names have letters: EP02_01f copied as EP02_01F; macOS writes names in NFD."""
    (tmp_path / "sub01" / "EP02_01F").mkdir(parents=True)
    (tmp_path / "sub02" / "Cafe\u0301").mkdir(parents=True)
    assert "EP02_01F differs only in case" in near_miss_hint(tmp_path / "sub01" / "EP02_01f")
    assert "differs only in case" in near_miss_hint(tmp_path / "SUB01" / "EP02_01F")
    assert "Cafe\u0301 differs" in near_miss_hint(tmp_path / "sub02" / "Caf\u00e9")
    assert near_miss_hint(tmp_path / "sub01" / "EP09_09") == ""


def test_missing_frame_within_tolerance_substituted(
    tmp_path, ingestion_params, label_mappings, clean_index
):
    def remove_apex(root):
        (root / "006" / "006_1_2" / "006_00108.jpg").unlink()

    candidates, quarantine, _ = _index(
        tmp_path, ingestion_params, label_mappings, mutate=remove_apex
    )
    assert list(quarantine[["reason", "action"]].itertuples(index=False, name=None)) == [
        ("frame_substituted", "patched")
    ]
    row = candidates.set_index("clip_id").loc["006_1_2"]
    assert row["frame_numbers"][4] == 107 and row["frame_files"][4] == "006_00107.jpg"
    assert row["substitutions"] == ["apex frame 108 missing: 107 used"]
    _assert_survivors_unchanged(candidates, clean_index, ["006_1_3", "017_3_1"])


def test_correction_applied_and_recorded(tmp_path, ingestion_params, label_mappings, clean_index):
    params = {
        **ingestion_params,
        "corrections": [
            {
                "dataset": "samm",
                "clip_id": "028_4_1",
                "field": "apex",
                "original": 1143,
                "value": 1105,
                "note": "toolkit",
            },
        ],
    }
    clips = [*CLEAN_SAMM, (28, "028_4_1", 1071, 1143, 1134, "Anger", 4)]
    root, sheet = build_samm(tmp_path, clips, image_files=False)
    ingestion = IngestionParams.model_validate(params)
    candidates, quarantine, _ = build_clip_index(
        source_spec(root, sheet), ingestion, label_mappings
    )
    assert list(quarantine[["clip_id", "reason", "action"]].itertuples(index=False, name=None)) == [
        ("028_4_1", "corrected", "patched")
    ]
    assert "apex 1143 -> 1105" in quarantine.iloc[0]["detail"]
    row = candidates.set_index("clip_id").loc["028_4_1"]
    assert row["apex"] == 1105 and row["frame_numbers"][4] == 1105
    assert row["frame_files"][0] == "028_1071.jpg"
    _assert_survivors_unchanged(candidates, clean_index)


@pytest.mark.parametrize(
    ("sheet_apex", "reason", "action"),
    [
        (1120, "correction_guard_failed", "rejected"),  # neither the original nor the fix
        (1105, None, None),  # fixed upstream: kept as it is, nothing patched
    ],
)
def test_correction_guard(
    sheet_apex, reason, action, tmp_path, ingestion_params, label_mappings, clean_index
):
    correction = {"dataset": "samm", "clip_id": "028_4_1", "field": "apex", "original": 1143,
                  "value": 1105, "note": "toolkit"}  # fmt: skip
    params = {**ingestion_params, "corrections": [correction]}
    clips = [*CLEAN_SAMM, (28, "028_4_1", 1071, sheet_apex, 1134, "Anger", 4)]
    root, sheet = build_samm(tmp_path, clips, image_files=False)
    ingestion = IngestionParams.model_validate(params)
    candidates, quarantine, stats = build_clip_index(
        source_spec(root, sheet), ingestion, label_mappings
    )
    if reason is None:
        assert quarantine.empty
        row = candidates.set_index("clip_id").loc["028_4_1"]
        assert row["apex"] == 1105 and "already as ingestion.corrections has it" in row["notes"][0]
    else:
        rows = list(quarantine[["clip_id", "reason", "action"]].itertuples(index=False, name=None))
        assert rows == [("028_4_1", reason, action)]
        assert "changes apex 1143 to 1105, but the sheet has '1120'" in quarantine.iloc[0]["detail"]
        assert "028_4_1" not in set(candidates["clip_id"])
        assert len(candidates) + 1 == stats["rows_read"]
    _assert_survivors_unchanged(candidates, clean_index)


def test_uncorrected_impossible_row_quarantined(tmp_path, ingestion_params, label_mappings):
    params = {**ingestion_params, "corrections": []}
    clips = [*CLEAN_SAMM, (28, "028_4_1", 1071, 1143, 1134, "Anger", 4)]
    root, sheet = build_samm(tmp_path, clips, image_files=False)
    ingestion = IngestionParams.model_validate(params)
    candidates, quarantine, _ = build_clip_index(
        source_spec(root, sheet), ingestion, label_mappings
    )
    assert list(quarantine["reason"]) == ["apex_outside_range"]
    assert "028_4_1" not in set(candidates["clip_id"])


def test_casme_apex_slash_falls_back_to_middle(tmp_path, ingestion_params, label_mappings):
    from .conftest import build_casme

    root, sheet = build_casme(tmp_path)
    source = {
        "name": "casme2",
        "enabled": True,
        "format": "casme2",
        "root": str(root),
        "metadata": str(sheet),
    }
    ingestion = IngestionParams.model_validate(ingestion_params)
    candidates, quarantine, _ = build_clip_index(source, ingestion, label_mappings)
    assert list(candidates["clip_id"]) == ["sub01_EP02_01f", "sub02_EP03_02"]
    assert list(candidates["subject"]) == ["sub01", "sub02"]
    assert candidates.iloc[1]["apex"] == 20
    assert candidates.iloc[0]["frame_files"][0] == "img46.jpg"
    assert list(quarantine[["reason", "action"]].itertuples(index=False, name=None)) == [
        ("apex_fallback", "patched")
    ]


# --------------------------------------------------------------------------- extraction stage


@pytest.mark.parametrize("damage", ["truncated", "garbage", "empty"])
def test_corrupt_jpeg_quarantined(
    damage, image_dataset, tmp_path, ingestion_params, label_mappings, fixed_detector
):
    clean = extract_source(*image_dataset, ingestion_params, label_mappings, fixed_detector)
    root, sheet = copy_dataset(*image_dataset, tmp_path)
    frame = root / "006" / "006_1_3" / "006_00044.jpg"  # the apex frame
    payload = frame.read_bytes()
    frame.write_bytes(
        {
            "truncated": payload[: len(payload) // 2],
            "garbage": b"\xff\xd8not a jpeg\xff\xd9",
            "empty": b"",
        }[damage]
    )
    clips, index, quarantine = extract_source(
        root, sheet, ingestion_params, label_mappings, fixed_detector
    )
    assert list(quarantine[["clip_id", "reason"]].itertuples(index=False, name=None)) == [
        ("006_1_3", "corrupt_frame")
    ]
    assert "006_00044.jpg" in quarantine.iloc[0]["detail"]
    assert list(index["clip_id"]) == ["006_1_2", "017_3_1"]
    keep = [0, 2]
    np.testing.assert_array_equal(clips["clips"], clean[0]["clips"][keep])
    assert list(clips["clip_ids"]) == ["006_1_2", "017_3_1"]


@pytest.mark.parametrize("policy", ["quarantine", "centre_crop"])
def test_no_face(policy, image_dataset, tmp_path, ingestion_params, label_mappings, fixed_detector):
    clean = extract_source(*image_dataset, ingestion_params, label_mappings, fixed_detector)
    root, sheet = copy_dataset(*image_dataset, tmp_path)
    folder = root / "006" / "006_1_3"
    shutil.rmtree(folder)
    write_frames(folder, samm_names(6, range(38, 55)), gray=True, blank=True)
    params = {**ingestion_params, "no_face": policy}
    clips, index, quarantine = extract_source(root, sheet, params, label_mappings, fixed_detector)
    record = quarantine.iloc[0]
    assert len(quarantine) == 1 and record["clip_id"] == "006_1_3"
    if policy == "quarantine":
        assert (record["reason"], record["action"]) == ("no_face", "rejected")
        assert list(index["clip_id"]) == ["006_1_2", "017_3_1"]
        np.testing.assert_array_equal(clips["clips"], clean[0]["clips"][[0, 2]])
    else:
        assert (record["reason"], record["action"]) == ("centre_crop", "patched")
        assert list(index["clip_id"]) == CLEAN_IDS
        assert not index.set_index("clip_id").loc["006_1_3", "face_found"]
        np.testing.assert_array_equal(clips["clips"][[0, 2]], clean[0]["clips"][[0, 2]])


def test_parallel_extraction_is_deterministic(
    image_dataset, ingestion_params, label_mappings, fixed_detector
):
    one = extract_source(
        *image_dataset, {**ingestion_params, "workers": 1}, label_mappings, fixed_detector
    )
    two = extract_source(
        *image_dataset, {**ingestion_params, "workers": 2}, label_mappings, fixed_detector
    )
    np.testing.assert_array_equal(one[0]["clips"], two[0]["clips"])
    assert one[1].drop(columns=["notes"]).equals(two[1].drop(columns=["notes"]))
