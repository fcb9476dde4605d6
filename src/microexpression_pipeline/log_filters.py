"""What the run log leaves out: messages a user can do nothing about, each with its reason.

Installed when the package is imported (``__init__.py``), before the project imports
TensorFlow. Everything else (the project's own warnings, Kedro's, Keras's) is shown.
"""

from __future__ import annotations

import contextlib
import importlib.abc
import importlib.util
import logging
import os
import sys
import warnings
from collections.abc import Iterator, Sequence
from importlib.machinery import ModuleSpec
from pathlib import Path
from types import ModuleType
from typing import Any

# TensorFlow's C++ INFO lines describe the installed wheel, not the run.
TF_CPP_MIN_LOG_LEVEL = "1"

IGNORED_WARNINGS = (
    # Kedro 1.7 (and kedro-mlflow) register resolvers with OmegaConf's deprecated call.
    (r"register_new_resolver\(\) is deprecated", UserWarning),
    # The catalog names datasets after their pipeline (`augmentation.clips`, the names
    # `--load-versions` takes); Kedro advises against dots in names.
    (r"One or more dataset names contain '\.' characters", UserWarning),
)

# Log records dropped, by logger: (logger, text the message contains).
IGNORED_RECORDS = (
    # kedro-mlflow's pipeline model class has no type hints on `predict`; MLflow says so when
    # the class is defined (as a warning it forces on, hence a log filter), though this
    # project never logs that class.
    ("py.warnings", "Add type hints to the `predict` method"),
    # Every fold trains a fresh model (so no fold starts from another's weights), whose
    # predict function TensorFlow traces anew, and then warns about retracing.
    ("tensorflow", "triggered tf.function retracing"),
)


class _DropContaining(logging.Filter):
    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text

    def filter(self, record: logging.LogRecord) -> bool:
        return self.text not in record.getMessage()


def install() -> None:
    """Set the filters above (idempotent)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", TF_CPP_MIN_LOG_LEVEL)
    for message, category in IGNORED_WARNINGS:
        warnings.filterwarnings("ignore", message=message, category=category)
    for name, text in IGNORED_RECORDS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, _DropContaining) and f.text == text for f in logger.filters):
            logger.addFilter(_DropContaining(text))
    quiet_tensorflow_import()


@contextlib.contextmanager
def _stderr_silenced() -> Iterator[None]:
    """File descriptor 2 points at /dev/null inside the block (C++ writes included)."""
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with Path(os.devnull).open("w") as null:
            os.dup2(null.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


class _QuietLoader(importlib.abc.Loader):
    """A module's own loader, run with file descriptor 2 silenced."""

    def __init__(self, loader: importlib.abc.Loader) -> None:
        self._loader = loader

    def create_module(self, spec: ModuleSpec) -> ModuleType | None:
        return self._loader.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        with _stderr_silenced():
            self._loader.exec_module(module)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._loader, name)


class _QuietTensorFlow(importlib.abc.MetaPathFinder):
    """TensorFlow, wherever it is first imported (``import keras`` included), imported without
    its C++ start-up notices (oneDNN is on; the CPU has instructions the wheel was not built
    for), which it prints before its logging starts, so that no log level silences them. An
    import error is raised as usual, after the block. The project imports TensorFlow only
    where it trains or predicts, not when Kedro lists its pipelines."""

    def find_spec(
        self, name: str, path: Sequence[str] | None = None, target: ModuleType | None = None
    ) -> ModuleSpec | None:
        if name != "tensorflow":
            return None
        sys.meta_path.remove(self)  # once: later imports find it in sys.modules
        spec = importlib.util.find_spec(name)
        if spec is not None and spec.loader is not None:
            spec.loader = _QuietLoader(spec.loader)
        return spec


def quiet_tensorflow_import() -> None:
    """Install ``_QuietTensorFlow`` (idempotent; nothing once TensorFlow is imported)."""
    if "tensorflow" in sys.modules or any(
        isinstance(finder, _QuietTensorFlow) for finder in sys.meta_path
    ):
        return
    sys.meta_path.insert(0, _QuietTensorFlow())
