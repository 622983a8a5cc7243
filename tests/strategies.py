"""Hypothesis strategies for valid clinical inputs.

Every number is a ``Decimal`` drawn with ``st.decimals(places=...)``: never a float.
Regimens come either from the shipped knowledge (passed in by the caller) or are
synthetic (built with ``tests.factories``), so invariants are checked on regimens no
label has.
"""

from datetime import date, time
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import strategies as st

from blina.domain.body import BodySize
from blina.domain.regimens import CycleSpec, DoseStep, Regimen
from tests.factories import make_body, make_cycle, make_regimen, make_step

ZONE_NAMES = (
    "UTC",
    "Europe/Paris",
    "America/New_York",
    "Australia/Sydney",
    "Asia/Kolkata",
    "Pacific/Chatham",
)


def decimals(low: str, high: str, *, places: int) -> st.SearchStrategy[Decimal]:
    """Finite Decimals in [low, high] with ``places`` decimal places."""
    return st.decimals(
        min_value=Decimal(low),
        max_value=Decimal(high),
        places=places,
        allow_nan=False,
        allow_infinity=False,
    )


def weights_kg(low: str = "0.5", high: str = "350") -> st.SearchStrategy[Decimal]:
    """Body weights in kg to 0.1 kg, within blina's plausibility range by default."""
    return decimals(low, high, places=1)


def heights_cm(low: str = "30", high: str = "250") -> st.SearchStrategy[Decimal]:
    """Heights in cm to 0.1 cm, within blina's plausibility range by default."""
    return decimals(low, high, places=1)


def ages_years(low: str = "0.1", high: str = "120") -> st.SearchStrategy[Decimal]:
    """Ages in years to 0.1 year (0.1 year is above the label's 1-month minimum)."""
    return decimals(low, high, places=1)


def bodies(
    *,
    weight: st.SearchStrategy[Decimal] | None = None,
    age: st.SearchStrategy[Decimal] | None = None,
) -> st.SearchStrategy[BodySize]:
    """Measured patients with a height (so BSA is known), any weight and age by default."""
    return st.builds(
        lambda w, h, a: make_body(weight_kg=w, height_cm=h, age_years=a),
        weight if weight is not None else weights_kg(),
        heights_cm(),
        age if age is not None else ages_years(),
    )


def children_under_45_kg() -> st.SearchStrategy[BodySize]:
    """Pediatric patients below the label's 45 kg threshold, dosed per m2 of BSA."""
    return bodies(weight=weights_kg("1", "44.9"), age=ages_years("0.1", "17.9"))


def start_dates() -> st.SearchStrategy[date]:
    """First infusion days over fifteen years, so leap days and DST changes occur."""
    return st.dates(min_value=date(2020, 1, 1), max_value=date(2035, 12, 31))


def start_times() -> st.SearchStrategy[time]:
    """Clock times for hanging the first bag, on the quarter hour, any hour of the day."""
    return st.builds(time, st.integers(0, 23), st.sampled_from((0, 15, 30, 45)))


def zones() -> st.SearchStrategy[ZoneInfo]:
    """Clinic time zones: UTC, zones with DST both hemispheres, and odd offsets."""
    return st.sampled_from(ZONE_NAMES).map(ZoneInfo)


def allowed_bag_hours(regimen: Regimen, body: BodySize) -> list[int]:
    """The bag durations ``regimen`` allows at ``body``'s weight (newest source's floor)."""
    return [
        option.hours
        for option in regimen.bag_options
        if option.min_weight is None or body.weight.value >= option.min_weight.value
    ]


@st.composite
def plan_inputs(
    draw: st.DrawFn,
    regimens: st.SearchStrategy[Regimen],
    patients: st.SearchStrategy[BodySize] | None = None,
) -> dict[str, Any]:
    """Keyword arguments for ``plan_course``: a regimen, a patient, a bag the label allows
    at that weight, a cycle count from 1 to the full course, a start day, time and zone."""
    regimen = draw(regimens)
    body = draw(patients if patients is not None else bodies())
    return {
        "regimen": regimen,
        "body": body,
        "bag_hours": draw(st.sampled_from(allowed_bag_hours(regimen, body))),
        "cycles": draw(st.integers(1, regimen.max_cycles)),
        "start": draw(start_dates()),
        "start_time": draw(start_times()),
        "zone": draw(zones()),
    }


@st.composite
def dose_steps(draw: st.DrawFn, infusion_days: int) -> tuple[DoseStep, ...]:
    """One to three consecutive steps covering days 1..``infusion_days``; fixed <= cap."""
    cuts: list[int] = []
    if infusion_days > 1:
        count = draw(st.integers(1, min(3, infusion_days)))
        cuts = sorted(
            draw(st.sets(st.integers(2, infusion_days), min_size=count - 1, max_size=count - 1))
        )
    firsts = [1, *cuts]
    lasts = [cut - 1 for cut in cuts] + [infusion_days]
    steps = []
    for first, last in zip(firsts, lasts, strict=True):
        fixed = draw(decimals("0.5", "100", places=1))
        headroom = draw(decimals("0", "20", places=1))
        per_m2 = draw(decimals("0.5", "60", places=1))
        steps.append(make_step(first, last, fixed=fixed, per_m2=per_m2, cap=fixed + headroom))
    return tuple(steps)


@st.composite
def cycle_specs(draw: st.DrawFn, number: int) -> CycleSpec:
    """A cycle of 1-35 infusion days, 0-60 treatment-free days and 0..length hospital days."""
    infusion_days = draw(st.integers(1, 35))
    length_days = infusion_days + draw(st.integers(0, 60))
    return make_cycle(
        number,
        phase=draw(st.sampled_from(("alpha", "beta"))),
        infusion_days=infusion_days,
        length_days=length_days,
        steps=draw(dose_steps(infusion_days)),
        inpatient_days=draw(st.integers(0, length_days)),
    )


@st.composite
def synthetic_regimens(draw: st.DrawFn) -> Regimen:
    """Regimens no label has: 1-6 cycles of random lengths, step-ups and doses, and a
    weight threshold anywhere from 10 to 80 kg."""
    count = draw(st.integers(1, 6))
    return make_regimen(
        cycles=[draw(cycle_specs(number)) for number in range(1, count + 1)],
        weight_threshold_kg=draw(decimals("10", "80", places=1)),
    )
