"""Fuzz corpus of the reward model: broken checkpoints, mismatched pools, the release script.

From one tiny trained model (1 epoch on a 8-trajectory state pool) and its release, each case
copies what a verb reads into its case folder, breaks one thing and runs it as a user would,
in a subprocess:

- `robopref validate POOL --model MODEL` and `robopref release PREFS POOL --model MODEL`
  on a checkpoint whose config.json has one field of the wrong type or value, whose files are
  truncated or missing, whose tensors do not fit the network, or on a pool the model cannot
  read (other state or action widths);
- the release's standalone `inference.py` on a malformed reward_model.json, a truncated ONNX
  graph, .npz inputs it cannot score, hostile or unknown trajectory ids and a graph that
  computes NaN.

Each must exit 2 with one `error:` line naming the file and the field, change nothing in
the case folder or beside it, and (inference.py) print no reward at all. Every config.json
field × every wrong value also runs in-process in tests/reward/test_checkpoint.py.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import pytest
from tests.fuzz.harness import (
    ABSOLUTE_HOSTILE,
    HOSTILE_NAMES,
    Case,
    Outcome,
    assert_refused,
    changed_paths,
    run_case,
    snapshot,
    wrong_values,
)

from robopref.pool import Pool
from robopref.pool.pool import append_to_pool
from robopref.testing import synthetic_preferences, tiny_pool, write_preferences

SCRIPT_TIMEOUT_S = 60


class Source(NamedTuple):
    """The valid inputs every case starts from."""

    root: Path
    pool: Pool
    model: Path
    release: Path
    """The release folder: inference.py, reward_model.json, reward_model.onnx, …"""


def _changed_pool(pool: Pool, out: Path, **repeat: int) -> Path:
    """A copy of `pool` (same ids) whose state or action columns are repeated `repeat` times."""
    trajectories = [
        dataclasses.replace(t, **{k: np.concatenate([getattr(t, k)] * n, axis=1)
                                  for k, n in repeat.items()})
        for t in pool
    ]
    append_to_pool(out, trajectories)
    return out


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Source:
    import torch

    from robopref.release import ReleaseConfig, ReleaseInputs, build_release
    from robopref.reward import EncoderConfig, TrainConfig, train_reward_model

    torch.set_num_threads(1)
    root = tmp_path_factory.mktemp("model-source")
    pool = tiny_pool(root / "pool", n=8, frame_size=None)
    write_preferences(synthetic_preferences(pool, n_pairs=28, seed=0), root / "prefs.parquet")
    enc = EncoderConfig(language=False, n_steps=4, embed_dim=8, hidden_dim=8)
    config = TrainConfig(encoder=enc, epochs=1, ensemble_size=1, batch_size=32, device="cpu")
    train_reward_model(root / "prefs.parquet", pool, config, out=root / "model")
    inputs = ReleaseInputs(preferences=root / "prefs.parquet", pool=pool.root, model=root / "model")
    result = build_release(inputs, root / "release", ReleaseConfig(name="fuzz"))
    _changed_pool(pool, root / "wide_state", state=2)
    _changed_pool(pool, root / "wide_action", action=3)
    return Source(root=root, pool=pool, model=root / "model", release=result.folder)


# --- the CLI: validate --model, release --model -----------------------------------------------

VERBS = {
    "validate": (("validate", "pool", "--model", "model", "--out", "val"), ("val",)),
    "release": (("release", "prefs.parquet", "pool", "--model", "model", "--out", "rel"),
                ("rel",)),
}  # fmt: skip


def _edit_config(field: str, label: str) -> Callable[[Path], None]:
    """Set config.json `field` to the wrong value `label` of `wrong_values` (or delete it)."""

    def edit(case: Path) -> None:
        file = case / "model" / "config.json"
        config = json.loads(file.read_text())
        *parents, last = field.split(".")
        target = config
        for key in parents:
            target = target[key]
        if label == "missing":
            del target[last]
        else:
            target[last] = dict(wrong_values(target[last]))[label]
        file.write_text(json.dumps(config))

    return edit


def _cut(name: str, fraction: float) -> Callable[[Path], None]:
    def cut(case: Path) -> None:
        file = case / "model" / name
        file.write_bytes(file.read_bytes()[: int(file.stat().st_size * fraction)])

    return cut


def _weights(change: Callable[[dict[str, Any]], object]) -> Callable[[Path], None]:
    def rewrite(case: Path) -> None:
        from safetensors.torch import load_file, save_file

        tensors = load_file(str(case / "model" / "model.safetensors"))
        change(tensors)
        save_file(tensors, str(case / "model" / "model.safetensors"))

    return rewrite


def _nan(tensors: dict[str, Any]) -> None:
    tensors["members.0.head.0.weight"][0, 0] = float("nan")


def _shape(tensors: dict[str, Any]) -> None:
    import torch

    tensors["members.0.head.3.weight"] = torch.zeros(1, 5)


CONFIG_CASES = {
    "validate": [
        ("schema_version", "str"), ("format", "int"), ("n_members", "zero"), ("net", "list"),
        ("net.step_dim", "negative"), ("net.encoder.kind", "empty"),
        ("net.encoder.n_steps", "str"), ("net.encoder.hidden_dim", "huge"),
        ("net.encoder.dropout", "nan"), ("data.state_dim", "zero"),
    ],
    "release": [("net.encoder.with_state", "str"), ("metrics.test_accuracy", "inf")],
}  # fmt: skip
"""(field, wrong_values label) per verb: a sample of each kind of field; every field × every
wrong value runs in-process in tests/reward/test_checkpoint.py."""


class ModelCase(NamedTuple):
    name: str
    verb: str
    change: Callable[[Path], None]
    file: str
    field: str
    pool: str = "pool"


MODEL_CASES = [
    *(
        ModelCase(f"{verb}/config:{field}={label}", verb, _edit_config(field, label),
                  "model/config.json", field)
        for verb, cases in CONFIG_CASES.items()
        for field, label in cases
    ),
    *(
        ModelCase(f"validate/config.json@{f:.0%}", "validate", _cut("config.json", f),
                  "model/config.json", "config.json")
        for f in (0.0, 0.5)
    ),
    *(
        ModelCase(f"{verb}/weights@{f:.0%}", verb, _cut("model.safetensors", f),
                  "model/model.safetensors", "model.safetensors" if f < 0.5 else "members.0")
        for verb, f in (("validate", 0.0), ("validate", 0.6), ("release", 0.9))
    ),
    ModelCase("release/no-weights", "release", lambda c: (c / "model/model.safetensors").unlink(),
              "model/model.safetensors", "model.safetensors"),
    ModelCase("validate/model-is-a-file", "validate",
              lambda c: (shutil.rmtree(c / "model"), (c / "model").write_text("x")),
              "model", "model"),
    ModelCase("validate/weights-nan", "validate", _weights(_nan), "model/model.safetensors",
              "members.0.head.0.weight"),
    ModelCase("release/weights-shape", "release", _weights(_shape), "model/model.safetensors",
              "members.0.head.3.weight"),
    *(
        ModelCase(f"{verb}/pool:{pool}", verb, lambda c: None, "model/config.json", field, pool)
        for verb, pool, field in (("validate", "wide_state", "data.state_dim"),
                                  ("validate", "wide_action", "data.action_dim"),
                                  ("release", "wide_state", "data.state_dim"))
    ),
    ModelCase("validate/pool:wide_state,old-model", "validate",
              _edit_config("data", "missing"), "model/config.json", "net.step_dim", "wide_state"),
]


@pytest.mark.slow  # each run imports torch or the validation stack: seconds per case
@pytest.mark.parametrize("spec", MODEL_CASES, ids=[c.name for c in MODEL_CASES])
def test_a_broken_model_or_a_pool_it_cannot_read_is_refused(
    source: Source, fuzz_dir: Path, spec: ModelCase
) -> None:
    shutil.copytree(source.root / spec.pool, fuzz_dir / "pool")
    shutil.copytree(source.model, fuzz_dir / "model")
    shutil.copyfile(source.root / "prefs.parquet", fuzz_dir / "prefs.parquet")
    spec.change(fuzz_dir)
    args, outputs = VERBS[spec.verb]
    case = Case(spec.name, args, spec.file, spec.field, outputs)
    assert_refused(case, run_case(case, fuzz_dir))


# --- the release's standalone inference.py --------------------------------------------------


def run_script(case: Case, case_dir: Path) -> Outcome:
    """Run `python ARGS` (the case's inference.py) in `case_dir`, like harness.run_case."""
    root = case_dir.parent
    before = snapshot(root)
    done = subprocess.run(
        [sys.executable, *case.args],
        cwd=case_dir,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
        capture_output=True,
        text=True,
        timeout=SCRIPT_TIMEOUT_S,
        check=False,
    )
    outcome = Outcome(done.returncode, done.stdout, done.stderr)
    outcome.changed = changed_paths(before, snapshot(root))
    outcome.changed += [str(p) for p in Path(ABSOLUTE_HOSTILE).parent.glob("robopref-fuzz-*")]
    return outcome


def _spec(field: str, label: str) -> Callable[[Path], None]:
    def edit(case: Path) -> None:
        file = case / "reward_model.json"
        spec = json.loads(file.read_text())
        spec[field] = dict(wrong_values(spec[field]))[label]
        file.write_text(json.dumps(spec))

    return edit


def _cut_file(name: str, fraction: float) -> Callable[[Path], None]:
    def cut(case: Path) -> None:
        file = case / name
        file.write_bytes(file.read_bytes()[: int(file.stat().st_size * fraction)])

    return cut


def _npz(**change: Any) -> Callable[[Path], None]:
    """t.npz from the first pool trajectory with arrays changed (None removes one)."""

    def write(case: Path) -> None:
        with np.load(case / "pool/trajectories/syn-00-000/arrays.npz") as arrays:
            data = {k: arrays[k] for k in ("state", "action", "timestamps_s")}
        for key, value in change.items():
            if value is None:
                del data[key]
            else:
                data[key] = value(data)
        np.savez(case / "t.npz", **data)

    return write


def _write(name: str, content: bytes) -> Callable[[Path], None]:
    def write(case: Path) -> None:
        (case / name).write_bytes(content)

    return write


def _nan_graph(case: Path) -> None:
    import onnx
    from onnx import numpy_helper

    graph = onnx.load(case / "reward_model.onnx")
    for init in graph.graph.initializer:
        if init.name.endswith("head.3.bias"):
            init.CopyFrom(numpy_helper.from_array(np.full(1, np.nan, np.float32), init.name))
    onnx.save(graph, case / "reward_model.onnx")


def _nan_at(data: dict[str, np.ndarray]) -> np.ndarray:
    state = data["state"].copy()
    state[5, 2] = np.nan
    return state


NPZ = ("inference.py", "--npz", "t.npz")
SPEC_FIELDS = [
    ("schema_version", "zero"), ("onnx", "int"), ("input", "empty"), ("n_steps", "str"),
    ("state_dim", "huge"), ("action_dim", "negative"), ("step_dim", "nan"),
    ("language_dim", "list"), ("with_state", "int"), ("time_feature", "null"),
    ("motion_features", "str"), ("language", "dict"), ("camera", "list"),
    ("task_embeddings", "null"),
]  # fmt: skip


class ScriptCase(NamedTuple):
    name: str
    change: Callable[[Path], None]
    args: tuple[str, ...]
    file: str
    field: str


SCRIPT_CASES = [
    *(
        ScriptCase(f"spec:{field}={label}", _spec(field, label), NPZ, "reward_model.json", field)
        for field, label in SPEC_FIELDS
    ),
    *(
        ScriptCase(f"spec@{f:.0%}", _cut_file("reward_model.json", f), NPZ,
                   "reward_model.json", "model")
        for f in (0.0, 0.5)
    ),
    *(
        ScriptCase(f"onnx@{f:.0%}", _cut_file("reward_model.onnx", f), NPZ,
                   "reward_model.onnx", "onnx")
        for f in (0.0, 0.05, 0.5, 0.95)
    ),
    ScriptCase("onnx-missing", lambda c: (c / "reward_model.onnx").unlink(), NPZ,
               "reward_model.onnx", "onnx"),
    ScriptCase("onnx-computes-nan", _nan_graph, NPZ, "reward_model.onnx", "reward"),
    ScriptCase("npz:no-state", _npz(state=None), NPZ, "t.npz", "state"),
    ScriptCase("npz:no-action", _npz(action=None), NPZ, "t.npz", "action"),
    ScriptCase("npz:state-str", _npz(state=lambda d: d["state"].astype(str)), NPZ, "t.npz",
               "state"),
    ScriptCase("npz:state-nan", _npz(state=_nan_at), NPZ, "t.npz", "state"),
    ScriptCase("npz:state-3d", _npz(state=lambda d: d["state"][:, :, None]), NPZ, "t.npz",
               "state"),
    ScriptCase("npz:state-wide", _npz(state=lambda d: np.hstack([d["state"]] * 2)), NPZ,
               "t.npz", "state"),
    ScriptCase("npz:steps-differ", _npz(action=lambda d: d["action"][:7]), NPZ, "t.npz",
               "action"),
    ScriptCase("npz:one-step", _npz(state=lambda d: d["state"][:1], action=lambda d:
               d["action"][:1], timestamps_s=lambda d: d["timestamps_s"][:1]), NPZ, "t.npz",
               "state"),
    ScriptCase("npz:no-time", _npz(timestamps_s=None), NPZ, "t.npz", "timestamps_s"),
    ScriptCase("npz:time-backwards", _npz(timestamps_s=lambda d: d["timestamps_s"][::-1]), NPZ,
               "t.npz", "timestamps_s"),
    ScriptCase("npz:fps-zero", _npz(timestamps_s=None, fps=lambda d: np.float64(0)), NPZ,
               "t.npz", "fps"),
    ScriptCase("npz:instruction-list", _npz(instruction=lambda d: np.array(["a", "b"])), NPZ,
               "t.npz", "instruction"),
    ScriptCase("npz:empty-file", _write("t.npz", b""), NPZ, "t.npz", "file"),
    ScriptCase("npz:garbage", _write("t.npz", b"PK\x03\x04" + b"\x00" * 40), NPZ, "t.npz",
               "file"),
    ScriptCase("npz:pickled", lambda c: np.savez(c / "t.npz", state=np.array([{}], object)),
               NPZ, "t.npz", "file"),
    *(
        ScriptCase(f"id:{label}", lambda c: None, ("inference.py", "--pool", "pool", "--id",
                   name.replace("\x00", "\x01")), "pool", "--id")  # argv cannot hold NUL
        for label, name in HOSTILE_NAMES
    ),
    ScriptCase("id:unknown-in-a-batch", lambda c: None,
               ("inference.py", "--pool", "pool", "--id", "syn-00-000", "--id", "syn-99-999"),
               "pool", "--id"),
]


@pytest.mark.parametrize("spec", SCRIPT_CASES, ids=[c.name for c in SCRIPT_CASES])
def test_the_release_script_prints_no_reward_for_what_it_cannot_score(
    source: Source, fuzz_dir: Path, spec: ScriptCase
) -> None:
    for name in ("inference.py", "reward_model.json", "reward_model.onnx"):
        shutil.copyfile(source.release / name, fuzz_dir / name)
    shutil.copytree(source.pool.root, fuzz_dir / "pool")
    _npz()(fuzz_dir)
    spec.change(fuzz_dir)
    case = Case(spec.name, spec.args, spec.file, spec.field)
    outcome = run_script(case, fuzz_dir)
    assert_refused(case, outcome)
    assert outcome.stdout == "", f"printed {outcome.stdout!r} for input it could not score"


def test_the_unbroken_inputs_score(source: Source, fuzz_dir: Path) -> None:
    """The corpus' starting point is valid: every verb and the script accept it."""
    for name in ("inference.py", "reward_model.json", "reward_model.onnx"):
        shutil.copyfile(source.release / name, fuzz_dir / name)
    shutil.copytree(source.pool.root, fuzz_dir / "pool")
    _npz()(fuzz_dir)
    done = run_script(Case("valid", NPZ, "", ""), fuzz_dir)
    assert done.returncode == 0 and np.isfinite(float(done.stdout)), done.stderr
    shutil.copytree(source.model, fuzz_dir / "model")
    args, _ = VERBS["validate"]
    done = run_case(Case("valid", args, "", ""), fuzz_dir)
    assert done.returncode == 0, done.stderr
