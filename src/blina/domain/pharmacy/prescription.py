"""A prescription for one bag, and its checks against the label and the site.

``prescribe`` builds a ``Prescription`` from raw values: a dose in mcg/day, or a dose per
m2 with a BSA, capped at the label's cap. ``check_prescription`` returns a
``CheckReport``, never an exception: the dose against the label cap (hard), the dose
basis, the bag's weight floor (the newest source's floor is hard, an older stricter one
soft), and optionally one care area's limits.
"""

from dataclasses import dataclass
from decimal import Decimal

from blina.domain.checks import Check, CheckLevel, CheckReport
from blina.domain.errors import InvalidInput
from blina.domain.pharmacy.reference import LabelDoseRules, ReferenceBag
from blina.domain.pharmacy.site_library import CareArea
from blina.domain.sentences import Template
from blina.domain.units import M2, Kg, McgPerDay, McgPerM2PerDay

__all__ = ["Prescription", "check_prescription", "prescribe"]

# How a prescription is described in its checks (``blina.domain.sentences``).
DAILY_DOSE = Template("{dose}")
PER_M2_DOSE = Template("{per_m2} x {bsa} = {dose}")
PER_M2_DOSE_CAPPED = Template("{per_m2} x {bsa} = {dose}, capped")
WITHIN_LABEL = Template("{prescription} is within the label's dose limits")


@dataclass(frozen=True, slots=True)
class Prescription:
    """The daily dose one bag must deliver, its duration, and the patient's weight.

    For a dose per m2, ``dose`` is ``per_m2`` x ``bsa`` capped at the label cap, and
    ``capped`` says whether the cap applied.
    """

    dose: McgPerDay
    bag_hours: int
    weight: Kg
    per_m2: McgPerM2PerDay | None = None
    bsa: M2 | None = None
    capped: bool = False

    def describe(self) -> str:
        if self.per_m2 is None or self.bsa is None:
            return DAILY_DOSE(dose=self.dose)
        said = PER_M2_DOSE_CAPPED if self.capped else PER_M2_DOSE
        return said(per_m2=self.per_m2, bsa=self.bsa, dose=self.dose)


def prescribe(
    *,
    bag_hours: int,
    weight_kg: Decimal,
    rules: LabelDoseRules,
    bsa_max: M2,
    dose_mcg_per_day: Decimal | None = None,
    dose_mcg_per_m2_per_day: Decimal | None = None,
    bsa_m2: Decimal | None = None,
) -> Prescription:
    """A prescription from raw values: a dose in mcg/day, or a dose per m2 with a BSA.

    The per-m2 dose is capped at the label's cap for that dose (5 -> 9, 15 -> 28 mcg/day).
    Raises ``InvalidInput`` naming the field for a missing, extra or non-positive value.
    A dose above the label cap is not an input error: ``check_prescription`` stops it.
    """
    _positive("weight_kg", weight_kg)
    if bsa_m2 is not None and not (bsa_m2.is_finite() and Decimal(0) < bsa_m2 <= bsa_max.value):
        raise InvalidInput("bsa_m2", bsa_m2, f"> 0 and <= {bsa_max.value}")
    if dose_mcg_per_day is not None:
        if dose_mcg_per_m2_per_day is not None:
            raise InvalidInput(
                "dose_mcg_per_m2_per_day", dose_mcg_per_m2_per_day, "omitted with dose_mcg_per_day"
            )
        _positive("dose_mcg_per_day", dose_mcg_per_day)
        # A BSA beside a fixed dose is kept only to say what it is per m2 (under the
        # weight threshold, where the label doses per m2).
        bsa = None if bsa_m2 is None else M2(bsa_m2)
        return Prescription(McgPerDay(dose_mcg_per_day), bag_hours, Kg(weight_kg), bsa=bsa)
    if dose_mcg_per_m2_per_day is None:
        raise InvalidInput(
            "dose_mcg_per_day", "(missing)", "a dose in mcg/day, or a dose per m2 with a BSA"
        )
    _positive("dose_mcg_per_m2_per_day", dose_mcg_per_m2_per_day)
    if bsa_m2 is None:
        raise InvalidInput("bsa_m2", "(missing)", "given with dose_mcg_per_m2_per_day")
    per_m2 = McgPerM2PerDay(dose_mcg_per_m2_per_day)
    bsa = M2(bsa_m2)
    uncapped = per_m2 * bsa
    cap = rules.cap_for(per_m2)
    capped = uncapped.value > cap.value
    dose = cap if capped else uncapped
    return Prescription(dose, bag_hours, Kg(weight_kg), per_m2, bsa, capped)


def _positive(field: str, value: Decimal) -> None:
    if not value.is_finite() or value <= 0:
        raise InvalidInput(field, value, "a number > 0")


def check_prescription(
    prescription: Prescription,
    *,
    rules: LabelDoseRules,
    bag: ReferenceBag,
    care_area: CareArea | None = None,
) -> CheckReport:
    """The prescription against the label, the bag's weight floors and a care area.

    Hard: a dose above the label cap (``rules.max_dose_source``) or above the highest
    labelled dose per m2; a fixed mcg/day under the weight threshold (the label doses a
    child per m2); a preservative-containing bag under its newest weight floor;
    a bag duration or dose outside the care area's hard limits.
    Soft: a dose per m2 at or above the weight threshold; a dose the label does not
    list; a bag under an older, stricter weight floor; a care area's soft limits.
    """
    found = [*_label_checks(prescription, rules), *_weight_checks(prescription, bag)]
    if care_area is not None:
        found.extend(_care_area_checks(prescription, care_area))
    if not found:
        found.append(
            Check(
                CheckLevel.OK,
                "prescription-within-label",
                WITHIN_LABEL(prescription=prescription.describe()),
                rules.max_dose_source,
            )
        )
    return CheckReport(tuple(found))


def _label_checks(rx: Prescription, rules: LabelDoseRules) -> list[Check]:
    found: list[Check] = []
    if rx.dose.value > rules.max_dose.value:
        found.append(
            Check(
                CheckLevel.HARD,
                "dose-above-label-cap",
                f"{rx.dose.value} mcg/day is above the label's maximum {rules.max_dose.value}"
                " mcg/day",
                rules.max_dose_source,
            )
        )
    threshold = rules.weight_threshold.value
    heavy = rx.weight.value >= threshold
    if rx.per_m2 is None:
        if rx.dose.value not in rules.fixed_doses:
            labelled = " or ".join(str(d) for d in rules.fixed_doses)
            found.append(
                Check(
                    CheckLevel.SOFT,
                    "dose-not-labelled",
                    f"{rx.dose.value} mcg/day is not a labelled fixed dose ({labelled} mcg/day)",
                    rules.max_dose_source,
                )
            )
        if not heavy:
            found.append(_fixed_dose_for_a_child(rx, rules))
        return found
    labelled_m2 = [dose for dose, _ in rules.caps]
    if rx.per_m2.value > rules.max_per_m2.value:
        found.append(
            Check(
                CheckLevel.HARD,
                "dose-above-label-cap",
                f"{rx.per_m2.value} mcg/m2/day is above the label's maximum"
                f" {rules.max_per_m2.value} mcg/m2/day",
                rules.max_per_m2_source,
            )
        )
    elif rx.per_m2.value not in labelled_m2:
        found.append(
            Check(
                CheckLevel.SOFT,
                "dose-not-labelled",
                f"{rx.per_m2.value} mcg/m2/day is not a labelled dose per m2"
                f" ({' or '.join(str(d) for d in labelled_m2)} mcg/m2/day)",
                rules.max_per_m2_source,
            )
        )
    if heavy:
        found.append(
            Check(
                CheckLevel.SOFT,
                "dose-basis",
                f"at {rx.weight.value} kg (>= {threshold} kg) the label doses a fixed mcg/day,"
                " not per m2",
                rules.weight_threshold_source,
            )
        )
    return found


def _fixed_dose_for_a_child(rx: Prescription, rules: LabelDoseRules) -> Check:
    """A fixed mcg/day under the weight threshold is a hard stop: the label doses a child
    per m2, and an adult's fixed dose in a small child is a multiple of the labelled
    maximum per m2. With a BSA, the stop says how many times."""
    threshold = rules.weight_threshold.value
    reason = (
        f"at {rx.weight.value} kg (under {threshold} kg) the label doses per m2 of BSA, not a"
        f" fixed mcg/day: prescribe mcg/m2/day"
    )
    if rx.bsa is not None:
        per_m2 = rx.dose.value / rx.bsa.value
        times = per_m2 / rules.max_per_m2.value
        reason += (
            f"; {rx.dose.value} mcg/day at {rx.bsa.value} m2 is {per_m2:.0f} mcg/m2/day,"
            f" {times:.1f} times the label's maximum {rules.max_per_m2.value} mcg/m2/day"
        )
    return Check(
        CheckLevel.HARD, "fixed-dose-under-threshold", reason, rules.weight_threshold_source
    )


def _weight_checks(rx: Prescription, bag: ReferenceBag) -> list[Check]:
    weight = rx.weight.value
    if bag.min_weight is not None and weight < bag.min_weight.value:
        return [
            Check(
                CheckLevel.HARD,
                "under-weight-floor",
                f"a {bag.hours}-h bag contains preservative (benzyl alcohol) and is not"
                f" recommended below {bag.min_weight.value} kg; the patient weighs {weight} kg",
                bag.min_weight_source or bag.source,
            )
        ]
    if bag.older_min_weight is not None and weight < bag.older_min_weight.value:
        return [
            Check(
                CheckLevel.SOFT,
                "under-older-weight-floor",
                f"an older source does not recommend the {bag.hours}-h bag below"
                f" {bag.older_min_weight.value} kg (preservative-free saline only); the"
                f" patient weighs {weight} kg",
                bag.older_min_weight_source or bag.source,
            )
        ]
    return []


def _care_area_checks(rx: Prescription, area: CareArea) -> list[Check]:
    found: list[Check] = []
    if rx.bag_hours not in area.bag_hours:
        allowed = ", ".join(str(h) for h in area.bag_hours)
        found.append(
            Check(
                CheckLevel.HARD,
                "bag-not-allowed-in-care-area",
                f"{rx.bag_hours}-h bags are not in the {area.name} library (allowed: {allowed} h)",
                area.source,
            )
        )
    dose = area.dose.check(rx.dose.value, what="dose", code="care-area-dose", area=area.name)
    per_m2 = (
        None
        if rx.per_m2 is None
        else area.dose_per_m2.check(
            rx.per_m2.value, what="dose", code="care-area-dose-per-m2", area=area.name
        )
    )
    found.extend(check for check in (dose, per_m2) if check is not None)
    return found
