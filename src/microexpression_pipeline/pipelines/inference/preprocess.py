"""A new clip made into a model's input with ingestion's and features' own code.

The face is detected once per clip on its onset frame (the apex frame if none is found), as
ingestion does (``faces``: MTCNN on a copy whose longest side is at most
``detection_max_side``), every selected frame is decoded and warped with that one aligned
crop (``faces.apply_crop``), and flow models get the onset -> apex flow of the crops
(``motion.flow_settings.flow_of_clips``) with the settings the model was trained with.
"""

from __future__ import annotations

import numpy as np

from microexpression_pipeline.errors import InputError
from microexpression_pipeline.models.card import ModelCard, Preprocessing
from microexpression_pipeline.motion.flow_settings import flow_of_clips
from microexpression_pipeline.pipelines.inference.clip_reader import ClipFrames
from microexpression_pipeline.pipelines.ingestion.decoding import blank_problem, to_uint8
from microexpression_pipeline.pipelines.ingestion.faces import (
    CropTransform,
    FaceDetector,
    aligned_crop,
    apply_crop,
    best_face,
    centre_crop,
    detect_batch,
)
from microexpression_pipeline.pipelines.ingestion.frames import select_frames


def selected_positions(
    frames: ClipFrames, onset: int, apex: int, offset: int, between: int, tolerance: int = 0
) -> list[int]:
    """The positions of the frames a model sees: ingestion's selection
    (``frames.select_frames``: onset, ``between``, apex, ``between``, offset, spaced by frame
    number, a missing number replaced by the nearest frame within ``tolerance``); raises
    ``InputError`` for key frames outside the source, out of order or too close."""
    last = len(frames) - 1
    for name, value in (("onset", onset), ("apex", apex), ("offset", offset)):
        if not 0 <= value <= last:
            raise InputError(
                f"{frames.source}: {name} = {value} is outside the clip, whose frames are 0 to "
                f"{last}"
            )
    if not onset <= apex <= offset:
        raise InputError(
            f"{frames.source}: key frames out of order (onset {onset}, apex {apex}, offset "
            f"{offset}); they must satisfy onset <= apex <= offset"
        )
    if offset - onset < 2:
        raise InputError(
            f"{frames.source}: the interval {onset}-{offset} holds fewer than 3 frames"
        )
    numbers = frames.numbers
    chosen = select_frames(
        {number: str(position) for position, number in enumerate(numbers)},
        numbers[onset], numbers[apex], numbers[offset], between=between, tolerance=tolerance,
    )  # fmt: skip
    if chosen.missing:
        raise InputError(
            f"{frames.source}: no frame within {tolerance} of the requested "
            f"{', '.join(chosen.missing)} (frame numbers from the file names); give a source "
            "without such gaps"
        )
    return [int(position) for position in chosen.files]


def face_crop(
    frames: ClipFrames, onset: int, apex: int, pre: Preprocessing, detector: FaceDetector
) -> tuple[CropTransform, str]:
    """The clip's one crop and the frame its face was found on (``onset``, ``apex``, or
    ``none`` for a centre crop when the model's training allowed it)."""
    for role, position in (("onset", onset), ("apex", apex)):
        small, scale = frames.detection_image(position, pre.detection_max_side)
        face = best_face(detect_batch(detector, [small])[0], scale, pre.min_face_confidence)
        if face is not None:
            return aligned_crop(face, pre.face_margin), role
    if pre.no_face == "centre_crop":
        return centre_crop(frames.height, frames.width), "none"
    raise InputError(
        f"{frames.source}: no face found on {frames.names[onset]} (onset) or "
        f"{frames.names[apex]} (apex) with confidence >= {pre.min_face_confidence}; give "
        "frames that show one face, or other key frames (inference.onset/apex/offset)"
    )


def crop_frames(
    frames: ClipFrames,
    positions: list[int],
    crop: CropTransform,
    size: int,
    *,
    check_blank: bool = True,
) -> np.ndarray:
    """uint8 (len(positions), size, size): the frames at ``positions`` warped into ``crop``,
    decoded and brought to 8 bits as ingestion does; a blank frame is refused as ingestion
    refuses it (``check_blank``: the frames a model sees)."""
    min_scale = min(1.0, 2.0 * size / crop.side)
    decoded = {p: frames.gray(p, min_scale) for p in dict.fromkeys(positions)}
    images, _ = to_uint8([decoded[p][0] for p in positions])
    for position, image in zip(positions, images, strict=True):
        if check_blank and (problem := blank_problem(image)):
            raise InputError(f"{frames.source}: {frames.names[position]} {problem}")
    return np.stack(
        [
            apply_crop(image, crop, size, decoded[p][1])
            for p, image in zip(positions, images, strict=True)
        ]
    ).astype(np.uint8)


def model_input(clip: np.ndarray, card: ModelCard) -> np.ndarray:
    """What the model takes for one clip: the uint8 clip (frames, size, size), or for a flow
    model its float16 onset -> apex flow (size, size, [u, v, strain])."""
    if card.sees != "flow":
        return clip
    if card.flow is None:
        raise InputError(f"the model card of {card.architecture} has no flow settings")
    return flow_of_clips(clip[None], card.flow)[0]
