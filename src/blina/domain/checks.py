"""Safety verdicts as values: ``ok``, ``soft`` (needs a recorded override reason) or ``hard``.

A hard stop is a correct answer with its reason, not a program error: checks return a
``CheckReport`` and the caller decides what to do with it (the CLI exits 3, the API
returns the report, the web UI shows a red panel). Callers that prefer an exception call
``report.raise_for_hard_stop()``.

>>> report = CheckReport((
...     Check(CheckLevel.OK, "library-validated", "validated by A and B", "site"),
...     Check(CheckLevel.SOFT, "rate-unverified", "1.8 mL/h is single-source", "hcp"),
... ))
>>> report.level, report.blocked, report.needs_override
(<CheckLevel.SOFT: 'soft'>, False, True)
"""

from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum
from typing import Self

from blina.domain.errors import BlinaError

__all__ = ["Check", "CheckLevel", "CheckReport", "HardStop"]


class CheckLevel(StrEnum):
    """How bad a finding is; ``rank`` orders them by severity (ok 0, soft 1, hard 2)."""

    OK = "ok"
    SOFT = "soft"
    HARD = "hard"

    @property
    def rank(self) -> int:
        return _RANK[self]


_RANK = {CheckLevel.OK: 0, CheckLevel.SOFT: 1, CheckLevel.HARD: 2}


@dataclass(frozen=True, slots=True)
class Check:
    """One finding: its level, a stable ``code``, a sentence saying why, and its source id."""

    level: CheckLevel
    code: str
    reason: str
    source: str


@dataclass(frozen=True, slots=True)
class CheckReport:
    """Every finding of one check, in the order found."""

    checks: tuple[Check, ...] = ()

    def __iter__(self) -> Iterator[Check]:
        return iter(self.checks)

    def __len__(self) -> int:
        return len(self.checks)

    def __add__(self, other: "CheckReport") -> "CheckReport":
        return CheckReport(self.checks + other.checks)

    @property
    def level(self) -> CheckLevel:
        """The worst level found; ``OK`` for an empty report."""
        worst = CheckLevel.OK
        for check in self.checks:
            if check.level.rank > worst.rank:
                worst = check.level
        return worst

    @property
    def hard(self) -> tuple[Check, ...]:
        return tuple(c for c in self.checks if c.level is CheckLevel.HARD)

    @property
    def soft(self) -> tuple[Check, ...]:
        return tuple(c for c in self.checks if c.level is CheckLevel.SOFT)

    @property
    def blocked(self) -> bool:
        """True when any finding is a hard stop."""
        return any(c.level is CheckLevel.HARD for c in self.checks)

    @property
    def needs_override(self) -> bool:
        """True when soft findings need a recorded override reason and nothing blocks."""
        return not self.blocked and any(c.level is CheckLevel.SOFT for c in self.checks)

    def codes(self) -> tuple[str, ...]:
        return tuple(c.code for c in self.checks)

    def raise_for_hard_stop(self) -> Self:
        """Return this report unchanged, or raise ``HardStop`` if any finding is hard."""
        if self.blocked:
            raise HardStop(self)
        return self


class HardStop(BlinaError):
    """A hard stop turned into an exception by ``CheckReport.raise_for_hard_stop()``.

    The message lists every hard finding with its source.
    """

    def __init__(self, report: CheckReport) -> None:
        self.report = report
        reasons = "; ".join(f"{c.reason} ({c.source})" for c in report.hard)
        super().__init__(f"hard stop: {reasons}")
