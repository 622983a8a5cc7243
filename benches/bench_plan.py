"""How fast blina plans the longest labelled course (all 9 cycles of relapsed/refractory).

Prints plans per second on one core for:
- ``plan_course``: the whole plan (spans, every bag, premedication, precautions);
- ``plan_course + days``: the same, then every calendar day expanded into a ``PlanDay``,
  as the JSON output and the day view do;
- ``plan_course + days + JSON``: everything the CLI does for ``--format json`` but print.

Target (issue 2): >= 2,000 plans per second for ``plan_course``. This script never fails
on time; it prints the figures.
"""

import time
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from zoneinfo import ZoneInfo

from blina.domain.body import BodySize, measure_body
from blina.domain.course_plan import CoursePlan
from blina.domain.planning import plan_course
from blina.interop.json.plan import plan_to_dict
from blina.interop.json.values import dumps
from blina.knowledge import load_knowledge


def _rate(work: Callable[[], object], seconds: float = 2.0) -> tuple[float, int]:
    work()
    count = 0
    began = time.perf_counter()
    while (elapsed := time.perf_counter() - began) < seconds:
        work()
        count += 1
    return count / elapsed, count


def main() -> None:
    knowledge = load_knowledge()
    regimen = knowledge.regimen("relapsed-refractory")
    zone = ZoneInfo("Europe/Paris")
    cases = {
        "adult, 24-h bags": measure_body(
            weight_kg=Decimal(70),
            height_cm=Decimal(175),
            age_years=Decimal(40),
            rules=knowledge.body_rules,
        ),
        "child, 24-h bags": measure_body(
            weight_kg=Decimal(20),
            height_cm=Decimal(110),
            age_years=Decimal(6),
            rules=knowledge.body_rules,
        ),
    }
    print(f"course: {regimen.name}, {regimen.max_cycles} cycles")
    for name, body in cases.items():

        def plan(body: BodySize = body) -> CoursePlan:
            return plan_course(
                regimen=regimen, body=body, start=date(2027, 1, 4), bag_hours=24, zone=zone
            )

        sample = plan()
        print(f"{name}: {len(sample.days)} days, {len(sample.bags)} bags")
        works: dict[str, Callable[[], object]] = {
            "plan_course": plan,
            "plan_course + days": lambda plan=plan: plan().days,
            "plan_course + days + JSON": lambda plan=plan: dumps(plan_to_dict(plan())),
        }
        for label, work in works.items():
            rate, count = _rate(work)
            print(f"  {label:<28} {rate:>8.0f} plans/s  ({count} runs)")


if __name__ == "__main__":
    main()
