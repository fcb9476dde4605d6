"""The benchmark's targets: each with its figure, its status and notes derived from the run.

Every note is computed from figures measured (or counted) in the same run; none states a
cause or a result of its own.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

INGESTION_TARGET = 1.5
TRAINING_RATIO_TARGET = 1.0
MATMUL_SHARE_TARGET = 0.5
MEMORY_TARGET = 0.10
QUICK_SECONDS_TARGET = 600.0
TIE = "tie (within noise)"


def fmt(value: Any, digits: int = 2, suffix: str = "") -> str:
    """``value`` with ``digits`` decimals (floats), ``-`` for None."""
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.{digits}f}{suffix}"
    return f"{value}{suffix}"


def pct(value: float | None) -> str:
    """A share as a whole percentage, ``-`` for None."""
    return "-" if value is None else f"{100 * value:.0f} %"


def ratio_status(ratio: float | None, target: float, noise: float) -> bool | str | None:
    """Met, missed, or a tie: below the target by less than the measurement's own noise."""
    if ratio is None or ratio >= target:
        return None if ratio is None else True
    return TIE if ratio >= target * (1 - noise) else False


def ingestion_note(section: Mapping[str, Any]) -> str:
    """Detection and half-resolution decoding against the decode-only floor, as measured."""
    floor = section["decode_only_full"]["seconds"]
    detection = section["detection_only"]
    share = section["detection_share_of_decode_only"]
    half = section["decode_only_half"]["seconds"] / floor
    return (
        f"face detection alone takes {share:.2f}x the decode-only time "
        f"({detection['cpu_seconds'] / detection['seconds']:.2f} CPU s per wall s); decoding "
        f"and detection one after the other take {1 + share:.2f}x, their CPU seconds spread "
        f"over the {section['workers']} workers {section['decode_plus_detection_bound']:.2f}x. "
        f"Decoding at half resolution takes {half:.2f}x the full-resolution decode time"
    )


def ratio_note(arch: Mapping[str, Any], spread: float | None, deterministic: bool) -> str:
    """How much the epochs of one run differ, and the ratio measured side by side."""
    ratio, free = arch["ratio_to_plain"], arch["ratio_to_plain_nondeterministic"]
    if spread is None:
        note = "one timed epoch per run: no spread between epochs measured"
    else:
        note = f"epochs of one run differ by up to {pct(spread)}"
    if deterministic and free is not None and free != ratio:
        note += (
            "; side by side in one process (interleaved epochs, op determinism off) the "
            f"ratio is {free:.2f} (the pipeline with determinism ran in its own process)"
        )
    return note


def share_note(arch: Mapping[str, Any], cores: int | None) -> str:
    """Where the counted FLOPs are, the plain fit's share and the CPU use, as measured."""
    layers = arch.get("forward_flops_by_layer") or {}
    parts = []
    if layers:
        top = max(layers, key=layers.__getitem__)
        parts.append(
            f"layer {top} carries {pct(layers[top] / sum(layers.values()))} of the counted "
            f"FLOPs ({len(layers)} counted layers)"
        )
    if arch.get("plain_share_of_matmul") is not None:
        parts.append(f"the plain fit: {pct(arch['plain_share_of_matmul'])} of the matmul rate")
    if arch.get("cpu_utilisation") is not None:
        of = f" (of {cores} cores)" if cores else ""
        parts.append(f"the pipeline used {arch['cpu_utilisation']:.2f} CPU s per wall s{of}")
    return "; ".join(parts)


def memory_note(run: Mapping[str, Any]) -> str:
    """The peak at N beside the data's size, and the noise of two runs at N."""
    note = f"peak at N {run['peak_rss_mb']['N']:.0f} MB"
    if run.get("data_uint8_mb") is not None:
        note += f", {run['data_uint8_mb']:.1f} MB of it the clips"
    if run.get("noise_mb") is not None:
        note += (
            f"; two runs at N peaked {run['noise_mb']:.0f} MB apart; the target allows "
            f"{MEMORY_TARGET * run['added_data_float32_mb']:.1f} MB"
        )
    return note


def targets(result: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Every target with its figure, status and a note computed from the run's figures."""
    rows: list[dict[str, Any]] = []
    ingestion = result.get("ingestion") or {}
    if "ratio_to_decode_only" in ingestion:
        ratio = ingestion["ratio_to_decode_only"]
        rows.append(
            {
                "target": f"ingestion <= {INGESTION_TARGET}x decode-only",
                "figure": f"{ratio:.2f}x",
                "met": ratio <= INGESTION_TARGET,
                "note": ingestion_note(ingestion),
            }
        )
    training = result.get("training") or {}
    cores = (result.get("machine") or {}).get("usable_cores")
    for key, arch in training.get("architectures", {}).items():
        name = arch.get("name", key)
        spread = arch.get("epoch_spread")
        rows.append(
            {
                "target": f"{name}: pipeline >= {TRAINING_RATIO_TARGET} x plain float32 fit",
                "figure": fmt(arch["ratio_to_plain"]),
                "met": ratio_status(arch["ratio_to_plain"], TRAINING_RATIO_TARGET, spread or 0.0),
                "note": ratio_note(arch, spread, bool(training.get("deterministic_configured"))),
            }
        )
        share = arch["share_of_matmul"]
        paired = arch.get("share_of_process_matmul")
        rows.append(
            {
                "target": f"{name}: >= {pct(MATMUL_SHARE_TARGET)} of the matmul rate",
                "figure": f"{pct(share)} ({pct(arch['share_of_matmul_nondeterministic'])} "
                "without determinism"
                + (f"; {pct(paired)} of its own process's matmul" if paired else "")
                + ")",
                "met": share >= MATMUL_SHARE_TARGET,
                "note": share_note(arch, cores),
            }
        )
    for run in (result.get("memory") or {}).get("runs", {}).values():
        share = run["growth_beyond_data_share_of_float32"]
        limit_mb = MEMORY_TARGET * run["added_data_float32_mb"]
        met: bool | str = share < MEMORY_TARGET
        noise = run.get("noise_mb")
        if not met and noise is not None and run["growth_beyond_data_mb"] <= limit_mb + noise:
            met = TIE
        rows.append(
            {
                "target": f"memory {run['name']} {run['scope']}: growth N->4N beyond the data < "
                f"{pct(MEMORY_TARGET)} of its float32 size",
                "figure": f"{pct(share)} ({run['growth_beyond_data_mb']:+.1f} MB; raw growth "
                f"{pct(run['growth_share_of_float32'])})",
                "met": met,
                "note": memory_note(run),
            }
        )
    wall = result.get("wall_seconds")
    if result.get("profile") == "quick" and wall is not None and not result.get("only"):
        rows.append(
            {
                "target": f"`--quick` under {QUICK_SECONDS_TARGET / 60:.0f} minutes",
                "figure": f"{wall / 60:.1f} min",
                "met": wall < QUICK_SECONDS_TARGET,
                "note": "",
            }
        )
    return rows
