"""The pharmacy reference: the sourced constants every bag recipe rests on.

``PharmacyReference`` holds what ``knowledge/pharmacy.toml`` gives, each value with its
source id: vial content per region, reconstitution, bag rates and preservative status,
weight floors, stability, advisories and the order of the preparation steps.
``LabelDoseRules`` holds the label's dose limits, read from the regimens. The reference
leaves gaps (values it could not retrieve); a site library fills them
(``blina.domain.pharmacy.site_library``), and ``resolution`` joins the two.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Generic, TypeVar

from blina.domain.regimens import Regimen
from blina.domain.units import M2, Kg, Mcg, McgPerDay, McgPerM2PerDay, McgPerMl, Ml, MlPerHour

__all__ = [
    "Advisory",
    "LabelDoseRules",
    "PharmacyReference",
    "Reconstitution",
    "ReferenceBag",
    "ReferenceSaline",
    "Sourced",
    "StabilityItem",
    "StabilityRule",
    "StepTemplate",
    "Storage",
    "VialSpec",
    "label_dose_rules",
]

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Sourced(Generic[T]):
    """A value and the id of the source it comes from."""

    value: T
    source: str


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
