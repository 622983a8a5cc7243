"""``plan_therapy`` for the CAR-T products: the same ``TherapyPlan`` as the journey
planner, the inputs of the other kind refused by field name (for the API as for the
CLI), and the obecabtagene re-plan as the same call with the reaction given."""

from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal

import pytest

from blina.domain.body import bsa_mosteller
from blina.domain.errors import InvalidInput
from blina.domain.therapies.cell_journey import (
    Bridging,
    Journey,
    plan_cell_journey,
    replan_after_first_dose,
)
from blina.domain.therapies.cell_second_dose import FirstDoseReaction
from blina.domain.therapies.cycle_doses import Response, Transplant
from blina.domain.therapies.indication import AGE_WARNING
from blina.domain.units import M2, Cm, Kg
from blina.knowledge import Knowledge
from blina.services.therapy_planning import (
    CELL_FIELDS,
    TherapyInputs,
    plan_therapy,
    therapy_keys,
    therapy_name,
)

DAY0 = date(2027, 3, 1)
ONE = timedelta(days=1)
# Ages inside each label's indication: the plan is the planner's, with no age warning.
KYMRIAH = TherapyInputs(
    therapy="tisagenlecleucel",
    start=DAY0,
    weight_kg=Decimal(38),
    height_cm=Decimal(140),
    age_years=Decimal(12),
)
AUCATZYL = TherapyInputs(
    therapy="obecabtagene",
    start=DAY0,
    weight_kg=Decimal(60),
    marrow_blasts_percent=Decimal(12),
    age_years=Decimal(40),
)
INOTUZUMAB = TherapyInputs(
    therapy="inotuzumab",
    bsa_m2=Decimal("1.72"),
    start=date(2027, 1, 4),
    transplant=Transplant.NOT_PLANNED,
)


def test_therapy_keys_list_the_car_t_products_after_the_drugs(knowledge: Knowledge) -> None:
    keys = therapy_keys(knowledge)

    assert keys[0] == "blinatumomab"
    assert keys[-3:] == ("brexucabtagene", "obecabtagene", "tisagenlecleucel")
    assert set(keys[1:-3]) == set(knowledge.therapies)


def test_therapy_name_of_a_product_a_drug_and_an_unknown_key(knowledge: Knowledge) -> None:
    assert therapy_name(knowledge, "brexucabtagene") == "Brexucabtagene autoleucel (TECARTUS)"
    assert therapy_name(knowledge, "inotuzumab") == "Inotuzumab ozogamicin (BESPONSA)"
    assert therapy_name(knowledge, "blinatumomab") == "blinatumomab"


def test_car_t_plan_is_the_journey_planners_with_the_bsa_from_height(
    knowledge: Knowledge,
) -> None:
    inputs = replace(
        KYMRIAH,
        leukapheresis_on=DAY0 - 40 * ONE,
        product_ready_on=DAY0 - 10 * ONE,
        bridging="vincristine",
        bridging_start=DAY0 - 30 * ONE,
        lymphodepletion_start=DAY0 - 8 * ONE,
        stay_near_days=21,
        no_driving_days=28,
    )
    bsa = bsa_mosteller(
        weight=Kg(Decimal(38)), height=Cm(Decimal(140)), quantum=knowledge.body_rules.bsa_quantum_m2
    )
    expected = plan_cell_journey(
        knowledge.car_t.product("tisagenlecleucel"),
        Journey(
            first_infusion=DAY0,
            weight=Kg(Decimal(38)),
            bsa=M2(bsa.value),
            leukapheresis_on=DAY0 - 40 * ONE,
            product_ready_on=DAY0 - 10 * ONE,
            bridging=Bridging("vincristine", DAY0 - 30 * ONE),
            lymphodepletion_start=DAY0 - 8 * ONE,
            stay_near_days=21,
            no_driving_days=28,
        ),
    )

    assert plan_therapy(knowledge, inputs) == expected


def test_obecabtagene_needs_no_bsa_and_its_replan_is_the_same_call(knowledge: Knowledge) -> None:
    product = knowledge.car_t.product("obecabtagene")
    journey = Journey(
        first_infusion=DAY0, weight=Kg(Decimal(60)), marrow_blasts_percent=Decimal(12)
    )
    assert plan_therapy(knowledge, AUCATZYL) == plan_cell_journey(product, journey)

    second = DAY0 + 18 * ONE
    after = replace(
        AUCATZYL, first_dose_crs_grade=2, first_dose_icans_grade=0, second_dose_on=second
    )
    _, expected = replan_after_first_dose(
        product, journey, FirstDoseReaction(2, 0), second_dose_on=second
    )
    assert plan_therapy(knowledge, after) == expected
    withheld = replace(AUCATZYL, first_dose_crs_grade=0, first_dose_icans_grade=0)
    _, expected = replan_after_first_dose(product, journey, FirstDoseReaction(0, 0), withheld=True)
    assert plan_therapy(knowledge, replace(withheld, second_dose_withheld=True)) == expected


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"start": None}, "start"),
        ({"weight_kg": None}, "weight_kg"),
        ({"height_cm": None}, "bsa_m2"),
        ({"bsa_m2": Decimal("1.2")}, "bsa_m2"),  # with the height: never both
        ({"transplant": Transplant.PLANNED}, "transplant"),
        ({"responses": (Response.CR,)}, "responses"),
        ({"mrd_negative": False}, "mrd_negative"),
        ({"first_cycle_days": 28}, "first_cycle_days"),
        ({"dose_dates": {(1, 8): DAY0}}, "dose_dates"),
        ({"blasts_per_mm3": Decimal(0)}, "blasts_per_mm3"),
        ({"host_day1": {"induction": DAY0}}, "host_day1"),
        ({"marrow_blasts_percent": Decimal(0)}, "marrow_blasts_percent"),
        ({"second_dose_on": DAY0}, "second_dose_on"),
        ({"first_dose_crs_grade": 0}, "first_dose_crs_grade"),
        ({"first_dose_icans_grade": 0}, "first_dose_icans_grade"),
        ({"second_dose_withheld": True}, "second_dose_withheld"),
        ({"bridging": "vincristine"}, "bridging_start"),
        ({"bridging_start": DAY0 - ONE}, "bridging"),
    ],
)
def test_car_t_inputs_refused_name_the_field(
    knowledge: Knowledge, changes: dict[str, object], field: str
) -> None:
    with pytest.raises(InvalidInput) as raised:
        plan_therapy(knowledge, replace(KYMRIAH, **changes))  # type: ignore[arg-type]

    assert raised.value.field == field


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"first_dose_crs_grade": 2}, "first_dose_icans_grade"),
        ({"first_dose_icans_grade": 2}, "first_dose_crs_grade"),
        ({"first_dose_crs_grade": 5, "first_dose_icans_grade": 0}, "first_dose_crs_grade"),
        ({"first_dose_crs_grade": 0, "first_dose_icans_grade": 5}, "first_dose_icans_grade"),
        ({"marrow_blasts_percent": None}, "marrow_blasts_percent"),
    ],
)
def test_obecabtagene_reaction_is_both_grades_or_none(
    knowledge: Knowledge, changes: dict[str, object], field: str
) -> None:
    with pytest.raises(InvalidInput) as raised:
        plan_therapy(knowledge, replace(AUCATZYL, **changes))  # type: ignore[arg-type]

    assert raised.value.field == field


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("start", DAY0),
        ("transplant", Transplant.NOT_PLANNED),
        ("responses", (Response.CR,)),
        ("mrd_negative", True),
        ("first_cycle_days", 28),
        ("dose_dates", {(1, 1): DAY0}),
        ("blasts_per_mm3", Decimal(5000)),
    ],
)
@pytest.mark.parametrize("therapy", ["rituximab", "gemtuzumab"])
def test_cycle_inputs_are_refused_for_doses_inside_a_host_regimen(
    knowledge: Knowledge, therapy: str, name: str, value: object
) -> None:
    host = knowledge.therapies[therapy].courses[0].key  # type: ignore[union-attr]
    inputs = TherapyInputs(therapy=therapy, bsa_m2=Decimal(1), host_day1={host: DAY0})
    plan_therapy(knowledge, inputs)  # planned without it

    with pytest.raises(InvalidInput) as raised:
        plan_therapy(knowledge, replace(inputs, **{name: value}))  # type: ignore[arg-type]

    assert raised.value.field == name
    assert "host_day1" in raised.value.allowed


def test_host_days_are_refused_for_cycle_doses(knowledge: Knowledge) -> None:
    with pytest.raises(InvalidInput) as raised:
        plan_therapy(knowledge, replace(INOTUZUMAB, host_day1={"copdam1": DAY0}))

    assert raised.value.field == "host_day1"
    assert raised.value.allowed == "left out for inotuzumab: used only for gemtuzumab or rituximab"


@pytest.mark.parametrize("name", CELL_FIELDS)
def test_car_t_fields_are_refused_for_the_drugs(knowledge: Knowledge, name: str) -> None:
    value: object = {
        "bridging": "vincristine",
        "marrow_blasts_percent": Decimal(0),
        "first_dose_crs_grade": 0,
        "first_dose_icans_grade": 0,
        "second_dose_withheld": True,
        "stay_near_days": 28,
        "no_driving_days": 56,
    }.get(name, DAY0)
    rituximab = TherapyInputs(therapy="rituximab", bsa_m2=Decimal(1), host_day1={"copdam1": DAY0})
    for inputs in (INOTUZUMAB, rituximab):
        with pytest.raises(InvalidInput) as raised:
            plan_therapy(knowledge, replace(inputs, **{name: value}))  # type: ignore[arg-type]

        assert raised.value.field == name
        assert "CAR-T" in raised.value.allowed


@pytest.mark.parametrize(
    ("inputs", "age", "outside"),
    [
        (KYMRIAH, "24.9", False),
        (KYMRIAH, "25", True),
        (AUCATZYL, "17.5", True),
        (INOTUZUMAB, "0.9", True),
        (INOTUZUMAB, "1", False),
    ],
)
def test_an_age_outside_the_label_is_planned_with_the_warning_first(
    knowledge: Knowledge, inputs: TherapyInputs, age: str, outside: bool
) -> None:
    plan = plan_therapy(knowledge, replace(inputs, age_years=Decimal(age)))

    ages = [w for w in plan.warnings if w.what == AGE_WARNING]
    assert len(ages) == int(outside)
    if outside:
        assert plan.warnings[0] == ages[0]
        assert f"Age {age} years is outside the label's indication" in ages[0].text
        assert ages[0].source == knowledge.age_indications[inputs.therapy].source
    # the plan itself is the same whatever the age
    other = plan_therapy(knowledge, replace(inputs, age_years=Decimal(30)))
    assert plan.days == other.days
    assert [w for w in plan.warnings if w.what != AGE_WARNING] == [
        w for w in other.warnings if w.what != AGE_WARNING
    ]


def test_a_plan_without_the_age_says_the_labels_range_was_not_checked(
    knowledge: Knowledge,
) -> None:
    plan = plan_therapy(knowledge, replace(INOTUZUMAB, age_years=None))

    assert plan.warnings[0].what == AGE_WARNING
    assert plan.warnings[0].text.startswith("Age not given: the label's indication (")


@pytest.mark.parametrize("age", ["-1", "131", "NaN"])
def test_an_implausible_age_is_refused_naming_the_field(knowledge: Knowledge, age: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        plan_therapy(knowledge, replace(INOTUZUMAB, age_years=Decimal(age)))

    assert raised.value.field == "age_years"
