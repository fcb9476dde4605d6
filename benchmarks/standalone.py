"""What every single-purpose benchmark (``python -m benchmarks.<name>``) shares: its results
folder and how it writes them."""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks.machine import describe, summary_line

ROOT = Path(__file__).resolve().parents[1]


def parser(doc: str) -> argparse.ArgumentParser:
    """An argument parser with ``--out`` (default: a new ``data/09_benchmarks/<UTC time>/``)."""
    made = argparse.ArgumentParser(description=doc.splitlines()[0])
    stamp = time.strftime("%Y-%m-%dT%H.%M.%SZ", time.gmtime())
    made.add_argument("--out", type=Path, default=ROOT / "data" / "09_benchmarks" / stamp)
    return made


def parameters(run_env: str = "base") -> dict[str, Any]:
    """The project's parameters as ``kedro run --env <run_env>`` loads them (``base``: the
    embedded sample's settings; ``real``: the study's)."""
    from kedro.config import OmegaConfigLoader

    from microexpression_pipeline.settings import CONFIG_LOADER_ARGS

    args = {k: v for k, v in CONFIG_LOADER_ARGS.items() if k not in ("base_env", "default_run_env")}
    loader = OmegaConfigLoader(str(ROOT / "conf"), base_env="base", default_run_env=run_env, **args)
    return dict(loader["parameters"])


def machine() -> dict[str, Any]:
    """The machine's description and its one-line summary, to merge into a result."""
    described = describe(ROOT)
    return {"machine": described, "machine_line": summary_line(described)}


def write(out: Path, name: str, result: dict[str, Any], markdown: Callable[[dict], str]) -> int:
    """``<out>/<name>.json`` and ``.md`` (the folder created), the table printed; exit 0."""
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{name}.json").write_text(json.dumps(result, indent=2, default=str))
    (out / f"{name}.md").write_text(markdown(result))
    print(markdown(result))
    return 0
