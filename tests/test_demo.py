"""End-to-end: `robopref demo` at toy size in a subprocess, checked against the contract."""

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

CONTRACT_MANIFEST = ("trajectory_id", "task", "env_id", "source", "success", "n_steps", "fps",
                     "duration_s", "quality_score", "quartile")


@pytest.mark.slow
@pytest.mark.sim
def test_demo_runs_end_to_end_at_toy_size(tmp_path: Path):
    out = tmp_path / "demo"
    env = {**os.environ, "MUJOCO_GL": os.environ.get("MUJOCO_GL", "egl")}
    result = subprocess.run(
        [sys.executable, "-m", "robopref", "demo", "--small", "--out", str(out)],
        capture_output=True, text=True, env=env, timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert f"demo outputs in {out}" in result.stdout
    manifest = pd.read_parquet(out / "pool" / "manifest.parquet")
    assert set(CONTRACT_MANIFEST) <= set(manifest.columns)
    assert manifest["trajectory_id"].is_unique
    assert set(manifest["quartile"]) <= {1, 2, 3, 4}
    rates = manifest.groupby("tier")["success"].mean()
    assert rates["expert"] > rates["random"]
    assert manifest["clip_path"].map(lambda p: (out / "pool" / p).is_file()).all()
    assert (out / "robopref.db").is_file()
    prefs = pd.read_parquet(out / "qa" / "preferences.parquet")
    assert set(prefs["preference"]) <= {0.0, 0.5, 1.0} and prefs["pair_id"].is_unique
    assert (prefs["trajectory_a_id"] != prefs["trajectory_b_id"]).all()
    assert prefs["pair_id"].str.startswith("active-1-").any()  # the one active round's pairs
    assert "active_pairs: " in result.stdout
    assert (out / "model" / "model.safetensors").is_file()
    assert (out / "validation" / "report.json").is_file()
    assert (out / "validation" / "report.html").is_file()
    assert list((out / "release").glob("robopref-release-*.tar.gz"))
    import json

    policy = json.loads((out / "policy" / "best_of_n.json").read_text())
    assert policy["n"] == 2 and policy["placements"] == 3 and policy["scorer"] == "learned"
    assert "the loop closes: best-of-2" in result.stdout
    _the_browser_hint_works(result.stdout, out)


def _the_browser_hint_works(stdout: str, out: Path) -> None:
    """The printed serve command names a robopref that runs, and its links sign in."""
    import re
    import shutil

    from robopref.store import Role, annotator_for_token, open_store

    serve = next(line for line in stdout.splitlines() if " serve --db " in line)
    command = serve.split(")", 1)[1].split()[0]
    assert Path(command).name == "robopref" and (shutil.which(command) or Path(command).is_file())
    tokens = re.findall(r"http://127\.0\.0\.1:8000/#token=(\S+)", stdout)
    store = open_store(f"sqlite:///{out / 'robopref.db'}", existing=True)
    try:
        assert [annotator_for_token(store, t) for t in tokens] == [
            ("admin", Role.ADMIN), ("you", Role.ANNOTATOR)]
    finally:
        store.dispose()
