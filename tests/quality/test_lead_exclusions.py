"""The lead's exclusions (Annotator.excluded in the store) in `run_qa` and `robopref qa --db`."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import typer
from typer.testing import CliRunner

from robopref.cli import _Verbs
from robopref.cli.qa import qa
from robopref.pairs import PairsConfig, select_pairs
from robopref.quality import QAConfig, run_qa
from robopref.store import create_batch, open_store, submit_annotation, sync_trajectories
from robopref.store.admin import set_excluded
from robopref.store.records import Submission

from .conftest import Planted

app = typer.Typer(cls=_Verbs)
app.command()(qa)
app.command(name="noop")(lambda: None)
runner = CliRunner()


def _voters(preferences: pd.DataFrame) -> set[str]:
    return {a for ids in preferences["annotator_ids"] for a in ids}


def test_lead_excluded_annotators_leave_the_export_and_are_named(planted: Planted,
                                                                 tmp_path: Path) -> None:
    plain = run_qa(planted.annotations, planted.pairs, QAConfig(), out_dir=tmp_path / "a")
    assert "careful-0" in _voters(plain.preferences)
    led = run_qa(planted.annotations, planted.pairs, QAConfig(), out_dir=tmp_path / "b",
                 excluded_by_lead=["careful-0", "nobody"])
    assert "careful-0" not in _voters(led.preferences)
    summary = led.report.summary
    assert summary["excluded_by_lead"] == ["careful-0"]
    assert summary["excluded"] == ["careful-0", "flipper", "lefty", "speeder"]
    assert summary["alpha"] == plain.report.summary["alpha"]
    assert summary["alpha_without_excluded"] != plain.report.summary["alpha_without_excluded"]
    report = json.loads((tmp_path / "b" / "report.json").read_text())
    assert report["summary"]["excluded_by_lead"] == ["careful-0"]
    assert "by the lead: careful-0" in (tmp_path / "b" / "report.html").read_text()


def test_lead_exclusions_hold_with_keep_flagged(planted: Planted, tmp_path: Path) -> None:
    kept = run_qa(planted.annotations, planted.pairs, QAConfig(exclude_flagged=False),
                  out_dir=tmp_path / "q", excluded_by_lead=["speeder"])
    assert kept.report.summary["excluded"] == ["speeder"]
    assert {"lefty", "flipper"} <= _voters(kept.preferences)
    assert "speeder" not in _voters(kept.preferences)


def test_qa_db_honours_the_store_exclusions(planted: Planted, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    store = open_store(url)  # migrated, as `robopref qa --db` expects
    manifest = planted.manifest.assign(env_id="env", source="expert", clip_path=None)
    sync_trajectories(store, manifest)
    batch = select_pairs(manifest, PairsConfig(batch_size=30, duplicate_frac=0.0),
                         annotator_ids=["a", "b", "c"])
    create_batch(store, batch)
    for n, assignment in enumerate(batch.assignments):
        submit_annotation(store, Submission(
            annotator_id=assignment.annotator_id, pair_id=assignment.pair_id,
            preference="A" if n % 2 else "B", confidence=3, response_time_ms=9000,
            left_trajectory_id=assignment.left_trajectory_id, idempotency_key=f"k{n}"))
    set_excluded(store, "b", True)
    store.dispose()
    result = runner.invoke(app, ["qa", "--db", url, "--out", str(tmp_path / "qa")])
    assert result.exit_code == 0, result.output
    assert "(by the lead: b)" in result.output
    lines = (tmp_path / "qa" / "preferences.jsonl").read_text().splitlines()
    assert lines and all('"b"' not in json.loads(line)["annotator_ids"] for line in lines)
    assert any("a" in json.loads(line)["annotator_ids"] for line in lines)
