"""Properties of lab values entered in any unit (issue 15, item 10), for every unit of
every measurand the knowledge file has:

- a conversion is exact (the product as a rational number) and comes back as entered;
- a CTCAE lab term grades a value in any of its units, with its references in that unit,
  exactly as it grades the same value converted to the canonical unit: same grade, same
  band cited;
- Cairo-Bishop finds an analyte abnormal in any unit exactly when it does the converted
  value, except where the source restates the threshold in that unit, where the value is
  abnormal when it meets either figure (never less careful than the canonical reading).
"""

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st
from tests.lab_strategies import lab_entries, lab_values, symptoms

from blina.domain.toxicity import Grading, Relative
from blina.domain.toxicity.ctcae import CtcaeFindings, grade_ctcae
from blina.domain.toxicity.lab_units import Measurand, plain
from blina.domain.toxicity.tls import Analyte, LabSample, TlsFindings, assess_tls
from blina.knowledge import load_knowledge

TOXICITY = load_knowledge().toxicity
UNITS = [(m.id, u.code) for m in TOXICITY.measurands.values() for u in m.units]
LAB_TERMS = [t.id for t in TOXICITY.ctcae.terms.values() if t.bands]
START = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)


def test_every_measurand_has_a_unit_and_the_terms_use_them() -> None:
    assert len(UNITS) > len(TOXICITY.measurands)
    used = {t.measurand.id for t in TOXICITY.ctcae.terms.values() if t.measurand is not None}
    used |= {r.measurand.id for r in TOXICITY.tls.analytes.values()}
    used.add(TOXICITY.tls.creatinine_measurand.id)
    assert used == set(TOXICITY.measurands)


@pytest.mark.parametrize(("measurand_id", "code"), UNITS, ids=[f"{m}-{u}" for m, u in UNITS])
@given(data=st.data())
def test_a_conversion_is_exact_and_its_round_trip_gives_the_value_entered(
    measurand_id: str, code: str, data: st.DataObject
) -> None:
    measurand = TOXICITY.measurands[measurand_id]
    unit = measurand.unit("unit", code)
    value = data.draw(lab_values(measurand, unit))

    canonical = measurand.to_canonical(value, unit)

    assert Fraction(canonical) == Fraction(value) * Fraction(unit.factor)
    assert measurand.from_canonical(canonical, unit) == value
    assert measurand.read("value", value, unit).canonical == canonical


def _after_value(finding: str, shown: str) -> str:
    assert finding.startswith(shown), (finding, shown)
    return finding[len(shown) :]


@pytest.mark.parametrize("term_id", LAB_TERMS)
@given(data=st.data())
def test_a_lab_grades_the_same_in_any_unit_as_converted(term_id: str, data: st.DataObject) -> None:
    term = TOXICITY.ctcae.terms[term_id]
    measurand = term.measurand
    assert measurand is not None
    value, unit = data.draw(lab_entries(measurand), label="value")
    refs = {
        name: data.draw(lab_values(measurand, unit, above_zero=True), label=name)
        for name, relative in (("lln", Relative.LLN), ("uln", Relative.ULN))
        if term.needs(relative) or (name == "uln" and term.needs(Relative.BASELINE))
    }
    if term.needs(Relative.BASELINE) and data.draw(st.booleans(), label="baseline given"):
        refs["baseline"] = data.draw(lab_values(measurand, unit), label="baseline")
    symptomatic = data.draw(symptoms(), label="symptomatic")
    fever = {}
    if term.febrile is not None:
        fever = {"temperature_c": data.draw(st.sampled_from([Decimal("37.0"), Decimal("38.5")]))}

    entered = grade_ctcae(
        term_id,
        CtcaeFindings(value=value, unit=unit.code, symptomatic=symptomatic, **refs, **fever),
        TOXICITY.ctcae,
    )
    converted = grade_ctcae(
        term_id,
        CtcaeFindings(
            value=measurand.to_canonical(value, unit),
            symptomatic=symptomatic,
            **{k: measurand.to_canonical(v, unit) for k, v in refs.items()},
            **fever,
        ),
        TOXICITY.ctcae,
    )

    assert entered.grade == converted.grade
    assert entered.notes == converted.notes
    _same_cells(entered, converted, value, unit.code, measurand)


def _same_cells(
    entered: Grading, converted: Grading, value: Decimal, code: str, measurand: Measurand
) -> None:
    """Both gradings cite the same band (the text after the value is the same)."""
    canonical = measurand.to_canonical(value, measurand.unit("unit", code))
    first_entered, first_converted = entered.criteria[0].finding, converted.criteria[0].finding
    prefix = "ANC " if first_entered.startswith("ANC ") else ""
    if code == measurand.canonical:
        assert first_entered == first_converted
        return
    shown = f"{prefix}{value} {code} ({plain(canonical)} {measurand.canonical})"
    converted_shown = f"{prefix}{canonical}" if prefix else f"{canonical} {measurand.canonical}"
    assert _after_value(first_entered, shown) == _after_value(first_converted, converted_shown)


ANALYTES = [
    (analyte, unit.code)
    for analyte, rule in TOXICITY.tls.analytes.items()
    for unit in rule.measurand.units
]


def _is_abnormal(analyte: Analyte, value: Decimal, code: str | None, child: bool) -> bool:
    units = {} if code is None else {analyte: code}
    sample = LabSample(START + timedelta(days=1), {analyte: value}, units)
    findings = TlsFindings(therapy_start=START, samples=(sample,), child=child)
    result = assess_tls(findings, TOXICITY.tls)
    return analyte in [c.domain for c in result.grading.criteria]


@pytest.mark.parametrize(("analyte", "code"), ANALYTES, ids=[f"{a}-{u}" for a, u in ANALYTES])
@given(data=st.data())
def test_an_analyte_is_abnormal_in_any_unit_as_converted_or_more_carefully(
    analyte: Analyte, code: str, data: st.DataObject
) -> None:
    rule = TOXICITY.tls.analytes[analyte]
    unit = rule.measurand.unit("unit", code)
    value = data.draw(lab_values(rule.measurand, unit), label="value")
    child = data.draw(st.booleans(), label="child")

    entered = _is_abnormal(analyte, value, code, child)
    converted = _is_abnormal(analyte, rule.measurand.to_canonical(value, unit), None, child)

    restated = rule.restated
    if restated is None or restated.unit != code:
        assert entered is converted
    else:
        figure = restated.child_threshold if child else restated.adult_threshold
        meets = value >= figure if rule.rises else value <= figure
        assert entered is (converted or meets)
