"""Malformed variants of a pool folder, generated from a valid tiny pool.

Each `PoolVariant` breaks one thing in a copy of the pool — its `manifest.parquet`,
`pool.json`, or one trajectory's `meta.json`, `arrays.npz` or camera video — and says which
file and field the refusal must name. The fuzz suite runs them through the CLI
(tests/fuzz/test_fuzz_pool.py); tests/pool runs the same variants in-process against the
reader, so both check one list.
"""

from __future__ import annotations

import io
import json
import math
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from tests.fuzz.harness import HOSTILE_NAMES, truncations, wrong_values

TARGET = "syn-00-003"
"""The trajectory whose files the per-trajectory variants break (a success; in the prefs)."""


@dataclass(frozen=True)
class PoolVariant:
    """One malformed pool: how to make it from a valid copy, and what the error must name."""

    name: str
    """Short id for pytest (`manifest-truncated@100`)."""
    file: str
    """A fragment of the file the error must name (`manifest.parquet`, `meta.json`)."""
    field: str
    """A fragment of the field the error must name."""
    mutate: Callable[[Path], None]
    """Breaks the pool folder it is given (in place)."""


def build_base(folder: Path) -> None:
    """A valid tiny pool in `folder/pool`, with `prefs.parquet` and `rewards.parquet` beside it."""
    from robopref.testing import synthetic_preferences, tiny_pool, write_preferences

    pool = tiny_pool(folder / "pool", n=8, n_steps=12, frame_size=16)
    prefs = synthetic_preferences(pool, n_pairs=24, seed=0, epsilon=0.1)
    named = set(prefs["trajectory_a_id"]) | set(prefs["trajectory_b_id"])
    assert TARGET in named, "the preferences must name the target trajectory"
    write_preferences(prefs, folder / "prefs.parquet")
    rewards = pd.DataFrame(
        {"trajectory_id": pool.manifest["trajectory_id"], "reward": pool.manifest["quality_score"]}
    )
    rewards.to_parquet(folder / "rewards.parquet")


# --- manifest.parquet ---------------------------------------------------------------------


def _manifest(pool: Path) -> pa.Table:
    return pq.read_table(pool / "manifest.parquet")


def _write_manifest(pool: Path, table: pa.Table) -> None:
    pq.write_table(table, pool / "manifest.parquet")


def _set_column(name: str, values: Callable[[pa.Table], Any]) -> Callable[[Path], None]:
    """Replace column `name` with `values(table)` (a list or an Arrow array; any type)."""

    def mutate(pool: Path) -> None:
        table = _manifest(pool)
        new = values(table)
        array = new if isinstance(new, pa.Array) else pa.array(new)
        _write_manifest(pool, table.set_column(table.schema.get_field_index(name), name, array))

    return mutate


def _set_value(name: str, row: int, value: Any, type_: pa.DataType | None = None) -> Any:
    """Column `name` with row `row` set to `value` (the column keeps its type unless given)."""

    def mutate(pool: Path) -> None:
        table = _manifest(pool)
        values = table.column(name).to_pylist()
        values[row] = value
        array = pa.array(values, type=type_ or table.schema.field(name).type)
        _write_manifest(pool, table.set_column(table.schema.get_field_index(name), name, array))

    return mutate


def _write_bytes(relative: str, data: bytes) -> Callable[[Path], None]:
    def mutate(pool: Path) -> None:
        (pool / relative).write_bytes(data)

    return mutate


def _truncate(relative: str, keep: Callable[[bytes], bytes]) -> Callable[[Path], None]:
    def mutate(pool: Path) -> None:
        path = pool / relative
        path.write_bytes(keep(path.read_bytes()))

    return mutate


def _remove(relative: str) -> Callable[[Path], None]:
    def mutate(pool: Path) -> None:
        (pool / relative).unlink()

    return mutate


def manifest_variants(size: int) -> Iterator[PoolVariant]:
    """Every malformed manifest; `size` is the valid file's length in bytes."""
    m = "manifest.parquet"
    for label, _ in truncations(b"x" * size):
        cut = int(label.split("@")[1]) if "@" in label else 0
        yield PoolVariant(f"{label}", m, "manifest", _truncate(m, lambda d, c=cut: d[:c]))
    garbage = b"PAR1" + bytes(np.random.default_rng(0).integers(0, 256, 3000, np.uint8)) + b"PAR1"
    yield PoolVariant("garbage", m, "manifest", _write_bytes(m, garbage))
    yield PoolVariant("csv", m, "manifest", _write_bytes(m, b"trajectory_id,task\na,b\n"))
    yield from _manifest_type_variants()
    yield PoolVariant("no-quality_score", m, "quality_score", _drop("quality_score"))
    for column in ("trajectory_id", "task", "n_steps", "cameras", "quality_score"):
        yield PoolVariant(f"null-{column}", m, column, _set_value(column, 2, None))
    yield PoolVariant("duplicate-id", m, "trajectory_id", _set_value("trajectory_id", 1, TARGET))
    for label, name in HOSTILE_NAMES:
        yield PoolVariant(f"id-{label}", m, "trajectory_id", _set_value("trajectory_id", 0, name))
    yield from _manifest_value_variants()


def _manifest_type_variants() -> Iterator[PoolVariant]:
    m = "manifest.parquet"
    as_text = {"n_steps", "fps", "success", "quartile", "added_at", "cameras"}
    for column in sorted(as_text):
        yield PoolVariant(
            f"{column}=str",
            m,
            column,
            _set_column(column, lambda t, c=column: [str(v) for v in t.column(c).to_pylist()]),
        )
    yield PoolVariant(
        "trajectory_id=int",
        m,
        "trajectory_id",
        _set_column("trajectory_id", lambda t: list(range(len(t)))),
    )
    yield PoolVariant(
        "n_steps=float",
        m,
        "n_steps",
        _set_column("n_steps", lambda t: [12.5] * len(t)),
    )
    yield PoolVariant(
        "n_steps=huge",
        m,
        "n_steps",
        _set_column("n_steps", lambda t: pa.array([2**40] * len(t), pa.int64())),
    )
    yield PoolVariant(
        "repeated-column",
        m,
        "task",
        lambda pool: _write_manifest(
            pool, _manifest(pool).append_column("task", pa.array(["x"] * len(_manifest(pool))))
        ),
    )


def _drop(column: str) -> Callable[[Path], None]:
    def mutate(pool: Path) -> None:
        _write_manifest(pool, _manifest(pool).drop_columns([column]))

    return mutate


def _manifest_value_variants() -> Iterator[PoolVariant]:
    m = "manifest.parquet"
    values: list[tuple[str, str, Any]] = [
        ("quality_score", "nan", math.nan),
        ("jerk", "inf", math.inf),
        ("min_clearance_m", "inf", math.inf),
        ("fps", "zero", 0.0),
        ("n_steps", "zero", 0),
        ("n_steps", "negative", -5),
        ("quartile", "nine", 9),
        ("path_efficiency", "fraction>1", 3.0),
        ("task", "control", "reach\x00the\x1b[31m target"),
        ("task", "empty", ""),
        ("cameras", "traversal", ["../../escaped"]),
        ("cameras", "slash", ["a/b"]),
        ("clip_path", "traversal", "../../escaped.mp4"),
        ("clip_path", "absolute", "/tmp/robopref-fuzz-escaped.mp4"),
    ]
    for column, label, value in values:
        yield PoolVariant(f"{column}={label}", m, column, _set_value(column, 3, value))


# --- pool.json ----------------------------------------------------------------------------


def _edit_json(relative: str, edit: Callable[[Any], Any]) -> Callable[[Path], None]:
    def mutate(pool: Path) -> None:
        path = pool / relative
        path.write_text(json.dumps(edit(json.loads(path.read_text()))))

    return mutate


def _set_key(keys: tuple[str, ...], value: Any) -> Callable[[Any], Any]:
    def edit(data: Any) -> Any:
        node = data
        for key in keys[:-1]:
            node = node[key]
        node[keys[-1]] = value
        return data

    return edit


INFO_FIELDS: tuple[tuple[tuple[str, ...], tuple[str, ...]], ...] = (
    (("schema_version",), ("null", "str", "list", "dict", "zero", "negative", "nan", "huge")),
    (("config", "frame_crf"), ("null", "str", "list", "dict", "negative", "nan", "inf", "huge")),
    (("config", "metrics", "near_m"), ("null", "str", "list", "dict", "zero", "negative", "nan")),
    (("config", "metrics", "danger_m"), ("null", "str", "zero", "negative", "nan", "inf")),
    (("config", "metrics", "major_force_n"), ("null", "str", "zero", "negative", "nan", "inf")),
    (("config", "metrics", "gripper_closed_below"), ("null", "str", "negative", "nan", "huge")),
    (("config", "metrics", "gripper_open_above"), ("null", "str", "zero", "nan", "huge")),
    (("config", "rubric", "success"), ("null", "str", "list", "zero", "negative", "nan", "inf")),
    (("config", "rubric", "per_minor_collision"), ("null", "str", "negative", "nan", "inf")),
    (("config", "rubric", "efficiency"), ("null", "str", "negative", "nan", "huge")),
    (("config", "rubric", "jerk_scale"), ("null", "str", "zero", "negative", "nan", "inf")),
    (("config", "metrics"), ("null", "str", "list")),
    (("config", "rubric"), ("null", "str", "list")),
    (("config",), ("null", "str", "list")),
    (("created_at",), ("null", "list", "dict", "int")),
    (("robopref_version",), ("null", "list", "dict", "int")),
)
"""pool.json fields × the `wrong_values` labels that are wrong for them (others are valid:
a huge threshold is a legal if odd choice; `jerk_scale` may be any positive number)."""


def info_variants() -> Iterator[PoolVariant]:
    """Every malformed pool.json."""
    p = "pool.json"
    yield PoolVariant("info-missing", p, "pool.json", _remove(p))
    yield PoolVariant("info-truncated", p, "pool.json", _truncate(p, lambda d: d[: len(d) // 2]))
    yield PoolVariant("info-list", p, "pool.json", _write_bytes(p, b"[1, 2]"))
    yield PoolVariant("info-binary", p, "pool.json", _write_bytes(p, b"\xff\xfe\x00garbage"))
    yield PoolVariant(
        "info-unknown-config-field",
        p,
        "config",
        _edit_json(p, _set_key(("config", "metrics", "bogus"), 1)),
    )
    yield PoolVariant(
        "info-version-true", p, "schema_version", _edit_json(p, _set_key(("schema_version",), True))
    )
    for keys, labels in INFO_FIELDS:
        valid = {"schema_version": 1, "frame_crf": 17, "config": {}, "metrics": {}, "rubric": {}}
        base = valid.get(
            keys[-1], "text" if keys[-1] in ("created_at", "robopref_version") else 1.0
        )
        for label, value in wrong_values(base):
            if label in labels:
                yield PoolVariant(
                    f"{'.'.join(keys)}={label}", p, keys[-1], _edit_json(p, _set_key(keys, value))
                )
    yield PoolVariant(
        "primary_camera=unknown",
        p,
        "primary_camera",
        _edit_json(p, _set_key(("primary_camera",), "side")),
    )
    for label, name in HOSTILE_NAMES:
        if name:  # an empty primary_camera means: none set
            yield PoolVariant(
                f"primary_camera={label}",
                p,
                "primary_camera",
                _edit_json(p, _set_key(("primary_camera",), name)),
            )


# --- one trajectory's files -----------------------------------------------------------------

META = f"trajectories/{TARGET}/meta.json"
ARRAYS = f"trajectories/{TARGET}/arrays.npz"
VIDEO = f"trajectories/{TARGET}/front.mp4"


def meta_variants() -> Iterator[PoolVariant]:
    """Every malformed meta.json of the target trajectory."""
    yield PoolVariant("meta-missing", "meta.json", "meta.json", _remove(META))
    yield PoolVariant(
        "meta-truncated", "meta.json", "meta.json", _truncate(META, lambda d: d[: len(d) // 3])
    )
    yield PoolVariant("meta-list", "meta.json", "meta.json", _write_bytes(META, b"[]"))
    edits: list[tuple[str, str, tuple[str, ...], Any]] = [
        ("schema_version=str", "schema_version", ("schema_version",), "1"),
        ("id-other", "trajectory_id", ("trajectory_id",), "syn-00-004"),
        ("id-traversal", "trajectory_id", ("trajectory_id",), "../../escaped"),
        ("task=control", "task", ("task",), "a\x00b"),
        ("task=int", "task", ("task",), 3),
        ("fps=str", "fps", ("fps",), "ten"),
        ("fps=zero", "fps", ("fps",), 0),
        ("success=str", "success", ("success",), "yes"),
        ("success_step=float", "success_step", ("success_step",), 1.5),
        ("metadata=list", "metadata", ("metadata",), [1, 2]),
        ("metadata.seed=str", "metadata.seed", ("metadata", "seed"), "abc"),
        ("cameras=list", "cameras", ("cameras",), ["front"]),
        ("camera-file-traversal", "file", ("cameras", "front", "file"), "../../escaped.mp4"),
        ("camera-file-absolute", "file", ("cameras", "front", "file"), "/tmp/robopref-fuzz-x"),
        ("camera-n_frames=str", "n_frames", ("cameras", "front", "n_frames"), "x"),
        ("camera-height=zero", "height", ("cameras", "front", "height"), 0),
    ]
    for label, field, keys, value in edits:
        yield PoolVariant(
            f"meta-{label}", "meta.json", field, _edit_json(META, _set_key(keys, value))
        )
    yield PoolVariant(
        "meta-camera-name-traversal",
        "meta.json",
        "cameras",
        _edit_json(META, lambda d: {**d, "cameras": {"../../x": d["cameras"]["front"]}}),
    )


def _edit_arrays(edit: Callable[[dict[str, np.ndarray]], None], **save: Any) -> Any:
    def mutate(pool: Path) -> None:
        path = pool / ARRAYS
        with np.load(path) as npz:
            arrays = {key: npz[key] for key in npz.files}
        edit(arrays)
        buffer = io.BytesIO()
        np.savez(buffer, **arrays, **save)
        path.write_bytes(buffer.getvalue())

    return mutate


def arrays_variants(size: int) -> Iterator[PoolVariant]:
    """Every malformed arrays.npz of the target trajectory (`size`: the valid file's bytes)."""
    a = "arrays.npz"
    yield PoolVariant("arrays-missing", a, "arrays.npz", _remove(ARRAYS))
    for label, _ in truncations(b"x" * size, count=3):
        cut = int(label.split("@")[1]) if "@" in label else 0
        yield PoolVariant(
            f"arrays-{label}", a, "arrays.npz", _truncate(ARRAYS, lambda d, c=cut: d[:c])
        )
    yield PoolVariant(
        "arrays-garbage", a, "arrays.npz", _write_bytes(ARRAYS, b"PK\x03\x04" + b"\x00" * 200)
    )
    yield PoolVariant("arrays-npy", a, "arrays.npz", _save_npy)
    yield PoolVariant(
        "arrays-pickled",
        a,
        "arrays.npz",
        _edit_arrays(lambda d: d.update(state=np.array([{"a": 1}] * 12, dtype=object))),
    )
    edits: list[tuple[str, str, Callable[[dict[str, np.ndarray]], None]]] = [
        ("no-state", "state", lambda d: d.pop("state")),
        ("state-1d", "state", lambda d: d.update(state=d["state"][:, 0])),
        ("state-text", "state", lambda d: d.update(state=d["state"].astype(str))),
        ("ee_pos-2cols", "ee_pos", lambda d: d.update(ee_pos=d["ee_pos"][:, :2])),
        ("action-short", "action", lambda d: d.update(action=d["action"][:5])),
        ("gripper-nan", "gripper", lambda d: d["gripper"].__setitem__(3, np.nan)),
        (
            "timestamps-backwards",
            "timestamps_s",
            lambda d: d.update(timestamps_s=d["timestamps_s"][::-1].copy()),
        ),
        ("contact_step-out-of-range", "contacts", _contacts_out_of_range),
        ("fewer-steps", "n_steps", _fewer_steps),
    ]
    for label, field, edit in edits:
        yield PoolVariant(f"arrays-{label}", a, field, _edit_arrays(edit))


def _save_npy(pool: Path) -> None:
    buffer = io.BytesIO()
    np.save(buffer, np.zeros(3))
    (pool / ARRAYS).write_bytes(buffer.getvalue())


def _contacts_out_of_range(arrays: dict[str, np.ndarray]) -> None:
    arrays.update(
        contact_step=np.array([99], np.int64),
        contact_body=np.array(["table"]),
        contact_force_n=np.array([1.0], np.float32),
        contact_toppled=np.array([False]),
    )


def _fewer_steps(arrays: dict[str, np.ndarray]) -> None:
    for key in (
        "state",
        "action",
        "gripper",
        "ee_pos",
        "timestamps_s",
        "force",
        "clearance",
        "goal_distance",
        "env_reward",
    ):
        if key in arrays:
            arrays[key] = arrays[key][:10]


def video_variants(size: int) -> Iterator[PoolVariant]:
    """Undecodable or inconsistent camera videos of the target trajectory."""
    yield PoolVariant("video-missing", "front.mp4", "video", _remove(VIDEO))
    yield PoolVariant(
        "video-truncated", "front.mp4", "video", _truncate(VIDEO, lambda d: d[: size // 3])
    )
    yield PoolVariant(
        "video-garbage",
        "front.mp4",
        "video",
        _write_bytes(VIDEO, b"\x00\x00\x00\x18ftypmp42" + b"\x07" * 500),
    )
    yield PoolVariant(
        "video-n_frames",
        "front.mp4",
        "n_frames",
        _edit_json(META, _set_key(("cameras", "front", "n_frames"), 30)),
    )


def zip_names(path: Path) -> list[str]:
    """Member names of an .npz (for tests that check the valid file)."""
    with zipfile.ZipFile(path) as archive:
        return archive.namelist()
