"""ASTCT CRS grading: every boundary, the masking rule, the reference's worked examples."""

from decimal import Decimal

import pytest
from hypothesis import given
from tests.toxicity_strategies import crs_findings

from blina.domain.errors import InvalidInput
from blina.domain.toxicity import Criterion, Grading, grading
from blina.domain.toxicity.crs import (
    CrsCriteria,
    CrsFindings,
    Hypotension,
    OxygenSupport,
    grade_crs,
    hypotension_from_vasopressors,
)
from blina.knowledge import Knowledge

NONE_H = Hypotension.NONE
NONE_O = OxygenSupport.NONE


@pytest.fixture(scope="module")
def criteria(knowledge: Knowledge) -> CrsCriteria:
    return knowledge.toxicity.crs


def _grade(
    criteria: CrsCriteria,
    temperature: str,
    hypotension: Hypotension = NONE_H,
    oxygen: OxygenSupport = NONE_O,
    *,
    masked: bool = False,
    flow: str | None = None,
    diagnosed: bool = True,
) -> Grading:
    return grade_crs(
        CrsFindings(
            temperature_c=Decimal(temperature),
            hypotension=hypotension,
            oxygen=oxygen,
            fever_masked=masked,
            oxygen_flow_l_per_min=None if flow is None else Decimal(flow),
            crs_diagnosed=diagnosed,
        ),
        criteria,
    )


@pytest.mark.parametrize(
    ("temperature", "expected"),
    [("37.9", 0), ("38.0", 1), ("38.1", 1), ("30", 0), ("45", 1)],
    ids=[
        "fever-37.9-below",
        "fever-38.0-at-threshold",
        "fever-38.1",
        "temp-30-lowest",
        "temp-45-highest",
    ],
)
def test_grade_crs_fever_boundary_grades_fever_alone(
    criteria: CrsCriteria, temperature: str, expected: int
) -> None:
    assert _grade(criteria, temperature).grade == expected


@pytest.mark.parametrize(
    ("level", "expected"),
    [
        (Hypotension.NONE, 1),
        (Hypotension.FLUIDS, 2),
        (Hypotension.ONE_VASOPRESSOR, 3),
        (Hypotension.MULTIPLE_VASOPRESSORS, 4),
    ],
    ids=lambda v: str(v),
)
def test_grade_crs_hypotension_level_sets_grade_with_fever(
    criteria: CrsCriteria, level: Hypotension, expected: int
) -> None:
    assert _grade(criteria, "38.5", level).grade == expected


@pytest.mark.parametrize(
    ("level", "expected"),
    [
        (OxygenSupport.NONE, 1),
        (OxygenSupport.LOW_FLOW, 2),
        (OxygenSupport.HIGH_FLOW, 3),
        (OxygenSupport.POSITIVE_PRESSURE, 4),
    ],
    ids=lambda v: str(v),
)
def test_grade_crs_oxygen_level_sets_grade_with_fever(
    criteria: CrsCriteria, level: OxygenSupport, expected: int
) -> None:
    assert _grade(criteria, "38.5", oxygen=level).grade == expected


@pytest.mark.parametrize(
    ("flow", "oxygen", "expected"),
    [
        ("0.1", OxygenSupport.LOW_FLOW, 2),
        ("6", OxygenSupport.LOW_FLOW, 2),
        ("6.1", OxygenSupport.HIGH_FLOW, 3),
        ("80", OxygenSupport.HIGH_FLOW, 3),
    ],
    ids=["flow-0.1-low", "flow-6-exactly-is-low-flow", "flow-6.1-high", "flow-80-highest"],
)
def test_grade_crs_cannula_flow_boundary_low_vs_high(
    criteria: CrsCriteria, flow: str, oxygen: OxygenSupport, expected: int
) -> None:
    result = _grade(criteria, "38.5", oxygen=oxygen, flow=flow)

    assert result.grade == expected
    assert f"{flow} L/min" in result.criteria[2].finding


@pytest.mark.parametrize(
    ("flow", "oxygen", "allowed"),
    [
        ("6.1", OxygenSupport.LOW_FLOW, "<= 6"),
        ("6", OxygenSupport.HIGH_FLOW, "> 6"),
        ("4", OxygenSupport.NONE, "given only with low-flow or high-flow"),
        ("4", OxygenSupport.POSITIVE_PRESSURE, "given only with low-flow or high-flow"),
        ("0", OxygenSupport.LOW_FLOW, "> 0 and <= 80"),
        ("80.1", OxygenSupport.HIGH_FLOW, "> 0 and <= 80"),
        ("NaN", OxygenSupport.LOW_FLOW, "> 0 and <= 80"),
    ],
    ids=[
        "6.1-said-low",
        "6-said-high",
        "flow-without-oxygen",
        "flow-with-cpap",
        "zero",
        "80.1",
        "nan",
    ],
)
def test_grade_crs_flow_contradicting_level_is_invalid(
    criteria: CrsCriteria, flow: str, oxygen: OxygenSupport, allowed: str
) -> None:
    with pytest.raises(InvalidInput, match="oxygen_flow_l_per_min") as raised:
        _grade(criteria, "38.5", oxygen=oxygen, flow=flow)

    assert allowed in raised.value.allowed


@pytest.mark.parametrize("temperature", ["29.9", "45.1", "NaN"], ids=["29.9", "45.1", "nan"])
def test_grade_crs_implausible_temperature_is_invalid(
    criteria: CrsCriteria, temperature: str
) -> None:
    with pytest.raises(InvalidInput) as raised:
        _grade(criteria, temperature)

    assert raised.value.field == "temperature_c"
    assert raised.value.allowed == ">= 30 and <= 45"


def test_grade_crs_worked_example_39_5_one_vasopressor_low_flow_is_grade_3(
    criteria: CrsCriteria,
) -> None:
    result = _grade(criteria, "39.5", Hypotension.ONE_VASOPRESSOR, OxygenSupport.LOW_FLOW)

    assert result.grade == 3
    assert [c.domain for c in result.decisive] == ["hypotension"]
    assert result.source == "astct-2019-crs"


def test_grade_crs_no_fever_not_masked_is_no_crs_whatever_the_pressure(
    criteria: CrsCriteria,
) -> None:
    result = _grade(criteria, "37.0", Hypotension.MULTIPLE_VASOPRESSORS, OxygenSupport.HIGH_FLOW)

    assert result.grade == 0
    assert result.decisive == ()
    assert "CTCAE" in result.notes[0]


def test_grade_crs_no_fever_no_findings_has_no_note(criteria: CrsCriteria) -> None:
    assert _grade(criteria, "36.8").notes == ()


def test_grade_crs_masked_fever_hypotension_and_hypoxia_drive_the_grade(
    criteria: CrsCriteria,
) -> None:
    result = _grade(criteria, "36.9", Hypotension.ONE_VASOPRESSOR, masked=True)

    assert result.grade == 3
    assert "masked" in result.criteria[0].finding
    assert result.notes == ("Fever masking rule: astct-2019-crs-masking.",)


def test_grade_crs_masked_without_findings_is_grade_1(criteria: CrsCriteria) -> None:
    assert _grade(criteria, "37.0", masked=True).grade == 1


def test_grade_crs_masked_with_fever_reads_the_fever(criteria: CrsCriteria) -> None:
    result = _grade(criteria, "38.4", masked=True)

    assert result.criteria[0].finding == "38.4 C >= 38.0 C"
    assert result.notes == ()


@pytest.mark.parametrize(
    ("vasopressors", "vasopressin", "expected", "grade"),
    [
        (0, False, Hypotension.NONE, 1),
        (1, False, Hypotension.ONE_VASOPRESSOR, 3),
        (1, True, Hypotension.ONE_VASOPRESSOR, 3),
        (2, False, Hypotension.MULTIPLE_VASOPRESSORS, 4),
        (2, True, Hypotension.MULTIPLE_VASOPRESSORS, 4),
    ],
    ids=[
        "none",
        "one",
        "one-plus-vasopressin-is-grade-3",
        "two-is-grade-4",
        "two-plus-vasopressin",
    ],
)
def test_hypotension_from_vasopressors_vasopressin_not_counted(
    criteria: CrsCriteria, vasopressors: int, vasopressin: bool, expected: Hypotension, grade: int
) -> None:
    level = hypotension_from_vasopressors(vasopressors=vasopressors, vasopressin=vasopressin)

    assert level is expected
    assert _grade(criteria, "39.0", level).grade == grade


def test_hypotension_from_vasopressors_vasopressin_alone_is_refused() -> None:
    with pytest.raises(InvalidInput, match="vasopressin alone"):
        hypotension_from_vasopressors(vasopressors=0, vasopressin=True)


def test_hypotension_from_vasopressors_negative_count_is_invalid() -> None:
    with pytest.raises(InvalidInput, match="vasopressors -1"):
        hypotension_from_vasopressors(vasopressors=-1, vasopressin=False)


def test_grading_no_criteria_is_grade_0() -> None:
    assert grading("x", (), "s").grade == 0
    assert grading("x", (Criterion("a", "b", 0),), "s").decisive == ()


@given(findings=crs_findings())
def test_grade_crs_any_plausible_findings_grade_is_the_highest_criterion(
    findings: CrsFindings,
) -> None:
    from blina.knowledge import load_knowledge

    result = grade_crs(findings, load_knowledge().toxicity.crs)

    assert 0 <= result.grade <= 4
    assert result.grade == max(c.grade for c in result.criteria)
    masked = findings.fever_masked and findings.crs_diagnosed
    fever = findings.temperature_c >= Decimal("38.0") or masked
    assert (result.grade >= 1) is fever


def test_grade_crs_masking_counts_only_once_crs_was_diagnosed(criteria: CrsCriteria) -> None:
    """ASTCT: masking keeps grading a CRS already diagnosed; it never makes one of
    hypotension without fever (astct-2019-crs-masking)."""
    known = _grade(criteria, "37.0", Hypotension.ONE_VASOPRESSOR, masked=True)
    new = _grade(criteria, "37.0", Hypotension.ONE_VASOPRESSOR, masked=True, diagnosed=False)

    assert known.grade == 3
    assert new.grade == 0
    assert "counts only once CRS has been diagnosed in this episode" in new.notes[-1]
    assert "not CRS by ASTCT" in new.notes[0]
