"""How fast blina triages home symptom check-ins.

Prints triage decisions per second on one core (``triage`` on a check-in already built,
the way a service calls it after parsing a request) for:
- a check-in with nothing reported;
- a pump alarm while infusing;
- two common side effects and a temperature in F (converted), with an earlier check-in;
- four answers (one repeated) and a temperature, with two earlier check-ins;
- a mix of 12 check-ins from the vignette table, one after another;
and, for the mix, the same with the JSON-ready form (``to_dict``) as a service stores it.

Target (issue 6): >= 100,000 triage decisions per second on one core. This script never
fails on time; it prints the figures.
"""

import timeit
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from blina.domain.body import AgeGroup
from blina.domain.triage.check_in import CheckIn, Context, Temperature, TemperatureUnit
from blina.domain.triage.engine import triage
from blina.knowledge import load_knowledge

NOW = datetime(2026, 12, 10, 2, 10, tzinfo=UTC)
EARLIER = NOW - timedelta(hours=20)


def _rate(work: Callable[[], object], number: int = 20_000, repeat: int = 7) -> float:
    """Calls per second, from the fastest of ``repeat`` timed runs of ``number`` calls (the
    fastest run is the one least disturbed by other work on the machine)."""
    work()
    return number / min(timeit.repeat(work, number=number, repeat=repeat))


def _check_in(symptoms: dict[str, int | None], temp: str | None = None) -> CheckIn:
    temperature = None
    if temp is not None:
        value, unit = temp.split()
        temperature = Temperature(Decimal(value), TemperatureUnit(unit))
    return CheckIn.of(observed_at=NOW, symptoms=symptoms, temperature=temperature)


def main() -> None:
    rules = load_knowledge().triage
    previous = Context(
        infusing=True,
        cycle_day=5,
        days_since_start_or_step_up=4,
        recent=(CheckIn.of(observed_at=EARLIER, symptoms={"nausea": 2, "rash": 1}),),
    )
    two_earlier = Context(
        infusing=True,
        age_group=AgeGroup.PEDIATRIC,
        recent=(
            CheckIn.of(observed_at=EARLIER, symptoms={"nausea": 2, "rash": 1}),
            CheckIn.of(observed_at=EARLIER - timedelta(days=1), symptoms={"headache": 1}),
        ),
    )
    four = CheckIn.of(
        observed_at=NOW,
        symptoms=[("nausea", 2), ("rash", 1), ("headache", 2), ("nausea", 3)],
        temperature=Temperature(Decimal("37.8")),
    )
    cases: dict[str, tuple[CheckIn, Context]] = {
        "nothing reported": (_check_in({}), Context()),
        "pump alarm, infusing": (_check_in({"pump-alarm": None}), Context(infusing=True)),
        "2 side effects + 100.4 F, 1 earlier": (
            _check_in({"nausea": 2, "headache": 1}, "100.4 F"),
            previous,
        ),
        "4 answers + 37.8 C, 2 earlier": (four, two_earlier),
    }
    mix = [
        (_check_in({}, "36.8 C"), Context()),
        (_check_in({"seizure": None}), Context(infusing=True)),
        (_check_in({"nausea": 2}), previous),
        (_check_in({"rash": 1}), previous),
        (_check_in({"fever": None}, "38.4 C"), Context()),
        (_check_in({"trouble-breathing": 1, "hives": 1}), Context()),
        (_check_in({"line-leak": None}), Context(infusing=True)),
        (_check_in({"confusion": 1, "headache": 2}), previous),
        (_check_in({"chest-pain": 3}), Context()),
        (_check_in({"diarrhea": 2, "tiredness": 1}, "99.1 F"), previous),
        (_check_in({"cough": 1}, "37.6 C"), Context(age_group=AgeGroup.PEDIATRIC)),
        (_check_in({"constipation": 1}), previous),
    ]

    print("blina triage decisions per second (one core):")
    for name, (check_in, context) in cases.items():
        rate = _rate(lambda c=check_in, x=context: triage(c, x, rules, now=NOW))
        print(f"  {name:<38} {rate:>10,.0f} /s")

    def run_mix() -> None:
        for check_in, context in mix:
            triage(check_in, context, rules, now=NOW)

    def run_mix_stored() -> None:
        for check_in, context in mix:
            triage(check_in, context, rules, now=NOW).to_dict()

    mix_rate = _rate(run_mix, number=2_000) * len(mix)
    stored_rate = _rate(run_mix_stored, number=2_000) * len(mix)
    print(f"  {'mix of 12 vignettes':<38} {mix_rate:>10,.0f} /s")
    print(f"  {'mix of 12, with to_dict()':<38} {stored_rate:>10,.0f} /s")
    print("target (issue 6): >= 100,000 /s")


if __name__ == "__main__":
    main()
