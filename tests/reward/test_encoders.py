from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file

from robopref.errors import InputError
from robopref.reward import REGISTRY, EncoderConfig, Temporal
from robopref.reward.model import build_net, spec_for


@pytest.mark.parametrize("kind", sorted(REGISTRY))
@pytest.mark.parametrize("temporal", list(Temporal))
def test_every_encoder_and_aggregation_gives_one_reward_per_trajectory(
    kind: str, temporal: Temporal
) -> None:
    config = EncoderConfig(kind=kind, temporal=temporal, n_steps=4, image_size=32, embed_dim=16)
    net = build_net(spec_for(config, step_dim=5, language_dim=384, camera="front"), seed=0)
    if config.uses_frames:
        x = torch.randint(0, 256, (3, 4, 32, 32, 3), dtype=torch.uint8)
    else:
        x = torch.randn(3, 4, 5)
    rewards = net.eval()(x, torch.randn(3, 384))
    assert rewards.shape == (3,) and torch.isfinite(rewards).all()


def test_same_seed_same_initial_weights() -> None:
    spec = spec_for(EncoderConfig(), step_dim=5, language_dim=0, camera=None)
    a, b, c = (build_net(spec, seed=s).eval() for s in (1, 1, 2))  # eval: no dropout
    x = torch.randn(2, 32, 5)
    assert torch.equal(a(x), b(x)) and not torch.equal(a(x), c(x))


def test_resnet_weights_come_from_a_local_file(tmp_path: Path) -> None:
    import torchvision

    source = torchvision.models.resnet18(weights=None)
    path = tmp_path / "resnet18.safetensors"
    save_file({k: v.contiguous() for k, v in source.state_dict().items()}, str(path))
    config = EncoderConfig(kind="resnet18", resnet_weights=path)
    encoder = REGISTRY["resnet18"](config, 0)
    assert torch.equal(encoder.backbone.conv1.weight, source.conv1.weight)  # type: ignore[union-attr]


def test_wrong_resnet_weights_are_an_input_error(tmp_path: Path) -> None:
    path = tmp_path / "other.safetensors"
    save_file({"layer9.weight": torch.zeros(2)}, str(path))
    with pytest.raises(InputError, match="resnet_weights"):
        REGISTRY["resnet18"](EncoderConfig(kind="resnet18", resnet_weights=path), 0)
    broken = tmp_path / "broken.pth"
    broken.write_bytes(b"garbage")
    with pytest.raises(InputError, match="unreadable"):
        REGISTRY["resnet18"](EncoderConfig(kind="resnet18", resnet_weights=broken), 0)
