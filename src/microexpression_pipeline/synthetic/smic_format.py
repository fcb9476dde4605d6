"""SMIC-HS's layout: ``SMIC/SMIC_all_raw/HS/s<N>/micro/<emotion>/s<N>_<ne|po|sur>_<NN>/
image<frame:06d>.bmp``, colour BMP frames at 100 fps, onset to offset only, and no coding
sheet (the folder names carry the labels; SMIC codes no apex)."""

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

ROOT = "SMIC/SMIC_all_raw/HS"
FACE_FRACTION = 0.45  # face box height / frame height
FPS = 100
COLOUR = True  # colour frames
FIRST_FRAME = (10000, 90000)  # a clip's first recording frame number is drawn in this range
ABBREVIATIONS = {"negative": "ne", "positive": "po", "surprise": "sur"}
# SMIC-HS's three classes are MEGC 2019's; every clip belongs to the composite.
MEGC_CLASSES = {emotion: emotion for emotion in ABBREVIATIONS}
EXCLUDED_FROM_MEGC: tuple[tuple[int, str, str], ...] = ()
# Clips per subject (negative, positive, surprise) at size 1: the subject composition of SMIC-HS
# in MEGC 2019's composite, as published in STSTNet's per-subject log (164 clips, 16 subjects).
SUBJECT_CLIPS = {
    1: (3, 2, 1), 2: (0, 1, 5), 3: (22, 11, 6), 4: (10, 4, 5), 5: (1, 0, 1), 6: (2, 0, 2),
    8: (9, 4, 0), 9: (0, 1, 3), 11: (3, 3, 1), 12: (0, 8, 1), 13: (0, 10, 0), 14: (3, 2, 5),
    15: (1, 1, 2), 18: (2, 0, 5), 19: (0, 1, 1), 20: (14, 3, 5),
}  # fmt: skip
SUBJECTS = tuple(SUBJECT_CLIPS)
CLASS_COUNTS = {
    emotion: sum(row[i] for row in SUBJECT_CLIPS.values())
    for i, emotion in enumerate(ABBREVIATIONS)
}  # negative 70, positive 51, surprise 43
ACTION_UNITS = {
    "negative": ("4", "4+7", "9", "15", "1+4", "14", "4+10", "24"),
    "positive": ("12", "6+12", "R12", "12+25"),
    "surprise": ("1+2", "1+2+5", "5", "R1+R2"),
}


def _labelled(rng: np.random.Generator, size: float) -> list[tuple[int, str]]:
    """(subject, label) pairs: the per-subject table at size 1, scaled class counts below."""
    if size >= 1.0:
        return [
            (subject, emotion)
            for subject, row in SUBJECT_CLIPS.items()
            for emotion, count in zip(ABBREVIATIONS, row, strict=True)
            for _ in range(count)
        ]
    return labelled_clips(rng, scaled_counts(CLASS_COUNTS, size), pick_subjects(SUBJECTS, size))


def design_clips(rng: np.random.Generator, render: RenderSettings) -> list[ClipSpec]:
    """SMIC-HS's subjects and classes (``SUBJECT_CLIPS``) scaled by ``size``; at 100 fps.

    A clip spans onset to offset: max(6, round(n / 2)) frames, ``n`` drawn from
    ``onset_to_offset`` (a 200 fps range, halved for 100 fps); frame numbers start in
    ``FIRST_FRAME``; clips are numbered per subject and emotion from 01.
    """
    seen: dict[tuple[int, str], int] = {}
    clips = []
    for subject, emotion in _labelled(rng, render.size):
        index = seen[subject, emotion] = seen.get((subject, emotion), 0) + 1
        clip_id = f"s{subject}_{ABBREVIATIONS[emotion]}_{index:02d}"
        n = int(rng.integers(render.onset_to_offset[0], render.onset_to_offset[1] + 1))
        onset = int(rng.integers(*FIRST_FRAME))
        offset = onset + max(6, round(n / 2)) - 1
        clips.append(
            drawn_clip(
                rng, ACTION_UNITS, onset=onset, offset=offset, dataset="SMIC",
                subject=subject, clip_id=clip_id, emotion=emotion, first=onset, last=offset,
                folder=f"{ROOT}/s{subject}/micro/{emotion}/{clip_id}",
                extra={"apex_listed": False},
            )
        )  # fmt: skip
    return sorted(clips, key=lambda clip: (clip.subject, clip.clip_id))


def frame_name(clip: ClipSpec, number: int) -> str:
    """``image022431.bmp``: the recording's frame number, padded to 6 digits."""
    return f"image{number:06d}.bmp"


def write_metadata(clips: list[ClipSpec], out: Path) -> None:
    """SMIC-HS ships no coding sheet: nothing to write."""
    return None
