"""``OptionalJSONDataset``: a versioned JSON file that loads as ``None`` until first saved.

Reporting takes every architecture's training summary as an input, which both orders it
after training in a combined run and lets it report whatever results exist: an architecture
that was never trained (or not selected in this run, and never before) loads as ``None``.
"""

from __future__ import annotations

from typing import Any

from microexpression_pipeline.datasets.atomic import JSONDataset


class OptionalJSONDataset(JSONDataset):
    """``json.JSONDataset`` (atomic saves) whose load returns ``None`` when no version exists
    yet."""

    def load(self) -> Any:
        if not self._exists():
            return None
        return super().load()
