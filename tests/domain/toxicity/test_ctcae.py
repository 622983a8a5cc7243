"""CTCAE v5.0 grading: every lab band edge, baseline and symptom rules, clinical findings."""

from decimal import Decimal

import pytest

from blina.domain.errors import InvalidInput
from blina.domain.toxicity import Band, Compare, Grading, Relative
from blina.domain.toxicity.ctcae import CtcaeCriteria, CtcaeFindings, grade_ctcae
from blina.knowledge import Knowledge


@pytest.fixture(scope="module")
def criteria(knowledge: Knowledge) -> CtcaeCriteria:
    return knowledge.toxicity.ctcae


def _d(text: str | None) -> Decimal | None:
    return None if text is None else Decimal(text)


def _lab(
    criteria: CtcaeCriteria,
    term: str,
    value: str,
    *,
    uln: str | None = None,
    lln: str | None = None,
    baseline: str | None = None,
    symptomatic: bool | None = None,
) -> Grading:
    findings = CtcaeFindings(
        value=Decimal(value),
        uln=_d(uln),
        lln=_d(lln),
        baseline=_d(baseline),
        symptomatic=symptomatic,
    )
    return grade_ctcae(term, findings, criteria)


# (term, value, references, expected grade); ids name the boundary.
LAB_BOUNDARIES = [
    ("neutrophils", "2000", {"lln": "2000"}, 0, "anc-2000-at-lln"),
    ("neutrophils", "1999", {"lln": "2000"}, 1, "anc-1999-below-lln"),
    ("neutrophils", "1500", {"lln": "2000"}, 1, "anc-1500-g1-floor"),
    ("neutrophils", "1499", {"lln": "2000"}, 2, "anc-1499-g2"),
    ("neutrophils", "1000", {"lln": "2000"}, 2, "anc-1000-g2-floor"),
    ("neutrophils", "999", {"lln": "2000"}, 3, "anc-999-g3"),
    ("neutrophils", "500", {"lln": "2000"}, 3, "anc-500-g3-floor"),
    ("neutrophils", "499", {"lln": "2000"}, 4, "anc-499-g4"),
    ("platelets", "150000", {"lln": "150000"}, 0, "plt-at-lln"),
    ("platelets", "149999", {"lln": "150000"}, 1, "plt-below-lln"),
    ("platelets", "75000", {"lln": "150000"}, 1, "plt-75000-g1-floor"),
    ("platelets", "74999", {"lln": "150000"}, 2, "plt-74999-g2"),
    ("platelets", "50000", {"lln": "150000"}, 2, "plt-50000-g2-floor"),
    ("platelets", "49999", {"lln": "150000"}, 3, "plt-49999-g3"),
    ("platelets", "25000", {"lln": "150000"}, 3, "plt-25000-g3-floor"),
    ("platelets", "24999", {"lln": "150000"}, 4, "plt-24999-g4"),
    ("hemoglobin", "12.0", {"lln": "12.0"}, 0, "hgb-at-lln"),
    ("hemoglobin", "11.9", {"lln": "12.0"}, 1, "hgb-below-lln"),
    ("hemoglobin", "10.0", {"lln": "12.0"}, 1, "hgb-10.0-g1-floor"),
    ("hemoglobin", "9.9", {"lln": "12.0"}, 2, "hgb-9.9-g2"),
    ("hemoglobin", "8.0", {"lln": "12.0"}, 2, "hgb-8.0-g2-floor"),
    ("hemoglobin", "7.9", {"lln": "12.0"}, 3, "hgb-7.9-g3"),
    ("alt", "40", {"uln": "40"}, 0, "alt-at-uln"),
    ("alt", "41", {"uln": "40"}, 1, "alt-above-uln"),
    ("alt", "120", {"uln": "40"}, 1, "alt-3.0x-g1-top"),
    ("alt", "121", {"uln": "40"}, 2, "alt-above-3.0x"),
    ("alt", "200", {"uln": "40"}, 2, "alt-5.0x-g2-top"),
    ("alt", "201", {"uln": "40"}, 3, "alt-above-5.0x"),
    ("alt", "800", {"uln": "40"}, 3, "alt-20.0x-g3-top"),
    ("alt", "801", {"uln": "40"}, 4, "alt-above-20.0x"),
    ("alt", "89", {"uln": "40", "baseline": "60"}, 0, "alt-abn-baseline-below-1.5x"),
    ("alt", "90", {"uln": "40", "baseline": "60"}, 1, "alt-abn-baseline-1.5x-inclusive"),
    ("alt", "180", {"uln": "40", "baseline": "60"}, 1, "alt-abn-baseline-3.0x"),
    ("alt", "181", {"uln": "40", "baseline": "60"}, 2, "alt-abn-baseline-above-3.0x"),
    ("alt", "300", {"uln": "40", "baseline": "60"}, 2, "alt-abn-baseline-5.0x"),
    ("alt", "301", {"uln": "40", "baseline": "60"}, 3, "alt-abn-baseline-above-5.0x"),
    ("alt", "1200", {"uln": "40", "baseline": "60"}, 3, "alt-abn-baseline-20.0x"),
    ("alt", "1201", {"uln": "40", "baseline": "60"}, 4, "alt-abn-baseline-above-20.0x"),
    ("alt", "41", {"uln": "40", "baseline": "40"}, 1, "alt-baseline-at-uln-is-normal"),
    ("ast", "35", {"uln": "35"}, 0, "ast-at-uln"),
    ("ast", "176", {"uln": "35"}, 3, "ast-above-5.0x"),
    ("ast", "105", {"uln": "35", "baseline": "70"}, 1, "ast-abn-baseline-1.5x"),
    ("bilirubin", "1.2", {"uln": "1.2"}, 0, "bili-at-uln"),
    ("bilirubin", "1.21", {"uln": "1.2"}, 1, "bili-above-uln"),
    ("bilirubin", "1.8", {"uln": "1.2"}, 1, "bili-1.5x-g1-top"),
    ("bilirubin", "1.81", {"uln": "1.2"}, 2, "bili-above-1.5x"),
    ("bilirubin", "3.6", {"uln": "1.2"}, 2, "bili-3.0x-g2-top"),
    ("bilirubin", "3.61", {"uln": "1.2"}, 3, "bili-above-3.0x"),
    ("bilirubin", "12.0", {"uln": "1.2"}, 3, "bili-10.0x-g3-top"),
    ("bilirubin", "12.01", {"uln": "1.2"}, 4, "bili-above-10.0x"),
    ("bilirubin", "2.0", {"uln": "1.2", "baseline": "2.0"}, 0, "bili-abn-at-baseline"),
    ("bilirubin", "2.01", {"uln": "1.2", "baseline": "2.0"}, 1, "bili-abn-above-1.0x"),
    ("bilirubin", "3.0", {"uln": "1.2", "baseline": "2.0"}, 1, "bili-abn-1.5x"),
    ("bilirubin", "3.01", {"uln": "1.2", "baseline": "2.0"}, 2, "bili-abn-above-1.5x"),
    ("bilirubin", "6.01", {"uln": "1.2", "baseline": "2.0"}, 3, "bili-abn-above-3.0x"),
    ("bilirubin", "20.01", {"uln": "1.2", "baseline": "2.0"}, 4, "bili-abn-above-10.0x"),
    ("hyperkalemia", "5.0", {"uln": "5.0"}, 0, "k-at-uln"),
    ("hyperkalemia", "5.1", {"uln": "5.0"}, 1, "k-above-uln"),
    ("hyperkalemia", "5.5", {"uln": "5.0"}, 1, "k-5.5-g1-top"),
    ("hyperkalemia", "5.6", {"uln": "5.0"}, 2, "k-above-5.5"),
    ("hyperkalemia", "6.0", {"uln": "5.0"}, 2, "k-6.0-g2-top"),
    ("hyperkalemia", "6.1", {"uln": "5.0"}, 3, "k-above-6.0"),
    ("hyperkalemia", "7.0", {"uln": "5.0"}, 3, "k-7.0-g3-top"),
    ("hyperkalemia", "7.1", {"uln": "5.0"}, 4, "k-above-7.0"),
]


@pytest.mark.parametrize(
    ("term", "value", "refs", "expected"),
    [row[:4] for row in LAB_BOUNDARIES],
    ids=[row[4] for row in LAB_BOUNDARIES],
)
def test_grade_ctcae_lab_band_boundaries(
    criteria: CtcaeCriteria, term: str, value: str, refs: dict[str, str], expected: int
) -> None:
    result = _lab(criteria, term, value, **refs)  # type: ignore[arg-type]

    assert result.grade == expected
    assert result.source == "ctcae-v5.0"
    assert result.scale.startswith("CTCAE v5.0: ")


# (term, value, symptomatic, expected)
SYMPTOM_BOUNDARIES = [
    ("lipase", "60", False, 0, "lipase-at-uln"),
    ("lipase", "61", False, 1, "lipase-above-uln"),
    ("lipase", "90", False, 1, "lipase-1.5x-g1-top"),
    ("lipase", "91", False, 2, "lipase-above-1.5x"),
    ("lipase", "120", True, 2, "lipase-2.0x-symptomatic-still-g2"),
    ("lipase", "121", False, 2, "lipase-above-2.0x-asymptomatic-g2"),
    ("lipase", "121", True, 3, "lipase-above-2.0x-symptomatic-g3"),
    ("lipase", "300", False, 2, "lipase-5.0x-asymptomatic-g2"),
    ("lipase", "301", False, 3, "lipase-above-5.0x-asymptomatic-g3"),
    ("lipase", "301", True, 4, "lipase-above-5.0x-symptomatic-g4"),
    ("amylase", "91", False, 2, "amylase-above-1.5x"),
    ("amylase", "121", True, 3, "amylase-above-2.0x-symptomatic"),
    ("amylase", "301", True, 4, "amylase-above-5.0x-symptomatic"),
    ("hypokalemia", "3.5", False, 0, "hypok-at-lln"),
    ("hypokalemia", "3.4", False, 1, "hypok-below-lln-asymptomatic"),
    ("hypokalemia", "3.4", True, 2, "hypok-below-lln-symptomatic"),
    ("hypokalemia", "3.0", False, 1, "hypok-3.0-g1-floor"),
    ("hypokalemia", "2.9", False, 3, "hypok-below-3.0"),
    ("hypokalemia", "2.5", False, 3, "hypok-2.5-g3-floor"),
    ("hypokalemia", "2.4", False, 4, "hypok-below-2.5"),
]


@pytest.mark.parametrize(
    ("term", "value", "symptomatic", "expected"),
    [row[:4] for row in SYMPTOM_BOUNDARIES],
    ids=[row[4] for row in SYMPTOM_BOUNDARIES],
)
def test_grade_ctcae_symptom_dependent_boundaries(
    criteria: CtcaeCriteria, term: str, value: str, symptomatic: bool, expected: int
) -> None:
    refs = {"lln": "3.5"} if term == "hypokalemia" else {"uln": "60"}
    result = _lab(criteria, term, value, symptomatic=symptomatic, **refs)  # type: ignore[arg-type]

    assert result.grade == expected
    assert result.notes == ()


@pytest.mark.parametrize(
    ("term", "value", "refs", "expected"),
    [("lipase", "121", {"uln": "60"}, 3), ("hypokalemia", "3.2", {"lln": "3.5"}, 2)],
    ids=["lipase-unknown-symptoms", "hypok-unknown-symptoms"],
)
def test_grade_ctcae_unknown_symptoms_assume_worst_with_note(
    criteria: CtcaeCriteria, term: str, value: str, refs: dict[str, str], expected: int
) -> None:
    result = _lab(criteria, term, value, **refs)  # type: ignore[arg-type]

    assert result.grade == expected
    assert "admiral-worst-case" in result.notes[-1]


def test_grade_ctcae_no_baseline_is_taken_as_normal_with_note(criteria: CtcaeCriteria) -> None:
    result = _lab(criteria, "alt", "201", uln="40")

    assert result.notes == ("No baseline given: the baseline is taken as normal.",)
    assert "> 5.0 x ULN (200.0 U/L)" in result.criteria[0].finding


def test_grade_ctcae_criterion_names_value_limit_and_cell(criteria: CtcaeCriteria) -> None:
    result = _lab(criteria, "neutrophils", "800", lln="2000")

    assert result.criteria[0].finding == "800 cells/mm3 < 1000 cells/mm3: grade 3: <1000-500/mm3"
    assert (
        _lab(criteria, "neutrophils", "2500", lln="2000")
        .criteria[0]
        .finding.endswith("no grade 1 criterion met")
    )


def test_grade_ctcae_anemia_note_says_grade_4_is_clinical(criteria: CtcaeCriteria) -> None:
    assert "clinical" in _lab(criteria, "hemoglobin", "6", lln="12").notes[0]


@pytest.mark.parametrize(
    ("anc", "temp", "hours", "expected"),
    [
        ("999", "38.4", None, 3),
        ("999", "38.3", None, 0),
        ("999", "38.3", "1", 0),
        ("999", "38.3", "1.1", 3),
        ("999", "38.0", "2", 3),
        ("999", "37.9", "5", 0),
        ("1000", "39.0", None, 0),
    ],
    ids=[
        "single-38.4-above-38.3",
        "single-38.3-not-above",
        "sustained-1h-not-more",
        "sustained-1.1h",
        "sustained-38.0-inclusive",
        "37.9-sustained-not-fever",
        "anc-1000-not-below",
    ],
)
def test_grade_ctcae_febrile_neutropenia_boundaries(
    criteria: CtcaeCriteria, anc: str, temp: str, hours: str | None, expected: int
) -> None:
    findings = CtcaeFindings(value=Decimal(anc), temperature_c=Decimal(temp), fever_hours=_d(hours))
    result = grade_ctcae("febrile-neutropenia", findings, criteria)

    assert result.grade == expected
    assert [c.domain for c in result.criteria] == ["ANC", "fever"]


@pytest.mark.parametrize(
    ("findings", "field"),
    [
        (CtcaeFindings(value=Decimal("500")), "temperature_c"),
        (CtcaeFindings(value=Decimal("500"), temperature_c=Decimal("46")), "temperature_c"),
        (
            CtcaeFindings(
                value=Decimal("500"), temperature_c=Decimal("39"), fever_hours=Decimal("-1")
            ),
            "fever_hours",
        ),
        (CtcaeFindings(temperature_c=Decimal("39")), "value"),
    ],
    ids=["no-temperature", "temperature-46", "negative-hours", "no-anc"],
)
def test_grade_ctcae_febrile_neutropenia_bad_input_names_field(
    criteria: CtcaeCriteria, findings: CtcaeFindings, field: str
) -> None:
    with pytest.raises(InvalidInput) as raised:
        grade_ctcae("febrile-neutropenia", findings, criteria)

    assert raised.value.field == field


CLINICAL = [
    ("febrile-neutropenia", "life-threatening", 4),
    ("febrile-neutropenia", "death", 5),
    ("pancreatitis", "enzymes-or-imaging-only", 2),
    ("pancreatitis", "severe", 3),
    ("pancreatitis", "life-threatening", 4),
    ("pancreatitis", "death", 5),
    ("seizure", "brief-partial", 1),
    ("seizure", "brief-generalized", 2),
    ("seizure", "new-onset-or-multiple", 3),
    ("seizure", "prolonged-repetitive", 4),
    ("seizure", "death", 5),
    ("encephalopathy", "mild", 1),
    ("encephalopathy", "moderate", 2),
    ("encephalopathy", "severe", 3),
    ("encephalopathy", "life-threatening", 4),
    ("encephalopathy", "death", 5),
    ("tremor", "mild", 1),
    ("tremor", "moderate", 2),
    ("tremor", "severe", 3),
    ("headache", "mild", 1),
    ("headache", "moderate", 2),
    ("headache", "severe", 3),
    ("infusion-related-reaction", "mild", 1),
    ("infusion-related-reaction", "responds-promptly", 2),
    ("infusion-related-reaction", "prolonged", 3),
    ("infusion-related-reaction", "life-threatening", 4),
    ("infusion-related-reaction", "death", 5),
]


@pytest.mark.parametrize(
    ("term", "finding", "expected"), CLINICAL, ids=[f"{t}-{f}" for t, f, _ in CLINICAL]
)
def test_grade_ctcae_clinical_finding_sets_its_grade(
    criteria: CtcaeCriteria, term: str, finding: str, expected: int
) -> None:
    result = grade_ctcae(term, CtcaeFindings(finding=finding), criteria)

    assert result.grade == expected
    assert result.decisive[0].finding == criteria.terms[term].findings[finding].text


def test_grade_ctcae_unknown_term_lists_the_terms(criteria: CtcaeCriteria) -> None:
    with pytest.raises(
        InvalidInput, match="term potassium is not allowed: must be one of neutrophils"
    ):
        grade_ctcae("potassium", CtcaeFindings(value=Decimal("4")), criteria)


def test_grade_ctcae_unknown_finding_lists_the_findings(criteria: CtcaeCriteria) -> None:
    with pytest.raises(InvalidInput, match=r"one of mild, moderate, severe$"):
        grade_ctcae("tremor", CtcaeFindings(finding="awful"), criteria)


def test_grade_ctcae_finding_for_lab_term_is_invalid(criteria: CtcaeCriteria) -> None:
    with pytest.raises(InvalidInput, match="none: alt is a lab term"):
        grade_ctcae("alt", CtcaeFindings(finding="mild"), criteria)


def test_grade_ctcae_clinical_term_without_finding_is_invalid(criteria: CtcaeCriteria) -> None:
    with pytest.raises(InvalidInput, match=r"finding \(missing\)"):
        grade_ctcae("headache", CtcaeFindings(value=Decimal("1")), criteria)


@pytest.mark.parametrize(
    ("term", "findings", "field"),
    [
        ("alt", CtcaeFindings(uln=Decimal("40")), "value"),
        ("alt", CtcaeFindings(value=Decimal("-1"), uln=Decimal("40")), "value"),
        ("alt", CtcaeFindings(value=Decimal("50")), "uln"),
        ("neutrophils", CtcaeFindings(value=Decimal("900")), "lln"),
        ("alt", CtcaeFindings(value=Decimal("50"), uln=Decimal("0")), "uln"),
        ("neutrophils", CtcaeFindings(value=Decimal("900"), lln=Decimal("NaN")), "lln"),
        (
            "lipase",
            CtcaeFindings(value=Decimal("50"), uln=Decimal("60"), baseline=Decimal("40")),
            "baseline",
        ),
        (
            "alt",
            CtcaeFindings(value=Decimal("50"), uln=Decimal("40"), baseline=Decimal("-3")),
            "baseline",
        ),
    ],
    ids=[
        "no-value",
        "negative-value",
        "no-uln",
        "no-lln",
        "uln-0",
        "lln-nan",
        "baseline-for-lipase",
        "negative-baseline",
    ],
)
def test_grade_ctcae_bad_lab_input_names_the_field(
    criteria: CtcaeCriteria, term: str, findings: CtcaeFindings, field: str
) -> None:
    with pytest.raises(InvalidInput) as raised:
        grade_ctcae(term, findings, criteria)

    assert raised.value.field == field


def test_grade_ctcae_baseline_for_other_term_lists_terms_with_baseline(
    criteria: CtcaeCriteria,
) -> None:
    with pytest.raises(InvalidInput, match="given only for alt, ast, bilirubin"):
        _lab(criteria, "lipase", "70", uln="60", baseline="50")


def test_grade_ctcae_optional_reference_ignored_when_not_needed(criteria: CtcaeCriteria) -> None:
    assert _lab(criteria, "alt", "41", uln="40", lln="5").grade == 1


@pytest.mark.parametrize(
    ("compare", "at_limit", "below", "above"),
    [
        (Compare.LT, False, True, False),
        (Compare.LE, True, True, False),
        (Compare.GT, False, False, True),
        (Compare.GE, True, False, True),
    ],
    ids=lambda v: str(v),
)
def test_band_holds_each_comparison_at_its_limit(
    compare: Compare, at_limit: bool, below: bool, above: bool
) -> None:
    band = Band(1, compare, Decimal("2"), Relative.LLN, "synthetic")
    limit = band.limit(lln=Decimal("5"), uln=None, baseline=None)

    assert limit == Decimal("10")
    assert (band.holds(limit, limit), band.holds(Decimal("9"), limit)) == (at_limit, below)
    assert band.holds(Decimal("11"), limit) is above
    assert band.describe(limit, "U") == f"{compare} 2 x LLN (10 U)"
