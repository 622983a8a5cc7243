"""Load ``therapy_*.toml``: one file per therapy planned beside blinatumomab.

The registry is data: each file names its ``kind`` (``cycle-doses``, ``hosted-doses``),
which picks the schema here and the planner in the domain. A file whose numbers do not
add up (a cycle total that is not the sum of its doses, more host-course doses than the
therapy's total) is a ``KnowledgeError`` at load, naming the file and key.
"""

from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from typing import Literal

from pydantic import Field, PositiveInt

from blina.domain.errors import KnowledgeError
from blina.domain.therapies.cycle_dose_changes import ChangeRules
from blina.domain.therapies.cycle_doses import (
    CycleDoseFacts,
    CycleLimits,
    CycleScheme,
    Cytoreduction,
    Scheduling,
)
from blina.domain.therapies.facts import MonitoringFact, PremedicationFact, When
from blina.domain.therapies.hosted_doses import HostCourse, HostedDoseFacts
from blina.domain.therapies.model import Gap, PlanWarning
from blina.knowledge._loader import check_sources, read_toml, validate
from blina.knowledge._schema import SourceEntry, _Strict

__all__ = ["TherapyFacts", "load_therapies"]

TherapyFacts = CycleDoseFacts | HostedDoseFacts

_Positive = Field(gt=0)
_Optional = Field(default=None, gt=0)


class TherapyHeadFile(_Strict):
    key: str
    kind: Literal["cycle-doses", "hosted-doses"]
    name: str
    label: str
    host: str | None = None
    source: str


class PremedicationFile(_Strict):
    what: str
    text: str
    mg: Decimal | None = _Optional
    mg_per_kg: Decimal | None = _Optional
    max_mg: Decimal | None = _Optional
    source: str


class MonitoringFile(_Strict):
    what: str
    when: Literal["first-dose", "each-dose", "cycle-start"]
    text: str
    source: str


class WarningFile(_Strict):
    what: str
    text: str
    source: str


class GapFile(_Strict):
    fact: str
    instead: str
    source: str


class _Common(_Strict):
    therapy: TherapyHeadFile
    premedication: list[PremedicationFile] = Field(default_factory=list)
    monitoring: list[MonitoringFile] = Field(default_factory=list)
    warnings: list[WarningFile] = Field(default_factory=list)
    gaps: list[GapFile] = Field(default_factory=list)


# --- cycle doses -----------------------------------------------------------------------------


class InfusionFile(_Strict):
    minutes: PositiveInt
    ml_per_hour: Decimal = _Positive
    text: str
    source: str


class DoseDayFile(_Strict):
    day: PositiveInt
    mg_per_m2: Decimal = _Positive
    source: str


class SchemeFile(_Strict):
    length_days: PositiveInt
    lengthened_days: PositiveInt | None = None
    total_mg_per_m2: Decimal = _Positive
    source: str
    doses: list[DoseDayFile] = Field(min_length=1)


class SchedulingFile(_Strict):
    window_days: int = Field(ge=0)
    window_applies_to_days: list[PositiveInt]
    min_spacing_days: PositiveInt
    source: str


class CycleLimitsFile(_Strict):
    hsct_cycles: PositiveInt
    hsct_max_cycles: PositiveInt
    max_cycles: PositiveInt
    response_within_cycles: PositiveInt
    source: str


class CytoreductionFile(_Strict):
    max_blasts_per_mm3: Decimal = _Positive
    text: str
    source: str


class ModificationsFile(_Strict):
    anc_min: Decimal = _Positive
    platelets_min: Decimal = _Positive
    low_counts_max_days: PositiveInt
    hematologic_source: str
    bilirubin_max_x_uln: Decimal = _Positive
    ast_alt_max_x_uln: Decimal = _Positive
    non_hematologic_hold_from_grade: int = Field(ge=1, le=4)
    non_hematologic_source: str
    source: str  # the general rules'
    interruption_gap: GapFile
    other_toxicity_gap: GapFile
    marrow_condition_gap: GapFile


class CycleDosesFile(_Common):
    infusion: InfusionFile
    first_cycle: SchemeFile
    in_response: SchemeFile
    no_response: SchemeFile
    scheduling: SchedulingFile
    cycle_limits: CycleLimitsFile
    cytoreduction: CytoreductionFile
    modifications: ModificationsFile


# --- hosted doses ----------------------------------------------------------------------------


class HostedDoseFile(_Strict):
    mg_per_m2: Decimal = _Positive
    cap_mg: Decimal | None = _Optional
    max_doses: PositiveInt | None = None
    text: str
    source: str
    text_source: str


class DayCountFile(_Strict):
    host_counts_day_zero: bool
    source: str


class CourseFile(_Strict):
    key: str
    name: str
    days: list[int] = Field(min_length=1)
    source: str


class HostedDosesFile(_Common):
    dose: HostedDoseFile
    day_count: DayCountFile | None = None
    courses: list[CourseFile] = Field(min_length=1)


# --- loading ---------------------------------------------------------------------------------


def load_therapies(directory: Path, sources: Mapping[str, SourceEntry]) -> dict[str, TherapyFacts]:
    """Every ``therapy_*.toml`` in ``directory``, by therapy key."""
    therapies: dict[str, TherapyFacts] = {}
    for path in sorted(directory.glob("therapy_*.toml")):
        facts = _load_one(path, sources)
        if facts.therapy in therapies:
            raise KnowledgeError(path.name, "therapy.key", f"{facts.therapy!r} appears twice")
        therapies[facts.therapy] = facts
    return therapies


def _load_one(path: Path, sources: Mapping[str, SourceEntry]) -> TherapyFacts:
    raw = read_toml(path)
    check_sources(raw, sources, path.name)
    head = validate(TherapyHeadFile, raw.get("therapy"), path.name, "therapy")
    if head.kind == "cycle-doses":
        return _cycle_doses(validate(CycleDosesFile, raw, path.name), path.name)
    return _hosted_doses(validate(HostedDosesFile, raw, path.name), path.name)


def _premedication(data: _Common) -> tuple[PremedicationFact, ...]:
    return tuple(
        PremedicationFact(p.what, p.text, p.source, p.mg, p.mg_per_kg, p.max_mg)
        for p in data.premedication
    )


def _monitoring(data: _Common) -> tuple[MonitoringFact, ...]:
    return tuple(MonitoringFact(m.what, When(m.when), m.text, m.source) for m in data.monitoring)


def _warnings(data: _Common) -> tuple[PlanWarning, ...]:
    return tuple(PlanWarning(w.what, w.text, w.source) for w in data.warnings)


def _gap(gap: GapFile) -> Gap:
    return Gap(gap.fact, gap.instead, gap.source)


def _scheme(scheme: SchemeFile, file: str, where: str) -> CycleScheme:
    days = [d.day for d in scheme.doses]
    if days != sorted(set(days)):
        raise KnowledgeError(file, f"{where}.doses", "dose days must rise, each once")
    if days[-1] > scheme.length_days:
        raise KnowledgeError(file, f"{where}.doses", "a dose day falls after the cycle's end")
    if sum(d.mg_per_m2 for d in scheme.doses) != scheme.total_mg_per_m2:
        raise KnowledgeError(file, f"{where}.total_mg_per_m2", "is not the sum of the doses")
    return CycleScheme(
        tuple((d.day, d.mg_per_m2) for d in scheme.doses),
        scheme.total_mg_per_m2,
        scheme.length_days,
        scheme.source,
    )


def _cycle_doses(data: CycleDosesFile, file: str) -> CycleDoseFacts:
    limits = data.cycle_limits
    if not limits.hsct_cycles <= limits.hsct_max_cycles <= limits.max_cycles:
        raise KnowledgeError(
            file, "cycle_limits", "need hsct_cycles <= hsct_max_cycles <= max_cycles"
        )
    first = data.first_cycle
    lengths = {first.length_days} | (
        set() if first.lengthened_days is None else {first.lengthened_days}
    )
    mods = data.modifications
    cyto = data.cytoreduction
    return CycleDoseFacts(
        therapy=data.therapy.key,
        name=data.therapy.name,
        dose_text=data.infusion.text,
        first_cycle=_scheme(first, file, "first_cycle"),
        first_cycle_lengths=frozenset(lengths),
        in_response=_scheme(data.in_response, file, "in_response"),
        no_response=_scheme(data.no_response, file, "no_response"),
        scheduling=Scheduling(
            data.scheduling.window_days,
            frozenset(data.scheduling.window_applies_to_days),
            data.scheduling.min_spacing_days,
            data.scheduling.source,
        ),
        limits=CycleLimits(
            limits.hsct_cycles,
            limits.hsct_max_cycles,
            limits.max_cycles,
            limits.response_within_cycles,
            limits.source,
        ),
        cytoreduction=Cytoreduction(cyto.max_blasts_per_mm3, cyto.text, cyto.source),
        premedication=_premedication(data),
        monitoring=_monitoring(data),
        warnings=_warnings(data),
        gaps=tuple(_gap(g) for g in data.gaps),
        changes=ChangeRules(
            anc_min=mods.anc_min,
            platelets_min=mods.platelets_min,
            low_counts_max_days=mods.low_counts_max_days,
            hematologic_source=mods.hematologic_source,
            bilirubin_max_x_uln=mods.bilirubin_max_x_uln,
            ast_alt_max_x_uln=mods.ast_alt_max_x_uln,
            non_hematologic_hold_from_grade=mods.non_hematologic_hold_from_grade,
            non_hematologic_source=mods.non_hematologic_source,
            general_source=mods.source,
            interruption_gap=_gap(mods.interruption_gap),
            other_toxicity_gap=_gap(mods.other_toxicity_gap),
            marrow_condition_gap=_gap(mods.marrow_condition_gap),
        ),
        label=data.therapy.label,
        label_source=data.therapy.source,
    )


def _hosted_doses(data: HostedDosesFile, file: str) -> HostedDoseFacts:
    dose = data.dose
    total = sum(len(c.days) for c in data.courses)
    if dose.max_doses is not None and total != dose.max_doses:
        raise KnowledgeError(file, "dose.max_doses", f"the courses hold {total} doses")
    if data.day_count is None and any(day < 1 for c in data.courses for day in c.days):
        raise KnowledgeError(file, "day_count", "needed: a course has a day before day 1")
    for index, course in enumerate(data.courses):
        if course.days != sorted(set(course.days)) or 0 in course.days:
            raise KnowledgeError(
                file, f"courses[{index}].days", "days must rise, each once, never day 0"
            )
    if data.therapy.host is None:
        raise KnowledgeError(file, "therapy.host", "a hosted-doses therapy names its host")
    counts_zero = False if data.day_count is None else data.day_count.host_counts_day_zero
    return HostedDoseFacts(
        therapy=data.therapy.key,
        name=data.therapy.name,
        host=data.therapy.host,
        dose_text=dose.text,
        mg_per_m2=dose.mg_per_m2,
        cap_mg=dose.cap_mg,
        max_doses=dose.max_doses,
        dose_source=dose.source,
        courses=tuple(HostCourse(c.key, c.name, tuple(c.days), c.source) for c in data.courses),
        host_counts_day_zero=counts_zero,
        day_count_source=dose.source if data.day_count is None else data.day_count.source,
        premedication=_premedication(data),
        monitoring=_monitoring(data),
        warnings=_warnings(data),
        gaps=tuple(_gap(g) for g in data.gaps),
        label=data.therapy.label,
        label_source=data.therapy.source,
    )
