"""Frame files as labs and cameras leave them: damaged scan data, links out of the dataset,
16-bit frames, hidden resource files, blank and unreadable frames. Each damaged clip gets its
reason; every other clip is stored exactly as from the clean copy."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest

from .conftest import CLEAN_SAMM, copy_dataset, damage_scan, extract_source, samm_names

CLEAN_IDS = [clip[1] for clip in CLEAN_SAMM]
CLIP = "006_1_3"  # onset 40, apex 44, offset 52; selected frames 40 41 42 43 44 46 48 50 52
FOLDER = Path("006") / CLIP


@pytest.fixture
def clean(image_dataset, ingestion_params, label_mappings, fixed_detector):
    return extract_source(*image_dataset, ingestion_params, label_mappings, fixed_detector)


def _run(root, sheet, ingestion_params, label_mappings, fixed_detector, **params):
    return extract_source(
        root, sheet, {**ingestion_params, **params}, label_mappings, fixed_detector
    )


def _assert_only_rejected(result, clean, reason, *, detail):
    """``CLIP`` is rejected for ``reason``; the other clips are exactly the clean ones."""
    clips, index, quarantine = result
    rows = list(quarantine[["clip_id", "reason", "action"]].itertuples(index=False, name=None))
    assert rows == [(CLIP, reason, "rejected")]
    assert detail in quarantine.iloc[0]["detail"], quarantine.iloc[0]["detail"]
    assert list(index["clip_id"]) == ["006_1_2", "017_3_1"]
    np.testing.assert_array_equal(clips["clips"], clean[0]["clips"][[0, 2]])


@pytest.mark.parametrize("how", ["zeroed", "missing", "second_half_zeroed"])
@pytest.mark.parametrize("frame", [40, 42])  # the onset (detection) frame, an in-between one
def test_damaged_scan_data_rejected(
    how, frame, image_dataset, clean, tmp_path, ingestion_params, label_mappings, fixed_detector
):
    root, sheet = copy_dataset(*image_dataset, tmp_path)
    path = root / FOLDER / samm_names(6, [frame])[frame]
    path.write_bytes(damage_scan(path.read_bytes(), how))
    result = _run(root, sheet, ingestion_params, label_mappings, fixed_detector)
    _assert_only_rejected(result, clean, "corrupt_frame", detail=f"{path.name} is a damaged JPEG")


def test_frame_linked_outside_the_root_rejected(
    image_dataset, clean, tmp_path, ingestion_params, label_mappings, fixed_detector
):
    root, sheet = copy_dataset(*image_dataset, tmp_path)
    outside = tmp_path / "elsewhere.jpg"
    frame = root / FOLDER / "006_00044.jpg"
    outside.write_bytes(frame.read_bytes())
    frame.unlink()
    frame.symlink_to(outside)
    result = _run(root, sheet, ingestion_params, label_mappings, fixed_detector)
    _assert_only_rejected(result, clean, "unsafe_path", detail=f"is a link to {outside}")


def test_frame_linked_inside_the_root_is_used(
    image_dataset, clean, tmp_path, ingestion_params, label_mappings, fixed_detector
):
    root, sheet = copy_dataset(*image_dataset, tmp_path)
    frame = root / FOLDER / "006_00044.jpg"
    kept = root / "shared" / "006_00044.jpg"
    kept.parent.mkdir()
    frame.rename(kept)
    frame.symlink_to(kept)
    clips, index, quarantine = _run(root, sheet, ingestion_params, label_mappings, fixed_detector)
    assert quarantine.empty and list(index["clip_id"]) == CLEAN_IDS
    np.testing.assert_array_equal(clips["clips"], clean[0]["clips"])


def test_hidden_and_system_files_ignored(
    image_dataset, clean, tmp_path, ingestion_params, label_mappings, fixed_detector
):
    root, sheet = copy_dataset(*image_dataset, tmp_path)
    for folder in {p.parent for p in root.rglob("*.jpg")}:
        for frame in list(folder.glob("*.jpg")):
            # macOS AppleDouble resource files: not images, same names with a "._" prefix
            (folder / f"._{frame.name}").write_bytes(b"\x00\x05\x16\x07" + bytes(4092))
        (folder / ".DS_Store").write_bytes(bytes(64))
        (folder / "Thumbs.db").write_bytes(bytes(64))
        (folder / "desktop.ini").write_text("[.ShellClassInfo]\r\n")
    clips, index, quarantine = _run(root, sheet, ingestion_params, label_mappings, fixed_detector)
    assert quarantine.empty and list(index["clip_id"]) == CLEAN_IDS
    assert index["frame_files"].tolist() == clean[1]["frame_files"].tolist()
    np.testing.assert_array_equal(clips["clips"], clean[0]["clips"])


@pytest.mark.parametrize("bits", [12, 16])
def test_16_bit_frames_scaled_by_their_bit_depth(
    bits, image_dataset, clean, tmp_path, ingestion_params, label_mappings, fixed_detector
):
    """A clip recorded as 16-bit PNGs (12-bit camera data, or the full range) is stored with
    the contrast of its 8-bit twin, not near black, and the scaling is noted."""
    root, sheet = copy_dataset(*image_dataset, tmp_path)
    for jpeg in sorted((root / FOLDER).glob("*.jpg")):
        gray8 = cv2.imread(str(jpeg), cv2.IMREAD_GRAYSCALE).astype(np.uint16)
        deep = gray8 * 16 if bits == 12 else gray8 * 257
        cv2.imwrite(str(jpeg.with_suffix(".png")), deep)
        jpeg.unlink()
    clips, index, quarantine = _run(root, sheet, ingestion_params, label_mappings, fixed_detector)
    assert quarantine.empty and list(index["clip_id"]) == CLEAN_IDS
    deep_clip, clean_clip = clips["clips"][1].astype(int), clean[0]["clips"][1].astype(int)
    assert np.abs(deep_clip - clean_clip).max() <= 2
    assert deep_clip.max() > 200
    assert f"16-bit frames with {bits}-bit data" in " ".join(index["notes"].iloc[1])
    np.testing.assert_array_equal(clips["clips"][[0, 2]], clean[0]["clips"][[0, 2]])


def test_blank_frame_rejected(
    image_dataset, clean, tmp_path, ingestion_params, label_mappings, fixed_detector
):
    root, sheet = copy_dataset(*image_dataset, tmp_path)
    cv2.imwrite(str(root / FOLDER / "006_00048.jpg"), np.zeros((240, 320), np.uint8))
    result = _run(root, sheet, ingestion_params, label_mappings, fixed_detector)
    _assert_only_rejected(result, clean, "blank_frame", detail="006_00048.jpg is blank")


def _deny(monkeypatch, method: str, locked: Path) -> None:
    """``Path.<method>`` raises PermissionError on ``locked`` (as chmod would, but the tests
    may run as root, whom chmod does not stop)."""
    original = getattr(Path, method)

    def guarded(path: Path, *args, **kwargs):
        if path == locked:
            raise PermissionError(13, os.strerror(13), str(path))
        return original(path, *args, **kwargs)

    monkeypatch.setattr(Path, method, guarded)


def test_unreadable_frame_rejected(
    image_dataset, clean, tmp_path, ingestion_params, label_mappings, fixed_detector, monkeypatch
):
    """A frame the user may not read (copied from another account): a reason, not a crash."""
    root, sheet = copy_dataset(*image_dataset, tmp_path)
    _deny(monkeypatch, "read_bytes", root / FOLDER / "006_00046.jpg")
    result = _run(root, sheet, ingestion_params, label_mappings, fixed_detector)
    _assert_only_rejected(
        result, clean, "unreadable_file", detail="006_00046.jpg cannot be read (Permission denied)"
    )


def test_padding_after_the_end_marker_is_accepted(
    image_dataset, clean, tmp_path, ingestion_params, label_mappings, fixed_detector
):
    """Cameras may pad a JPEG after its end marker: the image itself is intact."""
    root, sheet = copy_dataset(*image_dataset, tmp_path)
    frame = root / FOLDER / "006_00044.jpg"
    frame.write_bytes(frame.read_bytes() + bytes(4096))
    clips, index, quarantine = _run(root, sheet, ingestion_params, label_mappings, fixed_detector)
    assert quarantine.empty and list(index["clip_id"]) == CLEAN_IDS
    np.testing.assert_array_equal(clips["clips"], clean[0]["clips"])


def test_unlistable_clip_folder_rejected(
    image_dataset, clean, tmp_path, ingestion_params, label_mappings, fixed_detector, monkeypatch
):
    root, sheet = copy_dataset(*image_dataset, tmp_path)
    _deny(monkeypatch, "iterdir", root / FOLDER)
    result = _run(root, sheet, ingestion_params, label_mappings, fixed_detector)
    _assert_only_rejected(
        result, clean, "unreadable_file", detail="cannot be listed (Permission denied)"
    )


def test_clip_folder_that_is_a_file_rejected(
    image_dataset, clean, tmp_path, ingestion_params, label_mappings, fixed_detector
):
    root, sheet = copy_dataset(*image_dataset, tmp_path)
    shutil.rmtree(root / FOLDER)
    (root / FOLDER).write_bytes(b"")
    result = _run(root, sheet, ingestion_params, label_mappings, fixed_detector)
    _assert_only_rejected(result, clean, "missing_clip_folder", detail="is a file, not a folder")


def test_png_named_jpg_read_by_content(
    image_dataset, clean, tmp_path, ingestion_params, label_mappings, fixed_detector
):
    root, sheet = copy_dataset(*image_dataset, tmp_path)
    frame = root / FOLDER / "006_00044.jpg"
    pixels = cv2.imread(str(frame), cv2.IMREAD_GRAYSCALE)
    frame.write_bytes(cv2.imencode(".png", pixels)[1].tobytes())
    clips, index, quarantine = _run(root, sheet, ingestion_params, label_mappings, fixed_detector)
    assert quarantine.empty and list(index["clip_id"]) == CLEAN_IDS
    np.testing.assert_array_equal(clips["clips"], clean[0]["clips"])  # same pixels, lossless
