"""Toxicity grading: the result every calculator returns, and the pieces they share.

The calculators live in one module per scale and take their thresholds as data
(``blina.knowledge`` builds them from ``knowledge/toxicity.toml``):

- ``crs.grade_crs``: ASTCT consensus cytokine release syndrome (Lee 2019);
- ``icans.grade_icans``: ASTCT ICANS, ICE score (12 years and older) or CAPD (under 12);
- ``ctcae.grade_ctcae``: CTCAE v5.0 for the labs and events that matter on blinatumomab;
- ``tls.assess_tls``: Cairo-Bishop laboratory and clinical tumor lysis syndrome.

Each returns a ``Grading``: the grade, every criterion that was assessed with the grade
it points to (so a person can check it), the notes (assumptions, gaps in the
reference) and the source id.

>>> g = grading("demo", (Criterion("fever", "38.5 C >= 38.0 C", 1),), "src")
>>> g.grade, [c.domain for c in g.decisive]
(1, ['fever'])
"""

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import NamedTuple

from blina.domain.errors import InvalidInput
from blina.domain.sentences import Template

__all__ = [
    "Band",
    "Compare",
    "Criterion",
    "Grading",
    "Level",
    "Relative",
    "check_not_negative",
    "grading",
]


# A band as a finding quotes it (``blina.domain.sentences``).
BAND_ABSOLUTE = Template("{compare} {threshold} {unit}")
BAND_RELATIVE = Template("{compare} {threshold} x {relative} ({limit} {unit})")

# The names of the criteria the CRS and ICANS graders assess (``Criterion.domain``); a
# CTCAE criterion is named by its term.
CRITERION_NAMES = (
    "fever",
    "hypotension",
    "hypoxia",
    "ICE score",
    "CAPD",
    "consciousness",
    "seizure",
    "motor",
    "cerebral edema",
    "raised intracranial pressure",
    "ANC",
)


class Criterion(NamedTuple):
    """One assessed domain: what was found and the grade it points to (0 = none)."""

    domain: str
    finding: str
    grade: int


@dataclass(frozen=True, slots=True)
class Grading:
    """A grade on one scale, with the criteria behind it and the source of the scale."""

    scale: str
    grade: int
    criteria: tuple[Criterion, ...]
    source: str
    notes: tuple[str, ...] = ()

    @property
    def decisive(self) -> tuple[Criterion, ...]:
        """The criteria that set the grade (those at the final grade)."""
        if self.grade == 0:
            return ()
        return tuple(c for c in self.criteria if c.grade == self.grade)


def grading(
    scale: str, criteria: tuple[Criterion, ...], source: str, notes: Iterable[str] = ()
) -> Grading:
    """The grade is the most severe criterion (0 when none points to a grade)."""
    grade = max((c.grade for c in criteria), default=0)
    return Grading(scale, grade, criteria, source, tuple(notes))


@dataclass(frozen=True, slots=True)
class Level:
    """A categorical finding (a level of oxygen support, a seizure type) and its grade."""

    grade: int
    text: str


class Compare(StrEnum):
    LT = "<"
    LE = "<="
    GT = ">"
    GE = ">="


class Relative(StrEnum):
    """What a threshold multiplies: nothing (an absolute value) or a reference value."""

    ABSOLUTE = "absolute"
    LLN = "lln"
    ULN = "uln"
    BASELINE = "baseline"


@dataclass(frozen=True, slots=True)
class Band:
    """``value <compare> threshold x relative`` points to ``grade``.

    ``baseline_abnormal`` limits the band to a normal (False) or abnormal (True)
    baseline; ``symptomatic`` to patients with (True) or without (False) symptoms.
    ``None`` means the band applies either way. ``text`` is the scale's own cell.
    """

    grade: int
    compare: Compare
    threshold: Decimal
    relative: Relative
    text: str
    baseline_abnormal: bool | None = None
    symptomatic: bool | None = None

    def limit(
        self, *, lln: Decimal | None, uln: Decimal | None, baseline: Decimal | None
    ) -> Decimal:
        """The absolute limit for this patient; the caller has checked the reference exists."""
        relative = self.relative
        if relative is Relative.ABSOLUTE:
            return self.threshold
        reference = (
            lln if relative is Relative.LLN else uln if relative is Relative.ULN else baseline
        )
        assert reference is not None
        return self.threshold * reference

    def holds(self, value: Decimal, limit: Decimal) -> bool:
        compare = self.compare
        if compare is Compare.LT:
            return value < limit
        if compare is Compare.LE:
            return value <= limit
        if compare is Compare.GT:
            return value > limit
        return value >= limit

    def describe(self, limit: Decimal, unit: str) -> str:
        if self.relative is Relative.ABSOLUTE:
            return BAND_ABSOLUTE(compare=self.compare, threshold=self.threshold, unit=unit)
        return BAND_RELATIVE(
            compare=self.compare,
            threshold=self.threshold,
            relative=self.relative.upper(),
            limit=limit,
            unit=unit,
        )


def check_not_negative(field: str, value: Decimal) -> None:
    """Labs and scores are never negative (nor NaN or infinite)."""
    if not value.is_finite() or value < 0:
        raise InvalidInput(field, value, "a finite number >= 0")
