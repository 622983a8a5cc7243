"""triage(): a table of vignettes from the reference and the seeds, then every rule of the
function itself (history, notes, instructions, the JSON form, bad input).

Each vignette names where it comes from: toxicity-and-triage.md (§5.1 UKONS and the
temperature cards, §5.2 PRO-CTCAE, §6.1 tiers A-D, §6.2 pump and line) or a seed
(seed-facts.md §6.2). Temperatures are tried just below, at and just above every
threshold, in C and in F.
"""

import dataclasses
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from blina.domain.body import AgeGroup
from blina.domain.errors import InvalidInput
from blina.domain.triage.check_in import (
    CheckIn,
    Context,
    SymptomAnswer,
    Temperature,
    TemperatureUnit,
)
from blina.domain.triage.engine import triage
from blina.domain.triage.result import Triage
from blina.domain.triage.rulebook import TriageRules
from blina.domain.triage.rules import (
    Compare,
    Guidance,
    History,
    Instruction,
    SymptomRule,
    TemperatureRule,
    TriageLevel,
)
from blina.knowledge import Knowledge

NOW = datetime(2026, 12, 10, 9, 30, tzinfo=UTC)
EARLIER = NOW - timedelta(hours=20)
OUTSIDE_EARLY_WINDOW = 20
"""Days since a start or step-up, past the shipped early-course window (7 days)."""

E = TriageLevel.EMERGENCY
CALL = TriageLevel.CALL_NOW
SAME = TriageLevel.SAME_DAY
ROUTINE = TriageLevel.ROUTINE


@pytest.fixture(scope="module")
def rules(knowledge: Knowledge) -> TriageRules:
    return knowledge.triage


def _answers(items: tuple[str, ...]) -> tuple[SymptomAnswer, ...]:
    """``"name:2"``; ``"name"`` not sure (or a yes/no sign); ``"name:?+"`` / ``"name:?-"``
    not sure, and the follow-up answered yes / no."""
    answers = []
    for item in items:
        name, _, severity = item.partition(":")
        if severity.startswith("?"):
            answers.append(SymptomAnswer(name, None, severity == "?+"))
        else:
            answers.append(SymptomAnswer(name, int(severity) if severity else None))
    return tuple(answers)


def _temperature(text: str | None) -> Temperature | None:
    if text is None:
        return None
    value, unit = text.split()
    return Temperature(Decimal(value), TemperatureUnit(unit))


@dataclass(frozen=True)
class Vignette:
    """A check-in and its expected level; ``fires`` / ``absent`` pin rule ids. The course
    is past the early-course window unless ``days_since`` says otherwise (None: unknown,
    which counts as inside it)."""

    expected: TriageLevel
    symptoms: tuple[str, ...] = ()
    temp: str | None = None
    previous: tuple[str, ...] | None = None
    infusing: bool | None = None
    age_group: AgeGroup | None = None
    days_since: int | None = OUTSIDE_EARLY_WINDOW
    in_hospital: bool | None = None
    fires: tuple[str, ...] = ()
    absent: tuple[str, ...] = ()

    def run(self, rules: TriageRules) -> Triage:
        recent = () if self.previous is None else (CheckIn(EARLIER, _answers(self.previous)),)
        context = Context(
            infusing=self.infusing,
            age_group=self.age_group,
            days_since_start_or_step_up=self.days_since,
            recent=recent,
            in_hospital=self.in_hospital,
        )
        check_in = CheckIn(NOW, _answers(self.symptoms), _temperature(self.temp))
        return triage(check_in, context, rules, now=NOW)


def v(expected: TriageLevel, *symptoms: str, **kw: object) -> Vignette:
    return Vignette(expected, symptoms, **kw)  # type: ignore[arg-type]


VIGNETTES: dict[str, Vignette] = {
    # --- temperature, in C: §5.1 (37.5 / 36.0 cards; 38 C), §3.2 (CTCAE fever > 40.0) ---
    "temp-c-36.9-normal": v(ROUTINE, temp="36.9 C", fires=("no-warning-sign",)),
    "temp-c-37.5-at-raised-threshold": v(ROUTINE, temp="37.5 C", absent=("temperature-raised",)),
    "temp-c-37.6-above-raised": v(CALL, temp="37.6 C", fires=("temperature-raised",)),
    "temp-c-37.9-below-fever": v(CALL, temp="37.9 C", absent=("temperature-fever",)),
    "temp-c-38.0-at-fever": v(CALL, temp="38.0 C", fires=("temperature-fever",)),
    "temp-c-38.1-above-fever": v(CALL, temp="38.1 C", fires=("temperature-fever",)),
    "temp-c-39.9-high-fever": v(CALL, temp="39.9 C"),
    "temp-c-40.0-at-severe-threshold": v(CALL, temp="40.0 C", absent=("temperature-very-high",)),
    # issue 15 item 16: a severe fever is call-now to the care team, not emergency services
    "temp-c-40.1-above-severe": v(CALL, temp="40.1 C", fires=("temperature-very-high",)),
    "temp-c-45-highest-plausible": v(CALL, temp="45 C"),
    "temp-c-36.1-above-low": v(ROUTINE, temp="36.1 C"),
    "temp-c-36.0-at-low-threshold": v(ROUTINE, temp="36.0 C", absent=("temperature-low",)),
    "temp-c-35.9-below-low": v(CALL, temp="35.9 C", fires=("temperature-low",)),
    "temp-c-30-lowest-plausible": v(CALL, temp="30 C", fires=("temperature-low",)),
    # --- temperature, in F (converted exactly, (F - 32) x 5 / 9) -------------------------
    "temp-f-99.4-below-raised": v(ROUTINE, temp="99.4 F"),
    "temp-f-99.5-at-raised-threshold": v(ROUTINE, temp="99.5 F"),
    "temp-f-99.6-above-raised": v(CALL, temp="99.6 F", fires=("temperature-raised",)),
    "temp-f-100.3-just-below-fever": v(CALL, temp="100.3 F", absent=("temperature-fever",)),
    "temp-f-100.4-at-fever": v(CALL, temp="100.4 F", fires=("temperature-fever",)),
    "temp-f-100.5-above-fever": v(CALL, temp="100.5 F", fires=("temperature-fever",)),
    "temp-f-103.9-below-severe": v(CALL, temp="103.9 F"),
    "temp-f-104.0-at-severe-threshold": v(CALL, temp="104.0 F"),
    "temp-f-104.1-above-severe": v(CALL, temp="104.1 F", fires=("temperature-very-high",)),
    "temp-f-96.9-above-low": v(ROUTINE, temp="96.9 F"),
    "temp-f-96.8-at-low-threshold": v(ROUTINE, temp="96.8 F"),
    "temp-f-96.7-below-low": v(CALL, temp="96.7 F", fires=("temperature-low",)),
    "temp-f-86-lowest-plausible": v(CALL, temp="86 F"),
    "temp-f-113-highest-plausible": v(CALL, temp="113 F"),
    # --- tier A, neurologic (MedGuide; seed 002 warnings); §2.2 any seizure ----------------
    "seizure": v(E, "seizure", fires=("seizure",)),
    "fainting-is-collapse": v(E, "fainting", fires=("collapse",)),
    "hard-to-wake-is-collapse": v(E, "hard-to-wake", fires=("collapse",)),
    "confusion-mild": v(CALL, "confusion:1", fires=("neuro-signs",)),
    # issue 15 item 16: severe, but not on the UKONS emergency list: call the team now
    "confusion-severe": v(CALL, "confusion:3", fires=("severe-right-away-sign",)),
    "confusion-not-sure-is-not-emergency": v(CALL, "confusion", fires=("neuro-signs",)),
    "confusion-persisting-still-call-now": v(
        CALL, "confusion:2", previous=("confusion:2",), fires=("neuro-signs",)
    ),
    "trouble-speaking": v(CALL, "trouble-speaking"),
    "loss-of-balance-moderate": v(CALL, "loss-of-balance:2"),
    "loss-of-balance-very-severe": v(CALL, "loss-of-balance:4"),
    "hallucinations": v(CALL, "hallucinations", fires=("neuro-signs-broader",)),
    "trouble-sleeping-seed-002": v(CALL, "trouble-sleeping:1", fires=("neuro-signs-more",)),
    "vision-changes": v(CALL, "vision-changes:1"),
    # --- tier A, CRS / infusion reaction ----------------------------------------------------
    "dizziness-mild": v(CALL, "dizziness:1", fires=("crs-signs",)),
    "face-swelling": v(CALL, "face-swelling:2"),
    "trouble-breathing-moderate": v(CALL, "trouble-breathing:2"),
    "trouble-breathing-severe-is-breathing-compromise": v(
        E, "trouble-breathing:3", fires=("airway-or-breathing",)
    ),
    "trouble-breathing-not-sure-is-not-emergency": v(CALL, "trouble-breathing"),
    "trouble-breathing-not-sure-gets-in-the-way": v(
        E, "trouble-breathing:?+", fires=("airway-or-breathing",)
    ),
    "fever-felt-no-thermometer": v(CALL, "fever", fires=("fever",)),
    "fever-felt-thermometer-normal-still-call-now": v(CALL, "fever", temp="36.8 C"),
    # --- common side effects (issue 15 item 15; §5.3 Basch, §5.1 UKONS) --------------------
    "nausea-new-mild": v(ROUTINE, "nausea:1", fires=("new-mild-side-effect",)),
    "nausea-new-moderate": v(SAME, "nausea:2", fires=("new-or-worse-side-effect",)),
    "nausea-new-mild-early-after-start": v(
        SAME, "nausea:1", days_since=2, fires=("early-in-cycle-mild",), absent=("early-in-cycle",)
    ),
    "nausea-new-mild-early-course-day-unknown": v(
        SAME, "nausea:1", days_since=None, fires=("early-in-cycle-mild",)
    ),
    "nausea-new-moderate-early-after-start": v(
        CALL, "nausea:2", days_since=2, fires=("early-in-cycle",), absent=("early-in-cycle-mild",)
    ),
    "nausea-new-not-sure-early-after-start": v(
        CALL, "nausea", days_since=2, fires=("early-in-cycle",)
    ),
    "nausea-persisting-early-after-start": v(
        ROUTINE, "nausea:2", previous=("nausea:2",), days_since=1, absent=("early-in-cycle",)
    ),
    "nausea-persisting-moderate": v(
        ROUTINE, "nausea:2", previous=("nausea:2",), fires=("persisting-side-effect",)
    ),
    "nausea-better-than-before": v(ROUTINE, "nausea:1", previous=("nausea:3",)),
    "nausea-slightly-worse": v(
        SAME, "nausea:2", previous=("nausea:1",), absent=("side-effect-rose",)
    ),
    "nausea-worse-by-two-from-none": v(
        CALL, "nausea:2", previous=("nausea:0",), fires=("side-effect-rose",)
    ),
    "nausea-worse-by-two-to-severe": v(
        CALL, "nausea:3", previous=("nausea:1",), fires=("side-effect-rose", "severe-side-effect")
    ),
    "nausea-after-none-is-new": v(ROUTINE, "nausea:1", previous=("nausea:0",)),
    "nausea-not-sure-counts-moderate": v(SAME, "nausea", fires=("new-or-worse-side-effect",)),
    "nausea-not-sure-follow-up-no": v(SAME, "nausea:?-"),
    "nausea-not-sure-gets-in-the-way-counts-severe": v(
        CALL, "nausea:?+", fires=("severe-side-effect",)
    ),
    "nausea-previous-not-sure-counts-moderate": v(ROUTINE, "nausea:2", previous=("nausea",)),
    "nausea-severe-persisting": v(CALL, "nausea:3", previous=("nausea:3",)),
    "nausea-none": v(ROUTINE, "nausea:0", fires=("no-warning-sign",)),
    "vomiting-persisting-mild": v(ROUTINE, "vomiting:1", previous=("vomiting:1",)),
    "vomiting-persisting-moderate-same-day": v(
        SAME, "vomiting:2", previous=("vomiting:2",), fires=("persisting-vomiting-diarrhoea",)
    ),
    "diarrhea-persisting-moderate-same-day": v(
        SAME, "diarrhea:2", previous=("diarrhea:2",), fires=("persisting-vomiting-diarrhoea",)
    ),
    "vomiting-severe-call-now": v(CALL, "vomiting:3", fires=("severe-side-effect",)),
    "diarrhea-very-severe-alike": v(CALL, "diarrhea:4", fires=("severe-side-effect",)),
    "diarrhea-severe-not-tier-a": v(
        CALL, "diarrhea:3", previous=("diarrhea:3",), fires=("severe-side-effect",)
    ),
    "constipation-new-mild": v(ROUTINE, "constipation:1"),
    "constipation-persisting": v(ROUTINE, "constipation:1", previous=("constipation:2",)),
    "weight-gain-new": v(SAME, "weight-gain", fires=("new-side-effect-sign",)),
    "weight-gain-persisting": v(ROUTINE, "weight-gain", previous=("weight-gain",)),
    "mouth-sores-persisting": v(ROUTINE, "mouth-sores:2", previous=("mouth-sores:2",)),
    "tremor-persisting": v(ROUTINE, "tremor:1", previous=("tremor:1",)),
    "tremor-not-sure-is-not-emergency": v(SAME, "tremor"),
    "tremor-severe": v(CALL, "tremor:3", previous=("tremor:3",)),
    "tiredness-very-severe": v(CALL, "tiredness:4"),
    "tiredness-not-sure-is-not-emergency": v(SAME, "tiredness"),
    "headache-not-sure-is-not-emergency": v(SAME, "headache"),
    "chills-persisting-normal-temperature": v(
        ROUTINE, "chills:2", temp="37.0 C", previous=("chills:2",)
    ),
    "back-pain-severe-tier-a": v(CALL, "back-pain:3", previous=("back-pain:3",)),
    "stomach-pain-severe-pancreatitis": v(
        CALL, "stomach-pain:3", previous=("stomach-pain:3",), fires=("pancreatitis-signs",)
    ),
    # --- tier C (call the clinic today); UKONS: > 1 amber ----------------------------------
    "headache-persisting-moderate-next-visit": v(
        ROUTINE, "headache:2", previous=("headache:2",), fires=("persisting-side-effect",)
    ),
    "headache-very-severe": v(CALL, "headache:4"),
    "rash-persisting-mild": v(ROUTINE, "rash:1", previous=("rash:1",)),
    "swelling-new-moderate": v(SAME, "swelling:2"),
    "swelling-severe-persisting": v(CALL, "swelling:3", previous=("swelling:3",)),
    "memory-loss-new": v(CALL, "memory-loss"),
    "memory-loss-persisting": v(
        SAME, "memory-loss", previous=("memory-loss",), fires=("persisting-call-clinic",)
    ),
    "two-same-day-signs-escalate": v(
        CALL,
        "rash:2",
        "headache:2",
        previous=("rash:1", "headache:1"),
        fires=("more-than-one-same-day",),
    ),
    "one-same-day-one-routine-no-escalation": v(
        SAME,
        "vomiting:2",
        "nausea:1",
        previous=("vomiting:2", "nausea:1"),
        absent=("more-than-one-same-day",),
    ),
    # --- tier B and UKONS override: emergency services -------------------------------------
    "trouble-breathing-with-hives": v(
        E, "trouble-breathing:1", "hives:1", fires=("allergic-with-breathing",)
    ),
    "wheezing-with-rash": v(E, "wheezing:1", "rash:1", fires=("allergic-with-breathing",)),
    "throat-tightness-with-lip-swelling": v(E, "throat-tightness:2", "mouth-throat-swelling:1"),
    "throat-tightness-severe-airway": v(E, "throat-tightness:3", fires=("airway-or-breathing",)),
    "lip-swelling-very-severe-airway": v(E, "mouth-throat-swelling:4"),
    "hives-alone": v(CALL, "hives:1", fires=("allergic-signs",)),
    "lip-swelling-alone": v(CALL, "mouth-throat-swelling:1"),
    "chest-pain-moderate": v(CALL, "chest-pain:2", fires=("heart-chest-signs",)),
    "chest-pain-not-sure-is-not-emergency": v(CALL, "chest-pain", absent=("severe-chest-pain",)),
    "chest-pain-severe": v(E, "chest-pain:3", fires=("severe-chest-pain",)),
    "bleeding-mild": v(CALL, "bleeding:1", fires=("blood-signs",)),
    "bleeding-severe": v(E, "bleeding:3", fires=("severe-bleeding",)),
    # --- seed 002: call now at any time ------------------------------------------------------
    "cough-infection-sign": v(CALL, "cough:1", fires=("infection-signs",)),
    "cough-not-sure-is-not-emergency": v(CALL, "cough"),
    "painful-urination": v(CALL, "painful-urination:2"),
    "sore-throat-persisting-still-call-now": v(CALL, "sore-throat:2", previous=("sore-throat:2",)),
    "suicidal-thoughts": v(CALL, "suicidal-thoughts", fires=("mood-changes", "self-harm-thoughts")),
    "self-harm-immediate-danger": v(E, "self-harm-danger", fires=("self-harm-danger",)),
    "depression-moderate": v(CALL, "depression:2"),
    "trouble-passing-urine-tls": v(CALL, "trouble-passing-urine:1", fires=("tls-signs",)),
    "yellow-skin-eyes": v(CALL, "yellow-skin-eyes", fires=("skin-urine-signs",)),
    "abnormal-heartbeat": v(CALL, "abnormal-heartbeat"),
    # --- pump and line: §6.2, seed 002 -------------------------------------------------------
    "pump-alarm-while-infusing": v(
        CALL, "pump-alarm", infusing=True, fires=("pump-or-line-problem",)
    ),
    "pump-alarm-course-says-not-infusing": v(CALL, "pump-alarm", infusing=False),
    "pump-stopped": v(CALL, "pump-stopped", infusing=True),
    "line-leak": v(CALL, "line-leak"),
    "line-disconnected": v(CALL, "line-disconnected"),
    "bag-empty-early": v(CALL, "bag-empty-early"),
    "dressing-problem-persisting": v(CALL, "dressing-problem", previous=("dressing-problem",)),
    "pump-stopped-and-fever": v(CALL, "pump-stopped", temp="38.5 C"),
    # --- feeling unwell, anything else, nothing ---------------------------------------------
    "very-unwell-without-fever": v(
        CALL, "feeling-very-unwell", temp="36.5 C", fires=("feeling-very-unwell",)
    ),
    "other-new-or-worse": v(CALL, "other-new-or-worse"),
    "nothing-reported": v(ROUTINE, fires=("no-warning-sign",)),
    # --- course context never lowers the level -----------------------------------------------
    "child-persisting-nausea": v(
        ROUTINE, "nausea:2", previous=("nausea:2",), age_group=AgeGroup.PEDIATRIC
    ),
    "in-hospital-seizure-still-emergency": v(E, "seizure", in_hospital=True),
    "seizure-and-pump-alarm": v(E, "seizure", "pump-alarm", infusing=True),
    "persisting-nausea-and-fever": v(CALL, "nausea:2", temp="38.2 C", previous=("nausea:2",)),
}


@pytest.mark.parametrize("vignette", VIGNETTES.values(), ids=VIGNETTES.keys())
def test_triage_vignette_gives_expected_level(rules: TriageRules, vignette: Vignette) -> None:
    result = vignette.run(rules)

    fired = {rule.id for rule in result.rules}
    assert result.level is vignette.expected, [rule.id for rule in result.rules]
    assert set(vignette.fires) <= fired
    assert not set(vignette.absent) & fired


def test_vignettes_cover_every_level_and_at_least_sixty_cases() -> None:
    assert len(VIGNETTES) >= 60
    assert {vignette.expected for vignette in VIGNETTES.values()} == set(TriageLevel)


# --- the result -----------------------------------------------------------------------------


def _run(
    rules: TriageRules, *items: str, temp: str | None = None, context: Context | None = None
) -> Triage:
    """Triage ``items``; without a ``context``, past the early-course window."""
    context = context or Context(days_since_start_or_step_up=OUTSIDE_EARLY_WINDOW)
    return triage(CheckIn(NOW, _answers(items), _temperature(temp)), context, rules, now=NOW)


def test_triage_rules_most_urgent_first_each_with_its_source(
    rules: TriageRules, knowledge: Knowledge
) -> None:
    result = _run(rules, "nausea:3", temp="38.5 C")

    assert [rule.level for rule in result.rules] == sorted(
        (rule.level for rule in result.rules), key=lambda level: -level.rank
    )
    assert result.rules[0].id == "severe-right-away-sign"
    assert all(rule.source in knowledge.sources for rule in result.rules)
    assert ("temperature",) in [rule.triggers for rule in result.rules]


@pytest.mark.parametrize("level", list(TriageLevel))
def test_triage_alerts_the_care_team_for_call_now_and_emergency_only(
    rules: TriageRules, level: TriageLevel
) -> None:
    example = {E: ("seizure",), CALL: ("cough:1",), SAME: ("vomiting:2",), ROUTINE: ()}[level]
    previous = Context(recent=(CheckIn(EARLIER, _answers(example)),))
    result = _run(rules, *example, context=previous)

    assert result.level is level
    assert result.alert_care_team is (level in (E, CALL))


@pytest.mark.parametrize("level", list(TriageLevel))
def test_triage_instructions_always_say_never_flush_and_never_change_the_pump(
    rules: TriageRules, level: TriageLevel
) -> None:
    example = {E: ("seizure",), CALL: ("cough:1",), SAME: ("vomiting:2",), ROUTINE: ()}[level]
    previous = Context(infusing=False, recent=(CheckIn(EARLIER, _answers(example)),))
    result = _run(rules, *example, context=previous)
    do_not = " ".join(item.text for item in result.instructions.do_not)

    assert "Never flush the blinatumomab line" in do_not
    assert "Never change the pump settings" in do_not
    assert result.instructions.do_now == rules.levels[level].guidance.do_now
    assert all(item.text and item.source for item in _all(result.instructions))


def _all(guidance: Guidance) -> tuple[Instruction, ...]:
    return guidance.do_now + guidance.tell_team + guidance.do_not


def test_triage_emergency_says_call_emergency_number_first(rules: TriageRules) -> None:
    result = _run(rules, "seizure")

    # Telephone facts (issue 15 item 17); the clinic's own number is shown beside them.
    assert "112 in France" in result.instructions.do_now[0].text
    assert "999 in the UK" in result.instructions.do_now[0].text
    assert "911 in the US" in result.instructions.do_now[0].text


@pytest.mark.parametrize("level", [E, CALL, SAME])
def test_triage_in_hospital_says_call_the_nurse_not_an_ambulance(
    rules: TriageRules, level: TriageLevel
) -> None:
    example = {E: "seizure", CALL: "cough:1", SAME: "nausea:2"}[level]
    home = _run(rules, example)
    ward = _run(
        rules,
        example,
        context=Context(in_hospital=True, days_since_start_or_step_up=OUTSIDE_EARLY_WINDOW),
    )

    assert ward.level is home.level is level
    assert ward.alert_care_team is home.alert_care_team
    guide = rules.levels[level]
    assert guide.in_hospital
    assert ward.instructions.do_now == guide.in_hospital
    assert "nurse" in ward.instructions.do_now[0].text
    assert ward.instructions.tell_team == home.instructions.tell_team
    assert ward.to_dict()["context"]["in_hospital"] is True
    if level is E:
        assert "emergency number" in home.instructions.do_now[0].text
        assert "emergency number" not in ward.instructions.do_now[0].text


def test_triage_in_hospital_without_own_instructions_keeps_the_level_s(
    rules: TriageRules,
) -> None:
    assert not rules.levels[ROUTINE].in_hospital
    ward = _run(
        rules,
        "nausea:1",
        context=Context(in_hospital=True, days_since_start_or_step_up=OUTSIDE_EARLY_WINDOW),
    )

    assert ward.level is ROUTINE
    assert ward.instructions.do_now == rules.levels[ROUTINE].guidance.do_now


@pytest.mark.parametrize(
    ("items", "crisis_line", "level"),
    [
        (("suicidal-thoughts",), True, CALL),
        (("self-harm-danger",), True, E),
        (("depression:2", "anxiety:1"), False, CALL),
        (("nausea:1",), False, ROUTINE),
    ],
    ids=["thoughts", "immediate-danger", "other-mood-signs", "side-effect"],
)
def test_triage_self_harm_shows_the_crisis_line(
    rules: TriageRules, items: tuple[str, ...], crisis_line: bool, level: TriageLevel
) -> None:
    result = _run(rules, *items)

    assert (result.level, result.crisis_line) == (level, crisis_line)
    assert result.to_dict()["crisis_line"] is crisis_line
    self_harm = rules.groups["self-harm"].guidance.do_now
    assert (self_harm[0] in result.instructions.do_now) is crisis_line


def test_triage_pump_problem_adds_pump_instructions(rules: TriageRules) -> None:
    result = _run(rules, "pump-alarm", "line-leak", context=Context(infusing=True))
    texts = [item.text for item in _all(result.instructions)]

    pump_group = rules.groups["pump-line"].guidance
    assert texts.count(pump_group.do_now[0].text) == 1
    assert any("4 hours or more" in text for text in texts)


def test_triage_not_infusing_leaves_out_the_pump_clock(rules: TriageRules) -> None:
    running = _run(rules, "cough:1", context=Context(infusing=None))
    stopped = _run(rules, "cough:1", context=Context(infusing=False))

    assert rules.infusing.tell_team[0] in running.instructions.tell_team
    assert rules.infusing.tell_team[0] not in stopped.instructions.tell_team
    assert running.level is stopped.level


def test_triage_findings_in_list_order_with_history(rules: TriageRules) -> None:
    context = Context(recent=(CheckIn(EARLIER, _answers(("nausea:1", "headache:3"))),))
    result = _run(rules, "nausea:2", "headache:3", "seizure", "nausea:0", context=context)

    assert [(f.symptom, f.history) for f in result.findings] == [
        ("seizure", History.NEW),
        ("headache", History.PERSISTING),
        ("nausea", History.WORSE),
    ]


def test_triage_history_reads_each_symptom_s_latest_earlier_answer(rules: TriageRules) -> None:
    older = CheckIn(EARLIER - timedelta(days=1), _answers(("nausea:2", "headache:3")))
    latest = CheckIn(EARLIER, _answers(("headache:1",)))
    later_than_now = CheckIn(NOW + timedelta(hours=1), _answers(("rash:2",)))
    context = Context(
        days_since_start_or_step_up=OUTSIDE_EARLY_WINDOW, recent=(later_than_now, latest, older)
    )

    result = _run(rules, "nausea:2", "headache:2", "rash:1", context=context)

    # nausea: unchanged since it was last reported (a day before the latest check-in);
    # headache: worse than its latest answer (1), not than the older 3; rash: only later.
    assert [(f.symptom, f.history) for f in result.findings] == [
        ("headache", History.WORSE),
        ("nausea", History.PERSISTING),
        ("rash", History.NEW),
    ]
    assert result.level is SAME


def test_triage_history_merges_check_ins_at_the_same_instant(rules: TriageRules) -> None:
    first = CheckIn(EARLIER, _answers(("nausea:1",)))
    second = CheckIn(EARLIER, _answers(("nausea:3", "nausea:2")))

    result = _run(rules, "nausea:2", context=Context(recent=(first, second)))

    assert result.findings[0].history is History.PERSISTING


def test_triage_history_leaves_out_ids_no_longer_in_the_list(rules: TriageRules) -> None:
    earlier = CheckIn(EARLIER, (SymptomAnswer("retired-symptom", 2), SymptomAnswer("rash", 1)))

    result = _run(rules, "rash:1", context=Context(recent=(earlier,)))

    assert result.findings[0].history is History.PERSISTING
    assert result.level is ROUTINE


def test_triage_history_of_yes_no_signs_at_the_same_instant(rules: TriageRules) -> None:
    first = CheckIn(EARLIER, _answers(("weight-gain", "nausea:1")))
    second = CheckIn(EARLIER, _answers(("weight-gain", "nausea:?+")))

    result = _run(rules, "weight-gain", "nausea:3", context=Context(recent=(first, second)))

    # weight gain was reported before: persisting; nausea's latest answer counts as severe.
    assert [(f.symptom, f.history) for f in result.findings] == [
        ("nausea", History.PERSISTING),
        ("weight-gain", History.PERSISTING),
    ]


@pytest.mark.parametrize(
    ("previous", "now", "history", "rose"),
    [
        ("nausea:0", "nausea:2", History.NEW, True),
        ("nausea:0", "nausea:1", History.NEW, False),
        ("nausea:1", "nausea:2", History.WORSE, False),
        ("nausea:1", "nausea:3", History.WORSE, True),
        ("nausea:1", "nausea:?+", History.WORSE, True),
        ("nausea", "nausea:3", History.WORSE, False),
        ("nausea:?+", "nausea:3", History.PERSISTING, False),
        ("nausea:2", "nausea", History.PERSISTING, False),
        ("headache:1", "nausea:2", History.NEW, False),
    ],
    ids=[
        "none-to-moderate",
        "none-to-mild",
        "mild-to-moderate",
        "mild-to-severe",
        "mild-to-not-sure-in-the-way",
        "not-sure-to-severe",
        "not-sure-in-the-way-to-severe",
        "moderate-to-not-sure",
        "not-reported-before",
    ],
)
def test_triage_rise_is_measured_from_the_latest_earlier_answer(
    rules: TriageRules, previous: str, now: str, history: History, rose: bool
) -> None:
    context = Context(
        days_since_start_or_step_up=OUTSIDE_EARLY_WINDOW,
        recent=(CheckIn(EARLIER, _answers((previous,))),),
    )

    result = _run(rules, now, context=context)

    assert result.findings[0].history is history
    assert ("side-effect-rose" in {r.id for r in result.rules}) is rose


def test_triage_history_all_later_than_check_in_means_new(rules: TriageRules) -> None:
    later = CheckIn(NOW + timedelta(minutes=1), _answers(("nausea:2",)))

    result = _run(rules, "nausea:2", context=Context(recent=(later,)))

    assert result.findings[0].history is History.NEW


def test_triage_repeated_answers_keep_the_worse_and_say_so(rules: TriageRules) -> None:
    result = _run(rules, "nausea:1", "nausea:3", "nausea", "headache:1")

    assert [(f.symptom, f.severity) for f in result.findings] == [("headache", 1), ("nausea", 3)]
    assert result.level is CALL
    assert result.notes == (
        "Nausea (feeling sick to the stomach): answered more than once (1, 3, not sure); "
        "the worse answer counts.",
    )


@pytest.mark.parametrize(
    ("items", "severity", "interferes", "counted_as"),
    [
        (("nausea:2", "nausea"), 2, None, 2),
        (("nausea", "nausea:2"), 2, None, 2),
        (("nausea:1", "nausea"), None, None, 2),
        (("nausea:?+", "nausea:3"), 3, None, 3),
        (("nausea:?+", "nausea:2"), None, True, 3),
        (("nausea", "nausea:?-"), None, False, 2),
        (("nausea:?-", "nausea:?+"), None, True, 3),
        (("nausea", "nausea"), None, None, 2),
    ],
    ids=[
        "given-beats-not-sure-on-a-tie",
        "the-same-in-the-other-order",
        "not-sure-beats-mild",
        "given-severe-beats-not-sure-in-the-way",
        "not-sure-in-the-way-beats-moderate",
        "a-follow-up-no-is-kept",
        "a-follow-up-yes-wins",
        "two-not-sure",
    ],
)
def test_triage_repeated_answers_keep_the_worse_as_counted(
    rules: TriageRules,
    items: tuple[str, ...],
    severity: int | None,
    interferes: bool | None,
    counted_as: int,
) -> None:
    finding = _run(rules, *items).findings[0]

    assert (finding.severity, finding.interferes, finding.counted_as) == (
        severity,
        interferes,
        counted_as,
    )


def test_triage_not_sure_counts_as_moderate_and_says_so(rules: TriageRules) -> None:
    unsure = _run(rules, "headache")
    moderate = _run(rules, "headache:2")

    assert unsure.level is moderate.level is SAME
    assert unsure.rules == moderate.rules
    assert unsure.findings[0].counted_as == 2
    assert unsure.notes == ("Headache: not sure how bad, so it counts as moderate.",)


def test_triage_not_sure_in_the_way_of_daily_activities_counts_as_severe(
    rules: TriageRules,
) -> None:
    unsure = _run(rules, "headache:?+")
    severe = _run(rules, "headache:3")

    assert unsure.level is severe.level is CALL
    assert unsure.rules == severe.rules
    assert unsure.notes == (
        "Headache: not sure how bad, so it counts as moderate; it gets in the way of daily "
        "activities, so it counts as severe.",
    )
    assert unsure.to_dict()["symptoms"][0] == {
        "id": "headache",
        "name": "Headache",
        "severity_applies": True,
        "severity": None,
        "counted_as": 3,
        "interferes": True,
        "history": "new",
    }


@pytest.mark.parametrize(
    "symptom", ["headache", "cough", "tremor", "tiredness", "nausea", "chest-pain", "bleeding"]
)
def test_triage_not_sure_alone_never_calls_emergency_services(
    rules: TriageRules, symptom: str
) -> None:
    # Issue 15 item 14: ticking these without a severity answered "call 911".
    for follow_up in ("", ":?-"):
        assert _run(rules, f"{symptom}{follow_up}").level.rank < E.rank


def test_triage_notes_for_a_child_and_for_free_text(rules: TriageRules) -> None:
    check_in = CheckIn(NOW, _answers(("cough:1",)), free_text="worse at night")
    result = triage(check_in, Context(age_group=AgeGroup.PEDIATRIC), rules, now=NOW)
    blank = triage(dataclasses.replace(check_in, free_text="  "), Context(), rules, now=NOW)

    assert result.notes == (
        rules.pediatric_note.text,
        "The note is passed to the care team as written; the rules do not read it.",
    )
    assert result.free_text == "worse at night"
    assert blank.notes == ()


def test_triage_check_in_of_mapping_or_pairs_gives_the_same_answer(rules: TriageRules) -> None:
    by_mapping = CheckIn.of(observed_at=NOW, symptoms={"nausea": 2, "seizure": None})
    by_pairs = CheckIn.of(observed_at=NOW, symptoms=[("nausea", 2), ("seizure", None)])

    assert by_mapping == by_pairs
    assert triage(by_mapping, Context(), rules, now=NOW).level is E


def test_triage_to_dict_is_json_ready_with_the_issue_keys(rules: TriageRules) -> None:
    context = Context(cycle_day=3, infusing=True, age_group=AgeGroup.ADULT)
    check_in = CheckIn(NOW, _answers(("nausea:2",)), _temperature("100.4 F"), "note")
    data = triage(check_in, context, rules, now=NOW).to_dict()

    assert json.loads(json.dumps(data)) == data
    assert {"level", "rules", "instructions", "alert"} <= set(data)
    assert data["level"] == "call-now"
    assert data["alert"] is True
    assert set(data["rules"][0]) == {"id", "level", "reason", "source", "also_source", "triggers"}
    assert set(data["instructions"]) == {"do_now", "tell_team", "do_not"}
    assert data["temperature"] == {
        "value": "100.4",
        "unit": "F",
        "celsius": "38.00",
        "as_entered": "100.4 F = 38.00 C (converted: (F - 32) x 5 / 9)",
    }
    assert data["symptoms"] == [
        {
            "id": "nausea",
            "name": "Nausea (feeling sick to the stomach)",
            "severity_applies": True,
            "severity": 2,
            "counted_as": 2,
            "interferes": None,
            "history": "new",
        }
    ]
    assert data["context"] == {
        "cycle_day": 3,
        "infusing": True,
        "days_since_start_or_step_up": None,
        "age_group": "adult",
        "recent_check_ins": 0,
        "in_hospital": None,
        "therapy": None,
        "days_since_cell_infusion": None,
    }
    assert data["crisis_line"] is False
    assert data["observed_at"] == "2026-12-10T09:30:00+00:00"


def test_triage_to_dict_without_temperature_or_age(rules: TriageRules) -> None:
    data = _run(rules).to_dict()

    assert data["temperature"] is None
    assert data["context"]["age_group"] is None
    assert data["rules"] == [
        {
            "id": "no-warning-sign",
            "level": "routine",
            "reason": rules.no_rule.reason,
            "source": rules.no_rule.source,
            "also_source": None,
            "triggers": [],
        }
    ]


# --- temperature ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fahrenheit", "celsius"),
    [("99.5", "37.5"), ("100.4", "38"), ("104.0", "40"), ("96.8", "36"), ("86", "30")],
)
def test_temperature_fahrenheit_converts_exactly(fahrenheit: str, celsius: str) -> None:
    assert Temperature(Decimal(fahrenheit), TemperatureUnit.F).celsius == Decimal(celsius)


def test_temperature_describe_celsius_as_entered() -> None:
    assert Temperature(Decimal("38.5")).describe() == "38.5 C"


@pytest.mark.parametrize("value", [38.5, Decimal("NaN"), Decimal("Infinity")])
def test_temperature_float_or_non_finite_is_refused(value: object) -> None:
    with pytest.raises(InvalidInput) as caught:
        Temperature(value, TemperatureUnit.F)  # type: ignore[arg-type]
    assert caught.value.field == "temperature_f"


@pytest.mark.parametrize(
    ("temp", "field", "allowed"),
    [
        ("29.9 C", "temperature_c", ">= 30 and <= 45"),
        ("45.1 C", "temperature_c", ">= 30 and <= 45"),
        ("85.9 F", "temperature_f", ">= 86 and <= 113"),
        ("113.1 F", "temperature_f", ">= 86 and <= 113"),
    ],
)
def test_triage_temperature_outside_human_range_is_refused(
    rules: TriageRules, temp: str, field: str, allowed: str
) -> None:
    with pytest.raises(InvalidInput) as caught:
        _run(rules, temp=temp)
    assert (caught.value.field, caught.value.allowed) == (field, allowed)


def test_temperature_rule_compare_at_or_below(rules: TriageRules) -> None:
    rule = TemperatureRule("t", CALL, Compare.AT_OR_BELOW, Decimal("36.0"), "r", "s")

    assert rule.applies(Decimal("36.0"))
    assert not rule.applies(Decimal("36.1"))


# --- bad input ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("answer", "field", "allowed"),
    [
        (SymptomAnswer("sneezing", 1), "symptom", "one of the known symptom ids"),
        (
            SymptomAnswer("nausea", 5),
            "nausea severity",
            "a whole number from 0 (none) to 4 (very severe), or left out if not known",
        ),
        (
            SymptomAnswer("nausea", -1),
            "nausea severity",
            "a whole number from 0 (none) to 4 (very severe), or left out if not known",
        ),
        (
            SymptomAnswer("nausea", True),
            "nausea severity",
            "a whole number from 0 (none) to 4 (very severe), or left out if not known",
        ),
        (
            SymptomAnswer("seizure", 0),
            "seizure severity",
            "left out (a yes/no sign has no severity)",
        ),
        (
            SymptomAnswer("nausea", 2, True),
            "nausea interferes",
            "left out when a severity is given (it answers a 'not sure')",
        ),
        (
            SymptomAnswer("seizure", None, False),
            "seizure interferes",
            "left out (a yes/no sign has no severity)",
        ),
        (
            SymptomAnswer("nausea", None, "yes"),  # type: ignore[arg-type]
            "nausea interferes",
            "true or false, or left out",
        ),
    ],
    ids=[
        "unknown-symptom",
        "severity-5",
        "severity-negative",
        "severity-bool",
        "yes-no-with-severity",
        "follow-up-with-severity",
        "follow-up-on-yes-no-sign",
        "follow-up-not-bool",
    ],
)
def test_triage_bad_answer_is_refused_naming_the_field(
    rules: TriageRules, answer: SymptomAnswer, field: str, allowed: str
) -> None:
    with pytest.raises(InvalidInput) as caught:
        triage(CheckIn(NOW, (answer,)), Context(), rules, now=NOW)
    assert (caught.value.field, caught.value.allowed) == (field, allowed)


def test_triage_check_in_in_the_future_is_refused(rules: TriageRules) -> None:
    future = CheckIn(NOW + timedelta(seconds=1))

    with pytest.raises(InvalidInput) as caught:
        triage(future, Context(), rules, now=NOW)
    assert caught.value.field == "observed_at"
    assert str(caught.value) == (
        "observed_at 2026-12-10T09:30:01+00:00 is not allowed: "
        "must be no later than now (2026-12-10T09:30:00+00:00)"
    )


def test_triage_same_instant_in_another_zone_is_not_the_future(rules: TriageRules) -> None:
    paris = NOW.astimezone(timezone(timedelta(hours=1)))

    assert triage(CheckIn(paris), Context(), rules, now=NOW).level is ROUTINE


@pytest.mark.parametrize(
    ("observed_at", "now", "field"),
    [
        (NOW.replace(tzinfo=None), NOW, "observed_at"),
        (NOW, NOW.replace(tzinfo=None), "now"),
    ],
)
def test_triage_naive_time_is_refused(
    rules: TriageRules, observed_at: datetime, now: datetime, field: str
) -> None:
    with pytest.raises(InvalidInput) as caught:
        triage(CheckIn(observed_at), Context(), rules, now=now)
    assert caught.value.field == field


def test_triage_naive_earlier_check_in_is_refused(rules: TriageRules) -> None:
    naive = CheckIn(EARLIER.replace(tzinfo=None))

    with pytest.raises(InvalidInput) as caught:
        _run(rules, "nausea:1", context=Context(recent=(naive,)))
    assert caught.value.field == "recent.observed_at"


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"cycle_day": 0}, "cycle_day"),
        ({"cycle_day": True}, "cycle_day"),
        ({"days_since_start_or_step_up": -1}, "days_since_start_or_step_up"),
    ],
)
def test_context_bad_day_counts_are_refused(kwargs: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        Context(**kwargs)  # type: ignore[arg-type]
    assert caught.value.field == field


# --- site parameters and synthetic rules ------------------------------------------------------


@pytest.mark.parametrize(
    ("days_since", "expected"),
    [(0, CALL), (3, CALL), (4, SAME), (None, CALL)],
    ids=["day-0", "at-window", "after-window", "unknown-counts-as-within"],
)
def test_triage_early_course_window_when_a_site_sets_one(
    rules: TriageRules, days_since: int | None, expected: TriageLevel
) -> None:
    site = dataclasses.replace(rules, early_course_days=3)
    context = Context(days_since_start_or_step_up=days_since)

    result = triage(CheckIn(NOW, _answers(("nausea:2",))), context, site, now=NOW)

    assert result.level is expected
    assert ("early-in-cycle" in {r.id for r in result.rules}) is (expected is CALL)


def test_triage_early_course_window_only_for_new_symptoms(rules: TriageRules) -> None:
    context = Context(
        days_since_start_or_step_up=0, recent=(CheckIn(EARLIER, _answers(("nausea:1",))),)
    )

    unchanged = _run(rules, "nausea:1", context=context)
    worse = _run(rules, "nausea:2", context=context)
    new = _run(rules, "nausea:1", "headache:2", context=context)
    new_mild = _run(rules, "nausea:1", "headache:1", context=context)

    assert (unchanged.level, worse.level, new.level) == (ROUTINE, SAME, CALL)
    early = next(r for r in new.rules if r.id == "early-in-cycle")
    assert early.triggers == ("headache",)
    assert new_mild.level is SAME
    mild = next(r for r in new_mild.rules if r.id == "early-in-cycle-mild")
    assert mild.triggers == ("headache",)


def test_triage_early_course_window_none_never_fires(rules: TriageRules) -> None:
    site = dataclasses.replace(rules, early_course_days=None)

    result = triage(CheckIn(NOW, _answers(("nausea:1",))), Context(), site, now=NOW)

    assert result.level is ROUTINE


def test_triage_shipped_site_parameters(rules: TriageRules) -> None:
    # A site parameter with a conservative default, not a clinical fact (issue 15).
    assert rules.early_course_days == 7
    assert set(rules.acknowledgement_minutes) == set(TriageLevel)
    assert set(rules.acknowledgement_minutes.values()) == {None}
    assert (rules.unknown_severity, rules.interferes_severity) == (2, 3)
    assert rules.follow_up == "Is it getting in the way of daily activities?"


def test_triage_same_day_temperature_rule_counts_toward_escalation(rules: TriageRules) -> None:
    warm = TemperatureRule("warm", SAME, Compare.ABOVE, Decimal("37.0"), "warm", "s")
    site = dataclasses.replace(rules, temperature_rules=(warm,))
    context = Context(recent=(CheckIn(EARLIER, _answers(("vomiting:2",))),))

    result = triage(
        CheckIn(NOW, _answers(("vomiting:2",)), _temperature("37.2 C")), context, site, now=NOW
    )

    escalation = next(r for r in result.rules if r.id == "more-than-one-same-day")
    assert escalation.triggers == ("vomiting", "temperature")
    assert result.level is CALL


def test_rules_for_lists_rules_by_severity_and_history(rules: TriageRules) -> None:
    # The rules for everyone (those for one therapy are listed too: the therapy, as the
    # course, is checked later).
    new = {r.id for r in rules.rules_for("nausea", 3, History.NEW) if not r.therapies}
    persisting = {r.id for r in rules.rules_for("nausea", 1, History.PERSISTING) if not r.therapies}

    # early-in-cycle and side-effect-rose are listed: their conditions on the course and
    # on the rise are checked later.
    assert new == {
        "severe-right-away-sign",
        "pancreatitis-signs",
        "severe-side-effect",
        "side-effect-rose",
        "early-in-cycle",
        "new-or-worse-side-effect",
    }
    assert persisting == {"persisting-side-effect", "side-effect-rose"}


def test_a_rise_rule_with_a_severity_floor_checks_both(rules: TriageRules) -> None:
    rise = SymptomRule(
        "rise-to-severe", CALL, frozenset({"nausea"}), "r", "s", min_severity=3, min_rise=2
    )
    site = dataclasses.replace(rules, rules=(*rules.rules, rise))
    context = Context(
        days_since_start_or_step_up=OUTSIDE_EARLY_WINDOW,
        recent=(CheckIn(EARLIER, _answers(("nausea:0",))),),
    )

    moderate = triage(CheckIn(NOW, _answers(("nausea:2",))), context, site, now=NOW)
    severe = triage(CheckIn(NOW, _answers(("nausea:3",))), context, site, now=NOW)

    assert "rise-to-severe" not in {r.id for r in moderate.rules}
    assert "rise-to-severe" in {r.id for r in severe.rules}


def test_guidance_adds_part_by_part_and_is_false_when_empty() -> None:
    a = Guidance((Instruction("a", "s"),))
    b = Guidance(do_not=(Instruction("b", "s"),))

    assert a + b == Guidance((Instruction("a", "s"),), (), (Instruction("b", "s"),))
    assert not Guidance()
    assert a


def test_symptom_rule_defaults_fire_at_any_severity_and_history() -> None:
    rule = SymptomRule("r", CALL, frozenset({"x"}), "reason", "source")

    assert rule.min_severity is None
    assert rule.with_any == frozenset()


def test_triage_two_groups_with_instructions_add_both_in_list_order(rules: TriageRules) -> None:
    extra = Instruction("Stay with the patient.", "site")
    neuro = dataclasses.replace(rules.groups["neuro"], guidance=Guidance(do_now=(extra,)))
    site = dataclasses.replace(rules, groups={**rules.groups, "neuro": neuro})

    result = triage(CheckIn(NOW, _answers(("pump-alarm", "seizure"))), Context(), site, now=NOW)

    do_now = result.instructions.do_now
    assert do_now.index(extra) < do_now.index(rules.groups["pump-line"].guidance.do_now[0])
