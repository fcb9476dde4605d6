"""notebooks/explore_results.ipynb: committed without outputs, and it runs headlessly
(nbclient, this interpreter's IPython kernel) on a project where a tiny synthetic sample was
ingested, augmented and used to train one architecture."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

PROJECT_ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK = PROJECT_ROOT / "notebooks" / "explore_results.ipynb"

TINY_SAMPLE = (
    "synthetic.size:0.2,synthetic.width:128,synthetic.height:96,"
    "synthetic.casme2_width:128,synthetic.casme2_height:96,"
    "synthetic.smic_width:128,synthetic.smic_height:96,"
    "synthetic.onset_to_offset_frames:[6,8],synthetic.margin_frames:[1,2],seed:7,"
    "ingestion.image_size:32,ingestion.sources.synthetic.casme2.enabled:false"
)
ONE_QUICK_MODEL = (
    "model:3dcnn,training.epochs:1,training.keras_verbose:0,"
    "evaluation.protocol:group_kfold,evaluation.n_splits:2"
)


def _outputs(cell: nbformat.NotebookNode) -> tuple[str, list[str]]:
    """A code cell's printed text and the MIME types of its rich outputs."""
    text, kinds = [], []
    for output in cell.get("outputs", []):
        if output["output_type"] == "stream":
            text.append(output["text"])
        elif output["output_type"] in ("display_data", "execute_result"):
            kinds.extend(output["data"])
            text.append(output["data"].get("text/plain", ""))
    return "".join(text), kinds


def _cells_by_tag(notebook: nbformat.NotebookNode) -> dict[str, nbformat.NotebookNode]:
    return {
        tag: cell
        for cell in notebook.cells
        if cell.cell_type == "code"
        for tag in cell.metadata.get("tags", [])
    }


def test_the_notebook_is_committed_without_outputs() -> None:
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(notebook)
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert code, "the notebook has no code"
    assert all(not cell.outputs and cell.execution_count is None for cell in code)
    assert code[0].source.splitlines()[-1] == "%load_ext kedro.ipython"
    assert {"clip-frames", "class-balance", "confusion-matrix", "mlflow-runs"} <= set(
        _cells_by_tag(notebook)
    )


@pytest.mark.slow
def test_the_notebook_runs_on_the_processed_sample(
    project_copy: Path, run_kedro, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = run_kedro(
        project_copy,
        "run",
        "--pipelines=ingestion,augmentation,train",
        "--params",
        f"{TINY_SAMPLE},{ONE_QUICK_MODEL}",
    )
    assert result.returncode == 0, (result.stdout + result.stderr)[-4000:]
    summary_dir = project_copy / "data" / "07_model_output" / "synthetic" / "binary" / "3dcnn"
    (summary_file,) = summary_dir.glob("summary.json/*/summary.json")
    run_id = json.loads(summary_file.read_text())["run"]["mlflow_run_id"]

    notebooks = project_copy / "notebooks"
    notebooks.mkdir()
    shutil.copy2(NOTEBOOK, notebooks / NOTEBOOK.name)
    notebook = nbformat.read(notebooks / NOTEBOOK.name, as_version=4)
    notebook.cells.append(nbformat.v4.new_code_cell("import sys\nprint(sys.executable)"))
    for name, value in {
        "KEDRO_DISABLE_TELEMETRY": "true",
        "DO_NOT_TRACK": "1",
        "TF_CPP_MIN_LOG_LEVEL": "2",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    NotebookClient(
        notebook,
        timeout=300,
        kernel_name="python3",
        resources={"metadata": {"path": str(notebooks)}},
    ).execute()

    # The kernel ran this interpreter (the project's environment).
    assert _outputs(notebook.cells[-1])[0].strip() == sys.executable
    cells = _cells_by_tag(notebook)
    setup_text, _ = _outputs(cells["setup"])
    assert f"project: {project_copy}" in setup_text
    assert "data source: synthetic, mode: binary" in setup_text

    clips_text, _ = _outputs(cells["clips"])
    assert "9 frames of 32 x 32 px" in clips_text
    assert "image/png" in _outputs(cells["clip-frames"])[1]

    balance_text, balance_kinds = _outputs(cells["class-balance"])
    assert "original" in balance_text and "augmented" in balance_text
    assert "image/png" in balance_kinds

    results_text, _ = _outputs(cells["results"])
    for missing in ("2dcnn", "cnn_lstm", "convlstm2d"):
        assert f"no results for {missing} yet" in results_text
    assert "no results for 3dcnn" not in results_text
    assert run_id in results_text
    confusion_kinds = _outputs(cells["confusion-matrix"])[1]
    assert confusion_kinds.count("image/png") == 1  # one trained architecture

    mlflow_text, _ = _outputs(cells["mlflow-runs"])
    assert f"sqlite:///{project_copy}/mlflow.db" in mlflow_text
    assert f"3dcnn: MLflow run {run_id} (listed above)" in mlflow_text
