"""The report's "Optical flow" section: extraction rates beside the decode floor, and the
flow models' training rates and projected LOSO times (``benchmarks.flow``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from benchmarks.report_tables import skipped, table
from benchmarks.targets import fmt


def flow_md(section: Mapping[str, Any] | None) -> list[str]:
    out = ["## Optical flow", ""]
    if reason := skipped(section):
        return [*out, reason, ""]
    floor = section["decode_floor"]
    fw, fh = floor["frame_size"]
    threaded = section["ingestion_decode"]
    sizes = list(dict.fromkeys([str(section["clip_size"]), str(section["compare_size"])]))
    out += [
        f"Extraction: `clip_flows`, one onset -> apex pair per clip -> {section['stored_size']}x"
        f"{section['stored_size']}x[u, v, strain], each method with the `features` settings, "
        f"this process only (OpenCV's own threads: {section['opencv_threads']}), calls repeated "
        f"for at least {fmt(section['min_seconds'], 1)} s after a warm-up call. "
        f"{section['compare_size']} px: the ingested crops' onset and apex frames resized to "
        f"{section['compare_size']} px where they are smaller. Decode floor: `cv2.imread` grey "
        f"of each clip's onset and apex JPEG ({fw}x{fh}) from the sample's raw files, one thread"
        f" (files in the page cache): **{fmt(floor['clips_per_second'], 1)} clips/s**"
        + (
            f"; ingestion's decode-only rate with {threaded['threads']} threads, per two frames: "
            f"{fmt(threaded['clips_per_second'], 1)} clips/s."
            if threaded.get("clips_per_second")
            else "."
        ),
        "",
    ]
    rows = []
    for method, m in section["extraction"].items():
        row = [method]
        for size in sizes:
            rate = m["sizes"][size]["clips_per_second"]
            row += [fmt(rate, 1), fmt(floor["clips_per_second"] / rate, 1, "x")]
        row.append(fmt(m["sizes"][sizes[-1]]["cpu_per_wall"], 2))
        rows.append(row)
    header = ["method"]
    for size in sizes:
        header += [f"{size} px clips/s", f"{size} px: time x decode floor"]
    out += table([*header, f"CPU s / wall s ({sizes[-1]} px)"], rows)
    training = section["training"]
    small, large = training["sizes"]
    samm = section["samm"]
    out += [
        f"Flow models on random float16 28x28x3 flow fields ({training['n_classes']} classes) "
        "through the project's input pipeline, op determinism "
        f"{'on' if training['deterministic'] else 'off'}, validation off, no augmentation; "
        "`sample`: conf/base's settings, `reference`: conf/real's, the references' (STSTNet, "
        "OFF-ApexNet (MEB), RCN-A papers' code). An epoch's time measured at "
        f"{small} and {large} clips: t(n) = a + b n. Projected LOSO on SAMM-sized data: "
        f"{samm['clips']} clips, {samm['subjects']} subjects -> {samm['subjects']} folds + 1 "
        "final fit, E epochs each: 30 x fit overhead (build, first-epoch tracing, first "
        f"prediction) + E x (29 t({samm['clips']} - {samm['clips']}/{samm['subjects']}) + "
        f"t({samm['clips']})); `steady`: the same clips at the {large}-clip rate, no fixed "
        "costs.",
        "",
    ]
    rows = []
    for run in training["runs"].values():
        loso, at_large = run["loso"], run["epochs"][str(large)]
        rows.append(
            [
                run["architecture"],
                run["setting"],
                f"{run['parameters']:,}",
                run["batch_size"],
                run["epochs_configured"],
                fmt(at_large["clips_per_second"], 0),
                fmt(run["epochs"][str(small)]["epoch_seconds"], 3),
                fmt(loso["epoch_fixed_seconds"], 3),
                fmt(loso["marginal_clips_per_second"], 0),
                fmt(run["fit_overhead_seconds"], 2),
                fmt(run["prediction_clips_per_second"], 0),
                fmt(loso["hours"], 2),
                fmt(loso["steady_rate_hours"], 2),
            ]
        )
    out += table(
        [
            "model",
            "settings",
            "parameters",
            "batch",
            "epochs E",
            f"train clips/s ({large})",
            f"epoch s ({small})",
            "a: fixed s/epoch",
            "1/b: marginal clips/s",
            "fit overhead s",
            "predict clips/s",
            "LOSO hours",
            "steady hours",
        ],
        rows,
    )
    return out
