from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from robopref.pairs import PairsConfig, calibration_assignments, select_calibration_sets
from robopref.quality import QAConfig, certification_table, gold_accuracy, resolve_annotations

from .conftest import build_manifest


def _answers(batch, annotator: str, accuracy: float, start: str, seed: int) -> pd.DataFrame:  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(seed)
    rows = []
    for n, (pair, shown) in enumerate(
        zip(batch.pairs, calibration_assignments(batch, annotator, seed=0), strict=True)
    ):
        right = pair.expected.value
        wrong = "B" if right == "A" else "A"
        rows.append(
            {
                "pair_id": pair.pair_id,
                "annotator_id": annotator,
                "preference": right if rng.random() < accuracy else wrong,
                "confidence": 4,
                "response_time_ms": 8000,
                "left_trajectory_id": shown.left_trajectory_id,
                "created_at": pd.Timestamp(start, tz="UTC") + pd.Timedelta(seconds=n),
            }
        )
    return pd.DataFrame(rows)


def test_certification_follows_kappa_over_attempts() -> None:
    first, second = select_calibration_sets(build_manifest(n=120), PairsConfig())
    annotations = pd.concat(
        [
            _answers(first.batch, "good", 0.97, "2025-01-01", 1),
            _answers(first.batch, "improver", 0.5, "2025-01-01", 2),
            _answers(second.batch, "improver", 0.97, "2025-01-02", 3),
            # set 2 taken first by this annotator: attempt order follows time, not names
            _answers(second.batch, "hopeless", 0.5, "2025-01-01", 4),
            _answers(first.batch, "hopeless", 0.55, "2025-01-02", 5),
        ]
    )
    pairs = pd.concat([first.batch.pairs_frame(), second.batch.pairs_frame()])
    table = certification_table(resolve_annotations(annotations, pairs), QAConfig())
    steps = {(r.annotator_id, r.attempt): (r.batch_id, r.step) for r in table.itertuples()}
    assert steps[("good", 1)] == (first.batch.batch_id, "certified")
    assert steps[("improver", 1)] == (first.batch.batch_id, "retest")
    assert steps[("improver", 2)] == (second.batch.batch_id, "certified")
    assert steps[("hopeless", 1)] == (second.batch.batch_id, "retest")
    assert steps[("hopeless", 2)] == (first.batch.batch_id, "rejected")
    good = table[table["annotator_id"] == "good"].iloc[0]
    assert good["n"] == 40 and good["kappa"] > 0.65 and good["accuracy"] > 0.9


def test_gold_accuracy_counts_equal_as_wrong(make_annotations) -> None:  # type: ignore[no-untyped-def]
    from .test_frames import pairs_frame

    pairs = pairs_frame(
        ("g1", "x", "y", "gold", "A", None),
        ("g2", "u", "v", "gold", "B", None),
        ("g1-r", "y", "x", "duplicate", "B", "g1"),
        ("r1", "x", "v", "regular", None, None),
    )
    ann = make_annotations(
        [
            ("g1", "a", "A"),
            ("g2", "a", "equal"),
            ("g1-r", "a", "B"),
            ("r1", "a", "A"),
            ("g2", "b", "B"),
        ],
        pairs,
    )
    gold = gold_accuracy(resolve_annotations(ann, pairs))
    assert gold.loc["a", "n_gold"] == 3
    assert gold.loc["a", "gold_accuracy"] == pytest.approx(2 / 3)
    assert gold.loc["b", "gold_accuracy"] == 1.0
