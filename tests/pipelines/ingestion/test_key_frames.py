"""Key frames that cannot describe a movement: negative, outside the clip folder's frames,
zero-length events and an apex on the onset or offset frame."""

from __future__ import annotations

import pytest

from microexpression_pipeline.pipelines.ingestion.nodes import build_clip_index
from microexpression_pipeline.pipelines.ingestion.schema import IngestionParams

from .conftest import CLEAN_SAMM, build_samm, samm_names, samm_row, source_spec

CLEAN_IDS = sorted(clip[1] for clip in CLEAN_SAMM)
EXTRA = "007_1_1"


def _index(tmp_path, ingestion_params, label_mappings, row, frames=range(3, 23), **params):
    """The clip index of the clean sheet plus ``row``, whose folder holds ``frames``."""
    root, sheet = build_samm(tmp_path, extra_rows=[row], image_files=False)
    folder = root / "007" / EXTRA
    folder.mkdir(parents=True)
    for name in samm_names(7, frames).values():
        (folder / name).touch()
    ingestion = IngestionParams.model_validate({**ingestion_params, **params})
    return build_clip_index(source_spec(root, sheet), ingestion, label_mappings)


def _only(quarantine, reason, action):
    rows = list(quarantine[["clip_id", "reason", "action"]].itertuples(index=False, name=None))
    assert rows == [(EXTRA, reason, action)]
    return quarantine.iloc[0]["detail"]


OUTSIDE = {
    # numbers a cell may hold: each was once accepted, or replaced by the nearest frame
    "negative_onset_number": ((-1, 10, 20), "onset '-1'"),
    "negative_onset_float": ((-1.0, 10, 20), "onset '-1'"),
    "negative_onset_text": (("-1", 10, 20), "onset '-1'"),
    "negative_apex_number": ((5, -7, 20), "apex '-7' is not a frame number"),
    "onset_before_first_frame": ((1, 10, 20), "onset frame 1 is outside the folder's frames 3-22"),
    "offset_after_last_frame": ((5, 10, 24), "offset frame 24 is outside the folder's frames"),
}


@pytest.mark.parametrize("case", sorted(OUTSIDE))
def test_key_frame_outside_the_clip_is_invalid(case, tmp_path, ingestion_params, label_mappings):
    (onset, apex, offset), detail = OUTSIDE[case]
    row = samm_row(7, EXTRA, onset, apex, offset)
    candidates, quarantine, stats = _index(tmp_path, ingestion_params, label_mappings, row)
    assert detail in _only(quarantine, "invalid_key_frame", "rejected")
    assert sorted(candidates["clip_id"]) == CLEAN_IDS
    assert stats["rows_read"] == len(candidates) + 1


def test_key_frames_inside_the_clip_are_kept(tmp_path, ingestion_params, label_mappings):
    row = samm_row(7, EXTRA, 3, 10, 22)  # the folder's first and last frames
    candidates, quarantine, _ = _index(tmp_path, ingestion_params, label_mappings, row)
    assert quarantine.empty
    kept = candidates.set_index("clip_id").loc[EXTRA]
    assert (kept["frame_numbers"][0], kept["frame_numbers"][-1]) == (3, 22)


def test_zero_length_event_rejected(tmp_path, ingestion_params, label_mappings):
    row = samm_row(7, EXTRA, 12, 12, 12)
    for policy in ("keep", "quarantine"):
        candidates, quarantine, _ = _index(
            tmp_path / policy, ingestion_params, label_mappings, row, apex_on_key_frame=policy
        )
        detail = _only(quarantine, "degenerate_key_frames", "rejected")
        assert "onset = apex = offset = 12: a zero-length event" in detail
        assert "sheet row" in detail
        assert sorted(candidates["clip_id"]) == CLEAN_IDS


@pytest.mark.parametrize("apex,which", [(5, "onset"), (20, "offset")])
def test_apex_on_onset_or_offset_follows_the_policy(
    apex, which, tmp_path, ingestion_params, label_mappings
):
    row = samm_row(7, EXTRA, 5, apex, 20)
    candidates, quarantine, stats = _index(
        tmp_path / "keep", ingestion_params, label_mappings, row, apex_on_key_frame="keep"
    )
    detail = _only(quarantine, "apex_on_key_frame", "noted")
    assert f"apex {apex} is the {which} frame" in detail
    kept = candidates.set_index("clip_id").loc[EXTRA]
    assert detail in kept["notes"]
    assert len(candidates) == stats["rows_read"]  # kept: noted rows are not rejections

    candidates, quarantine, _ = _index(
        tmp_path / "quarantine",
        ingestion_params,
        label_mappings,
        row,
        apex_on_key_frame="quarantine",
    )
    detail = _only(quarantine, "degenerate_key_frames", "rejected")
    assert "ingestion.apex_on_key_frame: keep" in detail
    assert sorted(candidates["clip_id"]) == CLEAN_IDS


def test_short_interval_noted_as_repeated_frames(tmp_path, ingestion_params, label_mappings):
    row = samm_row(7, EXTRA, 5, 7, 20)  # 3 frames wanted between onset 5 and apex 7
    candidates, quarantine, stats = _index(tmp_path, ingestion_params, label_mappings, row)
    detail = _only(quarantine, "repeated_frames", "noted")
    kept = candidates.set_index("clip_id").loc[EXTRA]
    assert f"the 9 selected are {kept['frame_numbers']}" in detail
    assert len(set(kept["frame_numbers"])) < 9 and len(candidates) == stats["rows_read"]
