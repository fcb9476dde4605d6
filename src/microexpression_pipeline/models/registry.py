"""The architecture registry: the one list of architectures.

Validation, the train pipeline's nodes, reporting, cross-dataset evaluation and the
benchmarks all read it. An entry's ``key`` is its internal name (node names, tags, metric
keys, file names); ``name`` is how the study writes it (reports, and accepted wherever a user
types a model name: ``--params model:cnn+lstm``).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from microexpression_pipeline.models.sizes import (
    CnnLstmSizes,
    Conv2DSizes,
    Conv3DSizes,
    ConvLstmSizes,
    OffApexNetSizes,
    RcnSizes,
    StstnetSizes,
)
from microexpression_pipeline.parameters import ParameterError, StrictSection, choice_problem

if TYPE_CHECKING:
    import keras


@dataclass(frozen=True)
class Architecture:
    """One architecture: its names, what it sees, its builder and its size schema."""

    key: str
    name: str
    # clips: (frames, height, width); frames: one (height, width) frame, clips voted over;
    # flow: the onset -> apex flow of a clip, (height, width, [u, v, strain]) (``motion``).
    sees: Literal["clips", "frames", "flow"]
    # Its builder, ``<module of this package>:<function>``, taking (shape, classes, sizes,
    # intensity): imported when a model is built, so that listing architectures, validating
    # parameters and listing pipelines do not import TensorFlow.
    builder: str
    sizes: type[StrictSection]
    description: str
    # The augmented set it trains on (a key of ``augmentation.transform_sets``); the study
    # augments its 2D CNN per frame with wider ranges (``frame2d``); flow models train on the
    # flow of augmented frames (``flow``).
    transform_set: str = "clip"

    def build(
        self, shape: tuple[int, int, int], n_classes: int, sizes: Any, intensity: str
    ) -> keras.Model:
        """A new, uncompiled model from its builder."""
        module, function = self.builder.split(":")
        package = importlib.import_module(f"{__package__}.{module}")
        return getattr(package, function)(shape, n_classes, sizes, intensity)

    @property
    def frame_level(self) -> bool:
        return self.sees == "frames"

    @property
    def tag(self) -> str:
        """The tag of its training node (``model:`` selects nodes by it)."""
        return f"architecture_{self.key}"


ARCHITECTURES: dict[str, Architecture] = {
    a.key: a
    for a in (
        Architecture("3dcnn", "3dcnn", "clips", "conv3d:build_3dcnn", Conv3DSizes, "3D CNN"),
        Architecture(
            "cnn_lstm", "cnn+lstm", "clips", "recurrent:build_cnn_lstm", CnnLstmSizes,
            "TimeDistributed CNN + LSTM",
        ),
        Architecture(
            "convlstm2d", "convlstm2d", "clips", "recurrent:build_convlstm2d", ConvLstmSizes,
            "ConvLSTM2D",
        ),
        Architecture(
            "2dcnn", "2dcnn", "frames", "frame2d:build_2dcnn", Conv2DSizes,
            "per-frame 2D CNN, majority vote over the frames", transform_set="frame2d",
        ),
        Architecture(
            "ststnet", "ststnet", "flow", "flow_nets:build_ststnet", StstnetSizes,
            "STSTNet (shallow triple-stream CNN on onset-apex flow and strain)",
            transform_set="flow",
        ),
        Architecture(
            "offapexnet", "offapexnet", "flow", "flow_nets:build_offapexnet", OffApexNetSizes,
            "OFF-ApexNet (two-stream CNN on onset-apex flow)", transform_set="flow",
        ),
        Architecture(
            "rcn_a", "rcn-a", "flow", "rcn:build_rcn", RcnSizes,
            "RCN-A (recurrent convolutional network with attention, on onset-apex flow)",
            transform_set="flow",
        ),
    )
}  # fmt: skip

ALL = "all"

# Every augmented set some architecture trains on, in a fixed order.
TRANSFORM_SETS: tuple[str, ...] = tuple(
    dict.fromkeys(a.transform_set for a in ARCHITECTURES.values())
)


# The augmented sets whose models take flow (their augmentation branch computes it).
FLOW_SETS: frozenset[str] = frozenset(
    a.transform_set for a in ARCHITECTURES.values() if a.sees == "flow"
)
if any(a.transform_set in FLOW_SETS for a in ARCHITECTURES.values() if a.sees != "flow"):
    raise RuntimeError("a transform set is either for flow models or for frame models")

# Groups a user can select by one name (``--params model:flow``).
GROUPS: dict[str, tuple[str, ...]] = {
    "study": tuple(k for k, a in ARCHITECTURES.items() if a.sees != "flow"),
    "flow": tuple(k for k, a in ARCHITECTURES.items() if a.sees == "flow"),
}


def model_choices() -> tuple[str, ...]:
    """Every value the ``model`` parameter accepts."""
    aliases = [a.name for a in ARCHITECTURES.values() if a.name != a.key]
    return (*ARCHITECTURES, *aliases, *GROUPS, ALL)


def get(name: str) -> Architecture:
    """The architecture called ``name`` (its key or the study's name)."""
    for architecture in ARCHITECTURES.values():
        if name in (architecture.key, architecture.name):
            return architecture
    raise ParameterError([choice_problem("model", name, model_choices())])


def selected(model: str) -> tuple[Architecture, ...]:
    """The architectures a ``model`` parameter selects (``all``: every one; ``study``: the
    study's four frame models; ``flow``: the flow models)."""
    if model == ALL:
        return tuple(ARCHITECTURES.values())
    if model in GROUPS:
        return tuple(ARCHITECTURES[key] for key in GROUPS[model])
    return (get(model),)


def task_variant(n_classes: int) -> str:
    """The study's size variant for a task: ``binary`` (2 classes) or ``multiclass``."""
    return "binary" if n_classes == 2 else "multiclass"
