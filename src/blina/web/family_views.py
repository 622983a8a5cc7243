"""What the family's check-in, its answer and the Today page show (issue 18), arranged from
the rule set: the emergency signs asked first, the symptoms under their body area, the
check-in as it was sent, and the signs grouped by how soon to act.

Nothing here decides a level: which signs are emergencies is ``TriageRules.
emergency_signs()``, and the answer is the stored triage.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from babel.numbers import format_decimal

from blina.domain.errors import InvalidInput
from blina.domain.triage.rulebook import TriageRules
from blina.domain.triage.rules import Symptom, SymptomArea, SymptomGroup, TriageLevel

__all__ = [
    "AreaView",
    "EmergencySignView",
    "SentCheckIn",
    "SentSymptom",
    "TherapyRuleView",
    "TherapySigns",
    "asked",
    "emergency_sign_views",
    "emergency_symptom",
    "group_views",
    "sent_check_in",
    "symptom_areas",
    "therapy_signs",
    "with_emergency_sign",
]


@dataclass(frozen=True, slots=True)
class EmergencySignView:
    """An emergency sign as the family reads it: the symptom's name and, for a graded
    one, the severity word at which it alone is an emergency ("severe")."""

    id: str
    name: str
    severity_word: str | None


@dataclass(frozen=True, slots=True)
class AreaView:
    """A body area of the check-in form with its symptoms; ``ticked``: how many of them
    the form holds ticked (an area with one is shown open)."""

    area: SymptomArea
    symptoms: tuple[Symptom, ...]
    ticked: int


@dataclass(frozen=True, slots=True)
class SentSymptom:
    """A symptom of a stored check-in: its name, its severity word (None for a yes/no
    sign, "not sure" left as None too: ``not_sure``) and the answer to the follow-up."""

    id: str
    name: str
    severity_word: str | None
    not_sure: bool
    interferes: bool | None


@dataclass(frozen=True, slots=True)
class SentCheckIn:
    """A stored check-in as it was sent: the temperature (in the reader's number format),
    the emergency signs, the other symptoms and the note."""

    temperature: str | None
    temperature_unit: str
    signs: tuple[SentSymptom, ...]
    symptoms: tuple[SentSymptom, ...]
    note: str


def emergency_sign_views(rules: TriageRules) -> list[EmergencySignView]:
    return [
        EmergencySignView(
            sign.symptom,
            rules.symptoms[sign.symptom].name,
            None if sign.severity is None else rules.severity_words[sign.severity],
        )
        for sign in rules.emergency_signs()
    ]


def emergency_symptom(rules: TriageRules, sign: str) -> tuple[str, int | None]:
    """The symptom and severity a "yes" to the emergency sign ``sign`` reports; a sign
    that is not one is refused, naming the field and the signs allowed."""
    for known in rules.emergency_signs():
        if known.symptom == sign:
            return known.symptom, known.severity
    allowed = ", ".join(s.symptom for s in rules.emergency_signs())
    raise InvalidInput("emergency_sign", sign or "(empty)", f"one of {allowed}")


def with_emergency_sign(
    symptoms: Mapping[str, int | None], symptom: str, severity: int | None
) -> dict[str, int | None]:
    """``symptoms`` with the emergency sign added: where the same symptom was ticked too,
    the worse of the two answers is kept ("not sure" is no answer)."""
    merged = dict(symptoms)
    ticked = merged.get(symptom)
    if ticked is None or (severity is not None and severity > ticked):
        merged[symptom] = severity
    return merged


def asked(symptom: Symptom, therapy: str | None = None) -> bool:
    """Whether the check-in form and the today page show ``symptom`` to a patient of
    ``therapy`` (None: the rule set's default, a patient on no other therapy): a sign
    asked only of some therapies' patients is left out for the others."""
    return not symptom.therapies or therapy in symptom.therapies


def symptom_areas(
    rules: TriageRules, ticked: Sequence[str], therapy: str | None = None
) -> list[AreaView]:
    """The body areas in the knowledge file's order, each with the symptoms asked of a
    patient of ``therapy`` (None: the rule set's default); an area with no symptom is left
    out."""
    views = []
    for area in rules.areas.values():
        symptoms = tuple(
            s for s in rules.symptoms.values() if s.area == area.id and asked(s, therapy)
        )
        if symptoms:
            count = sum(1 for s in symptoms if s.id in ticked)
            views.append(AreaView(area, symptoms, count))
    return views


def group_views(
    rules: TriageRules, *, red_flag: bool, therapy: str | None = None
) -> list[tuple[SymptomGroup, list[Symptom]]]:
    """The symptom groups with their red-flag signs (``red_flag``) or the others asked of
    a patient of ``therapy`` (None: the rule set's default), in the knowledge file's
    order; a group with none is left out."""
    groups = [
        (
            group,
            [
                s
                for s in rules.symptoms.values()
                if s.group == group.id and s.red_flag is red_flag and asked(s, therapy)
            ],
        )
        for group in rules.groups.values()
    ]
    return [(group, symptoms) for group, symptoms in groups if symptoms]


@dataclass(frozen=True, slots=True)
class TherapyRuleView:
    """A rule of the rule set limited to a therapy, at call-now or above, as the family
    reads it: its reason and its signs (each with the severity word from which it fires;
    none: every new or worse symptom, as the reason says). ``window``: only in the days
    after the cell infusion (``TherapySigns.window_days``)."""

    id: str
    level: str
    reason: str
    window: bool
    signs: tuple[EmergencySignView, ...]


@dataclass(frozen=True, slots=True)
class TherapySigns:
    """A therapy's own warning signs: its rules, emergency first; for a cell therapy the
    days of its window after the infusion. ``groups``: the rules of the window and those
    of any time, each group emergency first, the group with the more urgent rule first
    (the window's on a tie)."""

    therapy: str
    window_days: int | None
    rules: tuple[TherapyRuleView, ...]

    @property
    def groups(self) -> list[tuple[bool, list[TherapyRuleView]]]:
        grouped = [
            (window, [r for r in self.rules if r.window is window]) for window in (True, False)
        ]
        present = [(window, rules) for window, rules in grouped if rules]
        return sorted(present, key=lambda g: -max(TriageLevel(r.level).rank for r in g[1]))


_ACT_NOW = (TriageLevel.EMERGENCY, TriageLevel.CALL_NOW)


def therapy_signs(rules: TriageRules, therapy: str) -> TherapySigns | None:
    """The rules the rule set adds for the patients of ``therapy`` at call-now or above
    (emergency first, then in the file's order); None for a therapy triage does not know.
    Nothing here decides a level: the rules are the knowledge's, read as they are."""
    guide = rules.therapies.get(therapy)
    if guide is None:
        return None
    everything = frozenset(rules.symptoms)
    own = [r for r in rules.rules if therapy in r.therapies and r.level in _ACT_NOW]
    own.sort(key=lambda r: _ACT_NOW.index(r.level))
    views = tuple(
        TherapyRuleView(
            rule.id,
            rule.level.value,
            rule.reason,
            rule.infusion_window,
            ()
            if rule.symptoms >= everything
            else tuple(
                EmergencySignView(
                    s.id,
                    s.name,
                    None
                    if rule.min_severity is None or not s.has_severity
                    else rules.severity_words[rule.min_severity],
                )
                for s in rules.symptoms.values()
                if s.id in rule.symptoms
            ),
        )
        for rule in own
    )
    return TherapySigns(therapy, guide.window_days, views)


def sent_check_in(rules: TriageRules, report: Mapping[str, Any], language: str) -> SentCheckIn:
    """The check-in of a stored ``report`` (``reports._as_entered``), named from the rule
    set; a symptom the rule set no longer has keeps its id."""
    emergency = {sign.symptom for sign in rules.emergency_signs()}
    interferes: Mapping[str, bool] = report.get("interferes") or {}
    signs: list[SentSymptom] = []
    others: list[SentSymptom] = []
    for symptom_id, severity in (report.get("symptoms") or {}).items():
        symptom = rules.symptoms.get(symptom_id)
        graded = symptom is not None and symptom.has_severity
        sent = SentSymptom(
            symptom_id,
            symptom_id if symptom is None else symptom.name,
            None if severity is None else rules.severity_words[int(severity)],
            graded and severity is None,
            interferes.get(symptom_id),
        )
        (signs if symptom_id in emergency else others).append(sent)
    return SentCheckIn(
        _number(report.get("temperature"), language),
        str(report.get("temperature_unit") or "C"),
        tuple(signs),
        tuple(others),
        str(report.get("note") or ""),
    )


def _number(value: object, language: str) -> str | None:
    """A stored decimal in the reader's format (a decimal comma in Spanish)."""
    if value in (None, ""):
        return None
    try:
        return format_decimal(Decimal(str(value)), format="#,##0.0##", locale=language)
    except InvalidOperation:
        return str(value)
