"""Test data builders: patients, regimens that no label has, and a clinic with a family.

The domain takes regimens as arguments, so tests can plan courses on synthetic regimens
(odd cycle counts, several step-ups, short or long cycles) as easily as on the label's.
Every builder has defaults that make a valid object; tests override only what they test.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy.orm import Session

from blina.domain.body import AgeGroup, BodySize, measure_body
from blina.domain.regimens import (
    BagOption,
    CycleSpec,
    DoseStep,
    Evidence,
    LabelVersion,
    MonitoringRule,
    Phase,
    PrecautionRule,
    PremedicationRule,
    PremedTrigger,
    Regimen,
    SourcedNote,
)
from blina.domain.units import Kg, McgPerDay, McgPerM2PerDay, Mg, MgPerM2
from blina.knowledge import load_knowledge
from blina.services.accounts import create_user, to_actor
from blina.services.actors import Actor
from blina.services.patients import create_patient
from blina.store.tables import Clinic

SYNTHETIC_SOURCE = "synthetic-test-data"


def make_body(
    *,
    weight_kg: Decimal = Decimal("70"),
    height_cm: Decimal | None = Decimal("175"),
    age_years: Decimal = Decimal("40"),
) -> BodySize:
    """A measured patient, checked against the shipped body rules (default: an adult >= 45 kg)."""
    return measure_body(
        weight_kg=weight_kg,
        height_cm=height_cm,
        age_years=age_years,
        rules=load_knowledge().body_rules,
    )


def make_adult() -> BodySize:
    """70 kg, 175 cm, 40 years: fixed dosing, adult premedication."""
    return make_body()


def make_child() -> BodySize:
    """20 kg, 110 cm, 6 years: BSA sqrt(110 x 20 / 3600) = 0.7817 -> 0.78 m2."""
    return make_body(weight_kg=Decimal("20"), height_cm=Decimal("110"), age_years=Decimal("6"))


def make_step(
    first_day: int,
    last_day: int,
    *,
    fixed: Decimal = Decimal("28"),
    per_m2: Decimal = Decimal("15"),
    cap: Decimal | None = None,
) -> DoseStep:
    """A dose step; the cap defaults to the fixed dose, as in the label."""
    return DoseStep(
        first_day=first_day,
        last_day=last_day,
        fixed=McgPerDay(fixed),
        per_m2=McgPerM2PerDay(per_m2),
        cap=McgPerDay(fixed if cap is None else cap),
        source=SYNTHETIC_SOURCE,
    )


def make_cycle(
    number: int,
    *,
    phase: str = "treatment",
    infusion_days: int = 28,
    length_days: int = 42,
    steps: Sequence[DoseStep] | None = None,
    inpatient_days: int = 0,
) -> CycleSpec:
    """One cycle; by default a single step over every infusion day."""
    return CycleSpec(
        number=number,
        phase=phase,
        infusion_days=infusion_days,
        length_days=length_days,
        steps=tuple(steps) if steps is not None else (make_step(1, infusion_days),),
        inpatient_days=inpatient_days,
        source=SYNTHETIC_SOURCE,
        inpatient_source=SYNTHETIC_SOURCE,
    )


def make_premedication(
    *,
    age_group: AgeGroup = AgeGroup.ADULT,
    drug: str = "dexamethasone",
    dose: Decimal | None = None,
    dose_per_m2: Decimal | None = None,
    max_dose: Decimal | None = None,
    minutes_before: int = 60,
    triggers: Iterable[PremedTrigger] = (PremedTrigger.CYCLE_START,),
    cycles: tuple[int, ...] | None = None,
) -> PremedicationRule:
    """A premedication rule; give ``dose`` (mg) or ``dose_per_m2`` (mg/m2)."""
    return PremedicationRule(
        age_group=age_group,
        drug=drug,
        route="IV",
        dose=None if dose is None else Mg(dose),
        dose_per_m2=None if dose_per_m2 is None else MgPerM2(dose_per_m2),
        max_dose=None if max_dose is None else Mg(max_dose),
        minutes_before=minutes_before,
        timing="before",
        triggers=frozenset(triggers),
        cycles=cycles,
        alternative=None,
        source=SYNTHETIC_SOURCE,
    )


def make_bag_options() -> tuple[BagOption, ...]:
    """24 h without preservative; 96 h and 168 h with, not below 5.4 kg (168 h: 22 kg older)."""
    return (
        BagOption(hours=24, preservative=False, source=SYNTHETIC_SOURCE),
        BagOption(
            hours=96,
            preservative=True,
            source=SYNTHETIC_SOURCE,
            min_weight=Kg(Decimal("5.4")),
            min_weight_source=SYNTHETIC_SOURCE,
        ),
        BagOption(
            hours=168,
            preservative=True,
            source=SYNTHETIC_SOURCE,
            min_weight=Kg(Decimal("5.4")),
            min_weight_source=SYNTHETIC_SOURCE,
            older_min_weight=Kg(Decimal("22")),
            older_min_weight_source=SYNTHETIC_SOURCE,
        ),
    )


def make_regimen(
    *,
    cycles: Sequence[CycleSpec] = (),
    premedication: Sequence[PremedicationRule] = (),
    evidence: Evidence = Evidence.LABEL,
    weight_threshold_kg: Decimal = Decimal("45"),
    bag_options: Sequence[BagOption] | None = None,
    monitoring: Sequence[MonitoringRule] = (),
    precautions: Sequence[PrecautionRule] = (),
    regimen_id: str = "synthetic",
) -> Regimen:
    """A regimen no label has; phases are derived from the cycles' phase names.

    With no ``cycles``, two plain 28-of-42-day cycles.
    """
    specs = tuple(cycles) or (make_cycle(1), make_cycle(2))
    names = list(dict.fromkeys(spec.phase for spec in specs))
    return Regimen(
        id=regimen_id,
        name=f"Synthetic regimen {regimen_id}",
        indication="none: test data",
        label=LabelVersion(region="XX", revision="0000-00", title="synthetic"),
        evidence=evidence,
        weight_threshold=Kg(weight_threshold_kg),
        weight_threshold_source=SYNTHETIC_SOURCE,
        phases=tuple(
            Phase(name, sum(1 for spec in specs if spec.phase == name), SYNTHETIC_SOURCE)
            for name in names
        ),
        cycles=specs,
        premedication=tuple(premedication),
        monitoring=tuple(monitoring),
        bag_options=tuple(make_bag_options() if bag_options is None else bag_options),
        precautions=tuple(precautions),
        supervision=SourcedNote("supervised cycle start", SYNTHETIC_SOURCE),
        notes=(),
        source=SYNTHETIC_SOURCE,
    )


PASSWORD = "a long password"


@dataclass(frozen=True)
class ClinicWithFamily:
    clinic_id: int
    staff: Actor
    patient_id: int
    family: Actor


def add_clinic_with_family(session: Session, *, now: datetime, staff_role: str) -> ClinicWithFamily:
    """A clinic in Europe/Paris with one member of staff (username: the role), a patient
    ("P1") and the patient's caregiver ("family"), each signing in with ``PASSWORD``."""
    clinic = Clinic(name="c", zone="Europe/Paris", created_at=now)
    session.add(clinic)
    session.flush()
    staff = create_user(
        session,
        actor=None,
        now=now,
        clinic_id=clinic.id,
        username=staff_role,
        display_name=staff_role,
        role=staff_role,
        password=PASSWORD,
    )
    patient = create_patient(session, actor=to_actor(staff), now=now, code="P1", display_name="p")
    family = create_user(
        session,
        actor=None,
        now=now,
        clinic_id=clinic.id,
        username="family",
        display_name="f",
        role="caregiver",
        password=PASSWORD,
        patient_id=patient.id,
    )
    return ClinicWithFamily(clinic.id, to_actor(staff), patient.id, to_actor(family))
