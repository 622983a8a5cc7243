"""One Settings object, built at the edge (CLI callback, ``create_app``) and passed down.

Values come from ``BLINA_*`` environment variables. Defaults run the demo on SQLite in
the user's data directory with ``environment="local"``; outside ``local`` blina refuses
the placeholder secret and a non-loopback bind.
"""

import os
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["PLACEHOLDER_SECRET", "Settings", "default_data_dir"]

PLACEHOLDER_SECRET = "change-this-local-only"


def default_data_dir() -> Path:
    """``$XDG_DATA_HOME/blina`` or ``~/.local/share/blina``."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "blina"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="BLINA_", extra="ignore")

    environment: Literal["local", "production"] = "local"
    database_url: str = Field(
        default="", description="SQLAlchemy URL; empty: SQLite in the data directory"
    )
    data_dir: Path = Field(default_factory=default_data_dir)
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    secret_key: SecretStr = SecretStr(PLACEHOLDER_SECRET)
    access_log: bool = Field(
        default=False,
        description="Log every request line; off by default: addresses carry patient ids, "
        "and the audit trail already records who did what",
    )
    session_hours: int = Field(default=12, ge=1, le=24 * 30)
    login_max_failures: int = Field(default=5, ge=1)
    login_lockout_minutes: int = Field(default=15, ge=1)
    cookie_secure: bool = False
    smtp_host: str = "127.0.0.1"
    smtp_port: int = Field(default=25, ge=1, le=65535)
    smtp_from: str = "blina@localhost"
    worker_interval_seconds: float = Field(
        default=15, gt=0, description="How often alerts are escalated and notifications sent"
    )
    site_library: Path | None = Field(
        default=None,
        description="The pharmacy's validated site drug library (TOML); empty: the demo library",
    )

    @model_validator(mode="after")
    def _refuse_unsafe_outside_local(self) -> "Settings":
        if self.environment != "local":
            if self.secret_key.get_secret_value() == PLACEHOLDER_SECRET:
                raise ValueError("BLINA_SECRET_KEY must be set outside the local environment")
            if not self.cookie_secure:
                raise ValueError("BLINA_COOKIE_SECURE must be true outside the local environment")
        return self

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+pysqlite:///{self.data_dir / 'blina.sqlite3'}"
