"""`robopref pairs --active MODEL`: load the model, check it fits the pool, draw an active batch."""

from __future__ import annotations

from pathlib import Path

from robopref.errors import InputError
from robopref.pairs.config import ActiveConfig, PairsConfig
from robopref.pairs.records import PairBatch


def draw_active(
    pool_path: Path,
    model_path: Path,
    *,
    pairs_config: PairsConfig,
    config: ActiveConfig,
    annotator_ids: list[str],
    labelled: Path | None,
    batch_id: str | None,
    db: str | None = None,
) -> PairBatch:
    """One active batch from the pool folder, scored by the checkpoint at `model_path`.

    Pairs in the `labelled` file and, given `db`, every pair already in that store are not
    drawn again. Member scores are cached in POOL/.cache/active/<model digest>.npz, so drawing
    again with the same model scores nothing; the model scores on CUDA when there is one.

    Raises:
        InputError: The pool is not a folder, the model cannot be loaded or does not fit
            the pool, or the labelled file is malformed (each naming the file and field).
    """
    import torch

    from robopref.pairs import ScoreCache, read_labelled_pairs, select_active
    from robopref.pairs.scores import files_digest
    from robopref.pool import open as open_pool
    from robopref.reward import load
    from robopref.reward.checkpoint_format import CONFIG_FILE, WEIGHTS_FILE

    if not pool_path.is_dir():
        raise InputError(pool_path, "POOL", "--active scores trajectories: give the pool folder")
    pool = open_pool(pool_path)
    exclude = read_labelled_pairs(labelled) if labelled is not None else []
    if db is not None:
        exclude += stored_pairs(db)
    model = load(model_path)
    model.check_pool(pool)
    if torch.cuda.is_available():
        model.to("cuda")
    digest = files_digest([model_path / CONFIG_FILE, model_path / WEIGHTS_FILE])
    cache = ScoreCache(digest, pool.root / ".cache" / "active")
    return select_active(
        pool, model, annotator_ids=annotator_ids, pairs_config=pairs_config, config=config,
        labelled=exclude, cache=cache, batch_id=batch_id,
    )  # fmt: skip


def stored_pairs(db: str) -> list[tuple[str, str]]:
    """(A, B) of every pair already in the store at `db` (labelled or still queued)."""
    from robopref.store import open_store, pairs_frame

    store = open_store(db)
    try:
        frame = pairs_frame(store)
    finally:
        store.dispose()
    return list(zip(frame["trajectory_a_id"], frame["trajectory_b_id"], strict=True))
