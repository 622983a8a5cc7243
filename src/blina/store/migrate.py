"""Apply Alembic migrations from the package (``blina db upgrade``)."""

from functools import cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, inspect

__all__ = ["downgrade", "heads", "is_current", "upgrade"]

_SCRIPTS = Path(__file__).parent / "migrations"


def _config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(_SCRIPTS))
    config.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False))
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    with engine.begin() as connection:
        config = _config(engine)
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def downgrade(engine: Engine, revision: str) -> None:
    with engine.begin() as connection:
        config = _config(engine)
        config.attributes["connection"] = connection
        command.downgrade(config, revision)


@cache
def heads() -> frozenset[str]:
    """The newest revisions of blina's migration scripts. They ship inside the package
    and never change while it runs, so the folder is read once, at the first call (the
    start-up check of ``blina serve``), not at every readiness probe."""
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(_SCRIPTS))
    return frozenset(ScriptDirectory.from_config(config).get_heads())


def is_current(engine: Engine) -> bool:
    """True when the database has blina's tables at the newest revision."""
    from alembic.runtime.migration import MigrationContext

    if "alembic_version" not in inspect(engine).get_table_names():
        return False
    with engine.connect() as connection:
        return set(MigrationContext.configure(connection).get_current_heads()) == heads()
