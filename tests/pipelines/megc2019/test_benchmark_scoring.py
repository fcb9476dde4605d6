"""The benchmark's scoring node: which predictions enter its tables, under which label, and
what reaches MLflow."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from microexpression_pipeline.pipelines.megc2019.composite import build_composite
from microexpression_pipeline.pipelines.megc2019.nodes import score_benchmark
from microexpression_pipeline.pipelines.megc2019.schema import CompositeParams, ReferenceParams

CLASSES = ["negative", "positive", "surprise"]
DATASETS = {"smic": 6, "casme2": 5, "samm": 4}
RUN = {"kedro_session_id": "this-run", "mlflow_run_id": "m1"}


LABELS = {"smic": CLASSES, "casme2": ["disgust", "happiness", "surprise"],
          "samm": ["Anger", "Happiness", "Surprise"]}  # fmt: skip


@pytest.fixture(scope="module")
def composite(shipped_params) -> tuple[pd.DataFrame, dict]:
    """A small composite built by the pipeline's own function."""
    parts = {}
    for dataset, n in DATASETS.items():
        index = pd.DataFrame(
            {"clip_id": [f"{dataset}_{i}" for i in range(n)],
             "subject": [f"s{i % 2}" for i in range(n)],
             "emotion": [LABELS[dataset][i % 3] for i in range(n)]}
        )  # fmt: skip
        payload = {"clips": np.zeros((n, 2, 4, 4), np.uint8), "clip_ids": index["clip_id"]}
        parts[dataset] = (payload, index)
    composite = CompositeParams.model_validate(shipped_params["megc2019"]["composite"])
    _, index, summary = build_composite(parts, composite)
    return index, summary


def _predictions(index: pd.DataFrame, protocol: str, rows=None) -> pd.DataFrame:
    rows = index if rows is None else rows
    rng = np.random.default_rng(0)
    return pd.DataFrame(
        {
            "clip_id": rows["clip_id"].to_numpy(),
            "true_label": rows["megc_class"].to_numpy(),
            "predicted_label": rng.choice(CLASSES, len(rows)),
            "seed": 42,
            "repeat": 0,
            "fold": 0,
            "protocol": protocol,
        }
    )


def _summary(session: str = "this-run", pairs=None) -> dict:
    return {"run": {"kedro_session_id": session}, "seeds": [42],
            "evaluation": {"holdout_pairs": pairs or []}}  # fmt: skip


def _score(composite, data_source="synthetic", **trained):
    index, summary = composite
    return score_benchmark(index, summary, ReferenceParams(), data_source, RUN, **trained)


def test_this_runs_results_are_logged_an_earlier_runs_only_shown(composite) -> None:
    index, _ = composite
    results, table, metrics, _ = _score(
        composite,
        **{
            "loso/ststnet/predictions": _predictions(index, "loso"),
            "loso/ststnet/summary": _summary(),
            "loso/rcn_a/predictions": _predictions(index, "loso"),
            "loso/rcn_a/summary": _summary("an-earlier-run"),
        },
    )
    methods = [row["method"] for row in results["protocols"]["loso"]["rows"]]
    assert methods == ["ststnet", "rcn-a (run an-earlier-run)"]
    assert table["method"].tolist()[:2] == methods
    assert "loso.ststnet.composite.uf1" in metrics
    assert not [key for key in metrics if ".rcn_a." in key]


def test_predictions_of_another_protocol_or_composite_are_skipped(composite) -> None:
    index, _ = composite
    results, _, metrics, _ = _score(
        composite,
        **{
            "loso/ststnet/predictions": _predictions(index, "stratified_kfold"),
            "loso/ststnet/summary": _summary(),
            "loso/rcn_a/predictions": _predictions(index, "loso", index.iloc[:-2]),
            "loso/rcn_a/summary": _summary(),
        },
    )
    loso = results["protocols"]["loso"]
    assert loso["rows"] == [] and metrics == {}
    assert "not loso" in loso["skipped"]["ststnet"]
    assert "do not test every clip of this composite once" in loso["skipped"]["rcn-a"]


def test_holdout_parts_come_from_the_pairs_the_model_was_trained_with(composite) -> None:
    index, _ = composite
    samm = index[index["dataset"] == "samm"]
    casme2 = index[index["dataset"] == "casme2"]
    predictions = pd.concat(
        [_predictions(index, "holdout", casme2).assign(fold=0),
         _predictions(index, "holdout", samm).assign(fold=1)]
    )  # fmt: skip
    pairs = [["samm", "casme2"], ["casme2", "samm"]]
    results, _, metrics, _ = _score(
        composite,
        **{"holdout/ststnet/predictions": predictions,
           "holdout/ststnet/summary": _summary(pairs=pairs)},
    )  # fmt: skip
    (row,) = results["protocols"]["holdout"]["rows"]
    assert list(row["parts"]) == ["samm->casme2", "casme2->samm"]
    assert row["parts"]["samm->casme2"]["n"] == len(casme2)
    assert "holdout.ststnet.samm_to_casme2.uar" in metrics
    # the same predictions under pairs listed the other way round do not fit: refused
    results, _, _, _ = _score(
        composite,
        **{"holdout/ststnet/predictions": predictions,
           "holdout/ststnet/summary": _summary(pairs=pairs[::-1])},
    )  # fmt: skip
    assert (
        "do not match the hold-out pairs" in results["protocols"]["holdout"]["skipped"]["ststnet"]
    )


def test_references_only_beside_real_data(composite) -> None:
    index, _ = composite
    references = ReferenceParams.model_validate(
        {
            "entries": [
                {"method": "STSTNet", "source": "a paper", "values": {"composite": {"uf1": 0.7}}}
            ]
        }
    )
    trained = {"loso/ststnet/predictions": _predictions(index, "loso"),
               "loso/ststnet/summary": _summary()}  # fmt: skip
    for source, shown in (("synthetic", False), ("real", True)):
        _, summary = composite
        results, table, _, markdown = score_benchmark(
            index, summary, references, source, RUN, **trained
        )
        assert bool(results["references"]) is shown
        assert bool(table["method"].str.contains("published: a paper").any()) is shown
        assert ("published: a paper" in markdown) is shown
