"""``ingestion.magnification``: with it on, every frame of the event is cropped and
magnified before the 9 frames are selected; the clips change only where the face moves,
and the clip index and the summary record it."""

from __future__ import annotations

import re
from pathlib import Path

import cv2
import numpy as np
import pandas as pd
import pytest

from microexpression_pipeline.parameters import ParameterError
from microexpression_pipeline.pipelines.ingestion.nodes import (
    build_clip_index,
    extract_clips,
    summarise_ingestion,
)
from microexpression_pipeline.pipelines.ingestion.schema import IngestionParams

from .conftest import (
    SAMM_COLUMNS,
    FixedFaceDetector,
    face_frame,
    samm_row,
    source_spec,
    write_sheet,
)

MOUTH = (148.0, 80.0)  # a raw-frame point below the astronaut's nose, inside the crop
# (subject, filename, onset, apex, offset); frame 44 of the second clip (not a selected
# frame: 40, 42, 43, 45, 46, 50, 53, 57, 60) is missing.
CLIPS = [(6, "006_1_2", 100, 110, 130), (7, "007_1_1", 40, 46, 60)]
MISSING = (7, 44)


def _moving_frames(numbers: range, onset: int, offset: int) -> dict[int, np.ndarray]:
    """Grey frames of a still face whose region around MOUTH moves down by up to 1 px
    (a smooth bump from onset to offset); the rest of the frame never changes."""
    base = cv2.cvtColor(face_frame(0), cv2.COLOR_RGB2GRAY).astype(np.float32)
    yy, xx = np.mgrid[0 : base.shape[0], 0 : base.shape[1]].astype(np.float32)
    bump = np.exp(-((xx - MOUTH[0]) ** 2 + (yy - MOUTH[1]) ** 2) / (2 * 6.0**2))
    frames = {}
    for number in numbers:
        shift = np.sin(np.pi * np.clip((number - onset) / (offset - onset), 0, 1))
        moved = cv2.remap(base, xx, (yy - shift * bump).astype(np.float32), cv2.INTER_LINEAR)
        frames[number] = np.rint(moved).astype(np.uint8)
    return frames


@pytest.fixture(scope="module")
def moving_dataset(tmp_path_factory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("magnify")
    rows = []
    for subject, filename, onset, apex, offset in CLIPS:
        folder = root / "SAMM" / f"{subject:03d}" / filename
        folder.mkdir(parents=True)
        for number, image in _moving_frames(range(onset - 2, offset + 3), onset, offset).items():
            if (subject, number) != MISSING:
                cv2.imwrite(str(folder / f"{subject:03d}_{number:05d}.jpg"), image)
        rows.append(samm_row(subject, filename, onset, apex, offset))
    return root / "SAMM", write_sheet(root / "samm.xlsx", rows, SAMM_COLUMNS)


def _ingest(dataset, params, label_mappings, detector, **magnification):
    ingestion = IngestionParams.model_validate(
        {**params, "magnification": {**params["magnification"], **magnification}}
    )
    source = source_spec(*dataset)
    candidates, indexing, stats = build_clip_index(source, ingestion, label_mappings)
    clips, index, extraction, timing = extract_clips(candidates, source, stats, ingestion, detector)
    _, summary, _ = summarise_ingestion(stats, indexing, extraction, index, timing, ingestion)
    return clips["clips"], index, summary


@pytest.fixture(scope="module")
def runs(moving_dataset, ingestion_params, label_mappings):
    plain = _ingest(moving_dataset, ingestion_params, label_mappings, FixedFaceDetector())
    magnified = _ingest(
        moving_dataset, ingestion_params, label_mappings, FixedFaceDetector(), enabled=True
    )
    return plain, magnified


def test_off_by_default_changes_nothing(runs):
    (clips, index, summary), _ = runs
    assert "event_frame_files" not in index
    assert not any("magnif" in note for notes in index["notes"] for note in notes)
    assert summary["magnification"] == {"enabled": False}
    assert clips.shape == (2, 9, 32, 32)


def test_clips_differ_only_where_the_face_moves(runs):
    (plain, plain_index, _), (magnified, index, _) = runs
    assert magnified.shape == plain.shape and len(index) == len(plain_index) == 2
    assert list(index["clip_id"]) == list(plain_index["clip_id"])
    for still, moved in zip(plain.astype(int), magnified.astype(int), strict=True):
        changing = np.abs(still - still[0]).max(axis=0) > 0  # where the plain clip changes
        near = cv2.dilate(changing.astype(np.uint8), np.ones((5, 5), np.uint8)) > 0
        difference = np.abs(moved - still).max(axis=0)
        assert 0.1 < near.mean() < 0.7  # the moving region is part of the crop only
        assert difference[~near].max() == 0  # measured: 0
        assert difference[~changing].max() <= 1  # rounding at most (measured: 1)
        assert difference[near].max() > 20  # measured: ~60
        # the apex frame's change from onset is magnified (measured ratio 4.0 at x5)
        gain = np.abs(moved[4] - moved[0]).sum() / np.abs(still[4] - still[0]).sum()
        assert gain > 1.5


def test_the_clip_index_and_summary_record_it(runs):
    _, (_, index, summary) = runs
    record = {
        "enabled": True,
        "amplification": 5.0,
        "low_hz": 0.5,
        "high_hz": 12.0,
        "levels": 4,
        "cutoff_wavelength_px": 4.0,
        "fps": 200.0,
    }
    assert summary["magnification"] == {**record, "clips_magnified": 2}
    assert summary["kept"] == 2 and summary["rejected"] == 0
    first, second = index["notes"]
    assert first == [
        "magnified: motion x5 in 0.5-12 Hz at 200 fps, 4 levels, cutoff wavelength 4 px, "
        "over frames 100-130 (31 frames)"
    ]
    assert (
        "magnification: frames 44 missing between the first and last selected frames" in (second[0])
    )
    assert second[1].endswith("over frames 40-60 (21 frames)")
    events = index["event_frame_files"]
    assert [len(files) for files in events] == [31, 21]
    assert events[1][4] == "007_00043.jpg"  # 44 missing: the nearest, earlier on a tie
    assert all(set(sel) <= set(ev) for sel, ev in zip(index["frame_files"], events, strict=True))
    assert isinstance(index, pd.DataFrame)


def test_a_band_above_nyquist_is_refused(ingestion_params):
    params = {**ingestion_params, "magnification": {"enabled": True, "high_hz": 100.0}}
    with pytest.raises(
        ParameterError, match=re.escape("high_hz: 100.0 Hz is not below fps/2 = 100 Hz")
    ):
        IngestionParams.model_validate(params)
