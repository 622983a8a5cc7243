"""A whole recipe read back from JSON (a stored bag's, for its worksheet)."""

import json
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from tests.pharmacy_strategies import make_rx, make_site, prescriptions, resolve, weights_kg

from blina.domain.errors import InvalidInput
from blina.domain.pharmacy.prescription import Prescription
from blina.domain.pharmacy.recipe import Recipe, Refusal, prepare_bag
from blina.interop.json.recipe import (
    RECIPE_OPTIONAL,
    RECIPE_SHAPE,
    read_recipe_dict,
    recipe_to_dict,
    refusal_to_dict,
)
from blina.interop.json.values import to_json_ready

DEMO = resolve(make_site(demo=True))


def _recipe(**rx: str) -> Recipe:
    result = prepare_bag(prescription=make_rx(**rx), library=DEMO)
    assert isinstance(result, Recipe)
    return result


def _stored(recipe: Recipe) -> Any:
    """The recipe as a JSON column gives it back: decimals written as JSON numbers, read
    as floats."""
    return json.loads(json.dumps(to_json_ready(recipe_to_dict(recipe))))


def _floats(value: Any) -> list[float]:
    if isinstance(value, dict):
        return [f for item in value.values() for f in _floats(item)]
    if isinstance(value, list):
        return [f for item in value for f in _floats(item)]
    return [value] if isinstance(value, float) else []


@given(rx=prescriptions(weight=weights_kg("22", "200")))
def test_read_recipe_dict_gives_back_what_recipe_to_dict_wrote(rx: Prescription) -> None:
    result = prepare_bag(prescription=rx, library=DEMO)

    if isinstance(result, Recipe):
        read = read_recipe_dict(_stored(result))
        assert to_json_ready(read) == to_json_ready(recipe_to_dict(result))
        assert _floats(read) == []


def test_read_recipe_dict_numbers_are_exact_decimals() -> None:
    read = read_recipe_dict(_stored(_recipe(dose="28")))

    assert read["total_ml"] == Decimal("278.6")
    assert str(read["drug_ml"]) == "2.6"
    assert read["prescription"]["dose_mcg_per_day"] == 28
    assert read["library"]["validated_on"] == "2026-01-15"


def test_recipe_shape_names_every_key_recipe_to_dict_writes() -> None:
    data = recipe_to_dict(_recipe(hours=168, dose="28"))

    assert set(data) == set(RECIPE_SHAPE[""]) | set(RECIPE_OPTIONAL)
    for key in ("prescription", "vial", "library"):
        assert set(data[key]) == set(RECIPE_SHAPE[key]), key
    for key in ("steps", "warnings", "checks"):
        assert data[key], key
        assert all(set(item) == set(RECIPE_SHAPE[f"{key}[]"]) for item in data[key]), key
    limits = [limit for by in data["expiry"].values() for limit in by.values() if limit]
    assert limits
    assert all(set(limit) == set(RECIPE_SHAPE["expiry[][]"]) for limit in limits)


def test_read_recipe_dict_keeps_a_stored_bags_own_keys() -> None:
    stored = {**_stored(_recipe()), "bag_start": "2026-12-10T09:00:00+01:00", "overrides": {}}

    read = read_recipe_dict(stored)

    assert (read["bag_start"], read["overrides"]) == ("2026-12-10T09:00:00+01:00", {})


def _without(data: dict[str, Any], path: str) -> dict[str, Any]:
    """``data`` without the key at ``path`` (``steps.0.text``)."""
    *parents, last = path.split(".")
    copy = json.loads(json.dumps(data))
    node: Any = copy
    for part in parents:
        node = node[int(part)] if isinstance(node, list) else node[part]
    del node[last]
    return copy


@pytest.mark.parametrize(
    ("path", "named"),
    [
        ("stamp", "stamp (missing)"),
        ("total_ml", "total_ml (missing)"),
        ("prescription.description", "prescription.description (missing)"),
        ("library.validated_by", "library.validated_by (missing)"),
        ("steps.0.text", "steps[0].text (missing)"),
        ("checks.2.level", "checks[2].level (missing)"),
        (
            "expiry.prepared-bag.refrigerated.text",
            "expiry.prepared-bag.refrigerated.text (missing)",
        ),
    ],
)
def test_read_recipe_dict_names_a_missing_key(path: str, named: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        read_recipe_dict(_without(_stored(_recipe()), path))

    assert refused.value.field == "recipe_json"
    assert refused.value.value == named


@pytest.mark.parametrize(
    ("change", "value"),
    [
        ({"steps": {"number": 1}}, "steps {'number': 1}"),
        ({"vial": None}, "vial None"),
        ({"expiry": []}, "expiry []"),
        ({"expiry": {"prepared-bag": "48 h"}}, "expiry.prepared-bag '48 h'"),
        ({"saline_ml": 1000}, "total_ml 278.6"),
    ],
)
def test_read_recipe_dict_refuses_a_wrong_kind_or_a_broken_mass_balance(
    change: dict[str, Any], value: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        read_recipe_dict({**_stored(_recipe()), **change})

    assert refused.value.value == value


@pytest.mark.parametrize("data", [None, [], "recipe"])
def test_read_recipe_dict_refuses_what_is_not_an_object(data: Any) -> None:
    with pytest.raises(InvalidInput):
        read_recipe_dict(data)


def test_read_recipe_dict_refuses_a_refused_bag() -> None:
    result = prepare_bag(prescription=make_rx(dose="200"), library=DEMO)
    assert isinstance(result, Refusal)

    with pytest.raises(InvalidInput) as refused:
        read_recipe_dict(to_json_ready(refusal_to_dict(result)))

    assert refused.value.value == "a hard stop"
