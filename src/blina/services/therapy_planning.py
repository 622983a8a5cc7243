"""Plan a therapy other than blinatumomab: the one place that maps a therapy key to its
planner, so the CLI now (and the API and pages later) read one ``TherapyPlan``.

The registry is knowledge (``Knowledge.therapies``: key -> facts of one kind); this
module measures the patient (BSA given, or from height and weight by Mosteller within
blina's plausibility ranges) and calls the planner of the facts' kind. Inputs arrive
typed; a missing or impossible one is ``InvalidInput`` naming the field.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from blina.domain.body import BodyRules, Range, bsa_mosteller
from blina.domain.errors import InvalidInput
from blina.domain.therapies.cycle_doses import (
    CycleDoseFacts,
    CycleDoseRequest,
    Response,
    Transplant,
    plan_cycle_doses,
)
from blina.domain.therapies.hosted_doses import (
    HostedDoseFacts,
    HostedDoseRequest,
    plan_hosted_doses,
)
from blina.domain.therapies.model import TherapyPlan
from blina.domain.units import Cm, Kg
from blina.knowledge import Knowledge

__all__ = ["TherapyInputs", "plan_therapy", "therapy_keys"]

BLINATUMOMAB = "blinatumomab"  # planned by blina.domain.planning, not here


@dataclass(frozen=True, slots=True)
class TherapyInputs:
    """Everything any therapy's planner may need; each planner says what it requires."""

    therapy: str
    bsa_m2: Decimal | None = None
    weight_kg: Decimal | None = None
    height_cm: Decimal | None = None
    start: date | None = None  # cycle 1 day 1 (cycle doses)
    transplant: Transplant | None = None
    responses: tuple[Response, ...] = ()
    mrd_negative: bool | None = None
    first_cycle_days: int | None = None
    dose_dates: Mapping[tuple[int, int], date] = field(default_factory=dict)
    blasts_per_mm3: Decimal | None = None
    host_day1: Mapping[str, date] = field(default_factory=dict)


def therapy_keys(knowledge: Knowledge) -> tuple[str, ...]:
    """Every therapy ``blina plan --therapy`` knows, blinatumomab first."""
    return (BLINATUMOMAB, *sorted(knowledge.therapies))


def plan_therapy(knowledge: Knowledge, inputs: TherapyInputs) -> TherapyPlan:
    facts = knowledge.therapies.get(inputs.therapy)
    if facts is None:
        known = ", ".join(k for k in therapy_keys(knowledge) if k != BLINATUMOMAB)
        raise InvalidInput("therapy", inputs.therapy, f"one of {known} (or blinatumomab)")
    bsa = _bsa(knowledge.body_rules, inputs)
    if isinstance(facts, CycleDoseFacts):
        return plan_cycle_doses(facts, _cycle_request(inputs, bsa))
    return _hosted(facts, inputs, bsa)


def _hosted(facts: HostedDoseFacts, inputs: TherapyInputs, bsa: Decimal) -> TherapyPlan:
    if not inputs.host_day1:
        names = ", ".join(c.key for c in facts.courses)
        raise InvalidInput("host_day1", "(missing)", f"given for at least one of {names}")
    return plan_hosted_doses(facts, HostedDoseRequest(bsa, inputs.host_day1, inputs.weight_kg))


def _cycle_request(inputs: TherapyInputs, bsa: Decimal) -> CycleDoseRequest:
    if inputs.start is None:
        raise InvalidInput("start", "(missing)", "given (cycle 1 day 1, YYYY-MM-DD)")
    if inputs.transplant is None:
        allowed = " or ".join(t.value for t in Transplant)
        raise InvalidInput("transplant", "(missing)", f"given: {allowed}")
    return CycleDoseRequest(
        bsa_m2=bsa,
        start=inputs.start,
        transplant=inputs.transplant,
        responses=inputs.responses,
        mrd_negative=inputs.mrd_negative,
        first_cycle_days=inputs.first_cycle_days,
        given=inputs.dose_dates,
        blasts_per_mm3=_blasts(inputs.blasts_per_mm3),
        weight_kg=inputs.weight_kg,
    )


def _blasts(value: Decimal | None) -> Decimal | None:
    if value is not None and (not value.is_finite() or value < 0):
        raise InvalidInput("blasts_per_mm3", value, ">= 0")
    return value


def _bsa(rules: BodyRules, inputs: TherapyInputs) -> Decimal:
    """The BSA given (within the range blina's weight and height limits allow), or
    Mosteller's from height and weight; never both."""
    if inputs.weight_kg is not None:
        _within("weight_kg", inputs.weight_kg, rules.weight_kg)
    if inputs.bsa_m2 is not None:
        if inputs.height_cm is not None:
            raise InvalidInput("bsa_m2", inputs.bsa_m2, "given alone, or height_cm with weight_kg")
        largest = bsa_mosteller(
            weight=Kg(rules.weight_kg.high),
            height=Cm(rules.height_cm.high),
            quantum=rules.bsa_quantum_m2,
        ).value
        if not inputs.bsa_m2.is_finite() or not Decimal(0) < inputs.bsa_m2 <= largest:
            raise InvalidInput("bsa_m2", inputs.bsa_m2, f"> 0 and <= {largest}")
        return inputs.bsa_m2
    if inputs.height_cm is None or inputs.weight_kg is None:
        raise InvalidInput("bsa_m2", "(missing)", "given, or height_cm and weight_kg")
    _within("height_cm", inputs.height_cm, rules.height_cm)
    bsa = bsa_mosteller(
        weight=Kg(inputs.weight_kg), height=Cm(inputs.height_cm), quantum=rules.bsa_quantum_m2
    )
    return bsa.value


def _within(name: str, value: Decimal, allowed: Range) -> None:
    if not value.is_finite() or value not in allowed:
        raise InvalidInput(name, value, allowed.describe())
