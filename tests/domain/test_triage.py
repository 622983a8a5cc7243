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
from blina.domain.triage import (
    CheckIn,
    Compare,
    Context,
    Guidance,
    History,
    Instruction,
    SymptomAnswer,
    SymptomRule,
    Temperature,
    TemperatureRule,
    TemperatureUnit,
    Triage,
    TriageLevel,
    TriageRules,
    triage,
)
from blina.knowledge import Knowledge

NOW = datetime(2026, 12, 10, 9, 30, tzinfo=UTC)
EARLIER = NOW - timedelta(hours=20)

E = TriageLevel.EMERGENCY
CALL = TriageLevel.CALL_NOW
SAME = TriageLevel.SAME_DAY
ROUTINE = TriageLevel.ROUTINE


@pytest.fixture(scope="module")
def rules(knowledge: Knowledge) -> TriageRules:
    return knowledge.triage


def _answers(items: tuple[str, ...]) -> tuple[SymptomAnswer, ...]:
    answers = []
    for item in items:
        name, _, severity = item.partition(":")
        answers.append(SymptomAnswer(name, int(severity) if severity else None))
    return tuple(answers)


def _temperature(text: str | None) -> Temperature | None:
    if text is None:
        return None
    value, unit = text.split()
    return Temperature(Decimal(value), TemperatureUnit(unit))


@dataclass(frozen=True)
class Vignette:
    """A check-in and its expected level; ``fires`` / ``absent`` pin rule ids."""

    expected: TriageLevel
    symptoms: tuple[str, ...] = ()
    temp: str | None = None
    previous: tuple[str, ...] | None = None
    infusing: bool | None = None
    age_group: AgeGroup | None = None
    days_since: int | None = None
    fires: tuple[str, ...] = ()
    absent: tuple[str, ...] = ()

    def run(self, rules: TriageRules) -> Triage:
        recent = () if self.previous is None else (CheckIn(EARLIER, _answers(self.previous)),)
        context = Context(
            infusing=self.infusing,
            age_group=self.age_group,
            days_since_start_or_step_up=self.days_since,
            recent=recent,
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
    "temp-c-40.1-above-severe": v(E, temp="40.1 C", fires=("temperature-very-high",)),
    "temp-c-45-highest-plausible": v(E, temp="45 C"),
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
    "temp-f-104.1-above-severe": v(E, temp="104.1 F", fires=("temperature-very-high",)),
    "temp-f-96.9-above-low": v(ROUTINE, temp="96.9 F"),
    "temp-f-96.8-at-low-threshold": v(ROUTINE, temp="96.8 F"),
    "temp-f-96.7-below-low": v(CALL, temp="96.7 F", fires=("temperature-low",)),
    "temp-f-86-lowest-plausible": v(CALL, temp="86 F"),
    "temp-f-113-highest-plausible": v(E, temp="113 F"),
    # --- tier A, neurologic (MedGuide; seed 002 warnings); §2.2 any seizure ----------------
    "seizure": v(E, "seizure", fires=("seizure",)),
    "fainting-is-collapse": v(E, "fainting", fires=("collapse",)),
    "hard-to-wake-is-collapse": v(E, "hard-to-wake", fires=("collapse",)),
    "confusion-mild": v(CALL, "confusion:1", fires=("neuro-signs",)),
    "confusion-severe": v(E, "confusion:3", fires=("severe-right-away-sign",)),
    "confusion-persisting-still-call-now": v(
        CALL, "confusion:2", previous=("confusion:2",), fires=("neuro-signs",)
    ),
    "trouble-speaking": v(CALL, "trouble-speaking"),
    "loss-of-balance-moderate": v(CALL, "loss-of-balance:2"),
    "loss-of-balance-very-severe": v(E, "loss-of-balance:4"),
    "hallucinations": v(CALL, "hallucinations", fires=("neuro-signs-broader",)),
    "trouble-sleeping-seed-002": v(CALL, "trouble-sleeping:1", fires=("neuro-signs-more",)),
    "vision-changes": v(CALL, "vision-changes:1"),
    # --- tier A, CRS / infusion reaction ----------------------------------------------------
    "dizziness-mild": v(CALL, "dizziness:1", fires=("crs-signs",)),
    "face-swelling": v(CALL, "face-swelling:2"),
    "trouble-breathing-moderate": v(CALL, "trouble-breathing:2"),
    "trouble-breathing-severe": v(E, "trouble-breathing:3"),
    "fever-felt-no-thermometer": v(CALL, "fever", fires=("fever",)),
    "fever-felt-thermometer-normal-still-call-now": v(CALL, "fever", temp="36.8 C"),
    # --- common side effects: new or worse call now; unchanged at the next visit -----------
    "nausea-new-mild": v(CALL, "nausea:1", fires=("new-or-worse",)),
    "nausea-persisting-moderate": v(
        ROUTINE, "nausea:2", previous=("nausea:2",), fires=("persisting-side-effect",)
    ),
    "nausea-better-than-before": v(ROUTINE, "nausea:1", previous=("nausea:3",)),
    "nausea-worse-than-before": v(CALL, "nausea:2", previous=("nausea:1",)),
    "nausea-after-none-is-new": v(CALL, "nausea:1", previous=("nausea:0",)),
    "nausea-severity-unknown-counts-worst": v(E, "nausea"),
    "nausea-previous-severity-unknown-counts-worse": v(CALL, "nausea:2", previous=("nausea",)),
    "nausea-severe-persisting": v(E, "nausea:3", previous=("nausea:3",)),
    "nausea-none": v(ROUTINE, "nausea:0", fires=("no-warning-sign",)),
    "vomiting-persisting-mild": v(ROUTINE, "vomiting:1", previous=("vomiting:1",)),
    "diarrhea-severe-not-tier-a": v(
        CALL, "diarrhea:3", previous=("diarrhea:3",), fires=("severe-side-effect",)
    ),
    "diarrhea-persisting": v(ROUTINE, "diarrhea:2", previous=("diarrhea:2",)),
    "constipation-new": v(CALL, "constipation:1"),
    "constipation-persisting": v(ROUTINE, "constipation:1", previous=("constipation:2",)),
    "weight-gain-persisting": v(ROUTINE, "weight-gain", previous=("weight-gain",)),
    "mouth-sores-persisting": v(ROUTINE, "mouth-sores:2", previous=("mouth-sores:2",)),
    "tremor-persisting": v(ROUTINE, "tremor:1", previous=("tremor:1",)),
    "tremor-severe": v(E, "tremor:3", previous=("tremor:3",)),
    "tiredness-very-severe": v(E, "tiredness:4"),
    "chills-persisting-normal-temperature": v(
        ROUTINE, "chills:2", temp="37.0 C", previous=("chills:2",)
    ),
    "back-pain-severe-tier-a": v(E, "back-pain:3", previous=("back-pain:3",)),
    "stomach-pain-severe-pancreatitis": v(
        CALL, "stomach-pain:3", previous=("stomach-pain:3",), fires=("pancreatitis-signs",)
    ),
    # --- tier C (call the clinic today) for what persists; UKONS: > 1 amber ----------------
    "headache-persisting-same-day": v(
        SAME, "headache:2", previous=("headache:2",), fires=("persisting-call-clinic",)
    ),
    "headache-very-severe": v(E, "headache:4"),
    "rash-persisting-same-day": v(SAME, "rash:1", previous=("rash:1",)),
    "swelling-persisting-same-day": v(SAME, "swelling:2", previous=("swelling:2",)),
    "swelling-severe-persisting": v(CALL, "swelling:3", previous=("swelling:3",)),
    "memory-loss-new": v(CALL, "memory-loss"),
    "memory-loss-persisting": v(SAME, "memory-loss", previous=("memory-loss",)),
    "two-same-day-signs-escalate": v(
        CALL,
        "rash:1",
        "headache:1",
        previous=("rash:1", "headache:2"),
        fires=("more-than-one-same-day",),
    ),
    "one-same-day-one-routine-no-escalation": v(
        SAME,
        "rash:1",
        "nausea:1",
        previous=("rash:1", "nausea:1"),
        absent=("more-than-one-same-day",),
    ),
    # --- tier B and UKONS override: emergency services -------------------------------------
    "trouble-breathing-with-hives": v(
        E, "trouble-breathing:1", "hives:1", fires=("allergic-with-breathing",)
    ),
    "wheezing-with-rash": v(E, "wheezing:1", "rash:1", fires=("allergic-with-breathing",)),
    "throat-tightness-with-lip-swelling": v(E, "throat-tightness:2", "mouth-throat-swelling:1"),
    "hives-alone": v(CALL, "hives:1", fires=("allergic-signs",)),
    "lip-swelling-alone": v(CALL, "mouth-throat-swelling:1"),
    "chest-pain-moderate": v(CALL, "chest-pain:2", fires=("heart-chest-signs",)),
    "chest-pain-severe": v(E, "chest-pain:3", fires=("severe-chest-pain",)),
    "bleeding-mild": v(CALL, "bleeding:1", fires=("blood-signs",)),
    "bleeding-severe": v(E, "bleeding:3", fires=("severe-bleeding",)),
    # --- seed 002: call now at any time ------------------------------------------------------
    "cough-infection-sign": v(CALL, "cough:1", fires=("infection-signs",)),
    "painful-urination": v(CALL, "painful-urination:2"),
    "sore-throat-persisting-still-call-now": v(CALL, "sore-throat:2", previous=("sore-throat:2",)),
    "suicidal-thoughts": v(CALL, "suicidal-thoughts", fires=("mood-changes",)),
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
    "early-in-cycle-no-site-window": v(
        ROUTINE, "nausea:2", previous=("nausea:2",), days_since=1, absent=("early-in-cycle",)
    ),
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
    return triage(
        CheckIn(NOW, _answers(items), _temperature(temp)), context or Context(), rules, now=NOW
    )


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
    example = {E: ("seizure",), CALL: ("cough:1",), SAME: ("rash:1",), ROUTINE: ()}[level]
    previous = Context(recent=(CheckIn(EARLIER, _answers(example)),))
    result = _run(rules, *example, context=previous)

    assert result.level is level
    assert result.alert_care_team is (level in (E, CALL))


@pytest.mark.parametrize("level", list(TriageLevel))
def test_triage_instructions_always_say_never_flush_and_never_change_the_pump(
    rules: TriageRules, level: TriageLevel
) -> None:
    example = {E: ("seizure",), CALL: ("cough:1",), SAME: ("rash:1",), ROUTINE: ()}[level]
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

    assert "911" in result.instructions.do_now[0].text
    assert "999" in result.instructions.do_now[0].text


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


def test_triage_history_uses_latest_earlier_check_in_only(rules: TriageRules) -> None:
    older = CheckIn(EARLIER - timedelta(days=1), _answers(("nausea:2",)))
    latest = CheckIn(EARLIER, _answers(("headache:1",)))
    later_than_now = CheckIn(NOW + timedelta(hours=1), _answers(("nausea:2",)))
    context = Context(recent=(later_than_now, latest, older))

    result = _run(rules, "nausea:2", context=context)

    assert result.findings[0].history is History.NEW
    assert result.level is CALL


def test_triage_history_merges_check_ins_at_the_same_instant(rules: TriageRules) -> None:
    first = CheckIn(EARLIER, _answers(("nausea:1",)))
    second = CheckIn(EARLIER, _answers(("nausea:3", "nausea:2")))

    result = _run(rules, "nausea:2", context=Context(recent=(first, second)))

    assert result.findings[0].history is History.PERSISTING


def test_triage_history_leaves_out_ids_no_longer_in_the_list(rules: TriageRules) -> None:
    earlier = CheckIn(EARLIER, (SymptomAnswer("retired-symptom", 2), SymptomAnswer("rash", 1)))

    result = _run(rules, "rash:1", context=Context(recent=(earlier,)))

    assert result.level is SAME


def test_triage_history_all_later_than_check_in_means_new(rules: TriageRules) -> None:
    later = CheckIn(NOW + timedelta(minutes=1), _answers(("nausea:2",)))

    result = _run(rules, "nausea:2", context=Context(recent=(later,)))

    assert result.findings[0].history is History.NEW


def test_triage_repeated_answers_keep_the_worse_and_say_so(rules: TriageRules) -> None:
    result = _run(rules, "nausea:1", "nausea:3", "nausea", "headache:1")

    assert result.findings[0].severity == 1
    assert result.findings[1].severity is None
    assert result.level is E
    assert result.notes[0] == (
        "Nausea (feeling sick to the stomach): answered more than once (1, 3, not given); "
        "the worse answer counts."
    )
    assert "no severity given, so it counts as the worst (very severe)" in result.notes[1]


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
            "history": "new",
        }
    ]
    assert data["context"] == {
        "cycle_day": 3,
        "infusing": True,
        "days_since_start_or_step_up": None,
        "age_group": "adult",
        "recent_check_ins": 0,
    }
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
    ],
    ids=[
        "unknown-symptom",
        "severity-5",
        "severity-negative",
        "severity-bool",
        "yes-no-with-severity",
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
    [(0, CALL), (3, CALL), (4, ROUTINE), (None, CALL)],
    ids=["day-0", "at-window", "after-window", "unknown-counts-as-within"],
)
def test_triage_early_course_window_when_a_site_sets_one(
    rules: TriageRules, days_since: int | None, expected: TriageLevel
) -> None:
    site = dataclasses.replace(rules, early_course_days=3)
    context = Context(
        days_since_start_or_step_up=days_since,
        recent=(CheckIn(EARLIER, _answers(("nausea:2",))),),
    )

    result = triage(CheckIn(NOW, _answers(("nausea:2",))), context, site, now=NOW)

    assert result.level is expected
    assert ("early-in-cycle" in {r.id for r in result.rules}) is (expected is CALL)


def test_triage_shipped_rules_leave_site_parameters_unset(rules: TriageRules) -> None:
    assert rules.early_course_days is None
    assert set(rules.acknowledgement_minutes) == set(TriageLevel)
    assert set(rules.acknowledgement_minutes.values()) == {None}


def test_triage_same_day_temperature_rule_counts_toward_escalation(rules: TriageRules) -> None:
    warm = TemperatureRule("warm", SAME, Compare.ABOVE, Decimal("37.0"), "warm", "s")
    site = dataclasses.replace(rules, temperature_rules=(warm,))
    context = Context(recent=(CheckIn(EARLIER, _answers(("rash:1",))),))

    result = triage(
        CheckIn(NOW, _answers(("rash:1",)), _temperature("37.2 C")), context, site, now=NOW
    )

    escalation = next(r for r in result.rules if r.id == "more-than-one-same-day")
    assert escalation.triggers == ("rash", "temperature")
    assert result.level is CALL


def test_rules_for_lists_rules_by_severity_and_history(rules: TriageRules) -> None:
    new = {r.id for r in rules.rules_for("nausea", 3, History.NEW)}
    persisting = {r.id for r in rules.rules_for("nausea", 1, History.PERSISTING)}

    # early-in-cycle is listed: its condition on the course is checked later.
    assert new == {
        "severe-right-away-sign",
        "pancreatitis-signs",
        "new-or-worse",
        "severe-side-effect",
        "early-in-cycle",
    }
    assert persisting == {"persisting-side-effect", "early-in-cycle"}


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
