"""The MEGC 2019 benchmark's section of the report, from the blocks its pipeline stores in
``megc2019.results`` (``report``: headings, paragraphs, lists and tables as plain JSON)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from microexpression_pipeline.pipelines.reporting import report as rep

NOT_RUN = (
    "Not run yet for this data source: `kedro run --pipeline=megc2019` builds the composite "
    "of SMIC-HS, CASME II and SAMM and evaluates the flow models on it (leave one subject "
    "out, leave one database out, hold-out database)."
)


def benchmark_section(results: Mapping[str, Any] | None) -> list[rep.Block]:
    """The benchmark's blocks, or a heading saying how to run it."""
    if not results or not results.get("report"):
        return [rep.heading("MEGC 2019 composite benchmark", 2), rep.paragraph(NOT_RUN)]
    blocks = []
    for block in results["report"]:
        kind = block["kind"]
        if kind == "heading":
            blocks.append(rep.heading(block["text"], int(block.get("level", 2))))
        elif kind == "paragraph":
            blocks.append(rep.paragraph(block["text"]))
        elif kind == "list":
            blocks.append(rep.bullets(block["items"]))
        elif kind == "table":
            frame = pd.DataFrame(block["table"]["rows"], columns=block["table"]["columns"])
            blocks.append(rep.table(frame))
    return blocks
