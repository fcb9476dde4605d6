"""Helpers shared by the SAMM and CASME II designs: scaled class counts and subject choice."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np


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
    rng: np.random.Generator, counts: Mapping[str, int], subjects: Sequence[int]
) -> list[tuple[int, str]]:
    """(subject, label) pairs with exactly ``counts`` per label, sorted by subject."""
    labels = [label for label, count in counts.items() for _ in range(count)]
    owners = assign_subjects(rng, subjects, len(labels))
    pairs = zip(owners.tolist(), rng.permutation(labels).tolist(), strict=True)
    return sorted(pairs, key=lambda pair: pair[0])


def apex_between(rng: np.random.Generator, onset: int, offset: int) -> int:
    """An apex 30-60 % of the way from onset to offset (never on either end)."""
    return int(
        np.clip(onset + round(rng.uniform(0.3, 0.6) * (offset - onset)), onset + 1, offset - 1)
    )
