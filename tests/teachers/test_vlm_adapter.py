"""PrefVLM's adapters: identity at the start, both losses fall, and the file round-trips
bit-identically (safetensors + JSON, digest checked)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from robopref.errors import InputError
from robopref.teachers.vlm_adapter import (
    AdapterConfig,
    AdapterData,
    AdapterOrigin,
    PreferenceTarget,
    VLMAdapter,
    fit_adapter,
)
from robopref.teachers.vlm_adapter_file import (
    META_FILE,
    WEIGHTS_FILE,
    adapter_digest,
    load_adapter,
    save_adapter,
)

ORIGIN = AdapterOrigin(backbone="open_clip:tiny", clip_digest="sha256:" + "ab" * 32, camera="front")


def _data(n: int = 6, steps: int = 15, f: int = 16, seed: int = 0) -> AdapterData:
    """Embeddings that drift along one direction; the action is the drift step."""
    g = torch.Generator().manual_seed(seed)
    direction = torch.randn(f, generator=g)
    base = torch.randn(f, generator=g) * 3
    frames, actions = [], []
    for i in range(n):
        speed = (i + 1) / n
        t = torch.arange(steps, dtype=torch.float32)[:, None]
        frames.append(
            base + speed * t * direction * 0.05 + 0.01 * torch.randn(steps, f, generator=g)
        )
        actions.append(torch.full((steps, 2), speed) + 0.01 * torch.randn(steps, 2, generator=g))
    text = torch.randn(f, generator=g)
    prefs = [PreferenceTarget(i, j, float(i > j)) for i in range(n) for j in range(n) if i != j]
    return AdapterData(frames=frames, actions=actions, texts=[text] * n, preferences=prefs)


def test_an_untrained_adapter_keeps_the_frozen_cosines() -> None:
    adapter = VLMAdapter(16, 2, AdapterConfig())
    data = _data()
    got = adapter.frame_rewards(data.frames[0], data.texts[0])
    want = torch.nn.functional.cosine_similarity(data.frames[0], data.texts[0][None], dim=-1)
    assert torch.allclose(got, want, atol=1e-6)


def test_both_losses_fall() -> None:
    adapter = VLMAdapter(16, 2, AdapterConfig(steps=200, hidden=32))
    report = fit_adapter(adapter, _data())
    assert report.inverse_after < 0.5 * report.inverse_before, report
    assert report.preference_before is not None and report.preference_after is not None
    assert report.preference_after < 0.5 * report.preference_before, report
    assert report.transitions == 6 * 14 and report.pairs == 30 and not adapter.training


def test_the_file_round_trips_bit_identically(tmp_path: Path) -> None:
    adapter = VLMAdapter(16, 2, AdapterConfig(steps=50, hidden=32, seed=3))
    report = fit_adapter(adapter, _data())
    digest = save_adapter(adapter, tmp_path / "a", origin=ORIGIN, report=report)
    assert digest == adapter_digest(adapter)
    loaded, origin = load_adapter(tmp_path / "a")
    assert origin == ORIGIN and loaded.config == adapter.config and not loaded.training
    want, got = adapter.state_dict(), loaded.state_dict()
    assert sorted(want) == sorted(got)
    assert all(torch.equal(want[k], got[k]) for k in want)
    assert adapter_digest(loaded) == digest
    save_adapter(loaded, tmp_path / "b", origin=origin, report=report)
    for name in (WEIGHTS_FILE, META_FILE):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    meta = json.loads((tmp_path / "a" / META_FILE).read_text())
    assert meta["weights_digest"] == digest and meta["fit"]["steps"] == 50
    data = _data()
    assert torch.equal(
        adapter.frame_rewards(data.frames[1], data.texts[1]),
        loaded.frame_rewards(data.frames[1], data.texts[1]),
    )


@pytest.mark.parametrize("damage", ["weights", "format", "config", "missing"])
def test_a_damaged_adapter_is_refused_naming_the_file(tmp_path: Path, damage: str) -> None:
    adapter = VLMAdapter(16, 2, AdapterConfig())
    save_adapter(adapter, tmp_path, origin=ORIGIN)
    meta_path, weights = tmp_path / META_FILE, tmp_path / WEIGHTS_FILE
    meta = json.loads(meta_path.read_text())
    if damage == "weights":
        data = bytearray(weights.read_bytes())
        data[-1] ^= 1
        weights.write_bytes(bytes(data))
    elif damage == "format":
        meta_path.write_text(json.dumps({**meta, "adapter_format": 99}))
    elif damage == "config":
        meta_path.write_text(json.dumps({**meta, "config": {**meta["config"], "hidden": 0}}))
    else:
        weights.unlink()
    with pytest.raises(InputError) as caught:
        load_adapter(tmp_path)
    expected = {
        "weights": (weights, "weights_digest"),
        "format": (meta_path, "adapter_format"),
        "config": (meta_path, "config"),
        "missing": (weights, "weights"),
    }[damage]
    assert (caught.value.path, caught.value.field) == (str(expected[0]), expected[1])
