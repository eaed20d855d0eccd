from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from robopref.quality import QAConfig, format_report, run_qa

from .conftest import Planted


@pytest.fixture(scope="module")
def result(planted: Planted, tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    out = tmp_path_factory.mktemp("qa")
    return out, run_qa(planted.annotations, planted.pairs, QAConfig(), out_dir=out)


def test_report_files_are_written(result) -> None:  # type: ignore[no-untyped-def]
    out, _ = result
    names = sorted(p.name for p in Path(out).iterdir())
    assert names == [
        ".robopref-output.json",
        "config.json",
        "preferences.jsonl",
        "preferences.parquet",
        "report.html",
        "report.json",
    ]
    report = json.loads((out / "report.json").read_text())
    assert set(report) == {
        "summary",
        "batches",
        "annotators",
        "certification",
        "disagreement_by_task",
        "disagreement_by_quartiles",
    }
    assert len(report["batches"]) == 2 and all(b["alpha"] is not None for b in report["batches"])
    assert {a["annotator_id"] for a in report["annotators"]} >= {"speeder", "lefty", "flipper"}
    assert json.loads((out / "config.json").read_text())["config"]["kappa_threshold"] == 0.65


def test_html_embeds_plots_and_names_flagged_annotators(result) -> None:  # type: ignore[no-untyped-def]
    out, _ = result
    page = (out / "report.html").read_text()
    assert page.count('src="data:image/png;base64,') == 3
    for name in ("speeder", "lefty", "flipper", "Agreement per batch", "Disagreement by task"):
        assert name in page


def test_flagged_annotators_are_left_out_of_the_export(result) -> None:  # type: ignore[no-untyped-def]
    out, qa = result
    assert qa.report.summary["excluded"] == ["flipper", "lefty", "speeder"]
    prefs = pq.read_table(out / "preferences.parquet").to_pandas()
    voters = {a for ids in prefs["annotator_ids"] for a in ids}
    assert voters <= {f"careful-{i}" for i in range(6)}
    assert len(prefs) == qa.report.summary["preferences"] > 300


def test_excluding_bad_annotators_raises_agreement(
    planted: Planted, result, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    _, qa = result
    kept = run_qa(
        planted.annotations, planted.pairs, QAConfig(exclude_flagged=False), out_dir=tmp_path
    )
    assert kept.report.summary["excluded"] == []
    assert qa.preferences["agreement"].mean() > kept.preferences["agreement"].mean()


def test_exported_labels_follow_the_quality_score(planted: Planted, result) -> None:  # type: ignore[no-untyped-def]
    _, qa = result
    score = dict(
        zip(planted.manifest["trajectory_id"], planted.manifest["quality_score"], strict=True)
    )
    decided = qa.preferences[qa.preferences["preference"] != 0.5]
    truth = [
        1.0 if score[a] > score[b] else 0.0
        for a, b in zip(decided["trajectory_a_id"], decided["trajectory_b_id"], strict=True)
    ]
    assert (decided["preference"].to_numpy() == truth).mean() > 0.95


def test_disagreement_is_reported_by_task_and_quartiles(result) -> None:  # type: ignore[no-untyped-def]
    _, qa = result
    assert set(qa.report.disagreement_by_task.index) == {"reach", "push"}
    by_q = qa.report.disagreement_by_quartiles["disagreement_rate"]
    assert by_q.loc["q2-q2"] > by_q.loc["q1-q4"]  # same-quartile pairs are the hard ones


def test_text_report_is_readable(result) -> None:  # type: ignore[no-untyped-def]
    _, qa = result
    text = format_report(qa.report)
    assert "Krippendorff's alpha" in text and "flagged: flipper, lefty, speeder" in text
    assert isinstance(qa.report.batches, pd.DataFrame)


def test_no_annotations_still_gives_a_report(tmp_path: Path) -> None:
    from robopref.pairs import PAIR_COLUMNS
    from robopref.schemas import ANNOTATIONS_SCHEMA

    empty = run_qa(
        pd.DataFrame(columns=ANNOTATIONS_SCHEMA.names),
        pd.DataFrame(columns=list(PAIR_COLUMNS)),
        QAConfig(),
        out_dir=tmp_path,
    )
    assert empty.preferences.empty and empty.report.summary["preferences"] == 0
    assert json.loads((tmp_path / "report.json").read_text())["summary"]["alpha"] is None
    assert pq.read_table(tmp_path / "preferences.parquet").num_rows == 0
