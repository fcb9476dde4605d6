"""Crops of the generated sample are centred on the generator's known face position."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from microexpression_pipeline import synthetic
from microexpression_pipeline.pipelines.ingestion.extraction import extract_all
from microexpression_pipeline.pipelines.ingestion.faces import CropTransform, raw_to_crop
from microexpression_pipeline.pipelines.ingestion.nodes import build_clip_index
from microexpression_pipeline.pipelines.ingestion.schema import IngestionParams

SETTINGS = {
    "size": 0.01,
    "full_size": False,
    "width": 256,
    "height": 160,
    "casme2_width": 192,
    "casme2_height": 144,
    "smic_width": 192,
    "smic_height": 144,
    "onset_to_offset_frames": [10, 14],
    "margin_frames": [1, 2],
    "au_intensity": 1.5,
    "noise_sigma": 2.0,
    "jpeg_quality": 90,
}


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    out = tmp_path_factory.mktemp("synthetic") / "synthetic"
    return synthetic.ensure_synthetic_sample({**SETTINGS, "output_dir": str(out)}, 7)


@pytest.mark.parametrize(
    ("name", "root", "sheet"),
    [
        ("samm", "samm_root", "samm_metadata_xlsx"),
        ("casme2", "casme2_root", "casme2_metadata_xlsx"),
        ("smic", "smic_root", None),  # SMIC-HS has no sheet
    ],
)
def test_crops_centred_on_generated_face(
    name, root, sheet, sample, ingestion_params, label_mappings, mtcnn_detector
):
    if root not in sample:
        pytest.skip(f"the synthetic sample has no {name} part yet")
    source = {
        "name": name,
        "enabled": True,
        "format": name,
        "root": sample[root],
        "metadata": sample[sheet] if sheet else None,
    }
    ingestion = IngestionParams.model_validate(ingestion_params)
    candidates, quarantine, stats = build_clip_index(source, ingestion, label_mappings)
    assert len(candidates) == stats["rows_read"]
    assert set(quarantine["action"]) <= {"patched", "noted"}
    assert set(quarantine.loc[quarantine["action"] == "noted", "reason"]) <= {"repeated_frames"}
    candidates = candidates.head(3)
    clips, index, _, _ = extract_all(candidates, ingestion, mtcnn_detector)
    assert index["face_found"].all()
    truth = pd.read_csv(sample["ground_truth_csv"])
    truth = truth[truth["dataset"].str.lower() == name]
    size = ingestion.image_size
    for row in index.itertuples():
        folder = "/".join(row.source_folder.split("/")[-2:])
        known = truth[truth["clip_dir"].str.endswith(folder)].iloc[0]
        centre = (known.face_x + known.face_w / 2, known.face_y + known.face_h / 2)
        crop = CropTransform((row.crop_centre_x, row.crop_centre_y), row.crop_side, row.crop_angle)
        x, y = raw_to_crop(centre, crop, size)
        assert abs(x - size / 2) < 0.08 * size and abs(y - size / 2) < 0.08 * size, row.clip_id
        # the inter-ocular distance is fixed in the crop
        eyes = [
            raw_to_crop((known.left_eye_x, known.left_eye_y), crop, size),
            raw_to_crop((known.right_eye_x, known.right_eye_y), crop, size),
        ]
        assert np.hypot(*(eyes[1] - eyes[0])) == pytest.approx(size / 3.12, rel=0.15)
    assert clips["clips"].shape == (len(index), 9, size, size)


def test_synthetic_data_source_uses_the_generated_sample(sample, ingestion_params):
    from microexpression_pipeline.pipelines.ingestion.nodes import prepare_raw_sources
    from microexpression_pipeline.synthetic.settings import SyntheticSettings

    settings = SyntheticSettings.model_validate({**SETTINGS, "output_dir": sample["output_dir"]})
    ingestion = IngestionParams.model_validate(ingestion_params)
    samm, casme2, smic = prepare_raw_sources("synthetic", ingestion, settings, 7)
    assert samm["root"] == str(Path(sample["samm_root"]).resolve())
    assert casme2["metadata"] == str(Path(sample["casme2_metadata_xlsx"]).resolve())
    assert (samm["format"], casme2["format"], smic["format"]) == ("samm", "casme2", "smic")
    if "smic_root" in sample:
        assert smic["enabled"] and smic["metadata"] is None
        assert smic["root"] == str(Path(sample["smic_root"]).resolve())
