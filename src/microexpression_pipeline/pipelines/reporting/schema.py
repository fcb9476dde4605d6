"""Schema of the ``reporting`` parameter section."""

from __future__ import annotations

from pydantic import Field

from microexpression_pipeline.parameters import StrictSection


class ReportingParams(StrictSection):
    """``reporting:`` in conf/base/parameters_reporting.yml."""

    section = "reporting"

    title: str = Field(min_length=1)
    embedded_dpi: int = Field(ge=50, le=300)
