"""Markdown helpers shared by the report's sections (``benchmarks.report`` and the
``*_report`` modules): a table, and the line that stands for a section not measured."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def table(header: list[str], rows: list[list[Any]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return [*lines, ""]


def skipped(section: Mapping[str, Any] | None) -> str | None:
    if not section:
        return "not run"
    if "error" in section:
        return f"failed: {section['error']}"
    if "skipped" in section:
        return f"skipped: {section['skipped']}"
    return None
