"""The pool's display key: opaque clip display ids, burned into clips and used in clip URLs.

The key lives with the clips, in `POOL/clips/display-key.json` (mode 0600), written once by
the first render run and never served or packaged. A clip's display id is a truncated
HMAC-SHA256 of its trajectory id under the key, so it is stable for the pool and cannot be
derived from the trajectory id without the key.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import uuid
from pathlib import Path

from robopref.errors import InputError

KEY_FILE = "display-key.json"
"""Name of the key file inside the clip folder."""
KEY_FORMAT = "robopref-display-key"
"""`format` of the key file."""
KEY_VERSION = 1
"""`version` of the key file this code reads and writes."""
KEY_BYTES = 32
"""Key length in bytes (64 hex digits in the file)."""
DISPLAY_ID_CHARS = 24
"""Length of a clip display id: hex of an HMAC-SHA256 truncated to 96 bits."""


def clip_display_id(key: bytes, trajectory_id: str) -> str:
    """The opaque display id of a trajectory's clip under `key`.

    >>> clip_display_id(bytes(32), "pick-place-v3__random__s0-0000")
    '3e24e9fa18a21b2b01193f4e'
    >>> clip_display_id(bytes(32), "a") == clip_display_id(bytes([1] * 32), "a")
    False
    """
    mac = hmac.new(key, b"clip\x00" + trajectory_id.encode(), hashlib.sha256)
    return mac.hexdigest()[:DISPLAY_ID_CHARS]


def key_path(clips_dir: Path) -> Path:
    """Where the display key of the clips in `clips_dir` is stored."""
    return Path(clips_dir) / KEY_FILE


def load_display_key(clips_dir: Path) -> bytes | None:
    """The display key of `clips_dir`, or None when no key file is there.

    Raises:
        InputError: The key file exists but is unreadable or malformed (naming the field).
    """
    path = key_path(clips_dir)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(path, KEY_FILE, f"cannot be read: {exc}") from exc
    return _parse_key(path, text)


def _parse_key(path: Path, text: str) -> bytes:
    """The key of a key file's text, checking format, version and key."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(path, KEY_FILE, f"is not JSON ({exc.msg}, line {exc.lineno})") from exc
    if not isinstance(data, dict):
        raise InputError(path, KEY_FILE, "must be a JSON object")
    if data.get("format") != KEY_FORMAT:
        raise InputError(path, "format", f"must be {KEY_FORMAT!r}, got {data.get('format')!r}")
    if data.get("version") != KEY_VERSION:
        raise InputError(
            path, "version", f"must be {KEY_VERSION} (this robopref), got {data.get('version')!r}"
        )
    key = data.get("key")
    if not (isinstance(key, str) and len(key) == 2 * KEY_BYTES and _is_hex(key)):
        raise InputError(path, "key", f"must be {2 * KEY_BYTES} hex digits")
    return bytes.fromhex(key)


def _is_hex(text: str) -> bool:
    return all(c in "0123456789abcdefABCDEF" for c in text)


def ensure_display_key(clips_dir: Path) -> bytes:
    """The display key of `clips_dir`, created (mode 0600) when there is none.

    The new key file is written completely under a temporary name, then hard-linked into
    place, which fails if the file already exists (like an `O_EXCL` create): of two
    processes racing, one key wins and both return it.

    Raises:
        InputError: An existing key file is malformed.
    """
    key = load_display_key(clips_dir)
    if key is not None:
        return key
    clips_dir = Path(clips_dir)
    clips_dir.mkdir(parents=True, exist_ok=True)
    path = key_path(clips_dir)
    new = secrets.token_bytes(KEY_BYTES)
    record = {"format": KEY_FORMAT, "version": KEY_VERSION, "key": new.hex()}
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            os.fchmod(handle.fileno(), 0o600)  # whatever the umask
            handle.write(json.dumps(record) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.link(tmp, path)
    except FileExistsError:  # another render run made one first: use theirs
        return _parse_key(path, path.read_text(encoding="utf-8"))
    finally:
        tmp.unlink(missing_ok=True)
    return new
