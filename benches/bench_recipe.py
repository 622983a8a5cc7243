"""How fast blina prepares bag recipes from the demo site library, on one core.

The workload is every labelled dose x every bag duration: the fixed 9 and 28 mcg/day
(a 70-kg adult) and 5 and 15 mcg/m2/day over a sweep of BSAs from 0.30 to 1.90 m2 in
0.01 m2 steps (a 30-kg child, so the per-m2 doses reach their caps at the top of the
sweep). Each recipe is solved by mass balance, rounded, re-checked by the independent
computation and checked against the label, the weight floors and the site tolerance.

Prints recipes per second for:
- ``prepare_bag``: the recipe from a prescription (the pure computation);
- ``prescribe + prepare_bag``: parsing the raw dose, BSA and cap as well;
- ``+ steps``: also filling the eight preparation steps with the recipe's figures;
- ``+ JSON``: everything ``blina bag --format json`` does except printing.

Target (issue 3): >= 50,000 recipes per second for ``prepare_bag``. This script never
fails on time; it prints the figures.
"""

import time
from collections.abc import Callable
from decimal import Decimal

from blina.domain.pharmacy.prescription import Prescription, prescribe
from blina.domain.pharmacy.recipe import Recipe, prepare_bag
from blina.domain.pharmacy.reference import label_dose_rules
from blina.interop.json.recipe import recipe_to_dict, refusal_to_dict
from blina.interop.json.values import dumps
from blina.knowledge import load_knowledge
from blina.knowledge._pharmacy import DEMO_LIBRARY, load_site_library

HOURS = (24, 48, 72, 96, 168)
BSAS = tuple(Decimal(n) / 100 for n in range(30, 191))


def _cases() -> list[dict[str, Decimal | int | None]]:
    cases: list[dict[str, Decimal | int | None]] = []
    for hours in HOURS:
        for dose in (Decimal(9), Decimal(28)):
            cases.append({"bag_hours": hours, "weight_kg": Decimal(70), "dose_mcg_per_day": dose})
        for per_m2 in (Decimal(5), Decimal(15)):
            cases.extend(
                {
                    "bag_hours": hours,
                    "weight_kg": Decimal(30),
                    "dose_mcg_per_m2_per_day": per_m2,
                    "bsa_m2": bsa,
                }
                for bsa in BSAS
            )
    return cases


def _rate(work: Callable[[], int], seconds: float = 2.0) -> tuple[float, int]:
    work()
    done = 0
    began = time.perf_counter()
    while (elapsed := time.perf_counter() - began) < seconds:
        done += work()
    return done / elapsed, done


def main() -> None:
    knowledge = load_knowledge()
    rules = label_dose_rules(knowledge.regimens_by_id.values())
    library = load_site_library(
        DEMO_LIBRARY, reference=knowledge.pharmacy, dose_rules=rules, sources=knowledge.sources
    )
    bsa_max = knowledge.pharmacy.bsa_max.value
    cases = _cases()
    prescriptions: list[Prescription] = [
        prescribe(rules=rules, bsa_max=bsa_max, **case)  # type: ignore[arg-type]
        for case in cases
    ]
    results = [prepare_bag(prescription=rx, library=library) for rx in prescriptions]
    recipes = sum(isinstance(r, Recipe) for r in results)
    print(
        f"workload: {len(cases)} prescriptions (2 fixed doses + 2 per-m2 doses x"
        f" {len(BSAS)} BSAs, x {len(HOURS)} bag durations): {recipes} recipes,"
        f" {len(cases) - recipes} hard stops"
    )

    def prepare() -> int:
        for rx in prescriptions:
            prepare_bag(prescription=rx, library=library)
        return len(prescriptions)

    def prescribe_and_prepare() -> int:
        for case in cases:
            rx = prescribe(rules=rules, bsa_max=bsa_max, **case)  # type: ignore[arg-type]
            prepare_bag(prescription=rx, library=library)
        return len(cases)

    def with_steps() -> int:
        for rx in prescriptions:
            result = prepare_bag(prescription=rx, library=library)
            if isinstance(result, Recipe):
                result.steps  # noqa: B018  (fills the step texts)
        return len(prescriptions)

    def with_json() -> int:
        for rx in prescriptions:
            result = prepare_bag(prescription=rx, library=library)
            data = recipe_to_dict(result) if isinstance(result, Recipe) else refusal_to_dict(result)
            dumps(data)
        return len(prescriptions)

    works: dict[str, Callable[[], int]] = {
        "prepare_bag": prepare,
        "prescribe + prepare_bag": prescribe_and_prepare,
        "prepare_bag + steps": with_steps,
        "prepare_bag + JSON": with_json,
    }
    for label, work in works.items():
        rate, count = _rate(work)
        print(f"  {label:<26} {rate:>9.0f} recipes/s  ({count} recipes)")


if __name__ == "__main__":
    main()
