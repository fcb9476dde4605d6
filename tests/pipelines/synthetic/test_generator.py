"""Determinism, reuse, regeneration and refusal of ``ensure_synthetic_sample``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from microexpression_pipeline.parameters import ParameterError
from microexpression_pipeline.pipelines.synthetic.nodes import generate_synthetic_sample
from microexpression_pipeline.synthetic import ForeignFolderError, ensure_synthetic_sample
from microexpression_pipeline.synthetic.__main__ import main
from microexpression_pipeline.synthetic.generator import MARKER
from microexpression_pipeline.synthetic.settings import SyntheticSettings


def _contents(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def test_same_seed_and_settings_give_identical_bytes(tmp_path, tiny_settings):
    first, second = tmp_path / "a" / "sample", tmp_path / "b" / "sample"
    ensure_synthetic_sample({**tiny_settings, "output_dir": str(first)}, 11)
    ensure_synthetic_sample({**tiny_settings, "output_dir": str(second)}, 11)
    a, b = _contents(first), _contents(second)
    assert len(a) > 100
    assert a.keys() == b.keys()
    assert [name for name in a if a[name] != b[name]] == []


def test_reuses_identical_sample_and_regenerates_changed_one(tmp_path, tiny_settings):
    out = tmp_path / "sample"
    settings = {**tiny_settings, "output_dir": str(out)}
    first = ensure_synthetic_sample(settings, 5)
    assert not first["reused"]
    stamp = (out / "ground_truth.csv").stat().st_mtime_ns
    again = ensure_synthetic_sample(settings, 5)
    assert again["reused"]
    assert (out / "ground_truth.csv").stat().st_mtime_ns == stamp
    assert {k: v for k, v in again.items() if k not in ("reused", "seconds")} == {
        k: v for k, v in first.items() if k not in ("reused", "seconds")
    }

    changed = ensure_synthetic_sample({**settings, "noise_sigma": 4.0}, 5)
    assert not changed["reused"]
    assert json.loads((out / MARKER).read_text())["settings"]["noise_sigma"] == 4.0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sample"]  # no temp folders left

    next(out.joinpath("SAMM").rglob("*.jpg")).unlink()  # damaged: regenerated, not reused
    assert not ensure_synthetic_sample({**settings, "noise_sigma": 4.0}, 5)["reused"]


def test_refuses_a_folder_it_did_not_write(tmp_path, tiny_settings):
    out = tmp_path / "precious"
    out.mkdir()
    (out / "thesis.txt").write_text("mine")
    with pytest.raises(ForeignFolderError, match=str(out)):
        ensure_synthetic_sample({**tiny_settings, "output_dir": str(out)}, 1)
    assert sorted(p.name for p in out.iterdir()) == ["thesis.txt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["precious"]


def test_empty_existing_folder_is_filled(tmp_path, tiny_settings):
    out = tmp_path / "empty"
    out.mkdir()
    summary = ensure_synthetic_sample({**tiny_settings, "output_dir": str(out)}, 1)
    assert Path(summary["ground_truth_csv"]).is_file()
    assert summary["files"] == json.loads((out / MARKER).read_text())["file_count"]


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("size", 0.0, "synthetic.size: Input should be greater than 0"),
        ("size", 2.0, "synthetic.size: Input should be less than or equal to 1"),
        ("width", 20, "synthetic.width: Input should be greater than or equal to 96"),
        ("margin_frames", [9, 3], "synthetic.margin_frames: Value error, needs [low, high]"),
        ("jpeg_quality", 101, "synthetic.jpeg_quality: Input should be less than or equal to 100"),
        ("colour", True, "synthetic.colour: Extra inputs are not permitted"),
    ],
)
def test_bad_settings_name_the_setting_and_range(tmp_path, tiny_settings, key, value, expected):
    with pytest.raises(ParameterError) as error:
        ensure_synthetic_sample({**tiny_settings, key: value, "output_dir": str(tmp_path / "x")}, 1)
    assert expected in str(error.value)
    assert not (tmp_path / "x").exists()


def test_bad_seed_is_refused(tmp_path, tiny_settings):
    with pytest.raises(ValueError, match="seed: must be a non-negative integer"):
        ensure_synthetic_sample({**tiny_settings, "output_dir": str(tmp_path / "x")}, -1)


def test_command_line(tmp_path, capsys):
    out = tmp_path / "cli"
    code = main(["--out", str(out), "--size", "0.02", "--width", "96", "--height", "64"])
    assert code == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["output_dir"] == str(out) and summary["samm_clips"] == 8
    assert json.loads((out / MARKER).read_text())["settings"]["width"] == 96

    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "notes.txt").write_text("x")
    assert main(["--out", str(tmp_path / "other")]) == 2
    assert "refusing" in capsys.readouterr().err


def test_yaml_defaults_match_the_schema(project_root):
    conf = yaml.safe_load((project_root / "conf/base/parameters_synthetic.yml").read_text())
    assert SyntheticSettings.model_validate(conf["synthetic"]) == SyntheticSettings()
    # The node's typed argument is this schema (Kedro validates the section against it).
    assert generate_synthetic_sample.__annotations__["settings"] == "SyntheticSettings"
