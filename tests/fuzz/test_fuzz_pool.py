"""Fuzz corpus of the pool folder: malformed pools through every verb that opens one.

Each case copies a valid tiny pool (with a preferences and a rewards file beside it) into the
case folder, breaks one thing (tests/fuzz/pool_corpus.py), runs a verb in a subprocess and
checks the promises (tests/fuzz/harness.py): exit 2, an `error:` line naming the file and
the field, nothing changed anywhere, no output left. Every manifest variant runs through
`pool show`; samples of each kind run through render, pairs, train, validate and export.
tests/pool/test_open_pool.py runs every variant in-process as well.

Plus: a pool folder whose writer was killed (SIGKILL) at several points opens with its old
content, and the next run succeeds and leaves nothing behind.
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from tests.fuzz import pool_corpus as corpus
from tests.fuzz.harness import Case, assert_refused, leftovers, run_case

import robopref.pool as rp
from robopref.testing import synthetic_trajectory, tiny_pool

VERBS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "show": (("pool", "show", "pool"), ()),
    "render": (("render", "pool", "--workers", "1"), ("pool/clips",)),
    "pairs": (("pairs", "pool", "batch", "--batch-size", "6", "--annotators", "3"), ("batch",)),
    "train": (
        (
            *("train", "prefs.parquet", "pool", "--out", "model", "--encoder", "state"),
            *("--epochs", "1", "--ensemble", "1", "--no-language", "--device", "cpu"),
        ),
        ("model",),
    ),
    "validate": (
        ("validate", "pool", "--rewards", "rewards.parquet", "--out", "validation"),
        ("validation",),
    ),
    "export": (("pool", "export", "pool", "lerobot"), ("lerobot",)),
}
"""Verb → (the cheapest arguments that open the pool, the outputs it would write)."""

SLOW_VERBS = {"train", "validate"}
"""Verbs that import torch / matplotlib: seconds per case."""

_SIZES = (9000, 4000, 3000)  # of the base's manifest, arrays.npz and video (checked in-process)
_ALL = {
    v.name: v
    for v in (
        *corpus.manifest_variants(_SIZES[0]),
        *corpus.info_variants(),
        *corpus.meta_variants(),
        *corpus.arrays_variants(_SIZES[1]),
        *corpus.video_variants(_SIZES[2]),
    )
}

_SHOW_SKIPPED = (
    *("csv", "quartile=str", "success=str", "n_steps=float", "n_steps=negative", "task=empty"),
    *("null-task", "null-n_steps", "null-quality_score", "cameras=slash"),
)
SHOW_MANIFEST = [v.name for v in corpus.manifest_variants(_SIZES[0]) if v.name not in _SHOW_SKIPPED]
"""Manifest variants through `pool show`: all but repeats of one class (those run in-process
only, in tests/pool/test_open_pool.py)."""

SHOW_INFO = [
    "info-missing",
    "info-truncated",
    "info-list",
    "info-unknown-config-field",
    "schema_version=str",
    "config.frame_crf=nan",
    "config.metrics.near_m=null",
    "config.rubric.success=zero",
    "primary_camera=traversal",
]

SAMPLES: dict[str, list[str]] = {
    "render": ["truncated@1800", "id-traversal", "n_steps=str", "info-truncated"],
    "pairs": ["garbage", "id-traversal", "duplicate-id", "quartile=nine"],
    "train": [
        "truncated@3600",
        "config.metrics.near_m=null",
        "meta-truncated",
        "meta-fps=str",
        "arrays-truncated@1000",
        "arrays-pickled",
        "arrays-state-text",
    ],
    "validate": [
        "id-traversal",
        "info-truncated",
        "meta-camera-file-traversal",
        "arrays-missing",
        "video-truncated",
    ],
    "export": [
        "truncated@1800",
        "cameras=traversal",
        "config.rubric.success=zero",
        "meta-truncated",
        "meta-camera-file-traversal",
        "arrays-fewer-steps",
        "video-truncated",
        "video-garbage",
    ],
}
"""Other verbs × a sample of each kind of variant their reading reaches."""


def _cases() -> list[object]:
    pairs = [("show", name) for name in SHOW_MANIFEST + SHOW_INFO]
    pairs += [(verb, name) for verb, names in SAMPLES.items() for name in names]
    return [
        pytest.param(
            verb, name, id=f"{verb}-{name}", marks=[pytest.mark.slow] if verb in SLOW_VERBS else []
        )
        for verb, name in pairs
    ]


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("pool-base")
    corpus.build_base(folder)
    return folder


@pytest.mark.parametrize(("verb", "variant"), _cases())
def test_malformed_pool_is_refused(base: Path, fuzz_dir: Path, verb: str, variant: str) -> None:
    broken = _ALL[variant]
    for entry in base.iterdir():
        copy = shutil.copytree if entry.is_dir() else shutil.copy2
        copy(entry, fuzz_dir / entry.name)
    broken.mutate(fuzz_dir / "pool")
    args, outputs = VERBS[verb]
    case = Case(f"{verb}-{variant}", args, broken.file, broken.field, outputs)
    outcome = run_case(case, fuzz_dir)
    assert_refused(case, outcome)
    for output in outputs:
        assert not (fuzz_dir / output).exists()


def test_the_corpus_names_only_existing_variants() -> None:
    named = {name for names in SAMPLES.values() for name in names}
    named |= set(SHOW_INFO) | set(_SHOW_SKIPPED)
    assert named <= set(_ALL), sorted(named - set(_ALL))
    assert len(_cases()) <= 80


# --- killed writers ---------------------------------------------------------------------------

_CHILD = textwrap.dedent(
    """
    import os, sys, time
    from pathlib import Path
    import numpy as np
    import robopref.pool.pool as pool_module
    from robopref.testing import synthetic_trajectory

    root, mode = Path(sys.argv[1]), sys.argv[2]

    def pause(label):
        print(label, flush=True)
        time.sleep(120)

    if mode == "before-manifest":  # trajectories moved in, manifest not yet swapped
        pool_module.write_manifest = lambda *args, **kwargs: pause(mode)
    if mode == "in-manifest":  # the manifest's temporary file written, not renamed
        os.fsync = lambda fd: pause(mode)

    def trajectories():
        rng = np.random.default_rng(1)
        for i in range(30):
            if i == 3:
                print("staging", flush=True)
                if mode == "staging":
                    time.sleep(120)
            yield synthetic_trajectory(
                f"new{i:02d}", quality=i / 30, rng=rng, n_steps=8, frame_size=16
            )

    pool_module.append_to_pool(root, trajectories())
    print("committed", flush=True)
    """
)


def _kill_when(root: Path, mode: str) -> None:
    """Run an append in a child process and SIGKILL it once it reports `mode`."""
    child = subprocess.Popen(
        [sys.executable, "-c", _CHILD, str(root), mode], stdout=subprocess.PIPE, text=True
    )
    assert child.stdout is not None
    try:
        for line in child.stdout:
            if line.strip() == mode:
                break
        else:
            pytest.fail(f"the child exited (code {child.wait()}) before {mode!r}")
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)


@pytest.mark.slow
@pytest.mark.parametrize("first_run", [False, True], ids=["existing-pool", "new-pool"])
def test_a_killed_append_leaves_a_pool_the_next_run_completes(
    tmp_path: Path, first_run: bool
) -> None:
    root = tmp_path / "pool"
    old: list[str] = []
    if not first_run:
        old = list(tiny_pool(root, n=4, n_steps=8, frame_size=16).manifest["trajectory_id"])
    modes = ["staging", "before-manifest", "in-manifest"] if not first_run else ["staging"]
    for mode in modes:
        _kill_when(root, mode)
        if old:
            assert list(rp.open(root).manifest["trajectory_id"]) == old, mode
        else:
            assert not (root / "manifest.parquet").exists()
    rng = np.random.default_rng(1)
    new = [
        synthetic_trajectory(f"new{i:02d}", quality=i / 30, rng=rng, n_steps=8, frame_size=16)
        for i in range(30)
    ]
    pool = rp.append_to_pool(root, new)
    assert len(pool) == len(old) + 30 and pool["new07"].frames["front"].shape[0] == 8
    assert leftovers(root) == []
