"""The ``blina`` command line.

Exit codes: 0 done; 2 bad input (one line on stderr naming the field, the value and
what is allowed; never a traceback); 3 a safety hard stop (a correct answer, with its
reason). Each command group lives in its own module and registers on ``app``.
"""

from blina.cli import (  # noqa: F401  (each registers its commands)
    operations,
    pharmacy,
    pk,
    plan,
    service,
    toxicity,
    triage,
)
from blina.cli.app import app

__all__ = ["app", "main"]


def main() -> None:
    app()
