"""How many augmented copies each original clip gets (``augmentation.copies``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence


def check_copies(
    mode: str,
    classes: Sequence[str],
    copies: Mapping[str, Mapping[str, int]],
    section: str = "augmentation.copies",
) -> dict[str, int]:
    """The copy counts of ``mode`` (``section``: where they are configured); every class of
    the mapping needs one, and only those."""
    where = f"{section}.{mode}"
    if mode not in copies:
        raise ValueError(
            f"{where}: missing; give the copies per original for each class of "
            f"label_mappings.{mode} ({', '.join(classes)}), or set augmentation.balance: true"
        )
    counts = dict(copies[mode])
    missing = [cls for cls in classes if cls not in counts]
    unknown = [cls for cls in counts if cls not in classes]
    if missing or unknown:
        raise ValueError(
            f"{where}: classes must match label_mappings.{mode} exactly "
            f"(missing: {missing or 'none'}; not in the mapping: {unknown or 'none'})"
        )
    for cls, value in counts.items():
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise ValueError(f"{where}.{cls}: must be a non-negative integer (got {value!r})")
    return {cls: int(counts[cls]) for cls in classes}
