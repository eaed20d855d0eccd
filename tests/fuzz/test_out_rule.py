"""Every verb that writes a folder refuses one it did not create, and changes nothing.

The one rule (robopref.outputs): a verb may write DIR only if it is absent, empty, or an
earlier output of the same kind. Each verb is pointed at a folder of someone's notes, at its
own input pool, at a regular file and at another verb's output; each time it must exit 2
naming the folder and the option, and leave every file in the case folder as it was.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from .conftest import PREFS
from .harness import Case, assert_refused, run_case, run_cli
from .ingest_corpus import build_npz

VERBS: dict[str, tuple[str, str]] = {
    "train": (f"train {PREFS} pool --epochs 1 --ensemble 1 --out {{out}}", "--out"),
    "validate": (f"validate pool --model base-model --pairs {PREFS} --out {{out}}", "--out"),
    "qa": ("qa --db sqlite:///base.db --out {out}", "--out"),
    "campaign-simulate": ("campaign simulate pool --db sqlite:///new.db --out {out}", "--out"),
    "pairs": ("pairs pool {out} --annotators 3", "OUT"),
    "pool-export": ("pool export pool {out}", "OUT"),
    "release": (f"release {PREFS} pool --model base-model --out {{out}}", "--out"),
    "demo": ("demo --small --out {out}", "--out"),
    "pool-ingest": ("pool ingest npz src {out}", "POOL"),
    "pool-generate": (
        "pool generate {out} --task reach-v3 --experts 1 --novices 1 --checkpoints 0"
        " --max-steps 20 --no-frames --workers 1",
        "OUT",
    ),
}
"""Verb → (arguments with `{out}`, the option or argument that names the folder)."""

POOL_VERBS = {"pool-ingest", "pool-generate"}
"""Verbs whose target may be an existing pool (they append to it)."""

TARGETS = ("notes", "pool", "file", "other-output")


def _target(verb: str, kind: str) -> str:
    if kind == "pool":
        return "base-model" if verb in POOL_VERBS else "pool"  # a pool is a pool verb's own
    if kind == "other-output":
        return "base-qa" if verb in {"train", "validate"} else "base-model"
    return {"notes": "notes", "file": "notes.txt"}[kind]


@pytest.fixture
def case_dir(verb_inputs: Path, fuzz_dir: Path) -> Path:
    """A copy of the verbs' inputs with a notes folder, a file, and an NPZ source."""
    shutil.copytree(verb_inputs, fuzz_dir, dirs_exist_ok=True)
    (fuzz_dir / "notes").mkdir()
    (fuzz_dir / "notes" / "ideas.md").write_text("do not delete\n")
    (fuzz_dir / "notes.txt").write_text("not a folder\n")
    build_npz(fuzz_dir)
    return fuzz_dir


@pytest.mark.parametrize("kind", TARGETS)
@pytest.mark.parametrize("verb", sorted(VERBS))
def test_a_verb_refuses_a_folder_it_did_not_create(verb: str, kind: str, case_dir: Path) -> None:
    if verb in {"pool-generate", "demo"}:
        pytest.importorskip("metaworld")
    args, option = VERBS[verb]
    target = _target(verb, kind)
    case = Case(f"{verb}-{kind}", tuple(args.format(out=target).split()), target, option)
    assert_refused(case, run_case(case, case_dir))


def test_an_earlier_output_of_the_same_verb_is_replaced(case_dir: Path) -> None:
    args = f"train {PREFS} pool --epochs 1 --ensemble 1 --out base-model".split()
    outcome = run_cli(args, cwd=case_dir)
    assert outcome.returncode == 0, outcome.stderr[-2000:]
    assert (case_dir / "base-model" / ".robopref-output.json").is_file()
    assert (case_dir / "notes" / "ideas.md").read_text() == "do not delete\n"
