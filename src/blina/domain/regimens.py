"""Regimen definitions: frozen data, no loading.

``blina.knowledge`` builds these from the TOML files; property tests build regimens no
label has. Every rule carries the id of its source (see ``knowledge/sources.toml``).
"""

from dataclasses import dataclass
from enum import StrEnum

from blina.domain.body import AgeGroup
from blina.domain.units import Kg, McgPerDay, McgPerM2PerDay, Mg, MgPerM2

__all__ = [
    "BagOption",
    "CycleSpec",
    "DoseStep",
    "Evidence",
    "LabelVersion",
    "MonitoringRule",
    "MonitoringWhen",
    "Phase",
    "PrecautionRule",
    "PremedTrigger",
    "PremedicationRule",
    "Regimen",
    "SourcedNote",
]


class Evidence(StrEnum):
    """What a regimen rests on: the label itself, or trial data where the label was not found."""

    LABEL = "label"
    TRIAL = "trial"


@dataclass(frozen=True, slots=True)
class LabelVersion:
    region: str
    revision: str
    title: str


@dataclass(frozen=True, slots=True)
class SourcedNote:
    text: str
    source: str


@dataclass(frozen=True, slots=True)
class DoseStep:
    """The daily dose on cycle days ``first_day``..``last_day``.

    ``fixed`` applies at or above the regimen's weight threshold; below it the dose is
    ``per_m2`` x BSA, never more than ``cap``.
    """

    first_day: int
    last_day: int
    fixed: McgPerDay
    per_m2: McgPerM2PerDay
    cap: McgPerDay
    source: str


@dataclass(frozen=True, slots=True)
class CycleSpec:
    """One labelled cycle: infusion days, then treatment-free days up to ``length_days``."""

    number: int
    phase: str
    infusion_days: int
    length_days: int
    steps: tuple[DoseStep, ...]
    inpatient_days: int
    source: str
    inpatient_source: str

    @property
    def treatment_free_days(self) -> int:
        return self.length_days - self.infusion_days


@dataclass(frozen=True, slots=True)
class Phase:
    name: str
    max_cycles: int
    source: str


class PremedTrigger(StrEnum):
    """When a premedication rule applies."""

    CYCLE_START = "cycle-start"
    STEP_UP = "step-up"
    RESTART = "restart"


@dataclass(frozen=True, slots=True)
class PremedicationRule:
    """A premedication for one age group: a fixed dose, or a dose per m2 with a maximum.

    ``cycles`` limits the rule to those cycle numbers; ``None`` means every cycle.
    """

    age_group: AgeGroup
    drug: str
    route: str
    dose: Mg | None
    dose_per_m2: MgPerM2 | None
    max_dose: Mg | None
    minutes_before: int
    timing: str
    triggers: frozenset[PremedTrigger]
    cycles: tuple[int, ...] | None
    alternative: str | None
    source: str

    def applies(self, *, trigger: PremedTrigger, cycle: int, age_group: AgeGroup) -> bool:
        return (
            age_group is self.age_group
            and trigger in self.triggers
            and (self.cycles is None or cycle in self.cycles)
        )


class MonitoringWhen(StrEnum):
    COURSE_START = "course-start"
    CYCLE_START = "cycle-start"
    INFUSING_DAY = "infusing-day"
    PRESERVATIVE_BAG_DAY = "preservative-bag-day"


@dataclass(frozen=True, slots=True)
class MonitoringRule:
    what: str
    when: MonitoringWhen
    age_group: AgeGroup | None
    source: str


@dataclass(frozen=True, slots=True)
class BagOption:
    """A bag duration the label allows, with the weight below which it is not recommended.

    ``min_weight`` is the newest source's rule; ``older_min_weight`` is a stricter, older
    source shown beside it as a warning.
    """

    hours: int
    preservative: bool
    source: str
    min_weight: Kg | None = None
    min_weight_source: str | None = None
    older_min_weight: Kg | None = None
    older_min_weight_source: str | None = None


@dataclass(frozen=True, slots=True)
class PrecautionRule:
    """A precaution that lasts until ``hours_after_last_infusion`` after the last infusion.

    ``hours_after_last_infusion`` is None where the label's period was not found: the
    precaution is shown with no end date and ``note`` says why.
    """

    kind: str
    description: str
    hours_after_last_infusion: int | None
    note: str | None
    source: str


@dataclass(frozen=True, slots=True)
class Regimen:
    id: str
    name: str
    indication: str
    label: LabelVersion
    evidence: Evidence
    weight_threshold: Kg
    weight_threshold_source: str
    phases: tuple[Phase, ...]
    cycles: tuple[CycleSpec, ...]
    premedication: tuple[PremedicationRule, ...]
    monitoring: tuple[MonitoringRule, ...]
    bag_options: tuple[BagOption, ...]
    precautions: tuple[PrecautionRule, ...]
    supervision: SourcedNote
    notes: tuple[SourcedNote, ...]
    source: str

    @property
    def max_cycles(self) -> int:
        return len(self.cycles)

    def bag_option(self, hours: int) -> BagOption | None:
        return next((b for b in self.bag_options if b.hours == hours), None)

    @property
    def max_dose(self) -> McgPerDay:
        """The highest daily dose anywhere in the regimen (fixed doses and caps)."""
        top = max(max(s.fixed.value, s.cap.value) for c in self.cycles for s in c.steps)
        return McgPerDay(top)
