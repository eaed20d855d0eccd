"""Rosters of simulated annotators: `oracle:3,speeder:1` (or a YAML file) dealt over a batch."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from robopref.errors import InputError
from robopref.teachers.simulated import TEACHERS, TRAITS, SimulatedAnnotator


def parse_roster(spec: str) -> list[dict[str, Any]]:
    """Roster entries from `oracle:3,speeder:1,stochastic+left-clicker:1` or a YAML file.

    A name is a teacher (trait careful), a trait (teacher oracle) or `teacher+trait`. A YAML
    file holds a list of mappings with `teacher`, `trait`, `count` and/or `annotator_id`.

    Returns:
        Mappings with `teacher`, `trait`, `count` and optional `annotator_id`.

    Raises:
        InputError: Unknown name, bad count or unreadable file (field `annotators`).
    """
    path = Path(spec)
    if spec.endswith((".yaml", ".yml")):
        try:
            loaded = yaml.safe_load(path.read_text())
        except (OSError, yaml.YAMLError) as exc:
            raise InputError(path, "annotators", f"unreadable: {exc}") from exc
        if not isinstance(loaded, list) or not all(isinstance(e, dict) for e in loaded):
            raise InputError(path, "annotators", "must be a list of {teacher, trait, count}")
        return [_entry(path, e) for e in loaded]
    entries = []
    for item in filter(None, (s.strip() for s in spec.split(","))):
        name, _, count = item.partition(":")
        teacher, trait = _split_name(spec, name.strip())
        entries.append(_entry(spec, {"teacher": teacher, "trait": trait, "count": count or 1}))
    if not entries:
        raise InputError(spec, "annotators", "no annotators given")
    return entries


def _split_name(spec: str, name: str) -> tuple[str, str]:
    if "+" in name:
        teacher, trait = name.split("+", 1)
        return teacher, trait
    if name in TEACHERS:
        return name, "careful"
    if name in TRAITS:
        return "oracle", name
    known = sorted(TEACHERS) + sorted(TRAITS)
    raise InputError(spec, "annotators", f"{name!r} is not a teacher or trait ({known})")


def _entry(where: object, entry: dict[str, Any]) -> dict[str, Any]:
    teacher, trait = str(entry.get("teacher", "oracle")), str(entry.get("trait", "careful"))
    if teacher not in TEACHERS or trait not in TRAITS:
        raise InputError(str(where), "annotators", f"unknown teacher/trait {teacher}+{trait}; "
                         f"teachers {sorted(TEACHERS)}, traits {sorted(TRAITS)}")
    try:
        count = int(entry.get("count", 1))
    except (TypeError, ValueError):
        raise InputError(str(where), "annotators", f"bad count {entry.get('count')!r}") from None
    if count < 1 or ("annotator_id" in entry and count != 1):
        raise InputError(str(where), "annotators", "count must be ≥ 1 (1 with annotator_id)")
    out = {"teacher": teacher, "trait": trait, "count": count}
    if "annotator_id" in entry:
        out["annotator_id"] = str(entry["annotator_id"])
    return out


def cast_roster(
    entries: Sequence[dict[str, Any]], annotator_ids: Sequence[str]
) -> list[SimulatedAnnotator]:
    """Give each of a batch's annotators a profile.

    Entries with an `annotator_id` take theirs; the rest are dealt out over the remaining
    ids in sorted order.

    Raises:
        InputError: The roster does not cover exactly the batch's annotators.
    """
    named = {e["annotator_id"]: e for e in entries if "annotator_id" in e}
    unknown = sorted(set(named) - set(annotator_ids))
    if unknown:
        raise InputError("--annotators", "annotators", f"not in the batch: {unknown}")
    rest = [a for a in sorted(annotator_ids) if a not in named]
    profiles = [(e["teacher"], e["trait"]) for e in entries if "annotator_id" not in e
                for _ in range(e["count"])]
    if len(profiles) != len(rest):
        raise InputError("--annotators", "annotators",
                         f"gives {len(profiles)} unnamed annotators but the batch has "
                         f"{len(rest)} to cast ({rest[:6]}{'…' if len(rest) > 6 else ''})")
    cast = [SimulatedAnnotator(annotator_id=i, teacher=e["teacher"], trait=e["trait"])
            for i, e in named.items()]
    cast += [SimulatedAnnotator(annotator_id=i, teacher=t, trait=r)
             for i, (t, r) in zip(rest, profiles, strict=True)]
    return sorted(cast, key=lambda a: a.annotator_id)
