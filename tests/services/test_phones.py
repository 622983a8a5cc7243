"""Phone numbers as blina keeps them (``services.phones.check_phone``): any number kept has
at least ``PHONE_MIN_DIGITS`` digits and at most ``PHONE_MAX`` characters of those a
phone number holds; anything else is refused naming the field, and empty is none."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from blina.domain.errors import InvalidInput
from blina.services.phones import PHONE_MAX, PHONE_MIN_DIGITS, check_phone, dialable
from tests.phone_strategies import PHONE_CHARACTERS, any_text, phone_like

_ASCII_DIGITS = set("0123456789")


@given(given_text=any_text(), field=st.sampled_from(["phone", "body.phone"]))
def test_a_kept_number_is_dialable_and_a_refused_one_names_its_field(
    given_text: str, field: str
) -> None:
    refused: InvalidInput | None = None
    kept: str | None = None
    try:
        kept = check_phone(field, given_text)
    except InvalidInput as refusal:
        refused = refusal
    if refused is not None:
        assert refused.field == field
        assert refused.value == given_text
        assert str(refused).startswith(f"{field} ")
        assert f"at most {PHONE_MAX} characters" in refused.allowed
        assert f"at least {PHONE_MIN_DIGITS} digits" in refused.allowed
        return
    if kept is None:
        assert given_text.strip() == ""
        return
    assert kept == given_text.strip()
    assert len(kept) <= PHONE_MAX
    assert sum(c in _ASCII_DIGITS for c in kept) >= PHONE_MIN_DIGITS
    assert set(kept) <= set(PHONE_CHARACTERS)


@given(given_text=phone_like())
def test_phone_like_text_is_kept_exactly_when_its_length_and_digits_allow(
    given_text: str,
) -> None:
    text = given_text.strip()
    allowed = text == "" or (
        len(text) <= PHONE_MAX and sum(c in _ASCII_DIGITS for c in text) >= PHONE_MIN_DIGITS
    )
    if allowed:
        assert check_phone("phone", given_text) == (text or None)
    else:
        with pytest.raises(InvalidInput):
            check_phone("phone", given_text)


@pytest.mark.parametrize("empty", [None, "", "   ", "\t"])
def test_empty_is_no_number(empty: str | None) -> None:
    assert check_phone("phone", empty) is None


@pytest.mark.parametrize(
    ("given_text", "kept"),
    [
        ("+1 555 0101", "+1 555 0101"),
        ("(555) 010-0102", "(555) 010-0102"),
        ("555.010.0103", "555.010.0103"),
        ("123456", "123456"),
        (" +34 600 000 000 ", "+34 600 000 000"),
        ("+" + "1" * (PHONE_MAX - 1), "+" + "1" * (PHONE_MAX - 1)),
    ],
    ids=["us", "brackets", "dots", "six-digits", "padded", "longest"],
)
def test_numbers_as_people_write_them_are_kept_as_written(given_text: str, kept: str) -> None:
    assert check_phone("phone", given_text) == kept


@pytest.mark.parametrize(
    "given_text",
    [
        "12345",
        "+1 (2) 3-4.5",
        "1" * (PHONE_MAX + 1),
        "555 0101 ext 2",
        "+1/555/0101",
        "٠١٢٣٤٥٦",
        "+1 555\x000101",
    ],
    ids=[
        "five-digits",
        "five-with-marks",
        "too-long",
        "extension",
        "slashes",
        "arabic-indic",
        "nul",
    ],
)
def test_what_no_phone_dials_is_refused(given_text: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        check_phone("phone", given_text)
    assert refused.value.field == "phone"


@pytest.mark.parametrize(
    ("phone", "dialled"),
    [
        ("+1 555 0101", "+15550101"),
        ("(555) 010-0102", "5550100102"),
        ("555.010.0103", "5550100103"),
    ],
)
def test_a_tel_link_keeps_the_plus_and_the_digits(phone: str, dialled: str) -> None:
    assert dialable(phone) == dialled


@given(given_text=phone_like())
def test_a_kept_number_dials_its_own_digits(given_text: str) -> None:
    try:
        kept = check_phone("phone", given_text)
    except InvalidInput:
        return
    if kept is not None:
        dialled = dialable(kept)
        assert dialled.lstrip("+") == "".join(c for c in kept if c.isdigit())
        assert dialled.startswith("+") == kept.startswith("+")
