"""A domain sentence is its English text, and keeps what it was written from."""

import pickle
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from blina.domain.modifications import DoseRule, _dose_text
from blina.domain.sentences import Sentence, Template, duration_words, english
from blina.domain.units import McgPerDay, McgPerM2PerDay

RESTART = Template("Restart at {dose} on {day}: {why}.")
WHY = Template("{span} after the interruption")


def test_a_sentence_is_its_english_text_with_its_template_and_parameters() -> None:
    why = WHY(span=timedelta(days=2, hours=6))
    said = RESTART(dose=McgPerDay(Decimal(9)), day=date(2026, 12, 7), why=why)
    assert said == "Restart at 9 mcg/day on 2026-12-07: 2 days 6 h after the interruption."
    assert isinstance(said, str)
    assert isinstance(said, Sentence)
    assert said.template is RESTART
    assert said.params["why"] is why
    assert said.params["dose"] == McgPerDay(Decimal(9))
    assert said + "" == str(said)  # str operations give plain English text


def test_parameters_in_english() -> None:
    at = datetime(2026, 12, 7, 9, 30, tzinfo=UTC)
    assert english(at) == "2026-12-07T09:30:00+00:00"
    assert english((WHY(span=timedelta(hours=4)), "the rule's step")) == (
        "4 h after the interruption; the rule's step"
    )
    assert english(Decimal("38.0")) == "38.0"
    assert english(3) == "3"


def test_a_template_takes_exactly_its_fields() -> None:
    assert RESTART.fields == {"dose", "day", "why"}
    with pytest.raises(ValueError, match="takes"):
        RESTART(dose="9 mcg/day")
    with pytest.raises(ValueError, match="takes"):
        WHY(span=timedelta(0), extra="x")


@pytest.mark.parametrize("text", ["{0} days", "{dose:.2f}", "{dose!r}", "{dose.value}"])
def test_a_template_field_is_a_plain_name(text: str) -> None:
    with pytest.raises(ValueError, match="plain"):
        Template(text)


def test_a_sentence_survives_a_copy() -> None:
    said = RESTART(dose="9 mcg/day", day=date(2026, 12, 7), why="no recurrence")
    copied = pickle.loads(pickle.dumps(said))
    assert copied == said
    assert copied.template == RESTART
    assert dict(copied.params) == dict(said.params)


@given(st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=400)))
def test_a_duration_in_words_adds_up_to_its_minutes(span: timedelta) -> None:
    words = duration_words(span).split()
    minutes = 0
    for figure, unit in zip(words[::2], words[1::2], strict=True):
        minutes += int(figure) * {"day": 1440, "days": 1440, "h": 60, "min": 1}[unit]
    assert minutes == int(span.total_seconds() // 60)


def test_a_restart_step_is_written_with_its_cap_when_it_has_one() -> None:
    """The dose a stricter rule or a child's step names: fixed, per m2 at most a cap, or
    per m2 alone."""
    per_m2 = McgPerM2PerDay(Decimal(5))
    fixed = McgPerDay(Decimal(9))
    assert english(_dose_text(DoseRule(fixed, None, None))) == "9 mcg/day"
    said = english(_dose_text(DoseRule(None, per_m2, fixed)))
    assert said == "5 mcg/m2/day (at most 9 mcg/day)"
    assert english(_dose_text(DoseRule(None, per_m2, None))) == "5 mcg/m2/day"
