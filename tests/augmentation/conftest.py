"""Fixtures for the augmentation tests: tiny synthetic clips with a SAMM-like index."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml

CONF = Path(__file__).resolve().parents[2] / "conf" / "base"

# The SAMM class mix (clips per emotion).
SAMM_MIX: dict[str, int] = {
    "Anger": 57,
    "Happiness": 26,
    "Other": 26,
    "Surprise": 15,
    "Contempt": 12,
    "Disgust": 9,
    "Fear": 8,
    "Sadness": 6,
}


def make_clips(
    counts: dict[str, int], frames: int = 9, size: int = 32, seed: int = 0, n_subjects: int = 7
) -> tuple[dict[str, np.ndarray], pd.DataFrame]:
    """Random uint8 clips (N x F x size x size) and a row-aligned clip index."""
    rng = np.random.default_rng(seed)
    emotions = [emotion for emotion, n in counts.items() for _ in range(n)]
    n = len(emotions)
    clip_ids = np.array([f"{6 + i % n_subjects:03d}_{i:03d}" for i in range(n)])
    clips = rng.integers(0, 256, size=(n, frames, size, size), dtype=np.uint8)
    index = pd.DataFrame(
        {
            "dataset": "SAMM",
            "subject": [cid.split("_")[0] for cid in clip_ids],
            "clip_id": clip_ids,
            "emotion": emotions,
            "action_units": "",
            "onset": 0,
            "apex": frames // 2,
            "offset": frames - 1,
        }
    )
    return {"clips": clips, "clip_ids": clip_ids}, index


@pytest.fixture(scope="session")
def label_mappings() -> dict[str, Any]:
    return yaml.safe_load((CONF / "parameters.yml").read_text())["label_mappings"]


@pytest.fixture(scope="session")
def _augmentation_conf() -> dict[str, Any]:
    return yaml.safe_load((CONF / "parameters_augmentation.yml").read_text())["augmentation"]


@pytest.fixture
def augmentation(_augmentation_conf: dict[str, Any]) -> dict[str, Any]:
    """The shipped ``augmentation`` section (a fresh copy per test)."""
    return copy.deepcopy(_augmentation_conf)


@pytest.fixture
def clip_maker() -> Callable[..., tuple[dict[str, np.ndarray], pd.DataFrame]]:
    return make_clips


@pytest.fixture(scope="session")
def samm_like() -> tuple[dict[str, np.ndarray], pd.DataFrame]:
    """159 clips of 9 x 32 x 32 with the SAMM class mix."""
    return make_clips(SAMM_MIX)
