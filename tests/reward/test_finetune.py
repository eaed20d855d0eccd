"""Fine-tuning a pretrained backbone end to end: training, checkpoint, ONNX, and DDP (gloo)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import torch
import yaml
from torch.nn.parallel import DistributedDataParallel

from robopref.pool import Pool
from robopref.reward import (
    EncoderConfig,
    EpochStats,
    TrainConfig,
    TrainResult,
    load_checkpoint,
    score_pool,
    train_reward_model,
)
from robopref.reward.config import config_to_json
from robopref.reward.distributed import World
from robopref.reward.onnx import export_onnx
from robopref.testing import synthetic_preferences, tiny_pool, write_preferences
from robopref.vision import load_backbone

from .test_train import pool_scores, true_accuracy, truth_of

torch.set_num_threads(1)

BACKBONE = "members.0.frontend.backbone.net.conv_stem.weight"
"""A tensor of member 0's own backbone (EfficientNet-Lite0's first convolution)."""


def finetune_config(**train: Any) -> TrainConfig:
    """EfficientNet-Lite0 at 32 px, 4 frames, a tiny deterministic head (no dropout)."""
    encoder = EncoderConfig(
        kind="pretrained",
        backbone="efficientnet_lite0",
        input_size=32,
        finetune=True,
        language=False,
        n_steps=4,
        embed_dim=16,
        hidden_dim=16,
        dropout=0.0,
        feature_dropout=0.0,
    )
    values: dict[str, Any] = {
        "encoder": encoder,
        "epochs": 2,
        "patience": 5,
        "ensemble_size": 2,
        "batch_size": 16,
        "lr": 1e-3,
        "device": "cpu",
    }
    values.update(train)
    return TrainConfig(**values)


@pytest.fixture(scope="module")
def frames_pool(tmp_path_factory: pytest.TempPathFactory) -> Pool:
    return tiny_pool(tmp_path_factory.mktemp("finetune") / "pool", n=20, frame_size=32, seed=1)


@pytest.fixture(scope="module")
def prefs(frames_pool: Pool) -> pd.DataFrame:
    return synthetic_preferences(frames_pool, n_pairs=100, seed=0)


EPOCHS: list[EpochStats] = []


@pytest.fixture(scope="module")
def finetuned(
    frames_pool: Pool, prefs: pd.DataFrame, tmp_path_factory: pytest.TempPathFactory
) -> TrainResult:
    out = tmp_path_factory.mktemp("ckpt") / "model"
    config = finetune_config(epochs=3)
    return train_reward_model(prefs, frames_pool, config, out=out, on_epoch=EPOCHS.append)


def test_config_defaults_and_checks() -> None:
    plain = finetune_config(lr=None)
    assert plain.learning_rate == 1e-4 and plain.frame_shift == plain.encoder.view_shift == 4
    assert TrainConfig().learning_rate == 1e-3 and TrainConfig().frame_shift == 0
    assert finetune_config(lr=3e-3, shift_pixels=0).resolved().lr == 3e-3
    assert config_to_json(plain.resolved())["lr"] == 1e-4  # what the checkpoint records
    with pytest.raises(ValueError, match="finetune"):
        EncoderConfig(kind="conv", finetune=True)


def test_finetuning_moves_each_members_backbone_and_learns(
    finetuned: TrainResult, frames_pool: Pool
) -> None:
    model = finetuned.model
    assert model.net.frontend is None  # no shared frontend: every member owns its backbone
    pretrained = load_backbone("efficientnet_lite0", input_size=32).state_dict()
    moved = []
    for member in model.net.members:
        backbone = member.frontend.backbone.state_dict()  # type: ignore[union-attr]
        key = "net.conv_stem.weight"
        moved.append(float((backbone[key] - pretrained[key]).abs().max()))
        # BatchNorm statistics stay as pretrained (batches of alike frames would skew them)
        stat = "net.bn1.running_mean"
        assert torch.equal(backbone[stat], pretrained[stat])
    assert min(moved) > 1e-4
    first, second = (m.frontend.backbone.net.conv_stem.weight for m in model.net.members)  # type: ignore[union-attr]
    assert not torch.equal(first, second)  # two members, two backbones
    scores = pool_scores(model, frames_pool)
    assert true_accuracy(scores, finetuned.pairs("test"), truth_of(frames_pool)) >= 0.7
    for member in (0, 1):  # the training loss falls, epoch after epoch
        losses = [s.loss for s in EPOCHS if s.member == member]
        assert len(losses) == 3 and losses[2] < losses[1] < losses[0], losses
    record = json.loads((finetuned.checkpoint / "config.json").read_text())  # type: ignore[operator]
    assert record["net"]["encoder"]["finetune"] is True
    assert record["backbone"]["finetuned"] is True
    assert record["train_config"]["lr"] == 1e-3 and record["train_config"]["shift_pixels"] == 4


def test_checkpoint_round_trip_scores_alike_and_exports_to_onnx(
    finetuned: TrainResult, frames_pool: Pool, tmp_path: Path
) -> None:
    from safetensors import safe_open

    with safe_open(str(finetuned.checkpoint / "model.safetensors"), "pt") as f:  # type: ignore[operator]
        keys = set(f.keys())
    assert BACKBONE in keys and BACKBONE.replace("members.0", "members.1") in keys
    loaded = load_checkpoint(finetuned.checkpoint)  # type: ignore[arg-type]
    trajectories = [frames_pool[t] for t in list(frames_pool.manifest["trajectory_id"])[:6]]
    direct = loaded.score(trajectories)
    assert np.allclose(direct, finetuned.model.score(trajectories), atol=1e-6)
    table = score_pool(loaded, frames_pool, [t.trajectory_id for t in trajectories])
    assert np.allclose(table["reward"], direct, atol=1e-6)  # the pool's raw frames, too
    inputs = loaded.inputs(trajectories)
    assert inputs.x.shape == (6, 4, 1, 32, 32, 3) and inputs.x.dtype == np.uint8
    info = export_onnx(loaded, tmp_path / "model.onnx", check=inputs)
    assert info["parity_max_abs_diff"] <= 1e-4
    assert "32×32" in info["inputs"]["x"]["meaning"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _one_sgd_step(pool_root: Path, world: World, device: torch.device) -> dict[str, torch.Tensor]:
    """Weights before − after one SGD step (lr 1) on one batch: the batch's gradient.

    Batch 5 pairs (3 + 2 across two ranks), random shifts on (4 px, the default).
    """
    from robopref.pool import open as open_pool
    from robopref.reward.data import pair_data
    from robopref.reward.finetune import member_frontend
    from robopref.reward.model import build_net
    from robopref.reward.run import prepare_inputs
    from robopref.reward.train import train_epoch

    pool = open_pool(pool_root)
    prefs = synthetic_preferences(pool, n_pairs=100, seed=0).iloc[:5]
    config = finetune_config(batch_size=5, shift_pixels=None)
    ids = sorted(set(prefs["trajectory_a_id"]) | set(prefs["trajectory_b_id"]))
    table, spec, frontend = prepare_inputs(pool, ids, config, device=device)
    pairs = pair_data(prefs, table.row_of, config.loss)
    net = build_net(spec, seed=0, frontend=member_frontend(frontend))  # type: ignore[arg-type]
    before = {k: v.clone() for k, v in net.state_dict().items()}
    model: torch.nn.Module = DistributedDataParallel(net) if world.distributed else net
    sgd = torch.optim.SGD([p for p in net.parameters() if p.requires_grad], lr=1.0)
    generator = torch.Generator().manual_seed(0)
    train_epoch(model, sgd, table, pairs, config=config, generator=generator, world=world)
    return {k: before[k] - v for k, v in net.state_dict().items()}


def _ddp_worker(rank: int, size: int, port: int, pool_root: Path, out: Path) -> None:
    """One gloo rank of a torch.multiprocessing run (torchrun's environment, set by hand)."""
    import torch.distributed as dist

    from robopref.reward import distributed

    torch.set_num_threads(1)
    env = {"RANK": rank, "WORLD_SIZE": size, "LOCAL_RANK": rank, "MASTER_PORT": port}
    os.environ.update({k: str(v) for k, v in env.items()} | {"MASTER_ADDR": "127.0.0.1"})
    here, device = distributed.setup("cpu")
    step = _one_sgd_step(pool_root, here, device)
    if here.main:
        torch.save(step, out)
    dist.destroy_process_group()


def test_two_gloo_ranks_step_with_the_one_process_gradient(
    frames_pool: Pool, tmp_path: Path
) -> None:
    # The real DDP check: each rank embeds its share of the batch (3 + 2 pairs) and
    # backpropagates its share of the whole batch's loss; DDP's average is then the
    # gradient one process computes on the whole batch. SGD at lr 1 makes the weight change
    # the gradient itself (Adam's step hides its scale).
    import torch.multiprocessing as mp

    one = _one_sgd_step(frames_pool.root, World(), torch.device("cpu"))
    mp.spawn(_ddp_worker, args=(2, _free_port(), frames_pool.root, tmp_path / "two.pt"), nprocs=2)
    two = torch.load(tmp_path / "two.pt")
    assert one.keys() == two.keys()
    assert float(one[BACKBONE.removeprefix("members.0.")].abs().max()) > 1e-3  # it moved
    worst = max(float((one[k] - two[k]).abs().max()) for k in one)
    assert worst < 1e-6, worst


def test_torchrun_two_ranks_write_one_checkpoint_of_the_one_process_weights(
    frames_pool: Pool, prefs: pd.DataFrame, tmp_path: Path
) -> None:
    # `robopref train` unchanged under torchrun (gloo on the CPU): both ranks finish, rank 0
    # alone reports and writes, and the weights are the one-process run's. One Adam step (a
    # batch holds every training pair): Adam's sign-like steps amplify float rounding over
    # many steps, so a longer run agrees only loosely (the gradient test above is exact).
    config = finetune_config(ensemble_size=1, epochs=1, batch_size=64, shift_pixels=None)
    pairs = prefs.iloc[:40]
    single = train_reward_model(pairs, frames_pool, config)
    prefs_file = write_preferences(pairs, tmp_path / "prefs.parquet")
    yaml_file = tmp_path / "run.yaml"
    raw = config_to_json(config)
    del raw["encoder"]["finetune"]  # the command line's --finetune sets it
    yaml_file.write_text(yaml.safe_dump({k: v for k, v in raw.items() if v is not None}))
    out = tmp_path / "model"
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc-per-node", "2",
           "--master-addr", "127.0.0.1", "--master-port", str(_free_port()),
           "-m", "robopref", "train", str(prefs_file), str(frames_pool.root),
           "--out", str(out), "--config", str(yaml_file), "--finetune"]  # fmt: skip
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert done.stdout.count("trained 1 × efficientnet_lite0") == 1  # rank 0 alone reports
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model", "prefs.parquet", "run.yaml"]
    two = load_checkpoint(out)
    want, got = single.model.net.state_dict(), two.net.state_dict()
    assert want.keys() == got.keys()
    worst = max(float((want[k].double() - got[k].double()).abs().max()) for k in want)
    assert worst < 1e-4, worst
    pretrained = load_backbone("efficientnet_lite0", input_size=32).state_dict()
    moved = want[BACKBONE] - pretrained[BACKBONE.removeprefix("members.0.frontend.backbone.")]
    assert float(moved.abs().max()) > 5e-5  # the backbone did move: the check is not vacuous
    record = json.loads((out / "config.json").read_text())
    assert record["metrics"]["test_accuracy"] == single.metrics["test_accuracy"]
