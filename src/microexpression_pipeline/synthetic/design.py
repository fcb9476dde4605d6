"""Helpers shared by the SAMM, CASME II and SMIC designs: scaled class counts, subject choice,
labels per subject (optionally shaped like the MEGC 2019 composite) and the drawn parts of a
clip (its action units, apex and intensity)."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import Any

import numpy as np

from microexpression_pipeline.synthetic.clips import ClipSpec


def scaled_counts(counts: Mapping[str, int], size: float) -> dict[str, int]:
    """The real per-class clip counts times ``size``, rounded, never below one clip."""
    return {label: max(1, round(count * size)) for label, count in counts.items()}


def pick_subjects(subjects: Sequence[int], size: float) -> list[int]:
    """``size`` of the real subject ids (at least two, for leave-one-subject-out), spread out."""
    n = min(max(2, round(len(subjects) * size)), len(subjects))
    return [
        subjects[i] for i in np.unique(np.linspace(0, len(subjects) - 1, n).round().astype(int))
    ]


def assign_subjects(rng: np.random.Generator, subjects: Sequence[int], n_clips: int) -> np.ndarray:
    """A subject per clip: every subject gets one first, the rest by uneven random weights."""
    first = np.asarray(subjects[:n_clips])
    weights = rng.dirichlet(np.full(len(subjects), 1.5))
    rest = rng.choice(np.asarray(subjects), n_clips - len(first), p=weights)
    return rng.permutation(np.concatenate([first, rest]))


def labelled_clips(
    rng: np.random.Generator,
    counts: Mapping[str, int],
    subjects: Sequence[int],
    *,
    composite: Collection[str] | None = None,
    outside: Collection[int] = (),
) -> list[tuple[int, str]]:
    """(subject, label) pairs with exactly ``counts`` per label, sorted by subject.

    With ``composite`` (the labels MEGC 2019's composite keeps), the subjects of ``outside``
    get only other labels and every other subject at least one composite label, as in the
    real datasets; where the counts cannot seed every subject so (small sizes), the labels
    are spread without that constraint.
    """
    labels = [label for label, count in counts.items() for _ in range(count)]
    if composite is not None:
        pairs = _composite_pairs(rng, labels, subjects, set(composite), set(outside))
        if pairs is not None:
            return sorted(pairs, key=lambda pair: pair[0])
    owners = assign_subjects(rng, subjects, len(labels))
    pairs = zip(owners.tolist(), rng.permutation(labels).tolist(), strict=True)
    return sorted(pairs, key=lambda pair: pair[0])


def _composite_pairs(
    rng: np.random.Generator,
    labels: list[str],
    subjects: Sequence[int],
    composite: set[str],
    outside: set[int],
) -> list[tuple[int, str]] | None:
    """One composite label for each inside subject and another label for each outside one
    first; the rest by uneven random weights (composite labels to inside subjects only)."""
    inside = [s for s in subjects if s not in outside]
    outs = [s for s in subjects if s in outside]
    kept = rng.permutation([x for x in labels if x in composite]).tolist()
    others = rng.permutation([x for x in labels if x not in composite]).tolist()
    if len(kept) < len(inside) or len(others) < len(outs) or (kept and not inside):
        return None
    weights = rng.dirichlet(np.full(len(subjects), 1.5))
    chosen = np.isin(subjects, inside)
    more_kept = (
        rng.choice(inside, len(kept) - len(inside), p=weights[chosen] / weights[chosen].sum())
        if inside
        else np.array([], int)
    )
    more_others = rng.choice(np.asarray(subjects), len(others) - len(outs), p=weights)
    owners = [*inside, *more_kept.tolist(), *outs, *more_others.tolist()]
    return [(int(s), label) for s, label in zip(owners, kept + others, strict=True)]


def apex_between(rng: np.random.Generator, onset: int, offset: int) -> int:
    """An apex 30-60 % of the way from onset to offset (never on either end)."""
    return int(
        np.clip(onset + round(rng.uniform(0.3, 0.6) * (offset - onset)), onset + 1, offset - 1)
    )


def drawn_clip(
    rng: np.random.Generator,
    action_units: Mapping[str, Sequence[str]],
    *,
    onset: int,
    offset: int,
    **spec: Any,
) -> ClipSpec:
    """A clip of ``spec`` (dataset, subject, clip_id, emotion, first, last, folder, extra)
    with its action units (one of its emotion's codes), apex (``apex_between``) and
    intensity (0.6-1.0) drawn from ``rng``, in that order."""
    codes = str(rng.choice(action_units[spec["emotion"]]))
    apex = apex_between(rng, onset, offset)
    intensity = float(rng.uniform(0.6, 1.0))
    return ClipSpec(action_units=codes, onset=onset, apex=apex, offset=offset,
                    intensity=intensity, **spec)  # fmt: skip
