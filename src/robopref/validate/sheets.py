"""Contact sheets of the highest and lowest scored trajectories, as PNG.

Part 3 of seed 004's protocol: a few frames per trajectory in a grid, with its reward and
ground-truth metrics.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image, ImageDraw, ImageFont

from robopref.atomic import write_atomic
from robopref.progress import ProgressCallback, no_progress
from robopref.validate.probes import FrameLoader

SHEET_COLUMNS = ("source", "success", "quality_score", "quartile", "n_steps", "task")
"""Manifest columns printed beside each trajectory."""
LABEL_WIDTH_PX = 300
HEADER_PX = 28
BACKGROUND = (255, 255, 255)
INK = (20, 20, 20)


@dataclass(frozen=True, kw_only=True)
class SheetEntry:
    """One trajectory on a contact sheet."""

    rank: int
    """1 = highest reward on the top sheet, 1 = lowest reward on the bottom sheet."""
    trajectory_id: str
    """Trajectory id."""
    reward: float
    """Its reward."""
    metrics: dict[str, str | float | int | bool | None]
    """Its `SHEET_COLUMNS` from the manifest."""


def _plain(value: object) -> str | float | int | bool | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, np.generic):
        return value.item()  # type: ignore[no-any-return]
    return value if isinstance(value, str | float | int | bool) else str(value)


def extremes(
    reward: np.ndarray, manifest: pd.DataFrame, *, count: int
) -> tuple[list[SheetEntry], list[SheetEntry]]:
    """The `count` highest and `count` lowest scored trajectories, most extreme first."""
    order = np.argsort(-np.asarray(reward, dtype=np.float64), kind="stable")
    columns = [c for c in SHEET_COLUMNS if c in manifest.columns]

    def entries(rows: np.ndarray) -> list[SheetEntry]:
        return [
            SheetEntry(
                rank=rank,
                trajectory_id=str(manifest["trajectory_id"].iloc[row]),
                reward=float(reward[row]),
                metrics={c: _plain(manifest[c].iloc[row]) for c in columns},
            )
            for rank, row in enumerate(rows, start=1)
        ]

    n = min(count, len(order))
    return entries(order[:n]), entries(order[::-1][:n])


def _thumbnails(frames: np.ndarray | None, n_frames: int, size: int) -> list[Image.Image]:
    if frames is None or len(frames) == 0:
        return [Image.new("RGB", (size, size), (200, 200, 200)) for _ in range(n_frames)]
    picks = np.rint(np.linspace(0, len(frames) - 1, n_frames)).astype(np.int64)
    return [
        Image.fromarray(np.ascontiguousarray(frames[i])).resize(
            (size, size), Image.Resampling.BILINEAR
        )
        for i in picks
    ]


def _label(entry: SheetEntry) -> str:
    lines = [f"#{entry.rank}  {entry.trajectory_id}", f"reward {entry.reward:+.4f}"]
    for key, value in entry.metrics.items():
        text = f"{value:.3f}" if isinstance(value, float) else str(value)
        lines.append(f"{key}: {text[:34]}")
    return "\n".join(lines)


def write_contact_sheet(
    path: Path,
    entries: Sequence[SheetEntry],
    *,
    frames: FrameLoader,
    title: str,
    n_frames: int,
    thumb_px: int,
    progress: ProgressCallback = no_progress,
) -> Path:
    """Write one PNG: a row per entry, its metrics on the left and `n_frames` frames.

    Args:
        path: PNG to write (atomically).
        entries: Trajectories, top row first.
        frames: Loads a trajectory's frames of the sheet camera.
        title: Heading drawn at the top.
        n_frames: Frames per row, evenly spaced from first to last.
        thumb_px: Thumbnail side in pixels.
        progress: Called after each row.
    """
    font = ImageFont.load_default()
    row_px = max(thumb_px, 12 * (2 + len(SHEET_COLUMNS))) + 6
    width = LABEL_WIDTH_PX + n_frames * (thumb_px + 4)
    sheet = Image.new("RGB", (width, HEADER_PX + row_px * max(1, len(entries))), BACKGROUND)
    draw = ImageDraw.Draw(sheet)
    draw.text((6, 8), title, fill=INK, font=font)
    for i, entry in enumerate(entries):
        top = HEADER_PX + i * row_px
        draw.multiline_text((6, top + 2), _label(entry), fill=INK, font=font, spacing=2)
        for j, thumb in enumerate(_thumbnails(frames(entry.trajectory_id), n_frames, thumb_px)):
            sheet.paste(thumb, (LABEL_WIDTH_PX + j * (thumb_px + 4), top + 3))
        draw.line([(0, top + row_px - 1), (width, top + row_px - 1)], fill=(210, 210, 210))
        progress(i + 1, len(entries))
    return write_atomic(path, lambda tmp: sheet.save(tmp, format="PNG"))
