"""``training.precision``: layers compute in 16 bits, probabilities stay float32, and the
policy does not outlive the fit."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from microexpression_pipeline.models import ARCHITECTURES
from microexpression_pipeline.pipelines.train.fitting import fit_model, indexed
from microexpression_pipeline.pipelines.train.spec import TrainingSpec
from tests.pipelines.train.conftest import make_augmented_set


@pytest.mark.parametrize("key", ["3dcnn", "ststnet"])
def test_mixed_bfloat16_fits_in_bfloat16_and_gives_float32_probabilities(
    key: str, shipped_training
) -> None:
    architecture = ARCHITECTURES[key]
    block = shipped_training.architectures[key]
    arrays, samples = make_augmented_set(n_subjects=3, clips_per_subject=2, shape=(9, 16, 16))
    clips = arrays["clips"]
    if architecture.sees == "flow":
        clips = np.random.default_rng(0).normal(size=(len(clips), 28, 28, 3)).astype("float16")
    spec = TrainingSpec(
        architecture=architecture, shape=clips.shape[1:], classes=("negative", "positive"),
        arch_params=block, epochs=1, batch_size=4, learning_rate=1e-3, validation_fraction=0.0,
        intensity="temporal", precision="mixed_bfloat16",
    )  # fmt: skip
    table = indexed(samples)
    model, history, _ = fit_model(spec, clips, table, seed=1)
    assert keras.config.dtype_policy().name == "float32"  # restored after the fit
    computing = {layer.compute_dtype for layer in model.layers if layer.weights}
    assert "bfloat16" in computing
    assert all(w.dtype == "float32" for w in model.trainable_weights)
    assert np.isfinite(history["loss"]).all()
    probabilities = model(clips[:4])
    assert probabilities.dtype == "float32"
    np.testing.assert_allclose(np.asarray(probabilities).sum(axis=1), 1.0, atol=1e-5)


def test_precision_is_a_checked_training_parameter(shipped_params: dict) -> None:
    from microexpression_pipeline.parameters import ParameterError
    from microexpression_pipeline.pipelines.train.schema import TrainingParams

    assert TrainingParams.model_validate(shipped_params["training"]).precision == "float32"
    with pytest.raises(ParameterError, match=r"training\.precision: .*'float16'"):
        TrainingParams.model_validate(shipped_params["training"] | {"precision": "float16"})
