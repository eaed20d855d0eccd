"""Malformed episodes: reported by id and skipped with skip_bad, else InputError and no change."""

from __future__ import annotations

import pyarrow.parquet as pq
import pytest

import robopref.pool as rp
from robopref.errors import InputError
from robopref.pool.config import IngestConfig
from robopref.pool.ingest import ingest

V21_EPISODE = "data/chunk-000/episode_{:06d}.parquet"
V21_VIDEO = "videos/chunk-000/observation.images.front/episode_{:06d}.mp4"
V30_EPISODES = "meta/episodes/chunk-000/file-000.parquet"
V30_VIDEO = "videos/observation.images.front/chunk-000/file-000.mp4"


def _drop_action_of_episode_1(source):
    path = source / V21_EPISODE.format(1)
    pq.write_table(pq.read_table(path).drop_columns(["action"]), path)
    return "1", "action"


def _truncate_video_of_episode_2(source):
    path = source / V21_VIDEO.format(2)
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    return "2", "videos/observation.images.front"


def _drop_rows_of_episode_0(source):
    path = source / V21_EPISODE.format(0)
    table = pq.read_table(path)
    pq.write_table(table.slice(0, table.num_rows - 2), path)
    return "0", "length"


def _corrupt_video_of_episode_1(source):
    path = source / V21_VIDEO.format(1)
    data = bytearray(path.read_bytes())
    data[len(data) // 3 :] = bytes(len(data) - len(data) // 3)  # zeroed: unreadable
    path.write_bytes(bytes(data))
    return "1", "videos/observation.images.front"


BREAKAGES = [
    _drop_action_of_episode_1,
    _truncate_video_of_episode_2,
    _drop_rows_of_episode_0,
    _corrupt_video_of_episode_1,
]
SKIP = IngestConfig(effector_fallback="state", skip_bad=True)
STRICT = IngestConfig(effector_fallback="state")


@pytest.mark.parametrize("breakage", BREAKAGES, ids=lambda f: f.__name__.strip("_"))
def test_skip_bad_reports_the_episode_by_id_and_imports_the_rest(lerobot_copy, tmp_path, breakage):
    source = lerobot_copy("v21")
    episode, field = breakage(source)
    report = ingest("lerobot", source, tmp_path / "pool", SKIP)
    assert report.imported == 2
    assert [key for key, _ in report.skipped] == [episode]
    assert field in report.skipped[0][1]
    pool = rp.open(tmp_path / "pool")
    assert episode not in set(pool.manifest["source_episode"])
    assert not list((tmp_path / "pool" / ".staging").glob("*"))


@pytest.mark.parametrize("breakage", BREAKAGES, ids=lambda f: f.__name__.strip("_"))
def test_without_skip_bad_the_import_stops_and_creates_no_pool(lerobot_copy, tmp_path, breakage):
    source = lerobot_copy("v21")
    _, field = breakage(source)
    with pytest.raises(InputError) as info:
        ingest("lerobot", source, tmp_path / "pool", STRICT)
    assert info.value.field == field and str(source) in info.value.path
    assert not (tmp_path / "pool").exists()


def test_a_failed_import_leaves_an_existing_pool_exactly_as_it_was(lerobot_copy, tiny_pool):
    pool = tiny_pool(n=4)
    before = pq.read_table(pool.root / "manifest.parquet")
    dirs_before = sorted(p.name for p in (pool.root / "trajectories").iterdir())
    source = lerobot_copy("v21")
    _truncate_video_of_episode_2(source)
    with pytest.raises(InputError):
        ingest("lerobot", source, pool.root, STRICT)
    assert pq.read_table(pool.root / "manifest.parquet").equals(before)
    assert sorted(p.name for p in (pool.root / "trajectories").iterdir()) == dirs_before
    assert not list((pool.root / ".staging").glob("*"))


def test_v30_length_mismatch_in_episode_metadata_is_reported(lerobot_copy, tmp_path):
    source = lerobot_copy("v30")
    path = source / V30_EPISODES
    table = pq.read_table(path)
    lengths = table.column("length").to_pylist()
    lengths[1] += 3
    table = table.set_column(table.schema.get_field_index("length"), "length", [lengths])
    pq.write_table(table, path)
    report = ingest("lerobot", source, tmp_path / "pool", IngestConfig(skip_bad=True))
    assert [key for key, _ in report.skipped] == ["1"]
    assert "length" in report.skipped[0][1] and "episode 1" in report.skipped[0][1]


def test_v30_truncated_shared_video_skips_the_episodes_it_no_longer_holds(lerobot_copy, tmp_path):
    source = lerobot_copy("v30")
    path = source / V30_VIDEO
    path.write_bytes(path.read_bytes()[: int(path.stat().st_size * 0.6)])
    report = ingest("lerobot", source, tmp_path / "pool", IngestConfig(skip_bad=True))
    skipped = [key for key, _ in report.skipped]
    assert "2" in skipped and report.imported == 3 - len(skipped)
    assert all("videos/observation.images.front" in reason for _, reason in report.skipped)


def test_all_episodes_bad_is_an_error_even_with_skip_bad(lerobot_copy, tmp_path):
    source = lerobot_copy("v30")
    path = source / "data" / "chunk-000" / "file-000.parquet"
    pq.write_table(pq.read_table(path).drop_columns(["observation.state"]), path)
    with pytest.raises(InputError, match="none of 3 episodes"):
        ingest("lerobot", source, tmp_path / "pool", IngestConfig(skip_bad=True))
    assert not (tmp_path / "pool").exists()


def test_unknown_format_and_missing_source_are_input_errors(tmp_path):
    with pytest.raises(InputError) as info:
        ingest("rlds", tmp_path, tmp_path / "pool", IngestConfig())
    assert info.value.field == "format"
    with pytest.raises(InputError) as info:
        ingest("lerobot", tmp_path / "nothing", tmp_path / "pool", IngestConfig())
    assert info.value.field == "source"
    assert not (tmp_path / "pool").exists()
