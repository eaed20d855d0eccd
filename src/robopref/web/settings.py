"""Server settings: one pydantic-settings `Settings`, read from `ROBOPREF_*` variables."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """What `create_app` needs; built by `robopref serve` or by tests, never at import time."""

    model_config = SettingsConfigDict(env_prefix="ROBOPREF_", frozen=True)

    db_url: str
    """Store URL (`sqlite:///…` or `postgresql+psycopg://…`)."""
    pool: Path
    """Pool folder; clips are served from `POOL/clips/` only."""
    secret: SecretStr = Field(min_length=16)
    """Project secret: signs session cookies and derives opaque display ids."""
    session_max_age_s: int = Field(default=12 * 3600, ge=60)
    """How long a sign-in lasts, in seconds."""
    secure_cookies: bool = False
    """Mark cookies `Secure` (set behind HTTPS)."""
    upgrade: bool = False
    """Run migrations when the app starts (`robopref serve` migrates once, before workers)."""
