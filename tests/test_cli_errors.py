"""A user error (a path, a data file, a parameter) ends ``kedro run`` with its message alone;
the traceback is in the run manifest, and on the terminal with ``--verbose``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from kedro.framework.cli.cli import KedroCLI

from microexpression_pipeline.cli import input_error
from microexpression_pipeline.errors import InputError
from microexpression_pipeline.pipelines.ingestion.raw_sources import RawDataError

MISSING_ROOT = "ingestion.sources.real.samm.root"


def _manifest(project: Path) -> dict:
    (path,) = [
        p for p in (project / "data" / "09_manifests").rglob("run_manifest.json") if p.is_file()
    ]
    return json.loads(path.read_text())


def test_missing_dataset_ends_with_one_message(project_copy: Path, run_kedro) -> None:
    """The real command line, on a project without the real datasets."""
    result = run_kedro(project_copy, "run", "--pipeline=ingestion", "--params", "data_source:real")
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert "Traceback" not in output
    assert len(result.stderr.strip().splitlines()) < 15, result.stderr
    tail = output.strip().splitlines()[-2:]
    assert tail[0].startswith(f"Error: {MISSING_ROOT}: data/01_raw/SAMM does not exist")
    assert "add --verbose to see it here" in tail[1]
    manifest = _manifest(project_copy)
    named = tail[1].split("Its traceback is in ")[1].split(" ")[0]
    assert json.loads((project_copy / named).read_text()) == manifest
    assert manifest["status"] == "failed" and manifest["error"].startswith("RawDataError")
    assert "Traceback (most recent call last)" in manifest["traceback"]
    assert "raw_sources.py" in manifest["traceback"]


def test_verbose_shows_the_traceback(project_copy: Path) -> None:
    runner = CliRunner()
    command = ["run", "--pipeline=ingestion", "--params", "data_source:real", "--verbose"]
    with pytest.raises(RawDataError, match=MISSING_ROOT):
        runner.invoke(KedroCLI(project_path=project_copy), command, catch_exceptions=False)


def test_other_errors_keep_their_traceback() -> None:
    plain = RuntimeError("a bug")
    assert input_error(plain) is None
    wrapped = RuntimeError("node failed")
    wrapped.__cause__ = RawDataError("root missing")
    assert isinstance(input_error(wrapped), InputError)
    context = ValueError("while handling")
    context.__context__ = InputError("bad sheet")
    assert str(input_error(context)) == "bad sheet"


def _fail_before_the_run(
    monkeypatch: pytest.MonkeyPatch, project: Path, error: Exception
) -> Result:
    """``kedro run`` in ``project`` (in-process) with ``error`` raised before the session."""

    def fail(*args: object, **kwargs: object) -> None:
        raise error

    monkeypatch.chdir(project)
    monkeypatch.setattr("microexpression_pipeline.cli.selected_nodes", fail)
    return CliRunner().invoke(KedroCLI(project_path=project), ["run"], catch_exceptions=False)


def test_user_error_before_the_run_names_no_manifest(
    project_copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No manifest is saved before the pipeline starts: the note names none."""
    cause = InputError("conf/base/x.yml: bad")
    wrapped = RuntimeError("while loading")
    wrapped.__cause__ = cause
    result = _fail_before_the_run(monkeypatch, project_copy, wrapped)
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        "Error: conf/base/x.yml: bad",
        "(Add --verbose to see its traceback.)",
    ]


def test_other_error_through_the_real_cli_keeps_its_traceback(
    project_copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(RuntimeError, match="a bug"):
        _fail_before_the_run(monkeypatch, project_copy, RuntimeError("a bug"))


def test_an_input_never_made_names_the_run_that_makes_it(project_copy: Path) -> None:
    """Training a mode whose augmented set was never made: the message says which run makes
    it, instead of Kedro's 'Did not find any versions' traceback."""
    runner = CliRunner()
    command = ["run", "--pipeline=train", "--params", "mode:megc3,model:ststnet"]
    result = runner.invoke(KedroCLI(project_path=project_copy), command)
    assert result.exit_code == 1, result.output
    assert "augmentation.flow.clips: no saved version yet" in result.output
    assert "augmented/megc3/flow/clips.npz" in result.output
    assert "Make it first with `kedro run --pipeline=augmentation`" in result.output
    assert "Traceback" not in result.output
