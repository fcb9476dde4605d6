"""Reporting nodes: collect the saved training results, score them, draw and write."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import pandas as pd
from matplotlib.figure import Figure

from microexpression_pipeline.parameters import plain
from microexpression_pipeline.pipelines.reporting import figures as fig
from microexpression_pipeline.pipelines.reporting import report as rep
from microexpression_pipeline.pipelines.reporting.accounting import accounting_blocks
from microexpression_pipeline.pipelines.reporting.benchmark_section import benchmark_section
from microexpression_pipeline.pipelines.reporting.cross_dataset_text import (
    final_model_line,
    mapping_statement,
    training_statement,
)
from microexpression_pipeline.pipelines.reporting.results import ModelResult, gather
from microexpression_pipeline.pipelines.reporting.schema import ReportingParams
from microexpression_pipeline.pipelines.reporting.tables import (
    NA,
    evaluate,
    fmt,
    leaderboard,
    mlflow_metrics,
)

logger = logging.getLogger(__name__)

NO_RESULTS = (
    "No trained model results were found (data/07_model_output/ holds no saved predictions "
    "and summary). Train a model first, e.g. "
    "`kedro run --pipeline=train --params model:3dcnn`, then run `kedro run --pipeline=reporting`."
)


def collect_training_results(
    other_runs: Mapping[str, Any] | None, run_info: Mapping[str, Any], **trained: Any
) -> tuple[list[ModelResult], dict[str, Any], dict[str, Any]]:
    """The results to report: model results, augmentation metas and CASME II summaries (see
    ``results.gather``)."""
    results, metas, cross = gather(
        trained, other_runs, str(run_info.get("data_source")), str(run_info.get("mode"))
    )
    logger.info(
        "Reporting %d result(s): %s", len(results), ", ".join(r.key for r in results) or "none"
    )
    return results, metas, cross


def evaluate_results(
    results: list[ModelResult],
) -> tuple[list[dict[str, Any]], pd.DataFrame, dict[str, dict[str, float]]]:
    """Metrics, baselines and tables per model; the leaderboard; MLflow metrics."""
    evaluations = [evaluate(result) for result in results]
    board = leaderboard(evaluations)
    return evaluations, board, mlflow_metrics(evaluations)


def _title(ev: Mapping[str, Any]) -> str:
    return f"{ev['architecture']} | mode {ev['mode']} | {ev['protocol']} | {ev['data_source']}"


def draw_figures(
    evaluations: list[dict[str, Any]],
    board: pd.DataFrame,
    augmentation_metas: Mapping[str, Any],
    cross_dataset: Mapping[str, Mapping[str, Any]],
) -> dict[str, Figure]:
    """Every picture of the report, keyed by PNG file name."""
    figures: dict[str, Figure] = {"leaderboard.png": fig.leaderboard_figure(board)}
    for ev in evaluations:
        name = ev["key"].replace("/", "_")
        figures[f"confusion_{name}.png"] = fig.confusion_figure(
            ev["confusion"], ev["confusion_normalised"], ev["classes"], _title(ev)
        )
        figures[f"learning_curves_{name}.png"] = fig.learning_curves_figure(
            ev["histories"], f"Learning curves: {_title(ev)}"
        )
        figures[f"per_subject_{name}.png"] = fig.per_subject_figure(
            ev["per_subject"], f"Per-subject accuracy: {_title(ev)}"
        )
    for key, meta in augmentation_metas.items():
        source, mode = key.split("/")
        figures[f"class_counts_{source}_{mode}.png"] = fig.class_counts_figure(
            meta, f"{source} data, mode {mode}"
        )
    for key, summary in cross_dataset.items():
        for slug, model in (summary.get("models") or {}).items():
            if model.get("status") == "evaluated":
                name = f"cross_dataset_confusion_{key.replace('/', '_')}_{slug}.png"
                figures[name] = fig.cross_dataset_confusion_figure(summary, slug)
    return figures


def independence(subject_independent: bool) -> str:
    """How a protocol treats subjects, in words."""
    return "subject-independent" if subject_independent else "NOT subject-independent"


def _sources_and_protocols(
    evaluations: list[dict[str, Any]], run_info: Mapping[str, Any]
) -> list[str]:
    """Data source(s) and protocol(s) of the reported results (of this run's parameters
    when there is no result)."""
    if not evaluations:
        return [
            f"Data source: {run_info.get('data_source') or NA} (this run's setting; no results)",
            f"Protocol: {run_info.get('protocol') or NA} (this run's setting; no results)",
        ]
    sources = sorted({str(ev["data_source"] or NA) for ev in evaluations})
    protocols = sorted(
        {f"{ev['protocol']} ({independence(ev['subject_independent'])})" for ev in evaluations}
    )
    return [f"Data source: {', '.join(sources)}", f"Protocol: {', '.join(protocols)}"]


def _model_section(ev: Mapping[str, Any], images: Mapping[str, str]) -> list[rep.Block]:
    name = ev["key"].replace("/", "_")
    stats = ev["fold_statistics"].copy()
    stats["mean +- std"] = [
        f"{fmt(m)} +- {fmt(s)}" for m, s in zip(stats["mean"], stats["std"], strict=True)
    ]
    per_class = ev["per_class"].copy()
    blocks = [
        rep.heading(f"{ev['architecture']}, mode {ev['mode']}, {ev['data_source']} data", 3),
        rep.bullets(
            [
                f"Data source: {ev['data_source'] or NA}; protocol: {ev['protocol']} "
                f"({independence(ev['subject_independent'])}); "
                f"{ev['fold_accuracy']['fold'].nunique()} folds x {ev['n_runs']} run(s) "
                f"(seeds {', '.join(map(str, ev['seeds']))}), {ev['n_test']} test clips",
                f"Training run: MLflow {ev['mlflow_run_id'] or NA}, version {ev['version']}",
                "Input versions: "
                + (", ".join(f"{k} = {v}" for k, v in sorted(ev["input_versions"].items())) or NA),
                "Parameters: "
                + "; ".join(
                    (
                        f"seed {ev['seed']}",
                        f"evaluation {rep.parameters_text(ev['evaluation'])}",
                        f"training {rep.parameters_text(ev['settings'])}",
                    )
                ),
            ]
        ),
        rep.table(rep.model_metrics_table(ev)),
        rep.paragraph("Per-fold accuracy (population std):"),
        rep.table(stats[["scope", "n_folds", "mean +- std"]]),
        rep.paragraph("Per class (pooled over folds):"),
        rep.table(per_class),
        rep.paragraph(
            "Confusion matrix (rows true, columns predicted), counts and row-normalised:"
        ),
        rep.table(rep.confusion_table(ev["confusion"], ev["classes"])),
        rep.table(rep.confusion_table(ev["confusion_normalised"], ev["classes"], digits=2)),
    ]
    for prefix, caption in (
        ("confusion", "Confusion matrices"),
        ("learning_curves", "Learning curves"),
        ("per_subject", "Per-subject accuracy"),
    ):
        if f"{prefix}_{name}.png" in images:
            blocks.append(rep.picture(f"{caption}: {_title(ev)}", images[f"{prefix}_{name}.png"]))
    return blocks


def _cross_dataset_section(
    summaries: Mapping[str, Mapping[str, Any]], images: Mapping[str, str]
) -> list[rep.Block]:
    blocks = [rep.heading("Hold-out database: the study's CASME II test", 2)]
    if not summaries:
        return [
            *blocks,
            rep.paragraph(
                "Not evaluated yet: run `kedro run --pipeline=cross_dataset` after training a "
                "binary model on SAMM."
            ),
        ]
    for key, summary in summaries.items():
        if len(summaries) > 1:
            blocks.append(rep.heading(f"{key.replace('/', ', mode ')}", 3))
        blocks += _cross_dataset_results(key, summary, images)
    return blocks


def _cross_dataset_results(
    key: str, summary: Mapping[str, Any], images: Mapping[str, str]
) -> list[rep.Block]:
    models = summary.get("models") or {}
    blocks = [
        rep.bullets(
            [
                training_statement(summary),
                *(
                    final_model_line(m.get("architecture", slug), m.get("final_model"))
                    for slug, m in models.items()
                    if m.get("status") == "evaluated"
                ),
                mapping_statement(summary),
                f"CASME II clips tested: {summary.get('n_clips', NA)} "
                f"(per class: {rep.parameters_text(summary.get('class_counts', {}))}); "
                f"left out (unmapped emotions): {summary.get('n_left_out', NA)} "
                f"{rep.parameters_text(summary.get('left_out_emotions', {}))}",
                f"CASME II input version: {summary.get('casme2_version') or NA}; "
                f"MLflow run: {summary.get('mlflow_run_id') or NA}",
            ]
        ),
    ]
    if summary.get("message"):
        blocks.append(rep.paragraph(str(summary["message"])))
    rows = []
    for slug, model in (summary.get("models") or {}).items():
        metrics = model.get("metrics") or {}
        rows.append(
            {
                "architecture": model.get("architecture", slug),
                "status": model.get("status", NA),
                "UF1": fmt(metrics.get("uf1")),
                "UAR": fmt(metrics.get("uar")),
                "accuracy": fmt(metrics.get("accuracy")),
                "majority UF1 / UAR / acc.": " / ".join(
                    fmt((model.get("majority") or {}).get(m)) for m in ("uf1", "uar", "accuracy")
                ),
                "model version": model.get("model_version", NA),
                "note": model.get("reason", ""),
            }
        )
    if rows:
        blocks.append(rep.table(pd.DataFrame(rows)))
    for slug, model in (summary.get("models") or {}).items():
        if model.get("status") != "evaluated":
            continue
        blocks.append(
            rep.paragraph(
                f"{model.get('architecture', slug)} on CASME II, confusion matrix "
                "(rows true, columns predicted):"
            )
        )
        blocks.append(rep.table(rep.confusion_table(model["confusion"], summary["classes"])))
        image = images.get(f"cross_dataset_confusion_{key.replace('/', '_')}_{slug}.png")
        if image:
            blocks.append(rep.picture(f"{model.get('architecture', slug)} on CASME II", image))
    return blocks


def _flow_section(sheet: str | None, meta: Mapping[str, Any] | None) -> list[rep.Block]:
    """Examples of the flow the flow models see (SAMM), and how it was computed."""
    if not sheet or not meta:
        return []
    text = (
        f"Onset -> apex optical flow ({meta.get('method')}, computed at "
        f"{meta.get('computed_at_px')} px, stored at {meta.get('stored_size')} px, not "
        f"normalised) and optical strain of {meta.get('n_clips')} SAMM clips: mean flow "
        f"magnitude {meta.get('magnitude_px', {}).get('mean', float('nan')):.3f} px, 99th "
        f"percentile {meta.get('magnitude_px', {}).get('p99', float('nan')):.3f} px (pixels of "
        "the stored grid). Colour: direction (hue) and magnitude (brightness), one scale for "
        "the whole sheet."
    )
    return [
        rep.heading("Flow features", 2),
        rep.paragraph(text),
        rep.picture("Flow contact sheet (SAMM)", sheet),
    ]


def write_report(
    evaluations: list[dict[str, Any]],
    board: pd.DataFrame,
    figures: dict[str, Figure],
    augmentation_metas: Mapping[str, Any],
    cross_dataset: Mapping[str, Mapping[str, Any]],
    run_info: Mapping[str, Any],
    reporting: ReportingParams,
    accounting: Mapping[str, Mapping[str, pd.DataFrame]] | None = None,
    flow_sheet: str | None = None,
    flow_meta: Mapping[str, Any] | None = None,
    benchmark: Mapping[str, Any] | None = None,
) -> tuple[dict[str, Figure], str, str]:
    """The figures (passed on to be saved), the HTML report and the Markdown report."""
    images = {
        name: fig.png_base64(figure, reporting.embedded_dpi) for name, figure in figures.items()
    }
    title = reporting.title
    blocks = [
        rep.heading(title, 1),
        rep.bullets(
            [
                *_sources_and_protocols(evaluations, run_info),
                f"Reporting run: MLflow {run_info.get('mlflow_run_id') or NA}, Kedro session "
                f"{run_info.get('kedro_session_id') or NA}, run parameters: mode "
                f"{run_info.get('mode')}, model {run_info.get('model')}, data source "
                f"{run_info.get('data_source')}, protocol {run_info.get('protocol')}",
                "Dataset versions read by this run: "
                + (
                    ", ".join(
                        f"{k} = {v}"
                        for k, v in sorted((run_info.get("input_versions") or {}).items())
                    )
                    or NA
                ),
                f"Reporting parameters: {rep.parameters_text(plain(reporting))}",
            ]
        ),
        rep.heading("Leaderboard", 2),
    ]
    if board.empty:
        blocks.append(rep.paragraph(NO_RESULTS))
    else:
        blocks += [
            rep.paragraph(
                "Pooled over all folds of a run (MEGC convention), a run being one training "
                "seed (and one repeat of stratified k-fold); mean +- population std over "
                "runs where there are several: UF1 = mean over classes of "
                "2TP/(2TP+FP+FN), UAR = mean per-class recall; n/a = cannot be computed. "
                "Majority baseline: per fold, the most frequent class of the other folds' "
                "original clips; chance: uniform random guessing (accuracy and UAR 1/K, UF1 "
                "from expected counts). UF1 and UAR lead because always answering the majority "
                "class already scores a high accuracy on imbalanced data."
            ),
            rep.table(rep.leaderboard_display(board)),
        ]
    blocks.append(rep.picture("Leaderboard", images["leaderboard.png"]))
    if augmentation_metas:
        blocks.append(rep.heading("Class counts before and after augmentation", 2))
        for key, meta in augmentation_metas.items():
            blocks.append(
                rep.paragraph(
                    f"{key}: before {rep.parameters_text(meta.get('counts_before', {}))}, "
                    f"after {rep.parameters_text(meta.get('counts_after', {}))}"
                    + (
                        f" (a balancing pool of {meta.get('balance_pool_copies')} copies per "
                        "original: each fold fits only the copies that balance its fitting "
                        "subjects' classes, `fit_class_counts` in the training summary)"
                        if meta.get("balance")
                        else ""
                    )
                )
            )
            blocks.append(
                rep.picture(
                    f"Class counts, {key}", images[f"class_counts_{key.replace('/', '_')}.png"]
                )
            )
    blocks += accounting_blocks((accounting or {}).get("samm", {}), "SAMM")
    blocks += _flow_section(flow_sheet, flow_meta)
    if evaluations:
        blocks.append(rep.heading("Models", 2))
        for ev in evaluations:
            blocks += _model_section(ev, images)
    blocks += _cross_dataset_section(cross_dataset, images)
    blocks += accounting_blocks((accounting or {}).get("casme2", {}), "CASME II", level=3)
    blocks += benchmark_section(benchmark)
    return figures, rep.to_html(title, blocks), rep.to_markdown(blocks)


def report_figures(
    evaluations: list[dict[str, Any]],
    board: pd.DataFrame,
    augmentation_metas: Mapping[str, Any],
    cross_dataset: Mapping[str, Mapping[str, Any]],
    run_info: Mapping[str, Any],
    reporting: ReportingParams,
    accounting: Mapping[str, Mapping[str, pd.DataFrame]] | None = None,
    flow_sheet: str | None = None,
    flow_meta: Mapping[str, Any] | None = None,
    benchmark: Mapping[str, Any] | None = None,
) -> tuple[dict[str, Figure], str, str]:
    """Draw the pictures and write the report that embeds them (``flow_sheet``: the SAMM flow
    contact sheet as base64 PNG, None when the features pipeline never ran; ``benchmark``:
    ``megc2019.results``, None before the MEGC 2019 benchmark ran)."""
    figures = draw_figures(evaluations, board, augmentation_metas, cross_dataset)
    return write_report(
        evaluations, board, figures, augmentation_metas, cross_dataset, run_info, reporting,
        accounting, flow_sheet, flow_meta, benchmark,
    )  # fmt: skip
