"""Synthetic micro-expression data in SAMM's, CASME II's and SMIC-HS's exact on-disk formats."""

from microexpression_pipeline.synthetic.generator import (
    ForeignFolderError,
    ensure_synthetic_sample,
)

__all__ = ["ForeignFolderError", "ensure_synthetic_sample"]
