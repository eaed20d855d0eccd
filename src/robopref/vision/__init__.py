"""Pretrained image backbones (timm, open_clip; local weights only) and the embedding cache.

Names are imported on first use, so importing the package loads neither torch nor timm.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from robopref.lazy_exports import lazy_getattr

if TYPE_CHECKING:
    from robopref.vision.backbones import (
        BACKBONES,
        RECOMMENDED_BACKBONE,
        Backbone,
        BackboneSpec,
        backbone_spec,
        load_backbone,
        load_open_clip,
    )
    from robopref.vision.cache import EmbeddingCache, EmbeddingKey, default_root
    from robopref.vision.embed import BackboneRef, EmbedReport, embed_pool, trajectory_features
    from robopref.vision.weights import file_digest, read_checkpoint

_WHERE = {
    **{
        name: ("backbones", name)
        for name in (
            "BACKBONES",
            "RECOMMENDED_BACKBONE",
            "Backbone",
            "BackboneSpec",
            "backbone_spec",
            "load_backbone",
            "load_open_clip",
        )
    },
    **{name: ("cache", name) for name in ("EmbeddingCache", "EmbeddingKey", "default_root")},
    **{
        name: ("embed", name)
        for name in ("BackboneRef", "EmbedReport", "embed_pool", "trajectory_features")
    },
    **{name: ("weights", name) for name in ("file_digest", "read_checkpoint")},
}

__all__ = [
    "BACKBONES",
    "RECOMMENDED_BACKBONE",
    "Backbone",
    "BackboneRef",
    "BackboneSpec",
    "EmbedReport",
    "EmbeddingCache",
    "EmbeddingKey",
    "backbone_spec",
    "default_root",
    "embed_pool",
    "file_digest",
    "load_backbone",
    "load_open_clip",
    "read_checkpoint",
    "trajectory_features",
]

__getattr__ = lazy_getattr(__name__, _WHERE)
