"""The JSON sidecar of a clip: what was rendered from what, and the hash that proves it."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

import av
import numpy as np

from robopref import __version__
from robopref.pool.config import MetricsConfig
from robopref.pool.layout import LazyFrames
from robopref.pool.trajectory import Trajectory
from robopref.render.config import RenderConfig
from robopref.render.trim import ClipPlan

SIDECAR_VERSION = 1
"""Schema version of the sidecar JSON."""
RENDER_FORMAT = 2
"""Bumped whenever the renderer's output changes for the same inputs and settings.

2: the watermark shows the clip's display id (`burned_id`), never the trajectory id.
"""
_CHUNK = 1 << 20


def input_digest(traj: Trajectory, camera: str) -> str:
    """SHA-256 of everything a clip is drawn from.

    That is the camera's frames (the stored video's bytes for a pool trajectory, else the
    array), timestamps, actions, end-effector path, gripper and force series, success step
    and id.
    """
    digest = hashlib.sha256()
    header = {"id": traj.trajectory_id, "camera": camera, "success_step": traj.success_step}
    digest.update(json.dumps(header, sort_keys=True).encode())
    for name in ("times_s", "action", "ee_pos", "gripper", "force"):
        value = getattr(traj, name)
        digest.update(name.encode())
        if value is not None:
            digest.update(np.ascontiguousarray(value).tobytes())
    frames = traj.frames
    if isinstance(frames, LazyFrames) and camera in traj.cameras:
        with open(frames.path(camera), "rb") as handle:
            while chunk := handle.read(_CHUNK):
                digest.update(chunk)
    elif camera in traj.cameras:
        digest.update(np.ascontiguousarray(frames[camera]).tobytes())
    return digest.hexdigest()


def clip_hash(
    *, inputs: str, camera: str, config: RenderConfig, metrics: MetricsConfig, burned_id: str
) -> str:
    """SHA-256 of inputs plus every setting that changes the clip's bytes (watermark too)."""
    payload = {
        "render_format": RENDER_FORMAT,
        "inputs": inputs,
        "camera": camera,
        "burned_id": burned_id,
        "settings": config.clip_settings(),
        "gripper_hysteresis": [metrics.gripper_closed_below, metrics.gripper_open_above],
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


def build_sidecar(
    traj: Trajectory,
    plan: ClipPlan,
    *,
    camera: str,
    config: RenderConfig,
    metrics: MetricsConfig,
    digest: str,
    burned_id: str,
) -> dict[str, Any]:
    """The sidecar record of a clip (see docs/render.md).

    `burned_id` is the display id the clip's watermark shows: the only id drawn on it.
    """
    tid = traj.trajectory_id
    return {
        "schema_version": SIDECAR_VERSION,
        "trajectory_id": tid,
        "burned_id": burned_id,
        "clip": f"{tid}.mp4",
        "poster": f"{tid}.jpg",
        "camera": camera,
        "source": {
            "n_steps": traj.n_steps,
            "fps": traj.fps,
            "first_step": int(plan.source_index[0]),
            "last_step": plan.last_step,
            "start_s": plan.start_s,
            "end_s": plan.end_s,
        },
        "trim": _trim_record(plan, config),
        "fps": config.fps,
        "width": config.width,
        "height": config.height,
        "n_frames": plan.n_frames,
        "n_motion_frames": plan.n_motion,
        "n_freeze_frames": plan.n_freeze,
        "duration_s": plan.n_frames / config.fps,
        "poster_frame": plan.poster_index,
        "video": _video_record(config),
        "settings": config.clip_settings(),
        "gripper_hysteresis": {
            "closed_below": metrics.gripper_closed_below,
            "open_above": metrics.gripper_open_above,
        },
        "robopref_version": __version__,
        "pyav_version": av.__version__,
        "input_digest": digest,
        "hash": clip_hash(
            inputs=digest, camera=camera, config=config, metrics=metrics, burned_id=burned_id
        ),
    }


def _video_record(config: RenderConfig) -> dict[str, Any]:
    return {
        "codec": config.codec,
        "crf": config.crf,
        "preset": config.preset,
        "pix_fmt": config.pix_fmt,
        "faststart": config.faststart,
        "encoder_threads": config.encoder_threads,
    }


def _trim_record(plan: ClipPlan, config: RenderConfig) -> dict[str, Any]:
    return {
        "first_action_step": plan.first_action_step,
        "success_step": plan.success_step,
        "end_reason": plan.end_reason,
        "lead_in_s": config.lead_in_s,
        "tail_s": config.tail_s,
        "freeze_s": config.freeze_s,
    }


def read_sidecar_hash(path: Path) -> str | None:
    """The `hash` of an existing sidecar, or None when it is missing or unreadable."""
    return _read_text_field(path, "hash")


def read_burned_id(path: Path) -> str | None:
    """The `burned_id` of an existing sidecar, or None when missing, unreadable or absent."""
    return _read_text_field(path, "burned_id")


def _read_text_field(path: Path, key: str) -> str | None:
    try:
        data = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None
    value = data.get(key) if isinstance(data, dict) else None
    return value if isinstance(value, str) else None


def write_json_atomic(path: Path, data: dict[str, Any], *, tmp: Path) -> None:
    """Write `data` to `tmp`, then rename it onto `path`."""
    tmp.write_text(json.dumps(data, indent=1, sort_keys=True))
    os.replace(tmp, path)
