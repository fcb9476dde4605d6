"""The datasets the pipelines ingest, each under its own catalog namespace."""

from __future__ import annotations

# Namespaces of the ingested sources (``samm.clips``, ``casme2.clips``, ``smic.flow``, ...).
SOURCES: tuple[str, ...] = ("samm", "casme2", "smic")
