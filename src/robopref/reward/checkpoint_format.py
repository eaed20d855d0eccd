"""The checkpoint folder's files, read and checked before torch builds anything from them.

`read_checkpoint(path)` is the validation layer of a checkpoint folder (the layout is in
`robopref.reward.checkpoint`): `config.json` field by field (types, ranges, the network spec
and the run record the release reads), and the header of `model.safetensors` (every tensor's
dtype, shape and byte range inside the file). It needs neither torch nor safetensors, so a
folder that is not a checkpoint, a truncated or garbage file or a field of the wrong type is
refused in milliseconds, with an `InputError` naming the file and the (dotted) field, e.g.
`model/config.json: net.encoder.n_steps: expected an integer, got 'ten'`. Nothing is
unpickled, ever. `load_checkpoint` then builds the model (robopref.reward.checkpoint).
"""

from __future__ import annotations

import json
import math
import typing
from collections.abc import Callable
from dataclasses import dataclass, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

from robopref.errors import InputError
from robopref.json_files import read_json_object
from robopref.reward.config import EncoderConfig
from robopref.reward.language import EMBED_DIM

if TYPE_CHECKING:
    from robopref.reward.score import RewardModel

SCHEMA_VERSION = 1
"""Version of the checkpoint layout; `load` rejects any other."""
FORMAT = "robopref-reward-model"
CONFIG_FILE = "config.json"
WEIGHTS_FILE = "model.safetensors"
SPLIT_FILE = "split.json"
TASK_KEY = "task_embeddings"

MAX_WIDTH = 4096
"""Largest embed_dim, hidden_dim, step_dim, state_dim or action_dim a checkpoint may declare."""
MAX_STEPS = 4096
MAX_IMAGE_SIZE = 1024
MAX_MEMBERS = 64
MAX_HEADER_BYTES = 100_000_000
"""Largest safetensors header (the format's own limit)."""
DTYPE_BYTES = {"F64": 8, "F32": 4, "F16": 2, "BF16": 2, "I64": 8, "I32": 4, "I16": 2, "I8": 1,
               "U8": 1, "BOOL": 1}  # fmt: skip
FLOAT_DTYPES = ("F64", "F32", "F16", "BF16")
LEGACY_DEFAULTS: dict[str, Any] = {
    "motion_features": False, "with_state": False, "camera": None,
    "backbone": "efficientnet_lite0", "input_size": 0, "cameras": [], "views": 4,
    "view_shift": 4, "feature_dropout": 0.2, "finetune": False,
}  # fmt: skip
WEIGHT_FILE_FIELDS = ("resnet_weights", "backbone_weights")
"""Encoder fields naming a weights file: the state dict carries those weights, so a loaded
checkpoint never reads (or needs) the file again."""
MAX_VIEWS = 64
"""Encoder fields that checkpoints from before the option lack (and what they meant)."""

_KINDS: dict[str, tuple[Callable[[Any], bool], str]] = {
    "int": (lambda v: isinstance(v, int) and not isinstance(v, bool), "an integer"),
    "number": (
        lambda v: isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v),
        "a finite number",
    ),
    "bool": (lambda v: isinstance(v, bool), "true or false"),
    "str": (lambda v: isinstance(v, str), "a string"),
    "dict": (lambda v: isinstance(v, dict), "a JSON object"),
    "list": (lambda v: isinstance(v, list), "a list"),
}
RECORD_FIELDS = (
    ("seed", "int"), ("data", "dict"), ("data.state_dim", "int"), ("data.action_dim", "int"),
    ("data.n_pairs", "int"), ("data.n_trajectories", "int"), ("data.preferences", "str"),
    ("data.preferences_sha256", "str"), ("data.manifest_sha256", "str"),
    ("train_config", "dict"), ("train_config.loss", "dict"),
    ("train_config.loss.label_flip", "number"), ("metrics", "dict"),
    ("metrics.test_accuracy", "number?"), ("members", "list"), ("versions", "dict"),
)  # fmt: skip
"""Run-record fields (optional) that loaders, model cards and compatibility checks read."""
_RECORD_RANGES = {"data.state_dim": (1, MAX_WIDTH), "data.action_dim": (1, MAX_WIDTH),
                  "data.n_pairs": (0, 2**53), "data.n_trajectories": (0, 2**53)}  # fmt: skip


@dataclass(frozen=True)
class TensorInfo:
    """One tensor as the safetensors header declares it."""

    dtype: str
    shape: tuple[int, ...]


@dataclass(frozen=True, kw_only=True)
class CheckpointFiles:
    """A checkpoint folder whose config and weights header passed every check."""

    root: Path
    config: dict[str, Any]
    """All of config.json."""
    encoder: EncoderConfig
    step_dim: int
    language_dim: int
    camera: str | None
    cameras: tuple[str, ...]
    """Pretrained backbone: the cameras it reads, in order."""
    feature_dim: int
    """Pretrained backbone: one camera's per-frame feature width; 0 otherwise."""
    n_members: int
    tasks: tuple[str, ...]
    tensors: dict[str, TensorInfo]
    """Name → dtype and shape of every tensor in model.safetensors (TASK_KEY included)."""

    @property
    def config_file(self) -> Path:
        """The folder's config.json."""
        return self.root / CONFIG_FILE

    @property
    def weights_file(self) -> Path:
        """The folder's model.safetensors."""
        return self.root / WEIGHTS_FILE

    @property
    def record(self) -> dict[str, Any]:
        """The run record: config.json without the layout and network keys."""
        layout = {"schema_version", "format", "net", "n_members", "tasks"}
        return {k: v for k, v in self.config.items() if k not in layout}


def load_checkpoint(path: str | Path) -> RewardModel:
    """Load a checkpoint folder written by `save_checkpoint` (or `robopref train`).

    The files are checked (`read_checkpoint`) before torch is imported.

    Raises:
        InputError: Not a checkpoint folder, missing or corrupt files, a config.json field of
            the wrong type or value, an unknown schema_version, or weights that do not fit the
            recorded network (named by file and field or tensor).
    """
    files = read_checkpoint(path)
    from robopref.reward.checkpoint import build_model

    return build_model(files)


def read_checkpoint(path: str | Path) -> CheckpointFiles:
    """Read and check a checkpoint folder's config.json and weights header (see module doc).

    Raises:
        InputError: Naming the file and the field (or tensor) at fault.
    """
    root = Path(path)
    if root.exists() and not root.is_dir():
        raise InputError(root, "model", "not a folder: give a reward-model checkpoint folder")
    config = read_config(root / CONFIG_FILE)
    file = root / CONFIG_FILE
    encoder = _encoder(config.get("net"), file)
    net: dict[str, Any] = config["net"]
    step_dim, language_dim = _net_dims(net, encoder, file)
    camera = want(net.get("camera"), "str?", file=file, field="net.camera")
    cameras, feature_dim = _pretrained_dims(net, encoder, file)
    n_members = want_int(config.get("n_members"), 1, MAX_MEMBERS, file=file, field="n_members")
    tasks = _tasks(config.get("tasks"), file)
    for dotted, kind in RECORD_FIELDS:
        _record_field(config, dotted, kind, file)
    tensors = read_header(root / WEIGHTS_FILE)
    _check_task_table(tensors, tasks, language_dim, root / WEIGHTS_FILE)
    return CheckpointFiles(
        root=root, config=config, encoder=encoder, step_dim=step_dim,
        language_dim=language_dim, camera=camera, cameras=cameras, feature_dim=feature_dim,
        n_members=n_members, tasks=tasks,
        tensors=tensors,
    )  # fmt: skip


def read_config(file: Path) -> dict[str, Any]:
    """config.json as a dict with the right `format` and `schema_version`."""
    missing = "missing: not a reward-model checkpoint folder"
    config = read_json_object(file, field=CONFIG_FILE, missing=missing)
    if config.get("format") != FORMAT:
        raise InputError(
            file, "format", f"{config.get('format')!r} is not {FORMAT!r}: not a reward model"
        )
    version = config.get("schema_version")
    if not _KINDS["int"][0](version) or version != SCHEMA_VERSION:
        raise InputError(file, "schema_version", f"{version!r} is not {SCHEMA_VERSION}")
    return config


def want(value: Any, kind: str, *, file: Path, field: str) -> Any:
    """`value` if it is of `kind`, else an InputError naming `file` and `field`.

    Kinds: `int`, `number` (finite), `bool`, `str`, `dict`, `list`; a trailing `?` also
    allows null.
    """
    optional = kind.endswith("?")
    check, text = _KINDS[kind.rstrip("?")]
    if (value is None and optional) or check(value):
        return value
    shown = repr(value) if len(repr(value)) <= 60 else repr(value)[:57] + "..."
    raise InputError(file, field, f"expected {text}{' or null' if optional else ''}, got {shown}")


def want_int(value: Any, low: int, high: int, *, file: Path, field: str) -> int:
    """`value` if it is an integer in [low, high], else an InputError naming the field."""
    number: int = want(value, "int", file=file, field=field)
    if not low <= number <= high:
        raise InputError(file, field, f"{number} is outside [{low}, {high}]")
    return number


def _encoder(net: Any, file: Path) -> EncoderConfig:
    """net.encoder as an EncoderConfig, every field of the right type and in range."""
    enc = want(net, "dict", file=file, field="net")
    enc = want(enc.get("encoder"), "dict", file=file, field="net.encoder")
    hints = typing.get_type_hints(EncoderConfig)
    values: dict[str, Any] = dict(LEGACY_DEFAULTS)
    for key, value in enc.items():
        if key not in hints:
            raise InputError(file, f"net.encoder.{key}", "not a field of the encoder config")
        values[key] = want(value, _kind_of(hints[key]), file=file, field=f"net.encoder.{key}")
    for spec in fields(EncoderConfig):
        if spec.name not in values and spec.name not in WEIGHT_FILE_FIELDS:
            raise InputError(file, f"net.encoder.{spec.name}", "missing")
    for name in WEIGHT_FILE_FIELDS:
        values[name] = None  # the state dict carries any pretrained weights
    for i, camera in enumerate(values["cameras"]):
        want(camera, "str", file=file, field=f"net.encoder.cameras[{i}]")
    limits = {"n_steps": MAX_STEPS, "embed_dim": MAX_WIDTH, "hidden_dim": MAX_WIDTH,
              "image_size": MAX_IMAGE_SIZE, "input_size": MAX_IMAGE_SIZE,
              "views": MAX_VIEWS, "view_shift": MAX_IMAGE_SIZE}  # fmt: skip
    for key, high in limits.items():
        if values[key] > high:
            raise InputError(file, f"net.encoder.{key}", f"{values[key]} is above {high}")
    try:
        return EncoderConfig(**values)
    except ValueError as exc:  # the config's own checks start with the field's name
        name, _, message = str(exc).partition(": ")
        raise InputError(file, f"net.encoder.{name}", message) from exc


def _kind_of(hint: Any) -> str:
    """The JSON kind of an EncoderConfig field (enums and paths are strings in JSON)."""
    optional = type(None) in typing.get_args(hint)
    if typing.get_origin(hint) is tuple:
        return "list"
    base = next((a for a in typing.get_args(hint) if a is not type(None)), hint)
    kind = {int: "int", float: "number", bool: "bool"}.get(base, "str")
    return kind + ("?" if optional else "")


def _net_dims(net: dict[str, Any], encoder: EncoderConfig, file: Path) -> tuple[int, int]:
    """(step_dim, language_dim), each consistent with the encoder."""
    for key in net:
        if key not in {"encoder", "step_dim", "language_dim", "camera", "cameras", "feature_dim"}:
            raise InputError(file, f"net.{key}", "not a field of the network spec")
    step_dim = want_int(net.get("step_dim"), 0, MAX_WIDTH, file=file, field="net.step_dim")
    if encoder.reads_steps and step_dim < 1:
        raise InputError(file, "net.step_dim", "this encoder reads steps: must be ≥ 1")
    if not encoder.reads_steps and step_dim:
        raise InputError(file, "net.step_dim", "an image-only encoder reads no steps: must be 0")
    language_dim = want(net.get("language_dim"), "int", file=file, field="net.language_dim")
    expected = EMBED_DIM if encoder.language else 0
    if language_dim != expected:
        raise InputError(
            file,
            "net.language_dim",
            f"{language_dim} does not fit net.encoder.language={encoder.language} "
            f"(expected {expected})",
        )
    return step_dim, language_dim


def _pretrained_dims(
    net: dict[str, Any], encoder: EncoderConfig, file: Path
) -> tuple[tuple[str, ...], int]:
    """(cameras, feature_dim) of a pretrained-backbone network; ((), 0) for the others."""
    cameras = want(net.get("cameras", []), "list", file=file, field="net.cameras")
    for i, camera in enumerate(cameras):
        want(camera, "str", file=file, field=f"net.cameras[{i}]")
    feature_dim = want_int(net.get("feature_dim", 0), 0, 65536, file=file, field="net.feature_dim")
    if encoder.pretrained and (not cameras or feature_dim < 1):
        raise InputError(file, "net.cameras", "a pretrained backbone needs cameras and feature_dim")
    return tuple(cameras), feature_dim


def _tasks(value: Any, file: Path) -> tuple[str, ...]:
    tasks = want(value, "list", file=file, field="tasks")
    for task in tasks:
        want(task, "str", file=file, field="tasks")
    if len(set(tasks)) != len(tasks):
        raise InputError(file, "tasks", "lists an instruction twice")
    return tuple(tasks)


def _record_field(config: dict[str, Any], dotted: str, kind: str, file: Path) -> None:
    """Check one optional run-record field, where its parents are present."""
    value: Any = config
    for key in dotted.split("."):
        if not isinstance(value, dict) or key not in value:
            return
        value = value[key]
    want(value, kind, file=file, field=dotted)
    if dotted in _RECORD_RANGES:
        want_int(value, *_RECORD_RANGES[dotted], file=file, field=dotted)


def read_header(file: Path) -> dict[str, TensorInfo]:
    """Name → TensorInfo from a safetensors file's header, each byte range inside the file.

    Raises:
        InputError: Missing, truncated or not a safetensors file; a tensor whose dtype, shape
            or byte range is malformed (named).
    """
    try:
        size = file.stat().st_size
        with file.open("rb") as handle:
            head = handle.read(8)
            n = int.from_bytes(head, "little") if len(head) == 8 else -1
            raw = handle.read(n) if 0 < n <= min(size - 8, MAX_HEADER_BYTES) else b""
    except OSError as exc:
        raise InputError(file, WEIGHTS_FILE, f"unreadable: {exc}") from exc
    if not raw:
        raise InputError(file, WEIGHTS_FILE, f"truncated or not a safetensors file ({size} bytes)")
    try:
        header = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(file, "header", f"not a safetensors header: {exc}") from exc
    if not isinstance(header, dict):
        raise InputError(file, "header", "not a safetensors header: expected a JSON object")
    header.pop("__metadata__", None)
    return {
        str(name): _tensor_info(str(name), info, size - 8 - n, file)
        for name, info in header.items()
    }


def _tensor_info(name: str, info: Any, data_bytes: int, file: Path) -> TensorInfo:
    if not isinstance(info, dict):
        raise InputError(file, name, "malformed header entry")
    dtype, shape, offsets = info.get("dtype"), info.get("shape"), info.get("data_offsets")
    if dtype not in DTYPE_BYTES:
        raise InputError(file, name, f"unknown dtype {dtype!r}")
    ints = _KINDS["int"][0]
    if not isinstance(shape, list) or not all(ints(d) and 0 <= d < 2**40 for d in shape):
        raise InputError(file, name, f"malformed shape {shape!r}")
    if not (isinstance(offsets, list) and len(offsets) == 2 and all(map(ints, offsets))):
        raise InputError(file, name, f"malformed data_offsets {offsets!r}")
    begin, end = offsets
    if end > data_bytes:
        raise InputError(file, name, f"data ends at byte {end}, the file holds {data_bytes}: "
                         "truncated")  # fmt: skip
    if not 0 <= begin <= end or end - begin != math.prod(shape) * DTYPE_BYTES[dtype]:
        raise InputError(file, name, f"data_offsets {offsets} do not fit shape {shape} {dtype}")
    return TensorInfo(dtype=dtype, shape=tuple(shape))


def _check_task_table(
    tensors: dict[str, TensorInfo], tasks: tuple[str, ...], language_dim: int, file: Path
) -> None:
    """The instruction-embedding table has one float row of language_dim per task."""
    table = tensors.get(TASK_KEY)
    if table is None:
        if tasks:
            raise InputError(file, TASK_KEY, f"missing: config.json lists {len(tasks)} tasks")
        return
    if table.dtype not in FLOAT_DTYPES or table.shape != (len(tasks), language_dim):
        raise InputError(
            file,
            TASK_KEY,
            f"{table.dtype} {list(table.shape)} for {len(tasks)} tasks × {language_dim}",
        )


OUTPUT_KIND = "model"
"""The `robopref.outputs` kind of a checkpoint folder (`robopref train --out`)."""


def check_checkpoint_out(out: Path) -> None:
    """Refuse `out` unless it is absent, empty, or an earlier checkpoint (`robopref.outputs`)."""
    from robopref.outputs import check_output_dir

    check_output_dir(out, OUTPUT_KIND, recognise=is_checkpoint_folder)


def is_checkpoint_folder(folder: Path) -> bool:
    """True for a checkpoint folder written before output markers existed."""
    try:
        config = json.loads((folder / CONFIG_FILE).read_text())
    except (OSError, ValueError):
        return False
    return isinstance(config, dict) and config.get("format") == FORMAT
