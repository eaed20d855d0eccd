"""`run_validation`: validation from files (what `robopref validate` calls).

Held-out pairs are either given as a file, or are the test split the model was trained
with: the pairs of a preferences file whose ids are in `MODEL/split.json` `test`.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from robopref.errors import InputError
from robopref.pool.pool import Pool, open_pool
from robopref.pool.trajectory import Trajectory
from robopref.progress import ProgressCallback, no_progress
from robopref.scoring import Scorer
from robopref.validate.config import ValidateConfig
from robopref.validate.inputs import load_pairs, load_rewards
from robopref.validate.report import ValidationReport, check_validation_out, validate


def held_out_pairs(preferences: Path, model: Path, pool: Pool) -> pd.DataFrame:
    """The rows of `preferences` in the test split saved with the model checkpoint.

    Raises:
        InputError: No readable split.json, or test ids missing from the preferences file.
    """
    from robopref.reward import load_splits

    splits = load_splits(model)
    pairs = load_pairs(preferences, pool)
    missing = sorted(set(splits.test) - set(pairs["pair_id"].astype(str)))
    if missing:
        raise InputError(preferences, "pair_id", f"test pairs of {model} missing: {missing[:5]}")
    return pairs[pairs["pair_id"].astype(str).isin(set(splits.test))].reset_index(drop=True)


def run_validation(
    pool: str | Path,
    out_dir: str | Path,
    *,
    model: Path | None = None,
    rewards: Path | None = None,
    preferences: Path | None = None,
    test_pairs: Path | None = None,
    config: ValidateConfig | None = None,
    progress: ProgressCallback = no_progress,
) -> ValidationReport:
    """Validate a model checkpoint (or a rewards file) on a pool; write the report folder.

    Args:
        pool: Pool folder.
        out_dir: Report folder.
        model: Checkpoint folder (`robopref.reward.load`).
        rewards: Precomputed rewards (`trajectory_id`, `reward`) instead of a model.
        preferences: Preferences file; with `model`, its test split is evaluated.
        test_pairs: Held-out pairs file (takes precedence over `preferences`).
        config: Validation settings.
        progress: Called as trajectories are scored and frames decoded.

    Raises:
        InputError: Missing or malformed inputs (named by file and field).
    """
    check_validation_out(Path(out_dir))  # before the model loads
    opened = open_pool(pool)
    if (model is None) == (rewards is None):
        raise InputError(out_dir, "model", "give a model checkpoint or a rewards file")
    pairs = None
    if test_pairs is not None:
        pairs = load_pairs(test_pairs, opened)
    elif preferences is not None:
        if model is None:
            raise InputError(preferences, "test_pairs", "without a model, give --test-pairs")
        pairs = held_out_pairs(preferences, model, opened)
    scorer: Scorer[Trajectory] | None = None
    if model is not None:
        from robopref.reward import load

        scorer = load(model)
    return validate(
        opened,
        out_dir,
        scorer=scorer,
        rewards=None if rewards is None else load_rewards(rewards, opened),
        test_pairs=pairs,
        config=config,
        progress=progress,
    )
