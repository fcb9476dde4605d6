"""The flow benchmark's LOSO projection from two measured epoch sizes."""

from __future__ import annotations

import pytest

from benchmarks.flow_training import SAMM_CLIPS, SAMM_SUBJECTS, loso_projection


def _run(t16: float, t32: float) -> dict:
    return {
        "epochs": {
            "16": {"clips": 16, "epoch_seconds": t16, "clips_per_second": 16 / t16},
            "32": {"clips": 32, "epoch_seconds": t32, "clips_per_second": 32 / t32},
        },
        "epochs_configured": 10,
        "fit_overhead_seconds": 2.0,
        "prediction_clips_per_second": 1000.0,
    }


def test_epochs_are_a_fixed_cost_plus_a_cost_per_clip() -> None:
    projection = loso_projection(_run(0.2, 0.3), fold_clips=16)
    fixed, per_clip = 0.1, 0.1 / 16  # t(n) = 0.1 + n / 160
    fit_n = SAMM_CLIPS - SAMM_CLIPS / SAMM_SUBJECTS
    training = 10 * (SAMM_SUBJECTS * (fixed + per_clip * fit_n) + fixed + per_clip * SAMM_CLIPS)
    assert projection["epoch_model"] == "a + b n"
    assert projection["training_hours"] == pytest.approx(training / 3600)
    overhead = (SAMM_SUBJECTS + 1) * 2.0
    assert projection["hours"] == pytest.approx((training + overhead + SAMM_CLIPS / 1000) / 3600)


def test_a_larger_epoch_measured_faster_is_taken_as_proportional() -> None:
    """Timing noise at tiny sizes must not project a negative training time."""
    projection = loso_projection(_run(0.05, 0.04), fold_clips=16)
    assert projection["epoch_model"].startswith("b n")
    assert projection["training_hours"] > 0 and projection["hours"] > 0
