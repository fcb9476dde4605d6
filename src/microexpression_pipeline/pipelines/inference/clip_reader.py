"""A user's source read as frames: a video file, or a folder of frame images.

A folder is read as ingestion reads a clip folder: its frame files are those
``frames.list_frames`` finds (numbers parsed from names, hidden files ignored), ordered by
frame number, and each frame is decoded on demand by ``decoding.decode_file``, so its pixels
are bit-identical to ingestion's. A video (``.mp4``, ``.avi``, ``.mov``, ``.mkv``) is decoded
fully into memory by OpenCV's FFmpeg backend; its BGR frames are converted with the
conversions ingestion uses for BGR image files, so a losslessly encoded video of PNG or BMP
frames gives the pixels of those files.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import cv2
import numpy as np

from microexpression_pipeline.errors import InputError
from microexpression_pipeline.pipelines.ingestion import faces
from microexpression_pipeline.pipelines.ingestion.decoding import (
    TO_GRAY,
    TO_RGB,
    FrameError,
    FrameFileError,
    decode_file,
    decode_frame,
    frame_size,
    read_frame_file,
    reduce_image,
    reduction_factor,
)
from microexpression_pipeline.pipelines.ingestion.frames import IMAGE_SUFFIXES, list_frames

logger = logging.getLogger(__name__)

VIDEO_SUFFIXES = (".mp4", ".avi", ".mov", ".mkv")


@dataclass(frozen=True)
class ClipFrames:
    """The frames of one source (a video file or a folder of frame images), decoded the way
    ingestion decodes frame files."""

    source: str  # the path as given
    kind: Literal["video", "frames"]
    names: tuple[str, ...]  # one label per frame: the file name, or "frame <i>" for a video
    numbers: tuple[int, ...]  # parsed from the file names (folder), 0..N-1 (video)
    fps: float | None  # the video's frame rate (None for a folder)
    height: int
    width: int
    _video: tuple[np.ndarray, ...] = field(default=(), repr=False, compare=False)
    _folder: Path | None = field(default=None, repr=False, compare=False)
    _files: tuple[bytes, ...] = field(default=(), repr=False, compare=False)

    @classmethod
    def from_image_files(cls, source: str, files: list[bytes], min_frames: int = 3) -> ClipFrames:
        """The frames of image files given as bytes (a served request), in order, decoded
        as a folder's files are (``decoding.decode_frame``)."""
        names = tuple(f"frame {i}" for i in range(len(files)))
        sizes = [frame_size(data) for data in files]
        for name, size in zip(names, sizes, strict=True):
            if size is None:
                raise InputError(f"{source}: {name} is not an image file")
            if size != sizes[0]:
                raise _size_error(source, name, size, names[0], sizes[0])  # type: ignore[arg-type]
        height, width = sizes[0] if sizes else (0, 0)  # type: ignore[misc]
        frames = cls(source, "frames", names, tuple(range(len(files))), None, height, width,
                     _files=tuple(files))  # fmt: skip
        return _enough(frames, min_frames)

    def __len__(self) -> int:
        return len(self.names)

    def detection_image(self, i: int, max_side: int) -> tuple[np.ndarray, float]:
        """RGB uint8 copy of frame i whose longest side is at most max_side, and its scale to
        the raw frame (ingestion's ``extraction._prepare_detection``)."""
        image, scale, _ = self._decode(i, gray=False, max_side=max_side)
        small, extra = faces.detection_image(image, max_side)
        return small, scale * extra

    def gray(self, i: int, min_scale: float = 1.0) -> tuple[np.ndarray, float, tuple[int, int]]:
        """Frame i in grayscale (uint8, or uint16 for 16-bit image files), its scale relative
        to the raw frame, and the raw (height, width): reduced by 2, 4 or 8 as long as its
        scale stays >= ``min_scale``, as ``decoding.decode_file`` reduces a frame file."""
        return self._decode(i, gray=True, min_scale=min_scale)

    def _decode(
        self, i: int, *, gray: bool, max_side: int = 0, min_scale: float = 1.0
    ) -> tuple[np.ndarray, float, tuple[int, int]]:
        """Frame i decoded as ingestion decodes a frame file (``decoding.decode_file``; a
        video's frame: converted and reduced as a BGR image file is); raises ``InputError``
        naming it."""
        if max_side:
            min_scale = min(1.0, max_side / max(self.height, self.width))
        if self._folder is not None:
            try:
                return decode_file(self._folder / self.names[i], gray=gray, min_scale=min_scale)
            except FrameFileError as problem:
                raise _frame_file_error(self.source, problem) from problem
        if self._files:
            try:
                return decode_frame(self._files[i], gray=gray, min_scale=min_scale)
            except FrameError as exc:
                raise InputError(f"{self.source}: {self.names[i]} {exc}") from exc
        frame = self._video[i]
        channels = _channels(frame)
        if gray and channels != 1:
            frame = cv2.cvtColor(frame, TO_GRAY[channels])
        elif not gray:
            frame = cv2.cvtColor(frame, TO_RGB[channels])
        frame = reduce_image(frame, reduction_factor(min_scale))
        return frame, frame.shape[1] / self.width, (self.height, self.width)


def read_clip_source(path: str | Path, *, min_frames: int = 3) -> ClipFrames:
    """The frames of a video file or a folder of frame images; raises ``InputError`` saying
    what is wrong with the source and what to do.

    A video is decoded fully into memory (a minute of 640x480 video at 25 fps takes about
    1.4 GB); a folder's frames are decoded one at a time when asked for."""
    source = str(path)
    path = Path(path)
    if not path.exists():
        raise InputError(
            f"{source} does not exist; give the path of a video file "
            f"({', '.join(VIDEO_SUFFIXES)}) or of a folder of frame images"
        )
    if path.is_dir():
        clip = _read_folder(source, path)
    elif path.suffix.lower() in VIDEO_SUFFIXES:
        clip = _read_video(source, path)
    else:
        raise InputError(
            f"{source} is not a supported video file: the supported suffixes are "
            f"{', '.join(VIDEO_SUFFIXES)}; a folder of frame images "
            f"({', '.join(sorted(IMAGE_SUFFIXES))}) works too"
        )
    return _enough(clip, min_frames)


def _enough(clip: ClipFrames, min_frames: int) -> ClipFrames:
    """``clip``, if it has at least ``min_frames`` frames."""
    if len(clip) < min_frames:
        raise InputError(
            f"{clip.source} has {len(clip)} frame(s); inference needs at least {min_frames} "
            "frames (onset, apex and offset)"
        )
    return clip


def _read_folder(source: str, folder: Path) -> ClipFrames:
    """The folder's frame files in frame-number order, their sizes checked from the headers."""
    try:
        frames, notes = list_frames(folder)
    except OSError as exc:
        raise InputError(
            f"{source}: the folder cannot be listed ({exc.strerror or exc}); check its permissions"
        ) from exc
    if not frames:
        raise InputError(
            f"{source} holds no frame images: give a folder of files named with their frame "
            f"number (such as 006_05562.jpg or img46.png) with one of the suffixes "
            f"{', '.join(sorted(IMAGE_SUFFIXES))}, or a video file"
        )
    for note in notes:
        logger.warning("%s: %s", source, note)
    numbers = tuple(sorted(frames))
    names = tuple(frames[n] for n in numbers)
    first: tuple[int, int] | None = None
    for name in names:
        try:
            size = frame_size(read_frame_file(folder / name))
        except FrameFileError as problem:
            raise _frame_file_error(source, problem) from problem
        if size is None:
            raise InputError(
                f"{source}: frame file {name} is not an image file (its header cannot be "
                "read); replace or remove it"
            )
        if first is None:
            first = size
        elif size != first:
            raise _size_error(source, name, size, names[0], first)
    assert first is not None
    return ClipFrames(source, "frames", names, numbers, None, first[0], first[1], _folder=folder)


def _read_video(source: str, path: Path) -> ClipFrames:
    """Every frame of the video, decoded into memory; their sizes must agree."""
    capture = cv2.VideoCapture(str(path))
    try:
        if not capture.isOpened():
            raise _unreadable_video(source)
        fps = float(capture.get(cv2.CAP_PROP_FPS)) or None
        frames: list[np.ndarray] = []
        while True:
            ok, frame = capture.read()
            if not ok or frame is None:
                break
            if frames and frame.shape[:2] != frames[0].shape[:2]:
                raise _size_error(
                    source, f"frame {len(frames)}", frame.shape[:2], "frame 0", frames[0].shape[:2]
                )
            frames.append(frame)
    finally:
        capture.release()
    if not frames:
        raise _unreadable_video(source)
    height, width = frames[0].shape[:2]
    names = tuple(f"frame {i}" for i in range(len(frames)))
    return ClipFrames(
        source,
        "video",
        names,
        tuple(range(len(frames))),
        fps,
        height,
        width,
        _video=tuple(frames),
    )


def _channels(frame: np.ndarray) -> int:
    return 1 if frame.ndim == 2 else frame.shape[2]


def _frame_file_error(source: str, problem: FrameFileError) -> InputError:
    return InputError(f"{source}: frame file {problem.detail}; replace or remove that frame")


def _size_error(
    source: str, name: str, size: tuple[int, ...], first_name: str, first: tuple[int, ...]
) -> InputError:
    return InputError(
        f"{source}: {name} is {size[1]}x{size[0]} px but {first_name} is {first[1]}x{first[0]} "
        "px (width x height); every frame of a source must have the same size"
    )


def _unreadable_video(source: str) -> InputError:
    return InputError(
        f"{source} cannot be read as a video (OpenCV's FFmpeg finds no frame: the file is "
        "unreadable, corrupt or in an unsupported codec); re-encode it (e.g. "
        "ffmpeg -i in.mov out.mp4) or extract its frames into a folder"
    )
