"""`build_release`: assemble, check and archive one versioned release.

Layout of `OUT/robopref-release-<name>-<version>/` (archived beside it as `<same>.tar.gz`,
with `<same>.tar.gz.sha256`):

- `preferences.parquet`, `preferences.jsonl` — the contract columns (PREFERENCES_SCHEMA);
- `annotations.parquet`, `annotations.jsonl` — raw annotations (ANNOTATIONS_SCHEMA), if given;
- `manifest.parquet` — the pool manifest (byte copy); `splits.json` — the model's split;
- `model/` — the checkpoint folder; `reward_model.onnx`, `reward_model.pt`,
  `reward_model.json` (input format), `inference.py` (ONNX Runtime + NumPy);
- `qa/`, `validation/` — the report.json and report.html given;
- `DATASET_CARD.md`, `MODEL_CARD.md`, `train_reward_model.ipynb`, `release.json`;
- `SHA256SUMS` — every file above.

Everything is staged in a hidden folder under OUT and moved into place at the end, so a
failure leaves no partial release.
"""

from __future__ import annotations

import json
import logging
import shutil
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import pandas as pd
import pyarrow as pa

from robopref import __version__
from robopref.errors import InputError
from robopref.json_files import read_json_object
from robopref.outputs import MARKER, held_staging, output_dir
from robopref.pool.pool import MANIFEST, Pool, open_pool
from robopref.progress import ProgressCallback, no_progress
from robopref.release.archive import place, sha256_file, write_archive, write_checksums
from robopref.release.card import CardInputs, dataset_card
from robopref.release.config import (
    OUTPUT_KIND,
    ReleaseConfig,
    check_release_out,
    is_release_folder,
)
from robopref.release.model_card import model_card
from robopref.release.notebook import write_notebook
from robopref.release.parquet import check_annotations, preferences_table
from robopref.schemas import ANNOTATIONS_TABLE, PREFERENCES_TABLE
from robopref.tables import read_table_file, write_table_files

logger = logging.getLogger(__name__)

RELEASE_SCHEMA_VERSION = 1


@dataclass(frozen=True, kw_only=True)
class ReleaseInputs:
    """The files a release is built from; None where a part is not available."""

    preferences: Path
    """Aggregated preferences (`preferences.parquet` or `.jsonl` from `robopref qa`)."""
    pool: Path
    """The pool folder the preferences compare."""
    model: Path | None = None
    """Reward-model checkpoint folder (`robopref train --out`)."""
    annotations: Path | pd.DataFrame | None = None
    """Raw annotations (ANNOTATIONS_SCHEMA) as a file or frame."""
    store_url: str | None = None
    """Read the raw annotations from the annotation store at this URL instead."""
    qa_report: Path | None = None
    """QA `report.json` (or its folder)."""
    validation: Path | None = None
    """Validation `report.json` (or its folder)."""


@dataclass(frozen=True, kw_only=True)
class ReleaseResult:
    """Where the release went and what it holds."""

    folder: Path
    """The release folder."""
    archive: Path
    """The `.tar.gz` beside it."""
    checksums: dict[str, str]
    """Relative path → SHA-256 of every file in the folder."""
    missing: list[str] = field(default_factory=list)
    """Parts not supplied (the cards say "not available" for them)."""

    def summary_line(self) -> str:
        """One line: archive, file count, missing parts."""
        missing = ", ".join(self.missing) or "none"
        return f"release {self.archive}: {len(self.checksums)} files; missing: {missing}"


def _read_json(path: Path, name: str) -> dict[str, Any]:
    file = path / "report.json" if path.is_dir() else path
    return read_json_object(file, field=name)


def _check_ids(prefs: pd.DataFrame, pool: Pool, origin: Path) -> None:
    known = set(pool.manifest["trajectory_id"])
    for column in ("trajectory_a_id", "trajectory_b_id"):
        unknown = sorted(set(prefs[column].astype(str)) - known)
        if unknown:
            raise InputError(origin, column, f"not in pool {pool.root}: {unknown[:5]}")


def _copy_report(source: Path, target: Path) -> None:
    folder = source if source.is_dir() else source.parent
    target.mkdir(parents=True)
    shutil.copyfile(source / "report.json" if source.is_dir() else source, target / "report.json")
    if (folder / "report.html").is_file():
        shutil.copyfile(folder / "report.html", target / "report.html")


class _Loaded(NamedTuple):
    """Inputs read and checked before anything is written."""

    pool: Pool
    prefs: pd.DataFrame
    pref_table: pa.Table
    annotations: tuple[pd.DataFrame, pa.Table] | None
    qa: dict[str, Any] | None
    validation: dict[str, Any] | None


def _load(inputs: ReleaseInputs) -> _Loaded:
    pool = open_pool(inputs.pool)
    prefs = read_table_file(inputs.preferences, PREFERENCES_TABLE)
    pref_table = preferences_table(prefs, inputs.preferences)
    _check_ids(prefs, pool, Path(inputs.preferences))
    return _Loaded(
        pool=pool,
        prefs=prefs,
        pref_table=pref_table,
        annotations=_annotations(inputs.annotations, inputs.store_url),
        qa=None if inputs.qa_report is None else _read_json(inputs.qa_report, "qa_report"),
        validation=None
        if inputs.validation is None
        else _read_json(inputs.validation, "validation"),
    )


def build_release(
    inputs: ReleaseInputs,
    out_dir: str | Path,
    config: ReleaseConfig | None = None,
    *,
    progress: ProgressCallback = no_progress,
) -> ReleaseResult:
    """Build `OUT/robopref-release-<name>-<version>/` and its archive.

    Raises:
        InputError: A missing or malformed input (named with its file and field), an ONNX
            export that fails the parity check, or a release that already exists.
    """
    config = config or ReleaseConfig()
    out = Path(out_dir)
    check_release_out(out)  # before loading inputs
    loaded = _load(inputs)
    target = out / config.stem
    if target.exists() and not config.overwrite:
        raise InputError(target, "version", "this release exists; bump the version or overwrite")
    with output_dir(out, OUTPUT_KIND, recognise=is_release_folder):
        staging = out / f".{config.stem}.{uuid.uuid4().hex}.partial"
        folder = staging / config.stem
        try:
            with held_staging(staging):
                folder.mkdir()
                progress(1, 4)
                missing = _assemble(folder, inputs, loaded, config)
                progress(2, 4)
                checksums = write_checksums(folder)
                archive = write_archive(folder, staging / f"{config.stem}.tar.gz")
                sums = staging / f"{archive.name}.sha256"
                sums.write_text(f"{sha256_file(archive)}  {archive.name}\n")
                progress(3, 4)
                place(folder, target, overwrite=config.overwrite)
                place(archive, out / archive.name, overwrite=True)
                place(sums, out / sums.name, overwrite=True)
                progress(4, 4)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    result = ReleaseResult(
        folder=target, archive=out / archive.name, checksums=checksums, missing=missing
    )
    logger.info("%s", result.summary_line())
    return result


def _assemble(
    folder: Path, inputs: ReleaseInputs, loaded: _Loaded, config: ReleaseConfig
) -> list[str]:
    """Write every release file into `folder`; returns the parts that were not supplied."""
    write_table_files(loaded.pref_table, folder, "preferences")
    if loaded.annotations is not None:
        write_table_files(loaded.annotations[1], folder, "annotations")
    shutil.copyfile(loaded.pool.root / MANIFEST, folder / MANIFEST)
    spec, record = _model_part(inputs, loaded.pool, folder, config)
    for name, source in (("qa", inputs.qa_report), ("validation", inputs.validation)):
        if source is not None:
            _copy_report(Path(source), folder / name)
    write_notebook(folder, seed=config.notebook_seed)
    parts = {"raw annotations": loaded.annotations, "QA report": loaded.qa,
             "validation report": loaded.validation, "reward model": record}  # fmt: skip
    missing = [name for name, part in parts.items() if part is None]
    _write_cards(folder, config, loaded, spec=spec, record=record)
    info = {"schema_version": RELEASE_SCHEMA_VERSION, "name": config.name,
            "version": config.version, "robopref_version": __version__,
            "missing": missing}  # fmt: skip
    (folder / "release.json").write_text(json.dumps(info, indent=1))
    return missing


def _annotations(
    source: Path | pd.DataFrame | None, store_url: str | None
) -> tuple[pd.DataFrame, pa.Table] | None:
    if source is not None and store_url is not None:
        raise InputError(store_url, "db", "give annotations as a file or a store, not both")
    if store_url is not None:
        from sqlalchemy.exc import SQLAlchemyError

        from robopref.store import annotations_frame, open_store

        store = open_store(store_url, upgrade=False, existing=True)
        try:
            frame = annotations_frame(store)
        except SQLAlchemyError as exc:
            raise InputError(store_url, "db", f"cannot read annotations: {exc}") from exc
        finally:
            store.dispose()
        return frame, check_annotations(frame, store_url)
    if source is None:
        return None
    if isinstance(source, pd.DataFrame):
        return source, check_annotations(source, "annotations")
    frame = read_table_file(source, ANNOTATIONS_TABLE)
    return frame, check_annotations(frame, source)


def _model_part(
    inputs: ReleaseInputs, pool: Pool, folder: Path, config: ReleaseConfig
) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """Copy the checkpoint and write the model files; (spec, record) or (None, None)."""
    if inputs.model is None:
        return None, None
    from robopref.release.inference import write_model_files
    from robopref.reward import load

    model = load(inputs.model)
    shutil.copytree(inputs.model, folder / "model", ignore=shutil.ignore_patterns(MARKER))
    if (folder / "model" / "split.json").is_file():
        shutil.copyfile(folder / "model" / "split.json", folder / "splits.json")
    files = write_model_files(
        folder,
        model,
        pool,
        onnx=config.onnx,
        pt=config.pt,
        atol=config.parity_atol,
        n_check=config.parity_trajectories,
    )
    record = json.loads((Path(inputs.model) / "config.json").read_text())
    return files.spec, record


def _write_cards(
    folder: Path,
    config: ReleaseConfig,
    loaded: _Loaded,
    *,
    spec: dict[str, Any] | None,
    record: dict[str, Any] | None,
) -> None:
    files = {
        p.relative_to(folder).as_posix(): p.stat().st_size
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }
    card = CardInputs(
        name=config.name, version=config.version, preferences=loaded.prefs,
        manifest=loaded.pool.manifest,
        annotations=None if loaded.annotations is None else loaded.annotations[0],
        qa=loaded.qa, validation=loaded.validation, model_spec=spec, model_record=record,
        files=files,
    )  # fmt: skip
    (folder / "DATASET_CARD.md").write_text(dataset_card(card), encoding="utf-8")
    text = model_card(name=config.name, version=config.version, spec=spec, record=record,
                      validation=loaded.validation)  # fmt: skip
    (folder / "MODEL_CARD.md").write_text(text, encoding="utf-8")
