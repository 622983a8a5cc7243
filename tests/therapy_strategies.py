"""Hypothesis strategies for a therapy's planning inputs (``TherapyInputs``) as a stored
therapy course keeps them: any value each field's type and bounds allow, not only those
that make a plan (the JSON round trip must keep every one). Every number is a Decimal."""

from decimal import Decimal
from typing import TypeVar

from hypothesis import strategies as st

from blina.domain import bounds
from blina.domain.therapies.cycle_doses import Response, Transplant
from blina.domain.therapies.inputs import TherapyInputs
from tests.strategies import decimals

KEYS = st.from_regex(r"[a-z0-9-]{1,40}", fullmatch=True)
DATES = st.dates(min_value=bounds.EARLIEST_DATE, max_value=bounds.LATEST_DATE)
INTEGERS = st.integers(min_value=bounds.MIN_INTEGER, max_value=bounds.MAX_INTEGER)


T = TypeVar("T")


def _maybe(strategy: st.SearchStrategy[T]) -> st.SearchStrategy[T | None]:
    return st.none() | strategy


def _decimals() -> st.SearchStrategy[Decimal | None]:
    """Exact decimals of 0 to 12 places (trailing zeros kept: 70.50 stays 70.50)."""
    return _maybe(st.integers(0, 12).flatmap(lambda places: decimals("-1e6", "1e6", places=places)))


@st.composite
def therapy_inputs(draw: st.DrawFn) -> TherapyInputs:
    """Inputs with each field given or left at its default, independently."""
    texts = st.text(
        alphabet=st.characters(blacklist_characters="\x00", blacklist_categories=["Cs"]),
        min_size=1,
        max_size=200,
    )
    return TherapyInputs(
        therapy=draw(KEYS),
        bsa_m2=draw(_decimals()),
        weight_kg=draw(_decimals()),
        height_cm=draw(_decimals()),
        age_years=draw(_decimals()),
        start=draw(_maybe(DATES)),
        transplant=draw(_maybe(st.sampled_from(Transplant))),
        responses=tuple(draw(st.lists(st.sampled_from(Response), max_size=12))),
        mrd_negative=draw(_maybe(st.booleans())),
        first_cycle_days=draw(_maybe(INTEGERS)),
        dose_dates=draw(
            st.dictionaries(st.tuples(st.integers(1, 99), st.integers(0, 99)), DATES, max_size=36)
        ),
        blasts_per_mm3=draw(_decimals()),
        host_day1=draw(st.dictionaries(KEYS, DATES, max_size=20)),
        leukapheresis_on=draw(_maybe(DATES)),
        product_ready_on=draw(_maybe(DATES)),
        bridging=draw(_maybe(texts)),
        bridging_start=draw(_maybe(DATES)),
        lymphodepletion_start=draw(_maybe(DATES)),
        marrow_blasts_percent=draw(_decimals()),
        second_dose_on=draw(_maybe(DATES)),
        first_dose_crs_grade=draw(_maybe(INTEGERS)),
        first_dose_icans_grade=draw(_maybe(INTEGERS)),
        second_dose_withheld=draw(st.booleans()),
        stay_near_days=draw(_maybe(INTEGERS)),
        no_driving_days=draw(_maybe(INTEGERS)),
    )
