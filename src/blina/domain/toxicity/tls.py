"""Tumor lysis syndrome by Cairo and Bishop (2004).

Rules (source ids ``cairo-bishop-2004-lab``, ``cairo-bishop-2004-clinical``; thresholds
in ``knowledge/toxicity.toml``):

- laboratory TLS: two or more of uric acid, potassium, phosphate (a child's threshold
  and an adult's) and calcium abnormal in samples taken from 3 days before to 7 days
  after the start of cytoreductive therapy; each analyte is abnormal at its absolute
  threshold or at a 25% change from the patient's baseline in the adverse direction
  (a change of exactly 25% counts);
- clinical TLS: laboratory TLS plus at least one of creatinine >= 1.5 x ULN, a cardiac
  arrhythmia or sudden death, a seizure;
- the grade is the highest of the creatinine, arrhythmia and seizure grades when
  clinical TLS is present, else 0.

Units: the thresholds are SI (uric acid and creatinine in umol/L, potassium, phosphate
and total calcium in mmol/L). A value may be entered in any unit of its measurand
(``LabSample.units``, ``TlsFindings.baseline_units``, ``creatinine_unit``; none is the SI
unit): it is converted exactly and checked against the measurand's plausible range
(``lab_units``). Where the source restates a threshold in the entered unit (uric acid
>= 8.0 mg/dL beside >= 476 umol/L), the value is abnormal when it meets either figure:
the rounded restatement never makes blina less careful than the SI threshold (8.0 mg/dL
is 475.84 umol/L). Calcium is total calcium: Cairo-Bishop 2004 has no ionised-calcium
criterion.

Instants are aware datetimes; the window is elapsed time, so it holds across a
daylight-saving change.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from enum import StrEnum

from blina.domain.errors import InvalidInput
from blina.domain.toxicity import (
    Band,
    Criterion,
    Grading,
    Level,
    check_not_negative,
    grading,
)
from blina.domain.toxicity.lab_units import Measurand, Reading, plain

__all__ = [
    "Analyte",
    "AnalyteRule",
    "Arrhythmia",
    "LabSample",
    "Restatement",
    "TlsAssessment",
    "TlsCriteria",
    "TlsFindings",
    "TlsSeizure",
    "assess_tls",
]

SCALE = "Cairo-Bishop TLS (2004)"


class Analyte(StrEnum):
    URIC_ACID = "uric-acid"
    POTASSIUM = "potassium"
    PHOSPHATE = "phosphate"
    CALCIUM = "calcium"


class Arrhythmia(StrEnum):
    NONE = "none"
    NO_INTERVENTION = "no-intervention"
    NON_URGENT = "non-urgent-intervention"
    INCOMPLETELY_CONTROLLED = "incompletely-controlled"
    LIFE_THREATENING = "life-threatening"
    DEATH = "death"


class TlsSeizure(StrEnum):
    NONE = "none"
    BRIEF_GENERALIZED = "brief-generalized"
    POORLY_CONTROLLED = "poorly-controlled"
    STATUS = "status"
    DEATH = "death"


@dataclass(frozen=True, slots=True)
class Restatement:
    """The source's own figures for a threshold in another unit (8.0 mg/dL beside
    476 umol/L)."""

    unit: str
    adult_threshold: Decimal
    child_threshold: Decimal


@dataclass(frozen=True, slots=True)
class AnalyteRule:
    """Abnormal at ``adult_threshold`` (``child_threshold`` for children) in the direction
    ``rises`` says, or at a change of ``change_fraction`` from baseline that way; also at
    a ``restated`` threshold for a value entered in that unit. Thresholds are in ``unit``,
    the canonical unit of ``measurand``."""

    analyte: Analyte
    unit: str
    rises: bool
    adult_threshold: Decimal
    child_threshold: Decimal
    change_fraction: Decimal
    text: str
    measurand: Measurand
    restated: Restatement | None = None


@dataclass(frozen=True, slots=True)
class TlsCriteria:
    analytes: Mapping[Analyte, AnalyteRule]
    min_abnormal: int
    window_before: timedelta
    window_after: timedelta
    creatinine_bands: tuple[Band, ...]
    creatinine_unit: str
    creatinine_measurand: Measurand
    arrhythmia: Mapping[Arrhythmia, Level]
    seizure: Mapping[TlsSeizure, Level]
    source: str
    clinical_source: str
    child_note: str


@dataclass(frozen=True, slots=True)
class LabSample:
    """The analytes measured at one instant (any subset), each in its unit from
    ``units`` (an analyte not there is in its SI unit)."""

    at: datetime
    values: Mapping[Analyte, Decimal]
    units: Mapping[Analyte, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class TlsFindings:
    therapy_start: datetime
    samples: tuple[LabSample, ...]
    child: bool
    baseline: Mapping[Analyte, Decimal] = field(default_factory=dict)
    creatinine: Decimal | None = None
    creatinine_uln: Decimal | None = None
    baseline_units: Mapping[Analyte, str] = field(default_factory=dict)
    creatinine_unit: str | None = None
    creatinine_uln_unit: str | None = None
    arrhythmia: Arrhythmia = Arrhythmia.NONE
    seizure: TlsSeizure = TlsSeizure.NONE


@dataclass(frozen=True, slots=True)
class TlsAssessment:
    grading: Grading
    laboratory: bool
    clinical: bool


def assess_tls(findings: TlsFindings, criteria: TlsCriteria) -> TlsAssessment:
    """Laboratory TLS over the window, then clinical TLS and its grade.

    Raises ``InvalidInput`` for a naive datetime, a negative lab, a unit the analyte is
    not reported in, a value outside its plausible range, or a creatinine given without
    its ULN.
    """
    start = _aware("therapy_start", findings.therapy_start).astimezone(UTC)
    unitless: list[str] = []
    baseline = {
        analyte: _read(
            criteria, analyte, f"baseline.{analyte}", value, findings.baseline_units, unitless
        )
        for analyte, value in findings.baseline.items()
    }
    first, last = start - criteria.window_before, start + criteria.window_after
    worst: dict[Analyte, Criterion] = {}
    ignored = 0
    for index, sample in enumerate(findings.samples):
        at = sample.at
        if at.tzinfo is None or at.utcoffset() is None:
            _aware(f"samples[{index}].at", at)
        readings = {
            analyte: _read(
                criteria, analyte, f"samples[{index}].{analyte}", value, sample.units, unitless
            )
            for analyte, value in sample.values.items()
        }
        if not first <= at <= last:
            ignored += 1
            continue
        for analyte, reading in readings.items():
            if analyte not in worst:
                rule = criteria.analytes[analyte]
                met = _abnormal(rule, reading, findings.child, baseline.get(analyte), at)
                if met is not None:
                    worst[analyte] = met
    found = [worst[a] for a in criteria.analytes if a in worst]
    laboratory = len(found) >= criteria.min_abnormal
    notes: list[str] = []
    if unitless:
        # A bare number is read in the SI unit (as before units were asked for); an
        # analyte that is not abnormal is not listed, so say how each one was read.
        notes.append(f"Given without a unit, read in the SI unit: {'; '.join(unitless)}.")
    if ignored:
        notes.append(
            f"{ignored} sample(s) outside the window ({first.isoformat()} to "
            f"{last.isoformat()}) not counted."
        )
    if findings.child:
        notes.append(criteria.child_note)
    lab = Criterion(
        "laboratory TLS",
        f"{len(found)} of {len(criteria.analytes)} analytes abnormal "
        f"({'>=' if laboratory else '<'} {criteria.min_abnormal} needed)",
        0,
    )
    clinical_parts = _clinical(findings, criteria)
    clinical = laboratory and any(c.grade > 0 for c in clinical_parts)
    if not clinical:
        if laboratory:
            notes.append("Laboratory TLS without a clinical criterion: clinical TLS grade 0.")
        elif any(c.grade > 0 for c in clinical_parts):
            notes.append("Clinical findings without laboratory TLS are not clinical TLS.")
        parts = tuple(c._replace(grade=0) for c in clinical_parts)
        result = grading(SCALE, (lab, *found, *parts), criteria.clinical_source, notes)
    else:
        result = grading(SCALE, (lab, *found, *clinical_parts), criteria.clinical_source, notes)
    return TlsAssessment(result, laboratory, clinical)


def _read(
    criteria: TlsCriteria,
    analyte: Analyte,
    field: str,
    value: Decimal,
    units: Mapping[Analyte, str],
    unitless: list[str],
) -> Reading:
    """``value`` checked and in the SI unit; a value with no unit is noted in ``unitless``."""
    measurand = criteria.analytes[analyte].measurand
    code = units.get(analyte)
    reading = measurand.read(field, value, measurand.unit(f"{field}.unit", code))
    if not code:
        unitless.append(f"{field} {value} {measurand.canonical}")
    return reading


def _beyond(rule: AnalyteRule, value: Decimal, limit: Decimal) -> bool:
    """At or beyond ``limit`` in the adverse direction."""
    return value >= limit if rule.rises else value <= limit


def _abnormal(
    rule: AnalyteRule, reading: Reading, child: bool, baseline: Reading | None, at: datetime
) -> Criterion | None:
    threshold = rule.child_threshold if child else rule.adult_threshold
    when = at.isoformat()
    sign = ">=" if rule.rises else "<="
    shown = reading.describe(rule.unit)
    if _beyond(rule, reading.canonical, threshold):
        return Criterion(rule.analyte, f"{shown} {sign} {threshold} {rule.unit} at {when}", 0)
    restated, unit = rule.restated, reading.unit.code
    if restated is not None and restated.unit == unit:
        figure = restated.child_threshold if child else restated.adult_threshold
        if _beyond(rule, reading.entered, figure):
            return Criterion(
                rule.analyte,
                f"{reading.entered} {unit} {sign} {figure} {unit}, the source's figure in "
                f"{unit} for {threshold} {rule.unit} ({reading.entered} {unit} is "
                f"{plain(reading.canonical)} {rule.unit}) at {when}",
                0,
            )
    if baseline is None:
        return None
    factor = 1 + rule.change_fraction if rule.rises else 1 - rule.change_fraction
    limit = baseline.canonical * factor
    if _beyond(rule, reading.canonical, limit):
        direction = "rise" if rule.rises else "fall"
        return Criterion(
            rule.analyte,
            f"{shown}: a {rule.change_fraction:%} {direction} from baseline "
            f"{baseline.describe(rule.unit)} (limit {limit} {rule.unit}) at {when}",
            0,
        )
    return None


def _clinical(findings: TlsFindings, criteria: TlsCriteria) -> tuple[Criterion, ...]:
    creatinine, uln = findings.creatinine, findings.creatinine_uln
    if (creatinine is None) != (uln is None):
        missing = "creatinine_uln" if uln is None else "creatinine"
        raise InvalidInput(
            missing, "(missing)", "given with creatinine and creatinine_uln together"
        )
    parts = []
    if creatinine is not None and uln is not None:
        check_not_negative("creatinine", creatinine)
        if not uln.is_finite() or uln <= 0:
            raise InvalidInput("creatinine_uln", uln, "a number > 0")
        measurand = criteria.creatinine_measurand
        value = measurand.read(
            "creatinine", creatinine, measurand.unit("creatinine_unit", findings.creatinine_unit)
        )
        uln = measurand.read(
            "creatinine_uln",
            uln,
            measurand.unit("creatinine_uln_unit", findings.creatinine_uln_unit),
        ).canonical
        unit = criteria.creatinine_unit
        shown = value.describe(unit)
        lowest = criteria.creatinine_bands[0]
        lowest_limit = lowest.limit(lln=None, uln=uln, baseline=None)
        best: tuple[Band, Decimal] | None = None
        for band in criteria.creatinine_bands:
            limit = band.limit(lln=None, uln=uln, baseline=None)
            if band.holds(value.canonical, limit) and (best is None or band.grade > best[0].grade):
                best = (band, limit)
        if best is None:
            finding = f"{shown}, not {lowest.describe(lowest_limit, unit)}"
            parts.append(Criterion("creatinine", finding, 0))
        else:
            band, limit = best
            finding = f"{shown} {band.describe(limit, unit)}: {band.text}"
            parts.append(Criterion("creatinine", finding, band.grade))
    arrhythmia = criteria.arrhythmia[findings.arrhythmia]
    seizure = criteria.seizure[findings.seizure]
    parts.append(Criterion("cardiac arrhythmia", arrhythmia.text, arrhythmia.grade))
    parts.append(Criterion("seizure", seizure.text, seizure.grade))
    return tuple(parts)


def _aware(field: str, moment: datetime) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise InvalidInput(field, moment.isoformat(), "a date-time with a UTC offset")
    return moment
