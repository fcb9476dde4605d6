"""Fixtures for the augmentation tests: tiny synthetic clips with a SAMM-like index."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml

CONF = Path(__file__).resolve().parents[3] / "conf" / "base"

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


@pytest.fixture(scope="session")
def samm_like(clip_maker) -> tuple[dict[str, np.ndarray], pd.DataFrame]:
    """159 clips of 9 x 32 x 32 with the SAMM class mix."""
    return clip_maker(SAMM_MIX)
