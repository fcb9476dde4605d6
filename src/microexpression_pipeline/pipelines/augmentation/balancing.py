"""How many augmented copies each original clip gets."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd


def check_copies(
    mode: str, classes: Sequence[str], copies: Mapping[str, Mapping[str, int]]
) -> dict[str, int]:
    """The copy counts of ``mode``; every class of the mapping needs one, and only those."""
    where = f"augmentation.copies.{mode}"
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


def copies_per_clip(
    labels: pd.Series,
    classes: Sequence[str],
    copies: Mapping[str, int] | None,
    rng: np.random.Generator,
) -> np.ndarray:
    """Copies for each clip (row of ``labels``).

    With ``copies`` (class -> copies per original) every clip of a class gets that many.
    With ``copies=None`` the classes are balanced: each class is filled up to the size of
    the largest one, spreading the remainder over randomly chosen clips of the class.
    """
    values = labels.to_numpy()
    result = np.zeros(len(values), dtype=np.int64)
    if copies is not None:
        for cls in classes:
            result[values == cls] = copies[cls]
        return result
    counts = {cls: int((values == cls).sum()) for cls in classes}
    target = max(counts.values(), default=0)
    for cls in classes:
        rows = np.flatnonzero(values == cls)
        if rows.size == 0:
            continue
        base, extra = divmod(target - rows.size, rows.size)
        result[rows] = base
        result[rng.permutation(rows)[:extra]] += 1
    return result
