"""CASME II's layout and coding sheet: ``CASME2/CASME2_RAW_selected/sub<NN>/<EPxx_yy[f]>/
img<frame>.jpg`` (onset to offset only) and ``CASME2-coding-20140508.xlsx`` (header on row 1)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from microexpression_pipeline.synthetic.clips import ClipSpec
from microexpression_pipeline.synthetic.design import (
    drawn_clip,
    labelled_clips,
    pick_subjects,
    scaled_counts,
)
from microexpression_pipeline.synthetic.settings import RenderSettings
from microexpression_pipeline.synthetic.sheets import write_xlsx

ROOT = "CASME2/CASME2_RAW_selected"
SHEET = "CASME2/CASME2-coding-20140508.xlsx"
FACE_FRACTION = 0.48
FPS = 200
COLOUR = False  # grayscale frames
SUBJECTS = tuple(range(1, 27))
CLASS_COUNTS = {
    "happiness": 32,
    "surprise": 25,
    "disgust": 63,
    "repression": 27,
    "fear": 2,
    "sadness": 7,
    "others": 99,
}
# MEGC 2019's composite, as meb's ``Megc`` dataset builds it: CASME II's labels in its three
# classes (fear, sadness and others are left out), and three clips it drops as known bad
# samples. Subjects 10 and 18 have only clips outside those classes, so the composite's CASME II
# part mirrors MEGC 2019's at size 1: 145 clips (negative 88, positive 32, surprise 25) from 24
# subjects.
MEGC_CLASSES = {"disgust": "negative", "repression": "negative", "happiness": "positive",
                "surprise": "surprise"}  # fmt: skip
OUTSIDE_MEGC = (10, 18)
EXCLUDED_FROM_MEGC = ((4, "EP12_01f", "disgust"), (5, "EP12_03f", "disgust"),
                      (24, "EP02_07", "others"))  # fmt: skip
ACTION_UNITS = {
    "happiness": ("12", "6+12", "R12", "12+15"),
    "surprise": ("1+2", "R1+R2", "1+2+25", "5"),
    "disgust": ("4+9", "9", "10", "4+10", "4", "4+7"),
    "repression": ("14", "15", "17", "24", "15+17", "R14"),
    "fear": ("1+2+4", "20"),
    "sadness": ("1+4", "15", "1+4+15"),
    "others": ("4", "7", "1", "17", "24", "L2", "25", "4+7", "14"),
}
# The real sheet leaves its 3rd and 7th columns without a name (pandas: "Unnamed: 2"/"Unnamed: 6").
COLUMNS = ("Subject", "Filename", None, "OnsetFrame", "ApexFrame", "OffsetFrame", None,
           "Action Units", "Estimated Emotion")  # fmt: skip
UNLISTED_APEX = "/"  # how the real sheet marks a few clips whose apex was not coded
N_UNLISTED_APEX = 2


def design_clips(rng: np.random.Generator, render: RenderSettings) -> list[ClipSpec]:
    """CASME II's class mix and subjects scaled by ``size``; frames from onset to offset.

    Mirrors MEGC 2019's composite where the subjects concerned are picked: the three clips
    of ``EXCLUDED_FROM_MEGC`` exist, subjects 10 and 18 get only clips outside its classes,
    every other subject at least one clip of them.
    """
    subjects = pick_subjects(SUBJECTS, render.size)
    counts = scaled_counts(CLASS_COUNTS, render.size)
    fixed = []
    for subject, clip_id, emotion in EXCLUDED_FROM_MEGC:
        if subject in subjects and counts[emotion] > 1:
            counts[emotion] -= 1
            fixed.append((subject, emotion, clip_id))
    labelled = labelled_clips(rng, counts, subjects, composite=MEGC_CLASSES, outside=OUTSIDE_MEGC)
    taken = {(subject, clip_id.removesuffix("f")) for subject, _, clip_id in fixed}
    clips = []
    for subject, emotion, given in [*fixed, *((s, e, None) for s, e in labelled)]:
        clip_id = given
        while clip_id is None:
            episode = f"EP{int(rng.integers(1, 20)):02d}_{int(rng.integers(1, 11)):02d}"
            if (subject, episode) not in taken:
                taken.add((subject, episode))
                clip_id = episode + ("f" if rng.random() < 0.4 else "")
        length = int(rng.integers(render.onset_to_offset[0], render.onset_to_offset[1] + 1))
        onset = int(rng.integers(1, 300))
        offset = onset + length - 1
        clips.append(
            drawn_clip(
                rng, ACTION_UNITS, onset=onset, offset=offset, dataset="CASME2",
                subject=subject, clip_id=clip_id, emotion=emotion, first=onset, last=offset,
                folder=f"{ROOT}/sub{subject:02d}/{clip_id}", extra={"apex_listed": True},
            )
        )  # fmt: skip
    clips.sort(key=lambda clip: (clip.subject, clip.clip_id))
    for index in rng.choice(len(clips), min(N_UNLISTED_APEX, len(clips)), replace=False):
        clips[index].extra["apex_listed"] = False
    return clips


def frame_name(clip: ClipSpec, number: int) -> str:
    """``img46.jpg``: the frame number, unpadded."""
    return f"img{number}.jpg"


def write_metadata(clips: list[ClipSpec], out: Path) -> Path:
    """Write the coding sheet: header on row 1, '/' for the apex of a couple of clips."""
    rows = [
        (clip.subject, clip.clip_id, None, clip.onset,
         clip.apex if clip.extra["apex_listed"] else UNLISTED_APEX, clip.offset, None,
         clip.action_units, clip.emotion)
        for clip in clips
    ]  # fmt: skip
    path = out / SHEET
    path.parent.mkdir(parents=True, exist_ok=True)
    write_xlsx(path, [COLUMNS, *rows], sheet_title="Sheet1")
    return path
