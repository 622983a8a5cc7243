"""Home symptom triage: a check-in becomes a level, the rules that fired, and instructions.

One module per concept, each importing only the ones above it in this list:

- ``check_in``: what a patient or family reports (``CheckIn``, ``SymptomAnswer``,
  ``Temperature``) and what the course says about them now (``Context``);
- ``rules``: the rules as data (``TriageLevel``, ``Symptom``, ``SymptomRule``,
  ``TemperatureRule``, the instructions ``Guidance``, ...);
- ``result``: the answer (``Triage``, with each ``Finding`` and ``FiredRule``);
- ``index``: the rule set arranged for lookup, decided once (``RuleIndex``);
- ``rulebook``: the whole rule set as one value (``TriageRules``), which builds its index;
- ``engine``: ``triage(check_in, context, rules, now=...)``, pure.

Why this package re-exports its public names: the other layers (knowledge, services, web,
cli) and the tests use triage as one thing, and most need names from three or four of
these modules at once; one import path keeps them simple and leaves the split free to
change. Inside the package, modules import from each other, never from here.
"""

from blina.domain.triage.check_in import (
    CheckIn,
    Context,
    SymptomAnswer,
    Temperature,
    TemperatureUnit,
)
from blina.domain.triage.engine import triage
from blina.domain.triage.result import Finding, FiredRule, Triage
from blina.domain.triage.rulebook import TriageRules
from blina.domain.triage.rules import (
    Compare,
    Guidance,
    History,
    Instruction,
    LevelGuide,
    Outcome,
    RuleHistory,
    SameDayEscalation,
    Symptom,
    SymptomGroup,
    SymptomRule,
    TemperatureRule,
    TriageLevel,
)

__all__ = [
    "CheckIn",
    "Compare",
    "Context",
    "Finding",
    "FiredRule",
    "Guidance",
    "History",
    "Instruction",
    "LevelGuide",
    "Outcome",
    "RuleHistory",
    "SameDayEscalation",
    "Symptom",
    "SymptomAnswer",
    "SymptomGroup",
    "SymptomRule",
    "Temperature",
    "TemperatureRule",
    "TemperatureUnit",
    "Triage",
    "TriageLevel",
    "TriageRules",
    "triage",
]
