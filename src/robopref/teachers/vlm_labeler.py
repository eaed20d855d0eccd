"""The vision-language AI labeler in PrefVLM's form (seed 003): frozen open_clip, small adapters.

A trajectory's score is R = Σ_t cos(G_I(e_t), G_L(ℓ)) over its frames, with e_t the frozen
image embedding of frame t (from the embedding cache, `robopref.vision`), ℓ the instruction's
text embedding and G_I, G_L PrefVLM's adapters (`vlm_adapter`); P(A ≻ B) = σ((R_A − R_B) / τ)
(1 / τ learnt from human labels when there are any).
The labeler answers A, B or equal with that probability as `p_a`, a confidence that grows
with |p − 0.5|, and abstains when |p − 0.5| is below a margin. It reads frames and actions
only: never rewards, tiers, sources, quality scores or `true_return`.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np
import torch

from robopref.errors import InputError
from robopref.scoring import Identified, bradley_terry, prefer_from_scores
from robopref.teachers.labeler import (
    Answer,
    PairView,
    Provenance,
    confidence_from_p,
    is_ai_label,
)
from robopref.teachers.vlm_adapter import (
    VLMAdapter,
    segment_return,
)
from robopref.teachers.vlm_config import VLMConfig
from robopref.types import Choice

if TYPE_CHECKING:
    import pandas as pd

    from robopref.vision.backbones import Backbone

__all__ = [
    "VLM_VERSION",
    "ClipEncoders",
    "HumanLabel",
    "VLMConfig",
    "VLMLabeler",
    "VLMScorer",
    "human_labels",
    "load_clip",
]

VLM_VERSION = "1"
"""Version of the labeler's scoring rule (part of its `interface_version`)."""


@dataclass(frozen=True)
class ClipEncoders:
    """An open_clip model's frozen towers: images through the registry's `Backbone`, and text.

    Attributes:
        image: The image tower as a `Backbone` (`open_clip:<arch>`), so its features share the
            embedding cache with `robopref pool embed --encoder open_clip:<arch>`.
        model: The whole open_clip model (eval mode, frozen).
        tokenizer: Its tokenizer.
    """

    image: Backbone
    model: Any
    tokenizer: Any

    @property
    def digest(self) -> str:
        """sha256 hex of the weights file."""
        return self.image.weights_digest.removeprefix("sha256:")

    def embed_text(self, text: str) -> torch.Tensor:
        """(F,) float32 embedding of one instruction."""
        with torch.inference_mode():
            out: torch.Tensor = self.model.encode_text(self.tokenizer([text]))
        return out[0].float().clone()


def load_clip(arch: str, weights: Path) -> ClipEncoders:
    """open_clip `arch` with the weights in `weights`, through `robopref.vision`'s loader.

    Raises:
        InputError: An unknown architecture (`--encoder`), or a weights file that is missing,
            unreadable or does not fit (naming the file, field `weights`).
    """
    from robopref.vision.backbones import OPEN_CLIP_PREFIX, Backbone, backbone_spec, load_open_clip
    from robopref.vision.weights import file_digest

    model, tokenizer = load_open_clip(arch, Path(weights))
    spec = backbone_spec(f"{OPEN_CLIP_PREFIX}{arch.removeprefix(OPEN_CLIP_PREFIX)}")
    image = Backbone(
        spec, model.visual, input_size=spec.input_size,
        weights_digest=file_digest(Path(weights)), weights_source=Path(weights).name,
    )  # fmt: skip
    return ClipEncoders(image=image, model=model, tokenizer=tokenizer)


class HumanLabel(NamedTuple):
    """A pair people labelled: target P(A ≻ B) (1 A, 0 B, 0.5 equal; a mean over people)."""

    trajectory_a_id: str
    trajectory_b_id: str
    p_a: float


_TARGET = {"A": 1.0, "B": 0.0, "equal": 0.5}


def human_labels(annotations: pd.DataFrame) -> list[HumanLabel]:
    """The mean human answer per (A, B) pair of raw annotations; AI labels are left out."""
    if annotations.empty:
        return []
    human = annotations[~annotations["interface_version"].map(is_ai_label)]
    p_a = human["preference"].map(_TARGET).astype("float64")
    human = human.assign(p_a=p_a).dropna(subset=["p_a"])
    means = human.groupby(["trajectory_a_id", "trajectory_b_id"], sort=True)["p_a"].mean()
    flat = means.reset_index()
    columns = (flat["trajectory_a_id"], flat["trajectory_b_id"], flat["p_a"].to_numpy(float))
    return [HumanLabel(str(a), str(b), float(p)) for a, b, p in zip(*columns, strict=True)]


class VLMScorer:
    """Trajectory scores R = Σ_t cos(G_I(e_t), G_L(instruction)); a `Scorer`.

    The last frame is held to the horizon (`segment_return`), as `true_return` does.

    Args:
        adapter: The adapters (eval mode).
        frames: Trajectory id → (T, F) float32 frozen image embeddings.
        tasks: Trajectory id → its instruction.
        embed_text: Instruction → (F,) frozen text embedding.
        holds: Trajectory id → steps its last frame is held to reach the horizon (none: 0).
    """

    def __init__(
        self,
        adapter: VLMAdapter,
        frames: Mapping[str, torch.Tensor],
        tasks: Mapping[str, str],
        embed_text: Callable[[str], torch.Tensor],
        holds: Mapping[str, int] | None = None,
    ) -> None:
        self.adapter, self.frames, self.tasks = adapter.eval(), dict(frames), dict(tasks)
        self.holds = dict(holds or {})
        self.temperature = 1.0 / adapter.scale
        self._embed_text = embed_text
        self._texts: dict[str, torch.Tensor] = {}
        self._scores: dict[tuple[str, str], float] = {}

    def text(self, task: str) -> torch.Tensor:
        """(F,) frozen embedding of `task`, computed once."""
        if task not in self._texts:
            self._texts[task] = self._embed_text(task)
        return self._texts[task]

    def trajectory_score(self, trajectory_id: str, task: str | None = None) -> float:
        """R of one trajectory against `task` (its own instruction when None)."""
        task = self.tasks[trajectory_id] if task is None else task
        key = (trajectory_id, task)
        if key not in self._scores:
            with torch.no_grad():
                rewards = self.adapter.frame_rewards(self.frames[trajectory_id], self.text(task))
            hold = self.holds.get(trajectory_id, 0)
            self._scores[key] = float(segment_return(rewards, hold))
        return self._scores[key]

    def score(self, trajectories: Sequence[Identified]) -> np.ndarray:
        """(N,) R / τ of each trajectory against its own instruction (Bradley–Terry units).

        Raises:
            InputError: A trajectory this scorer has no frames of.
        """
        ids = [t.trajectory_id for t in trajectories]
        _check_known(self.frames, ids)
        scores = [self.trajectory_score(i) / self.temperature for i in ids]
        return np.array(scores, np.float64)

    def prefer(self, a: Sequence[Identified], b: Sequence[Identified]) -> np.ndarray:
        """(N,) σ((R(a[i]) − R(b[i])) / τ): the `p_a` the labeler answers with."""
        return prefer_from_scores(self, a, b)

    def p_a(self, a: str, b: str, task: str | None = None) -> float:
        """P(a ≻ b) = σ((R_a − R_b) / temperature), both judged against `task`."""
        diff = (self.trajectory_score(a, task) - self.trajectory_score(b, task)) / self.temperature
        return float(bradley_terry(np.array([diff]), np.zeros(1))[0])


def _check_known(frames: Collection[str], ids: Collection[str]) -> None:
    missing = sorted(set(ids) - set(frames))
    if missing:
        raise InputError("vlm labeler", "trajectory_id", f"no frames embedded for {missing[:5]}")


@dataclass(frozen=True, kw_only=True)
class VLMLabeler:
    """The vision-language labeler behind the `Labeler` protocol."""

    annotator_id: str
    scorer: VLMScorer
    provenance: Provenance
    config: VLMConfig = field(default_factory=VLMConfig)

    def check_trajectories(self, trajectory_ids: Collection[str]) -> None:
        """Refuse trajectories whose frames were not embedded (not in the pool, no camera).

        Raises:
            InputError: Field `trajectory_id`, naming up to five of them.
        """
        _check_known(self.scorer.frames, trajectory_ids)

    def label(self, pair: PairView, *, seed: int) -> Answer | None:
        """A, B or equal from P(A ≻ B); None when |p − 0.5| < `abstain_margin` (no randomness)."""
        started = time.perf_counter()
        p = self.scorer.p_a(pair.trajectory_a_id, pair.trajectory_b_id, pair.task or None)
        margin = abs(p - 0.5)
        if margin < self.config.abstain_margin:
            return None
        if margin < self.config.tie_margin:
            choice = Choice.EQUAL
        else:
            choice = Choice.A if p > 0.5 else Choice.B
        elapsed_ms = max(1, math.ceil(1000 * (time.perf_counter() - started)))
        return Answer(choice, confidence_from_p(p), elapsed_ms, p_a=p)
