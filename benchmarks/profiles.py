"""How big each benchmark is: the ``full`` run, the ``--quick`` run and the ``--tiny`` smoke run."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from microexpression_pipeline.models import ARCHITECTURES, GROUPS


@dataclass(frozen=True)
class Profile:
    """Sizes and repeats of one benchmark run."""

    name: str
    # Ingestion: the synthetic sample (settings of ``ensure_synthetic_sample``) and crop size.
    sample: dict[str, Any]
    image_size: int
    ingestion_repeats: int
    # Augmentation: seconds of augment_clips to time (repeated calls).
    augmentation_seconds: float
    # Training: architectures (keys of ``microexpression_pipeline.models.ARCHITECTURES``),
    # seconds one timed epoch should last (sets the clip count), timed epochs after one warm-up
    # epoch, interleaved repeats; multiclass variant measured (else estimated from the binary
    # variant's achieved FLOP/s).
    architectures: tuple[str, ...]
    epoch_seconds: float
    min_clips: int
    max_clips: int
    timed_epochs: int
    repeats: int
    measure_multiclass: bool
    # Dense matmul: square matrix side (and seconds per measurement, below).
    matmul_size: int
    # Memory: architectures (registry keys) and N (runs at N and 4N; N rounded up to whole batches).
    memory_architectures: tuple[str, ...]
    memory_clips: int
    # End to end: ``reduced`` (documented smaller run), ``default`` or ``skip``.
    end_to_end: str
    end_to_end_params: tuple[str, ...] = field(default_factory=tuple)
    memory_scopes: tuple[str, ...] = ("input_pipeline", "training")
    # Flow: seconds of each extraction / decode measurement (repeated calls); flow models
    # (registry keys) trained at two sizes, a SAMM LOSO fold's clips and a larger set, each
    # for about ``flow_epoch_seconds`` of timed epochs after two single-epoch fits.
    flow_seconds: float = 2.0
    flow_architectures: tuple[str, ...] = ("ststnet", "offapexnet", "rcn_a")
    flow_fold_clips: int = 153
    flow_train_clips: int = 1024
    flow_epoch_seconds: float = 3.0
    flow_max_clips: int | None = None  # of the ingested clips, for extraction (None: all)
    matmul_seconds: float = 1.0
    # Parameter overrides (the smoke run's tiny frames need a fallback crop, and it trains in
    # one process).
    ingestion_overrides: dict[str, Any] = field(default_factory=dict)
    training_overrides: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        named = self.architectures + self.memory_architectures + self.flow_architectures
        unknown = set(named) - set(ARCHITECTURES)
        if unknown:
            raise ValueError(f"profile {self.name}: not registry keys: {sorted(unknown)}")


REDUCED_RUN_PARAMS = (
    "model:3dcnn",
    "training.epochs:1",
    "synthetic.size:0.3",
)

PROFILES: dict[str, Profile] = {
    "full": Profile(
        name="full",
        sample={"full_size": True, "size": 0.2},
        image_size=128,
        ingestion_repeats=3,
        augmentation_seconds=3.0,
        architectures=GROUPS["study"],  # frame models; the flow models: `flow` section
        epoch_seconds=15.0,
        min_clips=32,
        max_clips=512,
        timed_epochs=2,
        repeats=2,
        measure_multiclass=True,
        matmul_size=4096,
        memory_architectures=("3dcnn", "cnn_lstm", "2dcnn"),
        memory_clips=64,
        end_to_end="default",
        flow_seconds=5.0,
        flow_train_clips=2048,
        flow_epoch_seconds=8.0,
    ),
    "quick": Profile(
        name="quick",
        sample={"full_size": True, "size": 0.1},
        image_size=128,
        ingestion_repeats=2,
        augmentation_seconds=1.0,
        architectures=GROUPS["study"],  # frame models; the flow models: `flow` section
        epoch_seconds=2.0,
        min_clips=16,
        max_clips=128,
        timed_epochs=2,
        repeats=1,
        measure_multiclass=False,
        matmul_size=2048,
        memory_architectures=("3dcnn",),
        memory_clips=32,
        end_to_end="reduced",
        end_to_end_params=REDUCED_RUN_PARAMS,
        flow_seconds=1.0,
        flow_train_clips=1024,
        flow_epoch_seconds=2.0,
    ),
    "tiny": Profile(
        name="tiny",
        sample={
            "full_size": False,
            "size": 0.05,
            "width": 192,
            "height": 128,
            "casme2_width": 96,
            "casme2_height": 64,
            "onset_to_offset_frames": [6, 8],
            "margin_frames": [1, 2],
        },
        image_size=32,
        ingestion_repeats=1,
        augmentation_seconds=0.0,
        architectures=("3dcnn", "2dcnn"),
        epoch_seconds=0.0,
        min_clips=8,
        max_clips=8,
        timed_epochs=1,
        repeats=1,
        measure_multiclass=False,
        matmul_size=256,
        memory_architectures=("3dcnn",),
        memory_clips=4,
        end_to_end="skip",
        memory_scopes=("input_pipeline",),
        matmul_seconds=0.1,
        flow_seconds=0.0,
        flow_architectures=("ststnet",),
        flow_fold_clips=16,
        flow_train_clips=32,
        flow_epoch_seconds=0.0,
        flow_max_clips=2,
        ingestion_overrides={"no_face": "centre_crop"},
        training_overrides={"deterministic": False},
    ),
}
