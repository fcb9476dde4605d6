"""The study's per-frame 2D CNN, and the clip model that votes over its frames.

The 2D CNN follows ``models/binary_models.py`` and ``models/multiclass_models.py`` of the
study's code (ShreyanshJoshi/Facial-Microexpression-Recognition): it is trained on single
frames, and a clip takes the majority vote of its frames. ``voting_clip_model`` makes that
vote part of the model, from built-in layers only, so the saved ``.keras`` file takes a clip
like every other architecture and loads in safe mode.
"""

from __future__ import annotations

import keras
from keras import layers

from microexpression_pipeline.models.inputs import dense_head, model_input
from microexpression_pipeline.models.sizes import Conv2DSizes

# A frame's vote goes to its top class, shared only with classes whose probability is within
# about this of the top one (a tie, in float32): softmax(probabilities / VOTE_TOLERANCE).
VOTE_TOLERANCE = 1e-7


def build_2dcnn(
    shape: tuple[int, int, int], n_classes: int, sizes: Conv2DSizes, intensity: str
) -> keras.Model:
    """A frame model: ONE (height, width) frame in, class probabilities out; Conv2D,
    max-pooling and batch-normalisation blocks, then a dense head."""
    _, height, width = shape
    pixels, x = model_input((height, width), intensity)
    x = layers.Reshape((height, width, 1))(x)
    for filters in sizes.filters:
        x = layers.Conv2D(
            filters, sizes.kernel, activation="relu", kernel_initializer=sizes.conv_initializer
        )(x)
        x = layers.MaxPooling2D(sizes.pool)(x)
        x = layers.BatchNormalization()(x)
    x = layers.Flatten()(x)
    outputs = dense_head(
        x,
        sizes.dense,
        sizes.dropout,
        sizes.dense_batch_norm,
        n_classes,
        (sizes.dense_initializer, sizes.output_initializer),
    )
    return keras.Model(pixels, outputs, name="2dcnn")


def voting_clip_model(frame_model: keras.Model, frames: int) -> keras.Model:
    """A clip (frames, height, width) in, voted class probabilities out.

    Each frame gives one vote to its most probable class (split equally in an exact tie); the
    clip's probability of class c is (votes_c + mean_c) / (frames + 1), with mean_c the
    frames' mean probability of c. It sums to 1, and its argmax is the class with the most
    votes, ties going to the higher mean probability (a vote outweighs any difference of
    means). Weights are ``frame_model``'s own (shared, not copied).
    """
    clips = keras.Input(shape=(frames, *frame_model.input_shape[1:]), dtype="uint8")
    per_frame = layers.TimeDistributed(frame_model)(clips)  # (clips, frames, classes)
    votes = layers.Softmax()(layers.Rescaling(1 / VOTE_TOLERANCE)(per_frame))
    vote_share = layers.GlobalAveragePooling1D()(votes)  # votes_c / frames
    mean = layers.GlobalAveragePooling1D()(per_frame)
    outputs = layers.Add(name="probabilities")(
        [
            layers.Rescaling(frames / (frames + 1))(vote_share),
            layers.Rescaling(1 / (frames + 1))(mean),
        ]
    )
    return keras.Model(clips, outputs, name=f"{frame_model.name}_vote")
