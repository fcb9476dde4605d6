"""Nodes and the pipeline run the Kedro way: labels, counts, originals, determinism, outputs."""

from __future__ import annotations

import copy
import json

import numpy as np
import pandas as pd
import pytest
from kedro.io import DataCatalog, MemoryDataset
from kedro.runner import SequentialRunner
from matplotlib.figure import Figure

from microexpression_pipeline.datasets import NpzDataset
from microexpression_pipeline.motion.flow_settings import FeaturesParams
from microexpression_pipeline.parameters import ParameterError
from microexpression_pipeline.pipelines.augmentation import create_pipeline
from microexpression_pipeline.pipelines.augmentation.nodes import (
    augment_clips,
    label_clips,
    plan_samples,
    render_preview,
    summarise_counts,
)
from microexpression_pipeline.pipelines.augmentation.schema import AugmentationParams

SEED = 42

# The samm.* input names carry the ingestion pipeline's namespace, which Kedro warns about.
pytestmark = pytest.mark.filterwarnings("ignore:One or more dataset names contain:UserWarning")


FEATURES = {"flow": {"method": "farneback", "size": 28}, "contact_sheet": {"clips_per_class": 1}}


class KeptDataset(MemoryDataset):
    """A MemoryDataset the runner cannot release, so a test can read intermediate outputs."""

    def _release(self) -> None:
        pass


def run_nodes(clips, index, mode, label_mappings, augmentation, seed=SEED, set_name="clip"):
    augmentation = AugmentationParams.model_validate(augmentation)
    labelled = label_clips(clips, index, mode, label_mappings)
    samples = plan_samples(labelled, clips, mode, label_mappings, augmentation, seed, set_name)
    augmented = augment_clips(clips, samples, mode, label_mappings)
    meta, metrics = summarise_counts(
        labelled, samples, mode, label_mappings, augmentation, seed, set_name
    )
    return labelled, samples, augmented, meta, metrics


def run_pipeline(clips, index, mode, label_mappings, augmentation, seed=SEED):
    catalog = DataCatalog(
        {
            "samm.clips": MemoryDataset(clips),
            "samm.clip_index": MemoryDataset(index),
            "params:mode": MemoryDataset(mode),
            "params:label_mappings": MemoryDataset(label_mappings),
            "params:augmentation": MemoryDataset(AugmentationParams.model_validate(augmentation)),
            "params:seed": MemoryDataset(seed),
            # Farneback: the flow set's flow in milliseconds (TV-L1 has its own tests).
            "params:features": MemoryDataset(FeaturesParams.model_validate(FEATURES)),
            "augmentation.labelled_clips": KeptDataset(),
            "augmentation.flow.frames": KeptDataset(),
            **{
                f"augmentation.{set_name}.{name}": KeptDataset()
                for set_name in ("clip", "frame2d", "flow")
                for name in ("clips", "samples", "meta", "count_metrics", "preview")
            },
        }
    )
    SequentialRunner().run(create_pipeline(), catalog)
    return {name: catalog[name].load() for name in catalog if name.startswith("augm")}


@pytest.mark.parametrize("mode", ["binary", "multiclass", "megc3"])
def test_counts_per_class_equal_the_parameters(samm_like, label_mappings, augmentation, mode):
    clips, index = samm_like
    _, samples, augmented, meta, _ = run_nodes(clips, index, mode, label_mappings, augmentation)
    copies = augmentation["copies"][mode]
    assert meta["class_order"] == list(label_mappings[mode])
    for cls, n in meta["counts_before"].items():
        assert meta["counts_after"][cls] == n * (1 + copies[cls])
        per_source = samples[samples["label"] == cls].groupby("source_clip_id").size()
        assert (per_source == 1 + copies[cls]).all()
    assert len(augmented["clips"]) == len(samples) == sum(meta["counts_after"].values())


def test_study_counts_on_the_samm_mix(samm_like, label_mappings, augmentation):
    clips, index = samm_like
    *_, binary, _ = run_nodes(clips, index, "binary", label_mappings, augmentation)
    assert binary["counts_before"] == {"negative": 92, "positive": 26}
    assert binary["counts_after"] == {"negative": 92, "positive": 78}
    *_, multi, _ = run_nodes(clips, index, "multiclass", label_mappings, augmentation)
    assert multi["counts_before"] == {
        "Happiness": 26, "Surprise": 15, "Anger": 57, "Fear": 8, "Disgust": 9, "Contempt": 12,
        "Sadness": 6,
    }  # fmt: skip
    assert multi["counts_after"] == {
        "Happiness": 52, "Surprise": 60, "Anger": 57, "Fear": 48, "Disgust": 54, "Contempt": 60,
        "Sadness": 48,
    }  # fmt: skip


def test_balance_makes_a_pool_of_copies_whatever_the_class(samm_like, label_mappings, augmentation):
    clips, index = samm_like
    augmentation["balance"] = True
    augmentation["balance_pool_copies"] = 3
    for mode in ("binary", "multiclass"):
        _, samples, _, meta, _ = run_nodes(clips, index, mode, label_mappings, augmentation)
        assert (samples.groupby("source_clip_id").size() == 4).all()
        assert meta["counts_after"] == {c: 4 * n for c, n in meta["counts_before"].items()}
        assert meta["balance_pool_copies"] == 3


def test_originals_are_bit_identical_to_the_input(samm_like, label_mappings, augmentation):
    clips, index = samm_like
    _, samples, augmented, _, _ = run_nodes(
        clips, index, "multiclass", label_mappings, augmentation
    )
    originals = ~samples["is_augmented"].to_numpy()
    rows = samples["source_row"].to_numpy()
    assert np.array_equal(augmented["clips"][originals], clips["clips"][rows[originals]])
    assert (
        samples.loc[originals, "sample_id"] == samples.loc[originals, "source_clip_id"] + "/orig"
    ).all()
    kept = index[index["emotion"] != "Other"]
    assert sorted(samples.loc[originals, "source_clip_id"]) == sorted(kept["clip_id"])
    copies = augmented["clips"][~originals]
    assert not any(
        np.array_equal(c, clips["clips"][r]) for c, r in zip(copies, rows[~originals], strict=True)
    )


def test_same_seed_same_bytes_other_seed_other_bytes(
    tmp_path, samm_like, label_mappings, augmentation
):
    clips, index = samm_like
    first = run_nodes(clips, index, "multiclass", label_mappings, augmentation)
    second = run_nodes(clips, index, "multiclass", label_mappings, augmentation)
    for name, array in first[2].items():
        assert array.dtype == second[2][name].dtype
        assert array.tobytes() == second[2][name].tobytes(), name
    for i, result in enumerate((first, second)):
        NpzDataset(filepath=str(tmp_path / f"{i}.npz")).save(result[2])
    assert (tmp_path / "0.npz").read_bytes() == (tmp_path / "1.npz").read_bytes()
    pd.testing.assert_frame_equal(first[1], second[1])
    assert first[3] == second[3]
    other = run_nodes(clips, index, "multiclass", label_mappings, augmentation, seed=SEED + 1)
    assert other[2]["clips"].tobytes() != first[2]["clips"].tobytes()
    assert other[2]["sample_ids"].tolist() == first[2]["sample_ids"].tolist()


def test_every_sample_carries_its_provenance(samm_like, label_mappings, augmentation):
    clips, index = samm_like
    _, samples, augmented, _, _ = run_nodes(
        clips, index, "multiclass", label_mappings, augmentation
    )
    assert samples["sample_id"].is_unique
    subject_of = dict(zip(index["clip_id"], index["subject"], strict=True))
    assert (samples["subject"] == samples["source_clip_id"].map(subject_of)).all()
    copies = samples[samples["is_augmented"]]
    assert (copies["transforms"] != "").all()
    for row in copies.itertuples():
        draw = json.loads(row.transform_params)
        assert set(draw) == set(row.transforms.split("+"))
        if "translate" in draw:
            assert row.shift_px == draw["translate"]["shift_px"]
        if "rotate" in draw:
            assert row.angle_deg == draw["rotate"]["angle_deg"]
    assert augmented["sample_ids"].tolist() == samples["sample_id"].tolist()
    assert augmented["labels"].tolist() == samples["label_index"].tolist()


def test_per_frame_set_records_one_draw_per_frame(label_mappings, augmentation, clip_maker):
    clips, index = clip_maker({"Happiness": 2, "Anger": 2})
    _, samples, _, meta, _ = run_nodes(
        clips, index, "binary", label_mappings, augmentation, set_name="frame2d"
    )
    copies = samples[samples["is_augmented"]]
    assert copies["per_frame"].all() and copies["angle_deg"].isna().all()
    assert all(len(json.loads(p)) == 9 for p in copies["transform_params"])
    assert meta["transform_set"] == "frame2d"


def test_unmapped_clips_are_recorded_as_left_out(label_mappings, augmentation, clip_maker):
    clips, index = clip_maker({"Happiness": 3, "Surprise": 2, "Other": 2, "Anger": 3})
    index.loc[0, "emotion"] = None
    index.loc[1, "emotion"] = "happiness"  # CASME II spelling
    _, samples, _, meta, metrics = run_nodes(clips, index, "binary", label_mappings, augmentation)
    assert meta["n_left_out"] == 5
    reasons = {item["clip_id"]: item["reason"] for item in meta["left_out"]}
    assert reasons[index.loc[0, "clip_id"]] == "no emotion label"
    assert "'Other' is not in label_mappings.binary" in reasons[index.loc[5, "clip_id"]]
    assert index.loc[1, "clip_id"] in set(samples["source_clip_id"])
    assert metrics["left_out"]["value"] == 5
    assert metrics["before.positive"]["value"] == 2 and metrics["after.positive"]["value"] == 6


def test_bad_inputs_name_the_problem(label_mappings, augmentation, clip_maker):
    clips, index = clip_maker({"Happiness": 2, "Anger": 2})
    swapped = index.iloc[[1, 0, 2, 3]].reset_index(drop=True)
    with pytest.raises(ValueError, match=r"row 0: clip_id .* does not match"):
        label_clips(clips, swapped, "binary", label_mappings)
    with pytest.raises(ValueError, match=r"columns \['emotion'\] are missing"):
        label_clips(clips, index.drop(columns="emotion"), "binary", label_mappings)
    with pytest.raises(ValueError, match="must be uint8"):
        label_clips(
            {**clips, "clips": clips["clips"].astype(float)}, index, "binary", label_mappings
        )
    labelled = label_clips(clips, index, "binary", label_mappings)
    del augmentation["copies"]["binary"]["positive"]
    with pytest.raises(ValueError, match=r"augmentation.copies.binary: .*missing: \['positive'\]"):
        plan_samples(
            labelled,
            clips,
            "binary",
            label_mappings,
            AugmentationParams.model_validate(augmentation),
            SEED,
            "clip",
        )
    del augmentation["copies"]["binary"]
    with pytest.raises(ValueError, match=r"augmentation\.copies\.binary: missing"):
        plan_samples(
            labelled,
            clips,
            "binary",
            label_mappings,
            AugmentationParams.model_validate(augmentation),
            SEED,
            "clip",
        )


def test_a_new_mode_needs_configuration_only(label_mappings, augmentation, clip_maker):
    clips, index = clip_maker({"Happiness": 2, "Anger": 2, "Fear": 1})
    mappings = {**label_mappings, "valence": {"neg": ["Anger", "fear"], "pos": ["HAPPINESS"]}}
    augmentation["copies"]["valence"] = {"neg": 1, "pos": 2}
    *_, meta, _ = run_nodes(clips, index, "valence", mappings, augmentation)
    assert meta["counts_after"] == {"neg": 6, "pos": 6}


def test_pipeline_runs_with_kedro_and_outputs_round_trip(
    tmp_path, samm_like, label_mappings, augmentation
):
    clips, index = samm_like
    outputs = run_pipeline(clips, index, "multiclass", label_mappings, augmentation)
    # one set per transform set an architecture trains on: the 2D CNN's draws per frame
    assert not outputs["augmentation.clip.samples"]["per_frame"].any()
    frame2d = outputs["augmentation.frame2d.samples"]
    assert frame2d.loc[frame2d["is_augmented"], "per_frame"].all()
    assert outputs["augmentation.frame2d.meta"]["transform_set"] == "frame2d"
    # The flow models' set: the flow of its own augmented frames, one field per sample.
    flow, frames = outputs["augmentation.flow.clips"], outputs["augmentation.flow.frames"]
    assert flow["clips"].dtype == np.float16 and flow["clips"].shape[1:] == (28, 28, 3)
    assert flow["sample_ids"].tolist() == outputs["augmentation.flow.samples"]["sample_id"].tolist()
    assert frames["clips"].shape == (len(flow["clips"]), 9, 32, 32)
    assert json.loads(str(flow["flow_settings"]))["method"] == "farneback"
    assert outputs["augmentation.flow.meta"]["transform_set"] == "flow"
    outputs = {k.replace(".clip.", "."): v for k, v in outputs.items()}
    augmented = outputs["augmentation.clips"]
    assert augmented["clips"].dtype == np.uint8 and augmented["clips"].shape[1:] == (9, 32, 32)
    assert augmented["class_names"].tolist() == list(label_mappings["multiclass"])
    assert str(augmented["mode"]) == "multiclass"
    assert json.loads(str(augmented["label_mapping"])) == label_mappings["multiclass"]
    dataset = NpzDataset(filepath=str(tmp_path / "clips.npz"))
    dataset.save(augmented)
    loaded = dataset.load()
    assert all(np.array_equal(loaded[k], v) for k, v in augmented.items())
    samples = outputs["augmentation.samples"]
    samples.to_parquet(tmp_path / "samples.parquet")
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "samples.parquet"), samples)
    json.dumps(outputs["augmentation.meta"])
    assert isinstance(outputs["augmentation.preview"], Figure)
    outputs["augmentation.preview"].savefig(tmp_path / "preview.png")
    assert (tmp_path / "preview.png").stat().st_size > 0


def test_preview_shows_the_original_above_its_copies(samm_like, label_mappings, augmentation):
    clips, index = samm_like
    _, samples, augmented, _, _ = run_nodes(
        clips, index, "multiclass", label_mappings, augmentation
    )
    figure = render_preview(augmented, samples, AugmentationParams.model_validate(augmentation))
    assert len(figure.axes) == (1 + augmentation["preview"]["n_copies"]) * 9
    assert figure.axes[0].get_ylabel() == "original"


def test_shipped_parameters_validate_and_bad_ones_are_named(augmentation):
    AugmentationParams.model_validate(augmentation)
    bad = copy.deepcopy(augmentation)
    bad["transform_sets"]["clip"]["rotate"]["probability"] = 1.5
    bad["transform_sets"]["clip"]["noise"]["sigma"] = [10, 1]
    bad["copies"]["binary"]["positive"] = -1
    with pytest.raises(ParameterError) as error:
        AugmentationParams.model_validate(bad)
    problems = error.value.problems
    assert any(
        p.startswith("augmentation.transform_sets.clip.rotate.probability") for p in problems
    )
    assert any(p.startswith("augmentation.transform_sets.clip.noise.sigma") for p in problems)
    assert any("positive=-1" in p for p in problems)
    del augmentation["transform_sets"]["frame2d"]
    with pytest.raises(ParameterError, match="transform_sets has no frame2d"):
        AugmentationParams.model_validate(augmentation)


def test_a_transform_set_can_have_its_own_copy_counts(samm_like, label_mappings, augmentation):
    clips, index = samm_like
    augmentation["transform_sets"]["flow"]["copies"] = {"binary": {"negative": 0, "positive": 1}}
    *_, meta, _ = run_nodes(clips, index, "binary", label_mappings, augmentation,
                             set_name="flow")  # fmt: skip
    assert meta["counts_after"] == {"negative": 92, "positive": 52}  # not the shared 0 / 2
    _, clip, *_ = run_nodes(clips, index, "binary", label_mappings, augmentation)
    assert (clip.groupby("source_clip_id").size().max()) == 3  # the shared counts
    augmentation["transform_sets"]["flow"]["copies"] = {"binary": {"negative": 0}}
    with pytest.raises(ValueError, match=r"augmentation\.transform_sets\.flow\.copies\.binary"):
        run_nodes(clips, index, "binary", label_mappings, augmentation, set_name="flow")
