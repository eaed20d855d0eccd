"""The release folder and archive: every file, checksums, reproducibility, cards, bad input."""

from __future__ import annotations

import json
import tarfile
from pathlib import Path

import pandas as pd
import pytest

from robopref.errors import InputError
from robopref.release import ReleaseConfig, ReleaseResult, build_release, verify_checksums

from .conftest import Trained

EXPECTED_FILES = {
    "preferences.parquet",
    "preferences.jsonl",
    "annotations.parquet",
    "annotations.jsonl",
    "manifest.parquet",
    "splits.json",
    "model/config.json",
    "model/model.safetensors",
    "model/split.json",
    "reward_model.onnx",
    "reward_model.pt",
    "reward_model.json",
    "inference.py",
    "qa/report.json",
    "qa/report.html",
    "validation/report.json",
    "validation/report.html",
    "DATASET_CARD.md",
    "MODEL_CARD.md",
    "train_reward_model.ipynb",
    "release.json",
}
DATA_FILES = (
    "preferences.parquet",
    "preferences.jsonl",
    "annotations.parquet",
    "annotations.jsonl",
    "manifest.parquet",
)


def test_release_folder_has_every_file_and_checksums_verify(built: ReleaseResult) -> None:
    assert built.folder.name == "robopref-release-test-1.0.0"
    assert set(built.checksums) == EXPECTED_FILES
    assert {
        p.relative_to(built.folder).as_posix() for p in built.folder.rglob("*") if p.is_file()
    } == EXPECTED_FILES | {"SHA256SUMS"}
    assert verify_checksums(built.folder) == []
    assert built.missing == []


def test_archive_holds_the_folder_and_its_own_checksum(built: ReleaseResult) -> None:
    import hashlib

    assert built.archive.name == "robopref-release-test-1.0.0.tar.gz"
    with tarfile.open(built.archive) as tar:
        names = {m.name for m in tar.getmembers() if m.isfile()}
    assert names == {f"{built.folder.name}/{n}" for n in EXPECTED_FILES | {"SHA256SUMS"}}
    line = Path(f"{built.archive}.sha256").read_text().split()
    assert line == [hashlib.sha256(built.archive.read_bytes()).hexdigest(), built.archive.name]


def test_rebuilding_with_the_same_inputs_gives_the_same_data_checksums(
    trained: Trained, built: ReleaseResult, tmp_path: Path
) -> None:
    again = build_release(trained.inputs(), tmp_path, ReleaseConfig(name="test", version="1.0.0"))
    for name in DATA_FILES:
        assert again.checksums[name] == built.checksums[name], name
    assert again.checksums["DATASET_CARD.md"] == built.checksums["DATASET_CARD.md"]


def test_tampering_is_caught_by_the_checksums(built: ReleaseResult, tmp_path: Path) -> None:
    import shutil

    copy = tmp_path / built.folder.name
    shutil.copytree(built.folder, copy)
    (copy / "preferences.jsonl").write_text("{}\n")
    (copy / "extra.txt").write_text("not listed")
    assert verify_checksums(copy) == ["extra.txt", "preferences.jsonl"]


def test_dataset_card_reports_measured_numbers(built: ReleaseResult, trained: Trained) -> None:
    card = (built.folder / "DATASET_CARD.md").read_text()
    assert "Annotated pairs: 120" in card
    assert "Krippendorff's alpha (ordinal): 0.612" in card
    assert "Gold-standard accuracy: 0.934" in card
    assert "Annotators: 3 (from the QA report)" in card
    assert "kappa vs expert answers): 0.65" in card
    assert "Certified annotators: 2 of 3" in card
    assert "| expert | 6 | 25% |" in card
    accuracy = json.loads((trained.validation / "report.json").read_text())["ranking"]["overall"]
    assert f"(ties excluded): {accuracy['accuracy']:.3f}" in card
    assert "not available" not in card


def test_model_card_documents_the_input_format(built: ReleaseResult) -> None:
    card = (built.folder / "MODEL_CARD.md").read_text()
    spec = json.loads((built.folder / "reward_model.json").read_text())
    assert "| `x` | (batch, 8, 21) | float32 |" in card  # S=4, A=4, seconds, 2S + A motion
    assert "**fixed** at 8 steps" in card
    assert f"state ({spec['state_dim']} columns) then action ({spec['action_dim']} columns)" in card
    assert "then elapsed seconds since the first step" in card
    assert "log(1 + RMS jerk of state)" in card
    assert "assumed label flip rate 0.05" in card and "(data per member: none)" in card
    assert spec["format"]["parity_max_abs_diff"] <= 1e-4


def test_missing_parts_say_not_available(trained: Trained, tmp_path: Path) -> None:
    inputs = trained.inputs(model=None, qa_report=None, validation=None, annotations=None)
    result = build_release(inputs, tmp_path, ReleaseConfig(name="bare"))
    assert result.missing == ["raw annotations", "QA report", "validation report", "reward model"]
    card = (result.folder / "DATASET_CARD.md").read_text()
    assert "Krippendorff's alpha (ordinal): not available" in card
    assert "Gold-standard accuracy: not available" in card
    assert "Architecture: not available" in card
    assert not (result.folder / "reward_model.onnx").exists()
    assert verify_checksums(result.folder) == []


def test_an_existing_version_is_not_overwritten(trained: Trained, tmp_path: Path) -> None:
    inputs = trained.inputs(model=None)
    build_release(inputs, tmp_path, ReleaseConfig(name="v"))
    with pytest.raises(InputError) as info:
        build_release(inputs, tmp_path, ReleaseConfig(name="v"))
    assert info.value.field == "version"
    build_release(inputs, tmp_path, ReleaseConfig(name="v", overwrite=True))


def test_missing_input_files_name_the_file(trained: Trained, tmp_path: Path) -> None:
    with pytest.raises(InputError) as info:
        build_release(trained.inputs(preferences=tmp_path / "nope.parquet"), tmp_path / "o")
    assert "nope.parquet" in info.value.path
    with pytest.raises(InputError) as info:
        build_release(trained.inputs(qa_report=tmp_path / "qa.json"), tmp_path / "o")
    assert info.value.field == "qa_report" and "qa.json" in info.value.path
    with pytest.raises(InputError) as info:
        build_release(trained.inputs(model=tmp_path), tmp_path / "o")
    assert "config.json" in info.value.path


def test_preferences_with_wrong_columns_fail_with_file_and_field_and_leave_nothing(
    trained: Trained, tmp_path: Path
) -> None:
    bad = tmp_path / "bad.parquet"
    pd.read_parquet(trained.preferences).drop(columns=["agreement"]).to_parquet(bad)
    out = tmp_path / "out"
    with pytest.raises(InputError) as info:
        build_release(trained.inputs(preferences=bad), out)
    assert info.value.path == str(bad) and info.value.field == "agreement"
    assert not out.exists() or list(out.iterdir()) == []


def test_bad_annotations_fail_before_anything_is_placed(trained: Trained, tmp_path: Path) -> None:
    bad = tmp_path / "annotations.parquet"
    pd.read_parquet(trained.annotations).assign(confidence=9).to_parquet(bad)
    with pytest.raises(InputError) as info:
        build_release(trained.inputs(annotations=bad), tmp_path / "out")
    assert info.value.field == "confidence"
    assert not (tmp_path / "out").exists() or list((tmp_path / "out").iterdir()) == []


def test_config_rejects_bad_names_and_versions() -> None:
    with pytest.raises(ValueError, match="name"):
        ReleaseConfig(name="my release")
    with pytest.raises(ValueError, match="version"):
        ReleaseConfig(version="latest!")


def test_raw_annotations_are_read_from_a_real_store(trained: Trained, tmp_path: Path) -> None:
    from robopref.pairs.records import AssignmentSpec, PairBatch, PairSpec
    from robopref.store import add_annotator, create_batch, open_store, sync_trajectories
    from robopref.store.records import Submission
    from robopref.store.submit import submit_annotation
    from robopref.types import BatchKind, Choice, PairKind, Stratum

    url = f"sqlite:///{tmp_path / 'robopref.db'}"
    store = open_store(url)
    sync_trajectories(store, trained.pool.manifest)
    prefs = pd.read_parquet(trained.preferences).head(4)
    pairs = tuple(
        PairSpec(
            pair_id=r.pair_id,
            trajectory_a_id=r.trajectory_a_id,
            trajectory_b_id=r.trajectory_b_id,
            task=r.task,
            kind=PairKind.REGULAR,
            stratum=Stratum.SAME,
            quartile_a=1,
            quartile_b=1,
        )
        for r in prefs.itertuples()
    )
    assignments = tuple(
        AssignmentSpec(
            pair_id=p.pair_id, annotator_id="ann-1", left_trajectory_id=p.trajectory_a_id
        )
        for p in pairs
    )
    add_annotator(store, "ann-1")
    create_batch(
        store,
        PairBatch(batch_id="b1", kind=BatchKind.PRODUCTION, pairs=pairs, assignments=assignments),
    )
    for i, p in enumerate(pairs):
        submit_annotation(
            store,
            Submission(
                annotator_id="ann-1",
                pair_id=p.pair_id,
                preference=Choice.A,
                confidence=3,
                response_time_ms=5000,
                left_trajectory_id=p.trajectory_a_id,
                idempotency_key=f"k{i}",
            ),
        )
    store.dispose()
    result = build_release(
        trained.inputs(annotations=None, store_url=url, model=None),
        tmp_path / "out",
        ReleaseConfig(name="db"),
    )
    raw = pd.read_parquet(result.folder / "annotations.parquet")
    assert sorted(raw["pair_id"]) == sorted(prefs["pair_id"])
    assert set(raw["preference"]) == {"A"} and set(raw["batch_id"]) == {"b1"}
