"""One Settings object, built at the edge (CLI callback, ``create_app``) and passed down.

Values come from ``BLINA_*`` environment variables. Defaults run the demo on SQLite in
the user's data directory with ``environment="local"``; outside ``local`` blina refuses
the placeholder secret and a non-loopback bind.
"""

import os
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["LOOPBACK_HOSTS", "PLACEHOLDER_SECRET", "Settings", "default_data_dir"]

PLACEHOLDER_SECRET = "change-this-local-only"
# The names and addresses that reach only this machine: blina bound to one (``host``)
# cannot be reached from elsewhere, and a request from one that no proxy forwarded came
# from here. (A request's address is always numeric, so "localhost" only ever matches a
# bind.)
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "::1", "localhost"})


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
    public_url: str = Field(
        default="",
        description="The address people reach blina at (https://blina.example.org), for the "
        "addresses blina hands out (calendar feeds); required outside local, where a request's "
        "own Host header (chosen by its sender) is never used",
    )
    # Request limits: the largest real request is a check-in with every symptom, its
    # follow-up answers and a 2,000-character note, about 28 kB as JSON with every character
    # escaped or as a form (27,210 and 27,954 bytes); a replan with 100 events is 38 kB.
    max_json_body_bytes: int = Field(
        default=64 * 1024, ge=1024, description="The largest JSON (or other non-form) body; 413"
    )
    max_form_body_bytes: int = Field(
        default=64 * 1024, ge=1024, description="The largest form a page posts; 413 beyond"
    )
    max_header_bytes: int = Field(
        default=32 * 1024,
        ge=4096,
        description="The request line and headers together; 431 beyond (nginx's default, "
        "four buffers of 8 kB)",
    )
    secret_key: SecretStr = SecretStr(PLACEHOLDER_SECRET)
    audit_key: SecretStr | None = Field(
        default=None,
        min_length=32,
        description="Signs the audit trail (events, audited records, the head file): kept "
        "outside the database, so someone who can only write to it cannot rewrite history "
        "unnoticed; at least 32 characters, required outside local",
    )
    audit_head_file: Path | None = Field(
        default=None,
        description="The append-only file of the trail's signed head, one line per commit "
        "that moved it; empty: audit-head.log in the data directory",
    )
    access_log: bool = Field(
        default=False,
        description="Log one JSON line per request (route template, status, time; never "
        "the address, which carries patient ids); off by default: the audit trail already "
        "records who did what",
    )
    session_hours: int = Field(default=12, ge=1, le=24 * 30)
    password_reset_hours: int = Field(
        default=24,
        ge=1,
        le=24 * 7,
        description="How long a password reset link an admin issues works (once), in hours",
    )
    invitation_hours: int = Field(
        default=72,
        ge=1,
        le=24 * 14,
        description="How long an invitation the care team issues a family member works "
        "(once), in hours",
    )
    login_max_failures: int = Field(
        default=5, ge=1, description="Wrong passwords in a row before an account pauses"
    )
    login_lockout_first_seconds: int = Field(
        default=60, ge=1, description="The first pause; each failure after it doubles the pause"
    )
    login_lockout_minutes: int = Field(default=15, ge=1, description="The longest pause")
    login_failures_per_source: int = Field(
        default=30, ge=1, description="Failed logins from one address in a minute, then 429"
    )
    login_failures_per_username: int = Field(
        default=10,
        ge=1,
        description="Failed logins naming one username (known or not) in a minute, then 429",
    )
    login_refusal_delay_seconds: float = Field(
        default=1.0,
        ge=0,
        description="How long a 429 to a login is held before it is sent (a flood slows down)",
    )
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
    backup_dir: Path | None = Field(
        default=None, description="Where backups go; empty: backups/ in the data directory"
    )
    backup_keep: int = Field(
        default=14, ge=1, le=10_000, description="Verified backups kept; older ones are removed"
    )
    backup_every_hours: float = Field(
        default=0,
        ge=0,
        le=24 * 31,
        description="`blina serve` takes a backup this often (hours); 0: only on command",
    )
    metrics: bool = Field(
        default=False,
        description="Serve Prometheus metrics at /metrics (to loopback, or with the token)",
    )
    metrics_token: SecretStr | None = Field(
        default=None,
        min_length=16,
        description="A bearer token /metrics requires from any address but loopback",
    )

    @field_validator("public_url")
    @classmethod
    def _origin_and_path_only(cls, value: str) -> str:
        """``https://host[:port][/prefix]``, kept without a trailing slash."""
        if not value:
            return value
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(
                "BLINA_PUBLIC_URL must be an http(s) address such as https://blina.example.org"
            )
        if parts.query or parts.fragment or parts.username or parts.password:
            raise ValueError("BLINA_PUBLIC_URL takes no query, fragment or user name")
        return value.rstrip("/")

    @model_validator(mode="after")
    def _refuse_unsafe_outside_local(self) -> "Settings":
        if self.environment != "local":
            if self.secret_key.get_secret_value() == PLACEHOLDER_SECRET:
                raise ValueError("BLINA_SECRET_KEY must be set outside the local environment")
            if self.audit_key is None:
                raise ValueError("BLINA_AUDIT_KEY must be set outside the local environment")
            if not self.cookie_secure:
                raise ValueError("BLINA_COOKIE_SECURE must be true outside the local environment")
            if not self.public_url.startswith("https://"):
                raise ValueError(
                    "BLINA_PUBLIC_URL must be set to an https address outside the local environment"
                )
        return self

    def address_for(self, path: str, *, as_requested: str) -> str:
        """The full address of ``path`` (a page of this site) for someone outside to open:
        under ``public_url``; ``as_requested`` (built from a request's own Host header,
        which its sender chooses) only in the local environment when no public address is
        set."""
        if self.public_url:
            return f"{self.public_url}{path}"
        if self.environment != "local":
            raise RuntimeError("BLINA_PUBLIC_URL is required outside the local environment")
        return as_requested

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+pysqlite:///{self.data_dir / 'blina.sqlite3'}"
