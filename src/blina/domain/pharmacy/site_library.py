"""The site drug library: what a hospital pharmacy maintains and validates itself.

A TOML file loaded with ``blina pharmacy load-library`` gives the values the reference
could not retrieve (stabilizer volume, base saline per bag duration, priming volume,
measurable volumes, tolerance), optional fixed preparation rows copied from the current
label, and a drug-library entry per care area with soft and hard limits, as smart pumps
use. ``LibraryProblem`` names what is wrong in such a file by its key path, so that the
pharmacist who wrote it can find it.
"""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from blina.domain.checks import Check, CheckLevel
from blina.domain.pharmacy.reference import StabilityRule
from blina.domain.rounding import MeasurableStep, VolumeRounding
from blina.domain.sentences import Template
from blina.domain.units import M2, McgPerDay, McgPerM2PerDay, Ml, MlPerHour

__all__ = [
    "DEMO_STAMP",
    "BenzylAlcoholLimit",
    "CareArea",
    "LabelRow",
    "LibraryProblem",
    "Limits",
    "SiteBag",
    "SiteLibrary",
    "Validation",
]

DEMO_STAMP = "demo library: not for clinical use"

# How a site library's validation is described (``blina.domain.sentences``).
VALIDATED_BY = Template("validated by {pharmacists} on {on}")


@dataclass(frozen=True, slots=True)
class Validation:
    """Who validated a site library, and when: two distinct pharmacists and a date."""

    pharmacists: tuple[str, ...]
    validated_on: date | None

    @property
    def problem(self) -> str | None:
        """Why the library does not count as validated; None when it does."""
        names = [name.strip() for name in self.pharmacists if name.strip()]
        distinct = {name.casefold() for name in names}
        if self.validated_on is None:
            return "the library has no validation date"
        if len(distinct) < 2 and len(names) >= 2:
            return f"the library was validated by {names[0]} twice, not by two pharmacists"
        if len(distinct) < 2:
            return "the library was not validated by two distinct pharmacists"
        return None

    def describe(self) -> str:
        names = " and ".join(self.pharmacists)  # the clinic's own names, as entered
        return VALIDATED_BY(pharmacists=names, on=self.validated_on or "None")


@dataclass(frozen=True, slots=True)
class SiteBag:
    """A site's parameters for one bag duration; None where the site gives none."""

    hours: int
    source: str
    stabilizer: Ml | None = None
    base_saline: Ml | None = None
    rate: MlPerHour | None = None
    stability: tuple[StabilityRule, ...] = ()
    # The benzyl alcohol in the site's preserved saline, as its product states (mg/mL).
    benzyl_alcohol_mg_per_ml: Decimal | None = None


@dataclass(frozen=True, slots=True)
class BenzylAlcoholLimit:
    """The site's limit on the benzyl alcohol a patient gets from a preserved bag, in
    mg/kg/day: a hard stop above it, a soft check from ``soft_from_percent`` of it. No
    retrieved label states a threshold, so it is the site's, with its source."""

    limit_mg_per_kg_per_day: Decimal
    soft_from_percent: Decimal
    source: str


@dataclass(frozen=True, slots=True)
class LabelRow:
    """A preparation row copied from the current label: a fixed recipe.

    A fixed-dose row has ``dose``; a BSA-band row has ``per_m2`` and ``bsa_min``..``bsa_max``
    (inclusive). Both are checked at load by the same computation as every recipe.
    """

    id: str
    bag_hours: int
    saline: Ml
    stabilizer: Ml
    drug: Ml
    vials: int
    source: str
    dose: McgPerDay | None = None
    per_m2: McgPerM2PerDay | None = None
    bsa_min: M2 | None = None
    bsa_max: M2 | None = None


@dataclass(frozen=True, slots=True)
class Limits:
    """Soft and hard limits on one quantity in one care area; None where none is set."""

    unit: str
    source: str
    soft_min: Decimal | None = None
    soft_max: Decimal | None = None
    hard_min: Decimal | None = None
    hard_max: Decimal | None = None

    def check(self, value: Decimal, *, what: str, code: str, area: str) -> Check | None:
        """The worst limit ``value`` breaks, as a check; None when it breaks none."""
        shown = f"{what} {value} {self.unit}"
        for level, low, high in (
            (CheckLevel.HARD, self.hard_min, self.hard_max),
            (CheckLevel.SOFT, self.soft_min, self.soft_max),
        ):
            kind = "hard" if level is CheckLevel.HARD else "soft"
            if high is not None and value > high:
                reason = f"{shown} is above the {kind} limit {high} {self.unit} in {area}"
                return Check(level, code, reason, self.source)
            if low is not None and value < low:
                reason = f"{shown} is below the {kind} limit {low} {self.unit} in {area}"
                return Check(level, code, reason, self.source)
        return None


@dataclass(frozen=True, slots=True)
class CareArea:
    """A drug-library entry for one care area, in the shape smart-pump libraries use."""

    id: str
    name: str
    bag_hours: tuple[int, ...]
    dose: Limits
    dose_per_m2: Limits
    rate: Limits
    concentration: Limits
    advisories: tuple[str, ...]
    source: str


@dataclass(frozen=True, slots=True)
class SiteLibrary:
    """A site drug library as the pharmacy wrote it (``blina pharmacy load-library FILE``).

    ``measurable`` lists the volumes the site can measure (syringe graduations), sorted
    by ``up_to_ml``; ``tolerance_percent`` is the largest difference allowed between the
    delivered and the prescribed dose. ``demo`` libraries stamp every recipe.
    """

    name: str
    version: str
    region: str
    demo: bool
    validation: Validation
    priming: Ml
    measurable: tuple[MeasurableStep, ...]
    tolerance_percent: Decimal
    rounding: VolumeRounding
    source: str
    bags: tuple[SiteBag, ...] = ()
    label_rows: tuple[LabelRow, ...] = ()
    care_areas: tuple[CareArea, ...] = ()
    benzyl_alcohol: BenzylAlcoholLimit | None = None

    @property
    def stamp(self) -> str | None:
        return DEMO_STAMP if self.demo else None

    def care_area(self, area_id: str) -> CareArea | None:
        return next((a for a in self.care_areas if a.id == area_id), None)


@dataclass(frozen=True, slots=True)
class LibraryProblem:
    """Something wrong in a site library, at ``key_path`` in its file."""

    key_path: str
    problem: str
