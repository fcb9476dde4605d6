"""The CASME II test in words: what each model was trained on, and how CASME II's labels map
to the mode's classes."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from microexpression_pipeline.pipelines.reporting.tables import NA


def training_statement(summary: Mapping[str, Any]) -> str:
    """What every tested model was trained on (the training node's final model)."""
    return (
        f"Each model is the final model of its training run on the SAMM clips of mode "
        f"{summary.get('source_mode')}: fitted on the originals and augmented copies of every "
        "clip except the validation share held out for the learning-rate schedule (who was "
        "fitted and who validated: per model below), then tested on the CASME II "
        f"clips the mapping assigns to a class ({summary.get('data_source') or NA} data, same "
        "ingestion: crop, size, normalisation)"
    )


def final_model_line(architecture: str, record: Mapping[str, Any] | None) -> str:
    """Who fitted and who validated ``architecture``'s final model, from the training
    summary's ``final_model`` record (absent in summaries written before it existed)."""
    if not record:
        return (
            f"{architecture}: the validation share is not recorded (training summary written "
            "before `final_model` existed); retrain to see it"
        )
    fit = record.get("fit_subjects") or []
    validation = record.get("validation_subjects") or []
    fitted = (
        f"{architecture}: fitted on {len(fit)} subjects ({record.get('n_fit_originals', NA)} "
        f"originals + {record.get('n_fit_copies', NA)} augmented copies)"
    )
    n_validation = record.get("n_validation_originals", 0) or 0
    how = record.get("validation") or ""
    if validation and not how.startswith("by clip"):
        return (
            f"{fitted}; validation subjects ({len(validation)}, {n_validation} original "
            f"clips, never fitted): {', '.join(map(str, validation))}"
        )
    if n_validation:
        return f"{fitted}; validation share: {n_validation} original clips ({how})"
    return f"{fitted}; no validation share" + (f" ({how})" if how else "")


def mapping_statement(summary: Mapping[str, Any]) -> str:
    """The CASME II label mapping of the mode (``cross_dataset.label_mappings``) and the
    labels it leaves out."""
    mapping = summary.get("label_mapping") or {}
    classes = "; ".join(f"{c} = {', '.join(labels)}" for c, labels in mapping.items()) or NA
    left = summary.get("left_out_emotions") or {}
    left_text = ", ".join(
        f"{label} ({n} clip{'' if n == 1 else 's'})" for label, n in sorted(left.items())
    )
    return (
        f"CASME II label mapping (cross_dataset.label_mappings.{summary.get('source_mode')}): "
        f"{classes}; left out, not in the mapping: {left_text or 'none'}"
    )
