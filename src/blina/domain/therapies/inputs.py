"""What the physician enters to plan a therapy other than blinatumomab: one record for
every kind (cycle doses, hosted doses, a CAR-T journey), each planner reading its own
fields (``blina.services.therapy_planning`` refuses a field of another kind).

Plain values, so that a stored therapy course keeps them as JSON
(``blina.interop.json.therapy_inputs``) and re-plans from them on every read.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from blina.domain.therapies.cycle_doses import Response, Transplant

__all__ = ["TherapyInputs"]


@dataclass(frozen=True, slots=True)
class TherapyInputs:
    """Everything any therapy's planner may need; each planner says what it requires."""

    therapy: str
    bsa_m2: Decimal | None = None
    weight_kg: Decimal | None = None
    height_cm: Decimal | None = None
    # checked against the label's ages (indications.toml); a plan without it says so
    age_years: Decimal | None = None
    start: date | None = None  # cycle 1 day 1 (cycle doses)
    transplant: Transplant | None = None
    responses: tuple[Response, ...] = ()
    mrd_negative: bool | None = None
    first_cycle_days: int | None = None
    dose_dates: Mapping[tuple[int, int], date] = field(default_factory=dict)
    blasts_per_mm3: Decimal | None = None
    host_day1: Mapping[str, date] = field(default_factory=dict)
    # CAR-T (``start`` is day 0, the first cell infusion; weight required; BSA where the
    # product's lymphodepletion is per m2). The last five before the periods are
    # obecabtagene's split dose; the grades are the worst ASTCT grades after its Day 1.
    leukapheresis_on: date | None = None
    product_ready_on: date | None = None
    bridging: str | None = None  # the bridging therapy as the physician records it
    bridging_start: date | None = None
    lymphodepletion_start: date | None = None
    marrow_blasts_percent: Decimal | None = None
    second_dose_on: date | None = None
    first_dose_crs_grade: int | None = None
    first_dose_icans_grade: int | None = None
    second_dose_withheld: bool = False
    stay_near_days: int | None = None
    no_driving_days: int | None = None
