"""SAMM's layout and metadata: ``SAMM/<subject>/<Filename>/<subject>_<frame>.jpg`` and the
Micro-FACS coding sheet (header on sheet row 14) plus its cleaned CSV form."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from microexpression_pipeline.synthetic.clips import ClipSpec
from microexpression_pipeline.synthetic.design import (
    drawn_clip,
    labelled_clips,
    pick_subjects,
    scaled_counts,
)
from microexpression_pipeline.synthetic.settings import RenderSettings
from microexpression_pipeline.synthetic.sheets import write_xlsx

ROOT = "SAMM"
SHEET_NAME = "SAMM_Micro_FACS_Codes_v2.xlsx"
CSV_NAME = "samm_metadata_cleaned.csv"
HEADER_ROW = 14  # 1-based sheet row of the column names, as in the real sheet
FACE_FRACTION = 0.4  # face box height / frame height
FPS = 200
COLOUR = False  # grayscale frames

SUBJECTS = (6, 7, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26,
            28, 30, 31, 32, 33, 34, 35, 36, 37)  # fmt: skip
CLASS_COUNTS = {
    "Anger": 57,
    "Happiness": 26,
    "Other": 26,
    "Surprise": 15,
    "Contempt": 12,
    "Disgust": 9,
    "Fear": 8,
    "Sadness": 6,
}
# MEGC 2019's composite: SAMM's labels in its three classes ("Other" is left out). Subject 25
# has only "Other" clips, as in the real SAMM, so the composite's SAMM part mirrors MEGC 2019's
# at size 1: 133 clips (negative 92, positive 26, surprise 15) from 28 subjects.
MEGC_CLASSES = {"Anger": "negative", "Contempt": "negative", "Disgust": "negative",
                "Fear": "negative", "Sadness": "negative", "Happiness": "positive",
                "Surprise": "surprise"}  # fmt: skip
OUTSIDE_MEGC = (25,)
EXCLUDED_FROM_MEGC: tuple[tuple[int, str, str], ...] = ()
ACTION_UNITS = {
    "Happiness": ("12", "6+12", "12", "R12", "6A+12"),
    "Anger": ("4", "4+7", "4+7", "7", "4B"),
    "Surprise": ("1+2", "5", "1+2+5", "R2"),
    "Disgust": ("9", "10", "9+10", "4+9"),
    "Contempt": ("R14", "L14"),
    "Sadness": ("1+4", "15", "1+4+15", "15A+17"),
    "Fear": ("1+2+4", "20", "L20", "1+2+4+20"),
    "Other": ("24", "17", "R2", "25+26", "14", "26", "7+24"),
}
OBJECTIVE_CLASSES = {"Happiness": 1, "Surprise": 2, "Anger": 3, "Disgust": 4, "Sadness": 5,
                     "Fear": 6, "Contempt": 7, "Other": 7}  # fmt: skip
COLUMNS = (
    "Subject", "Filename", "Inducement Code", "Onset Frame", "Apex Frame", "Offset Frame",
    "Duration", "Micro", "Action Units", "Estimated Emotion", "Objective Classes", "Notes",
)  # fmt: skip
_TITLE_ROWS = (
    ("SAMM Micro-FACS Codes (synthetic sample in the v2 sheet layout)",),
    ("Davison, A. K., Lansley, C., Costen, N., Tan, K., Yap, M. H. (2018). SAMM: A Spontaneous "
     "Micro-Facial Movement Dataset. IEEE Transactions on Affective Computing 9(1), 116-129.",),
    (),
    ("Frames rendered from skimage.data.astronaut() (public domain); no SAMM recording is used.",),
    (),
    ("Objective Classes: 1 Happiness, 2 Surprise, 3 Anger, 4 Disgust, 5 Sadness, 6 Fear, 7 Other",),
    *([()] * 7),
)  # fmt: skip


def design_clips(rng: np.random.Generator, render: RenderSettings) -> list[ClipSpec]:
    """SAMM's class mix and subjects scaled by ``size``; whole sequences at 200 fps.

    Subject 25 (when picked) gets only "Other" clips and every other subject at least one
    clip of MEGC 2019's classes (``MEGC_CLASSES``), as in the real SAMM.
    """
    subjects = pick_subjects(SUBJECTS, render.size)
    digits = rng.choice([4, 5], len(subjects))
    digits[0], digits[-1] = 5, 4  # both paddings always occur, as in the real set
    padding = dict(zip(subjects, digits.tolist(), strict=True))
    seen: dict[tuple[int, int], int] = {}
    clips = []
    counts = scaled_counts(CLASS_COUNTS, render.size)
    labelled = labelled_clips(rng, counts, subjects, composite=MEGC_CLASSES, outside=OUTSIDE_MEGC)
    for subject, emotion in labelled:
        inducement = int(rng.integers(1, 8))
        index = seen[subject, inducement] = seen.get((subject, inducement), 0) + 1
        length = int(rng.integers(render.onset_to_offset[0], render.onset_to_offset[1] + 1))
        before, after = rng.integers(render.margin[0], render.margin[1] + 1, 2).tolist()
        top = 9800 if padding[subject] == 4 else 12500
        onset = int(rng.integers(before + 1, top - length - after))
        offset = onset + length - 1
        clip_id = f"{subject:03d}_{inducement}_{index}"
        clips.append(drawn_clip(
            rng, ACTION_UNITS, onset=onset, offset=offset, dataset="SAMM", subject=subject,
            clip_id=clip_id, emotion=emotion, first=onset - before, last=offset + after,
            folder=f"{ROOT}/{subject:03d}/{clip_id}",
            extra={"inducement": inducement, "padding": padding[subject]},
        ))  # fmt: skip
    return sorted(clips, key=lambda clip: (clip.subject, clip.clip_id))


def frame_name(clip: ClipSpec, number: int) -> str:
    """``006_05562.jpg``: subject, then the frame number padded to the subject's 4 or 5 digits."""
    return f"{clip.subject:03d}_{number:0{clip.extra['padding']}d}.jpg"


def metadata_frame(clips: list[ClipSpec]) -> pd.DataFrame:
    """The coding sheet's rows, one per clip, in SAMM's columns."""
    rows = [
        (clip.subject, clip.clip_id, clip.extra["inducement"], clip.onset, clip.apex, clip.offset,
         clip.offset - clip.onset + 1, "Micro - 1/2", clip.action_units, clip.emotion,
         OBJECTIVE_CLASSES[clip.emotion], clip.extra.get("notes"))
        for clip in clips
    ]  # fmt: skip
    return pd.DataFrame(rows, columns=list(COLUMNS))


def write_metadata(clips: list[ClipSpec], out: Path) -> tuple[Path, Path]:
    """Write the .xlsx coding sheet (13 title/blank rows, header on row 14) and the .csv."""
    table = metadata_frame(clips)
    sheet, csv = out / SHEET_NAME, out / CSV_NAME
    body = [[None if pd.isna(v) else v for v in row] for row in table.itertuples(index=False)]
    write_xlsx(sheet, [*_TITLE_ROWS, COLUMNS, *body], sheet_title="SAMM")
    table.to_csv(csv, index=False)
    return sheet, csv
