"""One progress bar per architecture over its folds: fold, epoch and last validation loss."""

from __future__ import annotations

from typing import Any

import keras
from tqdm.auto import tqdm


class FoldProgress(keras.callbacks.Callback):
    """Advances one bar by an epoch at a time over every fold and the final fit.

    Shown instead of Keras's per-epoch lines (``training.keras_verbose: 0``); with Keras's own
    output asked for, it stays silent."""

    def __init__(self, name: str, n_folds: int, epochs: int, enabled: bool = True) -> None:
        super().__init__()
        self._n_folds = n_folds
        self._fold = "-"
        self._bar = tqdm(
            total=(n_folds + 1) * epochs, desc=f"train {name}", unit="epoch", disable=not enabled
        )

    def start_fold(self, number: int | None) -> None:
        """The fold about to be fitted (1-based), or None for the final fit on all data."""
        self._fold = f"{number}/{self._n_folds}" if number is not None else "final"
        self._bar.set_postfix_str(f"fold {self._fold}")

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        logs = logs or {}
        loss = logs.get("val_loss", logs.get("loss"))
        which = "val_loss" if "val_loss" in logs else "loss"
        text = f"fold {self._fold}, epoch {epoch + 1}"
        if loss is not None:
            text += f", {which} {float(loss):.3f}"
        self._bar.set_postfix_str(text)
        self._bar.update(1)

    def close(self) -> None:
        self._bar.close()
