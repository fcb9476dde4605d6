"""Hand-made prediction tables and training outputs, as the train pipeline saves them."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

CLASSES = ["negative", "positive", "surprise"]

# (fold, subject, true, predicted): fold 1 has no "positive" clip; "surprise" is predicted
# once but never true in fold 0.
ROWS = [
    (0, "006", "negative", "negative"),
    (0, "006", "negative", "surprise"),
    (0, "007", "positive", "positive"),
    (0, "007", "negative", "negative"),
    (1, "009", "negative", "positive"),
    (1, "009", "surprise", "surprise"),
    (1, "010", "negative", "negative"),
    (1, "010", "surprise", "negative"),
    (2, "011", "positive", "negative"),
    (2, "011", "negative", "negative"),
    (2, "012", "positive", "positive"),
    (2, "012", "negative", "negative"),
    (2, "012", "negative", "negative"),
]


def predictions_table(
    rows=ROWS, classes=CLASSES, protocol: str = "group_kfold", repeat: int = 0
) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["fold", "subject", "true_label", "predicted_label"])
    frame.insert(0, "clip_id", [f"c{i}" for i in range(len(frame))])
    frame.insert(0, "sample_id", [f"c{i}" for i in range(len(frame))])
    for name in classes:
        frame[f"prob_{name}"] = (frame["predicted_label"] == name).astype(float)
    frame["repeat"] = repeat
    frame["protocol"] = protocol
    frame["subject_independent"] = protocol != "stratified_kfold"
    return frame


def histories_table(n_folds: int = 3, epochs: int = 4) -> pd.DataFrame:
    rows = []
    for fold in [*range(n_folds), -1]:
        for epoch in range(1, epochs + 1):
            rows.append(
                {
                    "epoch": epoch,
                    "loss": 1.0 / epoch + 0.05 * fold,
                    "accuracy": 0.5 + 0.1 * epoch,
                    "val_loss": 1.1 / epoch,
                    "val_accuracy": 0.45 + 0.1 * epoch,
                    "lr": 0.003,
                    "fold": fold,
                }
            )
    return pd.DataFrame(rows)


def summary(architecture: str, classes=CLASSES, protocol: str = "group_kfold") -> dict:
    return {
        "architecture": architecture,
        "classes": list(classes),
        "protocol": protocol,
        "subject_independent": protocol != "stratified_kfold",
        "n_folds": 3,
        "metrics": {"accuracy": 0.0, "uf1": 0.0, "uar": 0.0},
        "mode": "megc3",
        "seed": 42,
        "settings": {"epochs": 4},
        "evaluation": {"protocol": protocol, "n_splits": 3},
        "run": {
            "mlflow_run_id": f"run-{architecture}",
            "kedro_session_id": "2026-01-02T03.04.05.678Z",
            "data_source": "synthetic",
            "input_versions": {"augmentation.clip.clips": "2026-01-01T00.00.00.000Z"},
        },
    }


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(0)


@pytest.fixture
def classes() -> list[str]:
    return list(CLASSES)


@pytest.fixture(scope="session")
def make_predictions():
    """``make_predictions(rows=ROWS, classes=CLASSES, protocol=..., repeat=0)``."""
    return predictions_table


@pytest.fixture(scope="session")
def make_histories():
    return histories_table


@pytest.fixture(scope="session")
def make_summary():
    return summary
