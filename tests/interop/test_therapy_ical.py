"""Any therapy's plan as iCalendar: parsed back with the icalendar library, event by
event against the plan it came from."""

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from icalendar import Calendar

from blina.domain.therapies.cycle_doses import Transplant
from blina.domain.therapies.model import EntryKind, TherapyPlan
from blina.interop.therapy_ical import therapy_plan_to_ical
from blina.knowledge import Knowledge, load_knowledge
from blina.services.therapy_planning import TherapyInputs, plan_therapy

STAMP = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


def _plans(knowledge: Knowledge) -> dict[str, TherapyPlan]:
    bsa = Decimal("1.72")
    return {
        "inotuzumab": plan_therapy(
            knowledge,
            TherapyInputs(
                "inotuzumab",
                bsa_m2=bsa,
                start=date(2027, 1, 4),
                transplant=Transplant.NOT_PLANNED,
            ),
        ),
        "rituximab": plan_therapy(
            knowledge,
            TherapyInputs("rituximab", bsa_m2=bsa, host_day1={"copdam1": date(2027, 1, 10)}),
        ),
        "gemtuzumab": plan_therapy(
            knowledge,
            TherapyInputs(
                "gemtuzumab",
                bsa_m2=bsa,
                weight_kg=Decimal(70),
                host_day1={"induction": date(2027, 1, 4)},
            ),
        ),
    }


PLANS = _plans(load_knowledge())


def _events(plan: TherapyPlan) -> list[dict[str, object]]:
    calendar = Calendar.from_ical(therapy_plan_to_ical(plan, "Drug X", generated_at=STAMP))
    return [
        {
            "uid": str(e["uid"]),
            "start": e.decoded("dtstart"),
            "end": e.decoded("dtend"),
            "summary": str(e["summary"]),
            "description": str(e["description"]),
            "stamp": e.decoded("dtstamp"),
        }
        for e in calendar.walk("VEVENT")
    ]


@pytest.mark.parametrize("therapy", sorted(PLANS))
def test_one_all_day_event_per_planned_day(therapy: str) -> None:
    plan = PLANS[therapy]
    events = _events(plan)
    assert [e["start"] for e in events] == [day.on for day in plan.days]
    for event, day in zip(events, plan.days, strict=True):
        assert type(event["start"]) is date  # all-day, not a moment
        assert event["end"] == day.on + timedelta(days=1)
        assert str(event["summary"]).startswith(f"Drug X {day.label}")
        assert event["stamp"] == STAMP


@pytest.mark.parametrize("therapy", sorted(PLANS))
def test_each_event_lists_every_entry_with_dose_basis_and_source(therapy: str) -> None:
    plan = PLANS[therapy]
    for event, day in zip(_events(plan), plan.days, strict=True):
        lines = str(event["description"]).splitlines()
        assert len(lines) == len(day.entries)
        for line, entry in zip(lines, day.entries, strict=True):
            assert line.startswith(f"{entry.kind}: {entry.what}")
            assert f"[source: {entry.source}]" in line
            if entry.dose is not None:
                assert f" {entry.dose} {entry.unit}" in line
            if entry.basis is not None:
                assert f"({entry.basis})" in line


def test_a_dose_day_is_summarised_by_its_dose() -> None:
    plan = PLANS["inotuzumab"]
    first = _events(plan)[0]
    dose = next(e for e in plan.days[0].entries if e.kind is EntryKind.DOSE)
    assert f"{dose.what} {dose.dose} mg" in str(first["summary"])


@pytest.mark.parametrize("therapy", sorted(PLANS))
def test_warnings_and_gaps_are_in_the_calendar_description(therapy: str) -> None:
    plan = PLANS[therapy]
    calendar = Calendar.from_ical(therapy_plan_to_ical(plan, "Drug X", generated_at=STAMP))
    notes = str(calendar["description"])
    for warning in plan.warnings:
        assert warning.text in notes
    for gap in plan.gaps:
        assert gap.fact in notes
        assert gap.instead in notes
    assert str(calendar["x-wr-calname"]) == "Drug X: plan"


def test_uids_are_unique_and_stable_and_change_with_the_plan() -> None:
    plan = PLANS["rituximab"]
    uids = [e["uid"] for e in _events(plan)]
    assert len(set(uids)) == len(uids)
    assert uids == [e["uid"] for e in _events(plan)]
    other = replace(plan, therapy="gemtuzumab")
    assert not set(uids) & {e["uid"] for e in _events(other)}


def test_an_empty_plan_is_an_empty_calendar() -> None:
    plan = replace(PLANS["rituximab"], days=())
    assert _events(plan) == []
