"""Review clips: one standard H.264 clip per trajectory, with overlays, trimming and a sidecar."""

from robopref.render.clip import ClipResult, ClipStatus, render_clip
from robopref.render.compose import compose_frames, letterbox
from robopref.render.config import RenderConfig
from robopref.render.parallel import CLIPS, RenderJob, RenderReport, render_pool
from robopref.render.trim import ClipPlan, first_action_step, plan_clip

__all__ = [
    "CLIPS",
    "ClipPlan",
    "ClipResult",
    "ClipStatus",
    "RenderConfig",
    "RenderJob",
    "RenderReport",
    "compose_frames",
    "first_action_step",
    "letterbox",
    "plan_clip",
    "render_clip",
    "render_pool",
]
