"""triage.toml: golden rows against the reference, the symptom list, the instructions, and
every malformed file named by file and key path.

The golden rows quote the reference (toxicity-and-triage.md §5.1, §5.2, §5.3, §6.1, §6.2)
and the seed that gives the "call now" lists (seed 002). When the shared tree sits beside
the repository, each quote must still be in it word for word, so a change to the
reference shows up here. Each row then says what blina must do with the signs it names.

The common side effects the rows name (headache, nausea, rash, ...) follow the rules on
their severity and change instead (§6.1: "Severity rules for these should come from
CTCAE/PRO-CTCAE", and issue 15): they have golden rows of their own below.
"""

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from tests import shared

from blina.domain.errors import KnowledgeError
from blina.domain.triage.check_in import CheckIn, Context, SymptomAnswer
from blina.domain.triage.engine import triage
from blina.domain.triage.rulebook import TriageRules
from blina.domain.triage.rules import Compare, RuleHistory, TriageLevel
from blina.knowledge import KNOWLEDGE_DIR, Knowledge
from blina.knowledge._loader import load_sources
from blina.knowledge._triage import KEBAB_CASE, load_triage

# Committed snapshots of the shared reference and seed 002 (test_sources.py checks them
# against the shared tree when it sits beside the repository).
REFERENCE = shared.REFERENCE / "toxicity-and-triage.md"
SEED_002 = shared.SEEDS / "002_f69651ea547bb042.txt"
NOW = datetime(2026, 12, 10, 9, 30, tzinfo=UTC)
PAST_WINDOW = 20
"""Days since a start or step-up, past the shipped early-course window."""

E = TriageLevel.EMERGENCY
CALL = TriageLevel.CALL_NOW
SAME = TriageLevel.SAME_DAY
ROUTINE = TriageLevel.ROUTINE


@pytest.fixture(scope="module")
def rules(knowledge: Knowledge) -> TriageRules:
    return knowledge.triage


def _level(
    rules: TriageRules,
    *answers: SymptomAnswer,
    persisting: bool = False,
    days_since: int | None = PAST_WINDOW,
    previous: tuple[SymptomAnswer, ...] = (),
) -> TriageLevel:
    """The level of ``answers``, past the early-course window unless ``days_since`` says;
    with ``persisting`` the same answers were given before, else ``previous`` were."""
    earlier = answers if persisting else previous
    context = Context(
        days_since_start_or_step_up=days_since,
        recent=(CheckIn(NOW, earlier),) if earlier else (),
    )
    return triage(CheckIn(NOW, answers), context, rules, now=NOW).level


def _common(rules: TriageRules) -> set[str]:
    return {s.id for s in rules.symptoms.values() if s.group == "common"}


def _answer(rules: TriageRules, symptom: str, severity: int = 1) -> SymptomAnswer:
    return SymptomAnswer(symptom, severity if rules.symptoms[symptom].has_severity else None)


# --- golden rows ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    """A quoted reference row, the blina ids for the signs it names, and what blina does:
    at least ``level`` when the sign is new and mild; at least ``persisting`` when it is
    unchanged since the last check-in; ``severe`` at severity 3 (where severity applies)."""

    document: Path
    quote: str
    symptoms: tuple[str, ...]
    level: TriageLevel
    persisting: TriageLevel | None = None
    severe: TriageLevel | None = None


ROWS = {
    "6.1-tier-a-crs": Row(
        REFERENCE,
        "fever, chills, vomiting, nausea, tiredness/weakness, dizziness, facial swelling, "
        "headache, wheezing or trouble breathing, low blood pressure, skin rash",
        # Low blood pressure is not measured at home: dizziness and fainting stand for it.
        (
            "fever",
            "chills",
            "vomiting",
            "nausea",
            "tiredness",
            "dizziness",
            "face-swelling",
            "headache",
            "wheezing",
            "trouble-breathing",
            "rash",
        ),
        CALL,
        severe=CALL,
    ),
    "6.1-tier-a-neuro": Row(
        REFERENCE,
        "seizures, difficulty speaking or slurred speech, loss of consciousness, confusion and "
        "disorientation, loss of balance",
        ("seizure", "trouble-speaking", "fainting", "hard-to-wake", "confusion", "loss-of-balance"),
        CALL,
        persisting=CALL,
        severe=CALL,
    ),
    "6.1-tier-a-micromedex": Row(
        REFERENCE,
        "agitation, back pain, blurred or double vision, burning/throbbing pain, coma, "
        "confusion, drowsiness, restlessness, fever, chills, hallucinations, headache, hearing "
        "loss, irritability, jerking movements, mood change, muscle spasms, nausea, "
        "light-headedness, fainting, rigid muscles, seizures, rash, stiff neck, tremor, trouble "
        "breathing or speaking, unusual tiredness, vomiting",
        (
            "agitation",
            "back-pain",
            "vision-changes",
            "numbness-tingling",
            "hard-to-wake",
            "confusion",
            "extreme-sleepiness",
            "fever",
            "chills",
            "hallucinations",
            "headache",
            "hearing-changes",
            "mood-swings",
            "jerking-movements",
            "nausea",
            "dizziness",
            "fainting",
            "seizure",
            "rash",
            "stiff-neck",
            "tremor",
            "trouble-breathing",
            "trouble-speaking",
            "tiredness",
            "vomiting",
        ),
        CALL,
        severe=CALL,
    ),
    "6.1-tier-a-infection": Row(
        REFERENCE,
        "fever or chills, cough or hoarseness, lower back/side pain, painful or difficult "
        "urination",
        (
            "fever",
            "chills",
            "cough",
            "hoarseness",
            "back-pain",
            "painful-urination",
            "trouble-passing-urine",
        ),
        CALL,
        severe=CALL,
    ),
    "6.1-tier-c-call-the-clinic": Row(
        REFERENCE,
        "fever, bleeding or unusual bruising, leg/foot swelling, cough or shortness of breath, "
        "pain/burning/numbness/tingling, seizure, loss of consciousness, "
        "confusion/hallucinations/memory loss, reduced urination, allergic signs (rash, hives, "
        "wheeze)",
        (
            "fever",
            "bleeding",
            "swelling",
            "cough",
            "trouble-breathing",
            "muscle-joint-pain",
            "back-pain",
            "stomach-pain",
            "headache",
            "numbness-tingling",
            "seizure",
            "fainting",
            "confusion",
            "hallucinations",
            "memory-loss",
            "trouble-passing-urine",
            "rash",
            "hives",
            "wheezing",
        ),
        SAME,
        persisting=SAME,
    ),
    "6.1-tier-d-report-if-it-persists": Row(
        REFERENCE,
        "swelling of ankles, feet or hands",
        ("swelling",),
        ROUTINE,
        persisting=ROUTINE,
    ),
    "6.2-pump-and-line": Row(
        REFERENCE,
        "pump stopped / line disconnected / bag empty early / leak",
        ("pump-stopped", "line-disconnected", "bag-empty-early", "line-leak", "pump-alarm"),
        CALL,
        persisting=CALL,
    ),
    "seed-002-pump-or-line": Row(
        SEED_002,
        "If the pump alarms or there is any problem with the line, call your nurse or doctor "
        "right away.",
        ("pump-alarm", "dressing-problem", "line-site-redness"),
        CALL,
        persisting=CALL,
    ),
    "seed-002-allergic": Row(
        SEED_002,
        "Signs of an allergic reaction: rash; hives; itching; red, swollen, blistered, or "
        "peeling skin; wheezing; chest or throat tightness; trouble breathing, swallowing, or "
        "talking; hoarseness; or swelling of the mouth, face, lips, tongue, or throat.",
        (
            "rash",
            "hives",
            "itching",
            "skin-peeling",
            "wheezing",
            "throat-tightness",
            "trouble-breathing",
            "trouble-swallowing",
            "trouble-speaking",
            "hoarseness",
            "mouth-throat-swelling",
            "face-swelling",
        ),
        CALL,
    ),
    "seed-002-infection": Row(
        SEED_002,
        "Signs of infection: fever, chills, very bad sore throat, ear or sinus pain, cough, more "
        "sputum or a change in sputum color, pain when passing urine, mouth sores, or a wound "
        "that will not heal.",
        (
            "fever",
            "chills",
            "sore-throat",
            "ear-sinus-pain",
            "cough",
            "painful-urination",
            "mouth-sores",
            "wound-not-healing",
        ),
        CALL,
    ),
    "seed-002-mood": Row(
        SEED_002,
        "Mood or behavior changes: depression, suicidal thoughts, anxiety, unusual mood swings, "
        "or loss of interest in activities.",
        ("depression", "suicidal-thoughts", "anxiety", "mood-swings", "loss-of-interest"),
        CALL,
        persisting=CALL,
    ),
    "seed-002-heart-and-blood": Row(
        SEED_002,
        "Shakiness, easy bruising or bleeding, severe tiredness or weakness, swollen glands, or "
        "extreme sleepiness.",
        ("tremor", "bleeding", "tiredness", "swollen-glands", "extreme-sleepiness"),
        CALL,
    ),
    "seed-002-skin-urine": Row(
        SEED_002,
        "Flushing, dark urine, or yellow skin or eyes.",
        ("flushing", "dark-urine", "yellow-skin-eyes"),
        CALL,
        persisting=CALL,
    ),
    "seed-002-tls": Row(
        SEED_002,
        "fast or abnormal heartbeat, fainting, trouble passing urine, muscle cramps or weakness, "
        "nausea, vomiting, diarrhea, poor appetite, or feeling sluggish.",
        (
            "abnormal-heartbeat",
            "fainting",
            "trouble-passing-urine",
            "muscle-cramps",
            "nausea",
            "vomiting",
            "diarrhea",
            "poor-appetite",
            "tiredness",
        ),
        CALL,
    ),
    "seed-002-pancreatitis": Row(
        SEED_002,
        "Pancreatitis: severe stomach or back pain, severe nausea or vomiting.",
        ("stomach-pain", "back-pain", "nausea", "vomiting"),
        CALL,
        severe=CALL,
    ),
    "seed-002-nervous-system": Row(
        SEED_002,
        "Call right away for confusion, severe headache, loss of balance, fainting, seizures, "
        "slurred speech, trouble sleeping, or trouble with face movements, hearing, vision, or "
        "swallowing.",
        (
            "confusion",
            "loss-of-balance",
            "fainting",
            "seizure",
            "trouble-speaking",
            "trouble-sleeping",
            "face-movement-trouble",
            "hearing-changes",
            "vision-changes",
            "trouble-swallowing",
        ),
        CALL,
        persisting=CALL,
    ),
}


@pytest.mark.parametrize("row", ROWS.values(), ids=ROWS.keys())
def test_golden_row_quote_is_still_in_the_reference(row: Row) -> None:
    text = " ".join(row.document.read_text(encoding="utf-8").split())

    assert row.quote in text


@pytest.mark.parametrize("row", ROWS.values(), ids=ROWS.keys())
def test_golden_row_signs_reach_the_row_level(rules: TriageRules, row: Row) -> None:
    common = _common(rules)
    for symptom in row.symptoms:
        answer = _answer(rules, symptom)
        if symptom not in common:
            assert _level(rules, answer).rank >= row.level.rank, symptom
            if row.persisting is not None:
                assert _level(rules, answer, persisting=True).rank >= row.persisting.rank, symptom
        if row.severe is not None and rules.symptoms[symptom].has_severity:
            severe = _level(rules, _answer(rules, symptom, 3), persisting=True)
            assert severe.rank >= row.severe.rank, symptom


def test_golden_rows_name_common_side_effects_only_where_the_reference_does(
    rules: TriageRules,
) -> None:
    named = {symptom for row in ROWS.values() for symptom in row.symptoms}

    # Every common side effect named by a row is graded on the PRO-CTCAE scale, so the
    # severity rules below decide it; the one yes/no sign (weight gain) is named by none.
    assert {s for s in named & _common(rules) if not rules.symptoms[s].has_severity} == set()


# The common side effects (§6.1: "expected, mention at next visit unless severe";
# severity rules from CTCAE / PRO-CTCAE), recalibrated by issue 15 item 15 on ePRO
# evidence: Basch alerts on a severe or worsening symptom (§5.3), UKONS one Amber = review
# within 24 h (§5.1); early after a start or step-up a new moderate symptom calls now and a
# new mild one is reviewed the same day (blina's reading, triage-early-course). Each row:
# (earlier answer or None, answer, days since a start or step-up, the level).
COMMON_QUOTES = (
    'useful for "expected, mention at next visit unless severe" messaging',
    "Severity rules for these should come from CTCAE/PRO-CTCAE (§3, §5.2), not from the sheets.",
    "nurse e-mail alert on severe or worsening symptom",
    "**one Amber** → moderate risk → start active monitoring",
)
COMMON_ROWS = {
    "new-mild-next-visit": (None, 1, PAST_WINDOW, ROUTINE),
    "new-moderate-same-day": (None, 2, PAST_WINDOW, SAME),
    "new-severe-call-now": (None, 3, PAST_WINDOW, CALL),
    "new-very-severe-call-now": (None, 4, PAST_WINDOW, CALL),
    "slightly-worse-same-day": (1, 2, PAST_WINDOW, SAME),
    "worse-by-two-call-now": (0, 2, PAST_WINDOW, CALL),
    "unchanged-mild-next-visit": (1, 1, PAST_WINDOW, ROUTINE),
    "better-next-visit": (2, 1, PAST_WINDOW, ROUTINE),
    "new-mild-early-after-start-same-day": (None, 1, 0, SAME),
    "new-mild-at-the-window-s-end-same-day": (None, 1, 7, SAME),
    "new-moderate-early-after-start-call-now": (None, 2, 0, CALL),
    "new-moderate-at-the-window-s-end-call-now": (None, 2, 7, CALL),
    "new-mild-after-the-window-next-visit": (None, 1, 8, ROUTINE),
    "unchanged-early-after-start-next-visit": (1, 1, 0, ROUTINE),
}
PERSISTING_MODERATE = {"vomiting": SAME, "diarrhea": SAME}


def test_golden_common_side_effect_quotes_are_still_in_the_reference() -> None:
    text = " ".join(REFERENCE.read_text(encoding="utf-8").split())

    for quote in COMMON_QUOTES:
        assert " ".join(quote.split()) in text, quote


@pytest.mark.parametrize("row", COMMON_ROWS.values(), ids=COMMON_ROWS.keys())
def test_golden_common_side_effects_by_severity_and_change(
    rules: TriageRules, row: tuple[int | None, int, int, TriageLevel]
) -> None:
    before, now, days_since, level = row
    for symptom in sorted(s for s in _common(rules) if rules.symptoms[s].has_severity):
        previous = () if before is None else (SymptomAnswer(symptom, before),)
        found = _level(rules, SymptomAnswer(symptom, now), days_since=days_since, previous=previous)
        assert found is level, symptom


def test_golden_common_side_effects_persisting_moderate(rules: TriageRules) -> None:
    for symptom in sorted(s for s in _common(rules) if rules.symptoms[s].has_severity):
        found = _level(rules, SymptomAnswer(symptom, 2), persisting=True)
        assert found is PERSISTING_MODERATE.get(symptom, ROUTINE), symptom


def test_golden_severe_vomiting_and_very_severe_diarrhoea_are_treated_alike(
    rules: TriageRules,
) -> None:
    vomiting = _level(rules, SymptomAnswer("vomiting", 3))
    diarrhoea = _level(rules, SymptomAnswer("diarrhea", 4))

    assert vomiting is diarrhoea is CALL


def test_golden_not_sure_is_missing_not_the_worst(rules: TriageRules) -> None:
    # §5.2: "not applicable" or "prefer not to answer" → treat as missing (ProAE).
    quote = '"prefer not to answer" → treat as missing (ProAE)'
    if REFERENCE.exists():
        assert quote in " ".join(REFERENCE.read_text(encoding="utf-8").split())
    assert (rules.unknown_severity, rules.interferes_severity) == (2, 3)
    assert rules.severity_words[rules.unknown_severity] == "moderate"
    assert rules.severity_words[rules.interferes_severity] == "severe"
    for symptom in sorted(s.id for s in rules.symptoms.values() if s.has_severity):
        unsure = _level(rules, SymptomAnswer(symptom), days_since=PAST_WINDOW)
        moderate = _level(rules, SymptomAnswer(symptom, 2), days_since=PAST_WINDOW)
        in_the_way = _level(rules, SymptomAnswer(symptom, None, True), days_since=PAST_WINDOW)
        severe = _level(rules, SymptomAnswer(symptom, 3), days_since=PAST_WINDOW)
        assert (unsure, in_the_way) == (moderate, severe), symptom
        assert unsure is not E, symptom


@pytest.mark.parametrize(
    "answers",
    [
        ("trouble-breathing:1", "hives:1"),
        ("trouble-breathing:1", "rash:1"),
        ("wheezing:1", "itching:1"),
        ("throat-tightness:1", "mouth-throat-swelling:1"),
    ],
    ids=lambda answers: "+".join(answers),
)
def test_golden_tier_b_trouble_breathing_with_allergic_signs_is_emergency(
    rules: TriageRules, answers: tuple[str, ...]
) -> None:
    # §6.1 tier B (Children's Minnesota): "trouble breathing with allergic signs".
    parsed = [SymptomAnswer(a.split(":")[0], int(a.split(":")[1])) for a in answers]

    assert _level(rules, *parsed) is E


@pytest.mark.parametrize(
    "answer",
    [
        SymptomAnswer("fainting"),
        SymptomAnswer("hard-to-wake"),
        SymptomAnswer("bleeding", 3),
        SymptomAnswer("chest-pain", 3),
        SymptomAnswer("trouble-breathing", 3),
        SymptomAnswer("wheezing", 4),
        SymptomAnswer("throat-tightness", 3),
        SymptomAnswer("mouth-throat-swelling", 3),
        SymptomAnswer("seizure"),
        SymptomAnswer("self-harm-danger"),
    ],
    ids=[
        "collapse-fainting",
        "collapse-hard-to-wake",
        "severe-bleeding",
        "severe-chest-pain",
        "breathing",
        "breathing-wheeze",
        "airway-tightness",
        "airway-swelling",
        "seizure",
        "self-harm-immediate-danger",
    ],
)
def test_golden_ukons_override_is_emergency(rules: TriageRules, answer: SymptomAnswer) -> None:
    # §5.1: "collapse, airway compromise, severe bleeding, severe chest pain".
    quote = "(collapse, airway compromise, severe bleeding, severe chest pain)"
    if REFERENCE.exists():
        assert quote in REFERENCE.read_text(encoding="utf-8")
    assert _level(rules, answer, persisting=True) is E


def test_golden_emergency_tier_is_the_ukons_list_only(rules: TriageRules) -> None:
    """Issue 15 item 16: every other severe symptom is call-now to the care team."""
    emergency_when_severe = {
        "chest-pain",
        "bleeding",
        "trouble-breathing",
        "wheezing",
        "throat-tightness",
        "mouth-throat-swelling",
    }
    # The signs asked of everyone (a sign asked only of one therapy's patients has its
    # golden rows in test_triage_therapies.py).
    asked = [s for s in rules.symptoms.values() if not s.therapies]
    for symptom in sorted(s.id for s in asked if s.has_severity):
        expected = E if symptom in emergency_when_severe else CALL
        for severity in (3, 4):
            found = _level(rules, SymptomAnswer(symptom, severity), persisting=True)
            assert found is expected, (symptom, severity)
    emergency_signs = {"seizure", "fainting", "hard-to-wake", "self-harm-danger"}
    for symptom in sorted(s.id for s in asked if not s.has_severity):
        found = _level(rules, SymptomAnswer(symptom), persisting=True)
        assert (found is E) is (symptom in emergency_signs), symptom


# The temperature thresholds, as the reference states them (§5.1 table, §3.2 Fever).
TEMPERATURE_ROWS = {
    "temperature-raised": ("above 37.5 °C or below 36.0 °C", Compare.ABOVE, "37.5", CALL),
    "temperature-low": ("above 37.5 °C or below 36.0 °C", Compare.BELOW, "36.0", CALL),
    "temperature-fever": ("≥38 °C (100.4 °F)", Compare.AT_OR_ABOVE, "38.0", CALL),
    "temperature-very-high": (">40.0 °C (>104.0 °F)", Compare.ABOVE, "40.0", CALL),
}


@pytest.mark.parametrize("rule_id", TEMPERATURE_ROWS, ids=TEMPERATURE_ROWS.keys())
def test_golden_temperature_threshold_matches_reference(rules: TriageRules, rule_id: str) -> None:
    quote, compare, threshold, level = TEMPERATURE_ROWS[rule_id]
    rule = next(r for r in rules.temperature_rules if r.id == rule_id)

    assert (rule.compare, rule.threshold_c, rule.level) == (compare, Decimal(threshold), level)
    assert rule.threshold_c.as_tuple() == Decimal(threshold).as_tuple()
    if REFERENCE.exists():
        assert quote in REFERENCE.read_text(encoding="utf-8")


def test_golden_severity_words_are_pro_ctcae(rules: TriageRules) -> None:
    row = "| Severity | None | Mild | Moderate | Severe | Very severe |"
    words = " | ".join(word.capitalize() for word in rules.severity_words)

    assert row == f"| Severity | {words} |"
    if REFERENCE.exists():
        assert row in REFERENCE.read_text(encoding="utf-8")


def test_golden_ukons_more_than_one_amber_escalates(rules: TriageRules) -> None:
    quote = "**any Red, or more than one Amber** → considerable risk"
    escalation = rules.same_day_escalation

    assert (escalation.min_findings, escalation.level) == (2, CALL)
    if REFERENCE.exists():
        assert quote in REFERENCE.read_text(encoding="utf-8")


# Every rule as read from the reference: level, source, severity floor and ceiling, the
# rise it needs, history.
GOLDEN_RULES = {
    "seizure": (E, "triage-icans-seizure", None, None, None, RuleHistory.ANY),
    "collapse": (E, "triage-ukons-override", None, None, None, RuleHistory.ANY),
    "severe-chest-pain": (E, "triage-ukons-override", 3, None, None, RuleHistory.ANY),
    "severe-bleeding": (E, "triage-ukons-override", 3, None, None, RuleHistory.ANY),
    "airway-or-breathing": (E, "triage-ukons-override", 3, None, None, RuleHistory.ANY),
    "allergic-with-breathing": (
        E,
        "triage-childrens-mn-emergency",
        None,
        None,
        None,
        RuleHistory.ANY,
    ),
    "self-harm-danger": (E, "triage-self-harm", None, None, None, RuleHistory.ANY),
    "severe-right-away-sign": (CALL, "triage-tier-a-escalation", 3, None, None, RuleHistory.ANY),
    "fever": (CALL, "triage-seed-002-fever", None, None, None, RuleHistory.ANY),
    "crs-signs": (CALL, "triage-medguide-crs", None, None, None, RuleHistory.ANY),
    "neuro-signs": (CALL, "triage-medguide-neuro", None, None, None, RuleHistory.ANY),
    "neuro-signs-more": (CALL, "triage-seed-002-warnings", None, None, None, RuleHistory.ANY),
    "neuro-signs-broader": (CALL, "triage-micromedex-tier-a", None, None, None, RuleHistory.ANY),
    "allergic-signs": (CALL, "triage-seed-002-call-now", None, None, None, RuleHistory.ANY),
    "infection-signs": (CALL, "triage-seed-002-call-now", None, None, None, RuleHistory.ANY),
    "heart-chest-signs": (CALL, "triage-seed-002-call-now", None, None, None, RuleHistory.ANY),
    "blood-signs": (CALL, "triage-seed-002-call-now", None, None, None, RuleHistory.ANY),
    "skin-urine-signs": (CALL, "triage-seed-002-call-now", None, None, None, RuleHistory.ANY),
    "tls-signs": (CALL, "triage-seed-002-call-now", None, None, None, RuleHistory.ANY),
    "mood-changes": (CALL, "triage-seed-002-call-now", None, None, None, RuleHistory.ANY),
    "self-harm-thoughts": (CALL, "triage-self-harm", None, None, None, RuleHistory.ANY),
    "pancreatitis-signs": (CALL, "triage-seed-002-call-now", 3, None, None, RuleHistory.ANY),
    "pump-or-line-problem": (CALL, "triage-pump-line", None, None, None, RuleHistory.ANY),
    "feeling-very-unwell": (CALL, "triage-unwell-concern", None, None, None, RuleHistory.ANY),
    "other-new-or-worse": (
        CALL,
        "triage-seed-002-new-or-worse",
        None,
        None,
        None,
        RuleHistory.ANY,
    ),
    "new-or-worse": (
        CALL,
        "triage-seed-002-new-or-worse",
        None,
        None,
        None,
        RuleHistory.NEW_OR_WORSE,
    ),
    "severe-side-effect": (CALL, "triage-common-side-effects", 3, None, None, RuleHistory.ANY),
    "side-effect-rose": (CALL, "triage-change-alert", None, None, 2, RuleHistory.ANY),
    "early-in-cycle": (CALL, "triage-early-course", 2, None, None, RuleHistory.NEW),
    "early-in-cycle-mild": (SAME, "triage-early-course", None, 1, None, RuleHistory.NEW),
    "early-in-cycle-sign": (CALL, "triage-early-course", None, None, None, RuleHistory.NEW),
    "new-or-worse-side-effect": (
        SAME,
        "triage-change-alert",
        2,
        None,
        None,
        RuleHistory.NEW_OR_WORSE,
    ),
    "new-side-effect-sign": (
        SAME,
        "triage-change-alert",
        None,
        None,
        None,
        RuleHistory.NEW_OR_WORSE,
    ),
    "persisting-call-clinic": (
        SAME,
        "triage-childrens-mn-call-clinic",
        None,
        None,
        None,
        RuleHistory.PERSISTING,
    ),
    "persisting-vomiting-diarrhoea": (
        SAME,
        "triage-persisting-gi",
        2,
        None,
        None,
        RuleHistory.PERSISTING,
    ),
    "new-mild-side-effect": (
        ROUTINE,
        "triage-change-alert",
        None,
        1,
        None,
        RuleHistory.NEW_OR_WORSE,
    ),
    "persisting-side-effect": (
        ROUTINE,
        "triage-common-side-effects",
        None,
        None,
        None,
        RuleHistory.PERSISTING,
    ),
}


def test_golden_rules_row_by_row(rules: TriageRules) -> None:
    # The rules for everyone; the rules for one therapy's patients are golden-tested in
    # test_triage_therapies.py.
    loaded = {
        r.id: (r.level, r.source, r.min_severity, r.max_severity, r.min_rise, r.history)
        for r in rules.rules
        if not r.therapies
    }

    assert loaded == GOLDEN_RULES


def test_golden_every_red_flag_rule_of_issue_6_is_kept(rules: TriageRules) -> None:
    """Issue 15 item 15: every red-flag rule stays as it was (the level of the severe-sign
    and severe-fever rules moved to call-now by item 16)."""
    by_id = {r.id: r for r in rules.rules}
    kept = {
        "seizure": {"seizure"},
        "collapse": {"fainting", "hard-to-wake"},
        "allergic-with-breathing": {"trouble-breathing", "wheezing", "throat-tightness"},
        "fever": {"fever"},
        "crs-signs": {"dizziness", "face-swelling", "wheezing", "trouble-breathing"},
        "neuro-signs": {"confusion", "trouble-speaking", "loss-of-balance"},
        "mood-changes": {
            "depression",
            "anxiety",
            "mood-swings",
            "loss-of-interest",
            "suicidal-thoughts",
        },
        "tls-signs": {
            "trouble-passing-urine",
            "muscle-cramps",
            "poor-appetite",
            "abnormal-heartbeat",
        },
    }
    for rule_id, symptoms in kept.items():
        assert by_id[rule_id].symptoms == frozenset(symptoms), rule_id
    flags = {s.id for s in rules.symptoms.values() if s.red_flag}
    assert flags - _common(rules) == flags


def test_golden_new_or_worse_covers_every_sign_but_the_common_side_effects(
    rules: TriageRules,
) -> None:
    rule = next(r for r in rules.rules if r.id == "new-or-worse")

    assert rule.symptoms == frozenset(rules.symptoms) - _common(rules)


def test_golden_early_in_cycle_covers_every_symptom(rules: TriageRules) -> None:
    """Early after a start, step-up or restart every new symptom alerts: a graded one by
    its severity (call now when at least moderate, same day when mild), a yes/no sign by
    its own red-flag rule or, when it is not a red flag, the early sign rule."""
    early = {r.id: r for r in rules.rules if r.id.startswith("early-in-cycle")}
    graded = {s.id for s in rules.symptoms.values() if s.has_severity}
    signs = {s.id for s in rules.symptoms.values() if not s.has_severity and not s.red_flag}

    assert set(early) == {"early-in-cycle", "early-in-cycle-mild", "early-in-cycle-sign"}
    assert all(rule.early_course and rule.history is RuleHistory.NEW for rule in early.values())
    assert early["early-in-cycle"].symptoms == early["early-in-cycle-mild"].symptoms == graded
    assert early["early-in-cycle-sign"].symptoms == signs
    assert (early["early-in-cycle"].level, early["early-in-cycle-sign"].level) == (CALL, CALL)


def test_golden_severe_side_effect_leaves_out_yes_no_signs(rules: TriageRules) -> None:
    rule = next(r for r in rules.rules if r.id == "severe-side-effect")
    common = _common(rules)

    assert "weight-gain" in common
    assert rule.symptoms == common - {"weight-gain"}


# --- the symptom list and the instructions -------------------------------------------------

ISSUE_IDS = (
    "fever",
    "chills",
    "confusion",
    "seizure",
    "trouble-speaking",
    "loss-of-balance",
    "trouble-breathing",
    "chest-pain",
    "pump-alarm",
    "line-leak",
    "nausea",
    "headache",
)


def test_symptom_ids_are_kebab_case_unique_and_include_the_issue_examples(
    rules: TriageRules,
) -> None:
    text = (KNOWLEDGE_DIR / "triage.toml").read_text(encoding="utf-8")
    ids = re.findall(r'^\[\[symptoms\]\]\nid = "([^"]+)"', text, re.M)

    assert ids == list(rules.symptoms)
    assert len(ids) == len(set(ids))
    assert all(re.fullmatch(KEBAB_CASE, symptom) for symptom in ids)
    assert set(ISSUE_IDS) <= set(ids)


def test_symptom_groups_cover_the_issue_list(rules: TriageRules) -> None:
    groups = {s.group for s in rules.symptoms.values()}

    assert groups == set(rules.groups)
    assert {"neuro", "crs", "allergic", "infection", "bleeding", "tls", "mood", "pump-line"} <= (
        groups
    )
    assert {"line-disconnected", "dressing-problem", "stomach-pain", "back-pain"} <= set(
        rules.symptoms
    )


def test_every_instruction_and_name_is_non_empty_and_sourced(
    rules: TriageRules, knowledge: Knowledge
) -> None:
    guidances = [guide.guidance for guide in rules.levels.values()]
    guidances += [group.guidance for group in rules.groups.values()]
    guidances += [rules.always, rules.infusing]
    instructions = [i for g in guidances for i in g.do_now + g.tell_team + g.do_not]

    assert instructions
    assert all(i.text.strip() and i.source in knowledge.sources for i in instructions)
    assert all(s.name.strip() and s.source in knowledge.sources for s in rules.symptoms.values())
    assert all(r.reason.strip() for r in rules.rules + rules.temperature_rules)


def test_every_level_says_what_to_do_now(rules: TriageRules) -> None:
    assert set(rules.levels) == set(TriageLevel)
    assert all(guide.guidance.do_now for guide in rules.levels.values())
    assert {level for level, guide in rules.levels.items() if guide.alert_care_team} == {E, CALL}


def test_always_instructions_forbid_flushing_and_pump_changes(rules: TriageRules) -> None:
    do_not = {i.source: i.text for i in rules.always.do_not}

    assert do_not["triage-label-2.1-do-not-flush"].startswith("Never flush")
    assert do_not["triage-label-2.1-pump-settings"].startswith("Never change the pump settings")


def test_plausible_temperatures_are_30_45_c_and_86_113_f(rules: TriageRules) -> None:
    assert (rules.temperature_c.low, rules.temperature_c.high) == (30, 45)
    assert (rules.temperature_f.low, rules.temperature_f.high) == (86, 113)
    assert rules.plausibility_source == "triage-blina-plausibility"


def test_site_parameters_are_named_as_such(rules: TriageRules, knowledge: Knowledge) -> None:
    # No source gives a window: a site parameter with a conservative default, said so.
    assert rules.early_course_days == 7
    assert rules.early_course_source == "triage-early-course"
    says = knowledge.sources["triage-early-course"].says
    assert "SITE PARAMETER, not a clinical fact" in says
    assert "7 days" in says
    # The size of Basch's worsening is not in the reference: a site parameter, said so.
    assert "SITE PARAMETER" in knowledge.sources["triage-change-alert"].says
    # No source gives acknowledgement times: none at all.
    assert dict(rules.acknowledgement_minutes) == dict.fromkeys(TriageLevel)
    assert rules.acknowledgement_source == "triage-ack-site-parameter"


def test_no_crisis_line_or_clinic_number_in_the_instructions(rules: TriageRules) -> None:
    """A crisis line is a clinic setting (issue 15 item 16); the only telephone numbers in
    the instructions are the emergency numbers 112 / 999 / 911 (telephone facts)."""
    guidances = [guide.guidance for guide in rules.levels.values()]
    guidances += [group.guidance for group in rules.groups.values()]
    guidances += [rules.always, rules.infusing]
    texts = [i.text for g in guidances for i in g.do_now + g.tell_team + g.do_not]
    texts += [i.text for guide in rules.levels.values() for i in guide.in_hospital]
    numbers = {n for text in texts for n in re.findall(r"\b\d{3,}\b", text)}

    assert numbers == {"112", "999", "911"}


def test_in_hospital_instructions_say_call_the_nurse(rules: TriageRules) -> None:
    for level in (E, CALL, SAME):
        first = rules.levels[level].in_hospital[0]
        assert "in hospital" in first.text
        assert "nurse" in first.text
        assert first.source == "triage-in-hospital"
    assert not rules.levels[ROUTINE].in_hospital


def test_crisis_line_symptoms_are_the_self_harm_group(rules: TriageRules) -> None:
    crisis = {s.id for s in rules.symptoms.values() if s.crisis_line}

    assert crisis == {"suicidal-thoughts", "self-harm-danger"}
    assert {rules.symptoms[s].group for s in crisis} == {"self-harm"}


# --- malformed files ---------------------------------------------------------------------------

SOURCES = load_sources(KNOWLEDGE_DIR)
TEXT = (KNOWLEDGE_DIR / "triage.toml").read_text(encoding="utf-8")


def _load_edited(tmp_path: Path, old: str, new: str) -> TriageRules:
    assert old in TEXT, f"test data out of date: {old!r}"
    path = tmp_path / "triage.toml"
    path.write_text(TEXT.replace(old, new, 1), encoding="utf-8")
    return load_triage(path, SOURCES)


FIRST_LEVEL = '[[levels]]\nid = "emergency"'
MEMORY_LOSS = 'id = "memory-loss"\nname = "New forgetfulness or memory loss"\ngroup = "neuro"'
PERSISTING_RULE = 'id = "persisting-call-clinic"\nlevel = "same-day"'
PERSISTING_GI = 'id = "persisting-vomiting-diarrhoea"\nlevel = "same-day"'

MALFORMED = [
    (
        "[plausibility.temperature_c]\nlow = 30\nhigh = 45",
        "[plausibility.temperature_c]\nlow = 45\nhigh = 45",
        "plausibility.temperature_c",
        "low must be below high",
        "plausible-range-empty",
    ),
    (
        'id = "call-now"\nname = "Call your care team now"',
        'id = "emergency"\nname = "Call your care team now"',
        "levels[1].id",
        "appears twice",
        "level-twice",
    ),
    (
        'id = "breathing-heart"',
        'id = "neuro"',
        "groups[1].id",
        "appears twice",
        "group-twice",
    ),
    (
        'id = "fainting"',
        'id = "seizure"',
        "symptoms[1].id",
        "appears twice",
        "symptom-twice",
    ),
    (
        'id = "seizure"\nname = "Seizure (fit)',
        'id = "Seizure"\nname = "Seizure (fit)',
        "symptoms[0].id",
        "should match pattern",
        "symptom-not-kebab-case",
    ),
    (
        MEMORY_LOSS,
        MEMORY_LOSS.replace('"neuro"', '"brain"'),
        "symptoms[18].group",
        "'brain' is not in groups",
        "symptom-unknown-group",
    ),
    (
        'level = "emergency"\nsymptoms = ["seizure"]',
        'level = "emergency"',
        "rules[0]",
        "name symptoms, groups or all_symptoms = true",
        "rule-without-symptoms",
    ),
    (
        'symptoms = ["seizure"]',
        'symptoms = ["fits"]',
        "rules[0].symptoms[0]",
        "symptom 'fits' is not defined",
        "rule-unknown-symptom",
    ),
    (
        'groups = ["pump-line"]',
        'groups = ["pump"]',
        "rules[22].groups[0]",
        "group 'pump' is not defined",
        "rule-unknown-group",
    ),
    (
        'with_any = ["hives",',
        'with_any = ["welts",',
        "rules[5].with_any[0]",
        "symptom 'welts' is not defined",
        "rule-unknown-with-any",
    ),
    (
        'with_any = ["hives",',
        'with_any = ["wheezing", "hives",',
        "rules[5].with_any",
        "must not repeat the rule's own symptoms",
        "with-any-repeats-own",
    ),
    (
        'symptoms = ["chest-pain"]\nmin_severity = 3',
        'symptoms = ["chest-pain"]\nmin_severity = 5',
        "rules[2].min_severity",
        "must be at most 4",
        "min-severity-past-scale",
    ),
    (
        'symptoms = ["chest-pain"]\nmin_severity = 3',
        'symptoms = ["chest-pain", "seizure"]\nmin_severity = 3',
        "rules[2].symptoms",
        "seizure has no severity for min_severity",
        "min-severity-on-yes-no-sign",
    ),
    (
        "threshold_c = 40.0",
        "threshold_c = 46.0",
        "temperature_rules[0].threshold_c",
        "must be >= 30 and <= 45",
        "threshold-outside-plausible",
    ),
    (
        'id = "temperature-very-high"',
        'id = "seizure"',
        "temperature_rules[0].id",
        "rule id seizure appears twice",
        "rule-id-twice",
    ),
    (
        'id = "more-than-one-same-day"',
        'id = "no-warning-sign"',
        "no_rule.id",
        "rule id no-warning-sign appears twice",
        "outcome-id-twice",
    ),
    (
        MEMORY_LOSS + "\nseverity = false\nred_flag = false",
        MEMORY_LOSS + "\nseverity = false\nred_flag = true",
        "symptoms[18].red_flag",
        "no unconditional rule makes this red flag at least call-now",
        "red-flag-without-rule",
    ),
    (
        PERSISTING_RULE,
        PERSISTING_RULE.replace("same-day", "emergency"),
        "rules[38].level",
        "emergency for persisting memory-loss is more urgent than the same symptom new or worse",
        "persisting-more-urgent-than-new",
    ),
    (
        PERSISTING_GI,
        PERSISTING_GI.replace("same-day", "call-now"),
        "rules[39].level",
        "call-now for persisting diarrhea is more urgent than the same symptom new or worse",
        "persisting-more-urgent-than-new-at-that-severity",
    ),
    (
        'symptoms = ["chest-pain"]\nmin_severity = 3',
        'symptoms = ["chest-pain"]\nmin_severity = 2',
        "rules[2].min_severity",
        "a 'not sure' alone never calls emergency services",
        "emergency-reachable-by-not-sure",
    ),
    (
        'symptoms = ["chest-pain"]\nmin_severity = 3',
        'symptoms = ["chest-pain"]\nmin_rise = 2',
        "rules[2].min_rise",
        "an emergency never rests on a rise",
        "emergency-on-a-rise",
    ),
    (
        'symptoms = ["chest-pain"]\nmin_severity = 3',
        'symptoms = ["chest-pain"]\nmin_severity = 3\nmax_severity = 2',
        "rules[2].max_severity",
        "must not be below min_severity",
        "max-severity-below-min",
    ),
    (
        "max_severity = 1",
        "max_severity = 5",
        "rules[40].max_severity",
        "must be at most 4",
        "max-severity-past-scale",
    ),
    (
        'groups = ["common"]\nmin_rise = 2',
        'symptoms = ["weight-gain"]\nmin_rise = 2',
        "rules[27].symptoms",
        "weight-gain has no severity for min_rise",
        "min-rise-on-yes-no-sign",
    ),
    (
        "interferes_counts_as = 3",
        "interferes_counts_as = 2",
        "severity.interferes_counts_as",
        "must be above unknown_counts_as and at most 4",
        "follow-up-not-above-not-sure",
    ),
    (
        'min_findings = 2\nlevel = "call-now"',
        'min_findings = 2\nlevel = "same-day"',
        "same_day_escalation.level",
        "must be more urgent than same-day",
        "escalation-not-higher",
    ),
    (
        '[[acknowledgement]]\nlevel = "call-now"',
        '[[acknowledgement]]\nlevel = "emergency"',
        "acknowledgement[1].level",
        "appears twice",
        "acknowledgement-twice",
    ),
    (
        '[[acknowledgement]]\nlevel = "routine"\nsource = "triage-ack-site-parameter"\n',
        "",
        "acknowledgement",
        "missing level(s): routine",
        "acknowledgement-missing",
    ),
    (
        'source = "triage-icans-seizure"',
        'source = "nowhere"',
        "rules[0].source",
        "not in sources.toml",
        "unknown-source",
    ),
    (
        'text = "Keep the catheter and its dressing clean and dry."',
        'text = ""',
        "groups[11].do_now[1].text",
        "at least 1 character",
        "empty-instruction",
    ),
    (
        "min_findings = 2",
        "min_findings = 0",
        "same_day_escalation.min_findings",
        "greater than 0",
        "min-findings-zero",
    ),
    ("[severity]\n", "[severity\n", "(syntax)", "", "syntax-error"),
]


@pytest.mark.parametrize(
    ("old", "new", "key_path", "problem"), [m[:4] for m in MALFORMED], ids=[m[4] for m in MALFORMED]
)
def test_load_triage_malformed_names_file_and_key_path(
    tmp_path: Path, old: str, new: str, key_path: str, problem: str
) -> None:
    with pytest.raises(KnowledgeError) as raised:
        _load_edited(tmp_path, old, new)

    assert raised.value.file == "triage.toml"
    assert raised.value.key_path == key_path
    assert problem in raised.value.problem


def test_load_triage_site_parameters_load_when_a_site_sets_them(tmp_path: Path) -> None:
    assert "window_days = 7\n" in TEXT
    edited = TEXT.replace("window_days = 7\n", "window_days = 3\n", 1).replace(
        '[[acknowledgement]]\nlevel = "emergency"',
        '[[acknowledgement]]\nlevel = "emergency"\nminutes = 15',
        1,
    )
    path = tmp_path / "triage.toml"
    path.write_text(edited, encoding="utf-8")

    site = load_triage(path, SOURCES)

    assert site.early_course_days == 3
    assert site.acknowledgement_minutes[E] == 15
    assert site.acknowledgement_minutes[CALL] is None


def _level_block(level: str) -> str:
    start = TEXT.index(f'[[levels]]\nid = "{level}"')
    end = (
        TEXT.index("\n[[levels]]", start + 1) if level != "routine" else TEXT.index("# ---", start)
    )
    return TEXT[start:end]


def test_load_triage_missing_level_is_named(tmp_path: Path) -> None:
    with pytest.raises(KnowledgeError) as raised:
        _load_edited(tmp_path, _level_block("routine"), "")

    assert (raised.value.key_path, raised.value.problem) == ("levels", "missing level(s): routine")


def test_load_triage_level_with_nothing_to_do_now_is_refused(tmp_path: Path) -> None:
    block = _level_block("same-day")

    with pytest.raises(KnowledgeError) as raised:
        _load_edited(tmp_path, block, block.replace("[[levels.do_now]]", "[[levels.tell_team]]"))

    assert (raised.value.key_path, raised.value.problem) == (
        "levels",
        "level same-day says nothing to do now",
    )
