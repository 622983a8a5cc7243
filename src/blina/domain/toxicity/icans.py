"""Immune effector cell-associated neurotoxicity (ICANS) by the ASTCT consensus (Lee 2019).

Rules (source ids ``astct-2019-icans``, ``astct-2019-ice``, ``astct-2019-icans-pediatric``,
``capd-traube-2014``; bands and ages in ``knowledge/toxicity.toml``):

- grade = the most severe domain: encephalopathy score, level of consciousness,
  seizure, motor findings, raised intracranial pressure / cerebral edema;
- the ICE score (10 points, higher is better) from 12 years; the CAPD (8 items, 0-32,
  higher is worse) under 12, or at any age with developmental delay;
- an unarousable patient cannot do the ICE or CAPD: that domain is grade 4; an awake
  patient with ICE 0 (global aphasia) is grade 3;
- tremor, myoclonus, headache and intracranial hemorrhage are not ICANS (grade them
  with CTCAE).
"""

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from blina.domain.body import Range
from blina.domain.errors import InvalidInput
from blina.domain.sentences import Template
from blina.domain.toxicity import Criterion, Grading, Level, grading

__all__ = [
    "CapdAnswer",
    "CapdItem",
    "CerebralEdema",
    "Consciousness",
    "IcansCriteria",
    "IcansFindings",
    "IceItem",
    "IcpSign",
    "ScoreBand",
    "Seizure",
    "capd_score",
    "grade_icans",
    "ice_score",
]

SCALE = "ASTCT ICANS (Lee 2019)"

# The findings of an ICANS grading (``blina.domain.sentences``).
NO_MOTOR_WEAKNESS = Template("no deep focal weakness")
ICE_SCORE = Template("ICE {score}/{maximum}: {band}")
CAPD_SCORE = Template("CAPD {score}/{maximum}: {band}")


class Consciousness(StrEnum):
    """``awake`` is a normal level; the others are the ASTCT depressed-consciousness cells."""

    AWAKE = "awake"
    AWAKENS_SPONTANEOUSLY = "awakens-spontaneously"
    AWAKENS_TO_VOICE = "awakens-to-voice"
    AWAKENS_TO_TOUCH = "awakens-to-touch"
    UNAROUSABLE = "unarousable"


class Seizure(StrEnum):
    NONE = "none"
    FOCAL_RESOLVED = "focal-resolved"
    GENERALIZED_RESOLVED = "generalized-resolved"
    EEG_RESOLVED = "eeg-resolved"
    PROLONGED = "prolonged"
    REPETITIVE = "repetitive"


class CerebralEdema(StrEnum):
    NONE = "none"
    FOCAL = "focal"
    DIFFUSE = "diffuse"


class IcpSign(StrEnum):
    POSTURING = "posturing"
    CRANIAL_NERVE_VI_PALSY = "cranial-nerve-vi-palsy"
    PAPILLEDEMA = "papilledema"
    CUSHINGS_TRIAD = "cushings-triad"


class CapdAnswer(StrEnum):
    NEVER = "never"
    RARELY = "rarely"
    SOMETIMES = "sometimes"
    OFTEN = "often"
    ALWAYS = "always"


@dataclass(frozen=True, slots=True)
class IceItem:
    id: str
    task: str
    points: int


@dataclass(frozen=True, slots=True)
class CapdItem:
    """One CAPD item; ``reverse`` items score Never 4 .. Always 0."""

    id: str
    text: str
    reverse: bool


@dataclass(frozen=True, slots=True)
class ScoreBand:
    """Scores ``low``..``high`` (inclusive) point to ``grade``."""

    low: int
    high: int
    grade: int
    text: str
    note: str | None = None


@dataclass(frozen=True, slots=True)
class IcansCriteria:
    ice_items: tuple[IceItem, ...]
    ice_bands: tuple[ScoreBand, ...]
    ice_unarousable: Level
    capd_items: tuple[CapdItem, ...]
    capd_answer_points: Mapping[CapdAnswer, int]
    capd_bands: tuple[ScoreBand, ...]
    capd_unarousable: Level
    capd_below_age_years: Decimal
    consciousness: Mapping[Consciousness, Level]
    seizure: Mapping[Seizure, Level]
    motor_weakness: Level
    cerebral_edema: Mapping[CerebralEdema, Level]
    icp_signs: Mapping[IcpSign, Level]
    age_years: Range
    source: str
    ice_source: str
    pediatric_source: str
    capd_source: str
    age_note: str

    @property
    def ice_max(self) -> int:
        return sum(item.points for item in self.ice_items)

    @property
    def capd_max(self) -> int:
        return len(self.capd_items) * max(self.capd_answer_points.values())


@dataclass(frozen=True, slots=True)
class IcansFindings:
    """Give the ICE score or its items (12 and older), or the CAPD score or its answers."""

    age_years: Decimal
    consciousness: Consciousness
    ice_score: int | None = None
    ice_items: Mapping[str, int] | None = None
    capd_score: int | None = None
    capd_answers: tuple[CapdAnswer, ...] | None = None
    developmental_delay: bool = False
    seizure: Seizure = Seizure.NONE
    motor_weakness: bool = False
    cerebral_edema: CerebralEdema = CerebralEdema.NONE
    icp_signs: frozenset[IcpSign] = frozenset()


def ice_score(items: Mapping[str, int], criteria: IcansCriteria) -> int:
    """The ICE score: the sum of the ten points over the five tasks.

    Raises ``InvalidInput`` for a missing or unknown task, or points outside 0..max.
    """
    known = {item.id for item in criteria.ice_items}
    for name in items:
        if name not in known:
            raise InvalidInput("ice_items", name, f"one of {', '.join(sorted(known))}")
    total = 0
    for item in criteria.ice_items:
        points = items.get(item.id)
        if points is None:
            raise InvalidInput("ice_items", f"{item.id} (missing)", f"given: {item.task}")
        if not 0 <= points <= item.points:
            raise InvalidInput(f"ice_items.{item.id}", points, f">= 0 and <= {item.points}")
        total += points
    return total


def capd_score(answers: tuple[CapdAnswer, ...], criteria: IcansCriteria) -> int:
    """The CAPD total: eight answers in item order, reverse items scored the other way."""
    items = criteria.capd_items
    if len(answers) != len(items):
        raise InvalidInput("capd_answers", len(answers), f"exactly {len(items)} answers")
    top = max(criteria.capd_answer_points.values())
    total = 0
    for item, answer in zip(items, answers, strict=True):
        points = criteria.capd_answer_points[answer]
        total += top - points if item.reverse else points
    return total


def grade_icans(findings: IcansFindings, criteria: IcansCriteria) -> Grading:
    """Grade ICANS from every domain; the most severe sets the grade.

    Raises ``InvalidInput`` naming the field for an age outside the plausible range, a
    score out of range, both or neither of a score and its items, the wrong instrument
    for the age, or a score above 0 for an unarousable patient.
    """
    age = findings.age_years
    if not age.is_finite() or age not in criteria.age_years:
        raise InvalidInput("age_years", age, criteria.age_years.describe())
    use_capd = age < criteria.capd_below_age_years or findings.developmental_delay
    encephalopathy, notes = (
        _capd_criterion(findings, criteria) if use_capd else _ice_criterion(findings, criteria)
    )
    consciousness = criteria.consciousness[findings.consciousness]
    seizure = criteria.seizure[findings.seizure]
    edema = criteria.cerebral_edema[findings.cerebral_edema]
    found: list[Criterion] = [
        encephalopathy,
        Criterion("consciousness", consciousness.text, consciousness.grade),
        Criterion("seizure", seizure.text, seizure.grade),
        Criterion(
            "motor",
            criteria.motor_weakness.text if findings.motor_weakness else NO_MOTOR_WEAKNESS(),
            criteria.motor_weakness.grade if findings.motor_weakness else 0,
        ),
        Criterion("cerebral edema", edema.text, edema.grade),
    ]
    found.extend(
        Criterion(
            "raised intracranial pressure",
            criteria.icp_signs[sign].text,
            criteria.icp_signs[sign].grade,
        )
        for sign in sorted(findings.icp_signs)
    )
    return grading(SCALE, tuple(found), criteria.source, notes)


def _ice_criterion(
    findings: IcansFindings, criteria: IcansCriteria
) -> tuple[Criterion, tuple[str, ...]]:
    if findings.capd_score is not None or findings.capd_answers is not None:
        raise InvalidInput(
            "capd_score",
            findings.capd_score if findings.capd_score is not None else "(answers)",
            f"given only under {criteria.capd_below_age_years} years or with developmental "
            "delay: give the ICE score",
        )
    score = _one_of(
        "ice_score",
        findings.ice_score,
        "ice_items",
        None if findings.ice_items is None else ice_score(findings.ice_items, criteria),
        criteria.ice_max,
        findings.consciousness,
        "ICE",
    )
    notes = (criteria.age_note,)
    if score is None:
        level = criteria.ice_unarousable
        return Criterion("ICE score", level.text, level.grade), notes
    band = _band(criteria.ice_bands, score)
    return (
        Criterion(
            "ICE score",
            ICE_SCORE(score=score, maximum=criteria.ice_max, band=band.text),
            band.grade,
        ),
        notes,
    )


def _capd_criterion(
    findings: IcansFindings, criteria: IcansCriteria
) -> tuple[Criterion, tuple[str, ...]]:
    if findings.ice_score is not None or findings.ice_items is not None:
        raise InvalidInput(
            "ice_score",
            findings.ice_score if findings.ice_score is not None else "(items)",
            f"given only from {criteria.capd_below_age_years} years without developmental "
            "delay: give the CAPD score or answers",
        )
    score = _one_of(
        "capd_score",
        findings.capd_score,
        "capd_answers",
        None if findings.capd_answers is None else capd_score(findings.capd_answers, criteria),
        criteria.capd_max,
        findings.consciousness,
        "CAPD",
    )
    notes = [criteria.age_note]
    if score is None:
        level = criteria.capd_unarousable
        return Criterion("CAPD", level.text, level.grade), tuple(notes)
    band = _band(criteria.capd_bands, score)
    if band.note is not None:
        notes.append(band.note)
    return (
        Criterion(
            "CAPD", CAPD_SCORE(score=score, maximum=criteria.capd_max, band=band.text), band.grade
        ),
        tuple(notes),
    )


def _one_of(
    score_field: str,
    score: int | None,
    items_field: str,
    from_items: int | None,
    maximum: int,
    consciousness: Consciousness,
    instrument: str,
) -> int | None:
    """The score given directly or from its items; None when the patient is unarousable."""
    if score is not None and from_items is not None:
        raise InvalidInput(items_field, "(given)", f"given only without {score_field}")
    value = score if score is not None else from_items
    if value is not None and not 0 <= value <= maximum:
        raise InvalidInput(score_field, value, f">= 0 and <= {maximum}")
    if consciousness is Consciousness.UNAROUSABLE:
        if value:
            raise InvalidInput(
                score_field,
                value,
                f"0 or not given: an unarousable patient cannot do the {instrument}",
            )
        return None
    if value is None:
        raise InvalidInput(score_field, "(missing)", f"given (0 to {maximum}) or as {items_field}")
    return value


def _band(bands: tuple[ScoreBand, ...], score: int) -> ScoreBand:
    return next(band for band in bands if band.low <= score <= band.high)
