"""The report's training sections: training rates per architecture (``benchmarks.training``)
and, where there is a GPU, the same per precision on it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from benchmarks.report_tables import skipped, table
from benchmarks.targets import fmt, pct


def training_md(section: Mapping[str, Any] | None, matmul: Mapping[str, Any] | None) -> list[str]:
    out = ["## Training", ""]
    if reason := skipped(section):
        return [*out, reason, ""]
    shape = "x".join(map(str, section["clip_shape"]))
    out += [
        f"Clips {shape}, binary variant of each architecture, at the study's settings "
        "(conf/real: its batch sizes, as the projection below). "
        f"Dense matmul rate (float32 {matmul['size']}x{matmul['size']} tf.matmul, best of "
        f"{len(section['matmul_gflops_all'])} measurements in this run, before and after the "
        f"training in each process: "
        f"{', '.join(f'{g:.0f}' for g in section['matmul_gflops_all'])}): "
        f"**{section['matmul_gflops']:.0f} GFLOP/s**. `pipeline`: the project's tf.data input "
        f"pipeline from uint8 with op determinism "
        f"{'on (the default)' if section['deterministic_configured'] else 'off (as configured)'}"
        "; `no det.`: the same with determinism off; `plain`: `model.fit` on a float32 NumPy "
        "array, determinism off (the study's approach). Rates: clips/s of the fastest of "
        f"{section['timed_epochs']} timed epoch(s) after a warm-up epoch, best of "
        f"{section['repeats']}. FLOPs from the layer shapes, training = 3 x forward. `own "
        "process's matmul`: the better of the two matmul measurements of the process that "
        "measured the pipeline's fastest rate.",
        "",
    ]
    rows = []
    for key, a in section["architectures"].items():
        rows.append(
            [
                a.get("name", key),
                a["clips"],
                a["batch_size"],
                fmt(a["pipeline_clips_per_second"], 1),
                fmt(a["pipeline_nondeterministic_clips_per_second"], 1),
                fmt(a["plain_clips_per_second"], 1),
                fmt(a["ratio_to_plain"]),
                fmt(a["ratio_to_plain_nondeterministic"]),
                fmt(a["training_gflop_per_clip"], 1),
                fmt(a["achieved_gflops"], 0),
                f"{pct(a['share_of_matmul'])} / {pct(a['share_of_matmul_nondeterministic'])}",
                fmt(a.get("process_matmul_gflops"), 0),
                pct(a["share_of_process_matmul"]) if a.get("share_of_process_matmul") else "-",
            ]
        )
    return out + table(
        [
            "architecture",
            "clips",
            "batch",
            "pipeline clips/s",
            "no det. clips/s",
            "plain clips/s",
            "pipeline / plain",
            "no det. / plain",
            "GFLOP/clip (train)",
            "pipeline GFLOP/s",
            "share of matmul (pipeline / no det.)",
            "own process's matmul GFLOP/s",
            "pipeline share of it",
        ],
        rows,
    )


def gpu_md(section: Mapping[str, Any] | None) -> list[str]:
    out = ["## GPU", ""]
    if section and "skipped" in section:
        return [*out, f"skipped: {section['skipped']}", ""]
    if not section or not section.get("available"):
        return [*out, (section or {}).get("note", "no GPU on this machine"), ""]
    rows = []
    for key, per in section["architectures"].items():
        name = (section.get("names") or {}).get(key, key)
        for precision, a in per.items():
            rows.append(
                [
                    name,
                    precision,
                    fmt(a["pipeline_clips_per_second"], 1),
                    fmt(a["plain_clips_per_second"], 1),
                    fmt(a["ratio_to_plain"]),
                    fmt(a["achieved_gflops"], 0),
                ]
            )
    out += [f"{section['note']}", ""]
    return out + table(
        ["architecture", "precision", "pipeline clips/s", "plain clips/s", "ratio", "GFLOP/s"],
        rows,
    )
