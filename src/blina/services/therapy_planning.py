"""Plan a therapy other than blinatumomab: the one place that maps a therapy key to its
planner, so the CLI now (and the API and pages later) read one ``TherapyPlan``.

The registry is knowledge (``Knowledge.therapies``: key -> facts of one kind, and
``Knowledge.car_t``: the CAR-T products, planned as a journey around day 0); this module
measures the patient (BSA given, or from height and weight by Mosteller within blina's
plausibility ranges) and calls the planner of the facts' kind. Inputs arrive typed; a
missing or impossible one is ``InvalidInput`` naming the field, and so is a field of the
other kind (a CAR-T input for a drug, a drug's input for a CAR-T journey).
"""

from dataclasses import replace
from decimal import Decimal

from blina.domain.body import BodyRules, Range, bsa_mosteller
from blina.domain.errors import InvalidInput
from blina.domain.therapies.car_t import CarTProduct
from blina.domain.therapies.cell_inputs import Bridging, Journey
from blina.domain.therapies.cell_journey import plan_cell_journey
from blina.domain.therapies.cell_second_dose import FirstDoseReaction
from blina.domain.therapies.cycle_doses import (
    CycleDoseFacts,
    CycleDoseRequest,
    Transplant,
    plan_cycle_doses,
)
from blina.domain.therapies.hosted_doses import (
    HostedDoseFacts,
    HostedDoseRequest,
    plan_hosted_doses,
)
from blina.domain.therapies.indication import age_warning
from blina.domain.therapies.inputs import TherapyInputs
from blina.domain.therapies.model import TherapyPlan
from blina.domain.units import M2, Cm, Kg
from blina.knowledge import Knowledge

__all__ = ["CELL_FIELDS", "TherapyInputs", "plan_therapy", "therapy_keys", "therapy_name"]

BLINATUMOMAB = "blinatumomab"  # planned by blina.domain.planning, not here


# The inputs only a CAR-T journey takes, those only obecabtagene's split dose takes, and
# those only the drugs (cycle or hosted doses) take: each refused for the other kind.
CELL_FIELDS = (
    "leukapheresis_on",
    "product_ready_on",
    "bridging",
    "bridging_start",
    "lymphodepletion_start",
    "marrow_blasts_percent",
    "second_dose_on",
    "first_dose_crs_grade",
    "first_dose_icans_grade",
    "second_dose_withheld",
    "stay_near_days",
    "no_driving_days",
)
_SPLIT_FIELDS = CELL_FIELDS[5:10]
_DOSE_FIELDS = (
    "transplant",
    "responses",
    "mrd_negative",
    "first_cycle_days",
    "dose_dates",
    "blasts_per_mm3",
    "host_day1",
)
# Cycle doses (inotuzumab) start on cycle 1 day 1; hosted doses on their host courses'
# day 1: each kind refuses the other's, never ignores it.
_CYCLE_FIELDS = ("start", *_DOSE_FIELDS[:6])
_HOSTED_FIELDS = _DOSE_FIELDS[6:]


_UNGIVEN = TherapyInputs(therapy="")  # every field at its default: not given


def therapy_keys(knowledge: Knowledge) -> tuple[str, ...]:
    """Every therapy ``blina plan --therapy`` knows: blinatumomab first, then the drugs,
    then the CAR-T products (each group sorted)."""
    return (BLINATUMOMAB, *sorted(knowledge.therapies), *sorted(knowledge.car_t.products))


def therapy_name(knowledge: Knowledge, key: str) -> str:
    """The therapy's name for a heading ("Tisagenlecleucel (KYMRIAH)"), or the key."""
    product = knowledge.car_t.products.get(key)
    if product is not None:
        return product.name
    return getattr(knowledge.therapies.get(key), "name", key)


def plan_therapy(knowledge: Knowledge, inputs: TherapyInputs) -> TherapyPlan:
    """The therapy's plan; its first warning, where the patient's age is not given or
    lies outside the label's ages, says so (the plan is still made)."""
    if inputs.age_years is not None:
        _within("age_years", inputs.age_years, knowledge.body_rules.age_years)
    plan = _planned(knowledge, inputs)
    warning = age_warning(knowledge.age_indications[plan.therapy], inputs.age_years)
    if warning is None:
        return plan
    return replace(plan, warnings=(warning, *plan.warnings))


def _planned(knowledge: Knowledge, inputs: TherapyInputs) -> TherapyPlan:
    product = knowledge.car_t.products.get(inputs.therapy)
    if product is not None:
        return _cell_journey(knowledge.body_rules, product, inputs)
    facts = knowledge.therapies.get(inputs.therapy)
    if facts is None:
        known = ", ".join(k for k in therapy_keys(knowledge) if k != BLINATUMOMAB)
        raise InvalidInput("therapy", inputs.therapy, f"one of {known} (or blinatumomab)")
    cars = ", ".join(knowledge.car_t.products)
    _refuse(inputs, CELL_FIELDS, f"left out for {inputs.therapy}: used only for CAR-T ({cars})")
    if isinstance(facts, CycleDoseFacts):
        hosts = " or ".join(
            k for k, f in knowledge.therapies.items() if not isinstance(f, CycleDoseFacts)
        )
        _refuse(inputs, _HOSTED_FIELDS, f"left out for {inputs.therapy}: used only for {hosts}")
        return plan_cycle_doses(facts, _cycle_request(inputs, _bsa(knowledge.body_rules, inputs)))
    _refuse(inputs, _CYCLE_FIELDS, f"left out for {inputs.therapy}: its days come from host_day1")
    return _hosted(facts, inputs, _bsa(knowledge.body_rules, inputs))


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


def _cell_journey(rules: BodyRules, product: CarTProduct, inputs: TherapyInputs) -> TherapyPlan:
    """The CAR-T journey of ``product``: the inputs as a ``Journey``; the domain checks
    the dates against each other and the label's windows."""
    key = product.key
    _refuse(inputs, _DOSE_FIELDS, f"left out for {key}: a CAR-T journey does not use it")
    if product.split is None:
        _refuse(inputs, _SPLIT_FIELDS, f"left out for {key}: it is one infusion")
    if inputs.start is None:
        raise InvalidInput("start", "(missing)", "given (day 0, the cell infusion, YYYY-MM-DD)")
    if inputs.weight_kg is None:
        raise InvalidInput("weight_kg", "(missing)", f"given for {key}: the cell dose is by weight")
    bsa = _measured_bsa(rules, inputs)
    if bsa is None and product.lymphodepletion.drugs:
        raise InvalidInput(
            "bsa_m2",
            "(missing)",
            f"given, or height_cm with weight_kg, for {key}: lymphodepletion is dosed in mg/m2",
        )
    journey = Journey(
        first_infusion=inputs.start,
        weight=Kg(inputs.weight_kg),
        bsa=None if bsa is None else M2(bsa),
        leukapheresis_on=inputs.leukapheresis_on,
        product_ready_on=inputs.product_ready_on,
        bridging=_bridging(inputs),
        lymphodepletion_start=inputs.lymphodepletion_start,
        marrow_blasts_percent=inputs.marrow_blasts_percent,
        second_dose_on=inputs.second_dose_on,
        first_dose_reaction=_reaction(inputs),
        second_dose_withheld=inputs.second_dose_withheld,
        stay_near_days=inputs.stay_near_days,
        no_driving_days=inputs.no_driving_days,
    )
    return plan_cell_journey(product, journey)


def _bridging(inputs: TherapyInputs) -> Bridging | None:
    if inputs.bridging is None and inputs.bridging_start is None:
        return None
    if inputs.bridging is None:
        raise InvalidInput("bridging", "(missing)", "given with bridging_start (what is given)")
    if inputs.bridging_start is None:
        raise InvalidInput("bridging_start", "(missing)", "given with bridging (YYYY-MM-DD)")
    return Bridging(inputs.bridging, inputs.bridging_start)


def _reaction(inputs: TherapyInputs) -> FirstDoseReaction | None:
    """The worst CRS and ICANS grades after the first obecabtagene infusion: both or none
    (an ungraded syndrome is not taken as grade 0)."""
    crs, icans = inputs.first_dose_crs_grade, inputs.first_dose_icans_grade
    if crs is None and icans is None:
        return None
    if crs is None:
        raise InvalidInput("first_dose_crs_grade", "(missing)", _GRADE_WITH + "icans_grade")
    if icans is None:
        raise InvalidInput("first_dose_icans_grade", "(missing)", _GRADE_WITH + "crs_grade")
    try:
        return FirstDoseReaction(crs_grade=crs, icans_grade=icans)
    except InvalidInput as error:
        raise InvalidInput(f"first_dose_{error.field}", error.value, error.allowed) from None


_GRADE_WITH = "a grade from 0 (none) to 4, given with first_dose_"


def _refuse(inputs: TherapyInputs, names: tuple[str, ...], allowed: str) -> None:
    """A field given (not its default) for a therapy that does not take it is refused."""
    for name in names:
        if getattr(inputs, name) != getattr(_UNGIVEN, name):
            raise InvalidInput(name, "given", allowed)


def _bsa(rules: BodyRules, inputs: TherapyInputs) -> Decimal:
    """The BSA given or measured (``_measured_bsa``); missing is refused."""
    bsa = _measured_bsa(rules, inputs)
    if bsa is None:
        raise InvalidInput("bsa_m2", "(missing)", "given, or height_cm and weight_kg")
    return bsa


def _measured_bsa(rules: BodyRules, inputs: TherapyInputs) -> Decimal | None:
    """The BSA given (within the range blina's weight and height limits allow), or
    Mosteller's from height and weight, or None without them; never both."""
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
        return None
    _within("height_cm", inputs.height_cm, rules.height_cm)
    bsa = bsa_mosteller(
        weight=Kg(inputs.weight_kg), height=Cm(inputs.height_cm), quantum=rules.bsa_quantum_m2
    )
    return bsa.value


def _within(name: str, value: Decimal, allowed: Range) -> None:
    if not value.is_finite() or value not in allowed:
        raise InvalidInput(name, value, allowed.describe())
