"""Where each source's raw frames and metadata sheet are, for one ``data_source``.

A source is described by a plain dict (``name``, ``enabled``, ``format``, ``root``,
``metadata``), the in-memory input of the per-source ingestion steps. SMIC has no sheet: its
``metadata`` is None and its clips are read from the folder tree under ``root``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from microexpression_pipeline.dataset_sources import SOURCES
from microexpression_pipeline.errors import InputError
from microexpression_pipeline.pipelines.ingestion.schema import SHEET_FORMATS, SourceSpec

logger = logging.getLogger(__name__)


class RawDataError(InputError, FileNotFoundError):
    """A configured dataset path does not exist, or holds no usable clip."""


def source_specs(
    data_source: str, sources: Mapping[str, Mapping[str, SourceSpec]]
) -> list[dict[str, Any]]:
    """One dict per source of ``data_source``; a source it does not list is disabled."""
    if data_source not in sources:
        raise InputError(
            f"data_source: {data_source!r} has no entry in ingestion.sources "
            f"(conf/base/parameters_ingestion.yml); valid: {', '.join(sources)}"
        )
    specs = []
    for name in SOURCES:
        spec = sources[data_source].get(name)
        fields = spec.model_dump() if spec is not None else {"enabled": False}
        specs.append({**fields, "name": name})
    return specs


def point_at_sample(specs: list[dict[str, Any]], sample: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The specs with each enabled source's paths replaced by the generated sample's; a source
    the sample does not hold (no ``smic_root``) is disabled, with a warning."""
    generated = {
        "samm": {"root": sample["samm_root"], "metadata": sample["samm_metadata_xlsx"]},
        "casme2": {"root": sample["casme2_root"], "metadata": sample["casme2_metadata_xlsx"]},
    }
    if "smic_root" in sample:
        generated["smic"] = {"root": sample["smic_root"]}
    pointed = []
    for spec in specs:
        spec = dict(spec)
        if spec["enabled"] and spec["name"] not in generated:
            logger.warning(
                "The synthetic sample holds no %s part; ingestion.sources.synthetic.%s is "
                "disabled for this run",
                spec["name"],
                spec["name"],
            )
            spec["enabled"] = False
        if spec["enabled"]:
            for key, path in generated[spec["name"]].items():
                if Path(spec[key]).resolve() != Path(path).resolve():
                    logger.warning(
                        "ingestion.sources.synthetic.%s.%s is %s but the sample is at %s; "
                        "using the sample",
                        spec["name"],
                        key,
                        spec[key],
                        path,
                    )
                spec[key] = path
        pointed.append(spec)
    return pointed


def existing_paths(data_source: str, specs: list[dict[str, Any]]) -> tuple[dict[str, Any], ...]:
    """The specs with absolute paths; raises naming the setting of a path that is missing."""
    checked = []
    for spec in specs:
        spec = dict(spec)
        if spec["enabled"]:
            for key in ("root", "metadata") if spec["format"] in SHEET_FORMATS else ("root",):
                path = Path(spec[key])
                if not path.exists():
                    raise RawDataError(
                        f"ingestion.sources.{data_source}.{spec['name']}.{key}: {path} does not "
                        f"exist; download the dataset there, point {key} at it, or set "
                        f"ingestion.sources.{data_source}.{spec['name']}.enabled: false"
                    )
                kind = "a folder" if key == "root" else "a file"
                if path.is_dir() != (key == "root"):
                    raise RawDataError(
                        f"ingestion.sources.{data_source}.{spec['name']}.{key}: {path} is not "
                        f"{kind}; point {key} at the dataset's "
                        + ("frame folder" if key == "root" else "metadata sheet")
                    )
                spec[key] = str(path.resolve())
        checked.append(spec)
    return tuple(checked)
