"""Frame numbers from file names, key-frame selection and substitution."""

from __future__ import annotations

import pytest

from microexpression_pipeline.pipelines.ingestion.frames import (
    frame_number_from_name,
    requested_frames,
    select_frames,
)


@pytest.mark.parametrize(
    ("name", "number"),
    [
        ("006_05562.jpg", 5562),
        ("017_1395.jpg", 1395),
        ("img46.jpg", 46),
        ("img046.JPG", 46),
        ("frame_0000007.png", 7),
        ("notes.txt", None),
        ("cover.jpg", None),
    ],
)
def test_frame_number_from_name(name, number):
    assert frame_number_from_name(name) == number


def test_requested_frames_nine_evenly_spaced():
    roles = requested_frames(100, 108, 124, between=3)
    assert [f for _, f in roles] == [100, 102, 104, 106, 108, 112, 116, 120, 124]
    assert roles[0][0] == "onset" and roles[4][0] == "apex" and roles[-1][0] == "offset"


def test_requested_frames_between_is_a_parameter():
    assert len(requested_frames(0, 10, 20, between=1)) == 5
    assert [f for _, f in requested_frames(0, 10, 20, between=1)] == [0, 5, 10, 15, 20]


def test_missing_frame_substituted_within_tolerance():
    available = {n: f"img{n}.jpg" for n in range(100, 125) if n != 104}
    selection = select_frames(available, 100, 108, 124, between=3, tolerance=1)
    assert selection.numbers[2] == 103  # tie 103/105: the earlier frame
    assert selection.files[2] == "img103.jpg"
    assert selection.substitutions == ["onset_apex_2 frame 104 missing: 103 used"]
    assert not selection.missing


def test_missing_frame_beyond_tolerance_is_reported():
    available = {n: f"img{n}.jpg" for n in range(100, 125) if not 101 <= n <= 107}
    selection = select_frames(available, 100, 108, 124, between=3, tolerance=1)
    assert selection.missing == [
        "onset_apex_1 frame 102",
        "onset_apex_2 frame 104",
        "onset_apex_3 frame 106",
    ]
