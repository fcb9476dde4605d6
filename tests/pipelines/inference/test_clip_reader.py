"""Reading a source: a folder of frame files as ingestion reads it, a video, and their errors."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from microexpression_pipeline.errors import InputError
from microexpression_pipeline.pipelines.inference.clip_reader import read_clip_source

HEIGHT, WIDTH = 48, 64


def bgr_frames(count: int, seed: int = 0) -> list[np.ndarray]:
    """Textured BGR frames (noise over a gradient), so any pixel difference shows."""
    rng = np.random.default_rng(seed)
    ramp = np.linspace(0, 200, WIDTH, dtype=np.float64)[None, :, None]
    return [
        np.clip(ramp + rng.integers(0, 56, (HEIGHT, WIDTH, 3)), 0, 255).astype(np.uint8)
        for _ in range(count)
    ]


def write_folder(folder: Path, names: list[str], frames: list[np.ndarray]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, frame in zip(names, frames, strict=True):
        assert cv2.imwrite(str(folder / name), frame)
    return folder


def write_video(path: Path, frames: list[np.ndarray], fps: float = 25.0) -> Path:
    """A lossless video (FFV1), so its frames decode to exactly the pixels written."""
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"FFV1"), fps, (WIDTH, HEIGHT))
    assert writer.isOpened(), "OpenCV cannot write FFV1 videos"
    for frame in frames:
        writer.write(frame)
    writer.release()
    return path


@pytest.mark.parametrize(
    ("pattern", "numbers"),
    [("006_{:05d}.png", [9998, 9999, 10000, 10001]), ("017_{}.png", [998, 999, 1000, 1001])],
)
def test_folder_frames_in_number_order(tmp_path, pattern, numbers):
    frames = bgr_frames(len(numbers))
    names = [pattern.format(n) for n in numbers]
    folder = write_folder(tmp_path / "clip", names[::-1], frames[::-1])
    (folder / f".{names[0]}").write_bytes(b"macOS metadata")  # hidden: ignored
    (folder / "notes.txt").write_text("not a frame")

    clip = read_clip_source(folder)

    assert (clip.kind, clip.source, clip.fps) == ("frames", str(folder), None)
    assert clip.names == tuple(names) and clip.numbers == tuple(numbers)
    assert (len(clip), clip.height, clip.width) == (4, HEIGHT, WIDTH)
    for i, frame in enumerate(frames):
        gray, scale, shape = clip.gray(i)
        assert np.array_equal(gray, cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY))
        assert (scale, shape) == (1.0, (HEIGHT, WIDTH))


def test_lossless_video_matches_folder_of_same_frames(tmp_path):
    frames = bgr_frames(5)
    folder = write_folder(tmp_path / "clip", [f"img{i}.png" for i in range(5)], frames)
    video = read_clip_source(write_video(tmp_path / "clip.avi", frames))
    clip = read_clip_source(folder)

    assert (video.kind, video.fps, len(video)) == ("video", 25.0, 5)
    assert video.names == tuple(f"frame {i}" for i in range(5))
    assert video.numbers == (0, 1, 2, 3, 4)
    assert (video.height, video.width) == (HEIGHT, WIDTH)
    for i in range(5):
        # full size, and reduced by 2 and by 4 while decoding, as a crop much smaller than the
        # frame asks ingestion's decoder for
        for min_scale in (1.0, 0.5, 0.25):
            v_gray, f_gray = video.gray(i, min_scale), clip.gray(i, min_scale)
            assert np.array_equal(v_gray[0], f_gray[0]) and v_gray[1:] == f_gray[1:]
        assert video.gray(i, 0.25)[1] == 0.25
        for max_side in (64, 32, 16):  # no reduction, a reduction by 2, by 4
            v_small, v_scale = video.detection_image(i, max_side)
            f_small, f_scale = clip.detection_image(i, max_side)
            assert v_small.dtype == np.uint8 and v_small.shape == (48 * max_side // 64, max_side, 3)
            assert np.array_equal(v_small, f_small) and v_scale == f_scale == max_side / 64


def test_video_suffix_is_case_insensitive(tmp_path):
    clip = read_clip_source(write_video(tmp_path / "CLIP.MKV", bgr_frames(3)))
    assert len(clip) == 3


def test_missing_path(tmp_path):
    with pytest.raises(InputError, match=r"nowhere\.mp4 does not exist; give the path"):
        read_clip_source(tmp_path / "nowhere.mp4")


def test_unsupported_suffix(tmp_path):
    image = tmp_path / "frame.gif"
    image.write_bytes(b"GIF89a")
    with pytest.raises(InputError, match=r"frame\.gif is not a supported video.*\.mkv.*folder"):
        read_clip_source(image)


@pytest.mark.parametrize("data", [b"", np.random.default_rng(1).bytes(4096)])
def test_corrupt_video(tmp_path, data):
    video = tmp_path / "broken.mp4"
    video.write_bytes(data)
    with pytest.raises(InputError, match=r"broken\.mp4 cannot be read as a video"):
        read_clip_source(video)


def test_too_few_frames(tmp_path):
    folder = write_folder(tmp_path / "clip", ["1.png", "2.png"], bgr_frames(2))
    video = write_video(tmp_path / "short.avi", bgr_frames(2))
    for source in (folder, video):
        with pytest.raises(InputError, match=r"has 2 frame.*needs at least 3 frames"):
            read_clip_source(source)
    assert len(read_clip_source(folder, min_frames=2)) == 2


def test_frames_of_different_sizes(tmp_path):
    frames = bgr_frames(4)
    frames[2] = frames[2][:, :60]
    folder = write_folder(tmp_path / "clip", [f"f{i}.png" for i in range(4)], frames)
    with pytest.raises(InputError, match=r"f2\.png is 60x48 px but f0\.png is 64x48 px"):
        read_clip_source(folder)


def test_folder_without_frames(tmp_path):
    folder = tmp_path / "empty"
    folder.mkdir()
    (folder / "readme.txt").write_text("no frames here")
    with pytest.raises(InputError, match="holds no frame images"):
        read_clip_source(folder)


def test_frame_file_that_is_no_image(tmp_path):
    folder = write_folder(tmp_path / "clip", [f"f{i}.png" for i in range(3)], bgr_frames(3))
    (folder / "f1.png").write_bytes(b"not a png at all")
    with pytest.raises(InputError, match=r"frame file f1\.png is not an image file"):
        read_clip_source(folder)


def test_truncated_png_raises_when_decoded(tmp_path):
    folder = write_folder(tmp_path / "clip", [f"f{i}.png" for i in range(3)], bgr_frames(3))
    data = (folder / "f1.png").read_bytes()
    (folder / "f1.png").write_bytes(data[: len(data) // 2])  # header intact, data cut

    clip = read_clip_source(folder)

    assert clip.gray(0)[0].shape == (HEIGHT, WIDTH)
    with pytest.raises(InputError, match=r"clip: frame file f1\.png is damaged"):
        clip.gray(1)
    with pytest.raises(InputError, match=r"f1\.png is damaged.*replace or remove"):
        clip.detection_image(1, 32)
