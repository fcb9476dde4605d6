"""The sample's files are laid out and described exactly like SAMM's and CASME II's (SMIC-HS:
test_smic_sample.py)."""

from __future__ import annotations

import re
from pathlib import Path

import cv2
import numpy as np
import openpyxl
import pandas as pd

from microexpression_pipeline.synthetic import casme2_format, samm_format
from microexpression_pipeline.synthetic.design import scaled_counts
from microexpression_pipeline.synthetic.settings import SyntheticSettings, resolve

SAMM_FRAME = re.compile(r"^SAMM/(\d{3})/(\d{3})_(\d)_(\d+)/(\d{3})_(\d{4,5})\.jpg$")
CASME_FRAME = re.compile(r"^CASME2/CASME2_RAW_selected/sub(\d{2})/(EP\d{2}_\d{2}f?)/img(\d+)\.jpg$")


def _frames(root: Path, top: str, pattern: re.Pattern) -> list[re.Match]:
    paths = [p.relative_to(root).as_posix() for p in (root / top).rglob("*.jpg")]
    matches = [pattern.match(p) for p in paths]
    assert matches and all(matches), [p for p in paths if not pattern.match(p)][:5]
    return matches


def test_samm_layout(sample):
    out = Path(sample["output_dir"])
    matches = _frames(out, "SAMM", SAMM_FRAME)
    digits = {len(m.group(6)) for m in matches}
    assert digits == {4, 5}  # both paddings occur, chosen per subject
    for m in matches:
        assert m.group(1) == m.group(2) == m.group(5)
    per_subject = {}
    for m in matches:
        per_subject.setdefault(m.group(1), set()).add(len(m.group(6)))
    assert all(len(paddings) == 1 for paddings in per_subject.values())
    assert Path(sample["samm_root"]) == out / "SAMM"

    sheet = pd.read_csv(sample["samm_metadata_csv"])
    for row in sheet.itertuples(index=False):
        folder = out / "SAMM" / f"{row.Subject:03d}" / row.Filename
        numbers = sorted(int(p.stem.split("_")[1]) for p in folder.glob("*.jpg"))
        assert numbers == list(range(numbers[0], numbers[-1] + 1))  # no gaps
        assert numbers[0] < row._3 and numbers[-1] > row._5  # margins around onset/offset
        assert numbers[0] < row._4 < numbers[-1]


def test_frames_are_grayscale_jpegs_of_the_configured_size(sample, tiny_settings):
    truth = pd.read_csv(sample["ground_truth_csv"]).query("dataset != 'SMIC'")
    for row in truth.groupby("dataset").head(1).itertuples():
        path = Path(sample["output_dir"]) / row.clip_dir / row.apex_file
        assert path.read_bytes()[:3] == b"\xff\xd8\xff"
        image = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
        assert image.ndim == 2
        expected = (
            (tiny_settings["height"], tiny_settings["width"])
            if row.dataset == "SAMM"
            else (tiny_settings["casme2_height"], tiny_settings["casme2_width"])
        )
        assert image.shape == expected == (row.frame_height, row.frame_width)


def test_samm_sheet_header_on_row_14_and_cleaned_csv(sample):
    sheet = openpyxl.load_workbook(sample["samm_metadata_xlsx"]).active
    rows = [tuple(c.value for c in row) for row in sheet.iter_rows(max_row=sheet.max_row)]
    assert rows[13][: len(samm_format.COLUMNS)] == samm_format.COLUMNS
    assert all("Subject" not in row for row in rows[:13])
    assert rows[0][0] and rows[1][0]  # a title and a citation above the blank rows

    from_xlsx = pd.read_excel(sample["samm_metadata_xlsx"], header=13)
    csv = pd.read_csv(sample["samm_metadata_csv"])
    assert list(csv.columns) == list(samm_format.COLUMNS)
    pd.testing.assert_frame_equal(from_xlsx, csv, check_dtype=False)
    assert set(csv["Micro"]) == {"Micro - 1/2"}
    assert (csv["Duration"] == csv["Offset Frame"] - csv["Onset Frame"] + 1).all()
    assert (csv["Onset Frame"] < csv["Apex Frame"]).all()
    assert (csv["Apex Frame"] < csv["Offset Frame"]).all()
    for row in csv.itertuples(index=False):
        assert re.fullmatch(rf"{row.Subject:03d}_{row._2}_\d+", row.Filename)
    assert set(csv["Subject"]) <= set(samm_format.SUBJECTS)


def test_casme2_layout_and_coding_sheet(sample):
    out = Path(sample["output_dir"])
    matches = _frames(out, "CASME2", CASME_FRAME)
    sheet = openpyxl.load_workbook(sample["casme2_metadata_xlsx"]).active
    header = tuple(c.value for c in sheet[1])
    assert header == casme2_format.COLUMNS
    assert header[2] is None and header[6] is None

    table = pd.read_excel(sample["casme2_metadata_xlsx"])
    assert table["Unnamed: 2"].isna().all() and table["Unnamed: 6"].isna().all()
    assert table["Subject"].dtype.kind == "i"
    assert (table["ApexFrame"] == "/").sum() == 2
    assert set(table["Estimated Emotion"]) == set(casme2_format.CLASS_COUNTS)
    assert len({(m.group(1), m.group(2)) for m in matches}) == len(table)
    for row in table.itertuples(index=False):
        folder = Path(sample["casme2_root"]) / f"sub{row.Subject:02d}" / row.Filename
        numbers = sorted(int(p.stem[3:]) for p in folder.glob("img*.jpg"))
        assert numbers == list(range(row.OnsetFrame, row.OffsetFrame + 1))


def test_ground_truth_locates_every_clip_and_face(sample):
    truth = pd.read_csv(sample["ground_truth_csv"])
    assert len(truth) == sample["samm_clips"] + sample["casme2_clips"] + sample["smic_clips"]
    out = Path(sample["output_dir"])
    for row in truth.itertuples(index=False):
        for name in (row.onset_file, row.apex_file, row.offset_file):
            assert (out / row.clip_dir / name).is_file()
        assert row.face_x >= 0 and row.face_x + row.face_w <= row.frame_width
        assert row.face_y >= 0 and row.face_y + row.face_h <= row.frame_height
        for point in ("left_eye", "right_eye", "nose", "mouth_left", "mouth_right"):
            x, y = getattr(row, f"{point}_x"), getattr(row, f"{point}_y")
            assert row.face_x <= x <= row.face_x + row.face_w
            assert row.face_y <= y <= row.face_y + row.face_h
        assert row.left_eye_x < row.right_eye_x
        eyes_mid = (row.left_eye_x + row.right_eye_x) / 2
        assert abs(eyes_mid - (row.face_x + row.face_w / 2)) < 0.2 * row.face_w


def test_class_mix_and_subjects_scale_with_size():
    full = resolve(SyntheticSettings(size=1.0))
    samm = samm_format.design_clips(np.random.default_rng(0), full)
    assert pd.Series([c.emotion for c in samm]).value_counts().to_dict() == samm_format.CLASS_COUNTS
    assert sorted({c.subject for c in samm}) == list(samm_format.SUBJECTS)
    casme = casme2_format.design_clips(np.random.default_rng(0), full)
    counts = pd.Series([c.emotion for c in casme]).value_counts().to_dict()
    assert counts == casme2_format.CLASS_COUNTS
    assert len({c.subject for c in casme}) == 26

    for size in (0.2, 0.5):
        clips = samm_format.design_clips(
            np.random.default_rng(0), resolve(SyntheticSettings(size=size))
        )
        counts = pd.Series([c.emotion for c in clips]).value_counts().to_dict()
        assert counts == scaled_counts(samm_format.CLASS_COUNTS, size)
        assert set(counts) == set(samm_format.CLASS_COUNTS)  # every class present
        assert abs(sum(counts.values()) - 159 * size) <= 4
        assert len({c.subject for c in clips}) == round(29 * size)
