"""Lab values with their units (issue 15, item 10): exact conversion, the plausibility
check that names the likely unit, CTCAE and Cairo-Bishop grading of values entered in
any unit, total and ionised calcium as distinct terms; and the lipase grade-2 band that
is cited (item 13)."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from blina.domain.body import Range
from blina.domain.errors import InvalidInput
from blina.domain.toxicity import Band, Compare, Relative
from blina.domain.toxicity.ctcae import CtcaeCriteria, CtcaeFindings, CtcaeTerm, grade_ctcae
from blina.domain.toxicity.lab_units import LabUnit, Measurand, plain
from blina.domain.toxicity.tls import (
    Analyte,
    LabSample,
    TlsAssessment,
    TlsCriteria,
    TlsFindings,
    assess_tls,
)
from blina.knowledge import Knowledge
from blina.knowledge._toxicity import ToxicityKnowledge

START = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
UA, K, PO4, CA = Analyte.URIC_ACID, Analyte.POTASSIUM, Analyte.PHOSPHATE, Analyte.CALCIUM
D = Decimal


@pytest.fixture(scope="module")
def toxicity(knowledge: Knowledge) -> ToxicityKnowledge:
    return knowledge.toxicity


@pytest.fixture(scope="module")
def ctcae(toxicity: ToxicityKnowledge) -> CtcaeCriteria:
    return toxicity.ctcae


@pytest.fixture(scope="module")
def tls(toxicity: ToxicityKnowledge) -> TlsCriteria:
    return toxicity.tls


def _grade(ctcae: CtcaeCriteria, term: str, value: str, unit: str | None = None, **refs: str):  # type: ignore[no-untyped-def]
    findings = CtcaeFindings(
        value=D(value),
        unit=unit,
        **{k: D(v) for k, v in refs.items()},  # type: ignore[arg-type]
    )
    return grade_ctcae(term, findings, ctcae)


# --- the measurand: units, exact conversion, plausibility --------------------------------------


def test_a_measurand_resolves_its_units_and_their_spellings(toxicity: ToxicityKnowledge) -> None:
    uric = toxicity.measurands["uric-acid"]

    assert uric.canonical == "umol/L"
    assert uric.unit("unit", None) is uric.units[0]
    assert uric.unit("unit", "") is uric.units[0]
    assert uric.unit("unit", "µmol/L") is uric.units[0]
    assert uric.unit("unit", " mg/dL ").code == "mg/dL"
    assert uric.allowed() == "one of umol/L, mg/dL"


def test_an_unknown_unit_names_the_field_and_the_units(toxicity: ToxicityKnowledge) -> None:
    with pytest.raises(InvalidInput) as raised:
        toxicity.measurands["hemoglobin"].unit("unit", "mmol/L")

    assert raised.value.field == "unit"
    assert str(raised.value) == (
        "unit mmol/L is not allowed: must be a unit of haemoglobin: one of g/dL, g/L"
    )


@pytest.mark.parametrize(
    ("measurand", "value", "unit", "canonical"),
    [
        ("hemoglobin", "75", "g/L", "7.5"),
        ("uric-acid", "8.5", "mg/dL", "505.580"),
        ("uric-acid", "8.0", "mg/dL", "475.840"),
        ("creatinine", "1.8", "mg/dL", "159.12"),
        ("calcium-total", "7.0", "mg/dL", "1.74650"),
        ("phosphate", "6.5", "mg/dL", "2.09885"),
        ("platelets", "75", "10^9/L", "75000"),
        ("neutrophils", "0.5", "10^3/uL", "500.0"),
        ("potassium", "6.0", "mEq/L", "6.0"),
    ],
)
def test_conversion_is_exact_and_comes_back_as_entered(
    toxicity: ToxicityKnowledge, measurand: str, value: str, unit: str, canonical: str
) -> None:
    m = toxicity.measurands[measurand]
    lab_unit = m.unit("unit", unit)

    assert m.to_canonical(D(value), lab_unit) == D(canonical)
    assert m.from_canonical(D(canonical), lab_unit) == D(value)


def test_a_product_of_many_digits_is_still_exact() -> None:
    unit = LabUnit("mg/dL", D("59.48"))
    m = Measurand("x", "x", (LabUnit("umol/L", D(1)), unit), Range(D(0), D("1E+40")))
    value = D("123456789012345678901234567.891")

    assert m.to_canonical(value, unit) == D("7343209810454320981045432098.15668")


def test_plain_drops_trailing_zeros_without_an_exponent() -> None:
    assert [plain(D(t)) for t in ("505.580", "1.2E+3", "75000", "0.50")] == [
        "505.58",
        "1200",
        "75000",
        "0.5",
    ]


def test_haemoglobin_75_in_g_per_dl_is_refused_naming_g_per_l(ctcae: CtcaeCriteria) -> None:
    with pytest.raises(InvalidInput) as raised:
        _grade(ctcae, "hemoglobin", "75", lln="12")

    assert raised.value.field == "value"
    assert str(raised.value) == (
        "value 75 g/dL is not allowed: must be within the plausible range of haemoglobin, "
        ">= 1 and <= 25 g/dL; did you mean 75 g/L?"
    )


def test_an_implausible_value_with_no_plausible_unit_names_only_the_range(
    toxicity: ToxicityKnowledge,
) -> None:
    hb = toxicity.measurands["hemoglobin"]

    with pytest.raises(InvalidInput) as raised:
        hb.read("value", D("400"), hb.unit("unit", "g/L"))

    assert raised.value.value == "400 g/L"
    assert "did you mean" not in raised.value.allowed


def test_a_value_plausible_in_several_units_names_each(toxicity: ToxicityKnowledge) -> None:
    m = Measurand(
        "x",
        "an analyte",
        (LabUnit("a", D(1)), LabUnit("b", D("0.1")), LabUnit("c", D("0.05"))),
        Range(D(1), D(10)),
    )

    with pytest.raises(InvalidInput, match=r"did you mean 50 b or 50 c\?$"):
        m.read("value", D(50), m.units[0])


@pytest.mark.parametrize("value", ["-1", "NaN", "Infinity"])
def test_a_negative_or_non_finite_value_is_refused_first(
    toxicity: ToxicityKnowledge, value: str
) -> None:
    hb = toxicity.measurands["hemoglobin"]
    with pytest.raises(InvalidInput, match="a finite number >= 0"):
        hb.read("baseline", D(value), hb.units[1])


# --- CTCAE with units ---------------------------------------------------------------------------


def test_haemoglobin_75_g_per_l_grades_3_not_1(ctcae: CtcaeCriteria) -> None:
    # The reviewer's case: 75 g/L with an LLN of 120 g/L. Read as g/dL it graded 1
    # (below the LLN, above 10.0); it is 7.5 g/dL, grade 3.
    result = _grade(ctcae, "hemoglobin", "75", "g/L", lln="120")

    assert result.grade == 3
    assert result.criteria[0].finding == (
        "75 g/L (7.5 g/dL) < 8.0 g/dL: grade 3: <8.0 g/dL; transfusion indicated"
    )


@pytest.mark.parametrize(
    ("term", "value", "unit", "refs", "grade"),
    [
        ("hemoglobin", "100", "g/L", {"lln": "120"}, 1),
        ("hemoglobin", "99", "g/L", {"lln": "120"}, 2),
        ("hemoglobin", "80", "g/L", {"lln": "120"}, 2),
        ("hemoglobin", "79", "g/L", {"lln": "120"}, 3),
        ("neutrophils", "1.5", "10^9/L", {"lln": "2.0"}, 1),
        ("neutrophils", "0.499", "10^9/L", {"lln": "2.0"}, 4),
        ("platelets", "25", "10^9/L", {"lln": "150"}, 3),
        ("platelets", "24.999", "10^3/uL", {"lln": "150"}, 4),
        ("hyperkalemia", "6.1", "mEq/L", {"uln": "5.0"}, 3),
        ("alt", "201", "U/L", {"uln": "40"}, 3),
    ],
    ids=lambda v: str(v),
)
def test_ctcae_grades_a_value_in_any_of_its_units(
    ctcae: CtcaeCriteria, term: str, value: str, unit: str, refs: dict[str, str], grade: int
) -> None:
    assert _grade(ctcae, term, value, unit, **refs).grade == grade


def test_the_references_are_read_in_the_value_s_unit(ctcae: CtcaeCriteria) -> None:
    # ALT's ULN and baseline are in U/L whatever; haemoglobin's LLN in g/L is 12.0 g/dL.
    assert _grade(ctcae, "hemoglobin", "119", "g/L", lln="120").grade == 1
    with pytest.raises(InvalidInput) as raised:
        _grade(ctcae, "hemoglobin", "119", "g/L", lln="1200")
    assert (raised.value.field, raised.value.value) == ("lln", "1200 g/L")


def test_a_baseline_is_checked_and_converted(ctcae: CtcaeCriteria) -> None:
    with pytest.raises(InvalidInput) as raised:
        _grade(ctcae, "alt", "90", "U/L", uln="40", baseline="90000")

    assert raised.value.field == "baseline"


def test_a_unit_the_term_has_not_is_refused(ctcae: CtcaeCriteria) -> None:
    with pytest.raises(InvalidInput) as raised:
        _grade(ctcae, "alt", "90", "ukat/L", uln="40")

    assert (raised.value.field, raised.value.value) == ("unit", "ukat/L")


def test_febrile_neutropenia_reads_the_anc_in_its_unit(ctcae: CtcaeCriteria) -> None:
    findings = CtcaeFindings(value=D("0.8"), unit="10^9/L", temperature_c=D("38.5"))
    result = grade_ctcae("febrile-neutropenia", findings, ctcae)

    assert result.grade == 3
    assert result.criteria[0].finding == "ANC 0.8 10^9/L (800 cells/mm3) < 1000 cells/mm3"


# --- total and ionised calcium: distinct terms --------------------------------------------------


@pytest.mark.parametrize(
    ("term", "value", "unit", "grade"),
    [
        ("hypocalcemia", "2.1", None, 1),
        ("hypocalcemia", "1.99", None, 2),
        ("hypocalcemia", "1.75", None, 2),
        ("hypocalcemia", "1.74", None, 3),
        ("hypocalcemia", "1.49", None, 4),
        ("hypocalcemia", "8.1", "mg/dL", 1),
        # 8.0 mg/dL is 1.996 mmol/L: grade 2 by CTCAE's mmol/L column (the stricter reading)
        ("hypocalcemia", "8.0", "mg/dL", 2),
        ("hypocalcemia-ionized", "1.15", None, 0),
        ("hypocalcemia-ionized", "1.05", None, 1),
        ("hypocalcemia-ionized", "0.99", None, 2),
        ("hypocalcemia-ionized", "0.89", None, 3),
        ("hypocalcemia-ionized", "0.79", None, 4),
        ("hypocalcemia-ionized", "4.6", "mg/dL", 0),
    ],
    ids=lambda v: str(v),
)
def test_hypocalcemia_total_and_ionised_are_graded_apart(
    ctcae: CtcaeCriteria, term: str, value: str, unit: str | None, grade: int
) -> None:
    # the LLN is in the value's unit
    lln = {
        ("hypocalcemia", None): "2.15",
        ("hypocalcemia", "mg/dL"): "8.6",
        ("hypocalcemia-ionized", None): "1.10",
        ("hypocalcemia-ionized", "mg/dL"): "4.5",
    }[term, unit]

    assert _grade(ctcae, term, value, unit, lln=lln).grade == grade


def test_a_normal_ionised_calcium_is_severe_as_a_total_calcium(ctcae: CtcaeCriteria) -> None:
    assert _grade(ctcae, "hypocalcemia-ionized", "1.15", lln="1.10").grade == 0
    assert _grade(ctcae, "hypocalcemia", "1.15", lln="2.15").grade == 4
    assert "ionized" in ctcae.terms["hypocalcemia"].notes[0].lower()


def test_an_ionised_calcium_in_mg_per_dl_entered_as_mmol_per_l_is_refused(
    ctcae: CtcaeCriteria,
) -> None:
    with pytest.raises(InvalidInput, match=r"did you mean 4\.8 mg/dL"):
        _grade(ctcae, "hypocalcemia-ionized", "4.8", lln="1.10")


# --- the cited band (item 13) -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "symptomatic", "grade", "cell"),
    [
        ("100", False, 2, "grade 2: >1.5-2.0 x ULN"),
        ("130", False, 2, "grade 2: >2.0-5.0 x ULN without symptoms"),
        ("300", False, 2, "grade 2: >2.0-5.0 x ULN without symptoms"),
        ("301", False, 3, "grade 3: >5.0 x ULN without symptoms"),
        ("130", True, 3, "grade 3: >2.0-5.0 x ULN with signs or symptoms"),
    ],
    ids=["1.7x", "2.2x", "5.0x", "5.02x", "2.2x-symptomatic"],
)
@pytest.mark.parametrize("term", ["lipase", "amylase"])
def test_lipase_and_amylase_cite_the_band_that_holds(
    ctcae: CtcaeCriteria, term: str, value: str, symptomatic: bool, grade: int, cell: str
) -> None:
    findings = CtcaeFindings(value=D(value), uln=D("60"), symptomatic=symptomatic)
    result = grade_ctcae(term, findings, ctcae)

    assert result.grade == grade
    assert result.criteria[0].finding.endswith(f": {cell}")


def test_at_one_grade_the_narrower_falling_band_is_cited() -> None:
    # No shipped term has two falling bands of one grade; the rule is the same.
    bands = (
        Band(2, Compare.LT, D(10), Relative.ABSOLUTE, "wide"),
        Band(2, Compare.LT, D(5), Relative.ABSOLUTE, "narrow"),
        Band(2, Compare.LE, D(8), Relative.ABSOLUTE, "middle"),
    )
    measurand = Measurand("x", "x", (LabUnit("U", D(1)),), Range(D(0), D(100)))
    term = CtcaeTerm("x", "X", "U", bands, {}, None, (), "src", measurand)
    criteria = CtcaeCriteria("5.0", {"x": term}, Range(D(30), D(45)), "src", "worst")

    result = grade_ctcae("x", CtcaeFindings(value=D(4)), criteria)

    assert result.criteria[0].finding == "4 U < 5 U: narrow"


# --- Cairo-Bishop with units --------------------------------------------------------------------


def _assess(
    tls: TlsCriteria,
    values: dict[Analyte, Decimal],
    units: dict[Analyte, str] | None = None,
    **kwargs: object,
) -> TlsAssessment:
    sample = LabSample(START + timedelta(days=1), values, units or {})
    findings = TlsFindings(therapy_start=START, samples=(sample,), **kwargs)  # type: ignore[arg-type]
    return assess_tls(findings, tls)


def _abnormal(tls: TlsCriteria, analyte: Analyte, value: str, unit: str, child: bool) -> bool:
    partner = {UA: D("500")} if analyte is not UA else {K: D("6.5")}
    result = _assess(tls, {**partner, analyte: D(value)}, {analyte: unit}, child=child)
    return analyte in [c.domain for c in result.grading.criteria]


def test_uric_acid_8_5_mg_per_dl_is_laboratory_tls(tls: TlsCriteria) -> None:
    # The reviewer's case: 8.5 mg/dL read as 8.5 umol/L missed laboratory TLS.
    entered = _assess(tls, {UA: D("8.5"), K: D("6.5")}, {UA: "mg/dL"}, child=False)
    bare = _assess(tls, {UA: D("8.5"), K: D("6.5")}, child=False)

    assert entered.laboratory is True
    finding = next(c.finding for c in entered.grading.criteria if c.domain == UA)
    assert finding.startswith("8.5 mg/dL (505.58 umol/L) >= 476 umol/L at ")
    assert bare.laboratory is False
    assert bare.grading.notes[0] == (
        "Given without a unit, read in the SI unit: samples[0].uric-acid 8.5 umol/L; "
        "samples[0].potassium 6.5 mmol/L."
    )


@pytest.mark.parametrize(
    ("analyte", "value", "child", "abnormal"),
    [
        # the restated mg/dL figure acts where the exact conversion falls just short
        (UA, "8.0", False, True),
        (UA, "7.9", False, False),
        (PO4, "6.5", True, True),
        (PO4, "6.49", True, False),
        (PO4, "4.5", False, True),
        (PO4, "4.49", False, False),
        # the exact conversion acts where it is stricter than the restated figure
        (PO4, "4.491", False, True),
        (CA, "7.0", False, True),
        (CA, "7.01", False, True),
        (CA, "7.02", False, False),
    ],
    ids=lambda v: str(v),
)
def test_mg_per_dl_values_meet_the_stricter_of_the_two_figures(
    tls: TlsCriteria, analyte: Analyte, value: str, child: bool, abnormal: bool
) -> None:
    assert _abnormal(tls, analyte, value, "mg/dL", child) is abnormal


def test_a_restated_figure_says_so(tls: TlsCriteria) -> None:
    result = _assess(tls, {UA: D("8.0"), K: D("6.5")}, {UA: "mg/dL"}, child=False)

    finding = next(c.finding for c in result.grading.criteria if c.domain == UA)
    assert finding.startswith(
        "8.0 mg/dL >= 8.0 mg/dL, the source's figure in mg/dL for 476 umol/L "
        "(8.0 mg/dL is 475.84 umol/L) at "
    )


def test_a_baseline_in_mg_per_dl_is_compared_in_umol_per_l(tls: TlsCriteria) -> None:
    result = _assess(
        tls,
        {UA: D("375"), K: D("6.5")},
        child=False,
        baseline={UA: D("5.0")},
        baseline_units={UA: "mg/dL"},
    )

    finding = next(c.finding for c in result.grading.criteria if c.domain == UA)
    assert "from baseline 5.0 mg/dL (297.4 umol/L) (limit 371.75000 umol/L)" in finding


def test_creatinine_and_its_uln_each_in_their_unit(tls: TlsCriteria) -> None:
    result = _assess(
        tls,
        {UA: D("500"), K: D("6.5")},
        child=False,
        creatinine=D("1.8"),
        creatinine_unit="mg/dL",
        creatinine_uln=D("106.08"),
    )

    # 1.8 mg/dL is exactly 1.5 x 106.08 umol/L: grade 1 (>= 1.5 x ULN), not 2 (> 1.5 x)
    creatinine = next(c for c in result.grading.criteria if c.domain == "creatinine")
    assert creatinine.grade == 1
    assert creatinine.finding.startswith("1.8 mg/dL (159.12 umol/L) >= 1.5 x ULN (159.120 umol/L)")


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"values": {UA: D("500")}, "units": {UA: "furlongs"}}, "samples[0].uric-acid.unit"),
        ({"values": {UA: D("505")}, "units": {UA: "mg/dL"}}, "samples[0].uric-acid"),
        ({"baseline": {K: D("4")}, "baseline_units": {K: "g/L"}}, "baseline.potassium.unit"),
        ({"creatinine": D("150"), "creatinine_uln": D("1.2")}, "creatinine_uln"),
        (
            {"creatinine": D("150"), "creatinine_uln": D("100"), "creatinine_unit": "mg"},
            "creatinine_unit",
        ),
        (
            {"creatinine": D("150"), "creatinine_uln": D("100"), "creatinine_uln_unit": "mg"},
            "creatinine_uln_unit",
        ),
    ],
    ids=[
        "unknown-unit",
        "mg-per-dl-implausible",
        "baseline-unit",
        "uln-implausible",
        "creatinine-unit",
        "uln-unit",
    ],
)
def test_a_bad_unit_or_implausible_value_names_its_field(
    tls: TlsCriteria, change: dict[str, object], field: str
) -> None:
    sample = {"at": START, "values": {UA: D("500"), K: D("6.5")}, "units": {}}
    sample.update({k: v for k, v in change.items() if k in sample})
    findings: dict[str, object] = {
        "therapy_start": START,
        "samples": (LabSample(**sample),),  # type: ignore[arg-type]
        "child": False,
    }
    findings.update({k: v for k, v in change.items() if k not in sample})

    with pytest.raises(InvalidInput) as raised:
        assess_tls(TlsFindings(**findings), tls)  # type: ignore[arg-type]

    assert raised.value.field == field


def test_the_calcium_analyte_is_total_calcium(tls: TlsCriteria) -> None:
    rule = tls.analytes[CA]

    assert rule.measurand.id == "calcium-total"
    assert rule.text.startswith("total calcium")
