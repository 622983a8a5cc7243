"""A therapy's planning inputs as a therapy course stores them: written with only the
fields given, read back strictly (each refusal names its field), and every value the
inputs may hold survives the round trip through JSON text."""

import json
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from tests.therapy_strategies import therapy_inputs

from blina.domain.errors import InvalidInput
from blina.domain.therapies.cycle_doses import Response, Transplant
from blina.domain.therapies.inputs import TherapyInputs
from blina.interop.json.therapy_inputs import (
    dose_day_key,
    therapy_inputs_from_dict,
    therapy_inputs_to_dict,
)

INOTUZUMAB = TherapyInputs(
    therapy="inotuzumab",
    bsa_m2=Decimal("1.70"),
    start=date(2027, 1, 4),
    transplant=Transplant.PLANNED,
    responses=(Response.CRI,),
    mrd_negative=True,
    dose_dates={(1, 8): date(2027, 1, 12)},
)


@given(therapy_inputs())
def test_inputs_survive_json_text_unchanged(inputs: TherapyInputs) -> None:
    text = json.dumps(therapy_inputs_to_dict(inputs))

    back = therapy_inputs_from_dict(json.loads(text))

    assert back == inputs
    # exact decimals keep their digits (1.70 stays 1.70, not 1.7)
    decimals = ("bsa_m2", "weight_kg", "height_cm", "age_years", "blasts_per_mm3")
    for name in (*decimals, "marrow_blasts_percent"):
        assert str(getattr(back, name)) == str(getattr(inputs, name))


def test_only_the_given_fields_are_written_in_their_stored_form() -> None:
    assert therapy_inputs_to_dict(INOTUZUMAB) == {
        "therapy": "inotuzumab",
        "bsa_m2": "1.70",
        "start": "2027-01-04",
        "transplant": "planned",
        "responses": ["cri"],
        "mrd_negative": True,
        "dose_dates": {"C1D8": "2027-01-12"},
    }
    assert therapy_inputs_to_dict(TherapyInputs(therapy="rituximab")) == {"therapy": "rituximab"}


def test_a_car_t_journey_writes_its_dates_flags_and_host_days() -> None:
    inputs = TherapyInputs(
        therapy="obecabtagene",
        weight_kg=Decimal("70"),
        start=date(2027, 1, 10),
        bridging="inotuzumab",
        bridging_start=date(2026, 12, 20),
        first_dose_crs_grade=0,
        first_dose_icans_grade=0,
        second_dose_withheld=True,
        host_day1={"hyper-cvad": date(2027, 1, 1)},
    )
    data = therapy_inputs_to_dict(inputs)

    assert data["second_dose_withheld"] is True
    assert data["first_dose_crs_grade"] == 0
    assert data["host_day1"] == {"hyper-cvad": "2027-01-01"}
    assert therapy_inputs_from_dict(data) == inputs


def test_a_null_reads_as_not_given() -> None:
    assert therapy_inputs_from_dict({"therapy": "inotuzumab", "start": None}) == TherapyInputs(
        therapy="inotuzumab"
    )


def test_dose_day_key_names_cycle_and_day() -> None:
    assert dose_day_key(2, 15) == "C2D15"


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ([], "inputs"),
        ({}, "inputs.therapy"),
        ({"therapy": "inotuzumab", "dose": "1"}, "inputs.dose"),
        ({"therapy": "Inotuzumab"}, "inputs.therapy"),
        ({"therapy": 3}, "inputs.therapy"),
        ({"therapy": "x", "bsa_m2": 1.7}, "inputs.bsa_m2"),
        ({"therapy": "x", "bsa_m2": "1e999"}, "inputs.bsa_m2"),
        ({"therapy": "x", "start": "2027-13-01"}, "inputs.start"),
        ({"therapy": "x", "start": "9999-01-01"}, "inputs.start"),
        ({"therapy": "x", "transplant": "maybe"}, "inputs.transplant"),
        ({"therapy": "x", "responses": "cr"}, "inputs.responses"),
        ({"therapy": "x", "responses": ["cr"] * 13}, "inputs.responses"),
        ({"therapy": "x", "responses": ["cr", "pr"]}, "inputs.responses[1]"),
        ({"therapy": "x", "mrd_negative": "yes"}, "inputs.mrd_negative"),
        ({"therapy": "x", "first_cycle_days": True}, "inputs.first_cycle_days"),
        ({"therapy": "x", "first_cycle_days": 21.5}, "inputs.first_cycle_days"),
        ({"therapy": "x", "first_cycle_days": 2**31}, "inputs.first_cycle_days"),
        ({"therapy": "x", "dose_dates": []}, "inputs.dose_dates"),
        ({"therapy": "x", "dose_dates": {"D8": "2027-01-01"}}, "inputs.dose_dates.D8"),
        ({"therapy": "x", "dose_dates": {"C1D8": 3}}, "inputs.dose_dates.C1D8"),
        ({"therapy": "x", "host_day1": {"A B": "2027-01-01"}}, "inputs.host_day1.A B"),
        ({"therapy": "x", "bridging": ""}, "inputs.bridging"),
        ({"therapy": "x", "bridging": "a\x00b"}, "inputs.bridging"),
        ({"therapy": "x", "bridging": "x" * 201}, "inputs.bridging"),
        ({"therapy": "x", "second_dose_withheld": None}, "inputs.second_dose_withheld"),
    ],
)
def test_a_value_the_field_does_not_allow_is_refused_by_name(data: Any, field: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        therapy_inputs_from_dict(data)

    assert refused.value.field == field
