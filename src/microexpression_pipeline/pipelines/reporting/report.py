"""The report as a list of blocks, rendered to one self-contained HTML page and to Markdown
with the same content (pictures embedded as base64 PNG data URIs in both)."""

from __future__ import annotations

import html
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from microexpression_pipeline.pipelines.reporting.tables import HEADLINE, NA, fmt


@dataclass
class Block:
    """A heading (level 1-3), paragraph, bullet list, table or picture."""

    kind: str
    text: str = ""
    level: int = 2
    items: list[str] = field(default_factory=list)
    table: pd.DataFrame | None = None
    image: str = ""


def heading(text: str, level: int = 2) -> Block:
    return Block("heading", text=text, level=level)


def paragraph(text: str) -> Block:
    return Block("paragraph", text=text)


def bullets(items: Sequence[str]) -> Block:
    return Block("list", items=list(items))


def table(frame: pd.DataFrame) -> Block:
    return Block("table", table=frame)


def picture(caption: str, png_base64: str) -> Block:
    return Block("image", text=caption, image=png_base64)


def _cells(frame: pd.DataFrame) -> tuple[list[str], list[list[str]]]:
    header = [str(c) for c in frame.columns]
    rows = [
        [fmt(v) if isinstance(v, float) else str(v) for v in row]
        for row in frame.itertuples(index=False)
    ]
    return header, rows


CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;max-width:1200px;
margin:2em auto;padding:0 1em;color:#222;line-height:1.45}
table{border-collapse:collapse;margin:0.6em 0 1.2em;font-size:0.86em}
th,td{border:1px solid #ccc;padding:3px 8px;text-align:right}
th{background:#f1f3f5}td:first-child,th:first-child{text-align:left}
img{max-width:100%;border:1px solid #eee;margin:0.3em 0}
figure{margin:0.8em 0}figcaption{font-size:0.85em;color:#555}
code{background:#f4f4f4;padding:0 3px}
"""


def to_html(title: str, blocks: Sequence[Block]) -> str:
    """A standalone HTML page (inline CSS, inline images)."""
    esc = html.escape
    body = []
    for block in blocks:
        if block.kind == "heading":
            body.append(f"<h{block.level}>{esc(block.text)}</h{block.level}>")
        elif block.kind == "paragraph":
            body.append(f"<p>{esc(block.text)}</p>")
        elif block.kind == "list":
            items = "".join(f"<li>{esc(item)}</li>" for item in block.items)
            body.append(f"<ul>{items}</ul>")
        elif block.kind == "table" and block.table is not None:
            header, rows = _cells(block.table)
            head = "".join(f"<th>{esc(h)}</th>" for h in header)
            lines = "".join(
                "<tr>" + "".join(f"<td>{esc(c)}</td>" for c in row) + "</tr>" for row in rows
            )
            body.append(f"<table><thead><tr>{head}</tr></thead><tbody>{lines}</tbody></table>")
        elif block.kind == "image":
            body.append(
                f'<figure><img alt="{esc(block.text)}" src="data:image/png;base64,{block.image}">'
                f"<figcaption>{esc(block.text)}</figcaption></figure>"
            )
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{esc(title)}</title><style>{CSS}</style></head><body>\n"
        + "\n".join(body)
        + "\n</body></html>\n"
    )


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def to_markdown(blocks: Sequence[Block]) -> str:
    """The same blocks as GitHub-flavoured Markdown."""
    parts = []
    for block in blocks:
        if block.kind == "heading":
            parts.append(f"{'#' * block.level} {block.text}")
        elif block.kind == "paragraph":
            parts.append(block.text)
        elif block.kind == "list":
            parts.append("\n".join(f"- {item}" for item in block.items))
        elif block.kind == "table" and block.table is not None:
            header, rows = _cells(block.table)
            lines = [
                "| " + " | ".join(_md_cell(h) for h in header) + " |",
                "|" + "|".join("---" for _ in header) + "|",
                *("| " + " | ".join(_md_cell(c) for c in row) + " |" for row in rows),
            ]
            parts.append("\n".join(lines))
        elif block.kind == "image":
            parts.append(f"![{block.text}](data:image/png;base64,{block.image})")
    return "\n\n".join(parts) + "\n"


def _mean_std(mean: Any, std: Any, n_runs: int) -> str:
    """``mean +- std`` over runs (the mean alone for one run)."""
    return f"{fmt(mean)} +- {fmt(std)}" if n_runs > 1 else fmt(mean)


def leaderboard_display(board: pd.DataFrame) -> pd.DataFrame:
    """The leaderboard as the report prints it: metric +- and baselines side by side."""
    rows = []
    for r in board.itertuples(index=False):
        rows.append(
            {
                "data source": r.data_source,
                "mode": r.mode,
                "architecture": r.architecture,
                "protocol": r.protocol,
                "subject-independent": "yes" if r.subject_independent else "NO",
                "folds": r.n_folds,
                "test clips": r.n_test,
                "runs": r.n_runs,
                "UF1": _mean_std(r.uf1, r.uf1_std, r.n_runs),
                "UAR": _mean_std(r.uar, r.uar_std, r.n_runs),
                "accuracy": _mean_std(r.accuracy, r.accuracy_std, r.n_runs),
                "fold acc. mean +- std": (
                    f"{fmt(r.fold_accuracy_mean)} +- {fmt(r.fold_accuracy_std)}"
                ),
                "majority UF1 / UAR / acc.": " / ".join(
                    fmt(getattr(r, f"majority_{m}")) for m in ("uf1", "uar", "accuracy")
                ),
                "chance UF1 / UAR / acc.": " / ".join(
                    fmt(getattr(r, f"chance_{m}")) for m in ("uf1", "uar", "accuracy")
                ),
                "trained (version)": r.version,
            }
        )
    return pd.DataFrame(rows)


def model_metrics_table(ev: Mapping[str, Any]) -> pd.DataFrame:
    """Model vs majority baseline vs chance for one model."""
    return pd.DataFrame(
        [
            {"": name, **{m.upper() if m != "accuracy" else m: fmt(values[m]) for m in HEADLINE}}
            for name, values in (
                ("model", ev["metrics"]),
                ("majority-class baseline", ev["majority"]),
                ("chance (uniform guessing)", ev["chance"]),
            )
        ]
    )


def confusion_table(matrix: Any, classes: Sequence[str], digits: int | None = None) -> pd.DataFrame:
    """A confusion matrix with class names (rows: true, columns: predicted); counts that are
    means over runs get one decimal."""
    frame = pd.DataFrame(matrix, columns=[f"pred. {c}" for c in classes])
    if digits is None and not np.allclose(frame.to_numpy(float), np.round(frame.to_numpy(float))):
        digits = 1
    if digits is not None:
        frame = frame.map(lambda v: fmt(v, digits))
    frame.insert(0, "true", list(classes))
    return frame


def parameters_text(values: Mapping[str, Any]) -> str:
    """Compact one-line JSON of a parameter mapping."""
    return json.dumps(values, sort_keys=True, default=str) if values else NA
