"""Typed readers for HDF5 groups, datasets and attributes, for the robomimic importer.

h5py reports a corrupt object as OSError, KeyError or RuntimeError, a type numpy cannot hold
as TypeError, a broken link as KeyError, and follows external links into other files. Every
read here goes through one of these readers, which turn all of that into an `InputError`
naming the file, the object and what is wrong; external links are never followed.
"""

from __future__ import annotations

from typing import Any

import h5py
import numpy as np

from robopref.errors import InputError
from robopref.json_files import as_object, parse_json
from robopref.pool.ingest.fields import read_text, scalar

H5_ERRORS = (OSError, KeyError, RuntimeError, ValueError, TypeError)
"""What h5py raises when an object cannot be read (see the module docstring)."""


def member(group: h5py.Group, name: str, *, where: str, field: str) -> Any | None:
    """The object `name` of `group` (a Group or Dataset), or None if there is none.

    Raises:
        InputError: An external link, a broken link, or an object that cannot be opened.
    """
    try:
        link = group.get(name, getlink=True)
        if link is None:
            return None
        if isinstance(link, h5py.ExternalLink):
            raise InputError(where, field, "is a link to another file, which is not followed")
        return group[name]
    except H5_ERRORS as exc:
        raise InputError(where, field, f"unreadable: {exc}") from exc


def names(group: h5py.Group, *, where: str, field: str) -> list[str]:
    """The member names of `group`.

    Raises:
        InputError: The group cannot be listed.
    """
    try:
        return list(group)
    except H5_ERRORS as exc:
        raise InputError(where, field, f"unreadable: {exc}") from exc


def read_group(group: h5py.Group, name: str, *, where: str, field: str) -> h5py.Group:
    """The group `name` of `group`.

    Raises:
        InputError: Missing, unreadable, or not a group.
    """
    item = member(group, name, where=where, field=field)
    if not isinstance(item, h5py.Group):
        raise InputError(where, field, "group missing" if item is None else "must be a group")
    return item


def read_dataset(group: h5py.Group, name: str, *, where: str, field: str) -> np.ndarray:
    """The numeric per-step dataset `name` of `group`, read whole.

    Raises:
        InputError: Missing, a group, unreadable, a scalar, or not numeric.
    """
    item = member(group, name, where=where, field=field)
    if item is None:
        raise InputError(where, field, "dataset missing")
    if not isinstance(item, h5py.Dataset):
        raise InputError(where, field, "is a group, expected a dataset")
    try:
        array = np.asarray(item[()])
    except H5_ERRORS as exc:
        raise InputError(where, field, f"unreadable: {exc}") from exc
    if array.ndim == 0:
        raise InputError(where, field, "is a scalar, expected one row per step")
    if array.dtype.kind not in "biuf":
        raise InputError(where, field, f"must be numeric, got dtype {array.dtype}")
    return array


def read_attr(obj: h5py.Group | h5py.Dataset, name: str, *, where: str) -> object:
    """The attribute `name` of `obj` as a Python value (numpy scalars unwrapped), or None.

    Raises:
        InputError: The attribute cannot be read.
    """
    try:
        return scalar(obj.attrs.get(name))
    except H5_ERRORS as exc:
        raise InputError(where, f"attrs[{name!r}]", f"unreadable: {exc}") from exc


def read_json_attr(obj: h5py.Group, name: str, *, where: str) -> dict[str, Any]:
    """A JSON-object attribute (robomimic `env_args`, `problem_info`); {} if absent.

    Raises:
        InputError: Unreadable, not UTF-8 text, not JSON, or not a JSON object.
    """
    field = f"attrs[{name!r}]"
    raw = read_text(read_attr(obj, name, where=where), path=where, field=field, max_chars=10**6)
    if raw is None:
        return {}
    return as_object(parse_json(raw, path=where, field=field), path=where, field=field)
