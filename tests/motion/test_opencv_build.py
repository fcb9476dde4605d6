"""The contrib build of OpenCV is the only one installed: TV-L1 needs ``cv2.optflow``, and a
plain ``opencv-python*`` wheel beside it would overwrite the same ``cv2`` package."""

from __future__ import annotations

import re
from importlib import metadata
from pathlib import Path

import cv2

PLAIN = ("opencv-python", "opencv-python-headless", "opencv-contrib-python")


def test_tv_l1_is_available() -> None:
    assert hasattr(cv2, "optflow") and hasattr(cv2.optflow, "DualTVL1OpticalFlow_create")


def test_no_plain_opencv_wheel_is_locked_or_installed(project_root: Path) -> None:
    locked = re.findall(
        r"^(opencv[\w-]*)==", (project_root / "requirements.lock").read_text(), re.M
    )
    assert locked == ["opencv-contrib-python-headless"]
    installed = {d.metadata["Name"].lower() for d in metadata.distributions()}
    assert "opencv-contrib-python-headless" in installed
    assert not installed & set(PLAIN)
