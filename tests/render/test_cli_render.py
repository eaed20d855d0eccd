from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from robopref.cli.render import render
from robopref.errors import InputError
from robopref.pool import Pool

from .known import decode


@pytest.fixture
def app() -> typer.Typer:
    app = typer.Typer()
    app.command()(render)

    @app.command()
    def other() -> None:  # a second command, so `render` is addressed by name as in robopref
        pass

    return app


def test_render_command_writes_clips_and_prints_a_summary(
    app: typer.Typer, tiny_pool: Callable[..., Pool], tmp_path: Path
) -> None:
    pool = tiny_pool(n=2, n_steps=20)
    config = tmp_path / "render.yaml"
    config.write_text("font_size: 10\nforce_strip_height: 24\n")
    args = ["render", str(pool.root), "--size", "160", "--workers", "1", "--config", str(config)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "2 rendered, 0 unchanged, 0 failed" in result.output
    assert decode(pool.root / "clips" / "syn-00-000.mp4").width == 160
    again = CliRunner().invoke(app, args)
    assert "0 rendered, 2 unchanged, 0 failed" in again.output
    forced = CliRunner().invoke(app, [*args, "--force"])
    assert "2 rendered, 0 unchanged, 0 failed" in forced.output


def test_render_command_exits_2_when_a_clip_fails_on_a_corrupt_video(
    app: typer.Typer, tiny_pool: Callable[..., Pool]
) -> None:
    pool = tiny_pool(n=2, n_steps=20)
    (pool.trajectory_dir("syn-00-001") / "front.mp4").write_bytes(b"not a video")
    result = CliRunner().invoke(app, ["render", str(pool.root), "--workers", "1", "--size", "128"])
    assert result.exit_code == 2  # a corrupt video is bad input, named as file: field
    assert "failed syn-00-001" in result.output and "1 failed" in result.output
    assert "error:" in result.output and "front.mp4" in result.output


def test_render_command_raises_input_error_for_a_non_pool(app: typer.Typer, tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["render", str(tmp_path)])
    assert isinstance(result.exception, InputError)  # robopref's main() maps it to exit 2
    assert result.exception.field == "manifest.parquet"


def test_render_command_rejects_a_bad_setting_naming_the_field(
    app: typer.Typer, tiny_pool: Callable[..., Pool]
) -> None:
    pool = tiny_pool(n=1, n_steps=20)
    result = CliRunner().invoke(app, ["render", str(pool.root), "--crf", "99"])
    assert isinstance(result.exception, InputError) and "crf" in str(result.exception)


def test_a_malformed_trajectory_is_named_and_the_others_still_render(
    app: typer.Typer, tiny_pool: Callable[..., Pool]
) -> None:
    pool = tiny_pool(n=3, n_steps=12)
    bad = pool.trajectory_dir("syn-00-001") / "meta.json"
    bad.write_text('{"schema_version": 1, "fps": "ten"}')
    result = CliRunner().invoke(app, ["render", str(pool.root), "--size", "96", "--workers", "1"])
    assert result.exit_code == 2, result.output
    assert "2 rendered, 0 unchanged, 1 failed" in result.output
    assert "error:" in result.output and "meta.json" in result.output
    assert not (pool.root / "clips" / "syn-01-000.mp4").exists()
    assert (pool.root / "clips" / "syn-00-000.mp4").is_file()
