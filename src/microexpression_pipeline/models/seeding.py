"""Seeding a model's build and fit, independent of the rest of the process.

``keras.utils.set_random_seed`` seeds Python's shared ``random`` module, and Keras draws the
seed of every initializer and random layer built without one from it. Any other thread of
the process that draws from ``random`` between the seeding and the build (a Dask worker's
event loop does, for its timers' jitter) changes the model's initial weights: the same unit
then trains differently on a worker than in-process. ``seeded`` gives Keras a private stream
for the duration instead.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from contextlib import contextmanager

import keras
from keras.src.random import seed_generator


@contextmanager
def seeded(seed: int) -> Iterator[None]:
    """Seed Python, NumPy, TensorFlow and Keras with ``seed``, and draw Keras's default seeds
    from a stream of this block's own. Blocks must not run concurrently in one process."""
    keras.utils.set_random_seed(seed)
    shared = seed_generator.python_random
    seed_generator.python_random = random.Random(seed)
    try:
        yield
    finally:
        seed_generator.python_random = shared
