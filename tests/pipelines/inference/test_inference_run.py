"""``kedro run --pipeline=inference`` through the real CLI: a video of a synthetic SMIC-HS
clip gives the label and probabilities the trained model gives that clip as ingestion makes
it, with the model from MLflow (3dcnn) or the latest local one (ststnet); a bad source or
model URI ends the run with one message."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from microexpression_pipeline.models.card import SYNTHETIC_WARNING

from .conftest import TrainedProject

OUTPUTS = Path("data") / "07_model_output" / "inference" / "predictions.csv"
SHEETS = Path("data") / "08_reporting" / "inference" / "contact_sheet.png"
INPUTS = Path("data") / "05_model_input" / "inference" / "model_inputs.npz"


def _versions(folder: Path) -> set[str]:
    return {p.name for p in folder.iterdir()} if folder.is_dir() else set()


def _new_file(folder: Path, before: set[str], name: str) -> Path:
    """The one file ``name`` of a version of ``folder`` that was not in ``before``."""
    (version,) = _versions(folder) - before
    return folder / version / name


def _flat(text: str) -> str:
    """``text`` with its whitespace runs made single spaces (the log is wrapped)."""
    return " ".join(text.split())


@pytest.mark.slow
@pytest.mark.parametrize(
    ("arch", "model_params"),
    [
        ("3dcnn", "inference.model:models:/microexpression-binary-3dcnn/latest"),
        ("ststnet", "model:ststnet"),
    ],
)
def test_video_gives_the_models_prediction_for_the_ingested_clip(
    trained_project: TrainedProject, run_kedro, arch: str, model_params: str
) -> None:
    project = trained_project.root
    onset, apex, offset = trained_project.key_frames
    params = (
        f"inference.source:{trained_project.video},inference.onset:{onset},"
        f"inference.apex:{apex},inference.offset:{offset},{model_params}"
    )
    tables, sheets = _versions(project / OUTPUTS), _versions(project / SHEETS)
    inputs = _versions(project / INPUTS)
    result = run_kedro(project, "run", "--pipeline=inference", "--params", params)
    log = result.stdout + result.stderr
    assert result.returncode == 0, log[-4000:]

    predictions = pd.read_csv(_new_file(project / OUTPUTS, tables, "predictions.csv"))
    assert _new_file(project / SHEETS, sheets, "contact_sheet.png").stat().st_size > 0
    assert len(predictions) == 1, predictions
    with np.load(_new_file(project / INPUTS, inputs, "model_inputs.npz")) as seen:
        # the video's frames cropped exactly as ingestion cropped the clip's frame files
        np.testing.assert_array_equal(seen["clips"][0], trained_project.clip)
    row = predictions.iloc[0]
    card = trained_project.card(arch)
    expected = trained_project.probabilities(arch)
    got = row[[f"prob_{name}" for name in card.classes]].to_numpy(dtype=np.float64)
    np.testing.assert_allclose(got, expected, atol=1e-5)
    assert row["label"] == card.classes[int(np.argmax(expected))]
    assert (row["onset"], row["apex"], row["offset"]) == (onset, apex, offset)
    assert not row["spotted"]
    assert (row["architecture"], row["mode"], row["trained_on"]) == (
        card.architecture_name,
        "binary",
        "synthetic",
    )
    assert row["note"] == SYNTHETIC_WARNING
    assert "trained on synthetic data" in _flat(log)


@pytest.mark.slow
@pytest.mark.parametrize("bad", ["corrupt video", "unknown model"])
def test_bad_input_ends_with_one_message(
    trained_project: TrainedProject, run_kedro, tmp_path: Path, bad: str
) -> None:
    if bad == "corrupt video":
        video = tmp_path / "corrupt.mp4"
        video.write_bytes(np.random.default_rng(0).bytes(4096))
        params = f"inference.source:{video},model:3dcnn"
        says = f"Error: {video} cannot be read as a video"
    else:
        uri = "models:/no-such-model/1"
        params = f"inference.source:{trained_project.video},inference.model:{uri}"
        says = f"Error: inference.model: {uri!r} cannot be loaded"
    result = run_kedro(trained_project.root, "run", "--pipeline=inference", "--params", params)
    output = result.stdout + result.stderr
    assert result.returncode != 0, output[-4000:]
    assert "Traceback" not in output, output[-4000:]
    errors = [line for line in output.splitlines() if line.startswith("Error: ")]
    assert len(errors) == 1, output[-4000:]
    assert errors[0].startswith(says), errors[0]
    assert "mlflow models search" not in errors[0], (
        "the message points to `mlflow models search`, which is no MLflow command "
        "(model_source.from_mlflow)"
    )
