"""The precision models are built and trained in (``training.precision``).

``float32`` (the default), or Keras's mixed precision: layers compute in ``bfloat16``
(``mixed_bfloat16``: CPUs with AVX-512 BF16 or AMX, recent GPUs) or ``float16``
(``mixed_float16``: GPUs, with loss scaling), and keep their weights in float32; the output
probabilities stay float32 (``inputs.OUTPUT_DTYPE``). Which is faster depends on the machine:
``python -m benchmarks.precision`` measures both.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Literal

Precision = Literal["float32", "mixed_bfloat16", "mixed_float16"]


@contextmanager
def dtype_policy(precision: Precision) -> Iterator[None]:
    """Layers built inside the block take ``precision`` as their dtype policy (and keep it
    once built, saved and loaded); the previous policy is restored after."""
    import keras  # TensorFlow: imported where models are built, not by parameter validation

    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(precision)
    try:
        yield
    finally:
        keras.config.set_dtype_policy(previous)
