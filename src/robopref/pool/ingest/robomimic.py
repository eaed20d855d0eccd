"""robomimic HDF5 importer: `data/demo_N/{actions, rewards, dones, obs/*}` into Trajectories.

Mapping (docs/pool-ingest.md): low-dimensional `obs/*` concatenated in key order → state
(their order is kept in `metadata["state_keys"]`; `states` if there are none), `actions` →
action, `obs/robot0_eef_pos` → ee_pos, `obs/robot0_gripper_qpos` → gripper (finger gap
|q0 − q1| / 0.08 m, the Panda hand's full opening), `obs/<cam>_image` → camera `<cam>`.
`data.attrs["env_args"]` gives env_id (`env_name`) and fps (`env_kwargs.control_freq`).
Success: the user's key (demo attribute or per-step dataset), else a sparse reward reaching
`reward_scale` when `env_kwargs.reward_shaping` is false; `dones` are not used, since
robomimic's `done_mode` makes them mean "end of demo" in some files and success in others.
Every group, dataset and attribute is read through `hdf5_fields` (scalars, groups where a
dataset belongs, text that is not UTF-8, external links: refused); camera names are mapped
to safe names, the obs keys kept in `metadata["source_cameras"]`.
"""

from __future__ import annotations

import re
from pathlib import Path

import h5py
import numpy as np

from robopref.errors import InputError
from robopref.json_files import as_object
from robopref.pool.config import IngestConfig
from robopref.pool.ingest.arrays import (
    as_float_matrix,
    as_float_vector,
    as_frames,
    as_success,
    first_true,
    require_steps,
)
from robopref.pool.ingest.base import Importer, add_camera, cameras_metadata, register
from robopref.pool.ingest.effector import resolve_effector
from robopref.pool.ingest.fields import read_flag, read_fps, read_int, read_number, read_text
from robopref.pool.ingest.hdf5_fields import (
    H5_ERRORS,
    member,
    names,
    read_attr,
    read_dataset,
    read_group,
    read_json_attr,
)
from robopref.pool.trajectory import Trajectory
from robopref.safe_paths import NameMap

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
        except H5_ERRORS as exc:
            raise InputError(source, "hdf5", f"unreadable: {exc}") from exc
        try:
            self._data = read_group(self._file, "data", where=str(source), field="data")
            self._read_env_args()
        except InputError:
            self._file.close()
            raise

    def _read_env_args(self) -> None:
        """env_name, fps, reward settings and problem_info from the `data` attributes."""
        where = f"{self.source}:data"
        env_args = read_json_attr(self._data, "env_args", where=where)
        field = "attrs['env_args']"
        self.env_name = read_text(env_args.get("env_name"), path=where, field=f"{field}.env_name")
        kwargs = as_object(env_args.get("env_kwargs"), path=where, field=f"{field}.env_kwargs")
        freq = kwargs.get("control_freq")
        if freq is not None:
            freq = read_fps(freq, path=where, field=f"{field}.env_kwargs.control_freq")
        self.fps = float(freq or self.config.fps or DEFAULT_FPS)
        self.fps_source = (
            "env_args.control_freq" if freq else ("config" if self.config.fps else "default 20 Hz")
        )
        shaping = kwargs.get("reward_shaping")
        if shaping is not None and not isinstance(shaping, bool):
            raise InputError(where, f"{field}.env_kwargs.reward_shaping", "must be true or false")
        self.sparse_rewards = shaping is False
        scale = kwargs.get("reward_scale")
        self.reward_scale = (
            1.0
            if scale is None
            else read_number(scale, path=where, field=f"{field}.env_kwargs.reward_scale", above=0)
        )
        problem = read_json_attr(self._data, "problem_info", where=where)
        self.instruction = read_text(
            problem.get("language_instruction"),
            path=where,
            field="attrs['problem_info'].language_instruction",
        )

    def episode_keys(self) -> list[str]:
        """Demo keys in numeric order (`demo_0`, `demo_1`, …, `demo_10`).

        Members of `data` that are groups are demos; one that cannot be opened (a broken or
        external link, a corrupt object) is listed too, and reported when it is read.
        """
        where = f"{self.source}:data"
        keys = []
        for key in names(self._data, where=where, field="data"):
            try:
                item = member(self._data, key, where=where, field=key)
            except InputError:
                keys.append(key)
                continue
            if isinstance(item, h5py.Group):
                keys.append(key)
        return sorted(
            keys, key=lambda k: [int(p) if p.isdigit() else p for p in re.split(r"(\d+)", k)]
        )

    def close(self) -> None:
        """Close the HDF5 file."""
        self._file.close()

    def read_episode(self, key: str) -> Trajectory:
        """One demo as a Trajectory."""
        where = f"{self.source}:data/{key}"
        read_text(key, path=f"{self.source}:data", field="demo key")
        demo = read_group(self._data, key, where=f"{self.source}:data", field=key)
        action = as_float_matrix(
            read_dataset(demo, "actions", where=where, field="actions"),
            where=where,
            field="actions",
        )
        n = require_steps(len(action), where=where, field="actions")
        num_samples = read_attr(demo, "num_samples", where=where)
        if num_samples is not None:
            recorded = read_int(num_samples, path=where, field="num_samples")
            if recorded != n:
                raise InputError(
                    where, "num_samples", f"attribute says {recorded}, actions has {n}"
                )
        lowdim, cameras, sources = _observations(demo, where, n)
        state_keys = sorted(lowdim) or ["states"]
        if lowdim:
            state = np.concatenate(
                [as_float_matrix(lowdim[k], where=where, field=f"obs/{k}") for k in state_keys], 1
            )
        else:
            states = read_dataset(demo, "states", where=where, field="states")
            state = as_float_matrix(states, where=where, field="states", n=n)
        effector = resolve_effector(
            where=where, state=state, state_names=None, arrays=lowdim, config=self.config
        )
        success, success_step, success_source = self._success(demo, where, n)
        return self.trajectory(
            where,
            trajectory_id=self.trajectory_id(key),
            task=self._task(demo, where),
            env_id=self.config.env_id or self.env_name or self.id_prefix,
            source=self.source_label(None),
            fps=self.fps,
            state=state,
            action=action,
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
                **cameras_metadata(sources),
            },
        )

    def _task(self, demo: h5py.Group, where: str) -> str:
        if self.config.task:
            return self.config.task
        for name in ("lang", "language_instruction"):
            text = read_text(
                read_attr(demo, name, where=where), path=where, field=f"attrs[{name!r}]"
            )
            if text is not None and text.strip():
                return text.strip()
        for text in (self.instruction, self.env_name):
            if text is not None and text.strip():
                return text.strip()
        raise InputError(
            where, "task", "no instruction (demo attr lang, env_args.env_name); pass --task"
        )

    def _success(
        self, demo: h5py.Group, where: str, n: int
    ) -> tuple[bool | None, int | None, str | None]:
        key = self.config.success_key
        if key is not None:
            attr = read_attr(demo, key, where=where)
            if attr is not None:
                return read_flag(attr, path=where, field=key), None, f"demo attr {key}"
            if isinstance(member(demo, key, where=where, field=key), h5py.Dataset):
                flags = read_dataset(demo, key, where=where, field=key)
                success, step = as_success(flags, where=where, field=key, n=n)
                return success, step, f"dataset {key}" + (" (any step)" if flags.size != 1 else "")
            raise InputError(
                where, "success_key", f"{key!r} is neither a demo attribute nor a dataset"
            )
        if self.sparse_rewards and isinstance(
            member(demo, "rewards", where=where, field="rewards"), h5py.Dataset
        ):
            rewards = read_dataset(demo, "rewards", where=where, field="rewards")
            values = as_float_vector(rewards, where=where, field="rewards", n=n)
            step = first_true(values >= self.reward_scale - 1e-6)
            return step is not None, step, "sparse rewards"
        return None, None, None


def _observations(
    demo: h5py.Group, where: str, n: int
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray], dict[str, str]]:
    """(low-dimensional obs by key, frames by camera, obs key → camera) of a demo.

    Raises:
        InputError: `obs` is not a group, an obs is a group, a scalar, not numeric, of
            another length, an image of the wrong shape, or two cameras map to one name.
    """
    obs = member(demo, "obs", where=where, field="obs")
    if obs is None:
        return {}, {}, {}
    if not isinstance(obs, h5py.Group):
        raise InputError(where, "obs", "must be a group of observation datasets")
    cameras = NameMap(where, "obs")
    lowdim, frames, sources = {}, {}, {}
    for key in names(obs, where=where, field="obs"):
        field = f"obs/{key}"
        value = read_dataset(obs, key, where=where, field=field)
        if len(value) != n:
            raise InputError(where, field, f"has {len(value)} steps, actions has {n}")
        if key.endswith(IMAGE_SUFFIX):
            camera = add_camera(cameras, key[: -len(IMAGE_SUFFIX)])
            frames[camera] = as_frames(value, where=where, field=field, n=n)
            sources[field] = camera
        elif value.ndim <= 2:
            lowdim[key] = value
    return lowdim, frames, sources
