"""The benchmark's report as plain blocks (JSON-ready, rendered by the reporting pipeline
into the HTML report) and as its own Markdown page."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from microexpression_pipeline.pipelines.megc2019.scores import megc_layout, part_name


def _records(frame: pd.DataFrame) -> dict[str, Any]:
    return {"columns": [str(c) for c in frame.columns], "rows": frame.astype(str).values.tolist()}


def counts_table(composite: Mapping[str, Any]) -> pd.DataFrame:
    """Clips per dataset and class, subjects, and MEGC 2019's published counts."""
    classes = list(composite["classes"])
    rows = []
    for dataset, part in composite["datasets"].items():
        expected = part.get("expected_counts") or {}
        row = {"dataset": part_name(dataset)}
        row |= {c: str(part["class_counts"][c]) for c in classes}
        row |= {"clips": str(part["clips"]), "subjects": str(part["subjects"])}
        published = [str(expected.get(c, "-")) for c in classes]
        row["MEGC 2019 (real data)"] = (
            f"{' / '.join(published)}; {part.get('expected_subjects') or '-'} subjects"
        )
        rows.append(row)
    total = {"dataset": "Composite"} | {c: str(composite["class_counts"][c]) for c in classes}
    total |= {"clips": str(composite["clips"]), "subjects": str(composite["subjects"])}
    total["MEGC 2019 (real data)"] = "442 clips, 68 subjects"
    rows.append(total)
    return pd.DataFrame(rows)


def cross_table(
    rows: Sequence[Mapping[str, Any]], references: Sequence[Mapping[str, Any]], protocol: str
) -> pd.DataFrame:
    """One row per architecture (then published references), UF1 / UAR per target."""
    published = [
        {"method": f"{r['method']} (published: {r['source']})", "parts": r["values"]}
        for r in references
        if r["protocol"] == protocol
    ]
    parts = list(dict.fromkeys(p for row in [*rows, *published] for p in row["parts"]))
    return megc_layout([*rows, *published], parts)


def benchmark_blocks(results: Mapping[str, Any], megc_table: pd.DataFrame) -> list[dict[str, Any]]:
    """The benchmark's section: composite counts, MEGC table, cross-database tables."""
    composite = results["composite"]
    protocols = results["protocols"]
    source = results["data_source"]
    blocks: list[dict[str, Any]] = [
        {"kind": "heading", "level": 2, "text": "MEGC 2019 composite benchmark"},
        {
            "kind": "paragraph",
            "text": (
                f"Data source: {source}. SMIC-HS, CASME II and SAMM merged into MEGC 2019's "
                f"classes ({', '.join(results['classes'])}); leave-one-subject-out over the "
                "composite's subjects (subject ids per dataset); UF1 and UAR over the pooled "
                "predictions of the whole composite and of each dataset's part, mean ± std "
                "over seeds. Fixed epochs: nothing is chosen on test data."
                + ("" if source == "real" else f" {results['references_note']}")
            ),
        },
        {"kind": "heading", "level": 3, "text": "The composite"},
        {"kind": "table", "table": _records(counts_table(composite))},
    ]
    notes = [
        f"{part_name(dataset)} {e['clip_id']}: {e['status']} ({e['note']})"
        for dataset, part in composite["datasets"].items()
        for e in part["exclusions"]
    ]
    notes += [
        f"{part_name(dataset)}: labels outside the classes left out: "
        + ", ".join(f"{label} {n}" for label, n in part["left_out_labels"].items())
        for dataset, part in composite["datasets"].items()
        if part["left_out_labels"]
    ]
    if not composite["matches_megc2019"]:
        notes.append("Differs from MEGC 2019's counts: " + "; ".join(composite["differences"]))
    blocks.append({"kind": "list", "items": notes})
    blocks += [
        {"kind": "heading", "level": 3, "text": "Leave one subject out (MEGC 2019 layout)"},
        {"kind": "table", "table": _records(megc_table)},
    ]
    if source == "real":
        blocks.append({"kind": "paragraph", "text": results["references_note"]})
    for protocol, title in (("lodo", "Leave one database out: train on two, test on the third"),
                            ("holdout", "Hold-out database")):  # fmt: skip
        rows = protocols.get(protocol, {}).get("rows", [])
        blocks.append({"kind": "heading", "level": 3, "text": title})
        if rows:
            table = cross_table(rows, results["references"], protocol)
            blocks.append({"kind": "table", "table": _records(table)})
        else:
            blocks.append({"kind": "paragraph", "text": "No model trained under this protocol."})
    if protocols.get("holdout", {}).get("rows"):
        blocks.append({"kind": "paragraph", "text": (
            "The study's CASME II generalisation test (binary classes, models trained on all "
            "of SAMM, tested on CASME II) is one hold-out instance; its results are in the "
            "section 'Hold-out database: the study's CASME II test'.")})  # fmt: skip
    skipped = [f"{p}: {m}: {why}" for p, entry in protocols.items()
               for m, why in entry.get("skipped", {}).items()]  # fmt: skip
    if skipped:
        blocks.append({"kind": "list", "items": skipped})
    return blocks


def to_markdown(blocks: Sequence[Mapping[str, Any]]) -> str:
    """The blocks as Markdown (pipe tables)."""
    out = []
    for block in blocks:
        if block["kind"] == "heading":
            out.append(f"{'#' * block['level']} {block['text']}")
        elif block["kind"] == "paragraph":
            out.append(block["text"])
        elif block["kind"] == "list":
            out.append("\n".join(f"- {item}" for item in block["items"]))
        elif block["kind"] == "table":
            columns, rows = block["table"]["columns"], block["table"]["rows"]
            lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
            lines += ["| " + " | ".join(row) + " |" for row in rows]
            out.append("\n".join(lines))
    return "\n\n".join(out) + "\n"


def benchmark_markdown(results: dict[str, Any], megc_table: pd.DataFrame) -> str:
    """Store the blocks in ``results["report"]`` and return them as Markdown."""
    results["report"] = benchmark_blocks(results, megc_table)
    return to_markdown(results["report"])
