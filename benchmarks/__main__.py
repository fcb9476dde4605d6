"""``python -m benchmarks [--quick|--tiny] [--only SECTION ...] [--out DIR] [--seed N]``, from
the project root.

Writes ``bench.json`` and ``bench.md`` into a new folder ``<out>/<UTC time>/`` (default
``<project>/data/09_benchmarks``), so no earlier result is ever overwritten. The full run
repeats every measurement and times the default ``kedro run`` end to end; ``--quick`` is one
repeat at smaller sizes with a reduced end-to-end run (its target: under 10 minutes);
``--tiny`` is the smoke test's size (no end-to-end run, no meaningful figures). ``--only``
runs the named sections and those they need (e.g. ``--quick --only flow``: matmul is skipped,
ingestion runs); the others are recorded as skipped.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from benchmarks import (
    augmentation,
    end_to_end,
    flow,
    ingestion,
    machine,
    memory,
    projection,
    report,
    training,
)
from benchmarks.flops import matmul_rate
from benchmarks.profiles import PROFILES, Profile
from benchmarks.subprocesses import jsonable
from benchmarks.targets import targets
from benchmarks.timing import log
from microexpression_pipeline.models import ARCHITECTURES

SECTIONS = (
    "matmul",
    "ingestion",
    "augmentation",
    "training",
    "flow",
    "memory",
    "end_to_end",
    "projection",
    "gpu",
)

# The sections each section needs (run first when it is selected with ``--only``).
NEEDS: dict[str, tuple[str, ...]] = {
    "augmentation": ("ingestion",),
    "training": ("matmul", "augmentation"),
    "flow": ("ingestion",),
    "memory": ("augmentation",),
    "projection": ("training", "ingestion", "augmentation"),
    "gpu": ("training",),
}


def with_needs(names: list[str]) -> set[str]:
    """The named sections and every section they need, directly or not."""
    chosen: set[str] = set()
    todo = list(names)
    while todo:
        name = todo.pop()
        if name not in chosen:
            chosen.add(name)
            todo += NEEDS.get(name, ())
    return chosen


def project_root() -> Path:
    """The Kedro project the ``benchmarks`` folder sits in."""
    root = Path(__file__).resolve().parents[1]
    if not (root / "pyproject.toml").is_file() or not (root / "conf").is_dir():
        raise SystemExit(f"{root} is not the project root (no pyproject.toml and conf/)")
    return root


def load_parameters(root: Path, env: str | None = None) -> dict[str, Any]:
    """The project's parameters from ``conf/base`` (plus ``conf/<env>``), without conf/local."""
    from kedro.config import OmegaConfigLoader

    from microexpression_pipeline.settings import CONFIG_LOADER_ARGS

    args = {k: v for k, v in CONFIG_LOADER_ARGS.items() if k != "default_run_env"}
    loader = OmegaConfigLoader(str(root / "conf"), env=env, default_run_env="base", **args)
    return jsonable(loader["parameters"])


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="Benchmark ingestion, augmentation and training against their physical "
        "limits and the plain approach; write bench.json and bench.md.",
    )
    size = parser.add_mutually_exclusive_group()
    size.add_argument(
        "--quick",
        action="store_true",
        help="smaller sample, one repeat, a reduced end-to-end run (target: under 10 minutes)",
    )
    size.add_argument(
        "--tiny", action="store_true", help="the smoke test's size: every section, no real figures"
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=None,
        help="parent folder of the results (default: <project>/data/09_benchmarks); each run "
        "writes a new <UTC time> folder in it",
    )
    parser.add_argument(
        "--only",
        nargs="+",
        choices=SECTIONS,
        default=None,
        metavar="SECTION",
        help="run only these sections and those they need; the others are recorded as "
        f"skipped (sections: {', '.join(SECTIONS)})",
    )
    parser.add_argument("--seed", type=int, default=None, help="seed (default: params seed)")
    parser.add_argument(
        "--sample-dir",
        type=Path,
        default=None,
        help="where the profile's synthetic sample is generated once and reused "
        "(default: <out>/samples/<profile>)",
    )
    return parser.parse_args(argv)


class Run:
    """The result being assembled, section by section, rewritten to disk after each."""

    def __init__(
        self, folder: Path, result: dict[str, Any], selected: set[str] | None = None
    ) -> None:
        self.folder, self.result, self.failed = folder, result, []
        self.outputs: dict[str, Any] = {}
        self.selected = selected

    def section(
        self, name: str, call: Callable[[], Any], needs: tuple[str, ...] = ()
    ) -> dict[str, Any]:
        """Run one section; ``call`` returns its result, or (its result, outputs for later
        sections). A failing section is recorded and the run goes on."""
        if self.selected is not None and name not in self.selected:
            self.result[name] = {"skipped": "not selected"}
            return self.result[name]
        missing = [n for n in needs if not self.ok(n)]
        if missing:
            self.result[name] = {"skipped": f"needs {', '.join(missing)}"}
            return self.result[name]
        log(f"== {name}")
        try:
            value = call()
            if isinstance(value, tuple):
                value, self.outputs[name] = value
            self.result[name] = value
        except Exception as error:  # a benchmark reports a failing section and goes on
            log(traceback.format_exc())
            self.result[name] = {"error": f"{type(error).__name__}: {error}"}
            self.failed.append(name)
        self.write()
        return self.result[name]

    def ok(self, name: str) -> bool:
        section = self.result.get(name)
        return isinstance(section, Mapping) and not {"error", "skipped"} & set(section)

    def write(self) -> None:
        self.result["targets"] = targets(self.result)
        report.write(self.result, self.folder)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    started = time.perf_counter()
    profile: Profile = PROFILES["tiny" if args.tiny else "quick" if args.quick else "full"]
    root = project_root()
    out_parent = (args.out or root / "data" / "09_benchmarks").resolve()
    folder = report.new_folder(out_parent)
    sample_dir = (args.sample_dir or out_parent / "samples" / profile.name).resolve()
    params = load_parameters(root)
    params["ingestion"] = {**params["ingestion"], **profile.ingestion_overrides}
    params["training"] = {**params["training"], **profile.training_overrides}
    study = load_parameters(root, "real")
    # Training rates are measured at the study's settings (conf/real), those it projects.
    study_training = {**study["training"], **profile.training_overrides}
    seed = int(params["seed"] if args.seed is None else args.seed)
    log(f"profile {profile.name}, results in {folder}")
    described = machine.describe(root)
    gpus = described["gpus"]
    run = Run(
        folder,
        {
            "profile": profile.name,
            "seed": seed,
            "machine": described,
            "results_folder": str(folder),
            **({"only": args.only} if args.only else {}),
            **{name: {"skipped": "not run yet"} for name in SECTIONS},
        },
        with_needs(args.only) if args.only else None,
    )
    result, outputs = run.result, run.outputs
    with tempfile.TemporaryDirectory(prefix="bench-work-") as work:
        work_dir = Path(work)
        run.section(
            "matmul", lambda: matmul_rate(profile.matmul_size, min_seconds=profile.matmul_seconds)
        )
        run.section(
            "ingestion",
            lambda: _ingestion(
                ingestion.run(
                    profile.sample,
                    profile.image_size,
                    profile.ingestion_repeats,
                    params,
                    sample_dir,
                    seed,
                )
            ),
        )
        run.section(
            "augmentation",
            lambda: augmentation.run(
                *outputs["ingestion"], params, seed, profile.augmentation_seconds
            ),
            needs=("ingestion",),
        )
        run.section(
            "training",
            lambda: training.run(
                outputs["augmentation"]["binary"],
                {**params, "training": study_training},
                profile,
                result["matmul"]["gflops"],
                seed,
                work_dir,
                ("float32", "mixed_float16") if gpus else ("float32",),
            ),
            needs=("matmul", "augmentation"),
        )
        run.section(
            "flow",
            lambda: flow.run(
                *outputs["ingestion"],
                result["ingestion"],
                params,
                study,
                profile,
                seed,
                work_dir,
            ),
            needs=("ingestion",),
        )
        run.section(
            "memory",
            lambda: memory.run(
                outputs["augmentation"]["binary"],
                params,
                profile.memory_architectures,
                profile.memory_clips,
                seed,
                work_dir,
                profile.memory_scopes,
            ),
            needs=("augmentation",),
        )
    run.section("end_to_end", lambda: _end_to_end(profile, root))
    run.section(
        "projection",
        lambda: projection.run(
            result["training"],
            result["ingestion"]["clips_per_second"],
            result["augmentation"]["modes"]["multiclass"]["clips_per_second"],
            study,
            seed,
        ),
        needs=("training", "ingestion", "augmentation"),
    )
    run.section("gpu", lambda: _gpu(gpus, result, profile))
    result["load_average_at_end"] = machine.load_average()
    result["wall_seconds"] = time.perf_counter() - started
    run.write()
    log(
        f"wrote {folder / 'bench.json'} and {folder / 'bench.md'} in {result['wall_seconds']:.0f} s"
    )
    if run.failed:
        log(f"sections that failed: {', '.join(run.failed)}")
        return 1
    return 0


def _ingestion(measured: tuple) -> tuple[dict[str, Any], tuple]:
    """The ingestion result, and the clips and index it made (for augmentation)."""
    result, clips, clip_index = measured
    return result, (clips, clip_index)


def _end_to_end(profile: Profile, root: Path) -> dict[str, Any]:
    if profile.end_to_end == "skip":
        return {"skipped": f"not part of the {profile.name} profile"}
    reduced = profile.end_to_end == "reduced"
    params = profile.end_to_end_params if reduced else ()
    measured = end_to_end.run(root, params, timeout=1800 if reduced else 5400)
    note = (
        "A reduced run, not the default one: "
        + ", ".join(f"`{p}`" for p in params)
        + ". The full profile (no `--quick`) times the default `kedro run`."
        if reduced
        else "The default `kedro run`, no parameters overridden."
    )
    return {**measured, "which": "reduced" if reduced else "default", "note": note}


def _gpu(gpus: list[str], result: Mapping[str, Any], profile: Profile) -> dict[str, Any]:
    if not gpus:
        return {"available": False, "note": "no GPU on this machine"}
    half = matmul_rate(profile.matmul_size, "float16", profile.matmul_seconds)
    architectures = {
        name: arch.get("precisions", {})
        for name, arch in result["training"]["architectures"].items()
    }
    return {
        "available": True,
        "names": {key: ARCHITECTURES[key].name for key in architectures},
        "devices": gpus,
        "matmul_float16": half,
        "note": f"{', '.join(gpus)}: training with and without mixed precision (mixed_float16); "
        f"float16 matmul {half['gflops']:.0f} GFLOP/s"
        + "".join(
            f"; {precision} failed: {error}"
            for precision, error in result["training"].get("failed_precisions", {}).items()
        ),
        "architectures": architectures,
    }


if __name__ == "__main__":
    sys.exit(main())
