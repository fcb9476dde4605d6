"""Fixture datasets for the ingestion tests: astronaut-face frames in SAMM / CASME II layouts."""

from __future__ import annotations

import shutil
from collections.abc import Iterable, Mapping
from functools import cache
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pandas as pd
import pytest
import yaml
from skimage import data as skdata

from microexpression_pipeline.pipelines.ingestion.nodes import build_clip_index, extract_clips
from microexpression_pipeline.pipelines.ingestion.schema import IngestionParams

PROJECT_ROOT = Path(__file__).resolve().parents[3]
SAMM_COLUMNS = [
    "Subject",
    "Filename",
    "Inducement Code",
    "Onset Frame",
    "Apex Frame",
    "Offset Frame",
    "Duration",
    "Micro",
    "Action Units",
    "Estimated Emotion",
    "Objective Classes",
    "Notes",
]
CASME_COLUMNS = [
    "Subject",
    "Filename",
    None,
    "OnsetFrame",
    "ApexFrame",
    "OffsetFrame",
    None,
    "Action Units",
    "Estimated Emotion",
]
# MTCNN on skimage's astronaut (512 x 512): face box centre and eye centres, in its pixels.
ASTRONAUT_FACE_CENTRE = (224.5, 117.0)
ASTRONAUT_EYES = ((203.0, 100.0), (246.0, 103.0))
FRAME_SIZE = (320, 240)  # width, height
FACE_SIDE = 200
FACE_OFFSET = (60, 20)


@cache
def _astronaut(side: int) -> np.ndarray:
    return cv2.resize(skdata.astronaut(), (side, side), interpolation=cv2.INTER_AREA)


def face_frame(
    frame: int,
    *,
    size: tuple[int, int] = FRAME_SIZE,
    face_side: int = FACE_SIDE,
    offset: tuple[int, int] = FACE_OFFSET,
    blank: bool = False,
) -> np.ndarray:
    """An RGB frame: the astronaut pasted on a grey background, brightness varying by frame.

    A ``blank`` frame has no face, only a grey gradient (a uniform frame would be rejected
    as a dropped camera frame)."""
    width, height = size
    image = np.full((height, width, 3), 90, np.uint8)
    if blank:
        image[:] = np.linspace(40, 140, width, dtype=np.uint8)[None, :, None]
    else:
        image[offset[1] : offset[1] + face_side, offset[0] : offset[0] + face_side] = _astronaut(
            face_side
        )
    return np.clip(image.astype(int) + (frame % 10) * 2, 0, 255).astype(np.uint8)


def face_centre_in_frame(
    face_side: int = FACE_SIDE, offset: tuple[int, int] = FACE_OFFSET
) -> tuple[float, float]:
    """The known face centre of ``face_frame`` images, in raw pixels."""
    scale = face_side / 512
    return (
        offset[0] + ASTRONAUT_FACE_CENTRE[0] * scale,
        offset[1] + ASTRONAUT_FACE_CENTRE[1] * scale,
    )


def write_frames(
    folder: Path,
    names: Mapping[int, str],
    *,
    gray: bool,
    blank: bool = False,
    **frame_args: Any,
) -> None:
    """Write one JPEG per frame number, named as ``names`` says."""
    folder.mkdir(parents=True, exist_ok=True)
    for number, name in names.items():
        image = face_frame(number, blank=blank, **frame_args)
        image = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY if gray else cv2.COLOR_RGB2BGR)
        cv2.imwrite(str(folder / name), image)


def samm_names(subject: int, frames: Iterable[int], pad: int = 5) -> dict[int, str]:
    return {f: f"{subject:03d}_{f:0{pad}d}.jpg" for f in frames}


def samm_row(
    subject: int,
    filename: str,
    onset: Any,
    apex: Any,
    offset: Any,
    emotion: str = "Happiness",
) -> dict[str, Any]:
    return {
        "Subject": subject,
        "Filename": filename,
        "Inducement Code": 1,
        "Onset Frame": onset,
        "Apex Frame": apex,
        "Offset Frame": offset,
        "Duration": 0,
        "Micro": "Micro - 1/2",
        "Action Units": "12",
        "Estimated Emotion": emotion,
        "Objective Classes": 1,
        "Notes": None,
    }


def write_sheet(path: Path, rows: list[dict[str, Any]], columns: list[Any], title_rows=0) -> Path:
    """Write a sheet as .xlsx (with ``title_rows`` title/blank rows above) or .csv."""
    body = [[row.get(c) if c else None for c in columns] for row in rows]
    header = [c or None for c in columns]
    titles = [["SAMM Micro FACS Codes"] + [None] * (len(columns) - 1)] + [
        [None] * len(columns) for _ in range(max(0, title_rows - 1))
    ]
    grid = (titles[:title_rows] if title_rows else []) + [header, *body]
    frame = pd.DataFrame(grid, dtype=object)
    if path.suffix == ".csv":
        frame.to_csv(path, header=False, index=False)
    else:
        frame.to_excel(path, header=False, index=False)
    return path


# Three clean SAMM clips (subject, filename, onset, apex, offset, emotion, padding).
CLEAN_SAMM = [
    (6, "006_1_2", 100, 108, 116, "Anger", 5),
    (6, "006_1_3", 40, 44, 52, "Happiness", 5),
    (17, "017_3_1", 1395, 1401, 1411, "Other", 4),
]


def build_samm(
    root: Path,
    clips: list[tuple] = CLEAN_SAMM,
    extra_rows: list[dict[str, Any]] = (),
    *,
    sheet_name: str = "samm.xlsx",
    title_rows: int = 13,
    image_files: bool = True,
) -> tuple[Path, Path]:
    """A SAMM-layout dataset: frames onset-2 .. offset+2 of each clip, and its sheet.

    With ``image_files=False`` the frame files are empty (enough for the clip index).
    """
    data_root = root / "SAMM"
    rows = []
    for subject, filename, onset, apex, offset, emotion, pad in clips:
        folder = data_root / f"{subject:03d}" / filename
        names = samm_names(subject, range(onset - 2, offset + 3), pad)
        if image_files:
            write_frames(folder, names, gray=True)
        else:
            folder.mkdir(parents=True, exist_ok=True)
            for name in names.values():
                (folder / name).touch()
        rows.append(samm_row(subject, filename, onset, apex, offset, emotion))
    sheet = write_sheet(root / sheet_name, rows + list(extra_rows), SAMM_COLUMNS, title_rows)
    return data_root, sheet


def build_casme(root: Path) -> tuple[Path, Path]:
    """A CASME II-layout dataset with two clips (one apex given as '/')."""
    data_root = root / "CASME2_RAW_selected"
    rows = []
    for subject, filename, onset, apex, offset, emotion in [
        (1, "EP02_01f", 46, 59, 86, "happiness"),
        (2, "EP03_02", 10, "/", 30, "repression"),
    ]:
        folder = data_root / f"sub{subject:02d}" / filename
        write_frames(folder, {f: f"img{f}.jpg" for f in range(onset, offset + 1)}, gray=False)
        rows.append(
            {
                "Subject": subject,
                "Filename": filename,
                "OnsetFrame": onset,
                "ApexFrame": apex,
                "OffsetFrame": offset,
                "Action Units": "12",
                "Estimated Emotion": emotion,
            }
        )
    sheet = write_sheet(root / "casme2.xlsx", rows, CASME_COLUMNS)
    return data_root, sheet


@pytest.fixture(scope="session")
def ingestion_params() -> dict[str, Any]:
    """The project's ingestion parameters with small, fast settings."""
    params = yaml.safe_load((PROJECT_ROOT / "conf/base/parameters_ingestion.yml").read_text())
    section = params["ingestion"]
    section.update(image_size=32, workers=2)
    return section


@pytest.fixture(scope="session")
def label_mappings() -> dict[str, Any]:
    return yaml.safe_load((PROJECT_ROOT / "conf/base/parameters.yml").read_text())["label_mappings"]


@pytest.fixture(scope="session")
def mtcnn_detector():
    """The real MTCNN detector, loaded once per test session."""
    from microexpression_pipeline.pipelines.ingestion.faces import default_detector

    return default_detector()


class FixedFaceDetector:
    """Returns the astronaut face of ``face_frame`` images; nothing on blank frames."""

    def __init__(self) -> None:
        self.calls = 0

    def detect_faces(self, image: Any, **kwargs: Any) -> list[Any]:
        if isinstance(image, list):
            return [self.detect_faces(item) for item in image]
        self.calls += 1
        if image.std(axis=0).max() < 1.0:  # no face: every column is one grey (blank frame)
            return []
        # Coordinates are in the (possibly downscaled) image the detector receives.
        scale = image.shape[1] / FRAME_SIZE[0] * FACE_SIDE / 512
        ox, oy = (
            FACE_OFFSET[0] * image.shape[1] / FRAME_SIZE[0],
            FACE_OFFSET[1] * (image.shape[1] / FRAME_SIZE[0]),
        )
        (lx, ly), (rx, ry) = ASTRONAUT_EYES
        return [
            {
                "box": [ox + 182 * scale, oy + 62 * scale, 85 * scale, 110 * scale],
                "confidence": 0.99,
                "keypoints": {
                    "left_eye": [ox + lx * scale, oy + ly * scale],
                    "right_eye": [ox + rx * scale, oy + ry * scale],
                },
            }
        ]


@pytest.fixture
def fixed_detector() -> FixedFaceDetector:
    return FixedFaceDetector()


def source_spec(root: Path, sheet: Path) -> dict[str, Any]:
    """The in-memory raw source of a SAMM-layout fixture dataset."""
    return {"name": "samm", "enabled": True, "format": "samm", "root": str(root),
            "metadata": str(sheet)}  # fmt: skip


def extract_source(root: Path, sheet: Path, params: dict, label_mappings: dict, detector: Any):
    """Clips, clip index and quarantine (both stages) of a SAMM-layout dataset."""
    ingestion = IngestionParams.model_validate(params)
    source = source_spec(root, sheet)
    candidates, indexing, stats = build_clip_index(source, ingestion, label_mappings)
    clips, index, extraction, _ = extract_clips(candidates, source, stats, ingestion, detector)
    return clips, index, pd.concat([indexing, extraction], ignore_index=True)


def copy_dataset(root: Path, sheet: Path, tmp_path: Path) -> tuple[Path, Path]:
    """A copy of a fixture dataset (to damage) and its sheet."""
    shutil.copytree(root, tmp_path / "SAMM")
    shutil.copy2(sheet, tmp_path / sheet.name)
    return tmp_path / "SAMM", tmp_path / sheet.name


@pytest.fixture
def image_dataset(tmp_path_factory) -> tuple[Path, Path]:
    """Three clean SAMM clips with real frame images, and their sheet."""
    return build_samm(tmp_path_factory.mktemp("images"), title_rows=0)


def damage_scan(data: bytes, how: str) -> bytes:
    """The JPEG with its scan data (between the start-of-scan header and EOI) damaged; the
    start and end markers stay intact."""
    sos = data.index(b"\xff\xda")
    start = sos + 2 + int.from_bytes(data[sos + 2 : sos + 4], "big")
    end = len(data) - 2
    middle = (start + end) // 2
    scan = {
        "zeroed": b"\x00" * (end - start),
        "missing": b"",
        "second_half_zeroed": data[start:middle] + b"\x00" * (end - middle),
        "cut_in_half": data[start:middle],
    }[how]
    return data[:start] + scan + data[end:]
