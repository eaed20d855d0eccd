"""SIGKILL every verb that writes a folder while it writes; the folder stays whole and usable.

For each verb: a full run writes an earlier output and measures how long a run takes; a
second run is killed (with its worker processes) at a random 40–90% of that time (earlier
if it finished first). The output
must then be exactly the earlier version or a complete new one (a folder of outputs such as
a release folder may also hold just the earlier releases); a third run exits 0 with a
complete output, and no staging or temporary leftovers remain anywhere in the case folder.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

from robopref.render.display_key import KEY_FILE, load_display_key

from .conftest import PREFS
from .harness import LEFTOVER_MARKS, leftovers, run_cli, snapshot

pytestmark = pytest.mark.slow


@dataclass(frozen=True)
class Verb:
    """A verb writing the folder `out` (relative to the case folder) and its completeness test."""

    name: str
    args: Callable[[str, int], list[str]]
    """(output folder, run number) → arguments; the run number keeps per-run inputs apart."""
    out: str
    is_complete: Callable[[Path], None]
    """Raises AssertionError unless the folder is a whole, readable output."""


def _parquet_rows(path: Path) -> int:
    return int(pq.read_table(path).num_rows)


def _qa_complete(out: Path) -> None:
    assert _parquet_rows(out / "preferences.parquet") > 0
    assert json.loads((out / "report.json").read_text())["summary"]
    assert (out / "report.html").stat().st_size > 0


def _pairs_complete(out: Path) -> None:
    assert _parquet_rows(out / "pairs.parquet") > 0
    assert _parquet_rows(out / "assignments.parquet") > 0
    assert json.loads((out / "batches.json").read_text())


def _model_complete(out: Path) -> None:
    import robopref.reward

    model = robopref.reward.load(out)
    assert model.n_members >= 1


def _validation_complete(out: Path) -> None:
    assert json.loads((out / "report.json").read_text())["schema_version"]
    assert _parquet_rows(out / "rewards.parquet") > 0


def _release_complete(out: Path) -> None:
    from robopref.release import verify_checksums

    (folder,) = [p for p in out.glob("robopref-release-*") if p.is_dir()]
    verify_checksums(folder)
    assert (out / f"{folder.name}.tar.gz").is_file()


def _export_complete(out: Path) -> None:
    info = json.loads((out / "meta" / "info.json").read_text())
    assert info["total_episodes"] > 0


def _pool_complete(out: Path) -> None:
    import robopref.pool

    pool = robopref.pool.open(out)
    assert len(pool) > 0
    for trajectory_id in pool.manifest["trajectory_id"]:
        assert pool[trajectory_id].n_steps > 0


def _clips_complete(clips: Path) -> None:
    import robopref.pool

    manifest = robopref.pool.open(clips.parent).manifest
    for sidecar in clips.glob("*.json"):  # a sidecar vouches for its video and poster
        if sidecar.name == KEY_FILE:  # the display key, not a clip: it must read back whole
            assert load_display_key(clips) is not None
            continue
        stem = sidecar.name.removesuffix(".json")
        assert (clips / f"{stem}.mp4").stat().st_size > 0
        assert (clips / f"{stem}.jpg").stat().st_size > 0
    rendered = manifest["clip_path"].dropna()
    assert all((clips.parent / p).is_file() for p in rendered)


VERBS = (
    Verb("pairs", lambda out, run: f"pairs pool {out} --annotators 3 --seed {run}".split(),
         "batch", _pairs_complete),
    Verb("campaign-simulate",
         lambda out, run: f"campaign simulate pool --db sqlite:///c{run}.db --out {out}".split(),
         "qa-campaign", _qa_complete),
    Verb("qa", lambda out, run: f"qa --db sqlite:///base.db --out {out}".split(), "qa",
         _qa_complete),
    Verb("train",
         lambda out, run: f"train {PREFS} pool --out {out} --epochs 3 --ensemble 1".split(),
         "model", _model_complete),
    Verb("validate",
         lambda out, run: f"validate pool --model base-model --pairs {PREFS} --out {out}".split(),
         "validation", _validation_complete),
    Verb("release",
         lambda out, run: (f"release {PREFS} pool --model base-model --version 1.0.0"
                           f" --overwrite --out {out}").split(),
         "release", _release_complete),
    Verb("pool-export", lambda out, run: f"pool export pool {out}".split(), "export",
         _export_complete),
    Verb("render", lambda out, run: ["render", out.removesuffix("/clips")], "render-pool/clips",
         _clips_complete),
    Verb("pool-ingest", lambda out, run: f"pool ingest npz src-{run} {out}".split(),
         "ingested", _pool_complete),
    Verb("pool-generate",
         lambda out, run: (f"pool generate {out} --task reach-v3 --experts 1 --novices 1"
                           f" --checkpoints 0 --max-steps 30 --no-frames --workers 1"
                           f" --seed {run}").split(),
         "generated", _pool_complete),
)  # fmt: skip


def _case_folder(base: Path, tmp_path: Path, verb: Verb) -> Path:
    case = tmp_path / "case"
    shutil.copytree(base, case)
    if verb.name == "pool-ingest":  # one source per run (its folder name prefixes the ids)
        for run in (*RUNS, FINAL_RUN):
            _npz_source(case / f"src-{run}", episodes=30)
    if verb.name == "render":  # render writes into its pool: give it its own (and a probe's)
        shutil.copytree(case / "pool", case / "render-pool")
        shutil.copytree(case / "pool", case / "render-probe")
    return case


RUNS = range(1, 6)
"""Run numbers of the first run and of the kill attempts."""
FINAL_RUN = 10


def _npz_source(folder: Path, *, episodes: int) -> None:
    """An NPZ dataset of `episodes` episodes of 16 steps with 16 px frames."""
    from .ingest_corpus import npz_arrays

    folder.mkdir()
    (folder / "dataset.json").write_text(json.dumps({"task": "stack blocks", "fps": 10}))
    rng = np.random.default_rng(0)
    for i in range(episodes):
        frames = rng.integers(0, 255, (16, 16, 16, 3), dtype=np.uint8)
        np.savez(folder / f"ep{i:02d}.npz", **npz_arrays(16, seed=i), frames_front=frames)


def _start(args: list[str], cwd: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    env.setdefault("MUJOCO_GL", "egl")
    return subprocess.Popen(
        [sys.executable, "-m", "robopref", *args],
        cwd=cwd,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def _kill_after(args: list[str], cwd: Path, delay_s: float) -> bool:
    """Start the verb, SIGKILL it (and its workers) after `delay_s`; True if it was killed."""
    process = _start(args, cwd)
    try:
        process.wait(timeout=delay_s)
        return False  # finished before the kill
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        return True


def _full_run(verb: Verb, case: Path, run: int, out: str) -> float:
    start = time.perf_counter()
    outcome = run_cli(verb.args(out, run), cwd=case)
    assert outcome.returncode == 0, outcome.stderr[-3000:]
    verb.is_complete(case / out)
    return time.perf_counter() - start


def _without_leftovers(state: dict[str, str]) -> dict[str, str]:
    return {p: d for p, d in state.items() if not any(m in p for m in LEFTOVER_MARKS)}


def _assert_whole(verb: Verb, out: Path, before: dict[str, str]) -> None:
    """After a kill: absent, exactly the earlier version, or a complete new version."""
    if not out.exists():
        return
    if _without_leftovers(snapshot(out)) == _without_leftovers(before):
        return  # the earlier version (a killed run's staging is cleared by the next run)
    verb.is_complete(out)


@pytest.mark.parametrize("verb", VERBS, ids=[v.name for v in VERBS])
def test_a_killed_verb_leaves_its_folder_whole_and_the_next_run_clears_up(
    verb: Verb, verb_inputs: Path, tmp_path: Path
) -> None:
    if verb.name == "pool-generate":
        pytest.importorskip("metaworld")
    case = _case_folder(verb_inputs, tmp_path, verb)
    out = case / verb.out
    if verb.name == "render":  # a second render of the same pool has nothing to do
        seconds = _full_run(verb, case, 1, "render-probe/clips")
    else:
        seconds = _full_run(verb, case, 1, verb.out)  # the earlier output the kill must not harm
    fraction = float(np.random.default_rng(len(verb.name)).uniform(0.4, 0.9))
    for attempt in range(4):  # a warm second run may beat the kill: try earlier
        before = snapshot(out)
        delay = max(0.3, seconds * fraction * 0.6**attempt)
        killed = _kill_after(verb.args(verb.out, 2 + attempt), case, delay)
        _assert_whole(verb, out, before)
        if killed:
            break
    assert killed, f"{verb.name} finished before every kill ({seconds:.1f} s a run)"
    _full_run(verb, case, FINAL_RUN, verb.out)
    assert not leftovers(case), leftovers(case)
