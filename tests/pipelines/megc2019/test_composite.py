"""The MEGC 2019 composite: the mapping per dataset, exclusions, counts and checks."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from microexpression_pipeline.pipelines.megc2019.composite import (
    build_composite,
    check_mode_agrees,
)
from microexpression_pipeline.pipelines.megc2019.schema import CompositeParams

REAL_SAMM = Path(__file__).resolve().parents[4] / "shared" / "data" / "samm_metadata_cleaned.csv"


def _part(rows: list[tuple[str, str, str]], size: int = 4) -> tuple[dict, pd.DataFrame]:
    """(clips payload, clip index) of (subject, clip_id, emotion) rows; clip i is filled
    with the value i so that the composite's rows can be traced."""
    index = pd.DataFrame(rows, columns=["subject", "clip_id", "emotion"])
    clips = np.stack([np.full((3, size, size), i, np.uint8) for i in range(len(rows))])
    return {"clips": clips, "clip_ids": index["clip_id"].to_numpy(str)}, index


@pytest.fixture
def composite(shipped_params) -> CompositeParams:
    return CompositeParams.model_validate(shipped_params["megc2019"]["composite"])


@pytest.fixture
def parts() -> dict[str, tuple[dict, pd.DataFrame]]:
    return {
        "smic": _part(
            [
                ("s1", "s1_ne_01", "negative"),
                ("s1", "s1_po_01", "positive"),
                ("s2", "s2_sur_01", "surprise"),
            ]
        ),
        "casme2": _part(
            [
                ("sub04", "sub04_EP12_01f", "disgust"),
                ("sub04", "sub04_EP01_01", "repression"),
                ("sub10", "sub10_EP02_01", "fear"),
                ("sub10", "sub10_EP03_01", "others"),
                ("sub24", "sub24_EP02_07", "others"),
                ("sub05", "sub05_EP01_01", "Happiness"),
            ]
        ),
        "samm": _part(
            [
                ("006", "006_1_1", "Anger"),
                ("006", "006_1_2", "Fear"),
                ("025", "025_1_1", "Other"),
                ("007", "007_1_1", "Surprise"),
            ]
        ),
    }


def test_megc_mapping_exclusions_and_counts(composite, parts) -> None:
    clips, index, summary = build_composite(parts, composite)
    # CASME II: fear and others left out, the excluded bad sample removed; SAMM fear is kept
    assert index["clip_id"].tolist() == [
        "s1_ne_01", "s1_po_01", "s2_sur_01", "sub04_EP01_01", "sub05_EP01_01",
        "006_1_1", "006_1_2", "007_1_1",
    ]  # fmt: skip
    assert index["megc_class"].tolist() == [
        "negative", "positive", "surprise", "negative", "positive",
        "negative", "negative", "surprise",
    ]  # fmt: skip
    assert index["dataset"].tolist() == ["smic"] * 3 + ["casme2"] * 2 + ["samm"] * 3
    assert clips["clip_ids"].tolist() == index["clip_id"].tolist()
    assert clips["clips"][:, 0, 0, 0].tolist() == [0, 1, 2, 1, 5, 0, 1, 3]  # rows traced
    casme2 = summary["datasets"]["casme2"]
    assert casme2["class_counts"] == {"negative": 1, "positive": 1, "surprise": 0}
    assert casme2["subjects"] == 2  # sub10 has no MEGC clip, sub04's excluded one is gone
    assert casme2["left_out_labels"] == {"fear": 1, "others": 2}
    statuses = {e["clip_id"]: e["status"] for e in casme2["exclusions"]}
    assert statuses == {
        "sub04_EP12_01f": "excluded",
        "sub05_EP12_03f": "not in the clip index (quarantined at ingestion, or another id)",
        "sub24_EP02_07": "outside the classes anyway",
    }
    assert summary["clips"] == 8 and summary["subjects"] == 2 + 2 + 2
    assert summary["class_counts"] == {"negative": 4, "positive": 2, "surprise": 2}
    assert not summary["matches_megc2019"]
    assert "smic negative: 1 clips, MEGC 2019 has 70" in summary["differences"]


def test_composite_refuses_misaligned_or_mismatched_parts(composite, parts) -> None:
    payload, index = parts["samm"]
    broken = dict(parts, samm=(payload, index.iloc[::-1].reset_index(drop=True)))
    with pytest.raises(ValueError, match=r"samm\.clips and samm\.clip_index are not row-aligned"):
        build_composite(broken, composite)
    other_size = dict(parts, samm=_part([("006", "006_1_1", "Anger")], size=8))
    with pytest.raises(ValueError, match="differ in shape"):
        build_composite(other_size, composite)


def test_the_mode_must_agree_with_the_mapping(composite, shipped_params) -> None:
    mappings = shipped_params["label_mappings"]
    mode = shipped_params["megc2019"]["mode"]
    check_mode_agrees(composite, mode, mappings)  # the shipped configuration agrees
    without_smic = {
        **mappings,
        mode: {**mappings[mode], "negative": ["anger", "disgust", "contempt"]},
    }
    with pytest.raises(ValueError, match=rf"label_mappings\.{mode} maps it to None; add it"):
        check_mode_agrees(composite, mode, without_smic)
    with pytest.raises(ValueError, match=r"label_mappings\.binary has classes"):
        check_mode_agrees(composite, "binary", mappings)


@pytest.mark.skipif(not REAL_SAMM.exists(), reason="the real SAMM sheet is not beside the checkout")
def test_real_samm_sheet_gives_megc_counts(composite) -> None:
    """On SAMM's real labels the mapping gives MEGC 2019's 133 clips (92 / 26 / 15) of 28
    subjects (subject 25 only has clips labelled Other)."""
    sheet = pd.read_csv(REAL_SAMM)
    rows = list(zip(sheet["Subject"].astype(str), sheet["Filename"], sheet["Estimated Emotion"],
                    strict=True))  # fmt: skip
    _, index, summary = build_composite({"samm": _part(rows), **_empty()}, composite)
    samm = summary["datasets"]["samm"]
    assert samm["class_counts"] == {"negative": 92, "positive": 26, "surprise": 15}
    assert samm["subjects"] == 28 and "25" not in set(index["subject"])
    assert samm["left_out_labels"] == {"Other": 26}


def _empty() -> dict[str, tuple[dict, pd.DataFrame]]:
    """SMIC and CASME II without clips."""
    empty = pd.DataFrame(columns=["subject", "clip_id", "emotion"])
    payload = {"clips": np.zeros((0, 3, 4, 4), np.uint8), "clip_ids": np.array([], str)}
    return {"smic": (payload, empty), "casme2": (payload, empty)}


def test_the_full_sample_is_the_megc_2019_composite(composite) -> None:
    """The sample's design at size 1 (no rendering), named as ingestion names its clips,
    through the shipped configuration: 442 clips of 68 subjects, MEGC 2019's counts."""
    from microexpression_pipeline.synthetic import casme2_format, samm_format, smic_format
    from microexpression_pipeline.synthetic.settings import SyntheticSettings, resolve

    full = resolve(SyntheticSettings(size=1.0))
    names = {
        "samm": (samm_format, lambda c: (f"{c.subject:03d}", c.clip_id)),
        "casme2": (casme2_format, lambda c: (f"sub{c.subject:02d}", f"sub{c.subject:02d}_"
                                             f"{c.clip_id}")),
        "smic": (smic_format, lambda c: (f"s{c.subject}", c.clip_id)),
    }  # fmt: skip
    parts = {}
    for dataset, (module, name) in names.items():
        clips = module.design_clips(np.random.default_rng(0), full)
        parts[dataset] = _part([(*name(c), c.emotion) for c in clips])
    _, index, summary = build_composite(parts, composite)
    assert summary["matches_megc2019"], summary["differences"]
    assert (summary["clips"], summary["subjects"]) == (442, 68)
    assert summary["class_counts"] == {"negative": 250, "positive": 109, "surprise": 83}
    statuses = [e["status"] for e in summary["datasets"]["casme2"]["exclusions"]]
    assert statuses == ["excluded", "excluded", "outside the classes anyway"]
    assert index.groupby("dataset")["subject"].nunique().to_dict() == {
        "smic": 16, "casme2": 24, "samm": 28,
    }  # fmt: skip
