"""A TherapyPlan of any kind as JSON-ready data: every field, sources on request."""

from datetime import date
from decimal import Decimal

from blina.domain.therapies.model import (
    Entry,
    EntryKind,
    Gap,
    PlanWarning,
    TherapyDay,
    TherapyKind,
    TherapyPlan,
)
from blina.interop.json.therapy_plan import sources_used, therapy_plan_to_dict
from blina.interop.json.values import dumps

# A cell-journey plan as the CAR-T planner will make one: the writer is generic.
PLAN = TherapyPlan(
    therapy="tisagenlecleucel",
    kind=TherapyKind.CELL_JOURNEY,
    days=(
        TherapyDay(
            date(2027, 3, 1),
            "day -5",
            (
                Entry(
                    EntryKind.STEP,
                    "fludarabine",
                    "Fludarabine",
                    "s-flu",
                    Decimal("45"),
                    "mg",
                    "30 mg/m2 x 1.5 m2",
                ),
            ),
        ),
        TherapyDay(
            date(2027, 3, 6), "day 0", (Entry(EntryKind.VISIT, "infusion", "CAR-T", "s-0"),)
        ),
    ),
    warnings=(PlanWarning("crs", "Watch for CRS", "s-crs"),),
    gaps=(Gap("current proximity rule", "the older rule, marked superseded", "s-gap"),),
)


def test_every_field_is_written() -> None:
    data = therapy_plan_to_dict(PLAN)

    assert data == {
        "therapy": "tisagenlecleucel",
        "kind": "cell-journey",
        "first_day": date(2027, 3, 1),
        "last_day": date(2027, 3, 6),
        "days": [
            {
                "date": date(2027, 3, 1),
                "label": "day -5",
                "entries": [
                    {
                        "kind": "step",
                        "what": "fludarabine",
                        "text": "Fludarabine",
                        "dose": Decimal("45"),
                        "unit": "mg",
                        "basis": "30 mg/m2 x 1.5 m2",
                        "source": "s-flu",
                    }
                ],
            },
            {
                "date": date(2027, 3, 6),
                "label": "day 0",
                "entries": [
                    {
                        "kind": "visit",
                        "what": "infusion",
                        "text": "CAR-T",
                        "dose": None,
                        "unit": None,
                        "basis": None,
                        "source": "s-0",
                    }
                ],
            },
        ],
        "warnings": [{"what": "crs", "text": "Watch for CRS", "source": "s-crs"}],
        "gaps": [
            {
                "fact": "current proximity rule",
                "instead": "the older rule, marked superseded",
                "source": "s-gap",
            }
        ],
    }
    assert '"dose": 45,' in dumps(data)


def test_sources_are_the_used_ones_with_their_references() -> None:
    references = {key: f"ref {key}" for key in ("s-flu", "s-0", "s-crs", "s-gap", "unused")}

    data = therapy_plan_to_dict(PLAN, references)

    assert sources_used(PLAN) == {"s-flu", "s-0", "s-crs", "s-gap"}
    assert data["sources"] == {k: f"ref {k}" for k in sorted(sources_used(PLAN))}


def test_an_empty_plan_has_no_first_or_last_day() -> None:
    empty = TherapyPlan("x", TherapyKind.CYCLE_DOSES, (), (), ())

    data = therapy_plan_to_dict(empty)

    assert (data["first_day"], data["last_day"], data["days"]) == (None, None, [])
