"""The ``features`` pipeline through Kedro's runner: flow of each source's clips, stored as
the flow models take it, recorded, drawn; and the same flow as augmentation computes."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pandas as pd
import pytest
from kedro.io import DataCatalog, MemoryDataset
from kedro.runner import SequentialRunner
from matplotlib.figure import Figure
from skimage import data

from microexpression_pipeline.dataset_sources import SOURCES
from microexpression_pipeline.motion.flow_settings import FeaturesParams
from microexpression_pipeline.pipelines.augmentation.flow_inputs import flow_inputs
from microexpression_pipeline.pipelines.features import create_pipeline

SIZE = 48
# Emotion -> the onset -> apex shift of its clips, in crop pixels (x, y).
SHIFTS = {"happiness": (1.0, 0.0), "anger": (0.0, -1.0)}


def _clips(n_per_class: int = 3) -> tuple[dict[str, np.ndarray], pd.DataFrame]:
    """Clips of the astronaut's face whose apex (middle frame) is the onset shifted by the
    emotion's displacement; the other frames are the onset."""
    grey = cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2GRAY)
    face = cv2.resize(grey[40:250, 125:335], (SIZE, SIZE), interpolation=cv2.INTER_AREA)
    arrays, rows = [], []
    for emotion, (dx, dy) in SHIFTS.items():
        for k in range(n_per_class):
            clip = np.repeat(face[None], 9, axis=0)
            matrix = np.float32([[1, 0, dx], [0, 1, dy]])
            clip[4] = cv2.warpAffine(face, matrix, (SIZE, SIZE), borderMode=cv2.BORDER_REFLECT)
            arrays.append(clip)
            rows.append({"dataset": "samm", "subject": f"{k:03d}", "clip_id": f"{emotion}_{k}",
                         "emotion": emotion})  # fmt: skip
    index = pd.DataFrame(rows)
    ids = index["clip_id"].to_numpy().astype(str)
    return {"clips": np.stack(arrays), "clip_ids": ids}, index


def _params(**flow) -> FeaturesParams:
    return FeaturesParams.model_validate(
        {"flow": {"method": "tvl1", "size": 28, **flow}, "contact_sheet": {"clips_per_class": 2}}
    )


class _Kept(MemoryDataset):
    """A memory dataset the runner does not empty after its last reader (to inspect it)."""

    def _release(self) -> None:
        pass


def _run(params: FeaturesParams) -> DataCatalog:
    clips, index = _clips()
    entries = {"params:features": params}
    for source in SOURCES:
        entries |= {f"{source}.clips": clips, f"{source}.clip_index": index}
    catalog = DataCatalog({name: MemoryDataset(value) for name, value in entries.items()})
    for source in SOURCES:
        catalog[f"{source}.flow"] = _Kept()
    SequentialRunner().run(create_pipeline(), catalog)
    return catalog


@pytest.fixture(scope="module")
def run() -> DataCatalog:
    return _run(_params())


def test_flow_of_every_clip_as_the_flow_models_take_it(run: DataCatalog) -> None:
    flow = run["samm.flow"].load()
    _, index = _clips()
    assert flow["flow"].shape == (len(index), 28, 28, 3)
    assert flow["flow"].dtype == np.float16
    assert list(flow["clip_ids"]) == index["clip_id"].tolist()
    # u, v in pixels of the 28 px grid: a 1 px shift at 48 px is 28 / 48 px; strain ~0.
    inner = flow["flow"][:, 6:-6, 6:-6].astype(np.float32)
    for row, emotion in enumerate(index["emotion"]):
        dx, dy = SHIFTS[emotion]
        u, v = np.median(inner[row, ..., 0]), np.median(inner[row, ..., 1])
        assert u == pytest.approx(dx * 28 / SIZE, abs=0.08)
        assert v == pytest.approx(dy * 28 / SIZE, abs=0.08)
        assert np.median(inner[row, ..., 2]) < 0.05
    assert "flow_sequence" not in flow


def test_the_method_and_its_settings_are_recorded(run: DataCatalog) -> None:
    meta = run["samm.flow_meta"].load()
    assert meta["method"] == "tvl1"
    assert meta["computed_at_px"] == SIZE and meta["stored_size"] == 28
    assert meta["channels"] == ["u", "v", "strain"]
    assert meta["n_clips"] == 6 and meta["settings"]
    assert json.loads(meta["fingerprint"])["method"] == "tvl1"
    assert isinstance(run["samm.flow_contact_sheet"].load(), Figure)
    assert run["casme2.flow"].load()["flow"].shape == (6, 28, 28, 3)


def test_augmentation_computes_the_same_flow_for_the_originals(run: DataCatalog) -> None:
    clips, _ = _clips()
    payload = flow_inputs({"clips": clips["clips"], "sample_ids": clips["clip_ids"]},
                          _params())  # fmt: skip
    np.testing.assert_array_equal(payload["clips"], run["samm.flow"].load()["flow"])
    record = json.loads(str(payload["flow_settings"]))
    assert record["fingerprint"] == run["samm.flow_meta"].load()["fingerprint"]


def test_sequence_flow_and_another_method() -> None:
    catalog = _run(_params(method="farneback", sequence=True, compute_size=96))
    flow = catalog["samm.flow"].load()
    assert flow["flow_sequence"].shape == (6, 9, 28, 28, 3)
    assert not flow["flow_sequence"][:, 0].any()  # onset -> onset
    np.testing.assert_allclose(
        flow["flow_sequence"][:, 4].astype(np.float32), flow["flow"].astype(np.float32), atol=1e-3
    )
    assert catalog["samm.flow_meta"].load()["computed_at_px"] == 96


def test_wrong_settings_are_named() -> None:
    with pytest.raises(Exception, match=r"features\.flow"):
        _params(method="horn_schunck")
    with pytest.raises(Exception, match=r"features\.flow\.methods\.tvl1\.nonsense"):
        _params(methods={"tvl1": {"nonsense": 1}})
    with pytest.raises(Exception, match=r"features\.flow\.compute_size.*below the clips' crop"):
        _run(_params(compute_size=32))


def test_clips_and_index_out_of_step_are_refused() -> None:
    clips, index = _clips()
    catalog = DataCatalog(
        {
            "samm.clips": MemoryDataset(clips),
            "samm.clip_index": MemoryDataset(index.iloc[::-1].reset_index(drop=True)),
            **{
                f"{source}.{name}": MemoryDataset(value)
                for source in SOURCES[1:]
                for name, value in (("clips", clips), ("clip_index", index))
            },
            "params:features": MemoryDataset(_params()),
        }
    )
    with pytest.raises(Exception, match=r"not row-aligned.*--pipeline=ingestion"):
        SequentialRunner().run(create_pipeline(), catalog)
