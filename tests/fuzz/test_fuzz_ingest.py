"""Fuzz corpus of `robopref pool ingest`: malformed NPZ, robomimic and LeRobot sources via the CLI.

Every variant is made from a valid tiny source (tests/fuzz/ingest_corpus.py) and run as a
user would, in a subprocess: it must exit 2 with one `error:` line naming the file and the
field, create no pool (or leave an existing one byte for byte), and write nothing outside
its case folder. `--skip-bad` must import the good episodes and report the bad one; names
from data (camera keys, file stems, demo keys) must land inside the pool as safe names.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import h5py
import numpy as np
import pytest

import robopref.pool as rp
from robopref.errors import InputError
from robopref.pool.config import IngestConfig
from robopref.pool.ingest import ingest
from robopref.safe_paths import is_safe_name
from robopref.testing import tiny_pool

from . import ingest_corpus as corpus
from .harness import ABSOLUTE_HOSTILE, HOSTILE_NAMES, Case, Outcome, assert_refused, run_case

FORMATS: dict[str, tuple[Callable[[Path], Path], tuple[str, ...]]] = {
    "npz": (corpus.build_npz, ("npz",)),
    "robomimic": (corpus.build_robomimic, ("robomimic",)),
    "lerobot": (corpus.build_lerobot, ("lerobot",)),
    "lerobot-v21": (
        lambda case: corpus.build_lerobot(case, "v21"),
        ("lerobot", "--effector-fallback", "state"),  # the v2.1 fixture has no ee features
    ),
}
CORPUS = [
    *(("npz", m) for m in corpus.npz_mutations()),
    *(("robomimic", m) for m in corpus.robomimic_mutations()),
    *(("lerobot", m) for m in corpus.lerobot_mutations()),
    *(("lerobot-v21", m) for m in corpus.lerobot_v21_mutations()),
]
"""Every variant; all run in-process with --skip-bad, most also through the CLI."""
IN_PROCESS_ONLY = {
    "npz/ep0.npz:cut1",
    "npz/fps=zero",
    "npz/fps=huge",
    "npz/task=list",
    "npz/state=nan",
    "npz/gripper=text",
    "npz/frames=float",
    "robomimic/cut2",
    "robomimic/actions=scalar",
    "robomimic/num_samples=array",
    "lerobot/meta/episodes/chunk-000/file-000.parquet:cut1",
    "lerobot/meta/tasks.parquet:empty",
    "lerobot/fps=dict",
    "lerobot/fps=inf",
    "lerobot/codebase_version=int",
    "lerobot/data_path=int",
    "lerobot-v21/episodes.jsonl=list",
    "lerobot-v21/chunks_size=0",
}
"""Near-duplicates of other CLI cases (same reader, same kind of value): in-process only, to
keep the subprocess corpus near 80 runs."""
CLI_CORPUS = [(f, m) for f, m in CORPUS if m.name not in IN_PROCESS_ONLY]


def ingest_case(case: Path, fmt: str, mutation: corpus.Mutation | None, *options: str) -> Case:
    """Build the valid source of `fmt` in `case`, apply `mutation`, return the CLI case."""
    build, verb = FORMATS[fmt]
    source = build(case)
    if mutation is not None:
        mutation.apply(source)
    args = ("pool", "ingest", verb[0], source.name, "pool", *verb[1:], *options)
    name = mutation.name if mutation else fmt
    file, field = (mutation.file, mutation.field) if mutation else ("", "")
    return Case(name, (*args, *(mutation.options if mutation else ())), file, field, ("pool",))


@pytest.mark.parametrize(("fmt", "mutation"), CLI_CORPUS, ids=[m.name for _, m in CLI_CORPUS])
def test_malformed_source_is_refused_naming_file_and_field(fuzz_dir, fmt, mutation):
    case = ingest_case(fuzz_dir, fmt, mutation)
    assert_refused(case, run_case(case, fuzz_dir))
    assert not (fuzz_dir / "pool").exists()


@pytest.mark.parametrize(("fmt", "mutation"), CORPUS, ids=[m.name for _, m in CORPUS])
def test_skip_bad_skips_exactly_the_bad_episode_or_refuses_the_whole_source(
    tmp_path, fmt, mutation
):
    """In-process, so that every variant is also run with --skip-bad at little cost."""
    build, verb = FORMATS[fmt]
    source = build(tmp_path)
    mutation.apply(source)
    fallback = "state" if fmt == "lerobot-v21" else "error"
    config = IngestConfig(skip_bad=True, effector_fallback=fallback)
    if mutation.episode is None:
        with pytest.raises(InputError):
            ingest(verb[0], source, tmp_path / "pool", config)
        assert not (tmp_path / "pool").exists()
        return
    report = ingest(verb[0], source, tmp_path / "pool", config)
    assert [key for key, _ in report.skipped] == [mutation.episode]
    assert mutation.field in report.skipped[0][1]
    assert mutation.episode not in set(rp.open(tmp_path / "pool").manifest["source_episode"])


def assert_imported(case: Case, outcome: Outcome, fuzz_dir: Path) -> rp.Pool:
    """Exit 0, and everything that changed is inside the case's pool folder."""
    shown = f"robopref {' '.join(case.args)}\nexit {outcome.returncode}\n{outcome.stderr[-3000:]}"
    assert outcome.returncode == 0, shown
    outside = [p for p in outcome.changed if not p.startswith(f"{fuzz_dir.name}/pool")]
    assert not outside, f"wrote outside the pool: {outside[:10]}\n{shown}"
    assert not Path(ABSOLUTE_HOSTILE).exists()
    pool = rp.open(fuzz_dir / "pool")
    for trajectory_id in pool.manifest["trajectory_id"]:
        assert is_safe_name(trajectory_id)
        assert all(is_safe_name(p.stem) for p in pool.trajectory_dir(trajectory_id).iterdir())
    return pool


SKIP_BAD = [
    ("npz", "steps=0", "ep0", {"ep1"}),
    ("robomimic", "obs=scalar", "demo_1", {"demo_0"}),
    ("lerobot", "length=0", "0", {"1", "2"}),
]


@pytest.mark.parametrize(("fmt", "label", "bad", "good"), SKIP_BAD, ids=[s[1] for s in SKIP_BAD])
def test_skip_bad_imports_the_good_episodes_and_reports_the_bad_one(
    fuzz_dir, fmt, label, bad, good
):
    mutation = next(m for f, m in CORPUS if f == fmt and m.name.endswith(f"/{label}"))
    case = ingest_case(fuzz_dir, fmt, mutation, "--skip-bad")
    outcome = run_case(case, fuzz_dir)
    pool = assert_imported(case, outcome, fuzz_dir)
    assert set(pool.manifest["source_episode"]) == good
    assert f"skipped {bad}:" in " ".join(outcome.stdout.split())
    assert outcome.stdout.strip().endswith(f"imported {len(good)}, skipped 1")


def test_hostile_camera_keys_land_inside_the_pool_as_safe_names(fuzz_dir):
    source = corpus.build_npz(fuzz_dir)
    frames = np.full((corpus.STEPS, 8, 8, 3), 90, np.uint8)
    # a NUL ends a zip member's name (the archive could not hold that key): left out here
    keys = [f"frames_{name}" for _, name in HOSTILE_NAMES if "\x00" not in name]
    corpus.edit_npz("ep0", lambda arrays: arrays.update(dict.fromkeys(keys, frames)))(source)
    case = Case("npz-hostile-cameras", ("pool", "ingest", "npz", "src", "pool"), "", "", ("pool",))
    pool = assert_imported(case, run_case(case, fuzz_dir), fuzz_dir)
    traj = pool["src-ep0"]
    recorded = json.loads(str(traj.metadata["source_cameras"]))
    assert set(recorded) == set(keys) and sorted(recorded.values()) == sorted(traj.cameras)
    assert len(traj.cameras) == len(keys)


def test_hostile_file_stems_become_safe_ids_and_keep_their_names(fuzz_dir):
    source = corpus.build_npz(fuzz_dir)
    stems = ["a\nb", "caméra\u202e", "x" * 240, "...", "con", "-lead"]
    for i, stem in enumerate(stems):
        np.savez(source / f"{stem}.npz", **corpus.npz_arrays(seed=10 + i))
    case = Case("npz-hostile-stems", ("pool", "ingest", "npz", "src", "pool"), "", "", ("pool",))
    pool = assert_imported(case, run_case(case, fuzz_dir), fuzz_dir)
    assert set(pool.manifest["source_episode"]) == {*stems, "ep0", "ep1"}
    assert max(len(t) for t in pool.manifest["trajectory_id"]) <= 100


def test_hostile_demo_and_camera_keys_of_robomimic_are_mapped(fuzz_dir):
    path = corpus.build_robomimic(fuzz_dir)
    demos = ["demo 2", "d" * 300, "démo\u202e"]
    with h5py.File(path, "a") as f:
        for key in demos:
            f.copy("data/demo_0", f"data/{key}")
        images = np.zeros((corpus.STEPS, 8, 8, 3), np.uint8)
        for camera in ("front view", "c" * 300, "..x"):
            f[f"data/demo_0/obs/{camera}_image"] = images
    case = Case(
        "robomimic-hostile", ("pool", "ingest", "robomimic", path.name, "pool"), "", "", ("pool",)
    )
    pool = assert_imported(case, run_case(case, fuzz_dir), fuzz_dir)
    assert set(pool.manifest["source_episode"]) == {"demo_0", "demo_1", *demos}
    cameras = json.loads(str(pool["demos-demo_0"].metadata["source_cameras"]))
    assert len(cameras) == 3 and all(is_safe_name(c) for c in cameras.values())


def test_ids_that_collide_once_made_safe_are_refused(fuzz_dir):
    source = corpus.build_npz(fuzz_dir)
    (source / "ep0.npz").rename(source / "EP1.npz")
    case = Case(
        "npz-id-collision",
        ("pool", "ingest", "npz", "src", "pool"),
        "src",
        "trajectory_id",
        ("pool",),
    )
    assert_refused(case, run_case(case, fuzz_dir))


EXISTING = ["npz/steps=0", "lerobot/fps=str"]


@pytest.mark.parametrize("name", EXISTING)
def test_refused_ingest_leaves_an_existing_pool_byte_for_byte(fuzz_dir, name):
    fmt, mutation = next((f, m) for f, m in CORPUS if m.name == name)
    tiny_pool(fuzz_dir / "pool", n=2, n_steps=4, frame_size=None)
    case = ingest_case(fuzz_dir, fmt, mutation)
    assert_refused(case, run_case(case, fuzz_dir))  # snapshots cover the pool: unchanged
    assert len(rp.open(fuzz_dir / "pool")) == 2


@pytest.mark.parametrize(
    ("label", "options", "field"),
    [("pool-is-a-file", (), "POOL"), ("id-prefix=traversal", ("--id-prefix", "../x"), "id_prefix")],
)
def test_bad_targets_and_options_are_refused(fuzz_dir, label, options, field):
    if label == "pool-is-a-file":
        (fuzz_dir / "pool").write_text("my notes\n")
    case = ingest_case(fuzz_dir, "npz", None, *options)
    case = Case(label, case.args, "pool" if label == "pool-is-a-file" else "command line", field)
    assert_refused(case, run_case(case, fuzz_dir))
