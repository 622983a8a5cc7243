"""CTCAE v5.0 grades for the labs and events that matter on blinatumomab.

Three kinds of term (source id ``ctcae-v5.0``; every cell in ``knowledge/toxicity.toml``):

- lab terms graded by ``Band``s: absolute values, multiples of the lab's LLN or ULN,
  or of the patient's baseline where the baseline is abnormal (ALT, AST, bilirubin:
  abnormal means above the ULN; with no baseline given it is taken as normal);
- clinical terms graded by the finding the clinician picks (the CTCAE wording);
- febrile neutropenia: ANC below the limit with one temperature above the single-reading
  limit, or a sustained temperature for longer than the stated hours.

Where only symptoms separate two grades (hypokalemia 1 vs 2, lipase and amylase) and
symptoms are not stated, the worse grade is assumed and a note says so (the admiral
convention, ``admiral-worst-case``). Where two bands of one grade hold (lipase > 1.5 and
> 2.0 x ULN without symptoms, both grade 2), the narrower band is the one cited.

A lab value comes with its unit (``CtcaeFindings.unit``, the unit of the value and of
its LLN, ULN and baseline; none is the term's own unit): it is converted exactly to the
unit the term's thresholds are written in and checked against the measurand's plausible
range (``lab_units``), so 75 g/L of haemoglobin grades as 7.5 g/dL and 75 "g/dL" is
refused as implausible.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from blina.domain.body import Range
from blina.domain.errors import InvalidInput
from blina.domain.sentences import Template
from blina.domain.toxicity import (
    Band,
    Compare,
    Criterion,
    Grading,
    Level,
    Relative,
    check_not_negative,
    grading,
)
from blina.domain.toxicity.lab_units import Measurand

__all__ = [
    "CtcaeCriteria",
    "CtcaeFindings",
    "CtcaeTerm",
    "FebrileNeutropeniaRule",
    "grade_ctcae",
]

# The findings and notes of a CTCAE grading (``blina.domain.sentences``).
CTCAE_SCALE = Template("CTCAE v{version}: {term}")
NO_BASELINE = Template("No baseline given: the baseline is taken as normal.")
SYMPTOMS_ASSUMED = Template(
    "Symptoms not stated: the worse (symptomatic) grade is assumed (admiral-worst-case)."
)
NO_GRADE_MET = Template("{value}: no grade 1 criterion met")
BAND_MET = Template("{value} {band}: {cell}")


@dataclass(frozen=True, slots=True)
class FebrileNeutropeniaRule:
    """ANC < ``anc_below`` with one temperature > ``single_above_c``, or a temperature
    >= ``sustained_at_least_c`` for more than ``sustained_hours_above`` hours."""

    anc_below: Decimal
    single_above_c: Decimal
    sustained_at_least_c: Decimal
    sustained_hours_above: Decimal
    grade: int
    text: str


@dataclass(frozen=True, slots=True)
class CtcaeTerm:
    """One CTCAE term: ``bands`` for a lab value, ``findings`` for clinical wording.

    A term graded from a lab value has the ``measurand`` it is measured as; its ``unit``
    is the measurand's canonical unit, the unit the bands are written in.
    """

    id: str
    term: str
    unit: str | None
    bands: tuple[Band, ...]
    findings: Mapping[str, Level]
    febrile: FebrileNeutropeniaRule | None
    notes: tuple[str, ...]
    source: str
    measurand: Measurand | None = None
    relatives: frozenset[Relative] = field(init=False)
    symptom_dependent: bool = field(init=False)

    def __post_init__(self) -> None:
        # Derived once: grading runs at >= 100,000 per second (benches/bench_toxicity.py).
        object.__setattr__(self, "relatives", frozenset(b.relative for b in self.bands))
        object.__setattr__(
            self, "symptom_dependent", any(b.symptomatic is not None for b in self.bands)
        )

    def needs(self, relative: Relative) -> bool:
        return relative in self.relatives


@dataclass(frozen=True, slots=True)
class CtcaeCriteria:
    version: str
    terms: Mapping[str, CtcaeTerm]
    temperature_c: Range
    source: str
    worst_case_source: str


@dataclass(frozen=True, slots=True)
class CtcaeFindings:
    """What was found: a lab value (with its unit, LLN, ULN, baseline and symptoms), or
    a clinical finding, or an ANC with a temperature. ``unit`` is the unit of ``value``,
    ``lln``, ``uln`` and ``baseline``; ``None`` is the term's own unit."""

    value: Decimal | None = None
    unit: str | None = None
    uln: Decimal | None = None
    lln: Decimal | None = None
    baseline: Decimal | None = None
    symptomatic: bool | None = None
    finding: str | None = None
    temperature_c: Decimal | None = None
    fever_hours: Decimal | None = None


def grade_ctcae(term_id: str, findings: CtcaeFindings, criteria: CtcaeCriteria) -> Grading:
    """Grade one CTCAE v5.0 term.

    Raises ``InvalidInput`` naming the field for an unknown term, a negative value, a
    missing LLN/ULN the term needs, a unit the term's measurand is not reported in, a
    value outside the measurand's plausible range, or a finding the term does not have.
    """
    term = criteria.terms.get(term_id)
    if term is None:
        raise InvalidInput("term", term_id, f"one of {', '.join(criteria.terms)}")
    scale = CTCAE_SCALE(version=criteria.version, term=term.term)
    if findings.finding is not None:
        return _grade_finding(term, findings, criteria, scale)
    if term.febrile is not None:
        return _grade_febrile(term, term.febrile, findings, criteria, scale)
    if not term.bands:
        raise InvalidInput("finding", "(missing)", f"one of {', '.join(term.findings)}")
    return _grade_lab(term, findings, criteria, scale)


def _grade_finding(
    term: CtcaeTerm, findings: CtcaeFindings, criteria: CtcaeCriteria, scale: str
) -> Grading:
    name = findings.finding
    assert name is not None
    level = term.findings.get(name)
    if level is None:
        allowed = ", ".join(term.findings) if term.findings else f"none: {term.id} is a lab term"
        raise InvalidInput("finding", name, f"one of {allowed}")
    return grading(scale, (Criterion(term.term, level.text, level.grade),), term.source, term.notes)


def _grade_lab(
    term: CtcaeTerm, findings: CtcaeFindings, criteria: CtcaeCriteria, scale: str
) -> Grading:
    measurand = term.measurand
    assert measurand is not None  # the loader gives every lab term its measurand
    value = _required("value", findings.value, f"the {term.term} result in {term.unit}")
    lln = _reference("lln", findings.lln, term, Relative.LLN)
    uln = _reference("uln", findings.uln, term, Relative.ULN)
    unit = measurand.unit("unit", findings.unit)
    reading = measurand.read("value", value, unit)
    lln = None if lln is None else measurand.read("lln", lln, unit).canonical
    uln = None if uln is None else measurand.read("uln", uln, unit).canonical
    baseline = findings.baseline
    notes = list(term.notes)
    abnormal: bool | None = None
    if term.needs(Relative.BASELINE):
        abnormal = False
        if baseline is None:
            notes.append(NO_BASELINE())
        else:
            baseline = measurand.read("baseline", baseline, unit).canonical
            assert uln is not None
            abnormal = baseline > uln
    elif baseline is not None:
        with_baseline = (t.id for t in criteria.terms.values() if t.needs(Relative.BASELINE))
        raise InvalidInput("baseline", baseline, f"given only for {', '.join(with_baseline)}")
    symptomatic = findings.symptomatic
    if symptomatic is None and term.symptom_dependent:
        symptomatic = True
        notes.append(SYMPTOMS_ASSUMED())
    best: tuple[Band, Decimal] | None = None
    for band in term.bands:
        if band.baseline_abnormal is not None and band.baseline_abnormal is not abnormal:
            continue
        if band.symptomatic is not None and band.symptomatic is not symptomatic:
            continue
        limit = band.limit(lln=lln, uln=uln, baseline=baseline)
        if band.holds(reading.canonical, limit) and (
            best is None or _decides_over(band, limit, *best)
        ):
            best = (band, limit)
    shown = reading.describe(measurand.canonical)
    if best is None:
        found = Criterion(term.term, NO_GRADE_MET(value=shown), 0)
    else:
        band, limit = best
        finding = BAND_MET(
            value=shown, band=band.describe(limit, measurand.canonical), cell=band.text
        )
        found = Criterion(term.term, finding, band.grade)
    return grading(scale, (found,), term.source, notes)


def _decides_over(band: Band, limit: Decimal, best: Band, best_limit: Decimal) -> bool:
    """The higher grade decides. At one grade the narrower band is cited: the one whose
    limit lies further along its comparison (lipase > 2.0 x ULN without symptoms, not
    > 1.5 x ULN, for a grade 2 at 3 x ULN)."""
    if band.grade != best.grade:
        return band.grade > best.grade
    if band.compare in (Compare.GT, Compare.GE):
        return limit > best_limit
    return limit < best_limit


def _grade_febrile(
    term: CtcaeTerm,
    rule: FebrileNeutropeniaRule,
    findings: CtcaeFindings,
    criteria: CtcaeCriteria,
    scale: str,
) -> Grading:
    measurand = term.measurand
    assert measurand is not None  # the loader gives febrile neutropenia its measurand
    anc = _required("value", findings.value, "the ANC in cells/mm3")
    reading = measurand.read("value", anc, measurand.unit("unit", findings.unit))
    temperature = _required("temperature_c", findings.temperature_c, "the temperature in C")
    if not temperature.is_finite() or temperature not in criteria.temperature_c:
        raise InvalidInput("temperature_c", temperature, criteria.temperature_c.describe())
    hours = findings.fever_hours
    if hours is not None:
        check_not_negative("fever_hours", hours)
    neutropenic = reading.canonical < rule.anc_below
    single = temperature > rule.single_above_c
    sustained = (
        hours is not None
        and temperature >= rule.sustained_at_least_c
        and hours > rule.sustained_hours_above
    )
    shown = anc if reading.unit.code == term.unit else reading.describe(measurand.canonical)
    anc_text = f"ANC {shown} {'<' if neutropenic else '>='} {rule.anc_below} {term.unit}"
    if single:
        fever_text = f"temperature {temperature} C > {rule.single_above_c} C"
    elif sustained:
        fever_text = (
            f"temperature {temperature} C >= {rule.sustained_at_least_c} C for {hours} h "
            f"> {rule.sustained_hours_above} h"
        )
    else:
        fever_text = (
            f"temperature {temperature} C: not > {rule.single_above_c} C once, nor >= "
            f"{rule.sustained_at_least_c} C for more than {rule.sustained_hours_above} h"
        )
    grade = rule.grade if neutropenic and (single or sustained) else 0
    criteria_found = (Criterion("ANC", anc_text, grade), Criterion("fever", fever_text, grade))
    return grading(scale, criteria_found, term.source, term.notes)


def _required(field: str, value: Decimal | None, what: str) -> Decimal:
    if value is None:
        raise InvalidInput(field, "(missing)", f"given: {what}")
    check_not_negative(field, value)
    return value


def _reference(
    field: str, value: Decimal | None, term: CtcaeTerm, relative: Relative
) -> Decimal | None:
    needed = term.needs(relative) or (relative is Relative.ULN and term.needs(Relative.BASELINE))
    if value is None:
        if needed:
            raise InvalidInput(
                field,
                "(missing)",
                f"given for {term.id}: its grades are set against the {field.upper()}",
            )
        return None
    if not value.is_finite() or value <= 0:
        raise InvalidInput(field, value, "a number > 0")
    return value
