"""iCalendar export: parsed back with the icalendar library."""

import itertools
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from icalendar import Calendar

from blina.domain.body import measure_body
from blina.domain.course_plan import CoursePlan
from blina.domain.planning import plan_course
from blina.interop.ical import plan_to_ical
from blina.knowledge import load_knowledge

STAMP = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


def _plan(zone: str = "Europe/Paris", bag_hours: int = 96) -> CoursePlan:
    knowledge = load_knowledge()
    body = measure_body(
        weight_kg=Decimal(70),
        height_cm=Decimal(175),
        age_years=Decimal(40),
        rules=knowledge.body_rules,
    )
    return plan_course(
        regimen=knowledge.regimen("relapsed-refractory"),
        body=body,
        start=date(2027, 3, 1),
        bag_hours=bag_hours,
        zone=ZoneInfo(zone),
        cycles=2,
    )


def _events(plan: CoursePlan) -> list[dict[str, object]]:
    calendar = Calendar.from_ical(plan_to_ical(plan, generated_at=STAMP))
    return [
        {
            "summary": str(e["summary"]),
            "start": e.decoded("dtstart"),
            "end": e.decoded("dtend") if "dtend" in e else None,
            "uid": str(e["uid"]),
        }
        for e in calendar.walk("VEVENT")
    ]


def test_plan_to_ical_one_event_per_bag_change_at_local_time() -> None:
    plan = _plan()
    bag_events = [e for e in _events(plan) if str(e["summary"]).startswith("Bag change")]
    assert len(bag_events) == len(plan.bags)
    # 28 March 2027 is the spring-forward day in Paris: bags are 96 real hours apart,
    # so the local clock time moves from 09:00 to 10:00 after it.
    starts = [e["start"] for e in bag_events]
    assert all(isinstance(s, datetime) for s in starts)
    assert starts[0] == datetime(2027, 3, 1, 9, 0, tzinfo=ZoneInfo("Europe/Paris"))
    moments = [s.astimezone(UTC) for s in starts if isinstance(s, datetime)]
    assert moments == [bag.start for bag in plan.bags]
    within_cycle_one = [m for m in moments if m < plan.cycles[1].infusion_start]
    gaps = {later - earlier for earlier, later in itertools.pairwise(within_cycle_one)}
    # 96-h bags; the bag hung on C1D5 runs 72 h because the step-up on C1D8 needs a new bag.
    assert gaps == {timedelta(hours=96), timedelta(hours=72)}
    paris = ZoneInfo("Europe/Paris")
    assert datetime(2027, 3, 24, 9, 0, tzinfo=paris) in starts
    assert datetime(2027, 3, 28, 10, 0, tzinfo=paris) in starts  # 96 real hours later
    assert starts[-1] == datetime(2027, 5, 6, 9, 0, tzinfo=paris)  # cycle 2 starts at 09:00 again


def test_plan_to_ical_cycles_treatment_free_and_hospital_days() -> None:
    events = {str(e["summary"]): e for e in _events(_plan())}
    infusion = events["Cycle 1 (induction): blinatumomab infusion"]
    assert infusion["start"] == date(2027, 3, 1)
    assert infusion["end"] == date(2027, 3, 29)  # exclusive: 28 infusion days
    free = events["Cycle 1: treatment-free"]
    assert free["start"] == date(2027, 3, 29)
    assert free["end"] == date(2027, 4, 12)  # 14 treatment-free days
    assert events["Cycle 1: hospital admission"]["start"] == date(2027, 3, 1)
    assert events["Cycle 1: last recommended hospital day"]["start"] == date(2027, 3, 9)
    assert events["Cycle 2: last recommended hospital day"]["start"] == date(2027, 4, 13)


def test_plan_to_ical_premedication_and_precautions() -> None:
    summaries = [str(e["summary"]) for e in _events(_plan())]
    assert summaries.count("Premedication: dexamethasone 20 mg") == 3  # C1D1, C1D8, C2D1
    assert any(s.startswith("Until today: Effective contraception") for s in summaries)
    assert not any("live vaccines" in s for s in summaries)  # no end date: no event


def test_plan_to_ical_uids_unique_and_stable() -> None:
    first = [e["uid"] for e in _events(_plan())]
    again = [e["uid"] for e in _events(_plan())]
    assert len(set(first)) == len(first)
    assert first == again
    assert first != [e["uid"] for e in _events(_plan(bag_hours=48))]
