"""SMIC-HS's part of the sample, and the three parts together as MEGC 2019's composite."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import cv2
import numpy as np
import pandas as pd
import pytest

from microexpression_pipeline.synthetic import casme2_format, samm_format, smic_format
from microexpression_pipeline.synthetic.design import scaled_counts
from microexpression_pipeline.synthetic.settings import SyntheticSettings, resolve

SMIC_FRAME = re.compile(
    r"^SMIC/SMIC_all_raw/HS/s([1-9]\d?)/micro/(negative|positive|surprise)/"
    r"s([1-9]\d?)_(ne|po|sur)_(\d{2})/image(\d{6})\.bmp$"
)
ABBREVIATION = {"negative": "ne", "positive": "po", "surprise": "sur"}
# STSTNet's per-subject log of MEGC 2019's composite: SMIC-HS (negative, positive, surprise).
SMIC_TABLE = {
    1: (3, 2, 1), 2: (0, 1, 5), 3: (22, 11, 6), 4: (10, 4, 5), 5: (1, 0, 1), 6: (2, 0, 2),
    8: (9, 4, 0), 9: (0, 1, 3), 11: (3, 3, 1), 12: (0, 8, 1), 13: (0, 10, 0), 14: (3, 2, 5),
    15: (1, 1, 2), 18: (2, 0, 5), 19: (0, 1, 1), 20: (14, 3, 5),
}  # fmt: skip
SAMM_MEGC = {"Anger": "negative", "Contempt": "negative", "Disgust": "negative",
             "Fear": "negative", "Sadness": "negative", "Happiness": "positive",
             "Surprise": "surprise"}  # fmt: skip
CASME2_MEGC = {"disgust": "negative", "repression": "negative", "happiness": "positive",
               "surprise": "surprise"}  # fmt: skip
CASME2_BAD = {(4, "EP12_01f"), (5, "EP12_03f"), (24, "EP02_07")}  # meb's Megc drops these
FULL = resolve(SyntheticSettings(size=1.0))


def _megc_part(module, mapping: dict[str, str], excluded=frozenset()) -> tuple[int, int, tuple]:
    """(clips, subjects, (negative, positive, surprise)) of a dataset's part of the composite."""
    clips = [
        c
        for c in module.design_clips(np.random.default_rng(0), FULL)
        if c.emotion in mapping and (c.subject, c.clip_id) not in excluded
    ]
    counts = Counter(mapping[c.emotion] for c in clips)
    classes = tuple(counts[k] for k in ("negative", "positive", "surprise"))
    return len(clips), len({c.subject for c in clips}), classes


def test_smic_layout_and_naming(sample):
    out = Path(sample["output_dir"])
    assert Path(sample["smic_root"]) == out / "SMIC/SMIC_all_raw/HS"
    paths = [p.relative_to(out).as_posix() for p in (out / "SMIC").rglob("*") if p.is_file()]
    matches = [SMIC_FRAME.match(p) for p in paths]
    assert matches and all(matches), [p for p in paths if not SMIC_FRAME.match(p)][:5]
    for m in matches:
        assert m.group(1) == m.group(3)  # s<N>/.../s<N>_...
        assert ABBREVIATION[m.group(2)] == m.group(4)

    truth = pd.read_csv(sample["ground_truth_csv"]).query("dataset == 'SMIC'")
    assert (
        len(truth) == sample["smic_clips"] == len({m.group(0).rsplit("/", 1)[0] for m in matches})
    )
    assert truth["subject"].nunique() == sample["smic_subjects"] >= 2
    assert truth["n_frames"].sum() == sample["smic_frames"]
    for row in truth.itertuples(index=False):
        emotion_folder = Path(row.clip_dir).parent.name
        assert emotion_folder == row.emotion and row.megc_class == row.emotion
        assert Path(row.clip_dir).name == row.clip_id
        numbers = sorted(int(p.stem[5:]) for p in (out / row.clip_dir).glob("image*.bmp"))
        assert numbers == list(range(row.onset, row.offset + 1))  # onset to offset only
        assert row.first_frame == row.onset and row.last_frame == row.offset
        assert row.onset < row.apex < row.offset and 10000 <= row.onset < 90000


def test_smic_frames_are_colour_bmps(sample, tiny_settings):
    truth = pd.read_csv(sample["ground_truth_csv"]).query("dataset == 'SMIC'")
    for row in truth.groupby("subject").head(1).itertuples():
        path = Path(sample["output_dir"]) / row.clip_dir / row.apex_file
        assert path.read_bytes()[:2] == b"BM"
        image = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
        expected = (tiny_settings["smic_height"], tiny_settings["smic_width"], 3)
        assert image.shape == expected == (row.frame_height, row.frame_width, 3)
        face = image[row.face_y : row.face_y + row.face_h, row.face_x : row.face_x + row.face_w]
        blue, _, red = face.reshape(-1, 3).astype(float).mean(axis=0)
        assert red > blue + 20  # a skin tone, not gray


def test_smic_clip_length_is_half_the_200_fps_range():
    for low_high, lengths in (((20, 40), range(10, 21)), ((6, 10), {6})):
        render = resolve(SyntheticSettings(size=0.3, onset_to_offset_frames=list(low_high)))
        clips = smic_format.design_clips(np.random.default_rng(1), render)
        assert {c.offset - c.onset + 1 for c in clips} <= set(lengths)
        assert all(c.first == c.onset and c.last == c.offset for c in clips)
    assert resolve(SyntheticSettings(full_size=True)).smic_size == (640, 480)
    assert resolve(SyntheticSettings()).smic_size == (240, 180)


def test_smic_subjects_and_classes_at_full_size():
    clips = smic_format.design_clips(np.random.default_rng(0), FULL)
    table: dict[int, list[int]] = {}
    for c in clips:
        table.setdefault(c.subject, [0, 0, 0])[list(ABBREVIATION).index(c.emotion)] += 1
    assert {s: tuple(row) for s, row in table.items()} == SMIC_TABLE
    assert Counter(c.emotion for c in clips) == {"negative": 70, "positive": 51, "surprise": 43}
    for (subject, emotion), group in pd.DataFrame(
        [(c.subject, c.emotion, c.clip_id) for c in clips], columns=["s", "e", "id"]
    ).groupby(["s", "e"]):
        ids = [f"s{subject}_{ABBREVIATION[emotion]}_{i:02d}" for i in range(1, len(group) + 1)]
        assert sorted(group["id"]) == ids  # numbered per subject and emotion from 01


def test_three_parts_reproduce_the_megc_2019_composite():
    samm = _megc_part(samm_format, SAMM_MEGC)
    casme2 = _megc_part(casme2_format, CASME2_MEGC, CASME2_BAD)
    smic = _megc_part(smic_format, {e: e for e in ABBREVIATION})
    assert samm == (133, 28, (92, 26, 15))
    assert casme2 == (145, 24, (88, 32, 25))
    assert smic == (164, 16, (70, 51, 43))
    assert sum(p[0] for p in (samm, casme2, smic)) == 442
    assert sum(p[1] for p in (samm, casme2, smic)) == 68

    samm_clips = samm_format.design_clips(np.random.default_rng(0), FULL)
    assert {c.emotion for c in samm_clips if c.subject == 25} == {"Other"}
    assert len({c.subject for c in samm_clips}) == 29
    casme2_clips = casme2_format.design_clips(np.random.default_rng(0), FULL)
    outside = {c.emotion for c in casme2_clips if c.subject in (10, 18)}
    assert outside and outside <= {"others", "fear", "sadness"}
    bad = {(c.subject, c.clip_id): c.emotion for c in casme2_clips}
    assert {key: bad.get(key) for key in CASME2_BAD} == {
        (4, "EP12_01f"): "disgust",
        (5, "EP12_03f"): "disgust",
        (24, "EP02_07"): "others",
    }
    assert Counter(c.emotion for c in casme2_clips) == casme2_format.CLASS_COUNTS
    assert len(casme2_clips) == 255 and len({c.subject for c in casme2_clips}) == 26


@pytest.mark.parametrize("size", [0.01, 0.05, 0.1, 0.2, 0.35, 0.5, 0.75, 0.95])
def test_smaller_sizes_keep_every_class_and_two_subjects(size):
    render = resolve(SyntheticSettings(size=size))
    for module in (samm_format, casme2_format, smic_format):
        for seed in range(3):
            clips = module.design_clips(np.random.default_rng(seed), render)
            counts = Counter(c.emotion for c in clips)
            assert counts == scaled_counts(module.CLASS_COUNTS, size)
            assert len({c.subject for c in clips}) >= 2
            assert len({(c.subject, c.clip_id) for c in clips}) == len(clips)
