"""Valid tiny sources for the three importers, and the malformed variants made from them.

Each builder writes a valid source into a case folder (`src/` or `demos.hdf5`); each
`Mutation` edits that source in place and names the file and field the refusal must name.
The mutations use the harness's mutators (`truncations`, `wrong_values`, `HOSTILE_NAMES`).
"""

from __future__ import annotations

import io
import json
import shutil
import warnings
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import h5py
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from .harness import truncations, wrong_values

LEROBOT_DATA = Path(__file__).resolve().parents[1] / "data" / "lerobot"
STEPS = 3


@dataclass(frozen=True)
class Mutation:
    """One malformed variant of a valid source."""

    name: str
    """pytest id, e.g. `npz/dataset.json:fps=str`."""
    apply: Callable[[Path], None]
    """Edits the source (the path the CLI is given) in place."""
    file: str
    """Fragment of the file the error must name."""
    field: str
    """Fragment of the field the error must name."""
    episode: str | None = None
    """The key of the one bad episode (`--skip-bad` imports the others), or None if the
    source is refused as a whole, even with `--skip-bad`."""
    options: tuple[str, ...] = ()
    """Extra command-line options."""


# --- generic edits --------------------------------------------------------------------------


def truncate(relative: str, index: int, count: int = 3) -> Callable[[Path], None]:
    """Cut `source/relative` as `harness.truncations` does (0 = empty, i = i-th offset)."""

    def edit(source: Path) -> None:
        path = source / relative
        cuts = list(truncations(path.read_bytes(), count))
        path.write_bytes(cuts[index][1])

    return edit


def set_json(relative: str, key: str, value: Any) -> Callable[[Path], None]:
    """Set `key` of the JSON object in `source/relative` (NaN/inf written as JSON allows)."""

    def edit(source: Path) -> None:
        path = source / relative
        data = json.loads(path.read_text())
        data[key] = value
        path.write_text(json.dumps(data))

    return edit


def write_text(relative: str, text: str) -> Callable[[Path], None]:
    def edit(source: Path) -> None:
        (source / relative).write_text(text)

    return edit


# --- NPZ ------------------------------------------------------------------------------------


def npz_arrays(n: int = STEPS, seed: int = 0) -> dict[str, np.ndarray]:
    """The arrays of one valid episode of n steps (no frames)."""
    rng = np.random.default_rng(seed)
    return {
        "state": rng.normal(size=(n, 4)).astype(np.float32),
        "action": rng.normal(size=(n, 2)).astype(np.float32),
        "ee_pos": rng.normal(size=(n, 3)).astype(np.float32),
        "gripper": rng.uniform(0, 1, n).astype(np.float32),
    }


def build_npz(case: Path) -> Path:
    """`case/src/`: dataset.json, ep0.npz, ep1.npz and ep1.json."""
    source = case / "src"
    source.mkdir()
    (source / "dataset.json").write_text(json.dumps({"task": "stack blocks", "fps": 10}))
    for i in range(2):
        np.savez(source / f"ep{i}.npz", **npz_arrays(seed=i))
    (source / "ep1.json").write_text(json.dumps({"success": True, "source": "expert"}))
    return source


def edit_npz(name: str, change: Callable[[dict[str, np.ndarray]], None]) -> Callable[[Path], None]:
    """Rewrite `source/<name>.npz` with `change` applied to its arrays."""

    def edit(source: Path) -> None:
        path = source / f"{name}.npz"
        with np.load(path) as npz:
            arrays = {k: npz[k] for k in npz.files}
        change(arrays)
        np.savez(path, **arrays)

    return edit


def raw_npz(name: str, members: Callable[[dict[str, bytes]], list[tuple[str, bytes]]]):
    """Rewrite `source/<name>.npz` as a zip of the members `members` makes from its .npy bytes."""

    def edit(source: Path) -> None:
        path = source / f"{name}.npz"
        with zipfile.ZipFile(path) as archive:
            current = {info.filename: archive.read(info) for info in archive.infolist()}
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive, warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # a duplicate member, on purpose
            for member, data in members(current):
                archive.writestr(member, data)
        path.write_bytes(buffer.getvalue())

    return edit


def _npy(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=True)
    return buffer.getvalue()


def _huge_header() -> bytes:
    buffer = io.BytesIO()
    header = {"descr": "<f8", "fortran_order": False, "shape": (10**7, 10**6)}
    np.lib.format.write_array_header_1_0(buffer, header)
    return buffer.getvalue() + bytes(64)


def _set(key: str, value: Any) -> Callable[[dict[str, np.ndarray]], None]:
    def change(arrays: dict[str, np.ndarray]) -> None:
        arrays[key] = np.asarray(value)

    return change


def _steps(n: int) -> Callable[[dict[str, np.ndarray]], None]:
    def change(arrays: dict[str, np.ndarray]) -> None:
        arrays.update(npz_arrays(n))

    return change


def npz_mutations() -> Iterator[Mutation]:
    """Truncations, sidecar values of the wrong type, and arrays of the wrong kind."""
    for i in range(3):
        label = ["empty", "cut1", "cut2"][i]
        yield Mutation(f"npz/ep0.npz:{label}", truncate("ep0.npz", i), "ep0.npz", "npz", "ep0")
    yield Mutation("npz/dataset.json:cut1", truncate("dataset.json", 1), "dataset.json", "dataset")
    yield Mutation("npz/ep1.json:empty", truncate("ep1.json", 0), "ep1.json", "ep1.json", "ep1")
    for label, value in wrong_values(10):
        if label in ("null", "str", "zero", "nan", "huge"):
            file = "ep0.npz" if value is None else "dataset.json"  # null fps: no fps at all
            yield Mutation(f"npz/fps={label}", set_json("dataset.json", "fps", value), file, "fps")
    for label, value in wrong_values("stack blocks"):
        if label in ("list", "control"):
            edit = set_json("dataset.json", "task", value)
            yield Mutation(f"npz/task={label}", edit, "dataset.json", "task")
    for field, value in (("success", "maybe"), ("source", [1]), ("state_names", [1, 2, 3, 4])):
        yield Mutation(
            f"npz/{field}=bad", set_json("ep1.json", field, value), "ep1.json", field, "ep1"
        )
    duplicate = write_text("ep1.json", '{"source": "a", "source": "b"}')
    yield Mutation("npz/sidecar=duplicate-key", duplicate, "ep1.json", "ep1.json", "ep1")
    for label, change, field in _npz_array_changes():
        yield Mutation(f"npz/{label}", edit_npz("ep0", change), "ep0.npz", field, "ep0")
    for label, make, field in _npz_member_changes():
        yield Mutation(f"npz/{label}", raw_npz("ep0", make), "ep0.npz", field, "ep0")


ArrayChange = Callable[[dict[str, np.ndarray]], None]
MemberChange = Callable[[dict[str, bytes]], list[tuple[str, bytes]]]


def _npz_array_changes() -> list[tuple[str, ArrayChange, str]]:
    frames = "frames_top"
    return [
        ("state=scalar", _set("state", 1.0), "state"),
        ("state=nan", _set("state", np.full((STEPS, 4), np.nan)), "state"),
        ("state=huge", _set("state", np.full((STEPS, 4), 1e300)), "state"),
        ("steps=0", _steps(0), "state"),
        ("steps=1", _steps(1), "state"),
        ("ee_pos=(T,2)", _set("ee_pos", np.zeros((STEPS, 2))), "ee_pos"),
        ("gripper=text", _set("gripper", ["a"] * STEPS), "gripper"),
        ("timestamps=decreasing", _set("timestamps_s", [2.0, 1.0, 0.0]), "timestamps_s"),
        ("frames=zero-height", _set(frames, np.zeros((STEPS, 0, 8, 3), np.uint8)), frames),
        ("frames=float", _set(frames, np.zeros((STEPS, 8, 8, 3))), frames),
        ("frames=short", _set(frames, np.zeros((1, 8, 8, 3), np.uint8)), frames),
    ]


def _npz_member_changes() -> list[tuple[str, MemberChange, str]]:
    return [
        ("member=not-npy", lambda m: [*m.items(), ("notes.txt", b"hello")], "notes.txt"),
        ("member=duplicate", lambda m: [*m.items(), ("state.npy", m["state.npy"])], "state"),
        ("member=pickle", lambda m: [*m.items(), ("force.npy", _npy(np.array([{}] * 3)))], "force"),
        ("member=huge-header", lambda m: [*m.items(), ("force.npy", _huge_header())], "force"),
    ]


# --- robomimic ------------------------------------------------------------------------------

ENV_ARGS = {
    "env_name": "Lift",
    "type": 1,
    "env_kwargs": {"control_freq": 20, "reward_shaping": False},
}


def build_robomimic(case: Path) -> Path:
    """`case/demos.hdf5`: two demos of STEPS steps in robomimic's layout (no images)."""
    path = case / "demos.hdf5"
    rng = np.random.default_rng(0)
    with h5py.File(path, "w") as f:
        data = f.create_group("data")
        data.attrs["env_args"] = json.dumps(ENV_ARGS)
        for key in ("demo_0", "demo_1"):
            demo = data.create_group(key)
            fingers = rng.uniform(0, 0.04, STEPS)
            demo["obs/robot0_eef_pos"] = rng.normal(size=(STEPS, 3)).astype(np.float32)
            demo["obs/robot0_gripper_qpos"] = np.stack([fingers, -fingers], 1).astype(np.float32)
            demo["obs/object"] = rng.normal(size=(STEPS, 2)).astype(np.float32)
            demo["actions"] = rng.normal(size=(STEPS, 7)).astype(np.float32)
            demo["rewards"] = np.eye(STEPS)[-1]
            demo.attrs["num_samples"] = STEPS
    return path


def edit_h5(change: Callable[[h5py.File], None]) -> Callable[[Path], None]:
    def edit(source: Path) -> None:
        with h5py.File(source, "a") as f:
            change(f)

    return edit


def replace(name: str, value: Any) -> Callable[[h5py.File], None]:
    """Replace the object `name` with a dataset of `value` (or a group if value is `group`)."""

    def change(f: h5py.File) -> None:
        del f[name]
        if isinstance(value, str) and value == "group":
            f.create_group(name)
        else:
            f[name] = value

    return change


def set_attr(obj: str, name: str, value: Any) -> Callable[[h5py.File], None]:
    def change(f: h5py.File) -> None:
        f[obj].attrs[name] = value

    return change


def env_args(**kwargs: Any) -> Callable[[h5py.File], None]:
    """env_args with `env_kwargs` fields replaced."""
    args = json.loads(json.dumps(ENV_ARGS))
    args["env_kwargs"].update(kwargs)
    return set_attr("data", "env_args", json.dumps(args))


def _cut_file(index: int) -> Callable[[Path], None]:
    def edit(source: Path) -> None:
        source.write_bytes(list(truncations(source.read_bytes(), 3))[index][1])

    return edit


def robomimic_mutations() -> Iterator[Mutation]:
    """Truncations of the file, attributes and datasets of the wrong kind."""
    for i, label in enumerate(["empty", "cut1", "cut2"]):
        yield Mutation(f"robomimic/{label}", _cut_file(i), "demos.hdf5", "hdf5")
    for label, change, file, field in _robomimic_changes():
        episode = file.removeprefix("data/") if file.startswith("data/") else None
        if field == "demo_9":
            episode = "demo_9"
        where = f"demos.hdf5:{file}"
        yield Mutation(f"robomimic/{label}", edit_h5(change), where, field, episode)


def _robomimic_changes() -> list[tuple[str, Callable[[h5py.File], None], str, str]]:
    demo, obs = "data/demo_1", "data/demo_1/obs/object"
    image = "agentview_image"
    return [
        ("obs=scalar", replace(obs, 3.0), demo, "obs/object"),
        ("obs=group", replace(obs, "group"), demo, "obs/object"),
        ("obs=text", replace(obs, np.array([b"a"] * STEPS)), demo, "obs/object"),
        ("obs=dataset", replace(f"{demo}/obs", np.zeros(STEPS)), demo, "obs"),
        ("actions=scalar", replace(f"{demo}/actions", 1.0), demo, "actions"),
        ("actions=empty", replace(f"{demo}/actions", np.zeros((0, 7))), demo, "actions"),
        ("rewards=text", replace(f"{demo}/rewards", np.array([b"a"] * STEPS)), demo, "rewards"),
        ("num_samples=text", set_attr(demo, "num_samples", "abc"), demo, "num_samples"),
        ("num_samples=array", set_attr(demo, "num_samples", np.array([1, 2])), demo, "num_samples"),
        ("lang=not-utf8", set_attr(demo, "lang", np.bytes_(b"\xff\xfe")), demo, "lang"),
        ("image=zero-height", _image(np.zeros((STEPS, 0, 8, 3), np.uint8)), demo, image),
        ("env_args=not-json", set_attr("data", "env_args", "{nope"), "data", "env_args"),
        ("control_freq=str", env_args(control_freq="ten"), "data", "control_freq"),
        ("control_freq=zero", env_args(control_freq=0), "data", "control_freq"),
        ("reward_scale=str", env_args(reward_scale="x"), "data", "reward_scale"),
        ("demo=external-link", _external_link, "data", "demo_9"),
    ]


def _image(value: np.ndarray) -> Callable[[h5py.File], None]:
    def change(f: h5py.File) -> None:
        f["data/demo_1/obs/agentview_image"] = value

    return change


def _external_link(f: h5py.File) -> None:
    f["data"]["demo_9"] = h5py.ExternalLink("/etc/hostname", "/x")


# --- LeRobot --------------------------------------------------------------------------------

V30_EPISODES = "meta/episodes/chunk-000/file-000.parquet"
V30_DATA = "data/chunk-000/file-000.parquet"


def build_lerobot(case: Path, version: str = "v30") -> Path:
    """`case/src/`: a copy of the committed LeRobot fixture (v30 or v21)."""
    source = case / "src"
    shutil.copytree(LEROBOT_DATA / version, source)
    return source


def episodes_column(
    column: str, values: Callable[[list[Any]], list[Any]]
) -> Callable[[Path], None]:
    """Replace a column of the v3 episode metadata parquet."""

    def edit(source: Path) -> None:
        path = source / V30_EPISODES
        table = pq.read_table(path)
        new = pa.array(values(table.column(column).to_pylist()))
        pq.write_table(table.set_column(table.schema.get_field_index(column), column, new), path)

    return edit


def lerobot_mutations() -> Iterator[Mutation]:
    """Truncated metadata files, info.json values of the wrong type, malformed episode rows."""
    for relative, field, count in (
        (V30_EPISODES, "episodes", 3),
        ("meta/tasks.parquet", "tasks", 2),
    ):
        for i in range(count):
            label = ["empty", "cut1", "cut2"][i]
            yield Mutation(f"lerobot/{relative}:{label}", truncate(relative, i), relative, field)
    info = "meta/info.json"
    yield Mutation("lerobot/info.json:cut1", truncate(info, 1), "info.json", "info.json")
    yield Mutation("lerobot/stats.json:cut1", truncate("meta/stats.json", 1), "stats.json", "stats")
    yield Mutation("lerobot/data:cut2", truncate(V30_DATA, 2), "file-000.parquet", "data")
    for label, value in wrong_values(10):
        yield Mutation(f"lerobot/fps={label}", set_json(info, "fps", value), "info.json", "fps")
    for label, key, value in (
        ("features=list", "features", [1]),
        ("data_path=int", "data_path", 5),
        ("data_path=bad-template", "data_path", "data/{nope}.parquet"),
        ("data_path=escapes", "data_path", "../../../escaped/{chunk_index}{file_index}"),
        ("codebase_version=int", "codebase_version", 3),
        ("robot_type=list", "robot_type", ["a"]),
    ):
        yield Mutation(f"lerobot/{label}", set_json(info, key, value), "info.json", key)
    for label, column, values, field in _episode_row_changes():
        episode = None if field == "episode_index" else "0"  # a duplicate index: refused whole
        yield Mutation(f"lerobot/{label}", episodes_column(column, values), "meta", field, episode)


def _episode_row_changes() -> list[tuple[str, str, Callable[[list[Any]], list[Any]], str]]:
    start = "videos/observation.images.front/from_timestamp"
    return [
        ("length=0", "length", lambda v: [0, *v[1:]], "length"),
        ("episode_index=duplicate", "episode_index", lambda v: [0, 0, *v[2:]], "episode_index"),
        ("tasks=nul", "tasks", lambda v: [["pick\x00up"], *v[1:]], "tasks"),
        ("from_timestamp=nan", start, lambda v: [float("nan"), *v[1:]], "from_timestamp"),
    ]


def lerobot_v21_mutations() -> Iterator[Mutation]:
    """The v2.1 layout's JSON Lines metadata and per-episode files."""
    episodes, tasks, info = "meta/episodes.jsonl", "meta/tasks.jsonl", "meta/info.json"
    video = "videos/chunk-000/observation.images.front/episode_000001.mp4"
    yield Mutation(
        "lerobot-v21/episodes.jsonl:cut2", truncate(episodes, 2), "episodes.jsonl", "line"
    )
    yield Mutation(
        "lerobot-v21/episodes.jsonl=list", write_text(episodes, "[1]\n"), "episodes", "line 1"
    )
    yield Mutation(
        "lerobot-v21/tasks.jsonl=list", write_text(tasks, "[1]\n"), "tasks.jsonl", "line 1"
    )
    yield Mutation(
        "lerobot-v21/chunks_size=0", set_json(info, "chunks_size", 0), "info", "chunks_size"
    )
    yield Mutation(
        "lerobot-v21/episode_index=text",
        _index_as_text("data/chunk-000/episode_000001.parquet"),
        "episode_000001.parquet",
        "episode_index",
        "1",
    )
    yield Mutation(
        "lerobot-v21/video:cut1", truncate(video, 1), "episode_000001.mp4", "videos/", "1"
    )


def _index_as_text(relative: str) -> Callable[[Path], None]:
    """The data parquet's `episode_index` column as strings (pyarrow cannot compare them)."""

    def edit(source: Path) -> None:
        path = source / relative
        table = pq.read_table(path)
        column = pa.array([str(v) for v in table.column("episode_index").to_pylist()])
        index = table.schema.get_field_index("episode_index")
        pq.write_table(table.set_column(index, "episode_index", column), path)

    return edit
