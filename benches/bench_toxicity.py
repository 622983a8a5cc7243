"""How fast blina grades toxicity and re-plans a course from its event log.

Prints, on one core:
- gradings per second for each calculator (CRS, ICANS, a CTCAE lab, TLS) and for a mix;
- re-plans per second for the full relapsed/refractory course (9 cycles) with a log of
  10 events (interruptions for CRS, infection and a neurological reaction, restarts at
  reduced doses, a new cycle after a long break), with and without expanding the days.

Targets (issue 4): >= 100,000 gradings/s and >= 1,000 re-plans/s. This script never
fails on time; it prints the figures.
"""

import time
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from blina.domain.body import measure_body
from blina.domain.modifications import AdverseReaction
from blina.domain.planning import plan_course
from blina.domain.replanning.events import Event, Interruption, Restart
from blina.domain.replanning.replay import replan
from blina.domain.toxicity.crs import CrsFindings, Hypotension, OxygenSupport, grade_crs
from blina.domain.toxicity.ctcae import CtcaeFindings, grade_ctcae
from blina.domain.toxicity.icans import Consciousness, IcansFindings, Seizure, grade_icans
from blina.domain.toxicity.tls import Analyte, LabSample, TlsFindings, assess_tls
from blina.domain.units import McgPerDay
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
    toxicity = knowledge.toxicity
    crs = CrsFindings(Decimal("39.5"), Hypotension.ONE_VASOPRESSOR, OxygenSupport.LOW_FLOW)
    icans = IcansFindings(
        Decimal("40"), Consciousness.AWAKE, ice_score=3, seizure=Seizure.GENERALIZED_RESOLVED
    )
    alt = CtcaeFindings(value=Decimal("210"), uln=Decimal("40"), baseline=Decimal("30"))
    zone = ZoneInfo("Europe/Paris")
    regimen = knowledge.regimen("relapsed-refractory")
    body = measure_body(
        weight_kg=Decimal(70),
        height_cm=Decimal(175),
        age_years=Decimal(40),
        rules=knowledge.body_rules,
    )
    plan = plan_course(regimen=regimen, body=body, start=date(2027, 1, 4), bag_hours=48, zone=zone)
    first = plan.cycles[0].infusion_start
    tls = TlsFindings(
        therapy_start=first,
        samples=(
            LabSample(first + timedelta(hours=20), {Analyte.URIC_ACID: Decimal("500")}),
            LabSample(first + timedelta(hours=30), {Analyte.POTASSIUM: Decimal("6.2")}),
        ),
        child=False,
        creatinine=Decimal("180"),
        creatinine_uln=Decimal("100"),
    )

    events: list[Event] = [
        Interruption(first + timedelta(days=2), AdverseReaction.CRS, 3),
        Restart(first + timedelta(days=3, hours=6)),
        Interruption(first + timedelta(days=12), AdverseReaction.INFECTION, 2),
        Restart(first + timedelta(days=12, hours=3)),
        Interruption(first + timedelta(days=20), AdverseReaction.NEUROLOGICAL, 3),
        Restart(first + timedelta(days=24), McgPerDay(Decimal("9"))),
        Interruption(first + timedelta(days=30), AdverseReaction.OTHER, 2),
        Restart(first + timedelta(days=40)),
        Interruption(first + timedelta(days=50), AdverseReaction.PANCREATITIS, 3),
        Restart(first + timedelta(days=53)),
    ]
    gradings: dict[str, Callable[[], object]] = {
        "CRS": lambda: grade_crs(crs, toxicity.crs),
        "ICANS": lambda: grade_icans(icans, toxicity.icans),
        "CTCAE (ALT, baseline)": lambda: grade_ctcae("alt", alt, toxicity.ctcae),
        "TLS (2 samples)": lambda: assess_tls(tls, toxicity.tls),
    }

    def mix() -> None:
        for work in gradings.values():
            work()

    print("gradings (one core):")
    for label, work in gradings.items():
        rate, count = _rate(work)
        print(f"  {label:<28} {rate:>10.0f} gradings/s  ({count} runs)")
    rate, count = _rate(mix)
    print(f"  {'mix of the four':<28} {rate * len(gradings):>10.0f} gradings/s  ({count} rounds)")

    rules = toxicity.modifications
    now = first + timedelta(days=800)
    result = replan(plan, events, rules=rules, now=now)
    print(
        f"re-plan: {regimen.name}, {len(plan.cycles)} cycles, {len(events)} events -> "
        f"{len(result.decisions)} decisions, {len(result.plan.bags)} bags, status {result.status}"
    )
    replans: dict[str, Callable[[], object]] = {
        "replan": lambda: replan(plan, events, rules=rules, now=now),
        "replan + days": lambda: replan(plan, events, rules=rules, now=now).plan.days,
    }
    for label, work in replans.items():
        rate, count = _rate(work)
        print(f"  {label:<28} {rate:>10.0f} re-plans/s  ({count} runs)")


if __name__ == "__main__":
    main()
