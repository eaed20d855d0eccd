"""Clips fit to show annotators: those whose sidecar `burned_id` is their display id."""

from __future__ import annotations

from pathlib import Path

from robopref.render.display_key import clip_display_id, load_display_key
from robopref.render.parallel import CLIPS
from robopref.render.sidecar import read_burned_id


def has_burned_id(sidecar: Path, key: bytes, trajectory_id: str) -> bool:
    """Whether a clip's sidecar records its display id under `key` as the burned-in id.

    A clip rendered before display ids (its watermark showed the trajectory id) has no
    `burned_id`, and one rendered under another key has a different one: both are False.
    """
    return read_burned_id(sidecar) == clip_display_id(key, trajectory_id)


def stale_clips(pool: str | Path) -> int:
    """How many clips in `POOL/clips/` do not carry their display id (none may be served).

    Every `<id>.mp4` counts whose `<id>.json` sidecar lacks a `burned_id` equal to the
    display id under the pool's key (all of them when there is no key yet). Re-render
    them with `robopref render --force POOL`.

    Raises:
        InputError: The display key file is malformed.
    """
    clips_dir = Path(pool) / CLIPS
    if not clips_dir.is_dir():
        return 0
    videos = [p for p in clips_dir.glob("*.mp4") if not p.name.startswith(".")]
    key = load_display_key(clips_dir)
    if key is None:
        return len(videos)
    return sum(not has_burned_id(v.with_suffix(".json"), key, v.stem) for v in videos)


def stale_clips_warning(pool: str | Path, count: int) -> str:
    """The start-up warning of a server whose pool holds `count` stale clips (see above)."""
    return (
        f"warning: {count} clip(s) in {Path(pool) / CLIPS} do not carry their display id "
        f"(rendered by an older robopref) and are not served; "
        f"re-render them: robopref render --force {pool}"
    )
