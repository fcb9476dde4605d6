"""Fixtures for the synthetic-sample tests: tiny settings and one shared generated sample."""

from __future__ import annotations

from typing import Any

import pytest

from microexpression_pipeline.synthetic import ensure_synthetic_sample

TINY: dict[str, Any] = {
    "size": 0.05,
    "full_size": False,
    "width": 96,
    "height": 64,
    "casme2_width": 96,
    "casme2_height": 72,
    "smic_width": 96,
    "smic_height": 72,
    "onset_to_offset_frames": [6, 10],
    "margin_frames": [2, 3],
    "au_intensity": 1.0,
    "noise_sigma": 2.0,
    "jpeg_quality": 85,
}


@pytest.fixture
def tiny_settings() -> dict[str, Any]:
    return dict(TINY)


@pytest.fixture(scope="module")
def sample(tmp_path_factory) -> dict[str, Any]:
    """A tiny sample (10 SAMM, 14 CASME II and 9 SMIC-HS clips, two subjects each), once per
    module."""
    out = tmp_path_factory.mktemp("synthetic") / "sample"
    return ensure_synthetic_sample({**TINY, "output_dir": str(out)}, 3)
