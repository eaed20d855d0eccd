from pathlib import Path

import numpy as np
import pytest
import torch

from robopref.reward import EncoderConfig, TrainConfig, train_reward_model
from robopref.reward.augment import random_shift
from robopref.reward.features import motion_columns, subsample_indices
from robopref.testing import synthetic_preferences, tiny_pool


def test_motion_columns_sum_travel_and_see_jerk_between_samples() -> None:
    t = np.arange(101) / 10.0  # 10 Hz
    state = np.stack([0.5 * t, np.zeros_like(t)], axis=1)  # constant velocity along x
    state[60, 1] = 0.2  # a one-step twitch in y, between two sampled steps
    action = np.zeros((101, 1))
    action[30] = 1.0
    idx = subsample_indices(101, 5)  # 0, 25, 50, 75, 100
    cols = motion_columns(state, action, t, idx)
    travel, jerk, change = cols[:, :2], cols[:, 2:4], cols[:, 4:]
    assert travel[0].tolist() == [0.0, 0.0]  # the first sample has no past
    np.testing.assert_allclose(travel[:, 0].sum(), 0.5 * 10.0)  # total x distance
    np.testing.assert_allclose(travel[:, 1], [0, 0, 0, 0.4, 0], atol=1e-12)  # up and back
    assert np.allclose(jerk[:, 0], 0.0, atol=1e-6)  # straight line, constant speed
    assert jerk[3, 1] > 5 and np.allclose(jerk[[0, 1, 2, 4], 1], 0.0)  # only the twitch
    assert change[2, 0] == pytest.approx(2 / 25) and change[[0, 1, 3, 4], 0].tolist() == [0] * 4


def test_motion_columns_handle_trajectories_shorter_than_n_steps() -> None:
    t = np.arange(3) / 10.0
    cols = motion_columns(np.ones((3, 2)), np.ones((3, 1)), t, subsample_indices(3, 8))
    assert cols.shape == (8, 5) and np.isfinite(cols).all()


def test_random_shift_moves_whole_trajectories_by_one_offset() -> None:
    frames = torch.zeros(16, 3, 12, 12, 3, dtype=torch.uint8)
    frames[:, :, 6, 6] = 255  # one bright pixel in every frame
    shifted = random_shift(frames, 2, torch.Generator().manual_seed(0))
    assert shifted.shape == frames.shape and shifted.dtype == torch.uint8
    offsets = set()
    for traj in shifted:
        where = [tuple(torch.nonzero(frame[..., 0]).flatten().tolist()) for frame in traj]
        assert len(set(where)) == 1  # the same shift for every frame of a trajectory
        dy, dx = where[0][0] - 6, where[0][1] - 6
        assert max(abs(dy), abs(dx)) <= 2
        offsets.add((dy, dx))
    assert len(offsets) > 3  # trajectories get different shifts
    assert random_shift(frames, 0, torch.Generator()) is frames


def test_with_state_is_ignored_by_the_state_encoder(tmp_path: Path) -> None:
    pool = tiny_pool(tmp_path / "pool", n=8, frame_size=None, seed=1)
    prefs = synthetic_preferences(pool, n_pairs=20, seed=0)
    encoder = EncoderConfig(kind="state", with_state=True, language=False, n_steps=4)
    config = TrainConfig(encoder=encoder, epochs=1, ensemble_size=1, device="cpu")
    model = train_reward_model(prefs, pool, config).model
    trajectories = [pool[t] for t in pool.manifest["trajectory_id"]]
    inputs = model.inputs(trajectories)
    assert inputs.steps is None and model.score(trajectories).shape == (8,)
