"""robomimic HDF5 importer: `data/demo_N/{actions, rewards, dones, obs/*}` into Trajectories.

Mapping (docs/pool-ingest.md): low-dimensional `obs/*` concatenated in key order → state
(their order is kept in `metadata["state_keys"]`; `states` if there are none), `actions` →
action, `obs/robot0_eef_pos` → ee_pos, `obs/robot0_gripper_qpos` → gripper (finger gap
|q0 − q1| / 0.08 m, the Panda hand's full opening), `obs/<cam>_image` → camera `<cam>`.
`data.attrs["env_args"]` gives env_id (`env_name`) and fps (`env_kwargs.control_freq`).
Success: the user's key (demo attribute or per-step dataset), else a sparse reward reaching
`reward_scale` when `env_kwargs.reward_shaping` is false; `dones` are not used, since
robomimic's `done_mode` makes them mean "end of demo" in some files and success in others.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from robopref.errors import InputError
from robopref.pool.config import IngestConfig
from robopref.pool.ingest.base import (
    Importer,
    as_float_matrix,
    as_success,
    first_true,
    register,
)
from robopref.pool.ingest.effector import resolve_effector
from robopref.pool.trajectory import Trajectory

DEFAULT_FPS = 20.0
"""robosuite's default control frequency, used when env_args and IngestConfig.fps are silent."""
IMAGE_SUFFIX = "_image"


@register
class RobomimicImporter(Importer):
    """Demos of one robomimic HDF5 file."""

    format_name = "robomimic"

    def __init__(self, source: Path, config: IngestConfig) -> None:
        super().__init__(source, config)
        try:
            self._file = h5py.File(source, "r")
        except OSError as exc:
            raise InputError(source, "hdf5", f"unreadable: {exc}") from exc
        if not isinstance(self._file.get("data"), h5py.Group):
            self._file.close()
            raise InputError(source, "data", "group missing: not a robomimic file")
        self._data = self._file["data"]
        self.env_args = _json_attr(self._data.attrs, "env_args", source)
        env_kwargs = self.env_args.get("env_kwargs") or {}
        freq = env_kwargs.get("control_freq")
        self.fps = float(freq or config.fps or DEFAULT_FPS)
        self.fps_source = (
            "env_args.control_freq" if freq else ("config" if config.fps else "default 20 Hz")
        )
        self._problem = _json_attr(self._data.attrs, "problem_info", source)

    def episode_keys(self) -> list[str]:
        """Demo keys in numeric order (`demo_0`, `demo_1`, …, `demo_10`)."""
        keys = [k for k in self._data if isinstance(self._data[k], h5py.Group)]
        return sorted(
            keys, key=lambda k: [int(p) if p.isdigit() else p for p in re.split(r"(\d+)", k)]
        )

    def close(self) -> None:
        """Close the HDF5 file."""
        self._file.close()

    def read_episode(self, key: str) -> Trajectory:
        """One demo as a Trajectory."""
        demo = self._data[key]
        where = f"{self.source}:data/{key}"
        action = _dataset(demo, "actions", where)
        n = len(action)
        num_samples = demo.attrs.get("num_samples")
        if num_samples is not None and int(num_samples) != n:
            raise InputError(
                where, "num_samples", f"attribute says {int(num_samples)}, actions has {n}"
            )
        lowdim, cameras = _observations(demo, where, n)
        state_keys = sorted(lowdim) or ["states"]
        if lowdim:
            state = np.concatenate(
                [as_float_matrix(lowdim[k], where=where, field=f"obs/{k}") for k in state_keys], 1
            )
        else:
            state = as_float_matrix(
                _dataset(demo, "states", where), where=where, field="states", n=n
            )
        effector = resolve_effector(
            where=where, state=state, state_names=None, arrays=lowdim, config=self.config
        )
        success, success_step, success_source = self._success(demo, where, n)
        return Trajectory(
            trajectory_id=self.trajectory_id(key),
            task=self._task(demo, where),
            env_id=self.config.env_id or str(self.env_args.get("env_name") or self.id_prefix),
            source=self.source_label(None),
            fps=self.fps,
            state=state,
            action=as_float_matrix(action, where=where, field="actions", n=n),
            gripper=effector.gripper,
            ee_pos=effector.ee_pos,
            frames=cameras,
            success=success,
            success_step=success_step,
            metadata={
                "source_dataset": self.dataset_label,
                "source_episode": key,
                "source_format": "robomimic",
                "state_keys": ",".join(state_keys),
                "ee_pos_source": effector.ee_pos_source,
                "gripper_source": effector.gripper_source,
                "success_source": success_source,
                "fps_source": self.fps_source,
            },
        )

    def _task(self, demo: h5py.Group, where: str) -> str:
        for value in (
            self.config.task,
            demo.attrs.get("lang"),
            demo.attrs.get("language_instruction"),
            self._problem.get("language_instruction"),
            self.env_args.get("env_name"),
        ):
            text = value.decode() if isinstance(value, bytes) else value
            if isinstance(text, str) and text.strip():
                return text.strip()
        raise InputError(
            where, "task", "no instruction (demo attr lang, env_args.env_name); pass --task"
        )

    def _success(
        self, demo: h5py.Group, where: str, n: int
    ) -> tuple[bool | None, int | None, str | None]:
        key = self.config.success_key
        if key is not None:
            if key in demo.attrs:
                return as_success(demo.attrs[key], where=where, field=key), None, f"demo attr {key}"
            if isinstance(demo.get(key), h5py.Dataset):
                flags = np.asarray(demo[key][()])
                if flags.ndim and len(flags) == n:
                    step = first_true(flags)
                    return step is not None, step, f"dataset {key} (any step)"
                return as_success(flags, where=where, field=key), None, f"dataset {key}"
            raise InputError(
                where, "success_key", f"{key!r} is neither a demo attribute nor a dataset"
            )
        env_kwargs = self.env_args.get("env_kwargs") or {}
        if env_kwargs.get("reward_shaping") is False and isinstance(
            demo.get("rewards"), h5py.Dataset
        ):
            rewards = np.asarray(demo["rewards"][()], np.float64)
            step = first_true(rewards >= float(env_kwargs.get("reward_scale") or 1.0) - 1e-6)
            return step is not None, step, "sparse rewards"
        return None, None, None


def _json_attr(attrs: Any, name: str, source: Path) -> dict[str, Any]:
    raw = attrs.get(name)
    if raw is None:
        return {}
    try:
        value = json.loads(raw.decode() if isinstance(raw, bytes) else str(raw))
    except json.JSONDecodeError as exc:
        raise InputError(source, f"data.attrs[{name!r}]", f"not JSON: {exc}") from exc
    return value if isinstance(value, dict) else {}


def _dataset(group: h5py.Group, name: str, where: str) -> np.ndarray:
    item = group.get(name)
    if not isinstance(item, h5py.Dataset):
        raise InputError(where, name, "dataset missing")
    return np.asarray(item[()])


def _observations(
    demo: h5py.Group, where: str, n: int
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """(low-dimensional obs by key, camera frames by camera name) of a demo, length-checked."""
    obs = demo.get("obs")
    if obs is None:
        return {}, {}
    lowdim, cameras = {}, {}
    for key in obs:
        value = np.asarray(obs[key][()])
        if len(value) != n:
            raise InputError(where, f"obs/{key}", f"has {len(value)} steps, actions has {n}")
        if key.endswith(IMAGE_SUFFIX):
            if value.dtype != np.uint8 or value.ndim != 4 or value.shape[-1] != 3:
                raise InputError(
                    where,
                    f"obs/{key}",
                    f"expected (T, H, W, 3) uint8, got {value.shape} {value.dtype}",
                )
            cameras[key[: -len(IMAGE_SUFFIX)]] = value
        elif value.ndim <= 2 and value.dtype.kind in "biuf":
            lowdim[key] = value
    return lowdim, cameras
