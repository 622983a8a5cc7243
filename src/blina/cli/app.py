"""The Typer application that every command module registers on."""

from collections.abc import Iterator
from contextlib import contextmanager

import typer

from blina.domain.errors import BlinaError

__all__ = ["EXIT_BAD_INPUT", "EXIT_HARD_STOP", "app", "user_errors"]

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
