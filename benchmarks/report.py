"""The benchmark's report: ``bench.json`` and ``bench.md`` (tables, and the targets)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks.flow_report import flow_md
from benchmarks.machine import summary_line
from benchmarks.report_tables import skipped, table
from benchmarks.targets import fmt, pct
from benchmarks.training_report import gpu_md, training_md


def _status(ok: bool | str | None) -> str:
    if isinstance(ok, str):
        return ok
    return "n/a" if ok is None else ("met" if ok else "missed")


def markdown(result: Mapping[str, Any]) -> str:
    """The report as Markdown tables."""
    machine = result["machine"]
    out = [
        f"# Benchmark ({result['profile']})",
        "",
        f"Machine: {summary_line(machine)}",
        "",
    ]
    if result.get("only"):
        out += [
            f"Only `{' '.join(result['only'])}` selected (and the sections it needs); the "
            "others were skipped.",
            "",
        ]
    git = machine["git"]
    load_start = machine["load_average_at_start"] or ["-"]
    load_end = result.get("load_average_at_end") or ["-"]
    out += table(
        ["", ""],
        [
            ["CPU", f"{machine['cpu']} ({', '.join(machine['cpu_flags']) or 'no AVX'})"],
            ["cores / memory", f"{machine['usable_cores']} / {machine['memory_gib']} GiB"],
            ["GPU", machine["gpu"]],
            ["OS / Python", f"{machine['os']} / {machine['python']}"],
            ["packages", ", ".join(f"{k} {v}" for k, v in machine["packages"].items())],
            ["commit", f"{git['commit']}{' (with local changes)' if git['dirty'] else ''}"],
            ["load average (1 min) at start / end", f"{load_start[0]} / {load_end[0]}"],
            ["seed / profile", f"{result['seed']} / {result['profile']}"],
            ["wall time of this run", fmt(result.get("wall_seconds"), 0, " s")],
        ],
    )
    out += ["## Targets", ""]
    out += table(
        ["target", "figure", "status", "why / note"],
        [[t["target"], t["figure"], _status(t["met"]), t["note"]] for t in result["targets"]],
    )
    out += _ingestion_md(result.get("ingestion"))
    out += _augmentation_md(result.get("augmentation"))
    out += training_md(result.get("training"), result.get("matmul"))
    out += flow_md(result.get("flow"))
    out += _memory_md(result.get("memory"))
    out += _end_to_end_md(result.get("end_to_end"))
    out += _projection_md(result.get("projection"))
    out += gpu_md(result.get("gpu"))
    return "\n".join(out).rstrip() + "\n"


def _ingestion_md(section: Mapping[str, Any] | None) -> list[str]:
    out = ["## Ingestion", ""]
    if reason := skipped(section):
        return [*out, reason, ""]
    clips, frames = section["clips"], section["frames"]
    floor = section["decode_only_full"]["seconds"]
    w, h = section["frame_size"]
    out += [
        f"{clips} clips ({frames} JPEG frames of {w}x{h}, {section['source_megabytes']:.0f} MB) "
        f"of the synthetic SAMM-format sample -> 9x{section['image_size']}x"
        f"{section['image_size']} clips; {section['workers']} threads; best of "
        f"{section['repeats']}; files in the page cache. Faces found: "
        f"{section['faces_found']}/{clips}. Detector load ({fmt(section['detector_load_seconds'])}"
        " s, once per process) not included.",
        "",
    ]
    rows = []
    for label, key in (
        ("whole ingestion step (index + extract + summary)", "ingestion"),
        ("decode only, full resolution (OpenCV, the floor)", "decode_only_full"),
        ("decode only, half resolution (OpenCV)", "decode_only_half"),
        ("face detection only (MTCNN, detection frames)", "detection_only"),
    ):
        m = section[key]
        rows.append(
            [
                label,
                fmt(m["seconds"], 3),
                fmt(clips / m["seconds"], 1),
                fmt(frames / m["seconds"], 0),
                fmt(m["seconds"] / floor, 2, "x"),
                fmt(m["cpu_seconds"] / m["seconds"], 2),
            ]
        )
    return out + table(
        ["", "seconds", "clips/s", "frames/s", "x decode-only", "CPU s / wall s"], rows
    )


def _augmentation_md(section: Mapping[str, Any] | None) -> list[str]:
    out = ["## Augmentation", ""]
    if reason := skipped(section):
        return [*out, reason, ""]
    rows = [
        [
            mode,
            "x".join(map(str, m["clip_shape"])),
            m["originals"],
            m["copies"],
            fmt(m["clips_per_second"], 1),
            fmt(m["step_seconds"], 3),
        ]
        for mode, m in section["modes"].items()
    ]
    return out + table(
        ["mode", "clip", "originals", "copies", "augment_clips: copies/s", "whole step s"], rows
    )


def _memory_md(section: Mapping[str, Any] | None) -> list[str]:
    out = ["## Memory", ""]
    if reason := skipped(section):
        return [*out, reason, ""]
    shape = "x".join(map(str, section["clip_shape"]))
    out += [
        f"Peak RSS (VmHWM) of a fresh process per run, clips {shape} held in memory as uint8 "
        "(as the catalog loads a set: the data itself). `training`: `fit_model` as a fold "
        "runs it; `input_pipeline`: the same tf.data pipeline iterated without a model. Both "
        "runs take the same steps on batches of one shape, so that only the data's size "
        "differs: N is a whole number of batches, the validation split is off, N trains "
        f"{section['epochs']['N']} epochs and 4N {section['epochs']['4N']}.",
        "",
    ]
    rows = []
    for run in section["runs"].values():
        n = run["n"]
        rows.append(
            [
                run.get("name", run["architecture"]),
                run["scope"],
                f"{n} / {4 * n}",
                " / ".join(f"{v:.0f}" for v in run["peak_rss_mb"].values()),
                fmt(run["peak_growth_mb"], 1),
                fmt(run["added_data_uint8_mb"], 1),
                fmt(run["added_data_float32_mb"], 1),
                fmt(run["growth_beyond_data_mb"], 1),
                pct(run["growth_beyond_data_share_of_float32"]),
            ]
        )
    return out + table(
        [
            "architecture",
            "scope",
            "N / 4N clips",
            "peak MB (N / 4N / N again)",
            "growth MB",
            "added uint8 MB",
            "added float32 MB",
            "growth beyond data MB",
            "beyond data / float32",
        ],
        rows,
    )


def _end_to_end_md(section: Mapping[str, Any] | None) -> list[str]:
    out = ["## End to end", ""]
    if reason := skipped(section):
        return [*out, reason, ""]
    return [
        *out,
        f"Measured: **{section['which']}** run, `{section['command']}`, in a temporary copy of "
        f"the project (sample generated from scratch): **{section['seconds']:.0f} s** "
        f"({section['seconds'] / 60:.1f} min).",
        "",
        section["note"],
        "",
    ]


def _projection_md(section: Mapping[str, Any] | None) -> list[str]:
    out = ["## Projected LOSO study on SAMM-sized data", ""]
    if reason := skipped(section):
        return [*out, reason, ""]
    names = list(
        dict.fromkeys(p.get("name", p["architecture"]) for p in section["per_model"].values())
    )
    out += [
        f"{section['clips']} clips, protocol {section['protocol']}, {section['epochs']} epochs, "
        f"modes {', '.join(section['modes'])}, architectures {', '.join(names)}, on this "
        "machine:",
        "",
        "```",
        "T = sum over architectures a and modes m of",
        "      sum over the folds f (+ the final fit on all data) of",
        "        E * (n_fit(f,m) / r(a,m) + n_val(f,m) / (3 r(a,m))) + n_test(f,m) / (3 r(a,m))",
        f"    + ingestion ({section['clips']} clips) + augmentation (copies of every mode)",
        "E: epochs; n_fit, n_val, n_test: clips fitted, validated, tested (after augmentation);",
        "r: measured training clips/s; forward only (validation, test) = 3 r",
        "```",
        "",
    ]
    shape, size = section["clip_shape"], section["study_image_size"]
    rates_at = "x".join(map(str, shape))
    if shape[1:] == [size, size]:
        out += [f"Rates measured at {rates_at}, the study's clip size.", ""]
    else:
        out += [
            f"Rates measured at {rates_at}, NOT the study's {size}x{size}: not a projection "
            "of the study.",
            "",
        ]
    rows = [
        [
            p.get("name", p["architecture"]),
            p["mode"],
            fmt(p["clips_per_second"], 2),
            p["rate"],
            f"{p['folds']} + 1",
            fmt(p["mean_n_fit"], 0),
            fmt(p["mean_n_val"], 0),
            fmt(p["mean_epoch_seconds"], 1),
            fmt(p["hours"], 2),
            fmt(p.get("flop_bound_hours"), 2),
        ]
        for p in section["per_model"].values()
    ]
    out += table(
        [
            "architecture",
            "mode",
            "r clips/s",
            "r",
            "folds",
            "mean n_fit",
            "mean n_val",
            "epoch s",
            "hours",
            "FLOP-bound hours",
        ],
        rows,
    )
    if section.get("flop_bound_training_hours"):
        training, bound = section["training_hours"], section["flop_bound_training_hours"]
        out += [
            f"FLOP-bound: every training FLOP at the dense matmul rate of this run "
            f"({section['matmul_gflops']:.0f} GFLOP/s), r = rate / training FLOPs per clip. "
            f"The trainings take {training:.1f} h against {bound:.1f} h FLOP-bound: "
            f"**{training / bound:.2f}x** the machine's limit (target: within 2x).",
            "",
        ]
        paired = section.get("flop_bound_training_hours_paired")
        if paired:
            slowest = section["flop_bound_training_hours_slowest"]
            out += [
                "The matmul rate drifts within a run. Each rate against the matmul measured in "
                f"its own process: {paired:.1f} h FLOP-bound, **{training / paired:.2f}x**; "
                f"at the run's slowest matmul ({section['matmul_gflops_slowest']:.0f} GFLOP/s): "
                f"{slowest:.1f} h, {training / slowest:.2f}x.",
                "",
            ]
    return [
        *out,
        f"Ingestion {section['ingestion_hours'] * 60:.1f} min, augmentation "
        f"{section['augmentation_hours'] * 60:.1f} min. **Total: "
        f"{section['total_hours']:.1f} h** on this machine.",
        "",
    ]


def new_folder(parent: Path) -> Path:
    """A new folder named after the current UTC time (suffixed if it exists already), so no
    earlier result is ever overwritten."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    for attempt in range(1, 1000):
        folder = parent / (stamp if attempt == 1 else f"{stamp}-{attempt}")
        try:
            folder.mkdir(parents=True)
            return folder
        except FileExistsError:
            continue
    raise FileExistsError(f"no free result folder under {parent}")


def write(result: Mapping[str, Any], folder: Path) -> tuple[Path, Path]:
    """Write ``bench.json`` and ``bench.md`` into ``folder``."""
    json_path, md_path = folder / "bench.json", folder / "bench.md"
    json_path.write_text(json.dumps(result, indent=1, default=str) + "\n")
    md_path.write_text(markdown(result))
    return json_path, md_path
