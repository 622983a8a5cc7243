"""Hypothesis strategies for home symptom triage.

Every number is a ``Decimal`` drawn with ``st.decimals(places=...)``, never a float.
Answers are drawn from the shipped symptom list (passed in as ``TriageRules``), so the
properties hold for the rules blina ships; severities respect each symptom's scale
(0-4 or "not sure"; yes/no signs take none), and a "not sure" may carry the follow-up
answer (in the way of daily activities: yes, no, or not answered).
"""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from hypothesis import strategies as st

from blina.domain.body import AgeGroup
from blina.domain.triage.check_in import (
    CheckIn,
    Context,
    SymptomAnswer,
    Temperature,
    TemperatureUnit,
)
from blina.domain.triage.rulebook import TriageRules
from tests.strategies import decimals

NOW = datetime(2026, 12, 10, 9, 30, tzinfo=UTC)
"""The fixed "now" of every property test; check-ins are observed at or before it."""


def temperatures() -> st.SearchStrategy[Temperature]:
    """A plausible temperature: 30-45 C to 0.1 C, or 86-113 F to 0.1 F."""
    return st.one_of(
        decimals("30", "45", places=1).map(lambda v: Temperature(v, TemperatureUnit.C)),
        decimals("86", "113", places=1).map(lambda v: Temperature(v, TemperatureUnit.F)),
    )


def severities(rules: TriageRules, symptom: str) -> st.SearchStrategy[int | None]:
    """A valid severity for ``symptom``: 0-4 or None (not known); None for a yes/no sign."""
    if not rules.symptoms[symptom].has_severity:
        return st.none()
    return st.one_of(st.none(), st.integers(0, rules.max_severity))


def follow_ups() -> st.SearchStrategy[bool | None]:
    """The answer to "Is it getting in the way of daily activities?": yes, no, or none."""
    return st.sampled_from([None, False, True])


@st.composite
def answers(draw: st.DrawFn, rules: TriageRules) -> SymptomAnswer:
    """One answer: any known symptom with a severity valid for it; a "not sure" of a
    graded symptom with a follow-up answer, or none."""
    symptom = draw(st.sampled_from(sorted(rules.symptoms)))
    severity = draw(severities(rules, symptom))
    interferes = None
    if severity is None and rules.symptoms[symptom].has_severity:
        interferes = draw(follow_ups())
    return SymptomAnswer(symptom, severity, interferes)


def answer_lists(
    rules: TriageRules, *, max_size: int = 5
) -> st.SearchStrategy[list[SymptomAnswer]]:
    """Up to ``max_size`` answers; a symptom may repeat (contradictory answers)."""
    return st.lists(answers(rules), max_size=max_size)


@st.composite
def check_ins(
    draw: st.DrawFn, rules: TriageRules, *, at: datetime = NOW, max_size: int = 5
) -> CheckIn:
    """A check-in at ``at``: answers, maybe a temperature, maybe a note."""
    return CheckIn(
        observed_at=at,
        answers=tuple(draw(answer_lists(rules, max_size=max_size))),
        temperature=draw(st.none() | temperatures()),
        free_text=draw(st.sampled_from(["", "since last night"])),
    )


@st.composite
def contexts(draw: st.DrawFn, rules: TriageRules) -> Context:
    """Any course context, each field possibly unknown, with up to two earlier check-ins
    (one of them maybe later than ``NOW``, which triage must leave out)."""
    earlier = st.builds(
        lambda hours, items: CheckIn(NOW - timedelta(hours=hours), tuple(items)),
        st.integers(-2, 72),
        answer_lists(rules, max_size=4),
    )
    return Context(
        cycle_day=draw(st.none() | st.integers(1, 84)),
        infusing=draw(st.sampled_from([None, True, False])),
        days_since_start_or_step_up=draw(st.none() | st.integers(0, 84)),
        age_group=draw(st.none() | st.sampled_from(AgeGroup)),
        recent=tuple(draw(st.lists(earlier, max_size=2))),
        in_hospital=draw(st.sampled_from([None, True, False])),
    )


def red_flags(rules: TriageRules) -> st.SearchStrategy[SymptomAnswer]:
    """A red-flag symptom at any severity other than 0 (none), or "not sure"."""
    flagged = sorted(s.id for s in rules.symptoms.values() if s.red_flag)

    @st.composite
    def build(draw: st.DrawFn) -> SymptomAnswer:
        symptom = draw(st.sampled_from(flagged))
        severity = None
        interferes = None
        if rules.symptoms[symptom].has_severity:
            severity = draw(st.none() | st.integers(1, rules.max_severity))
            if severity is None:
                interferes = draw(follow_ups())
        return SymptomAnswer(symptom, severity, interferes)

    return build()


def celsius_tenths() -> st.SearchStrategy[Decimal]:
    """Temperatures 30.0-45.0 C to 0.1 C: each has an exact Fahrenheit twin (x 9/5 + 32)."""
    return decimals("30", "45", places=1)


@st.composite
def therapy_courses(draw: st.DrawFn, rules: TriageRules) -> tuple[str, int | None]:
    """A therapy the rules know and, for a cell therapy, the days since the cell infusion
    (around its window's edges, or not known); None for the others."""
    therapy = draw(st.sampled_from(sorted(rules.therapies)))
    window = rules.therapies[therapy].window_days
    if window is None:
        return therapy, None
    days = draw(st.none() | st.integers(0, window + 3) | st.integers(0, 400))
    return therapy, days
