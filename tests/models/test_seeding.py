"""A model built from a seed does not depend on what else the process draws from ``random``."""

from __future__ import annotations

import random
import threading

import numpy as np

from microexpression_pipeline.models import ARCHITECTURES
from microexpression_pipeline.models.building import build_model
from microexpression_pipeline.models.seeding import seeded


def _weights(params: dict, seed: int, draws_before_build: int) -> list[np.ndarray]:
    architecture = ARCHITECTURES["cnn_lstm"]  # Dropout and LSTM layers draw their own seeds
    sizes = architecture.sizes.model_validate(params["cnn_lstm"]["binary"])
    variants = type("Variants", (), {"binary": sizes})
    with seeded(seed):
        # Another thread of the process drawing from the shared stream (as a Dask worker's
        # event loop does) between the seeding and the build.
        draws = threading.Thread(
            target=lambda: [random.random() for _ in range(draws_before_build)]
        )
        draws.start()
        draws.join()
        return build_model(architecture, (9, 16, 16), 2, variants, 1e-3).get_weights()


def _equal(a: list[np.ndarray], b: list[np.ndarray]) -> bool:
    return len(a) == len(b) and all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))


def test_other_draws_from_random_do_not_change_the_initial_weights(shipped_params) -> None:
    params = shipped_params["training"]["architectures"]
    quiet = _weights(params, 7, 0)
    assert _equal(quiet, _weights(params, 7, 5))
    assert not _equal(quiet, _weights(params, 8, 0))  # while the seed still decides them
