"""kedro-viz on the project: ``kedro viz run`` serves every pipeline on localhost with node,
dataset and parameter names, layers and parameter values; headless Chromium shows the
training pipeline's architecture nodes; ``kedro viz build`` exports a static site."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml
from kedro_viz.launchers.cli.run import run as viz_run_command

from microexpression_pipeline.pipelines.train.schema import TrainingParams

PROJECT_ROOT = Path(__file__).resolve().parents[2]
CONF = PROJECT_ROOT / "conf" / "base"

pytestmark = pytest.mark.slow

ARCHITECTURE_KEYS = ("3dcnn", "cnn_lstm", "convlstm2d", "2dcnn", "ststnet", "offapexnet", "rcn_a")
# Per architecture: its training node and the node packaging its served model.
TRAINING_NODES = {f"{step}_{key}" for key in ARCHITECTURE_KEYS for step in ("train", "package")}
# Kedro's data layers, in pipeline order.
LAYERS = ["raw", "intermediate", "primary", "feature", "model_input", "models", "model_output",
          "reporting"]  # fmt: skip
EXPECTED_LAYERS = {
    "samm.clips": "primary",
    "samm.clip_index": "primary",
    "casme2.clips": "primary",
    "samm.flow": "feature",
    "augmentation.flow.clips": "model_input",
    "augmentation.clip.clips": "model_input",
    "augmentation.clip.samples": "model_input",
    "train_3dcnn_model": "models",
    "train_2dcnn_predictions": "model_output",
    "train_cnn_lstm_summary": "model_output",
    "reporting.leaderboard": "reporting",
    "reporting.html": "reporting",
    "cross_dataset.summary": "reporting",
}
# Readable names: the names written in the pipeline code (not ids or hashes).
NAME = re.compile(r"^(params:)?[a-z][a-z0-9_]*(\.[a-z0-9_]+)*$")
MEMORY_DATASET = "io.memory_dataset.MemoryDataset"


def registered_pipelines() -> set[str]:
    """Every pipeline under ``pipelines/`` (find_pipelines) and the default one."""
    package = PROJECT_ROOT / "src" / "microexpression_pipeline" / "pipelines"
    return {path.parent.name for path in package.glob("*/pipeline.py")} | {"__default__"}


def _listening_addresses(port: int) -> set[str]:
    """Local addresses of the TCP sockets listening on ``port`` (Linux /proc)."""
    addresses = set()
    for table, width in (("/proc/net/tcp", 8), ("/proc/net/tcp6", 32)):
        path = Path(table)
        if not path.exists():
            continue
        for line in path.read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, port_hex = local.split(":")
            if state == "0A" and int(port_hex, 16) == port:  # 0A: LISTEN
                assert len(address) == width
                addresses.add(address)
    return addresses


def test_viz_listens_on_localhost_only_by_default(viz_server) -> None:
    host = next(p for p in viz_run_command.params if p.name == "host")
    assert host.default == "127.0.0.1"
    if not Path("/proc/net/tcp").exists():
        pytest.skip("no /proc/net/tcp to read listening sockets from")
    # The server was started without --host: it listens on 127.0.0.1 (0100007F) alone.
    assert _listening_addresses(viz_server.port) == {"0100007F"}


def test_every_pipeline_is_shown_with_names_and_parameters(viz_server) -> None:
    main = viz_server.api("main")
    assert {p["id"] for p in main["pipelines"]} == registered_pipelines()

    for pipeline_id in registered_pipelines():
        graph = viz_server.api(f"pipelines/{pipeline_id}")
        by_type: dict[str, set[str]] = {}
        for node in graph["nodes"]:
            if node["type"] in ("task", "data", "parameters"):
                assert NAME.match(node["name"]), (pipeline_id, node["name"])
                by_type.setdefault(node["type"], set()).add(node["name"])
        assert by_type.get("task"), f"{pipeline_id}: no nodes"
        assert by_type.get("data"), f"{pipeline_id}: no datasets"
        assert by_type.get("parameters"), f"{pipeline_id}: no parameters"

    train = viz_server.api("pipelines/train")
    tasks = {n["name"]: n for n in train["nodes"] if n["type"] == "task"}
    assert set(tasks) == TRAINING_NODES
    datasets = {n["name"] for n in train["nodes"] if n["type"] == "data"}
    assert {"augmentation.clip.clips", "train_3dcnn_model", "train_2dcnn_summary"} <= datasets
    # The parameter values of a node, as configured in conf/base and validated (with the
    # schema's defaults filled in).
    configured = yaml.safe_load((CONF / "parameters_train.yml").read_text())
    details = viz_server.api(f"nodes/{tasks['train_3dcnn']['id']}")
    training = TrainingParams.model_validate(configured["training"])
    assert details["parameters"]["training"] == training.model_dump(by_alias=True)
    assert details["parameters"]["training"]["epochs"] == configured["training"]["epochs"]
    assert details["parameters"]["evaluation"] == configured["evaluation"]
    assert details["inputs"][:3] == [
        "augmentation.clip.clips",
        "augmentation.clip.samples",
        "augmentation.clip.meta",
    ]

    # Each source of the ingestion pipeline is a namespace of its own.
    ingestion = viz_server.api("pipelines/ingestion")
    assert {"samm", "casme2"} <= set(ingestion["modular_pipelines"])
    full_names = {n.get("full_name") for n in ingestion["nodes"] if n["type"] == "task"}
    assert {"samm.extract_clips", "casme2.extract_clips", "prepare_raw_sources"} <= full_names


def test_persisted_datasets_have_layers(viz_server) -> None:
    main = viz_server.api("main")
    data = {n["name"]: n for n in main["nodes"] if n["type"] == "data"}
    missing = sorted(
        name
        for name, node in data.items()
        if node["dataset_type"] != MEMORY_DATASET and node["layer"] not in LAYERS
    )
    assert not missing, f"catalog datasets without a kedro-viz layer: {missing}"
    assert {name: data[name]["layer"] for name in EXPECTED_LAYERS} == EXPECTED_LAYERS
    # Layers are shown in pipeline order.
    assert main["layers"] == [layer for layer in LAYERS if layer in main["layers"]]
    assert {"primary", "model_input", "models", "model_output", "reporting"} <= set(main["layers"])


def test_browser_shows_the_training_nodes(
    viz_server, chromium: dict, artifact_dir: Path, tmp_path: Path
) -> None:
    from playwright.sync_api import sync_playwright

    task_nodes = 'svg g.pipeline-node[data-node-type="task"]'
    views = {
        # The training pipeline as kedro-viz opens it (datasets shown, parameters hidden).
        "kedro_viz_train_pipeline.png": ({}, {"width": 2400, "height": 1100}),
        # Datasets hidden, parameters shown: the training and packaging nodes, readable.
        "kedro_viz_train_nodes.png": (
            {"nodeType": {"disabled": {"parameters": False, "task": False, "data": True}}},
            {"width": 1600, "height": 900},
        ),
    }
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(**chromium)
        try:
            for filename, (settings, viewport) in views.items():
                state = {"showFeatureHints": False, "theme": "light", **settings}
                context = browser.new_context(viewport=viewport)
                context.add_init_script(
                    f"window.localStorage.setItem('KedroViz', {json.dumps(json.dumps(state))});"
                )
                page = context.new_page()
                page.goto(f"{viz_server.url}/?pid=train", wait_until="networkidle")
                for name in sorted(TRAINING_NODES):
                    page.wait_for_selector(
                        f'{task_nodes}[data-node-fullname="{name}"]', state="visible"
                    )
                shown = page.locator(task_nodes).evaluate_all(
                    "nodes => nodes.map(node => node.dataset.nodeFullname)"
                )
                assert sorted(shown) == sorted(TRAINING_NODES)
                labels = page.locator(f"{task_nodes} text").all_text_contents()
                assert sorted(label.strip() for label in labels) == sorted(TRAINING_NODES)
                if not settings:
                    page.wait_for_selector(
                        'svg g.pipeline-node[data-node-fullname="augmentation.clip.clips"]'
                    )
                # The new-version banner (no version is known offline) covers part of the graph.
                dismiss = page.get_by_text("Dismiss", exact=True)
                if dismiss.count():
                    dismiss.first.click()
                page.wait_for_timeout(1000)  # let the layout transition finish
                screenshot = tmp_path / filename
                page.screenshot(path=str(screenshot))
                context.close()
                assert screenshot.stat().st_size > 10_000
                (artifact_dir / filename).write_bytes(screenshot.read_bytes())
        finally:
            browser.close()


def test_viz_build_exports_a_static_site(project_copy: Path, run_kedro) -> None:
    result = run_kedro(project_copy, "viz", "build")
    assert result.returncode == 0, (result.stdout + result.stderr)[-4000:]
    site = project_copy / "build"
    assert "<html" in (site / "index.html").read_text().lower()
    main = json.loads((site / "api" / "main").read_text())
    assert {p["id"] for p in main["pipelines"]} == registered_pipelines()
    train = json.loads((site / "api" / "pipelines" / "train").read_text())
    assert {n["name"] for n in train["nodes"] if n["type"] == "task"} == TRAINING_NODES
