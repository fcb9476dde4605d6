"""The training set of a flow transform set: the flow of every sample's augmented frames.

Frames are augmented first (one draw per clip: the same rotation, zoom or shift of onset and
apex) and the flow is computed anew from them, with the ``features`` pipeline's settings: a
rotation rotates the field and its vectors, a zoom scales them, a shift moves the field,
exactly as the camera would have seen it (``tests/motion/test_flow_augmentation.py``).
"""

from __future__ import annotations

import json
import logging
import time

import numpy as np

from microexpression_pipeline.motion.flow_settings import FeaturesParams, flow_of_clips

logger = logging.getLogger(__name__)


def flow_inputs(frames: dict[str, np.ndarray], features: FeaturesParams) -> dict[str, np.ndarray]:
    """``frames`` (the augmented frame clips and their sample arrays) with ``clips`` replaced
    by their flow (float16 N x S x S x [u, v, strain], ``features.flow``) and
    ``flow_settings`` recording how."""
    flow = features.flow
    clips = frames["clips"]
    started = time.perf_counter()
    fields = flow_of_clips(clips, flow)
    seconds = time.perf_counter() - started
    logger.info(
        "Flow (%s) of %d augmented samples in %.2f s (%.0f samples/s)",
        flow.method, len(clips), seconds, len(clips) / max(seconds, 1e-9),
    )  # fmt: skip
    record = flow.record(int(clips.shape[-1])) | {"fingerprint": flow.fingerprint()}
    return {**frames, "clips": fields, "flow_settings": np.array(json.dumps(record))}
