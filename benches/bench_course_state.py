"""The course state for one course: how long ``course_state`` takes, beside the re-plan it
reads (the baseline, from the same run).

A relapsed/refractory adult course (9 cycles, 24-h bags: 252 slots), interrupted on day 9
for CRS grade 3 and restarted the next day, with 20 recorded bags, read on day 12. The
last rows re-plan with the 20 bags' hangs as well, every other one hung 20 min late (the
re-plan then counts the time no bag ran and moves the rest of each segment).

    .venv/bin/python benches/bench_course_state.py
"""

import statistics
import timeit
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from blina.domain.body import measure_body
from blina.domain.course_state import BagRecord, BagStatus, course_state
from blina.domain.modifications import AdverseReaction
from blina.domain.planning import plan_course
from blina.domain.replanning.events import Hang, Interruption, Restart
from blina.domain.replanning.replay import replan
from blina.knowledge import load_knowledge


def main() -> None:
    knowledge = load_knowledge()
    body = measure_body(
        weight_kg=Decimal(70), height_cm=None, age_years=Decimal(40), rules=knowledge.body_rules
    )
    plan = plan_course(
        regimen=knowledge.regimen("relapsed-refractory"),
        body=body,
        start=date(2027, 3, 1),
        bag_hours=24,
        zone=ZoneInfo("Europe/Paris"),
    )
    events = [
        Interruption(datetime(2027, 3, 9, 15, 51, tzinfo=UTC), AdverseReaction.CRS, 3),
        Restart(datetime(2027, 3, 10, 20, 15, tzinfo=UTC)),
    ]
    now = datetime(2027, 3, 12, 10, 0, tzinfo=UTC)
    rules = knowledge.toxicity.modifications
    replanned = replan(plan, events, rules=rules, now=now)
    bags = [
        BagRecord(i, f"B{i}", b.start, b.dose, BagStatus.REMOVED, b.start, b.end)
        for i, b in enumerate(replanned.plan.bags[:20], start=1)
    ]

    def state() -> object:
        return course_state(
            plan=replanned.plan,
            replanned=replanned,
            events=events,
            bags=bags,
            recorded_status="active",
            now=now,
            verify_lead=timedelta(hours=2),
        )

    def both() -> object:
        return replan(plan, events, rules=rules, now=now), state()

    # every other bag hung 20 min after its (already moved) time
    late = timedelta(minutes=20)
    hangs = []
    shift = timedelta(0)
    restart = events[1].at
    for i, b in enumerate(replanned.plan.bags[:20]):
        if b.start == restart:
            shift = timedelta(0)  # a restart lays its bags out afresh
        shift += late * (i % 2)
        hangs.append(Hang(b.key, b.dose, b.start + shift))

    def with_hangs() -> object:
        return replan(plan, events, rules=rules, now=now, hangs=hangs)

    moved = with_hangs()
    assert isinstance(moved, type(replanned))
    counted = [d for d in moved.decisions if d.reasons[0].startswith("No bag ran")]
    print(f"late hangs counted: {len(counted)} of {len(hangs)} hangs")

    for name, run in (
        ("replan (baseline)", lambda: replan(plan, events, rules=rules, now=now)),
        ("course_state", state),
        ("replan + course_state", both),
        ("replan with 20 hangs", with_hangs),
        ("  + course_state", lambda: (with_hangs(), state())),
    ):
        times = [t / 200 for t in timeit.repeat(run, number=200, repeat=7)]
        print(
            f"{name:24} median {statistics.median(times) * 1e6:8.1f} us  "
            f"min {min(times) * 1e6:8.1f} us"
        )


if __name__ == "__main__":
    main()
