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

Units are SI: uric acid in umol/L, potassium, phosphate and calcium in mmol/L.
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

__all__ = [
    "Analyte",
    "AnalyteRule",
    "Arrhythmia",
    "LabSample",
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
class AnalyteRule:
    """Abnormal at ``adult_threshold`` (``child_threshold`` for children) in the direction
    ``rises`` says, or at a change of ``change_fraction`` from baseline that way."""

    analyte: Analyte
    unit: str
    rises: bool
    adult_threshold: Decimal
    child_threshold: Decimal
    change_fraction: Decimal
    text: str


@dataclass(frozen=True, slots=True)
class TlsCriteria:
    analytes: Mapping[Analyte, AnalyteRule]
    min_abnormal: int
    window_before: timedelta
    window_after: timedelta
    creatinine_bands: tuple[Band, ...]
    creatinine_unit: str
    arrhythmia: Mapping[Arrhythmia, Level]
    seizure: Mapping[TlsSeizure, Level]
    source: str
    clinical_source: str
    child_note: str


@dataclass(frozen=True, slots=True)
class LabSample:
    """The analytes measured at one instant (any subset)."""

    at: datetime
    values: Mapping[Analyte, Decimal]


@dataclass(frozen=True, slots=True)
class TlsFindings:
    therapy_start: datetime
    samples: tuple[LabSample, ...]
    child: bool
    baseline: Mapping[Analyte, Decimal] = field(default_factory=dict)
    creatinine: Decimal | None = None
    creatinine_uln: Decimal | None = None
    arrhythmia: Arrhythmia = Arrhythmia.NONE
    seizure: TlsSeizure = TlsSeizure.NONE


@dataclass(frozen=True, slots=True)
class TlsAssessment:
    grading: Grading
    laboratory: bool
    clinical: bool


def assess_tls(findings: TlsFindings, criteria: TlsCriteria) -> TlsAssessment:
    """Laboratory TLS over the window, then clinical TLS and its grade.

    Raises ``InvalidInput`` for a naive datetime, a negative lab, or a creatinine given
    without its ULN.
    """
    start = _aware("therapy_start", findings.therapy_start).astimezone(UTC)
    for analyte, value in findings.baseline.items():
        if not value.is_finite() or value < 0:
            check_not_negative(f"baseline.{analyte}", value)
    first, last = start - criteria.window_before, start + criteria.window_after
    worst: dict[Analyte, Criterion] = {}
    ignored = 0
    for index, sample in enumerate(findings.samples):
        at = sample.at
        if at.tzinfo is None or at.utcoffset() is None:
            _aware(f"samples[{index}].at", at)
        for analyte, value in sample.values.items():
            if not value.is_finite() or value < 0:
                check_not_negative(f"samples[{index}].{analyte}", value)
        if not first <= at <= last:
            ignored += 1
            continue
        for analyte, value in sample.values.items():
            if analyte not in worst:
                met = _abnormal(criteria.analytes[analyte], value, findings, at)
                if met is not None:
                    worst[analyte] = met
    found = [worst[a] for a in criteria.analytes if a in worst]
    laboratory = len(found) >= criteria.min_abnormal
    notes: list[str] = []
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


def _abnormal(
    rule: AnalyteRule, value: Decimal, findings: TlsFindings, at: datetime
) -> Criterion | None:
    threshold = rule.child_threshold if findings.child else rule.adult_threshold
    when = at.isoformat()
    if (value >= threshold) if rule.rises else (value <= threshold):
        sign = ">=" if rule.rises else "<="
        return Criterion(rule.analyte, f"{value} {rule.unit} {sign} {threshold} at {when}", 0)
    baseline = findings.baseline.get(rule.analyte)
    if baseline is None:
        return None
    factor = 1 + rule.change_fraction if rule.rises else 1 - rule.change_fraction
    limit = baseline * factor
    if (value >= limit) if rule.rises else (value <= limit):
        direction = "rise" if rule.rises else "fall"
        return Criterion(
            rule.analyte,
            f"{value} {rule.unit}: a {rule.change_fraction:%} {direction} from baseline "
            f"{baseline} (limit {limit}) at {when}",
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
        unit = criteria.creatinine_unit
        lowest = criteria.creatinine_bands[0]
        lowest_limit = lowest.limit(lln=None, uln=uln, baseline=None)
        best: tuple[Band, Decimal] | None = None
        for band in criteria.creatinine_bands:
            limit = band.limit(lln=None, uln=uln, baseline=None)
            if band.holds(creatinine, limit) and (best is None or band.grade > best[0].grade):
                best = (band, limit)
        if best is None:
            finding = f"{creatinine} {unit}, not {lowest.describe(lowest_limit, unit)}"
            parts.append(Criterion("creatinine", finding, 0))
        else:
            band, limit = best
            finding = f"{creatinine} {unit} {band.describe(limit, unit)}: {band.text}"
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
