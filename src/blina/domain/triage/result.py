"""The result of triage: the level, the rules that fired, the findings and the instructions.

``Triage`` is what a person reads, what a service stores (``to_dict()``, JSON-ready) and
what raises an alert; ``Finding`` is one reported symptom as the rules read it,
``FiredRule`` one rule that fired and why.
"""

from datetime import datetime
from typing import Any, NamedTuple

from blina.domain.triage.check_in import Context, Temperature
from blina.domain.triage.rules import (
    Guidance,
    History,
    Instruction,
    SymptomRule,
    TemperatureRule,
    TriageLevel,
)

__all__ = ["TEMPERATURE", "Finding", "FiredRule", "Triage"]

TEMPERATURE = "temperature"
"""The trigger named by a temperature rule (symptom ids are kebab-case words)."""


class Finding(NamedTuple):
    """A reported symptom as triaged. ``severity`` None with ``has_severity``: "not sure";
    ``counted_as`` is the severity the rules read (None for a yes/no sign), and
    ``interferes`` the answer to the follow-up question."""

    symptom: str
    name: str
    has_severity: bool
    severity: int | None
    history: History
    counted_as: int | None = None
    interferes: bool | None = None


class FiredRule(NamedTuple):
    """A rule that fired: why, its source, and what triggered it (symptom ids or
    ``"temperature"``)."""

    id: str
    level: TriageLevel
    reason: str
    source: str
    triggers: tuple[str, ...]
    also_source: str | None = None

    @classmethod
    def of(cls, rule: SymptomRule | TemperatureRule, triggers: tuple[str, ...]) -> "FiredRule":
        """``rule`` as fired by ``triggers``."""
        return cls(rule.id, rule.level, rule.reason, rule.source, triggers, rule.also_source)


class Triage(NamedTuple):
    """The answer to a check-in, ready for a person, a service and storage.

    ``alert_care_team`` says whether the care team is alerted (call-now and emergency);
    ``crisis_line`` whether the answer shows the clinic's crisis line (thoughts of
    self-harm); ``to_dict()`` is the JSON-ready form (every value a str, int, bool,
    None, list or dict; decimals as exact text).

    Immutable like every domain value, but a ``NamedTuple`` rather than a frozen
    dataclass: the frozen dataclass's ``__init__`` alone took a fifth of a triage, and
    issue 6 asks for 100,000 decisions a second on one core.
    """

    level: TriageLevel
    alert_care_team: bool
    rules: tuple[FiredRule, ...]
    instructions: Guidance
    findings: tuple[Finding, ...]
    temperature: Temperature | None
    context: Context
    observed_at: datetime
    notes: tuple[str, ...] = ()
    free_text: str = ""
    crisis_line: bool = False

    def to_dict(self) -> dict[str, Any]:
        temperature = self.temperature
        context = self.context
        return {
            "level": str(self.level),
            "alert": self.alert_care_team,
            "crisis_line": self.crisis_line,
            "rules": [
                {
                    "id": rule.id,
                    "level": str(rule.level),
                    "reason": rule.reason,
                    "source": rule.source,
                    "also_source": rule.also_source,
                    "triggers": list(rule.triggers),
                }
                for rule in self.rules
            ],
            "instructions": {
                "do_now": _instructions(self.instructions.do_now),
                "tell_team": _instructions(self.instructions.tell_team),
                "do_not": _instructions(self.instructions.do_not),
            },
            "symptoms": [
                {
                    "id": finding.symptom,
                    "name": finding.name,
                    "severity_applies": finding.has_severity,
                    "severity": finding.severity,
                    "counted_as": finding.counted_as,
                    "interferes": finding.interferes,
                    "history": str(finding.history),
                }
                for finding in self.findings
            ],
            "temperature": None
            if temperature is None
            else {
                "value": str(temperature.value),
                "unit": str(temperature.unit),
                "celsius": str(temperature.celsius_shown),
                "as_entered": temperature.describe(),
            },
            "context": {
                "cycle_day": context.cycle_day,
                "infusing": context.infusing,
                "days_since_start_or_step_up": context.days_since_start_or_step_up,
                "age_group": None if context.age_group is None else str(context.age_group),
                "recent_check_ins": len(context.recent),
                "in_hospital": context.in_hospital,
                "therapy": context.therapy,
                "days_since_cell_infusion": context.days_since_cell_infusion,
            },
            "observed_at": self.observed_at.isoformat(),
            "notes": list(self.notes),
            "free_text": self.free_text,
        }


def _instructions(items: tuple[Instruction, ...]) -> list[dict[str, str]]:
    return [{"text": item.text, "source": item.source} for item in items]
