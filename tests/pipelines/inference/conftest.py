"""A project trained once for the inference tests: a frame model (3dcnn) and a flow model
(ststnet) trained on toy sets through the real CLI, and one synthetic SMIC-HS clip, ingested
with the project's own code and written as a lossless video.

The trained project is built once per test session (once in all, under xdist: the first
worker builds it under a file lock, the others reuse it).
"""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import pytest
from kedro.config import OmegaConfigLoader
from kedro.io import DataCatalog

from microexpression_pipeline.settings import CONFIG_LOADER_ARGS

ARCHITECTURES = ("3dcnn", "ststnet")
TRAIN_PARAMS = (
    "mode:binary,training.epochs:1,training.keras_verbose:0,evaluation.protocol:group_kfold,"
    "evaluation.n_splits:2,training.architectures.ststnet.overrides.epochs:1"
)
CLIP_FOLDER = "s1/micro/positive/s1_po_01"
FIRST_FRAME = 46176
N_FRAMES = 20
WIDTH, HEIGHT = 240, 180  # SMIC-HS's synthetic frame size
READY = "inference-fixture.json"


@dataclass(frozen=True)
class TrainedProject:
    """A project copy with trained models, and a clip with what ingestion made of it."""

    root: Path
    frames: tuple[Path, ...]  # the clip's BMP frames, in order (SMIC-HS layout)
    video: Path  # the same frames as a lossless video
    clip: np.ndarray  # the ingested clip, uint8 (9, 32, 32)
    key_frames: tuple[int, int, int]  # onset, apex, offset: positions among ``frames``
    train_log: str

    @property
    def tracking_uri(self) -> str:
        return f"sqlite:///{self.root / 'mlflow.db'}"

    def model_folder(self, arch: str) -> Path:
        return self.root / "data" / "06_models" / "synthetic" / "binary" / arch

    def network(self, arch: str):
        """The newest final model the train run saved for ``arch`` (safe mode)."""
        import keras

        *_, newest = sorted(self.model_folder(arch).glob("model.keras/*/model.keras"))
        return keras.saving.load_model(newest, compile=False, safe_mode=True)

    def card(self, arch: str):
        """The card of ``arch``'s newest model."""
        from microexpression_pipeline.models.card import ModelCard

        *_, newest = sorted(self.model_folder(arch).glob("card.json/*/card.json"))
        return ModelCard.model_validate(json.loads(newest.read_text()))

    def probabilities(self, arch: str) -> np.ndarray:
        """(classes,): what ``arch``'s model gives the ingested clip (its flow, for ststnet)."""
        from microexpression_pipeline.motion.flow_settings import flow_of_clips

        card = self.card(arch)
        inputs = self.clip[None]
        if card.sees == "flow":
            inputs = flow_of_clips(inputs, card.flow)
        return self.network(arch).predict(inputs, verbose=0)[0]


def project_loader(project: Path) -> OmegaConfigLoader:
    """The configuration of ``project`` as a run with the default environment loads it."""
    args = {k: v for k, v in CONFIG_LOADER_ARGS.items() if k != "default_run_env"}
    return OmegaConfigLoader(str(project / "conf"), default_run_env="local", **args)


def write_training_sets(
    project: Path, make_augmented_set, shape: tuple[int, int, int] = (9, 32, 32)
) -> None:
    """Toy binary augmented sets through the project's catalog: frame clips (``shape``) and
    their flow, computed with the shipped ``features`` settings."""
    from microexpression_pipeline.motion.flow_settings import FeaturesParams
    from microexpression_pipeline.pipelines.augmentation.flow_inputs import flow_inputs

    loader = project_loader(project)
    params = loader["parameters"]
    catalog = DataCatalog.from_config(loader["catalog"])
    mapping = params["label_mappings"]["binary"]
    arrays, samples = make_augmented_set(
        n_subjects=4, clips_per_subject=3, copies=1, shape=shape, moving=True
    )
    flow = flow_inputs(arrays, FeaturesParams.model_validate(params["features"]))
    meta = {"mode": "binary", "classes": list(mapping), "label_mapping": dict(mapping)}
    cwd = Path.cwd()
    os.chdir(project)  # the catalog's paths are relative to the project
    try:
        for name, clips, transform_set in (("clip", arrays, "clip"), ("flow", flow, "flow")):
            # Written outside a run: no MLflow run to log the metadata artifact to.
            catalog.get(f"augmentation.{name}.meta")._logging_activated = False
            catalog.save(f"augmentation.{name}.clips", clips)
            catalog.save(f"augmentation.{name}.samples", samples)
            catalog.save(f"augmentation.{name}.meta", meta | {"transform_set": transform_set})
    finally:
        os.chdir(cwd)


def render_smic_clip(root: Path) -> list[Path]:
    """One synthetic SMIC-HS clip (``<root>/s1/micro/positive/s1_po_01/image046176.bmp``,
    ...) rendered by the project's generator as it renders SMIC-HS; its frame files."""
    from microexpression_pipeline.synthetic import smic_format
    from microexpression_pipeline.synthetic.clips import ClipSpec, render_clip
    from microexpression_pipeline.synthetic.face import make_subject

    last = FIRST_FRAME + N_FRAMES - 1
    spec = ClipSpec(
        dataset="SMIC", subject=1, clip_id="s1_po_01", emotion="positive", action_units="12",
        onset=FIRST_FRAME, apex=FIRST_FRAME + 8, offset=last, first=FIRST_FRAME, last=last,
        folder=CLIP_FOLDER,
    )  # fmt: skip
    folder = root / CLIP_FOLDER
    folder.mkdir(parents=True)
    subject = make_subject(
        np.random.default_rng(1), WIDTH, HEIGHT, smic_format.FACE_FRACTION, colour=True
    )
    render_clip(
        subject,
        spec,
        np.random.default_rng(7),
        lambda n: folder / smic_format.frame_name(spec, n),
        au_amplitude=3.0,  # the shipped synthetic settings: au_intensity, noise_sigma
        noise_sigma=2.0,
        jpeg_quality=85,
        frame_scale=30 / 65 * smic_format.FPS / 200,  # as the generator scales SMIC's blinks
    )
    return [folder / smic_format.frame_name(spec, n) for n in range(FIRST_FRAME, last + 1)]


def ingest_smic(root: Path, params: dict) -> tuple[np.ndarray, dict]:
    """The tree under ``root`` through ingestion's nodes with the shipped parameters: the
    one ingested clip and its clip index row."""
    from microexpression_pipeline.pipelines.ingestion.nodes import build_clip_index, extract_clips
    from microexpression_pipeline.pipelines.ingestion.raw_sources import source_specs
    from microexpression_pipeline.pipelines.ingestion.schema import IngestionParams

    ingestion = IngestionParams.model_validate(params["ingestion"])
    (smic,) = [s for s in source_specs("synthetic", ingestion.sources) if s["name"] == "smic"]
    source = {**smic, "root": str(root)}
    candidates, _, stats = build_clip_index(source, ingestion, params["label_mappings"])
    payload, index, quarantine, _ = extract_clips(candidates, source, stats, ingestion)
    assert quarantine.empty and len(index) == 1, quarantine
    return payload["clips"][0], index.iloc[0].to_dict()


def write_video(frames: list[Path], path: Path) -> Path:
    """Every frame (as ``cv2.imread`` reads it, BGR) in a lossless FFV1 video; checked to
    decode to the same pixels."""
    images = [cv2.imread(str(frame)) for frame in frames]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"FFV1"), 100, (WIDTH, HEIGHT))
    assert writer.isOpened(), "OpenCV cannot write FFV1 videos"
    for image in images:
        writer.write(image)
    writer.release()
    capture = cv2.VideoCapture(str(path))
    decoded = []
    while (read := capture.read())[0]:
        decoded.append(read[1])
    capture.release()
    assert len(decoded) == len(images)
    assert all(np.array_equal(a, b) for a, b in zip(decoded, images, strict=True))
    return path


def build(project: Path, copy_project, run_kedro, make_augmented_set) -> None:
    """Train the two models in a new project copy, make the clip and its video, and record
    them in ``<project>/READY``."""
    copy_project(project)
    write_training_sets(project, make_augmented_set)
    nodes = ",".join(f"{step}_{arch}" for arch in ARCHITECTURES for step in ("train", "package"))
    result = run_kedro(
        project, "run", "--pipeline=train", "--params", TRAIN_PARAMS, "--nodes", nodes
    )
    log = result.stdout + result.stderr
    (project / "train.log").write_text(log)
    assert result.returncode == 0, log[-4000:]
    raw = project / "clip_source"
    frames = render_smic_clip(raw)
    clip, row = ingest_smic(raw, dict(project_loader(project)["parameters"]))
    video = write_video(frames, project / "s1_po_01.avi")
    np.save(project / "ingested_clip.npy", clip)
    numbers = [int(row[key]) - FIRST_FRAME for key in ("onset", "apex", "offset")]
    record = {"frames": [str(f) for f in frames], "video": str(video), "key_frames": numbers}
    (project / READY).write_text(json.dumps(record))


def load(project: Path) -> TrainedProject:
    record = json.loads((project / READY).read_text())
    return TrainedProject(
        root=project,
        frames=tuple(Path(f) for f in record["frames"]),
        video=Path(record["video"]),
        clip=np.load(project / "ingested_clip.npy"),
        key_frames=tuple(record["key_frames"]),
        train_log=(project / "train.log").read_text(),
    )


@contextmanager
def locked(path: Path) -> Iterator[None]:
    """An exclusive lock on ``path`` (created), between the processes of a session."""
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@pytest.fixture(scope="session")
def trained_project(
    tmp_path_factory: pytest.TempPathFactory, worker_id: str, copy_project, run_kedro
) -> TrainedProject:
    """A project copy with 3dcnn and ststnet trained (1 epoch, binary, synthetic data source)
    and served models registered, plus one synthetic SMIC-HS clip (frames and video) and
    what ingestion makes of it. Built once per session, shared by the xdist workers."""
    from tests.pipelines.train.conftest import make_augmented_set

    base = tmp_path_factory.getbasetemp()
    shared = base if worker_id == "master" else base.parent
    project = shared / "inference-trained" / "project"
    project.parent.mkdir(exist_ok=True)
    with locked(shared / "inference-trained.lock"):
        if not (project / READY).is_file():
            if project.exists():
                pytest.fail(f"{project} was left half built by an earlier failure")
            build(project, copy_project, run_kedro, make_augmented_set)
    return load(project)
