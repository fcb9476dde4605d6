"""The ingestion pipeline run the Kedro way (SequentialRunner + DataCatalog) with MTCNN."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from kedro.io import DataCatalog, MemoryDataset
from kedro.runner import SequentialRunner

from microexpression_pipeline.datasets import NpzDataset
from microexpression_pipeline.errors import InputError
from microexpression_pipeline.parameters import ParameterError
from microexpression_pipeline.pipelines.ingestion import create_pipeline
from microexpression_pipeline.pipelines.ingestion.faces import CropTransform, raw_to_crop
from microexpression_pipeline.pipelines.ingestion.nodes import prepare_raw_sources
from microexpression_pipeline.pipelines.ingestion.raw_sources import RawDataError
from microexpression_pipeline.pipelines.ingestion.schema import IngestionParams
from microexpression_pipeline.synthetic.settings import SyntheticSettings

from .conftest import PROJECT_ROOT, build_casme, build_samm, face_centre_in_frame

# Kedro validates these sections for a session's run; a hand-made catalog holds the models.
SECTION_MODELS = {"ingestion": IngestionParams, "synthetic": SyntheticSettings}


def _catalog(tmp_path: Path, params: dict) -> DataCatalog:
    text = (PROJECT_ROOT / "conf/base/catalog_ingestion.yml").read_text()
    text = text.replace("${runtime_params:data_source,${globals:data_source}}", "fixture")
    config = yaml.safe_load(text.replace("${globals:data_root}/", f"{tmp_path}/data/"))
    config = {k: v for k, v in config.items() if "MlflowMetrics" not in v["type"]}
    catalog = DataCatalog.from_config(config)
    for source in ("samm", "casme2"):
        catalog[f"{source}.ingestion_metrics"] = MemoryDataset()
    for key, value in params.items():
        model = SECTION_MODELS.get(key)
        catalog[f"params:{key}"] = MemoryDataset(model.model_validate(value) if model else value)
    return catalog


@pytest.fixture(scope="module")
def pipeline_run(tmp_path_factory, ingestion_params, label_mappings, mtcnn_detector):
    tmp_path = tmp_path_factory.mktemp("run")
    samm_root, samm_sheet = build_samm(tmp_path / "raw_samm")
    casme_root, casme_sheet = build_casme(tmp_path / "raw_casme")
    ingestion = {
        **ingestion_params,
        "image_size": 48,
        "sources": {
            "fixture": {
                "samm": {"format": "samm", "root": str(samm_root), "metadata": str(samm_sheet)},
                "casme2": {
                    "format": "casme2",
                    "root": str(casme_root),
                    "metadata": str(casme_sheet),
                },
            }
        },
    }
    IngestionParams.model_validate(ingestion)
    params = {
        "data_source": "fixture",
        "ingestion": ingestion,
        "synthetic": {},
        "seed": 1,
        "label_mappings": label_mappings,
    }
    catalog = _catalog(tmp_path, params)
    SequentialRunner().run(create_pipeline(), catalog)
    return tmp_path, catalog, ingestion


def test_outputs_saved_versioned_and_aligned(pipeline_run):
    tmp_path, catalog, _ingestion = pipeline_run
    for source, n_clips in (("samm", 3), ("casme2", 2)):
        clips = catalog.load(f"{source}.clips")
        index = catalog.load(f"{source}.clip_index")
        assert clips["clips"].dtype == np.uint8
        assert clips["clips"].shape == (n_clips, 9, 48, 48)
        assert list(clips["clip_ids"]) == list(index["clip_id"])
        assert clips["clip_ids"].dtype.kind == "U"
        assert index["face_found"].all()
        assert all(len(files) == 9 for files in index["frame_files"])
        summary = catalog.load(f"{source}.ingestion_summary")
        assert summary["rows_read"] == summary["kept"] == n_clips
        assert summary["face_found_rate"] == 1.0
        assert summary["sheet"]["file_format"] == "xlsx" and summary["sheet"]["worksheet"]
        quarantine = catalog.load(f"{source}.quarantine")
        assert list(quarantine.columns) == [
            "dataset",
            "subject",
            "clip_id",
            "reason",
            "detail",
            "action",
        ]
        for name in ("ingestion_crops", "ingestion_detections"):
            versions = list(
                (tmp_path / "data/08_reporting/fixture" / source / f"{name}.png").iterdir()
            )
            assert len(versions) == 1 and (versions[0] / f"{name}.png").stat().st_size > 1000
        path = next((tmp_path / "data/03_primary/fixture" / source / "clips.npz").iterdir())
        NpzDataset(filepath=str(path / "clips.npz")).load()  # loads without pickle
    casme = catalog.load("casme2.quarantine")
    assert list(casme["reason"]) == ["apex_fallback"]
    metrics = catalog.load("samm.ingestion_metrics")
    assert metrics["kept"] == {"value": 3.0, "step": 0}
    assert json.dumps(summary)  # plain JSON


def test_crops_centred_on_the_known_face(pipeline_run):
    _, catalog, ingestion = pipeline_run
    size = ingestion["image_size"]
    truth = face_centre_in_frame()
    for source in ("samm", "casme2"):
        index = catalog.load(f"{source}.clip_index")
        for row in index.itertuples():
            crop = CropTransform(
                (row.crop_centre_x, row.crop_centre_y), row.crop_side, row.crop_angle
            )
            x, y = raw_to_crop(truth, crop, size)
            assert abs(x - size / 2) < 0.08 * size, (row.clip_id, x)
            assert abs(y - size / 2) < 0.08 * size, (row.clip_id, y)
            assert abs(row.crop_angle) < 10  # the astronaut's eyes tilt by ~4 degrees


def test_index_columns(pipeline_run):
    _, catalog, _ = pipeline_run
    index = catalog.load("samm.clip_index")
    assert list(index["subject"]) == ["006", "006", "017"]
    assert index.iloc[2]["frame_files"][0] == "017_1395.jpg"
    for column in ("onset", "apex", "offset", "emotion", "action_units", "source_folder"):
        assert column in index
    assert isinstance(index, pd.DataFrame)


def _fixture_params(ingestion_params, label_mappings, samm, casme2) -> dict:
    ingestion = {**ingestion_params, "sources": {"fixture": {"samm": samm, "casme2": casme2}}}
    return {
        "data_source": "fixture",
        "ingestion": ingestion,
        "synthetic": {},
        "seed": 1,
        "label_mappings": label_mappings,
    }


OFF = {"format": "casme2", "root": "nowhere", "metadata": "nowhere.xlsx", "enabled": False}


def test_disabled_sources_write_empty_outputs(tmp_path, ingestion_params, label_mappings):
    """A source switched off gives empty, well-formed outputs."""
    samm_off = {**OFF, "format": "samm"}
    catalog = _catalog(tmp_path, _fixture_params(ingestion_params, label_mappings, samm_off, OFF))
    SequentialRunner().run(create_pipeline(), catalog)
    for source in ("samm", "casme2"):
        assert catalog.load(f"{source}.clips")["clips"].shape == (0, 9, 32, 32)
        assert len(catalog.load(f"{source}.clip_index")) == 0
        summary = catalog.load(f"{source}.ingestion_summary")
        assert (summary["enabled"], summary["kept"], summary["rejected"]) == (False, 0, 0)


def test_root_one_level_too_high_fails_saving_no_clips(tmp_path, ingestion_params, label_mappings):
    """The parent of SAMM/ as root: no clip folder found, the run stops naming the layout and
    the fix, and no clip set (empty or not) is saved for the next pipeline to load."""
    root, sheet = build_samm(tmp_path / "raw", image_files=False)
    samm = {"format": "samm", "root": str(root.parent), "metadata": str(sheet)}
    catalog = _catalog(tmp_path, _fixture_params(ingestion_params, label_mappings, samm, OFF))
    with pytest.raises(RawDataError) as error:
        SequentialRunner().run(create_pipeline(), catalog)
    message = str(error.value)
    assert "kept 0 of the 3 rows" in message and "missing_clip_folder 3" in message
    assert "Found in" in message and "SAMM/" in message
    assert "expected subject folders like 006/ holding clip folders like 006/006_1_2/" in message
    assert f"set root to {root}." in message
    assert not catalog.exists("samm.clips") and not catalog.exists("samm.clip_index")


def test_unknown_data_source_and_missing_root_are_named(tmp_path, ingestion_params):
    synthetic = SyntheticSettings.model_validate({})
    ingestion = IngestionParams.model_validate(ingestion_params)
    with pytest.raises(InputError, match=r"data_source: 'nope'.*ingestion\.sources"):
        prepare_raw_sources("nope", ingestion, synthetic, 1)
    missing = {"format": "samm", "root": str(tmp_path / "SAMM"), "metadata": str(tmp_path)}
    params = {**ingestion_params, "sources": {"real": {"samm": missing}}}
    with pytest.raises(FileNotFoundError, match=r"ingestion\.sources\.real\.samm\.root"):
        prepare_raw_sources("real", IngestionParams.model_validate(params), synthetic, 1)
    (tmp_path / "SAMM").write_text("a file where the frame folder should be")
    with pytest.raises(RawDataError, match=r"samm\.root: .*SAMM is not a folder"):
        prepare_raw_sources("real", IngestionParams.model_validate(params), synthetic, 1)
    sheet_dir = {**missing, "root": str(tmp_path / "frames"), "metadata": str(tmp_path / "m")}
    (tmp_path / "frames").mkdir()
    (tmp_path / "m").mkdir()
    params = {**ingestion_params, "sources": {"real": {"samm": sheet_dir}}}
    with pytest.raises(RawDataError, match=r"samm\.metadata: .*m is not a file"):
        prepare_raw_sources("real", IngestionParams.model_validate(params), synthetic, 1)


def test_parameter_schema_names_the_bad_key(ingestion_params):
    with pytest.raises(ParameterError, match=r"ingestion\.no_face") as error:
        IngestionParams.model_validate({**ingestion_params, "no_face": "skip"})
    assert [p for p in error.value.problems if p.startswith("ingestion.no_face:")]
    assert all("'skip'" in p for p in error.value.problems)
