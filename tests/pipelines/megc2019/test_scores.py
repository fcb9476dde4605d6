"""MEGC metrics per part: equal to scikit-learn's on the pooled predictions restricted to
each dataset; mean and std over seeds; baselines."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import balanced_accuracy_score, f1_score

from microexpression_pipeline.pipelines.megc2019.scores import (
    baselines,
    datasets_of,
    megc_layout,
    part_scores,
    summarise_parts,
)

CLASSES = ["negative", "positive", "surprise"]


@pytest.fixture(scope="module")
def pooled() -> tuple[pd.DataFrame, dict[str, str]]:
    """Two seeds of predictions for 60 clips of three datasets, about 60 % right."""
    rng = np.random.default_rng(3)
    datasets = np.repeat(["smic", "casme2", "samm"], [25, 20, 15])
    clip_ids = [f"{d}_{i}" for i, d in enumerate(datasets)]
    truth = rng.choice(CLASSES, len(clip_ids), p=[0.55, 0.25, 0.2])
    frames = []
    for seed in (42, 43):
        guess = np.where(rng.random(len(truth)) < 0.6, truth, rng.choice(CLASSES, len(truth)))
        frames.append(
            pd.DataFrame(
                {"clip_id": clip_ids, "true_label": truth, "predicted_label": guess, "seed": seed}
            )
        )
    return pd.concat(frames, ignore_index=True), dict(zip(clip_ids, datasets, strict=True))


def test_part_scores_equal_scikit_learn_per_dataset_and_seed(pooled) -> None:
    predictions, dataset_of = pooled
    per_run = part_scores(predictions, datasets_of(predictions, dataset_of), CLASSES)
    assert set(per_run["part"]) == {"composite", "smic", "casme2", "samm"}
    for row in per_run.itertuples():
        rows = predictions[predictions["seed"] == row.seed]
        if row.part != "composite":
            rows = rows[rows["clip_id"].map(dataset_of) == row.part]
        assert row.n == len(rows)
        expected_uf1 = f1_score(rows["true_label"], rows["predicted_label"], labels=CLASSES,
                                average="macro", zero_division=0)  # fmt: skip
        assert row.uf1 == pytest.approx(expected_uf1)
        assert row.uar == pytest.approx(
            balanced_accuracy_score(rows["true_label"], rows["predicted_label"])
        )


def test_mean_and_std_are_over_seeds(pooled) -> None:
    predictions, dataset_of = pooled
    per_run = part_scores(predictions, datasets_of(predictions, dataset_of), CLASSES)
    summary = summarise_parts(per_run)
    samm = per_run[per_run["part"] == "samm"]
    assert summary["samm"]["runs"] == 2
    assert summary["samm"]["uf1"] == pytest.approx(samm["uf1"].mean())
    assert summary["samm"]["uf1_std"] == pytest.approx(samm["uf1"].std(ddof=0))
    table = megc_layout([{"method": "x", "parts": summary}], ["composite", "smic"])
    assert list(table.columns) == ["method", "Composite UF1", "Composite UAR", "SMIC UF1",
                                   "SMIC UAR"]  # fmt: skip
    assert table.iloc[0]["SMIC UAR"] == (
        f"{summary['smic']['uar']:.3f} ± {summary['smic']['uar_std']:.3f}"
    )


def test_clips_outside_the_composite_are_refused(pooled) -> None:
    predictions, dataset_of = pooled
    with pytest.raises(ValueError, match="not in the composite's clip index"):
        datasets_of(predictions, {k: v for k, v in dataset_of.items() if v != "samm"})


def test_baselines_per_part() -> None:
    index = pd.DataFrame(
        {
            "dataset": ["smic"] * 4 + ["samm"] * 2,
            "megc_class": ["negative", "negative", "positive", "surprise", "negative", "surprise"],
        }
    )
    majority, base = baselines(index, CLASSES, ["composite", "smic", "samm"])
    assert majority == "negative"
    # always 'negative' on SAMM: recall 1, 0 -> UAR 0.5 over SAMM's 2 classes present
    assert base["majority"]["samm"]["accuracy"] == pytest.approx(0.5)
    assert base["majority"]["smic"]["uf1"] == pytest.approx(
        f1_score(
            index["megc_class"][:4],
            ["negative"] * 4,
            labels=CLASSES,
            average="macro",
            zero_division=0,
        )
    )
    assert base["chance"]["composite"]["uar"] == pytest.approx(1 / 3)
