"""Strict frame decoding: damaged JPEG scan data, bit depths, blank frames."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from microexpression_pipeline.pipelines.ingestion.decoding import (
    FrameError,
    blank_problem,
    decode_frame,
    significant_bits,
    to_uint8,
)

from .conftest import damage_scan, face_frame


def jpeg_bytes(gray: bool = True) -> bytes:
    image = face_frame(3)
    image = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY if gray else cv2.COLOR_RGB2BGR)
    return cv2.imencode(".jpg", image)[1].tobytes()


@pytest.mark.parametrize("how", ["zeroed", "missing", "second_half_zeroed", "cut_in_half"])
@pytest.mark.parametrize("gray", [True, False])
def test_damaged_scan_data_raises(how, gray):
    data = damage_scan(jpeg_bytes(), how)
    assert data.startswith(b"\xff\xd8") and data.endswith(b"\xff\xd9")
    # the permissive decoder reads it as a partly grey image without an error
    assert cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_GRAYSCALE) is not None
    with pytest.raises(FrameError, match=r"damaged JPEG.*Corrupt JPEG data"):
        decode_frame(data, gray=gray, min_scale=0.4)


def test_intact_jpeg_decodes_as_opencv_does():
    data = jpeg_bytes()
    for min_scale, flag in ((1.0, cv2.IMREAD_GRAYSCALE), (0.5, cv2.IMREAD_REDUCED_GRAYSCALE_2)):
        image, scale, shape = decode_frame(data, gray=True, min_scale=min_scale)
        expected = cv2.imdecode(np.frombuffer(data, np.uint8), flag)
        np.testing.assert_array_equal(image, expected)
        assert (scale, shape) == (min_scale, (240, 320))


def test_harmless_jpeg_warning_still_decodes():
    data = bytearray(jpeg_bytes())
    assert data[6:11] == b"JFIF\x00"
    data[11] = 2  # JFIF version 2.01: libjpeg warns "unknown JFIF revision number"
    image, _, _ = decode_frame(bytes(data), gray=True)
    np.testing.assert_array_equal(image, decode_frame(jpeg_bytes(), gray=True)[0])


def test_garbage_raises():
    with pytest.raises(FrameError, match=r"damaged JPEG|not an image"):
        decode_frame(b"\xff\xd8garbage\xff\xd9", gray=True)
    with pytest.raises(FrameError, match="not an image"):
        decode_frame(b"plain text", gray=True)


def test_16_bit_png_with_12_bit_data_keeps_its_contrast():
    gray8 = cv2.cvtColor(face_frame(3), cv2.COLOR_RGB2GRAY)
    twelve_bit = gray8.astype(np.uint16) * 16  # max 4080: 12 significant bits
    data = cv2.imencode(".png", twelve_bit)[1].tobytes()
    image, _, _ = decode_frame(data, gray=True)
    assert image.dtype == np.uint16 and significant_bits([image]) == 12
    (scaled,), note = to_uint8([image])
    assert np.abs(scaled.astype(int) - gray8).max() <= 1
    assert "12-bit data" in note
    # what a plain 8-bit read does with it: near black
    assert cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_GRAYSCALE).max() < 16
    rgb, _, _ = decode_frame(data, gray=False)
    assert rgb.dtype == np.uint8 and rgb.max() >= 240


def test_one_scale_for_every_frame_of_a_clip():
    dark = np.full((4, 4), 1000, np.uint16)
    bright = np.full((4, 4), 4000, np.uint16)
    frames, _ = to_uint8([dark, bright])
    assert (frames[0][0, 0], frames[1][0, 0]) == (
        round(1000 * 255 / 4095),
        round(4000 * 255 / 4095),
    )
    full = np.array([[0, 65535]], np.uint16)
    assert to_uint8([full])[0][0].tolist() == [[0, 255]]
    eight = np.array([[0, 200]], np.uint8)
    assert to_uint8([eight]) == ([eight], "")


def test_blank_frames_named():
    assert "blank" in blank_problem(np.full((8, 8), 3, np.uint8))
    assert "between 250 and 255" in blank_problem(
        np.linspace(250, 255, 64).reshape(8, 8).astype(np.uint8)
    )
    assert blank_problem(cv2.cvtColor(face_frame(3), cv2.COLOR_RGB2GRAY)) == ""
