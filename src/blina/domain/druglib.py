"""The pharmacy's facts and the site drug library, and the dose-error-reduction checks.

Two kinds of data meet here, and this module keeps them apart:

- ``PharmacyReference``: the sourced constants (``knowledge/pharmacy.toml``): vial content
  per region, reconstitution, bag rates and preservative status, weight floors,
  stability, the order of steps. Each carries its source id.
- ``SiteLibrary``: what a hospital pharmacy maintains and validates itself (a TOML file
  loaded with ``blina pharmacy load-library``): the values the reference could not
  retrieve (stabilizer volume, base saline per bag duration, priming volume, measurable
  volumes, tolerance), optional fixed preparation rows copied from the current label,
  and a drug-library entry per care area with soft and hard limits, as smart pumps use.

The checks return ``CheckReport`` values (``blina.domain.checks``), never exceptions:

- ``check_prescription``: the dose against the label cap (hard), the dose basis, the
  bag's weight floor (the newest source's floor is hard, an older stricter one soft), and
  optionally one care area's limits;
- ``check_pump_program``: a programmed rate and volume against the bag they are for; a
  rate that does not match is hard and the dose factor is shown;
- ``check_flush``: the bolus a line flush would push, in mcg and in hours of infusion.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Generic, TypeVar

from blina.domain.checks import Check, CheckLevel, CheckReport
from blina.domain.errors import InvalidInput
from blina.domain.regimens import Regimen
from blina.domain.rounding import MeasurableStep, VolumeRounding, round_factor, round_reported
from blina.domain.units import M2, Kg, Mcg, McgPerDay, McgPerM2PerDay, McgPerMl, Ml, MlPerHour

__all__ = [
    "DEMO_STAMP",
    "Advisory",
    "BenzylAlcoholLimit",
    "CareArea",
    "FlushCheck",
    "Infusion",
    "LabelDoseRules",
    "LabelRow",
    "Limits",
    "PharmacyReference",
    "Prescription",
    "PumpCheck",
    "Reconstitution",
    "ReferenceBag",
    "ReferenceSaline",
    "SiteBag",
    "SiteLibrary",
    "Sourced",
    "StabilityItem",
    "StabilityRule",
    "StepTemplate",
    "Storage",
    "Validation",
    "VialSpec",
    "check_flush",
    "check_prescription",
    "check_pump_program",
    "label_dose_rules",
    "prescribe",
]

DEMO_STAMP = "demo library: not for clinical use"
HOURS_PER_DAY = Decimal(24)

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Sourced(Generic[T]):
    """A value and the id of the source it comes from."""

    value: T
    source: str


# --- the reference: sourced constants ---------------------------------------------------


@dataclass(frozen=True, slots=True)
class VialSpec:
    """The labelled drug content of one vial in a region (35 mcg US, 38.5 mcg EU)."""

    region: str
    content: Mcg
    source: str


@dataclass(frozen=True, slots=True)
class Reconstitution:
    """Water per vial and the concentration it gives (3 mL SWFI, 12.5 mcg/mL)."""

    water_per_vial: Ml
    water_kind: str
    concentration: McgPerMl
    source: str

    def usable_per_vial(self, vial: VialSpec) -> Ml:
        """The volume one vial yields at the labelled concentration: content / concentration.

        Conservative on purpose: 35 mcg / 12.5 mcg/mL = 2.8 mL (US), 38.5 / 12.5 = 3.08 mL
        (EU). Blina never counts on drawing more drug than the vial is labelled to hold.
        """
        return Ml(vial.content.value / self.concentration.value)


class StabilityItem(StrEnum):
    PREPARED_BAG = "prepared-bag"
    RECONSTITUTED_VIAL = "reconstituted-vial"


class Storage(StrEnum):
    ROOM_TEMPERATURE = "room-temperature"
    REFRIGERATED = "refrigerated"


@dataclass(frozen=True, slots=True)
class StabilityRule:
    """How long ``item`` keeps at ``storage``; ``includes_infusion`` where the source says so.

    ``bag_hours`` limits a prepared-bag rule to those bag durations (None: any bag).
    """

    item: StabilityItem
    storage: Storage
    temperature: str
    hours: Decimal
    includes_infusion: bool
    bag_hours: tuple[int, ...] | None
    regions: tuple[str, ...]
    source: str

    def applies(self, *, bag_hours: int, region: str) -> bool:
        return region in self.regions and (self.bag_hours is None or bag_hours in self.bag_hours)


@dataclass(frozen=True, slots=True)
class ReferenceBag:
    """A bag duration as the reference gives it.

    ``rate`` applies in ``rate_regions`` only; ``rate_verified`` is False where the only
    source could not be cross-checked (72 h and 96 h: open question 2). ``min_weight`` is
    the newest source's floor (a hard limit); ``older_min_weight`` an older, stricter one
    (a soft limit).
    """

    hours: int
    preservative: bool
    saline_kind: str
    source: str
    rate: MlPerHour | None = None
    rate_regions: tuple[str, ...] = ()
    rate_verified: bool = True
    rate_note: str | None = None
    rate_source: str | None = None
    min_weight: Kg | None = None
    min_weight_source: str | None = None
    older_min_weight: Kg | None = None
    older_min_weight_source: str | None = None


@dataclass(frozen=True, slots=True)
class ReferenceSaline:
    """A base saline volume the reference gives (US-2014: 270 mL, 24/48 h, >= 45 kg)."""

    regions: tuple[str, ...]
    bag_hours: tuple[int, ...]
    min_weight: Kg
    volume: Ml
    source: str


@dataclass(frozen=True, slots=True)
class Advisory:
    """A warning printed with every recipe (or only with preservative-containing bags)."""

    code: str
    text: str
    source: str
    preservative_only: bool = False


@dataclass(frozen=True, slots=True)
class StepTemplate:
    """One preparation step; ``text`` has ``{name}`` fields filled from the recipe."""

    code: str
    text: str
    source: str


@dataclass(frozen=True, slots=True)
class PharmacyReference:
    """Every sourced constant the bag recipe uses (``knowledge/pharmacy.toml``).

    ``missing_preparation_source`` and ``missing_stability_source`` cite where the
    reference says a value was NOT RETRIEVED; checks that name a missing value cite them.
    """

    vials: Mapping[str, VialSpec]
    reconstitution: Reconstitution
    stabilizer_vial: Sourced[Ml]
    bags: Mapping[int, ReferenceBag]
    base_saline: tuple[ReferenceSaline, ...]
    stability: tuple[StabilityRule, ...]
    advisories: tuple[Advisory, ...]
    steps: tuple[StepTemplate, ...]
    bsa_max: Sourced[M2]
    missing_preparation_source: str
    missing_stability_source: str

    def advisory(self, code: str) -> Advisory:
        return next(a for a in self.advisories if a.code == code)


@dataclass(frozen=True, slots=True)
class LabelDoseRules:
    """The label's dose limits, read from the regimens (``label_dose_rules``).

    ``caps`` maps each labelled per-m2 dose to its cap (5 -> 9, 15 -> 28 mcg/day).
    """

    max_dose: McgPerDay
    max_dose_source: str
    max_per_m2: McgPerM2PerDay
    max_per_m2_source: str
    fixed_doses: tuple[Decimal, ...]
    caps: tuple[tuple[Decimal, Decimal], ...]
    weight_threshold: Kg
    weight_threshold_source: str

    def cap_for(self, per_m2: McgPerM2PerDay) -> McgPerDay:
        """The labelled cap for ``per_m2``; the highest label dose for an unlabelled one."""
        for dose, cap in self.caps:
            if dose == per_m2.value:
                return McgPerDay(cap)
        return self.max_dose


def label_dose_rules(regimens: Iterable[Regimen]) -> LabelDoseRules:
    """The highest fixed dose and cap, the highest dose per m2, and the cap of each.

    Every regimen's dose steps count; the sources are those of the steps that set the
    maxima, and the weight threshold's source is the regimens' own.
    """
    steps = [(r, s) for r in regimens for c in r.cycles for s in c.steps]
    top = max(steps, key=lambda rs: max(rs[1].fixed.value, rs[1].cap.value))
    top_m2 = max(steps, key=lambda rs: rs[1].per_m2.value)
    caps: dict[Decimal, Decimal] = {}
    for _, step in steps:
        caps[step.per_m2.value] = max(caps.get(step.per_m2.value, Decimal(0)), step.cap.value)
    regimen = top[0]
    return LabelDoseRules(
        max_dose=McgPerDay(max(top[1].fixed.value, top[1].cap.value)),
        max_dose_source=top[1].source,
        max_per_m2=top_m2[1].per_m2,
        max_per_m2_source=top_m2[1].source,
        fixed_doses=tuple(sorted({s.fixed.value for _, s in steps})),
        caps=tuple(sorted(caps.items())),
        weight_threshold=regimen.weight_threshold,
        weight_threshold_source=regimen.weight_threshold_source,
    )


# --- the site library --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Validation:
    """Who validated a site library, and when: two distinct pharmacists and a date."""

    pharmacists: tuple[str, ...]
    validated_on: date | None

    @property
    def problem(self) -> str | None:
        """Why the library does not count as validated; None when it does."""
        names = [name.strip() for name in self.pharmacists if name.strip()]
        distinct = {name.casefold() for name in names}
        if self.validated_on is None:
            return "the library has no validation date"
        if len(distinct) < 2 and len(names) >= 2:
            return f"the library was validated by {names[0]} twice, not by two pharmacists"
        if len(distinct) < 2:
            return "the library was not validated by two distinct pharmacists"
        return None

    def describe(self) -> str:
        return f"validated by {' and '.join(self.pharmacists)} on {self.validated_on}"


@dataclass(frozen=True, slots=True)
class SiteBag:
    """A site's parameters for one bag duration; None where the site gives none."""

    hours: int
    source: str
    stabilizer: Ml | None = None
    base_saline: Ml | None = None
    rate: MlPerHour | None = None
    stability: tuple[StabilityRule, ...] = ()
    # The benzyl alcohol in the site's preserved saline, as its product states (mg/mL).
    benzyl_alcohol_mg_per_ml: Decimal | None = None


@dataclass(frozen=True, slots=True)
class BenzylAlcoholLimit:
    """The site's limit on the benzyl alcohol a patient gets from a preserved bag, in
    mg/kg/day: a hard stop above it, a soft check from ``soft_from_percent`` of it. No
    retrieved label states a threshold, so it is the site's, with its source."""

    limit_mg_per_kg_per_day: Decimal
    soft_from_percent: Decimal
    source: str


@dataclass(frozen=True, slots=True)
class LabelRow:
    """A preparation row copied from the current label: a fixed recipe.

    A fixed-dose row has ``dose``; a BSA-band row has ``per_m2`` and ``bsa_min``..``bsa_max``
    (inclusive). Both are checked at load by the same computation as every recipe.
    """

    id: str
    bag_hours: int
    saline: Ml
    stabilizer: Ml
    drug: Ml
    vials: int
    source: str
    dose: McgPerDay | None = None
    per_m2: McgPerM2PerDay | None = None
    bsa_min: M2 | None = None
    bsa_max: M2 | None = None


@dataclass(frozen=True, slots=True)
class Limits:
    """Soft and hard limits on one quantity in one care area; None where none is set."""

    unit: str
    source: str
    soft_min: Decimal | None = None
    soft_max: Decimal | None = None
    hard_min: Decimal | None = None
    hard_max: Decimal | None = None

    def check(self, value: Decimal, *, what: str, code: str, area: str) -> Check | None:
        """The worst limit ``value`` breaks, as a check; None when it breaks none."""
        shown = f"{what} {value} {self.unit}"
        for level, low, high in (
            (CheckLevel.HARD, self.hard_min, self.hard_max),
            (CheckLevel.SOFT, self.soft_min, self.soft_max),
        ):
            kind = "hard" if level is CheckLevel.HARD else "soft"
            if high is not None and value > high:
                reason = f"{shown} is above the {kind} limit {high} {self.unit} in {area}"
                return Check(level, code, reason, self.source)
            if low is not None and value < low:
                reason = f"{shown} is below the {kind} limit {low} {self.unit} in {area}"
                return Check(level, code, reason, self.source)
        return None


@dataclass(frozen=True, slots=True)
class CareArea:
    """A drug-library entry for one care area, in the shape smart-pump libraries use."""

    id: str
    name: str
    bag_hours: tuple[int, ...]
    dose: Limits
    dose_per_m2: Limits
    rate: Limits
    concentration: Limits
    advisories: tuple[str, ...]
    source: str


@dataclass(frozen=True, slots=True)
class SiteLibrary:
    """A site drug library as the pharmacy wrote it (``blina pharmacy load-library FILE``).

    ``measurable`` lists the volumes the site can measure (syringe graduations), sorted
    by ``up_to_ml``; ``tolerance_percent`` is the largest difference allowed between the
    delivered and the prescribed dose. ``demo`` libraries stamp every recipe.
    """

    name: str
    version: str
    region: str
    demo: bool
    validation: Validation
    priming: Ml
    measurable: tuple[MeasurableStep, ...]
    tolerance_percent: Decimal
    rounding: VolumeRounding
    source: str
    bags: tuple[SiteBag, ...] = ()
    label_rows: tuple[LabelRow, ...] = ()
    care_areas: tuple[CareArea, ...] = ()
    benzyl_alcohol: BenzylAlcoholLimit | None = None

    @property
    def stamp(self) -> str | None:
        return DEMO_STAMP if self.demo else None

    def care_area(self, area_id: str) -> CareArea | None:
        return next((a for a in self.care_areas if a.id == area_id), None)


# --- a prescription for one bag ----------------------------------------------------------


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
            return f"{self.dose.value} mcg/day"
        cap = ", capped" if self.capped else ""
        return (
            f"{self.per_m2.value} mcg/m2/day x {self.bsa.value} m2 = {self.dose.value} mcg/day{cap}"
        )


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
                f"{prescription.describe()} is within the label's dose limits",
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


# --- the pump and the line ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Infusion:
    """What one prepared bag is meant to deliver: its rate, volume, drug and duration."""

    hours: int
    rate: MlPerHour
    infuse: Ml
    drug: Mcg
    total: Ml
    rate_source: str

    @property
    def concentration(self) -> McgPerMl:
        """Drug per mL of the bag: drug mass / total bag volume."""
        return McgPerMl(self.drug.value / self.total.value)

    def daily_dose_at(self, rate: MlPerHour) -> McgPerDay:
        """mcg/day the bag delivers at ``rate``: concentration x rate x 24 h."""
        return McgPerDay(self.drug.value * rate.value * HOURS_PER_DAY / self.total.value)


@dataclass(frozen=True, slots=True)
class PumpCheck:
    """A pump program's verdict with its figures.

    ``dose_factor`` is the programmed rate over the bag's rate (16.67 for a 7-day bag run
    at 10 mL/h: an overdose of 16.67 times); ``programmed_hours`` is volume / rate.
    """

    report: CheckReport
    dose_factor: Decimal
    programmed_dose: McgPerDay
    programmed_hours: Decimal


@dataclass(frozen=True, slots=True)
class FlushCheck:
    """A line flush's verdict: the bolus it pushes and the hours of infusion it equals."""

    report: CheckReport
    bolus: Mcg
    equivalent_hours: Decimal


def check_pump_program(
    infusion: Infusion,
    *,
    rate: MlPerHour,
    volume: Ml,
    care_area: CareArea | None = None,
) -> PumpCheck:
    """A pump program (rate, volume to be infused) against the bag it is meant for.

    Hard: a rate that is not the bag's rate (the dose factor and the daily dose it gives
    are in the reason); a volume to be infused above the bag's, which would run the bag
    past its duration into its priming overfill. Soft: a smaller volume, which stops the
    infusion early. With ``care_area``, its rate and concentration limits apply too.
    Source: the bag's rate source.
    """
    if rate.value <= 0:
        raise InvalidInput("rate_ml_per_h", rate.value, "a number > 0")
    if volume.value <= 0:
        raise InvalidInput("volume_ml", volume.value, "a number > 0")
    factor = rate.value / infusion.rate.value
    dose = infusion.daily_dose_at(rate)
    hours = volume.value / rate.value
    found = [_rate_check(infusion, rate, factor, dose)]
    volume_check = _volume_check(infusion, volume)
    if volume_check is not None:
        found.append(volume_check)
    if care_area is not None:
        name = care_area.name
        limits = (
            care_area.rate.check(rate.value, what="rate", code="care-area-rate", area=name),
            care_area.concentration.check(
                infusion.concentration.value,
                what="concentration",
                code="care-area-concentration",
                area=name,
            ),
        )
        found.extend(check for check in limits if check is not None)
    return PumpCheck(CheckReport(tuple(found)), factor, dose, hours)


def _rate_check(infusion: Infusion, rate: MlPerHour, factor: Decimal, dose: McgPerDay) -> Check:
    bag = f"the {infusion.hours}-h bag's {infusion.rate.value} mL/h"
    prescribed = infusion.daily_dose_at(infusion.rate).value
    if rate.value == infusion.rate.value:
        return Check(
            CheckLevel.OK,
            "rate-matches-bag",
            f"{rate.value} mL/h is {bag}",
            infusion.rate_source,
        )
    kind = "an overdose" if factor > 1 else "an underdose"
    return Check(
        CheckLevel.HARD,
        "rate-does-not-match-bag",
        f"{rate.value} mL/h is not {bag}: {kind} of {round_factor(factor)} times the"
        f" prescribed dose ({round_reported(dose.value)} instead of"
        f" {round_reported(prescribed)} mcg/day)",
        infusion.rate_source,
    )


def _volume_check(infusion: Infusion, volume: Ml) -> Check | None:
    infuse = infusion.infuse.value
    if volume.value > infuse:
        return Check(
            CheckLevel.HARD,
            "volume-above-bag",
            f"volume to be infused {volume.value} mL is more than the {infuse} mL this bag"
            f" infuses: the pump would run past {infusion.hours} h into the priming overfill",
            infusion.rate_source,
        )
    if volume.value < infuse:
        return Check(
            CheckLevel.SOFT,
            "volume-below-bag",
            f"volume to be infused {volume.value} mL is less than the {infuse} mL this bag"
            f" infuses: the infusion would stop before {infusion.hours} h",
            infusion.rate_source,
        )
    return None


def check_flush(infusion: Infusion, *, line_volume: Ml, rule: Advisory) -> FlushCheck:
    """What flushing ``line_volume`` of this bag's solution would push into the patient.

    bolus (mcg) = bag concentration x line volume; equivalent hours = line volume / rate.
    The label says never to flush the line (``rule``, the do-not-flush advisory): a hard
    stop, with the figures that show why.
    """
    if line_volume.value <= 0:
        raise InvalidInput("line_volume_ml", line_volume.value, "a number > 0")
    bolus = Mcg(infusion.drug.value * line_volume.value / infusion.total.value)
    hours = line_volume.value / infusion.rate.value
    reason = (
        f"do not flush: {line_volume.value} mL of this line holds"
        f" {round_reported(bolus.value)} mcg, pushed at once; the pump gives that over"
        f" {round_factor(hours)} h"
    )
    report = CheckReport((Check(CheckLevel.HARD, "do-not-flush", reason, rule.source),))
    return FlushCheck(report, bolus, hours)
