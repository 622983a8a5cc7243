"""Copies of the database while it runs, and putting one back.

SQLite: ``VACUUM INTO`` writes a consistent, compact copy from one read transaction, so
check-ins keep being written meanwhile (WAL: a reader never blocks a writer); a restore
copies the file's pages into the target with SQLite's online backup API. PostgreSQL:
``pg_dump`` in its custom format (one consistent snapshot) and ``pg_restore``, found on
the PATH. Whether a copy is worth keeping (integrity, the audit trail) is judged above
this module (``blina.services.backups``), which can verify the trail.
"""

import os
import shutil
import sqlite3
import subprocess
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, inspect
from sqlalchemy.engine import make_url

__all__ = [
    "BackupError",
    "Target",
    "archive_problem",
    "copy_into",
    "has_data",
    "sqlite_integrity",
    "target_of",
    "write_copy",
]

# pg_dump of a clinic's database takes seconds; an hour means something is wrong.
_TOOL_TIMEOUT_SECONDS = 3600


class BackupError(Exception):
    """A copy or restore that could not be made, with the reason in words."""


@dataclass(frozen=True, slots=True)
class Target:
    """A database as the backup tools see it: a SQLite file, or a PostgreSQL address in
    libpq's form (password passed through the environment, never on a command line)."""

    kind: str  # "sqlite" or "postgresql"
    sqlite_path: Path | None = None
    libpq_url: str = ""
    password: str | None = None

    @property
    def suffix(self) -> str:
        return ".sqlite3" if self.kind == "sqlite" else ".pgdump"


def target_of(url: str) -> Target:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if not parsed.database or parsed.database == ":memory:":
            raise BackupError("an in-memory SQLite database has nothing to back up")
        return Target("sqlite", sqlite_path=Path(parsed.database))
    if parsed.get_backend_name() == "postgresql":
        plain = parsed.set(drivername="postgresql", password=None)
        return Target(
            "postgresql",
            libpq_url=plain.render_as_string(hide_password=False),
            password=parsed.password if isinstance(parsed.password, str) else None,
        )
    raise BackupError(f"no backup method for {parsed.get_backend_name()} databases")


def write_copy(engine: Engine, target: Target, into: Path) -> None:
    """Write a consistent copy of the running database to ``into`` (a new file)."""
    if target.kind == "sqlite":
        with engine.connect() as connection:
            raw = connection.connection.driver_connection
            assert isinstance(raw, sqlite3.Connection)
            raw.execute("VACUUM INTO ?", (str(into),))
        return
    _run_tool(
        target,
        "pg_dump",
        ["--format=custom", "--no-owner", f"--file={into}", f"--dbname={target.libpq_url}"],
    )


def sqlite_integrity(path: Path) -> str | None:
    """None when SQLite finds the file whole; else what it found."""
    try:
        with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as connection:
            rows = connection.execute("PRAGMA integrity_check").fetchall()
    except sqlite3.DatabaseError as error:
        return f"not a readable SQLite database ({error})"
    found = [row[0] for row in rows]
    return None if found == ["ok"] else "; ".join(str(f) for f in found[:5])


def archive_problem(target: Target, path: Path) -> str | None:
    """None when ``pg_restore`` can read the archive's table of contents."""
    try:
        _run_tool(target, "pg_restore", ["--list", str(path)])
    except BackupError as error:
        return str(error)
    return None


def has_data(engine: Engine) -> bool:
    """Whether the database holds any table at all (a restore goes into an empty one)."""
    return bool(inspect(engine).get_table_names())


def copy_into(engine: Engine, target: Target, source: Path, *, replace: bool) -> None:
    """Put the backup ``source`` into the (empty, or ``replace``d) database."""
    if target.kind == "sqlite":
        with (
            closing(sqlite3.connect(f"file:{source}?mode=ro", uri=True)) as copy,
            engine.connect() as connection,
        ):
            raw = connection.connection.driver_connection
            assert isinstance(raw, sqlite3.Connection)
            copy.backup(raw)
        return
    options = ["--no-owner", f"--dbname={target.libpq_url}", "--exit-on-error"]
    if replace:
        options += ["--clean", "--if-exists"]
    _run_tool(target, "pg_restore", [*options, str(source)])


def _run_tool(target: Target, tool: str, arguments: list[str]) -> None:
    program = shutil.which(tool)
    if program is None:
        raise BackupError(
            f"{tool} is not on the PATH: install the PostgreSQL client tools (the "
            "postgresql-client package) or add their bin directory to PATH"
        )
    environment = dict(os.environ)
    if target.password is not None:
        environment["PGPASSWORD"] = target.password
    try:
        done = subprocess.run(
            [program, *arguments],
            env=environment,
            capture_output=True,
            text=True,
            timeout=_TOOL_TIMEOUT_SECONDS,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise BackupError(f"{tool} did not finish within {_TOOL_TIMEOUT_SECONDS} s") from None
    if done.returncode != 0:
        message = done.stderr.strip().splitlines()
        raise BackupError(f"{tool} failed: {message[-1] if message else done.returncode}")
