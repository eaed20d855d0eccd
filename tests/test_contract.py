"""DESIGN.md's public contract, the schema constants and the stores agree."""

import re
from pathlib import Path

import pytest

from robopref.pool.schema import CONTRACT_COLUMNS, MANIFEST_SCHEMA
from robopref.schemas import ANNOTATIONS_SCHEMA, PREFERENCES_SCHEMA

ROOT = Path(__file__).resolve().parents[1]
DESIGN = ROOT / "docs" / "design.md"
SHARED = ROOT.parent / "shared" / "DESIGN.md"


def _section(title: str) -> str:
    text = DESIGN.read_text()
    start = text.index(title)
    end = text.find("\n### ", start + len(title))
    return text[start : end if end > 0 else None]


def _backticked(text: str) -> set[str]:
    return {w for w in re.findall(r"`([a-z_]+)`", text)}


def _contract_sections(text: str) -> str:
    """The public-contract part of a design document (docs/design.md may add other sections)."""
    start = text.index("## Public contract")
    end = text.find("\n## ", start + 1)
    return text[start:] if end < 0 else text[start:end]


def test_vendored_design_keeps_the_shared_public_contract():
    if not SHARED.exists():
        pytest.skip(f"{SHARED} not present (clean clone outside the workspace)")
    assert _contract_sections(DESIGN.read_text()) == _contract_sections(SHARED.read_text())


def test_manifest_schema_has_every_design_column():
    section = _section("### Pool folder")
    named = _backticked(section.split("Per-trajectory arrays")[0])
    named -= {"expert", "novice", "scripted", "random"}  # source values, not columns
    assert named <= set(MANIFEST_SCHEMA.names), named - set(MANIFEST_SCHEMA.names)
    assert set(CONTRACT_COLUMNS) <= set(MANIFEST_SCHEMA.names)
    assert set(CONTRACT_COLUMNS) == named


def test_preference_export_schema_has_every_design_column():
    section = _section("### Preferences export")
    export_part, raw_part = section.split("Raw annotations keep:")
    assert _backticked(export_part) - {"jsonl"} <= set(PREFERENCES_SCHEMA.names)
    raw = _backticked(raw_part)
    assert raw <= set(ANNOTATIONS_SCHEMA.names), raw - set(ANNOTATIONS_SCHEMA.names)
