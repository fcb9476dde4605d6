"""Several training seeds and stratified repeats: metrics per run, then mean +- std; never one
confusion pooled over runs that counts every clip once per run."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from microexpression_pipeline.metrics import headline
from microexpression_pipeline.pipelines.reporting.report import leaderboard_display
from microexpression_pipeline.pipelines.reporting.results import ModelResult
from microexpression_pipeline.pipelines.reporting.tables import evaluate, leaderboard


def _result(make_predictions, make_summary, runs: dict[tuple[int, int], int]) -> ModelResult:
    """Predictions of the same test clips once per (seed, repeat); ``runs`` gives how many of
    the first clips each run gets wrong."""
    frames = []
    for (seed, repeat), wrong in runs.items():
        frame = make_predictions(repeat=repeat).assign(seed=seed)
        flip = {"negative": "positive", "positive": "surprise", "surprise": "negative"}
        frame.loc[: wrong - 1, "predicted_label"] = frame.loc[: wrong - 1, "true_label"].map(flip)
        frames.append(frame)
    summary = make_summary("3dcnn")
    return ModelResult("synthetic", "megc3", "3dcnn", "v1", summary, pd.concat(frames), None)


def _scores(frame: pd.DataFrame, classes) -> dict[str, float]:
    index = {c: i for i, c in enumerate(classes)}
    return headline(frame["true_label"].map(index), frame["predicted_label"].map(index), 3)


@pytest.mark.parametrize(
    "runs",
    [
        {(42, 0): 0, (43, 0): 3, (44, 0): 6},  # three training seeds
        {(42, 0): 1, (42, 1): 4, (42, 2): 7},  # stratified k-fold, three repeats
    ],
)
def test_metrics_per_run_then_mean_and_std(make_predictions, make_summary, classes, runs):
    result = _result(make_predictions, make_summary, runs)
    ev = evaluate(result)
    per_run = [
        _scores(result.predictions[(result.predictions["seed"] == s)
                                   & (result.predictions["repeat"] == r)], classes)
        for s, r in runs
    ]  # fmt: skip
    for name in ("accuracy", "uf1", "uar"):
        values = [run[name] for run in per_run]
        assert ev["metrics"][name] == pytest.approx(np.mean(values))
        assert ev["metrics_std"][name] == pytest.approx(np.std(values))
    assert ev["n_runs"] == 3
    n_clips = len(make_predictions())
    assert ev["n_test"] == n_clips  # clips, not clips x runs
    assert ev["confusion"].sum() == pytest.approx(n_clips)  # the mean run, not a sum over runs
    board = leaderboard([ev])
    assert board.loc[0, "uf1_std"] == pytest.approx(np.std([run["uf1"] for run in per_run]))
    shown = leaderboard_display(board).iloc[0]
    assert shown["UF1"] == f"{np.mean([r['uf1'] for r in per_run]):.3f} +- " + (
        f"{np.std([r['uf1'] for r in per_run]):.3f}"
    )
    assert shown["runs"] == 3


def test_one_run_shows_no_spread(make_predictions, make_summary):
    ev = evaluate(_result(make_predictions, make_summary, {(42, 0): 2}))
    shown = leaderboard_display(leaderboard([ev])).iloc[0]
    assert "+-" not in shown["UF1"] and ev["metrics_std"]["uf1"] == 0.0
