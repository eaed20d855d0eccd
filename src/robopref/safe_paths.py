"""Names from data made safe for the file system, and paths that cannot leave their folder.

Every name that comes from data (trajectory ids, camera keys, episode keys, batch ids, task
strings) passes through here before it becomes part of a path:

- `check_name` refuses a name that is not already safe (records such as Trajectory use it);
- `safe_name` maps any text to a safe name deterministically (importers use it, and record
  the original beside the result);
- `NameMap` does that for a whole namespace and refuses two names that map to one file;
- `path_inside` joins parts under a root and refuses a result outside it.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from pathlib import Path

from robopref.errors import InputError, shown

MAX_NAME_CHARS = 100
"""Longest safe name. Leaves room under the usual 255-byte NAME_MAX for the suffixes writers
add (`.mp4`, `.<uuid>.tmp`, `.<uuid>.old`)."""

MAX_PART_CHARS = 200
"""Longest path part `path_inside` accepts: a safe name plus a writer's suffix."""

_SAFE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
_UNSAFE_RUN = re.compile(r"[^A-Za-z0-9._-]+")
_RESERVED = {"con", "prn", "aux", "nul"} | {f"{p}{i}" for p in ("com", "lpt") for i in range(10)}
"""Device names Windows refuses as file names (a pool may be copied there)."""
_DIGEST_CHARS = 8


def is_safe_name(name: object, *, max_chars: int = MAX_NAME_CHARS) -> bool:
    """True if `name` can be used as one file or folder name as it is.

    Safe: ASCII letters, digits, `.`, `_`, `-`; starts with a letter or digit; at most
    MAX_NAME_CHARS; no `..`; not a reserved device name; does not end in `.`.

    >>> [is_safe_name(n) for n in ("pick-v3__expert-0001", "../x", ".hidden", "a/b", "é")]
    [True, False, False, False, False]
    """
    return (
        isinstance(name, str)
        and len(name) <= max_chars
        and _SAFE.fullmatch(name) is not None
        and ".." not in name
        and not name.endswith(".")
        and name.split(".")[0].lower() not in _RESERVED
    )


def check_name(name: object, *, path: str | Path, field: str) -> str:
    """Return `name` if it is safe (see `is_safe_name`).

    Raises:
        InputError: Naming `path` and `field`, the name, and what a safe name looks like.
    """
    if not is_safe_name(name):
        raise InputError(
            path,
            field,
            f"{shown(name)} is not a safe name: use 1–{MAX_NAME_CHARS} ASCII letters, digits,"
            " '.', '_' or '-', starting with a letter or digit, without '..'",
        )
    return str(name)


def safe_name(text: str, *, fallback: str = "unnamed") -> str:
    """A safe name for `text`: `text` itself if safe, else a cleaned form plus a digest.

    The digest (8 hex characters of SHA-256 of the original) keeps different originals apart
    ("a b" and "a_b" stay different), so the mapping is deterministic and, in practice,
    one-to-one; `NameMap` checks that it is within a namespace.

    >>> safe_name("koch_pick")
    'koch_pick'
    >>> safe_name("../../etc/passwd")
    'etc_passwd-...'
    >>> len(safe_name("x" * 500)) <= MAX_NAME_CHARS
    True
    """
    if is_safe_name(text):
        return text
    ascii_text = unicodedata.normalize("NFKD", str(text)).encode("ascii", "ignore").decode()
    cleaned = _UNSAFE_RUN.sub("_", ascii_text).replace("..", "_").strip("._-") or fallback
    digest = hashlib.sha256(str(text).encode("utf-8", "surrogatepass")).hexdigest()
    head = cleaned[: MAX_NAME_CHARS - _DIGEST_CHARS - 1].rstrip("._-") or fallback
    if head.split(".")[0].lower() in _RESERVED:
        head = f"{fallback}_{head}"[: MAX_NAME_CHARS - _DIGEST_CHARS - 1]
    return f"{head}-{digest[:_DIGEST_CHARS]}"


class NameMap:
    """Maps the names of one namespace (e.g. the cameras of a dataset) to safe, distinct names.

    Two originals that would share a file — the same safe name, or names equal but for case
    (one file on macOS and Windows) — are refused rather than silently merged.

    >>> names = NameMap("data.npz", "camera")
    >>> names.add("front view"), names.add("wrist")
    ('front_view-...', 'wrist')
    >>> names.mapping["wrist"]
    'wrist'
    """

    def __init__(self, path: str | Path, field: str) -> None:
        self.path = str(path)
        self.field = field
        self.mapping: dict[str, str] = {}
        """Original name → safe name, in the order added (record it beside the output)."""
        self._owner: dict[str, str] = {}

    def add(self, original: str) -> str:
        """The safe name of `original` (the same one each time it is added).

        Raises:
            InputError: `original` maps to the file of an earlier, different name.
        """
        if original in self.mapping:
            return self.mapping[original]
        name = safe_name(original)
        key = name.casefold()
        if key in self._owner:
            raise InputError(
                self.path,
                self.field,
                f"{shown(original)} and {shown(self._owner[key])} map to the same file name"
                f" {name!r}; rename one of them",
            )
        self._owner[key] = original
        self.mapping[original] = name
        return name


def path_inside(root: Path, *parts: str) -> Path:
    """`root / parts...`, refused unless it resolves to a path inside `root`.

    Each part must be a safe name (see `is_safe_name`; up to MAX_PART_CHARS, so that a safe
    name plus a suffix such as `.mp4` passes); the resolved result is checked too,
    so a symlink inside `root` that points out of it is refused as well.

    Raises:
        InputError: A part is not a safe name, or the result lies outside `root`.

    >>> path_inside(Path("/pool"), "trajectories", "t-0001").as_posix()
    '/pool/trajectories/t-0001'
    """
    for part in parts:
        if not is_safe_name(part, max_chars=MAX_PART_CHARS):
            check_name(part, path=root, field="path")  # raises, with the explanation
    joined = root.joinpath(*parts)
    base = root.resolve()
    resolved = joined.resolve()
    if resolved != base and base not in resolved.parents:
        raise InputError(joined, "path", f"resolves to {resolved}, outside {base}")
    return joined
