"""Exposure: how fast the model runs, beside a SciPy ``solve_ivp`` loop from the same run.

1. Virtual population: 1,000,000 adults (BSA log-normal, median 1.88 m2) on cycle 1 of
   the relapsed/refractory regimen (9 mcg/day for 7 days, then 28 mcg/day to day 28),
   hourly output over 28 days (673 times), reduced to the 5/25/50/75/95th percentile
   bands (exact). The baseline solves the same ODE patient by patient with
   ``solve_ivp`` (LSODA, rtol 1e-8, breakpoint at the step-up) for a few hundred
   patients; its throughput is scaled to a million. Peak memory of the million-patient
   run: tracemalloc (every numpy allocation) and the process's maximum resident size.
2. The same population dosed per m2 (15 mcg/m2/day, capped): every patient stepped
   through time, percentiles by selection (the general method), 10,000 patients.
3. One patient: the full 9-cycle course (24-h bags) with 20 events (6 interruptions with
   their restarts after CRS grade 2, 8 flushes of 5 mL), hourly output to a day after
   the end (about 12,000 times): the exposure alone, the inputs from the re-planned course
   plus the exposure, and the re-plan plus both.

    .venv/bin/python benches/bench_pk.py
"""

import resource
import statistics
import time
import timeit
import tracemalloc
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import numpy as np
from scipy.integrate import solve_ivp

from blina.domain.body import measure_body
from blina.domain.modifications import AdverseReaction
from blina.domain.pk import Infusion, PkInputs, PkModel, exposure, individual_clearance
from blina.domain.pk_course import Flush, bag_concentration, inputs_from_plan
from blina.domain.pk_population import BsaDistribution, bands, draw_patients
from blina.domain.planning import plan_course
from blina.domain.replanning.events import Interruption, Restart
from blina.domain.replanning.replay import replan
from blina.domain.units import McgPerDay
from blina.knowledge import load_knowledge

MILLION = 1_000_000
ADULTS = BsaDistribution(median_m2=1.88, log_sd=0.12, low_m2=1.3, high_m2=2.7)
CYCLE_1 = PkInputs((Infusion(0.0, 168.0, 9 / 24), Infusion(168.0, 672.0, 28 / 24)))
HOURLY_28_DAYS = np.arange(0.0, 673.0)


def _best(run: Callable[[], object], repeat: int) -> tuple[float, float]:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times), min(times)


def _scipy_loop(model: PkModel, clearances: np.ndarray) -> np.ndarray:
    """The baseline: one ``solve_ivp`` per patient, then the percentiles."""
    volume = float(model.volume_l)
    curves = np.empty((len(clearances), len(HOURLY_28_DAYS)))
    for row, clearance in enumerate(clearances):
        amount = np.zeros(1)
        for start, end, rate in ((0.0, 168.0, 9 / 24), (168.0, 672.0, 28 / 24)):
            inside = (start <= HOURLY_28_DAYS) & (end >= HOURLY_28_DAYS)
            solved = solve_ivp(
                lambda _t, a, r=rate, k=clearance / volume: r - k * a,
                (start, end),
                amount,
                method="LSODA",
                rtol=1e-8,
                atol=1e-12,
                t_eval=HOURLY_28_DAYS[inside],
            )
            curves[row, inside] = solved.y[0] / volume * 1000.0
            amount = solved.y[:, -1]
    return np.percentile(curves, [5, 25, 50, 75, 95], axis=0)


def population(model: PkModel) -> None:
    def run() -> object:
        return bands(model, CYCLE_1, HOURLY_28_DAYS, count=MILLION, seed=1, bsa=ADULTS)

    run()  # warm
    median, best = _best(run, 5)
    tracemalloc.start()
    run()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    resident = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB -> MiB

    sample = 300
    patients = draw_patients(model, count=sample, seed=1, bsa=ADULTS)
    start = time.perf_counter()
    _scipy_loop(model, patients.clearance_l_per_h)
    loop = time.perf_counter() - start
    per_second = sample / loop
    ours = MILLION / median
    print("1. 1,000,000 virtual patients x 28 days hourly -> 5 percentile bands (exact)")
    print(f"   blina bands           median {median * 1e3:8.1f} ms   min {best * 1e3:8.1f} ms")
    print(
        f"   solve_ivp loop        {per_second:10.0f} patients/s ({sample} patients in "
        f"{loop:.2f} s): a million would take {MILLION / per_second / 3600:.1f} h"
    )
    print(f"   throughput ratio      {ours / per_second:10.0f} x")
    print(
        f"   peak memory           tracemalloc {peak / 2**20:7.1f} MiB   "
        f"max resident (whole process) {resident:7.1f} MiB"
    )


def stepped(model: PkModel) -> None:
    per_m2 = PkInputs(
        (
            Infusion(0.0, 168.0, 9 / 24, 5 / 24, 9 / 24),
            Infusion(168.0, 672.0, 28 / 24, 15 / 24, 28 / 24),
        )
    )
    count = 10_000

    def run() -> object:
        return bands(model, per_m2, HOURLY_28_DAYS, count=count, seed=1, bsa=ADULTS)

    median, best = _best(run, 3)
    print(f"2. {count:,} virtual patients dosed per m2, stepped (exact, general method)")
    print(
        f"   blina bands           median {median * 1e3:8.1f} ms   min {best * 1e3:8.1f} ms   "
        f"({count / median:,.0f} patients/s)"
    )


def one_patient(model: PkModel) -> None:
    knowledge = load_knowledge()
    body = measure_body(
        weight_kg=Decimal(70),
        height_cm=Decimal(175),
        age_years=Decimal(40),
        rules=knowledge.body_rules,
    )
    plan = plan_course(
        regimen=knowledge.regimen("relapsed-refractory"),
        body=body,
        start=date(2027, 3, 1),
        bag_hours=24,
        zone=ZoneInfo("Europe/Paris"),
    )
    events: list[Interruption | Restart] = []
    for cycle in plan.cycles[:6]:
        stop = cycle.infusion_start + timedelta(days=10, hours=3)
        events += [
            Interruption(stop, AdverseReaction.CRS, 2),
            Restart(stop + timedelta(hours=20)),
        ]
    now = datetime(2029, 1, 1, tzinfo=UTC)
    rules = knowledge.toxicity.modifications
    replanned = replan(plan, events, rules=rules, now=now)
    concentration = bag_concentration(dose=McgPerDay(Decimal(28)), pump_rate_ml_per_h=Decimal(10))
    flushes = [
        Flush(cycle.infusion_start + timedelta(days=20, hours=2), Decimal(5), concentration)
        for cycle in replanned.plan.cycles[:8]
    ]
    assert len(events) + len(flushes) == 20, "20 events"
    course = inputs_from_plan(replanned.plan, events=events, flushes=flushes)
    times = np.arange(0.0, course.inputs.end_h + 24.0)
    clearance = float(individual_clearance(model, bsa_m2=float(body.bsa.value)))  # type: ignore[union-attr]

    def alone() -> object:
        return exposure(
            model, course.inputs, times, clearance=clearance, interruptions_h=course.interruptions_h
        )

    def with_inputs() -> object:
        built = inputs_from_plan(replanned.plan, events=events, flushes=flushes)
        return exposure(
            model, built.inputs, times, clearance=clearance, interruptions_h=built.interruptions_h
        )

    def with_replan() -> object:
        again = replan(plan, events, rules=rules, now=now)
        built = inputs_from_plan(again.plan, events=events, flushes=flushes)
        return exposure(
            model, built.inputs, times, clearance=clearance, interruptions_h=built.interruptions_h
        )

    print(
        f"3. one patient, 9 cycles, 20 events, {len(times):,} hourly times, "
        f"{len(course.inputs.infusions)} infusion segments"
    )
    for name, run in (
        ("exposure", alone),
        ("inputs + exposure", with_inputs),
        ("replan + inputs + exposure", with_replan),
    ):
        samples = [t / 20 for t in timeit.repeat(run, number=20, repeat=7)]
        print(
            f"   {name:26} median {statistics.median(samples) * 1e3:7.2f} ms   "
            f"min {min(samples) * 1e3:7.2f} ms"
        )


def main() -> None:
    model = load_knowledge().pk
    population(model)
    stepped(model)
    one_patient(model)


if __name__ == "__main__":
    main()
