"""blina's demo clinic: the same patients behind ``blina demo``, docs and tests.

The demo patients are invented; their plans come from the real knowledge data.
"""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from zoneinfo import ZoneInfo

from blina.domain.body import measure_body
from blina.domain.planning import CoursePlan, plan_course
from blina.knowledge import load_knowledge

__all__ = ["DEMO_PATIENTS", "DEMO_ZONE", "DemoPatient", "demo_plan"]

DEMO_ZONE = ZoneInfo("Europe/Paris")


@dataclass(frozen=True, slots=True)
class DemoPatient:
    name: str
    indication: str
    weight_kg: Decimal
    height_cm: Decimal
    age_years: Decimal
    bag_hours: int


DEMO_PATIENTS = (
    DemoPatient(
        "Alex (adult, relapsed)", "relapsed-refractory", Decimal(72), Decimal(178), Decimal(41), 96
    ),
    DemoPatient(
        "Sam (child, MRD-positive)", "mrd-positive", Decimal("21.5"), Decimal(118), Decimal(7), 48
    ),
)


def demo_plan(*, start: date, patient: DemoPatient = DEMO_PATIENTS[0]) -> CoursePlan:
    """The demo patient's whole course from ``start``."""
    knowledge = load_knowledge()
    body = measure_body(
        weight_kg=patient.weight_kg,
        height_cm=patient.height_cm,
        age_years=patient.age_years,
        rules=knowledge.body_rules,
    )
    return plan_course(
        regimen=knowledge.regimen(patient.indication),
        body=body,
        start=start,
        bag_hours=patient.bag_hours,
        zone=DEMO_ZONE,
    )
