"""TensorFlow is imported only where a model is built, trained or run, and then quietly."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

LIST_PIPELINES = """
import sys
from pathlib import Path
from kedro.framework.startup import bootstrap_project
bootstrap_project(Path(sys.argv[1]))
from kedro.framework.project import pipelines
import microexpression_pipeline.settings
names = sorted(pipelines)
assert "train" in names and "megc2019" in names, names
print("tensorflow" in sys.modules, "keras" in sys.modules, len(pipelines["train"].nodes))
"""

FIRST_KERAS_IMPORT = """
import microexpression_pipeline
import keras
print(keras.__version__)
"""


def _python(code: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        check=False,
    )


def test_listing_pipelines_does_not_import_tensorflow():
    """Kedro imports every pipeline's nodes to list them (each `kedro run`, kedro-viz);
    none of that may pull TensorFlow in (about 7 s)."""
    result = _python(LIST_PIPELINES, str(ROOT))
    assert result.returncode == 0, result.stderr[-3000:]
    tensorflow, keras, train_nodes = result.stdout.split()[-3:]
    assert (tensorflow, keras) == ("False", "False")
    assert int(train_nodes) > 0


def test_first_tensorflow_import_prints_no_cpp_notices():
    """The first `import keras` (TensorFlow underneath) anywhere in the project is silenced at
    the file descriptor: TensorFlow's oneDNN / CPU-feature notices come before its logging."""
    result = _python(FIRST_KERAS_IMPORT)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip().split(".")[0] == "3"
    assert "oneDNN" not in result.stderr, result.stderr
    assert "InitializeLog" not in result.stderr, result.stderr


def test_a_failed_tensorflow_import_is_raised_visibly():
    """Silencing the import does not hide why it failed."""
    code = (
        "import sys; sys.modules['tensorflow.python'] = None\n"
        "import microexpression_pipeline\nimport tensorflow\n"
    )
    result = _python(code)
    assert result.returncode != 0
    assert "ModuleNotFoundError" in result.stderr or "ImportError" in result.stderr
