"""The Typer application that every command module registers on."""

from collections.abc import Iterator
from contextlib import contextmanager

import typer
from pydantic import ValidationError

from blina.config import Settings
from blina.domain.errors import BlinaError

__all__ = ["EXIT_BAD_INPUT", "EXIT_HARD_STOP", "app", "settings_or_exit", "user_errors"]

EXIT_BAD_INPUT = 2
EXIT_HARD_STOP = 3

app = typer.Typer(
    help="blina: blinatumomab therapy made safe and easy to run.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


@contextmanager
def user_errors() -> Iterator[None]:
    """Bad input ends the command with one line on stderr and exit code 2."""
    try:
        yield
    except BlinaError as error:
        typer.echo(f"blina: {error}", err=True)
        raise typer.Exit(EXIT_BAD_INPUT) from None


def settings_or_exit(**overrides: object) -> Settings:
    """The settings from ``BLINA_*`` and the command's options, or one line naming the
    setting that is wrong and exit 2 (never a traceback)."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as error:
        problem = error.errors()[0]
        where = ".".join(str(part) for part in problem["loc"]) or "settings"
        name = f"--{where}" if where in overrides else f"BLINA_{where.upper()}"
        typer.echo(f"blina: {name}: {problem['msg']}", err=True)
        raise typer.Exit(EXIT_BAD_INPUT) from None
