"""Fixtures for the training tests: the shipped training parameters and a tiny data set."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest


def make_augmented_set(
    n_subjects: int = 6,
    clips_per_subject: int = 4,
    copies: int = 1,
    shape: tuple[int, int, int] = (9, 16, 16),
    classes: tuple[str, ...] = ("negative", "positive"),
    seed: int = 0,
    moving: bool = False,
) -> tuple[dict[str, np.ndarray], pd.DataFrame]:
    """A learnable toy set: class k brightens a quadrant (``moving``: on the middle third of
    the frames only, else on every frame); copies are noisy duplicates."""
    rng = np.random.default_rng(seed)
    rows, arrays = [], []
    for s in range(n_subjects):
        for c in range(clips_per_subject):
            label = classes[(s + c) % len(classes)]
            base = rng.integers(60, 120, size=shape, dtype=np.uint8)
            k = classes.index(label)
            frames = slice(shape[0] // 3, 2 * shape[0] // 3) if moving else slice(None)
            quadrant = np.s_[
                : shape[1] // 2, (k % 2) * (shape[2] // 2) : (k % 2 + 1) * (shape[2] // 2)
            ]
            base[(frames, *quadrant)] += 80
            clip_id = f"{s:03d}_{c}"
            for copy in range(copies + 1):
                noisy = np.clip(base + rng.normal(0, 4 * copy, size=shape), 0, 255)
                arrays.append(noisy.astype(np.uint8))
                rows.append(
                    {
                        "sample_id": clip_id if copy == 0 else f"{clip_id}#aug{copy}",
                        "source_clip_id": clip_id,
                        "subject": f"{s:03d}",
                        "label": label,
                        "is_augmented": copy > 0,
                        "copy_index": copy,
                    }
                )
    samples = pd.DataFrame(rows)
    return {"clips": np.stack(arrays), "sample_ids": samples["sample_id"].to_numpy("U")}, samples


@pytest.fixture(scope="session")
def augmented_set():
    """``augmented_set(**kwargs)``: a toy augmented set (see ``make_augmented_set``)."""
    return make_augmented_set


@pytest.fixture
def tiny_training(shipped_params: dict) -> dict:
    """Training parameters for seconds-long runs: 2 epochs, small batches."""
    training = dict(shipped_params["training"])
    training.update(epochs=2, batch_size=8, keras_verbose=0)
    return training
