"""HMAC signing: opaque display ids, signed session cookies and their CSRF tokens."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass

DISPLAY_ID_CHARS = 24
"""Length of a display id (hex of a truncated HMAC-SHA256: 96 bits)."""


def display_id(secret: str, kind: str, value: str) -> str:
    """Opaque, stable id for `value` (a trajectory or pair id), not derivable without `secret`.

    >>> display_id("s" * 16, "clip", "t1") == display_id("s" * 16, "clip", "t1")
    True
    >>> display_id("s" * 16, "clip", "t1") == display_id("s" * 16, "pair", "t1")
    False
    """
    mac = hmac.new(secret.encode(), f"{kind}\x00{value}".encode(), hashlib.sha256)
    return mac.hexdigest()[:DISPLAY_ID_CHARS]


@dataclass(frozen=True)
class SessionData:
    """Who a session cookie signs in, until when, and the nonce its CSRF token derives from."""

    annotator_id: str
    """The signed-in annotator."""
    role: str
    """`annotator` or `admin`."""
    expires_at: float
    """Unix time after which the cookie is refused."""
    nonce: str
    """Random per sign-in."""
    token_tag: str
    """`token_tag` of the login token's stored hash: the session ends when it is replaced."""


def token_tag(secret: str, stored_hash: str) -> str:
    """A short tag of a stored token hash, keyed by the secret (the cookie never holds it)."""
    mac = hmac.new(secret.encode(), f"token\x00{stored_hash}".encode(), hashlib.sha256)
    return mac.hexdigest()[:32]


def _mac(secret: str, body: bytes) -> str:
    return hmac.new(secret.encode(), b"session\x00" + body, hashlib.sha256).hexdigest()


def new_session(annotator_id: str, role: str, tag: str, max_age_s: int) -> SessionData:
    """A fresh session for `annotator_id` (login `tag`) that expires in `max_age_s` seconds."""
    return SessionData(annotator_id, role, time.time() + max_age_s, secrets.token_urlsafe(16),
                       tag)


def sign_session(secret: str, data: SessionData) -> str:
    """The cookie value: base64 JSON body and its HMAC, joined by a dot."""
    payload = {"a": data.annotator_id, "r": data.role, "e": data.expires_at, "n": data.nonce,
               "t": data.token_tag}
    body = base64.urlsafe_b64encode(json.dumps(payload).encode())
    return f"{body.decode()}.{_mac(secret, body)}"


def read_session(secret: str, cookie: str | None) -> SessionData | None:
    """The session a cookie signs, or None when it is missing, forged, malformed or expired."""
    if not cookie or cookie.count(".") != 1:
        return None
    body_text, mac = cookie.split(".")
    body = body_text.encode()
    if not hmac.compare_digest(_mac(secret, body), mac):
        return None
    try:
        payload = json.loads(base64.urlsafe_b64decode(body))
        data = SessionData(str(payload["a"]), str(payload["r"]), float(payload["e"]),
                           str(payload["n"]), str(payload["t"]))
    except (ValueError, KeyError, TypeError):
        return None
    return data if data.expires_at > time.time() else None


def csrf_token(secret: str, data: SessionData) -> str:
    """The CSRF token of a session: sent back in the `X-CSRF-Token` header of every write."""
    return hmac.new(secret.encode(), f"csrf\x00{data.nonce}".encode(), hashlib.sha256).hexdigest()


def is_csrf_valid(secret: str, data: SessionData, header: str | None) -> bool:
    """True when `header` is the session's CSRF token (compared in constant time)."""
    return header is not None and hmac.compare_digest(csrf_token(secret, data), header)
