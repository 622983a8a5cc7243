"""The bounds of every number, date and text from outside (issue 16, items 3 and 10):
each value either reads as an in-range value or is refused with ``InvalidInput``,
never another exception, never a stall."""

from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta, timezone
from decimal import Decimal
from typing import TypeVar

import pytest
from hypothesis import given
from hypothesis import strategies as st

from blina.domain import bounds
from blina.domain.errors import InvalidInput

# Digits that Python's int() and Decimal() read (or trip on) but a number here never has.
FOREIGN_DIGITS = [
    "\N{SUPERSCRIPT TWO}",
    "\N{SUPERSCRIPT ONE}",
    "\N{ARABIC-INDIC DIGIT THREE}",
    "\N{FULLWIDTH DIGIT THREE}",
    "\N{DEVANAGARI DIGIT ZERO}",
    "\N{BENGALI DIGIT ONE}",
    "\N{NKO DIGIT THREE}",
    "\N{MATHEMATICAL BOLD DIGIT FIVE}",
]
FULLWIDTH_2026 = "\N{FULLWIDTH DIGIT TWO}\N{FULLWIDTH DIGIT ZERO}\N{FULLWIDTH DIGIT TWO}6"


# --- decimals -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("70", Decimal(70)),
        (" 70.5 ", Decimal("70.5")),
        ("-1.25", Decimal("-1.25")),
        ("+5", Decimal(5)),
        (".5", Decimal("0.5")),
        ("5.", Decimal(5)),
        ("1e3", Decimal(1000)),
        ("0.000000000001", Decimal("1E-12")),
        ("999999999999.999999999999", Decimal("999999999999.999999999999")),
        ("-999999999999", Decimal(-999999999999)),
    ],
)
def test_a_number_in_range_is_read_exactly(text: str, value: Decimal) -> None:
    read = bounds.parse_decimal("dose", text)
    assert read == value
    assert read.as_tuple() == Decimal(text.strip()).as_tuple()


@pytest.mark.parametrize(
    "text",
    [
        "1e999999",  # the 47-second request (finding 3)
        "1e-999999",
        "1E+12",
        "1000000000000",
        "-1000000000000",
        "0.0000000000001",
        "1.0000000000000",  # 13 places, even as trailing zeros
        "0e12",
        "1e99999999999999999999999999",  # beyond the decimal context: InvalidOperation
    ],
)
def test_a_number_out_of_range_is_refused_naming_the_range(text: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        bounds.parse_decimal("dose_mcg_per_day", text)
    assert caught.value.field == "dose_mcg_per_day"
    assert caught.value.allowed == (
        "a finite number smaller than 1000000000000 in size, with at most 12 decimal places"
    )


@pytest.mark.parametrize(
    "text",
    [
        *FOREIGN_DIGITS,
        "7\N{SUPERSCRIPT TWO}",
        "1_000",
        "NaN",
        "Infinity",
        "-inf",
        "",
        "  ",
        "1e",
        "e5",
        "1.2.3",
        "--1",
        "70 kg",
        "0x10",
        "1" * 41,
        "\x00",
        "7\x00",
    ],
)
def test_text_that_is_no_ascii_number_is_refused(text: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        bounds.parse_decimal("temperature", text)
    assert caught.value.field == "temperature"
    assert caught.value.allowed == "a number written with the digits 0-9, such as 70 or 70.5"
    assert "\x00" not in str(caught.value)


@pytest.mark.parametrize("value", ["NaN", "sNaN", "Infinity", "-Infinity", "1E+12", "1E-13"])
def test_a_decimal_out_of_range_is_refused(value: str) -> None:
    with pytest.raises(InvalidInput, match="finite number smaller than 1000000000000"):
        bounds.check_decimal("volume_ml", Decimal(value))


def test_a_decimal_in_range_is_kept_as_it_is() -> None:
    value = Decimal("250.000")
    assert bounds.check_decimal("volume_ml", value) is value


# --- whole numbers --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "value"),
    [("24", 24), (" -3 ", -3), ("+7", 7), ("0007", 7), ("2147483647", 2**31 - 1)],
)
def test_a_whole_number_in_range_is_read(text: str, value: int) -> None:
    assert bounds.parse_integer("bag_hours", text) == value


@pytest.mark.parametrize("text", ["2147483648", "-2147483649", "9223372036854775808"])
def test_a_whole_number_beyond_an_integer_column_is_refused(text: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        bounds.parse_integer("cycles", text)
    assert caught.value.allowed == "a whole number from -2147483648 to 2147483647"


@pytest.mark.parametrize("text", [*FOREIGN_DIGITS, "2.0", "1e3", "", "x", "9" * 41, "1 000"])
def test_text_that_is_no_ascii_whole_number_is_refused(text: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        bounds.parse_integer("ice_score", text, low=0, high=10)
    assert caught.value.allowed == "a whole number from 0 to 10, written with the digits 0-9"


def test_a_whole_number_is_checked_against_the_bounds_given() -> None:
    assert bounds.check_integer("grade", 4, low=1, high=4) == 4
    with pytest.raises(InvalidInput, match="grade 0 is not allowed: must be a whole number"):
        bounds.check_integer("grade", 0, low=1, high=4)
    assert bounds.integer_allowed() == "a whole number from -2147483648 to 2147483647"


# --- dates and times ------------------------------------------------------------------------


def test_the_date_window_is_1900_to_2200() -> None:
    assert date(1900, 1, 1) == bounds.EARLIEST_DATE
    assert date(2200, 12, 31) == bounds.LATEST_DATE
    assert date(2000, 1, 1) == bounds.EARLIEST_OBSERVATION
    assert bounds.parse_date("start", " 1900-01-01 ") == date(1900, 1, 1)
    assert bounds.parse_date("start", "2200-12-31") == date(2200, 12, 31)


@pytest.mark.parametrize("text", ["0001-01-01", "1899-12-31", "2201-01-01", "9999-12-31"])
def test_a_date_outside_the_window_is_refused(text: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        bounds.parse_date("start", text)
    assert caught.value.value == text
    assert caught.value.allowed == "a date from 1900-01-01 to 2200-12-31"


@pytest.mark.parametrize(
    "text",
    [
        "2026-02-30",
        "tomorrow",
        "",
        f"{FULLWIDTH_2026}-12-10",
        "2026-12-1\N{ARABIC-INDIC DIGIT ZERO}",
        "2026-12-10" * 5,
    ],
)
def test_text_that_is_no_date_is_refused(text: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        bounds.parse_date("start", text)
    assert caught.value.allowed == "a date (YYYY-MM-DD) from 1900-01-01 to 2200-12-31"


def test_a_date_is_checked_against_the_window_given() -> None:
    day = date(1999, 12, 31)
    assert bounds.check_date("day", day) is day
    with pytest.raises(InvalidInput, match="must be a date from 2000-01-01 to 2200-12-31"):
        bounds.check_date("day", day, earliest=bounds.EARLIEST_OBSERVATION)


@pytest.mark.parametrize(
    ("text", "moment"),
    [
        ("2026-12-10T08:00", datetime(2026, 12, 10, 8, 0)),  # noqa: DTZ001 (naive is read as naive)
        ("2026-12-10T08:00:00Z", datetime(2026, 12, 10, 8, 0, tzinfo=UTC)),
        (
            "1900-01-01T00:00-12:00",
            datetime(1900, 1, 1, tzinfo=timezone(-timedelta(hours=12))),
        ),
        (
            "2200-12-31T23:59:59.999999+14:00",
            datetime(2200, 12, 31, 23, 59, 59, 999999, tzinfo=timezone(timedelta(hours=14))),
        ),
    ],
)
def test_a_date_and_time_in_the_window_is_read(text: str, moment: datetime) -> None:
    assert bounds.parse_moment("at", text) == moment


@pytest.mark.parametrize(
    "text", ["0001-01-01T00:00:00+00:00", "1899-12-31T23:59-01:00", "9999-12-31T23:59:59-05:00"]
)
def test_a_date_and_time_outside_the_window_is_refused(text: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        bounds.parse_moment("observed_at", text)
    assert caught.value.allowed == "a date and time from 1900-01-01 to 2200-12-31"


@pytest.mark.parametrize("text", ["2026-12-10 at 8", "", f"{FULLWIDTH_2026}-12-10T08:00", "9" * 41])
def test_text_that_is_no_date_and_time_is_refused(text: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        bounds.parse_moment("at", text)
    assert caught.value.allowed == "a date and time (ISO 8601) from 1900-01-01 to 2200-12-31"


def test_a_check_in_is_observed_in_this_century() -> None:
    moment = datetime(2000, 1, 1, tzinfo=UTC)
    assert bounds.check_moment("observed_at", moment, earliest=bounds.EARLIEST_OBSERVATION) == (
        moment
    )
    with pytest.raises(InvalidInput, match="must be a date and time from 2000-01-01"):
        bounds.check_moment(
            "observed_at", datetime(1, 1, 1, tzinfo=UTC), earliest=bounds.EARLIEST_OBSERVATION
        )


@pytest.mark.parametrize(("text", "clock"), [("09:00", time(9)), (" 23:59:59 ", time(23, 59, 59))])
def test_a_clock_time_is_read(text: str, clock: time) -> None:
    assert bounds.parse_time("start_time", text) == clock


@pytest.mark.parametrize("text", ["25:00", "9h", "\N{FULLWIDTH DIGIT ZERO}9:00", "", "1" * 41])
def test_text_that_is_no_clock_time_is_refused(text: str) -> None:
    with pytest.raises(InvalidInput, match="must be a clock time, HH:MM"):
        bounds.parse_time("start_time", text)


# --- text -----------------------------------------------------------------------------------


def test_text_with_a_nul_is_refused_and_shown_without_it() -> None:
    assert bounds.check_text("note", "fine, thanks") == "fine, thanks"
    with pytest.raises(InvalidInput) as caught:
        bounds.check_text("username", "dr.lee\x00")
    assert caught.value.field == "username"
    assert caught.value.value == "dr.lee\\x00"
    assert caught.value.allowed == "text without NUL (0x00) characters"


def test_a_long_refused_value_is_shown_cut() -> None:
    with pytest.raises(InvalidInput) as caught:
        bounds.parse_decimal("dose", "1" * 100_000 + "x")
    assert caught.value.value == "1" * bounds.MAX_NUMBER_TEXT + "..."


# --- properties: any text is an in-range value or InvalidInput, nothing else ------------------

# Text that looks like numbers and dates (so the generator reaches the range checks), and
# any text at all (Unicode digits, NUL and the rest).
_NUMBERISH = st.from_regex(
    r"\A\s?[+-]?[0-9\u00b2\u0663\uff13]{0,30}(\.[0-9]{0,30})?([eE][+-]?[0-9]{1,30})?\s?\Z"
)
_DATEISH = st.from_regex(
    r"\A[0-9\u0663]{4}-[0-9]{2}-[0-9]{2}(T[0-9]{2}:[0-9]{2}(:[0-9]{2})?(Z|[+-][0-9]{2}:[0-9]{2})?)?\Z"
)
_ANY = st.one_of(st.text(), _NUMBERISH, _DATEISH)


def _in_range(value: Decimal) -> bool:
    exponent = value.as_tuple().exponent
    return (
        value.is_finite()
        and isinstance(exponent, int)
        and exponent >= -bounds.MAX_DECIMAL_PLACES
        and abs(value) < 10**bounds.MAX_MAGNITUDE
    )


_T = TypeVar("_T")


def _read(parse: Callable[[str, str], _T], text: str) -> _T | None:
    """What ``parse`` reads in ``text``, or None when it refuses it as bad input; any
    other exception fails the test."""
    try:
        return parse("value", text)
    except InvalidInput:
        return None


@given(_ANY)
def test_any_text_is_a_bounded_decimal_or_refused(text: str) -> None:
    value = _read(bounds.parse_decimal, text)
    assert value is None or (_in_range(value) and text.strip().isascii())


@given(_ANY)
def test_any_text_is_a_bounded_whole_number_or_refused(text: str) -> None:
    value = _read(bounds.parse_integer, text)
    assert value is None or bounds.MIN_INTEGER <= value <= bounds.MAX_INTEGER
    assert value is None or text.strip().isascii()


@given(_ANY)
def test_any_text_is_a_date_in_the_window_or_refused(text: str) -> None:
    day = _read(bounds.parse_date, text)
    assert day is None or bounds.EARLIEST_DATE <= day <= bounds.LATEST_DATE


@given(_ANY)
def test_any_text_is_a_date_and_time_in_the_window_or_refused(text: str) -> None:
    at = _read(bounds.parse_moment, text)
    if at is not None:
        assert bounds.EARLIEST_DATE <= at.date() <= bounds.LATEST_DATE
        # far enough from the calendar's ends to convert to any zone
        at.replace(tzinfo=at.tzinfo or UTC).astimezone(UTC)


@given(_ANY)
def test_any_text_is_a_clock_time_or_refused(text: str) -> None:
    _read(bounds.parse_time, text)


@given(st.text())
def test_any_text_without_nul_is_kept(text: str) -> None:
    assert _read(bounds.check_text, text) == (None if "\x00" in text else text)


@given(
    st.decimals(
        min_value=-(10**bounds.MAX_MAGNITUDE) + 1,
        max_value=10**bounds.MAX_MAGNITUDE - 1,
        places=bounds.MAX_DECIMAL_PLACES,
        allow_nan=False,
        allow_infinity=False,
    )
)
def test_every_decimal_in_range_reads_back_from_its_text(value: Decimal) -> None:
    assert bounds.parse_decimal("value", str(value)) == value
