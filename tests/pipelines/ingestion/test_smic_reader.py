"""SMIC-HS read from its folder tree: the clip index, the apex choice and every broken tree."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pandas as pd
import pytest

from microexpression_pipeline.parameters import ParameterError
from microexpression_pipeline.pipelines.ingestion.apex_motion import max_motion_apex
from microexpression_pipeline.pipelines.ingestion.nodes import (
    build_clip_index,
    extract_clips,
    summarise_ingestion,
)
from microexpression_pipeline.pipelines.ingestion.raw_sources import (
    RawDataError,
    existing_paths,
    point_at_sample,
)
from microexpression_pipeline.pipelines.ingestion.schema import IngestionParams

from .conftest import face_frame


def frame(number: int, *, patch: int = 0, size: tuple[int, int] = (24, 16)) -> np.ndarray:
    """A tiny BGR frame: a gradient varying a little by frame, a bright patch if ``patch``."""
    width, height = size
    row = np.linspace(30, 200, width, dtype=np.uint8)
    image = np.repeat(np.tile(row, (height, 1))[..., None], 3, axis=2) + number % 3
    image[2:8, 2:8] += np.uint8(patch)
    return image


def write_clip(
    root: Path,
    path: str,
    numbers: range | list[int],
    *,
    name: str = "image{:06d}.bmp",
    patches: dict[int, int] | None = None,
) -> Path:
    """Frames ``numbers`` of ``root/<subject>/micro/<emotion>/<clip>`` (``path``)."""
    subject, emotion, clip = path.split("/")
    folder = root / subject / "micro" / emotion / clip
    folder.mkdir(parents=True, exist_ok=True)
    for number in numbers:
        image = frame(number, patch=(patches or {}).get(number, 0))
        assert cv2.imwrite(str(folder / name.format(number)), image)
    return folder


def source(root: Path) -> dict[str, Any]:
    return {"name": "smic", "enabled": True, "format": "smic", "root": str(root.resolve()),
            "metadata": None}  # fmt: skip


def params(ingestion_params: dict, **changes: Any) -> IngestionParams:
    return IngestionParams.model_validate({**ingestion_params, "min_kept_fraction": 0.0, **changes})


def index(root: Path, ingestion_params: dict, label_mappings: dict, **changes: Any):
    """Candidates, index quarantine and statistics of the tree under ``root``."""
    ingestion = params(ingestion_params, **changes)
    return build_clip_index(source(root), ingestion, label_mappings)


def only(quarantine: pd.DataFrame, reason: str, action: str) -> pd.DataFrame:
    found = quarantine[quarantine["reason"] == reason]
    assert len(found) >= 1 and set(found["action"]) == {action}, quarantine.to_dict("records")
    return found


def accounted(candidates: pd.DataFrame, quarantine: pd.DataFrame, stats: dict) -> bool:
    rejected = (quarantine["action"] == "rejected").sum()
    return len(candidates) + rejected == stats["rows_read"]


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """Two subjects, three emotions; frame numbers padded in unusual ways in one clip."""
    root = tmp_path / "HS"
    write_clip(root, "s1/negative/s1_ne_01", range(46176, 46188))
    write_clip(root, "s1/positive/s1_po_01", range(9, 21), name="img{}.bmp")
    write_clip(root, "s2/surprise/s2_sur_01", range(500, 513), name="image{:08d}.BMP")
    return root


def test_a_tree_is_indexed_from_its_folders(tree, ingestion_params, label_mappings):
    candidates, quarantine, stats = index(tree, ingestion_params, label_mappings)
    assert quarantine.empty
    rows = candidates.set_index("clip_id")
    assert list(rows.index) == ["s1_ne_01", "s1_po_01", "s2_sur_01"]
    assert list(rows["subject"]) == ["s1", "s1", "s2"]
    assert list(rows["emotion"]) == ["negative", "positive", "surprise"]
    assert (rows.loc["s1_ne_01", "onset"], rows.loc["s1_ne_01", "offset"]) == (46176, 46187)
    assert (rows.loc["s1_po_01", "onset"], rows.loc["s1_po_01", "offset"]) == (9, 20)
    assert rows.loc["s2_sur_01", "frame_files"][0] == "image00000500.BMP"
    # middle apex: onset + (offset - onset) // 2
    assert list(rows["apex"]) == [46181, 14, 506]
    assert set(rows["apex_source"]) == {"middle"} and set(rows["action_units"]) == {""}
    assert list(rows["sheet_row"]) == [1, 2, 3]  # folder N of the walk
    assert Path(rows.loc["s1_ne_01", "source_folder"]).parts[-4:] == (
        "s1", "micro", "negative", "s1_ne_01",
    )  # fmt: skip
    assert all(len(files) == 9 for files in rows["frame_files"])
    assert stats["rows_read"] == 3 and stats["metadata"] is None
    assert stats["layout"] == "folders" and stats["apex_method"] == "middle"
    assert stats["emotions_read"] == {"negative": 1, "positive": 1, "surprise": 1}


def test_max_motion_apex_is_the_frame_most_unlike_the_onset(tmp_path, ingestion_params,
                                                            label_mappings):  # fmt: skip
    root = tmp_path / "HS"
    write_clip(root, "s1/negative/s1_ne_01", range(100, 113), patches={103: 20, 107: 60, 108: 30})
    # two frames equally far from the onset: the earlier is the apex
    write_clip(root, "s1/positive/s1_po_01", range(10, 21), patches={14: 50, 16: 50})
    candidates, quarantine, stats = index(
        root, ingestion_params, label_mappings, smic_apex="max_motion"
    )
    assert quarantine.empty
    assert list(candidates["apex"]) == [107, 14]
    assert set(candidates["apex_source"]) == {"max_motion"}
    assert stats["apex_method"] == "max_motion"
    middle, _, _ = index(root, ingestion_params, label_mappings)
    assert list(middle["apex"]) == [106, 15]


def test_max_motion_compares_frames_of_at_most_128_px(tmp_path):
    folder = tmp_path / "clip"
    folder.mkdir()
    frames = {}
    for number in range(5):
        image = np.full((480, 640, 3), 80, np.uint8)
        if number == 3:
            image[200:260, 300:380] = 200
        frames[number] = f"image{number:06d}.bmp"
        cv2.imwrite(str(folder / frames[number]), image)
    assert max_motion_apex(folder, frames) == 3


def test_stray_files_in_a_clip_folder_are_noted_and_the_clip_kept(tree, ingestion_params,
                                                                   label_mappings):  # fmt: skip
    folder = tree / "s1/micro/negative/s1_ne_01"
    (folder / "Thumbs.db").write_bytes(b"\x00" * 10)
    (folder / "notes.txt").write_text("x")
    (folder / ".DS_Store").write_bytes(b"")  # hidden: ignored, as everywhere
    candidates, quarantine, stats = index(tree, ingestion_params, label_mappings)
    assert "s1_ne_01" in set(candidates["clip_id"])
    detail = only(quarantine, "unexpected_entry", "noted")["detail"].item()
    assert "Thumbs.db" in detail and "notes.txt" in detail and ".DS_Store" not in detail
    assert str(folder) in detail
    notes = candidates.set_index("clip_id").loc["s1_ne_01", "notes"]
    assert any("Thumbs.db" in note for note in notes)
    assert accounted(candidates, quarantine, stats)


def test_a_clip_folder_without_images_is_rejected(tree, ingestion_params, label_mappings):
    empty = tree / "s1/micro/negative/s1_ne_02"
    empty.mkdir()
    text_only = tree / "s1/micro/negative/s1_ne_03"
    text_only.mkdir()
    (text_only / "notes.txt").write_text("x")
    candidates, quarantine, stats = index(tree, ingestion_params, label_mappings)
    rejected = only(quarantine, "missing_frame", "rejected").set_index("clip_id")
    assert set(rejected.index) == {"s1_ne_02", "s1_ne_03"}
    assert str(empty) in rejected.loc["s1_ne_02", "detail"]
    assert "notes.txt" in rejected.loc["s1_ne_03", "detail"]
    assert stats["rows_read"] == 5 and len(candidates) == 3
    assert accounted(candidates, quarantine, stats)


def test_a_corrupt_frame_is_rejected_by_extraction(tmp_path, ingestion_params, label_mappings,
                                                   fixed_detector):  # fmt: skip
    root = tmp_path / "HS"
    for clip in ("s1_ne_01", "s1_ne_02"):
        folder = root / "s1/micro/negative" / clip
        folder.mkdir(parents=True)
        for number in range(20, 29):
            image = cv2.cvtColor(face_frame(number), cv2.COLOR_RGB2BGR)
            cv2.imwrite(str(folder / f"image{number:06d}.bmp"), image)
    broken = root / "s1/micro/negative/s1_ne_02/image000024.bmp"
    broken.write_bytes(broken.read_bytes()[:200])  # truncated: its pixel data is gone
    ingestion = params(ingestion_params)
    raw = source(root)
    candidates, indexing, stats = build_clip_index(raw, ingestion, label_mappings)
    assert len(candidates) == 2  # the index does not decode frames with the middle apex
    clips, clip_index, extraction, timing = extract_clips(
        candidates, raw, stats, ingestion, fixed_detector
    )
    assert list(clip_index["clip_id"]) == ["s1_ne_01"] and len(clips["clips"]) == 1
    detail = only(extraction, "corrupt_frame", "rejected")["detail"].item()
    assert "image000024.bmp" in detail
    quarantine, summary, _ = summarise_ingestion(
        stats, indexing, extraction, clip_index, timing, ingestion
    )
    assert list(quarantine["reason"]) == ["corrupt_frame"]
    assert summary["metadata"] is None and summary["layout"] == "folders"
    assert summary["apex_method"] == "middle" and summary["apex_by_source"] == {"middle": 1}
    assert (summary["rows_read"], summary["kept"], summary["rejected"]) == (2, 1, 1)
    assert summary["by_emotion"]["negative"] == {
        "read": 2, "kept": 1, "rejected_by_reason": {"corrupt_frame": 1},
    }  # fmt: skip


def test_a_corrupt_frame_is_rejected_by_max_motion(tree, ingestion_params, label_mappings):
    broken = tree / "s1/micro/negative/s1_ne_01/image046180.bmp"
    broken.write_bytes(b"not an image at all")
    candidates, quarantine, stats = index(
        tree, ingestion_params, label_mappings, smic_apex="max_motion"
    )
    detail = only(quarantine, "corrupt_frame", "rejected")["detail"].item()
    assert "image046180.bmp" in detail and "s1_ne_01" in detail
    assert "s1_ne_01" not in set(candidates["clip_id"])
    assert accounted(candidates, quarantine, stats)


def test_an_unknown_emotion_folder_is_rejected(tree, ingestion_params, label_mappings):
    write_clip(tree, "s2/Negative /s2_ne_01", range(10, 20))
    write_clip(tree, "s2/happy/s2_ha_01", range(10, 20))
    write_clip(tree, "s2/Negative/s2_ne_02", range(10, 20))  # case does not matter
    candidates, quarantine, stats = index(tree, ingestion_params, label_mappings)
    rejected = only(quarantine, "unknown_emotion", "rejected").set_index("clip_id")
    assert set(rejected.index) == {"s2_ne_01", "s2_ha_01"}
    spaced = rejected.loc["s2_ne_01", "detail"]
    assert "'Negative '" in spaced and "spaces" in spaced
    assert "negative, positive, surprise" in rejected.loc["s2_ha_01", "detail"]
    assert candidates.set_index("clip_id").loc["s2_ne_02", "emotion"] == "negative"
    assert accounted(candidates, quarantine, stats)


def test_links_out_of_the_root_are_rejected(tree, tmp_path, ingestion_params, label_mappings):
    outside = tmp_path / "outside"
    write_clip(outside, "s9/negative/s9_ne_01", range(10, 20))
    far_clip = write_clip(outside, "s8/negative/s3_ne_01", range(10, 20))
    (tree / "s9").symlink_to(outside / "s9", target_is_directory=True)
    (tree / "s3/micro/negative").mkdir(parents=True)
    (tree / "s3/micro/negative/s3_ne_01").symlink_to(far_clip, target_is_directory=True)
    linked = tree / "s1/micro/negative/s1_ne_01/image046180.bmp"
    linked.unlink()
    linked.symlink_to(far_clip / "image000010.bmp")
    candidates, quarantine, stats = index(tree, ingestion_params, label_mappings)
    rejected = only(quarantine, "unsafe_path", "rejected").set_index("clip_id")
    assert set(rejected.index) == {"s9", "s3_ne_01", "s1_ne_01"}
    assert all("outside" in detail for detail in rejected["detail"])
    assert "image046180.bmp" in rejected.loc["s1_ne_01", "detail"]
    assert list(candidates["clip_id"]) == ["s1_po_01", "s2_sur_01"]
    assert stats["rows_read"] == 5  # a linked subject folder is not entered: one folder read
    assert accounted(candidates, quarantine, stats)


def test_what_the_layout_does_not_expect_is_noted(tree, ingestion_params, label_mappings):
    (tree / "s4/macro/negative/s4_ne_01").mkdir(parents=True)
    (tree / "README.txt").write_text("x")
    (tree / "s1/micro/notes.txt").write_text("x")
    (tree / "s1/micro/negative/list.csv").write_text("x")
    (tree / "s1/micro/surprise").mkdir()
    candidates, quarantine, stats = index(tree, ingestion_params, label_mappings)
    noted = only(quarantine, "unexpected_entry", "noted").set_index("clip_id")
    assert set(noted.index) == {"README.txt", "s4", "notes.txt", "list.csv", "surprise"}
    assert "macro/" in noted.loc["s4", "detail"] and "micro/" in noted.loc["s4", "detail"]
    assert "no clip folder" in noted.loc["surprise", "detail"]
    assert len(candidates) == 3 and stats["rows_read"] == 3
    assert accounted(candidates, quarantine, stats)


def test_a_clip_name_in_two_folders_is_rejected(tree, ingestion_params, label_mappings):
    write_clip(tree, "s1/positive/s1_ne_01", range(10, 20))
    candidates, quarantine, stats = index(tree, ingestion_params, label_mappings)
    rejected = only(quarantine, "duplicate_clip_id", "rejected")
    assert len(rejected) == 2 and "s1_ne_01" not in set(candidates["clip_id"])
    assert accounted(candidates, quarantine, stats)


def test_a_root_without_clips_names_the_layout(tree, tmp_path, ingestion_params, label_mappings):
    empty = tmp_path / "empty"
    (empty / "s1/macro").mkdir(parents=True)
    with pytest.raises(RawDataError) as error:
        index(empty, ingestion_params, label_mappings)
    text = str(error.value)
    assert str(empty) in text and "<subject>/micro/<emotion>/<clip>" in text
    assert "ingestion.sources.<data_source>.smic.root" in text
    with pytest.raises(RawDataError, match=r"subject folder: set root to .*HS\."):
        index(tree / "s1", ingestion_params, label_mappings)  # a subject folder


def test_a_tree_keeping_too_few_clips_stops_the_run(tree, ingestion_params, label_mappings):
    for folder in ("s1/micro/negative/s1_ne_01", "s1/micro/positive/s1_po_01"):
        for image in (tree / folder).iterdir():
            image.unlink()
    with pytest.raises(RawDataError, match="kept 1 of the 3 clip folders under"):
        index(tree, ingestion_params, label_mappings, min_kept_fraction=0.5)


def test_metadata_is_required_for_sheets_and_refused_for_smic(ingestion_params):
    sources = ingestion_params["sources"]
    real = {**sources["real"], "smic": {**sources["real"]["smic"], "metadata": "x.xlsx"}}
    samm = {key: value for key, value in sources["real"]["samm"].items() if key != "metadata"}
    broken = {**sources, "real": {**real, "samm": samm}}
    with pytest.raises(ParameterError) as error:
        IngestionParams.model_validate({**ingestion_params, "sources": broken})
    text = str(error.value)
    assert "ingestion.sources.real.samm.metadata is missing" in text
    assert "ingestion.sources.real.smic.metadata: format smic has no metadata sheet" in text
    assert IngestionParams.model_validate(ingestion_params).magnification.fps["smic"] == 100


def test_a_sample_without_smic_disables_it(tmp_path, caplog):
    specs = [
        {"name": "samm", "enabled": True, "format": "samm", "root": "a", "metadata": "b"},
        {"name": "smic", "enabled": True, "format": "smic", "root": "c", "metadata": None},
    ]
    sample = {"samm_root": str(tmp_path), "samm_metadata_xlsx": str(tmp_path / "s.xlsx"),
              "casme2_root": "", "casme2_metadata_xlsx": ""}  # fmt: skip
    with caplog.at_level(logging.WARNING):
        samm, smic = point_at_sample(specs, sample)
    assert samm["enabled"] and not smic["enabled"]
    assert "no smic part" in caplog.text
    (tmp_path / "HS").mkdir()
    smic_spec = {**specs[1], "root": str(tmp_path / "HS")}
    (checked,) = existing_paths("real", [smic_spec])  # no metadata file needed
    assert checked["root"] == str((tmp_path / "HS").resolve())
