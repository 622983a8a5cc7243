"""Hypothesis strategies for CAR-T journeys: patients, day-0 dates, the dates a team
records (some outside the label's windows on purpose) and reactions to a first infusion.

Weights cover the body rules' whole range (above 0, up to 350 kg) to 0.1 kg; BSAs 0.2 to
3.5 m2 to 0.01 m2. Every number is a Decimal."""

from datetime import date, timedelta
from decimal import Decimal

from hypothesis import strategies as st

from blina.domain.therapies.cell_journey import Journey
from blina.domain.therapies.cell_second_dose import FirstDoseReaction
from blina.domain.units import M2, Kg

DAY0S = st.dates(min_value=date(2025, 1, 1), max_value=date(2030, 12, 31))


def weights() -> st.SearchStrategy[Kg]:
    """Any plausible weight, with the band edges (30 kg, 50 kg, 100 kg) drawn often."""
    edges = st.sampled_from(["29.9", "30", "50", "50.1", "100", "100.1"]).map(Decimal)
    drawn = st.decimals(min_value=Decimal("0.5"), max_value=Decimal(350), places=1)
    return st.one_of(edges, drawn).map(Kg)


def bsas() -> st.SearchStrategy[M2]:
    return st.decimals(min_value=Decimal("0.2"), max_value=Decimal("3.5"), places=2).map(M2)


def offsets(low: int, high: int) -> st.SearchStrategy[timedelta | None]:
    """None (the planner's default) or a number of days from day 0."""
    days = st.integers(min_value=low, max_value=high).map(lambda n: timedelta(days=n))
    return st.none() | days


def reactions() -> st.SearchStrategy[FirstDoseReaction | None]:
    """None, or worst CRS and ICANS grades; no ICANS and CRS grade 2 (the deferral row)
    drawn often."""
    grades = st.integers(min_value=0, max_value=4)
    often = st.sampled_from([0, 0, 2, 2, 3])
    return st.none() | st.builds(FirstDoseReaction, often | grades, st.just(0) | grades)


def second_days() -> st.SearchStrategy[int | None]:
    """None (Day 10), or a label day 2-30 with the rule's edges (Day 7/8, 12/13, 21/22)
    drawn often."""
    edges = st.sampled_from([7, 8, 12, 13, 21, 22])
    return st.none() | edges | st.integers(min_value=2, max_value=30)


@st.composite
def journeys(draw: st.DrawFn, *, split: bool) -> Journey:
    """A journey with a lymphodepletion start anywhere from day -40 to day +3 (or the
    default) and, for a split dose, blasts 0-100 %, a reaction, a second infusion on any
    day up to Day 30 (or the default) and sometimes withheld."""
    day0 = draw(DAY0S)
    start = draw(offsets(-40, 3))
    journey = Journey(
        first_infusion=day0,
        weight=draw(weights()),
        bsa=draw(bsas()),
        lymphodepletion_start=None if start is None else day0 + start,
    )
    if not split:
        return journey
    second = draw(second_days())
    return Journey(
        first_infusion=journey.first_infusion,
        weight=journey.weight,
        bsa=journey.bsa,
        lymphodepletion_start=journey.lymphodepletion_start,
        marrow_blasts_percent=draw(st.decimals(min_value=0, max_value=100, places=1)),
        first_dose_reaction=draw(reactions()),
        second_dose_on=None if second is None else day0 + timedelta(days=second - 1),
        second_dose_withheld=draw(st.sampled_from([False, False, False, True])),
    )
