"""Release-test inputs: a small trained reward model, its reports, raw annotations."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from robopref.pool import Pool
from robopref.release import ReleaseConfig, ReleaseInputs, ReleaseResult, build_release
from robopref.testing import tiny_pool

TASKS = ("reach the red target", "reach the blue target")


def truth_pairs(pool: Pool, *, n_pairs: int, seed: int = 1) -> pd.DataFrame:
    """Preferences-schema pairs labelled by the generator's true quality (close ones tie)."""
    rng = np.random.default_rng(seed)
    ids = pool.manifest["trajectory_id"].tolist()
    quality = {t: float(pool[t].metadata["true_quality"]) for t in ids}
    rows = []
    for k in range(n_pairs):
        a, b = (ids[i] for i in rng.choice(len(ids), size=2, replace=False))
        gap = quality[a] - quality[b]
        rows.append(
            {
                "pair_id": f"p{k:04d}",
                "trajectory_a_id": a,
                "trajectory_b_id": b,
                "preference": 0.5 if abs(gap) < 0.05 else float(gap > 0),
                "confidence_mean": 4.0,
                "num_annotators": 2,
                "agreement": 1.0,
                "annotator_ids": ["ann-1", "ann-2"],
                "task": pool.manifest.set_index("trajectory_id").loc[a, "task"],
                "source": "simulated:oracle",
            }
        )
    return pd.DataFrame(rows)


def raw_annotations(prefs: pd.DataFrame) -> pd.DataFrame:
    """Two judgements per pair that agree with the aggregated label."""
    start = datetime(2024, 6, 1, tzinfo=UTC)
    choice = {1.0: "A", 0.0: "B", 0.5: "equal"}
    rows = []
    for i, pair in enumerate(prefs.itertuples()):
        for annotator in ("ann-1", "ann-2"):
            rows.append(
                {
                    "annotation_id": f"{pair.pair_id}-{annotator}",
                    "pair_id": pair.pair_id,
                    "trajectory_a_id": pair.trajectory_a_id,
                    "trajectory_b_id": pair.trajectory_b_id,
                    "annotator_id": annotator,
                    "preference": choice[pair.preference],
                    "confidence": 4,
                    "response_time_ms": 6500,
                    "free_text_reason": None,
                    "left_trajectory_id": pair.trajectory_a_id,
                    "batch_id": "batch-1",
                    "rubric_answers": None,
                    "interface_version": "1",
                    "shown_at": start + timedelta(seconds=20 * i),
                    "created_at": start + timedelta(seconds=20 * i + 7),
                }
            )
    return pd.DataFrame(rows)


def write_qa_report(folder: Path) -> Path:
    """A QA report.json written by the quality stage's own writer."""
    from robopref.quality.report import QAReport, write_report

    certification = pd.DataFrame(
        {
            "annotator_id": ["ann-1", "ann-2", "ann-3"],
            "attempt": [1, 1, 2],
            "batch_id": ["cal-1", "cal-1", "cal-2"],
            "n": [30, 30, 30],
            "accuracy": [0.9, 0.85, 0.5],
            "kappa": [0.8, 0.7, 0.3],
            "step": ["certified", "certified", "rejected"],
        }
    )
    summary = {
        "annotations": 240,
        "calibration_annotations": 90,
        "pairs": 120,
        "annotators": 3,
        "alpha": 0.612,
        "alpha_target": 0.55,
        "gold_accuracy": 0.934,
        "flagged": ["ann-3"],
        "excluded": ["ann-3"],
        "preferences": 120,
        "ties_exported": 10,
        "pairs_dropped": 0,
        "config": {"kappa_threshold": 0.65},
    }
    stats = ["gold_accuracy", "self_consistency", "majority_agreement", "fast_fraction"]
    annotators = pd.DataFrame(
        {
            **{s: [0.9, 0.9, 0.4] for s in stats},
            "left_fraction": [0.5, 0.5, 0.8],
            "flagged": [False, False, True],
        },
        index=pd.Index(["ann-1", "ann-2", "ann-3"], name="annotator_id"),
    )
    by_quartiles = pd.DataFrame(
        {"n_pairs": [40, 80], "disagreement_rate": [0.3, 0.1]},
        index=pd.Index(["same", "distant"], name="quartiles"),
    )
    report = QAReport(
        summary=summary,
        batches=pd.DataFrame(
            {"n_annotations": [240], "n_pairs": [120], "alpha": [0.612]},
            index=pd.Index(["batch-1"], name="batch_id"),
        ),
        annotators=annotators,
        certification=certification,
        disagreement_by_task=by_quartiles.rename_axis("task"),
        disagreement_by_quartiles=by_quartiles,
    )
    write_report(report, folder)
    return folder / "report.json"


@dataclass(frozen=True)
class Trained:
    """Everything a release is built from."""

    root: Path
    pool: Pool
    preferences: Path
    model: Path
    validation: Path
    qa_report: Path
    annotations: Path
    test_pairs: pd.DataFrame

    def inputs(self, **changes: object) -> ReleaseInputs:
        values: dict[str, object] = {
            "preferences": self.preferences,
            "pool": self.pool.root,
            "model": self.model,
            "annotations": self.annotations,
            "qa_report": self.qa_report,
            "validation": self.validation,
        }
        values.update(changes)
        return ReleaseInputs(**values)  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Trained:
    import torch

    from robopref.reward import EncoderConfig, TrainConfig, load, train_reward_model
    from robopref.validate import validate

    torch.set_num_threads(1)
    root = tmp_path_factory.mktemp("release-inputs")
    pool = tiny_pool(root / "pool", n=12, frame_size=None, tasks=TASKS)
    prefs = truth_pairs(pool, n_pairs=120)
    prefs.to_parquet(root / "preferences.parquet")
    raw_annotations(prefs).to_parquet(root / "annotations.parquet")
    encoder = EncoderConfig(kind="state", language=False, n_steps=8, embed_dim=16, hidden_dim=32)
    config = TrainConfig(encoder=encoder, epochs=30, ensemble_size=2, batch_size=32, device="cpu")
    result = train_reward_model(root / "preferences.parquet", pool, config, out=root / "model")
    test = result.pairs("test")
    validate(pool, root / "validation", scorer=load(root / "model"), test_pairs=test)
    qa = write_qa_report(root / "qa")
    return Trained(
        root=root,
        pool=pool,
        preferences=root / "preferences.parquet",
        model=root / "model",
        validation=root / "validation",
        qa_report=qa,
        annotations=root / "annotations.parquet",
        test_pairs=test,
    )


@pytest.fixture(scope="session")
def built(trained: Trained, tmp_path_factory: pytest.TempPathFactory) -> ReleaseResult:
    """The full release of `trained` (every part supplied)."""
    out = tmp_path_factory.mktemp("release-out")
    return build_release(trained.inputs(), out, ReleaseConfig(name="test", version="1.0.0"))
