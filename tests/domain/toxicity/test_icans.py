"""ASTCT ICANS grading: ICE and CAPD bands, every domain, the age rule, worked examples."""

from decimal import Decimal

import pytest

from blina.domain.errors import InvalidInput
from blina.domain.toxicity import Grading
from blina.domain.toxicity.icans import (
    CapdAnswer,
    CerebralEdema,
    Consciousness,
    IcansCriteria,
    IcansFindings,
    IcpSign,
    Seizure,
    capd_score,
    grade_icans,
    ice_score,
)
from blina.knowledge import Knowledge

ADULT = Decimal("40")
CHILD = Decimal("6")
AWAKE = Consciousness.AWAKE
FULL_ICE = {"orientation": 4, "naming": 3, "commands": 1, "writing": 1, "attention": 1}


@pytest.fixture(scope="module")
def criteria(knowledge: Knowledge) -> IcansCriteria:
    return knowledge.toxicity.icans


def _adult(criteria: IcansCriteria, **kwargs: object) -> Grading:
    values: dict[str, object] = {"age_years": ADULT, "consciousness": AWAKE, "ice_score": 10}
    values.update(kwargs)
    return grade_icans(IcansFindings(**values), criteria)  # type: ignore[arg-type]


def _child(criteria: IcansCriteria, **kwargs: object) -> Grading:
    values: dict[str, object] = {"age_years": CHILD, "consciousness": AWAKE, "capd_score": 0}
    values.update(kwargs)
    return grade_icans(IcansFindings(**values), criteria)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("score", "expected"),
    [(10, 0), (9, 1), (7, 1), (6, 2), (3, 2), (2, 3), (0, 3)],
    ids=[
        "ice-10-none",
        "ice-9-top-of-g1",
        "ice-7-bottom-of-g1",
        "ice-6-top-of-g2",
        "ice-3-bottom-of-g2",
        "ice-2-top-of-g3",
        "ice-0-awake-aphasia-g3",
    ],
)
def test_grade_icans_ice_band_boundaries(
    criteria: IcansCriteria, score: int, expected: int
) -> None:
    assert _adult(criteria, ice_score=score).grade == expected


def test_grade_icans_ice_0_unarousable_is_grade_4(criteria: IcansCriteria) -> None:
    result = _adult(criteria, ice_score=0, consciousness=Consciousness.UNAROUSABLE)

    assert result.grade == 4
    assert "unarousable" in result.criteria[0].finding


def test_grade_icans_unarousable_without_score_is_grade_4(criteria: IcansCriteria) -> None:
    assert _adult(criteria, ice_score=None, consciousness=Consciousness.UNAROUSABLE).grade == 4


def test_grade_icans_unarousable_with_ice_above_0_is_invalid(criteria: IcansCriteria) -> None:
    with pytest.raises(InvalidInput, match="unarousable patient cannot do the ICE"):
        _adult(criteria, ice_score=5, consciousness=Consciousness.UNAROUSABLE)


@pytest.mark.parametrize("score", [11, -1], ids=["ice-11", "ice-minus-1"])
def test_grade_icans_ice_out_of_range_is_invalid(criteria: IcansCriteria, score: int) -> None:
    with pytest.raises(InvalidInput) as raised:
        _adult(criteria, ice_score=score)

    assert str(raised.value) == f"ice_score {score} is not allowed: must be >= 0 and <= 10"


def test_grade_icans_awake_without_score_is_invalid(criteria: IcansCriteria) -> None:
    with pytest.raises(InvalidInput, match="ice_score \\(missing\\)"):
        _adult(criteria, ice_score=None)


@pytest.mark.parametrize(
    ("level", "expected"),
    [
        (Consciousness.AWAKE, 0),
        (Consciousness.AWAKENS_SPONTANEOUSLY, 1),
        (Consciousness.AWAKENS_TO_VOICE, 2),
        (Consciousness.AWAKENS_TO_TOUCH, 3),
    ],
    ids=lambda v: str(v),
)
def test_grade_icans_consciousness_level_sets_grade(
    criteria: IcansCriteria, level: Consciousness, expected: int
) -> None:
    assert _adult(criteria, consciousness=level).grade == expected


@pytest.mark.parametrize(
    ("seizure", "expected"),
    [
        (Seizure.NONE, 0),
        (Seizure.FOCAL_RESOLVED, 3),
        (Seizure.GENERALIZED_RESOLVED, 3),
        (Seizure.EEG_RESOLVED, 3),
        (Seizure.PROLONGED, 4),
        (Seizure.REPETITIVE, 4),
    ],
    ids=lambda v: str(v),
)
def test_grade_icans_seizure_sets_grade(
    criteria: IcansCriteria, seizure: Seizure, expected: int
) -> None:
    assert _adult(criteria, seizure=seizure).grade == expected


@pytest.mark.parametrize(
    ("edema", "expected"),
    [(CerebralEdema.NONE, 0), (CerebralEdema.FOCAL, 3), (CerebralEdema.DIFFUSE, 4)],
    ids=lambda v: str(v),
)
def test_grade_icans_cerebral_edema_sets_grade(
    criteria: IcansCriteria, edema: CerebralEdema, expected: int
) -> None:
    assert _adult(criteria, cerebral_edema=edema).grade == expected


@pytest.mark.parametrize("sign", list(IcpSign), ids=lambda v: str(v))
def test_grade_icans_any_raised_icp_sign_is_grade_4(criteria: IcansCriteria, sign: IcpSign) -> None:
    result = _adult(criteria, icp_signs=frozenset({sign}))

    assert result.grade == 4
    assert result.decisive[0].domain == "raised intracranial pressure"


def test_grade_icans_deep_motor_weakness_is_grade_4(criteria: IcansCriteria) -> None:
    result = _adult(criteria, motor_weakness=True)

    assert result.grade == 4
    assert "hemiparesis" in result.decisive[0].finding


def test_grade_icans_worked_example_ice_3_and_generalized_seizure_is_grade_3(
    criteria: IcansCriteria,
) -> None:
    result = _adult(criteria, ice_score=3, seizure=Seizure.GENERALIZED_RESOLVED)

    assert result.grade == 3
    assert [c.domain for c in result.decisive] == ["seizure"]
    assert result.source == "astct-2019-icans"


def test_ice_score_from_items_sums_the_ten_points(criteria: IcansCriteria) -> None:
    assert ice_score(FULL_ICE, criteria) == 10
    assert _adult(criteria, ice_score=None, ice_items={**FULL_ICE, "orientation": 1}).grade == 1


@pytest.mark.parametrize(
    ("items", "field"),
    [
        ({**FULL_ICE, "orientation": 5}, "ice_items.orientation"),
        ({**FULL_ICE, "naming": -1}, "ice_items.naming"),
        ({**FULL_ICE, "drawing": 1}, "ice_items"),
        ({k: v for k, v in FULL_ICE.items() if k != "writing"}, "ice_items"),
    ],
    ids=["orientation-5", "naming-minus-1", "unknown-task", "missing-writing"],
)
def test_ice_score_bad_items_are_invalid(
    criteria: IcansCriteria, items: dict[str, int], field: str
) -> None:
    with pytest.raises(InvalidInput) as raised:
        ice_score(items, criteria)

    assert raised.value.field == field


def test_grade_icans_score_and_items_together_are_invalid(criteria: IcansCriteria) -> None:
    with pytest.raises(InvalidInput, match="ice_items"):
        _adult(criteria, ice_score=10, ice_items=FULL_ICE)


@pytest.mark.parametrize(
    ("age", "uses_capd"),
    [("11.9", True), ("12", False), ("0.1", True), ("120", False)],
    ids=["age-11.9-capd", "age-12-ice", "age-0.1-capd", "age-120-ice"],
)
def test_grade_icans_age_12_boundary_picks_the_instrument(
    criteria: IcansCriteria, age: str, uses_capd: bool
) -> None:
    score = {"capd_score": 3} if uses_capd else {"ice_score": 8}
    result = grade_icans(
        IcansFindings(age_years=Decimal(age), consciousness=AWAKE, **score),  # type: ignore[arg-type]
        criteria,
    )

    assert result.criteria[0].domain == ("CAPD" if uses_capd else "ICE score")
    assert result.grade == 1
    assert "open question 2" in result.notes[0]


@pytest.mark.parametrize("age", ["0", "120.1", "NaN"], ids=["0", "120.1", "nan"])
def test_grade_icans_implausible_age_is_invalid(criteria: IcansCriteria, age: str) -> None:
    with pytest.raises(InvalidInput, match="age_years"):
        grade_icans(IcansFindings(age_years=Decimal(age), consciousness=AWAKE), criteria)


def test_grade_icans_ice_under_12_is_invalid(criteria: IcansCriteria) -> None:
    with pytest.raises(InvalidInput, match="ice_score 8 is not allowed"):
        _child(criteria, capd_score=None, ice_score=8)


def test_grade_icans_ice_items_under_12_are_invalid(criteria: IcansCriteria) -> None:
    with pytest.raises(InvalidInput, match=r"ice_score \(items\)"):
        _child(criteria, capd_score=None, ice_items=FULL_ICE)


def test_grade_icans_capd_from_12_without_delay_is_invalid(criteria: IcansCriteria) -> None:
    with pytest.raises(InvalidInput, match="capd_score 4 is not allowed"):
        _adult(criteria, ice_score=None, capd_score=4)


def test_grade_icans_capd_answers_from_12_without_delay_are_invalid(
    criteria: IcansCriteria,
) -> None:
    with pytest.raises(InvalidInput, match=r"capd_score \(answers\)"):
        _adult(criteria, ice_score=None, capd_answers=(CapdAnswer.NEVER,) * 8)


def test_grade_icans_developmental_delay_uses_capd_at_any_age(criteria: IcansCriteria) -> None:
    result = _adult(criteria, ice_score=None, capd_score=12, developmental_delay=True)

    assert result.criteria[0].domain == "CAPD"
    assert result.grade == 3


@pytest.mark.parametrize(
    ("score", "expected"),
    [(0, 0), (1, 1), (8, 1), (9, 3), (32, 3)],
    ids=["capd-0-gap", "capd-1", "capd-8-below-9", "capd-9-positive", "capd-32-max"],
)
def test_grade_icans_capd_band_boundaries(
    criteria: IcansCriteria, score: int, expected: int
) -> None:
    result = _child(criteria, capd_score=score)

    assert result.grade == expected
    if score < 9:
        assert any(note.startswith("Gap:") for note in result.notes)


def test_grade_icans_capd_below_9_awakens_to_voice_is_grade_2(criteria: IcansCriteria) -> None:
    assert _child(criteria, capd_score=5, consciousness=Consciousness.AWAKENS_TO_VOICE).grade == 2


@pytest.mark.parametrize("score", [33, -1], ids=["capd-33", "capd-minus-1"])
def test_grade_icans_capd_out_of_range_is_invalid(criteria: IcansCriteria, score: int) -> None:
    with pytest.raises(InvalidInput, match=">= 0 and <= 32"):
        _child(criteria, capd_score=score)


def test_grade_icans_child_unarousable_capd_cannot_be_done_is_grade_4(
    criteria: IcansCriteria,
) -> None:
    result = _child(criteria, capd_score=None, consciousness=Consciousness.UNAROUSABLE)

    assert result.grade == 4
    assert "cannot be performed" in result.criteria[0].finding


def test_capd_score_reverse_items_score_never_as_4(criteria: IcansCriteria) -> None:
    never = (CapdAnswer.NEVER,) * 8
    always = (CapdAnswer.ALWAYS,) * 8

    assert capd_score(never, criteria) == 16
    assert capd_score(always, criteria) == 16
    assert capd_score((CapdAnswer.ALWAYS,) * 4 + (CapdAnswer.NEVER,) * 4, criteria) == 0
    assert _child(criteria, capd_score=None, capd_answers=never).grade == 3


def test_capd_score_wrong_number_of_answers_is_invalid(criteria: IcansCriteria) -> None:
    with pytest.raises(InvalidInput, match="exactly 8 answers"):
        capd_score((CapdAnswer.NEVER,) * 7, criteria)


def test_icans_criteria_maxima_come_from_the_items(criteria: IcansCriteria) -> None:
    assert criteria.ice_max == 10
    assert criteria.capd_max == 32
