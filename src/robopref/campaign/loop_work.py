"""A policy loop's work folder: its settings, and one folder per finished round.

`work/loop.json` holds the run id and the settings the folder was started with; every
finished round is `round-NN/` (the policy as safetensors, the preferences so far as
Parquet, the reward checkpoint and the round's record as JSON), staged and renamed into
place, so a crash loses only the unfinished round.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from robopref.atomic import write_text_atomic
from robopref.campaign.loop_state import LoopState, PolicyLoopConfig, RoundRecord, extend_rollouts
from robopref.errors import InputError
from robopref.outputs import check_output_dir, mark_output_dir, output_folder, output_kind
from robopref.policy.gaussian import GaussianPolicy
from robopref.pool.pool import open_pool
from robopref.reward import load_checkpoint, save_checkpoint

LOOP_KIND = "policy-loop"
"""The `robopref.outputs` kind of a loop's work folder."""
ROUND_KIND = "policy-round"
"""The `robopref.outputs` kind of one finished round's folder."""
LOOP_FILE = "loop.json"
ROUND_FILE = "round.json"
POLICY_FILE = "policy.safetensors"
PREFERENCES_FILE = "preferences.parquet"
REWARD_DIR = "reward"


def round_dir(work: Path, round_: int) -> Path:
    """The folder of round `round_` in a loop's work folder."""
    return work / f"round-{round_:02d}"


def finished_rounds(work: Path) -> list[int]:
    """The rounds 0, 1, ... whose folders are complete, up to the first missing one."""
    done: list[int] = []
    while output_kind(round_dir(work, len(done))) == ROUND_KIND:
        if not (round_dir(work, len(done)) / ROUND_FILE).is_file():
            break
        done.append(len(done))
    return done


def read_records(work: Path) -> list[RoundRecord]:
    """The records of a work folder's finished rounds, round 0 first."""
    return [RoundRecord.from_dict(round_json(work, r)["record"]) for r in finished_rounds(work)]


def open_work(work: Path, task: str, reference: GaussianPolicy, config: PolicyLoopConfig) -> str:
    """Claim `work` for this loop, or check that it holds a run with the same settings.

    Returns:
        The run id the loop records with its rollouts (kept in `work/loop.json`).

    Raises:
        InputError: `work` is a file, holds other content, or an earlier run of another
            task, reference policy or settings.
    """
    check_output_dir(work, LOOP_KIND, option="work folder")
    settings = {
        "task": task,
        "reference_sha256": weights_sha256(reference),
        "config": json.loads(json.dumps(asdict(config), default=list)),
    }
    path = work / LOOP_FILE
    if output_kind(work) == LOOP_KIND and path.is_file():
        try:
            earlier = json.loads(path.read_text(encoding="utf-8"))
        except ValueError as exc:
            raise InputError(path, "loop", f"unreadable: {exc}") from exc
        for key, value in settings.items():
            if earlier.get(key) != value:
                raise InputError(
                    path,
                    key,
                    "this folder holds a run with another "
                    f"{key.replace('_', ' ')}: resume it with the same settings, or choose "
                    "a new folder",
                )
        return str(earlier["loop_id"])
    mark_output_dir(work, LOOP_KIND)
    loop_id = uuid.uuid4().hex
    write_text_atomic(path, json.dumps({"loop_id": loop_id, **settings}, indent=1) + "\n")
    return loop_id


def weights_sha256(policy: GaussianPolicy) -> str:
    """A digest of the policy's weights (names and values)."""
    digest = hashlib.sha256()
    for name, array in sorted(policy.weights().items()):
        digest.update(name.encode())
        digest.update(np.ascontiguousarray(array).tobytes())
    return digest.hexdigest()


def save_round(work: Path, state: LoopState, round_: int, pool_path: Path) -> None:
    """Write round `round_` as one folder (staged, then renamed), and carry on from it.

    The state is read back from the folder, so that a run that never stops goes on with
    exactly what a resumed one would read.
    """
    from safetensors.numpy import save_file

    record = state.records[-1]
    with output_folder(round_dir(work, round_), ROUND_KIND, option="work folder") as tmp:
        save_file(state.policy.weights(), str(tmp / POLICY_FILE))
        state.preferences.to_parquet(tmp / PREFERENCES_FILE, index=False)
        save_checkpoint(state.model, tmp / REWARD_DIR)
        data = {
            "round": round_,
            "tier": state.tier,
            "tiers": [list(t) for t in state.tiers],
            "loop_id": state.loop_id,
            "record": record.as_dict(),
        }
        (tmp / ROUND_FILE).write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
    restore_into(state, restore(work, round_, pool_path, rollouts=False))


def round_json(work: Path, round_: int) -> dict[str, Any]:
    """The JSON of finished round `round_` (InputError naming the file if unreadable)."""
    path = round_dir(work, round_) / ROUND_FILE
    try:
        data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InputError(path, "round", f"unreadable: {exc}") from exc
    return data


def restore(work: Path, round_: int, pool_path: Path, *, rollouts: bool = True) -> LoopState:
    """The state after round `round_` as its folder (and the pool's tiers) hold it.

    Raises:
        InputError: A file of the round is unreadable, or the pool lacks one of its tiers.
    """
    from safetensors.numpy import load_file

    folder = round_dir(work, round_)
    data = round_json(work, round_)
    state = LoopState(
        policy=GaussianPolicy(load_file(str(folder / POLICY_FILE))),
        preferences=pd.read_parquet(folder / PREFERENCES_FILE),
        model=load_checkpoint(folder / REWARD_DIR),
        tier=str(data["tier"]),
        tiers=[(int(r), str(t)) for r, t in data["tiers"]],
        loop_id=data.get("loop_id"),
    )
    state.records = [RoundRecord.from_dict(round_json(work, r)["record"]) for r in range(round_)]
    state.records.append(RoundRecord.from_dict(data["record"]))
    if rollouts:
        pool = open_pool(pool_path)
        for r, tier in state.tiers:
            ids = pool.manifest.loc[pool.manifest["source"] == tier, "trajectory_id"]
            if ids.empty:
                raise InputError(
                    pool_path, "source", f"no tier {tier!r}, which round {r} in {work} added"
                )
            extend_rollouts(state, [pool[str(i)] for i in ids], round_=r)
    return state


def restore_into(state: LoopState, restored: LoopState) -> None:
    """Carry `restored` on in `state` (rollouts only if it read them)."""
    state.policy, state.preferences, state.model = (
        restored.policy,
        restored.preferences,
        restored.model,
    )
    state.tier, state.tiers, state.records = restored.tier, restored.tiers, restored.records
    state.loop_id = restored.loop_id
    if restored.rollouts:
        state.rollouts, state.groups = restored.rollouts, restored.groups
