"""A simulated campaign end to end on both databases: planted annotators are caught."""

from dataclasses import replace

import pandas as pd
import pytest
from typer.testing import CliRunner

from robopref.campaign import CampaignConfig, run_simulated_campaign
from robopref.cli import app
from robopref.errors import InputError
from robopref.pairs import PairsConfig
from robopref.schemas import PREFERENCES_SCHEMA
from robopref.store import annotations_frame, open_store, pairs_frame

SMALL = CampaignConfig(pairs=PairsConfig(batch_size=150, calibration_size=30))
TASKS = ("reach a", "reach b", "reach c")


@pytest.fixture
def manifest(tiny_pool) -> pd.DataFrame:
    return tiny_pool(n=32, tasks=TASKS, frame_size=None).manifest


def test_campaign_retests_the_rusher_flags_the_planted_annotators_and_keeps_true_labels(
    store, manifest, tmp_path
):
    result = run_simulated_campaign(store, manifest, SMALL, out_dir=tmp_path / "qa")
    history = result.history
    first = history.groupby("annotator_id").head(1).set_index("annotator_id")["passed"]
    assert not first["ann-05"] and first.drop("ann-05").all()  # the rusher fails once
    assert result.retested == {"ann-05": result.history["calibration_batch_id"].iloc[-1]}
    assert history.groupby("annotator_id")["passed"].last().all()  # … and passes the retest
    # production roster: oracle, oracle, mistake, speeder, left-clicker (sorted ids)
    assert result.qa.report.summary["flagged"] == ["ann-04", "ann-05"]
    prefs = pd.read_parquet(result.qa.preference_files.parquet)
    assert list(prefs.columns)[: len(PREFERENCES_SCHEMA)] == PREFERENCES_SCHEMA.names
    assert prefs["pair_id"].is_unique
    assert not prefs["annotator_ids"].map(lambda ids: {"ann-04", "ann-05"} & set(ids)).any()
    # the labels kept agree with the ground truth
    score = manifest.set_index("trajectory_id")["quality_score"]
    delta = score[prefs["trajectory_a_id"]].to_numpy() - score[prefs["trajectory_b_id"]].to_numpy()
    decided = prefs["preference"] != 0.5
    truth = (delta[decided.to_numpy()] > 0).astype(float)
    assert (prefs.loc[decided, "preference"].to_numpy() == truth).mean() > 0.9
    # running it again writes nothing twice
    before = len(annotations_frame(store))
    with pytest.raises(InputError, match="batch_id"):  # batches exist: nothing doubled
        run_simulated_campaign(store, manifest, SMALL, out_dir=tmp_path / "qa2")
    assert len(annotations_frame(store)) == before


def test_too_few_certified_annotators_is_a_clear_error(store, manifest, tmp_path):
    config = replace(SMALL, calibration_roster="speeder:5", retest_roster="speeder:5")
    with pytest.raises(InputError, match="annotator"):
        run_simulated_campaign(store, manifest, config, out_dir=tmp_path / "qa")


@pytest.mark.slow
def test_cli_prints_kappa_history_and_summary(tiny_pool, tmp_path):
    pool = tiny_pool(n=32, tasks=TASKS, frame_size=None)
    config = tmp_path / "campaign.yaml"
    config.write_text("pairs:\n  batch_size: 150\n  calibration_size: 30\n")
    result = CliRunner().invoke(app, [
        "campaign", "simulate", str(pool.root), "--db", f"sqlite:///{tmp_path}/c.db",
        "--out", str(tmp_path / "qa"), "--config", str(config),
    ])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "ann-05: kappa" in result.output and "failed" in result.output
    assert "flagged ['ann-04', 'ann-05']" in result.output.splitlines()[-1]
    assert (tmp_path / "qa" / "preferences.parquet").exists()
    store = open_store(f"sqlite:///{tmp_path}/c.db")  # the YAML's batch size was applied
    production = pairs_frame(store, "production-1")
    store.dispose()
    assert (production["kind"] != "duplicate").sum() == 150


@pytest.mark.slow
def test_step_by_step_verbs_certify_retest_and_flag(tiny_pool, tmp_path):
    pool = tiny_pool(n=32, tasks=TASKS, frame_size=None)
    db, runner = f"sqlite:///{tmp_path}/s.db", CliRunner()

    def run(*args: str) -> str:
        result = runner.invoke(app, list(args))
        assert result.exit_code == 0, result.output
        return result.output

    run("pairs", str(pool.root), str(tmp_path / "b"), "--db", db, "--annotators", "5",
        "--calibration", "--batch-id", "production-1", "--batch-size", "150")  # fmt: skip
    store = open_store(db)
    cal1, cal2 = sorted(b for b in pairs_frame(store)["batch_id"].unique() if b.startswith("cal"))
    store.dispose()
    run("annotate", "simulate", "--db", db, "--batch", cal1, "--annotators", "oracle:4,speeder:1")
    out = run("qa", "--db", db, "--out", str(tmp_path / "qa"), "--certify")
    assert "ann-05: kappa" in out and f"retest on {cal2}" in out
    run("annotate", "simulate", "--db", db, "--batch", cal2, "--annotators", "oracle:1")
    assert "ann-05: kappa 1.00" in run("qa", "--db", db, "--out", str(tmp_path / "qa"), "--certify")
    run("annotate", "simulate", "--db", db, "--batch", "production-1",
        "--annotators", "oracle:2,mistake:1,speeder:1,left-clicker:1")  # fmt: skip
    last = run("qa", "--db", db, "--out", str(tmp_path / "qa")).strip().splitlines()[-1]
    assert "flagged 2" in last
    assert (tmp_path / "qa" / "preferences.parquet").exists()


def test_a_bad_roster_in_a_config_is_refused_before_the_store_is_created(tmp_path) -> None:
    import subprocess
    import sys

    config = tmp_path / "bad.yaml"
    config.write_text('production_roster: "oracle:2,bogus:1"\n')
    done = subprocess.run(
        [sys.executable, "-m", "robopref", "campaign", "simulate", str(tmp_path / "no-pool"),
         "--db", f"sqlite:///{tmp_path / 'c.db'}", "--out", str(tmp_path / "qa"),
         "--config", str(config)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert "bad.yaml: production_roster:" in done.stderr and "bogus" in done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.yaml"]
