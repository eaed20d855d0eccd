"""Review clips: one standard H.264 clip per trajectory, with overlays, trimming and a sidecar."""

from __future__ import annotations

from typing import TYPE_CHECKING

from robopref.lazy_exports import lazy_getattr

if TYPE_CHECKING:
    from robopref.render.burned import has_burned_id, stale_clips, stale_clips_warning
    from robopref.render.clip import ClipResult, ClipStatus, render_clip
    from robopref.render.compose import compose_frames, letterbox
    from robopref.render.config import RenderConfig
    from robopref.render.display_key import clip_display_id, ensure_display_key, load_display_key
    from robopref.render.parallel import CLIPS, RenderJob, RenderReport, render_pool
    from robopref.render.trim import ClipPlan, first_action_step, plan_clip

_WHERE = {
    "has_burned_id": ("burned", "has_burned_id"),
    "stale_clips": ("burned", "stale_clips"),
    "stale_clips_warning": ("burned", "stale_clips_warning"),
    "ClipResult": ("clip", "ClipResult"),
    "ClipStatus": ("clip", "ClipStatus"),
    "render_clip": ("clip", "render_clip"),
    "compose_frames": ("compose", "compose_frames"),
    "letterbox": ("compose", "letterbox"),
    "RenderConfig": ("config", "RenderConfig"),
    "clip_display_id": ("display_key", "clip_display_id"),
    "ensure_display_key": ("display_key", "ensure_display_key"),
    "load_display_key": ("display_key", "load_display_key"),
    "CLIPS": ("parallel", "CLIPS"),
    "RenderJob": ("parallel", "RenderJob"),
    "RenderReport": ("parallel", "RenderReport"),
    "render_pool": ("parallel", "render_pool"),
    "ClipPlan": ("trim", "ClipPlan"),
    "first_action_step": ("trim", "first_action_step"),
    "plan_clip": ("trim", "plan_clip"),
}

__all__ = [
    "CLIPS",
    "ClipPlan",
    "ClipResult",
    "ClipStatus",
    "RenderConfig",
    "RenderJob",
    "RenderReport",
    "clip_display_id",
    "compose_frames",
    "ensure_display_key",
    "first_action_step",
    "has_burned_id",
    "letterbox",
    "load_display_key",
    "plan_clip",
    "render_clip",
    "render_pool",
    "stale_clips",
    "stale_clips_warning",
]

__getattr__ = lazy_getattr(__name__, _WHERE)
