"""Cytokine release syndrome by the ASTCT consensus (Lee et al. 2019).

Rules (source ids ``astct-2019-crs``, ``astct-2019-crs-masking``; thresholds in
``knowledge/toxicity.toml``):

- fever is a temperature at or above the fever threshold (38.0 C);
- once antipyretic or anti-cytokine treatment (tocilizumab, corticosteroids) has been
  given, fever is no longer needed and hypotension and hypoxia drive the grade;
- grade = max(1, hypotension level, hypoxia level) when fever is present or masked;
  without either there is no CRS (grade 0), whatever the blood pressure or oxygen;
- nasal cannula oxygen at or below the low-flow limit (6 L/min) is low-flow, above it
  high-flow;
- one vasopressor plus vasopressin is one vasopressor; two or more others are several.

Organ toxicities are graded separately (CTCAE) and never change the CRS grade.
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
    "CrsCriteria",
    "CrsFindings",
    "Hypotension",
    "OxygenSupport",
    "grade_crs",
    "hypotension_from_vasopressors",
]

SCALE = "ASTCT CRS (Lee 2019)"

# The findings and notes of a CRS grading (``blina.domain.sentences``).
NOT_CRS_WITHOUT_FEVER = Template(
    "Hypotension or hypoxia without fever (and fever not masked) is not CRS by ASTCT: grade "
    "them with CTCAE v5.0 and look for another cause."
)
MASKING_NEEDS_DIAGNOSIS = Template(
    "Fever masking counts only once CRS has been diagnosed in this episode ({source}): it "
    "was not, so fever is required."
)
NO_FEVER = Template("{temperature} C, below {threshold} C; not masked")
FEVER = Template("{temperature} C >= {threshold} C")
FEVER_MASKED = Template(
    "{temperature} C, below {threshold} C, but masked by {masking}: fever is no longer required"
)
MASKING_RULE = Template("Fever masking rule: {source}.")
NASAL_CANNULA = Template("{level}: nasal cannula {flow} L/min {relation} {limit} L/min")


class Hypotension(StrEnum):
    NONE = "none"
    FLUIDS = "fluids"
    ONE_VASOPRESSOR = "one-vasopressor"
    MULTIPLE_VASOPRESSORS = "multiple-vasopressors"


class OxygenSupport(StrEnum):
    NONE = "none"
    LOW_FLOW = "low-flow"
    HIGH_FLOW = "high-flow"
    POSITIVE_PRESSURE = "positive-pressure"


@dataclass(frozen=True, slots=True)
class CrsCriteria:
    """The ASTCT CRS table as data: thresholds, the grade of each level, the sources."""

    fever_min_c: Decimal
    low_flow_max_l_per_min: Decimal
    hypotension: Mapping[Hypotension, Level]
    oxygen: Mapping[OxygenSupport, Level]
    masking: str
    temperature_c: Range
    oxygen_flow_l_per_min: Range
    source: str
    masking_source: str
    plausibility_source: str


@dataclass(frozen=True, slots=True)
class CrsFindings:
    """What the bedside shows. ``oxygen_flow_l_per_min`` is the nasal-cannula flow, if any.

    ``fever_masked``: antipyretic or anti-cytokine treatment was given; it counts only with
    ``crs_diagnosed`` (CRS already diagnosed in this episode): masking keeps grading a CRS
    that is known, it never makes one of hypotension or hypoxia without fever.
    """

    temperature_c: Decimal
    hypotension: Hypotension
    oxygen: OxygenSupport
    fever_masked: bool = False
    oxygen_flow_l_per_min: Decimal | None = None
    crs_diagnosed: bool = False


def hypotension_from_vasopressors(*, vasopressors: int, vasopressin: bool) -> Hypotension:
    """The hypotension level from the vasopressors running (vasopressin not counted).

    >>> hypotension_from_vasopressors(vasopressors=1, vasopressin=True)
    <Hypotension.ONE_VASOPRESSOR: 'one-vasopressor'>

    Vasopressin alone is not addressed by the ASTCT table, so it is refused rather than
    guessed.
    """
    if vasopressors < 0:
        raise InvalidInput("vasopressors", vasopressors, ">= 0")
    if vasopressors == 0:
        if vasopressin:
            raise InvalidInput(
                "vasopressors",
                "vasopressin only",
                "a level chosen by the clinician: ASTCT does not address vasopressin alone",
            )
        return Hypotension.NONE
    return Hypotension.ONE_VASOPRESSOR if vasopressors == 1 else Hypotension.MULTIPLE_VASOPRESSORS


def grade_crs(findings: CrsFindings, criteria: CrsCriteria) -> Grading:
    """Grade CRS; every assessed domain is returned with the grade it points to.

    Raises ``InvalidInput`` for a temperature outside the plausible range or a flow that
    contradicts the oxygen level.
    """
    temperature = findings.temperature_c
    if not temperature.is_finite() or temperature not in criteria.temperature_c:
        raise InvalidInput("temperature_c", temperature, criteria.temperature_c.describe())
    oxygen = _oxygen_finding(findings, criteria)
    fever = temperature >= criteria.fever_min_c
    threshold = criteria.fever_min_c
    masked = findings.fever_masked and findings.crs_diagnosed
    if not fever and not masked:
        notes: tuple[str, ...] = ()
        if findings.hypotension is not Hypotension.NONE or oxygen.grade:
            notes = (NOT_CRS_WITHOUT_FEVER(),)
        if findings.fever_masked:
            notes = (*notes, MASKING_NEEDS_DIAGNOSIS(source=criteria.masking_source))
        fever_criterion = Criterion(
            "fever", NO_FEVER(temperature=temperature, threshold=threshold), 0
        )
        return grading(SCALE, (fever_criterion,), criteria.source, notes)
    if fever:
        fever_criterion = Criterion("fever", FEVER(temperature=temperature, threshold=threshold), 1)
    else:
        fever_criterion = Criterion(
            "fever",
            FEVER_MASKED(temperature=temperature, threshold=threshold, masking=criteria.masking),
            1,
        )
    hypotension = criteria.hypotension[findings.hypotension]
    return grading(
        SCALE,
        (
            fever_criterion,
            Criterion("hypotension", hypotension.text, hypotension.grade),
            Criterion("hypoxia", oxygen.text, oxygen.grade),
        ),
        criteria.source,
        (MASKING_RULE(source=criteria.masking_source),) if not fever else (),
    )


def _oxygen_finding(findings: CrsFindings, criteria: CrsCriteria) -> Level:
    level = criteria.oxygen[findings.oxygen]
    flow = findings.oxygen_flow_l_per_min
    if flow is None:
        return level
    if not flow.is_finite() or flow not in criteria.oxygen_flow_l_per_min:
        raise InvalidInput("oxygen_flow_l_per_min", flow, criteria.oxygen_flow_l_per_min.describe())
    limit = criteria.low_flow_max_l_per_min
    by_flow = OxygenSupport.LOW_FLOW if flow <= limit else OxygenSupport.HIGH_FLOW
    if findings.oxygen is not by_flow:
        allowed = f"<= {limit}" if findings.oxygen is OxygenSupport.LOW_FLOW else f"> {limit}"
        if findings.oxygen not in (OxygenSupport.LOW_FLOW, OxygenSupport.HIGH_FLOW):
            allowed = "given only with low-flow or high-flow nasal cannula oxygen"
        raise InvalidInput("oxygen_flow_l_per_min", flow, f"{allowed} for oxygen {findings.oxygen}")
    relation = "<=" if by_flow is OxygenSupport.LOW_FLOW else ">"
    return Level(
        level.grade, NASAL_CANNULA(level=level.text, flow=flow, relation=relation, limit=limit)
    )
