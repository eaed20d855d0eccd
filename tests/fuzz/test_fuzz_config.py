"""Fuzz corpus of `--config run.yaml`: malformed YAML configs through every verb that takes one.

Each case writes one broken `run.yaml` (a wrong type for a field, a list where a nested config
is, a mapping for a scalar, NaN/inf, a huge number, a NUL, an unknown field, a bad enum or
range, or a file that is not a YAML mapping at all) and runs the verb with `--config run.yaml`
in a subprocess. Configs are read before anything else, so every case must exit 2 with an
`error:` line naming `run.yaml` and the dotted field (or the line of a syntax error), change
nothing and write no output (tests/fuzz/harness.py).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.fuzz.harness import Case, assert_refused, run_case

VERBS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "generate": (("pool", "generate", "new-pool"), ("new-pool",)),
    "ingest": (("pool", "ingest", "npz", "data.npz", "new-pool"), ("new-pool",)),
    "render": (("render", "pool"), ("pool",)),
    "pairs": (("pairs", "pool", "batch"), ("batch",)),
    "qa": (("qa", "annotations.parquet", "pairs.parquet", "--out", "qa"), ("qa",)),
    "campaign": (
        ("campaign", "simulate", "pool", "--db", "sqlite:///campaign.db", "--out", "qa"),
        ("qa", "campaign.db"),
    ),
    "train": (("train", "preferences.parquet", "pool", "--out", "model"), ("model",)),
    "validate": (("validate", "pool", "--rewards", "rewards.parquet", "--out", "v"), ("v",)),
    "release": (("release", "preferences.parquet", "pool", "--out", "release"), ("release",)),
}
"""Verb → (arguments before `--config run.yaml`; the outputs it would write). The inputs need
not exist: the config is refused first."""

SLOW_VERBS = {"train", "validate", "campaign"}
"""Verbs that import torch, matplotlib or the store before reading their config."""

CASES: list[tuple[str, str, str, str]] = [
    # (verb, label, run.yaml, the field the error must name)
    ("generate", "experts=str", "experts: ten\n", "experts"),
    ("generate", "tasks=str", "tasks: reach-v3\n", "tasks"),
    ("generate", "tasks[1]=int", "tasks: [reach-v3, 7]\n", "tasks[1]"),
    ("generate", "pool=list", "pool: [1, 2]\n", "pool"),
    ("generate", "pool.metrics.near_m=nan", "pool:\n  metrics:\n    near_m: .nan\n",
     "pool.metrics.near_m"),
    ("generate", "frames=int", "frames: 1\n", "frames"),
    ("ingest", "fps=str", "fps: fast\n", "fps"),
    ("ingest", "skip_bad=str", "skip_bad: 'yes'\n", "skip_bad"),
    ("ingest", "pool.frame_crf=mapping", "pool: {frame_crf: {high: 1}}\n", "pool.frame_crf"),
    ("ingest", "max_episodes=float", "max_episodes: 1.5\n", "max_episodes"),
    ("render", "crf=null", "crf: null\n", "crf"),
    ("render", "fps=inf", "fps: .inf\n", "fps"),
    ("render", "preset=list", "preset: [veryfast]\n", "preset"),
    ("render", "width=huge", f"width: {10**30}\n", "width"),
    ("pairs", "batch_size=str", "batch_size: ten\n", "batch_size"),
    ("pairs", "frac_same=nan", "frac_same: .nan\n", "frac_same"),
    ("pairs", "seed=float", "seed: 1.5\n", "seed"),
    ("pairs", "cross_task=str", "cross_task: maybe\n", "cross_task"),
    ("qa", "kappa_threshold=str", "kappa_threshold: high\n", "kappa_threshold"),
    ("qa", "source=int", "source: 3\n", "source"),
    ("qa", "unknown-field", "kappa_treshold: 0.5\n", "kappa_treshold"),
    ("qa", "exclude_flagged=null", "exclude_flagged: ~\n", "exclude_flagged"),
    ("campaign", "annotators=list", "annotators: [5]\n", "annotators"),
    ("campaign", "pairs.batch_size=str", "pairs: {batch_size: x}\n", "pairs.batch_size"),
    ("campaign", "qa=int", "qa: 3\n", "qa"),
    ("train", "encoder=str", "encoder: conv\n", "encoder"),
    ("train", "loss.label_flip=range", "loss: {label_flip: 0.9}\n", "loss.label_flip"),
    ("train", "split=enum", "split: diagonal\n", "split"),
    ("train", "device=nul", 'device: "cpu\\0"\n', "device"),
    ("validate", "tie_band=nan", "tie_band: .nan\n", "tie_band"),
    ("validate", "camera=list", "camera: [corner]\n", "camera"),
    ("release", "version=float", "version: 1.0\n", "version"),
    ("release", "onnx=str", "onnx: 'no'\n", "onnx"),
    ("release", "name=mapping", "name: {demo: 1}\n", "name"),
    # files that are no YAML mapping at all (through qa, the cheapest verb)
    ("qa", "a-list", "- kappa_threshold\n- 0.5\n", "config"),
    ("qa", "a-scalar", "0.65\n", "config"),
    ("qa", "syntax-error", "kappa_threshold: [0.5,\n", "line 2"),
    ("qa", "python-tag", "kappa_threshold: !!python/object/apply:os.system [echo hi]\n",
     "line 1"),
    ("qa", "custom-tag", "kappa_threshold: !high 1\n", "line 1"),
    ("qa", "duplicate-key", "kappa_threshold: 0.5\nsource: x\nkappa_threshold: 0.7\n",
     "kappa_threshold"),
    ("qa", "huge-number", f"min_answers: {'9' * 5000}\n", "config"),
    ("qa", "recursive-alias", "a: &x [*x]\n", "line 1"),
]  # fmt: skip

RAW_CASES: dict[str, tuple[bytes | None, str]] = {
    "latin1": (b"source: caf\xe9\n", "config"),
    "a-folder": (None, "config"),
}
"""qa with a config that cannot be read as text: bytes that are not UTF-8, a folder."""


def _params() -> list[object]:
    params = [
        pytest.param(verb, text, field, id=f"{verb}-{label}",
                     marks=[pytest.mark.slow] if verb in SLOW_VERBS else [])
        for verb, label, text, field in CASES
    ]  # fmt: skip
    raw = [pytest.param("qa", data, field, id=f"qa-{label}")
           for label, (data, field) in RAW_CASES.items()]  # fmt: skip
    return params + raw


@pytest.mark.parametrize(("verb", "content", "field"), _params())
def test_malformed_config_is_refused(
    fuzz_dir: Path, verb: str, content: str | bytes | None, field: str
) -> None:
    config = fuzz_dir / "run.yaml"
    if content is None:
        config.mkdir()
    elif isinstance(content, bytes):
        config.write_bytes(content)
    else:
        config.write_text(content, encoding="utf-8")
    args, outputs = VERBS[verb]
    case = Case(f"{verb}-config", (*args, "--config", "run.yaml"), "run.yaml", field, outputs)
    outcome = run_case(case, fuzz_dir)
    assert_refused(case, outcome)
    if field != "config" and not field.startswith("line"):
        assert f"run.yaml: {field}:" in outcome.stderr, outcome.stderr


def test_the_corpus_is_bounded_and_covers_every_verb() -> None:
    assert len(_params()) <= 60
    assert {verb for verb, *_ in CASES} == set(VERBS)
