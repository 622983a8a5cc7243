"""Bag recipes by mass balance, and the independent second computation that checks them.

A bag holds drug mass M = c x D (D mL of drug reconstituted at c = 12.5 mcg/mL) in a total
volume V = S + I + D (base saline S, IV Solution Stabilizer I). The pump runs it at rate
r for the bag's duration, so it delivers

    delivered (mcg/day) = M / V x r x 24 h.

Setting that equal to the prescribed dose P and solving for D gives

    D = P x (S + I) / (24 x c x r - P),

which ``prepare_bag`` rounds to what the site can measure. ``delivered_dose`` then
recomputes the delivered dose from the recipe's own rounded volumes (the first formula,
not the second), and a recipe outside the site's tolerance is never returned: the answer
is a ``Refusal`` with the hard stop instead. A fixed preparation row from the site
library is used as it stands, and checked the same way, at load and at every use.

``resolve_library`` joins the sourced constants with one site library, bag duration by
bag duration, once: it finds every parameter and its source, the beyond-use times, the
checks that do not depend on the patient, and every problem in the library (a site value
that contradicts the reference, a label row that does not deliver its dose).
"""

import itertools
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from types import MappingProxyType

from blina.domain.checks import Check, CheckLevel, CheckReport
from blina.domain.druglib import (
    HOURS_PER_DAY,
    Advisory,
    Infusion,
    LabelDoseRules,
    LabelRow,
    PharmacyReference,
    Prescription,
    ReferenceBag,
    ReferenceSaline,
    SiteBag,
    SiteLibrary,
    Sourced,
    StabilityItem,
    StabilityRule,
    Storage,
    VialSpec,
    check_prescription,
)
from blina.domain.errors import InvalidInput
from blina.domain.rounding import (
    measurable_step,
    round_reported,
    round_volume_ml,
    vials_needed,
)
from blina.domain.units import Hours, Kg, Mcg, McgPerDay, McgPerMl, Ml, MlPerHour

__all__ = [
    "STEP_FIELDS",
    "BagSetup",
    "Expiry",
    "LibraryProblem",
    "Origin",
    "PreparationStep",
    "Recipe",
    "Refusal",
    "ResolvedLibrary",
    "delivered_dose",
    "delivered_mcg_per_day",
    "prepare_bag",
    "resolve_library",
]

_HUNDRED = Decimal(100)
_STORED = {Storage.ROOM_TEMPERATURE: "at room temperature", Storage.REFRIGERATED: "refrigerated"}

# The names a step template may use, filled from the recipe by ``Recipe.steps``.
STEP_FIELDS = frozenset(
    {
        "dose",
        "vials",
        "water_per_vial_ml",
        "water_ml",
        "water_kind",
        "concentration_mcg_per_ml",
        "saline_ml",
        "saline_kind",
        "stabilizer_ml",
        "drug_ml",
        "total_ml",
        "infuse_ml",
        "rate_ml_per_h",
        "duration_h",
        "priming_ml",
    }
)


class Origin(StrEnum):
    """Where a recipe's volumes come from."""

    LABEL_ROW = "label-row"
    DERIVED = "derived"


@dataclass(frozen=True, slots=True)
class LibraryProblem:
    """Something wrong in a site library, at ``key_path`` in its file."""

    key_path: str
    problem: str


@dataclass(frozen=True, slots=True)
class Expiry:
    """A beyond-use limit for one item at one storage condition.

    For a prepared bag whose limit includes the infusion time, ``start_within_hours`` is
    how long after preparation the bag may wait before it is hung (limit - duration).
    ``replaces`` is the older reference rule a site value replaces, shown beside it.
    """

    item: StabilityItem
    storage: Storage
    temperature: str
    hours: Decimal
    includes_infusion: bool
    source: str
    start_within_hours: Decimal | None = None
    replaces: StabilityRule | None = None

    def describe(self) -> str:
        text = f"{self.hours} h at {self.temperature}"
        if self.includes_infusion:
            text += " including infusion time"
        if self.start_within_hours is not None:
            text += f": hang within {self.start_within_hours} h of preparation"
        return text


@dataclass(frozen=True, slots=True)
class BagSetup:
    """One bag duration resolved against one site library: each value with its source.

    ``checks`` are the findings that do not depend on the patient (library validation,
    missing values, an unverified rate, missing stability, a bag that expires while it
    runs). ``capacity`` is 24 x c x r: the mcg/day one mL of undiluted reconstituted drug
    would give at this rate; None when the rate is missing.
    """

    hours: int
    reference: ReferenceBag
    duration: Hours
    rate: Sourced[MlPerHour] | None
    stabilizer: Sourced[Ml] | None
    site_saline: Sourced[Ml] | None
    reference_saline: ReferenceSaline | None
    infuse: Ml | None
    capacity: Decimal | None
    expiry: tuple[Expiry, ...]
    advisories: tuple[Advisory, ...]
    checks: tuple[Check, ...]
    benzyl_alcohol: Sourced[Decimal] | None = None  # mg/mL in the preserved saline

    def saline_for(self, weight: Kg) -> Sourced[Ml] | None:
        """The reference's base saline where it applies to ``weight``, else the site's."""
        ref = self.reference_saline
        if ref is not None and weight.value >= ref.min_weight.value:
            return Sourced(ref.volume, ref.source)
        return self.site_saline


@dataclass(frozen=True, slots=True)
class ResolvedLibrary:
    """A site library joined with the reference, ready to prepare bags from.

    ``problems`` is empty for a library that loads: the knowledge loader refuses any
    problem, naming its key path; ``prepare_bag`` refuses to use a library that has one.
    """

    site: SiteLibrary
    reference: PharmacyReference
    dose_rules: LabelDoseRules
    vial: VialSpec | None
    usable_per_vial: Ml | None
    bags: Mapping[int, BagSetup]
    fixed_rows: Mapping[tuple[int, Decimal], LabelRow]
    band_rows: Mapping[tuple[int, Decimal], tuple[LabelRow, ...]]
    problems: tuple[LibraryProblem, ...]

    def row_for(self, rx: Prescription) -> LabelRow | None:
        """The label row for this prescription: same bag, same dose (or per-m2 dose and BSA)."""
        if rx.per_m2 is None or rx.bsa is None:
            return self.fixed_rows.get((rx.bag_hours, rx.dose.value))
        for row in self.band_rows.get((rx.bag_hours, rx.per_m2.value), ()):
            low, high = row.bsa_min, row.bsa_max
            if low is not None and high is not None and low.value <= rx.bsa.value <= high.value:
                return row
        return None


@dataclass(frozen=True, slots=True)
class PreparationStep:
    number: int
    code: str
    text: str
    source: str


@dataclass(frozen=True, slots=True)
class Recipe:
    """A checked bag recipe. Every volume is what the pharmacist measures.

    ``delivered`` is the independent computation's result (``delivered_dose``) and is
    within the site's tolerance of the prescription; ``checks`` lists every finding (none
    hard). Derived figures are properties so that building a recipe stays cheap.
    """

    prescription: Prescription
    library: ResolvedLibrary
    bag: BagSetup
    origin: Origin
    label_row: str | None
    vials: int
    saline: Sourced[Ml]
    stabilizer: Sourced[Ml]
    drug: Ml
    total: Ml
    delivered: McgPerDay
    checks: CheckReport

    @property
    def site(self) -> SiteLibrary:
        return self.library.site

    @property
    def stamp(self) -> str | None:
        return self.library.site.stamp

    @property
    def vial(self) -> VialSpec:
        vial = self.library.vial
        assert vial is not None  # a recipe exists only when the region's vial is known
        return vial

    @property
    def concentration(self) -> McgPerMl:
        """Concentration of the reconstituted drug (12.5 mcg/mL)."""
        return self.library.reference.reconstitution.concentration

    @property
    def reconstitution_water(self) -> Ml:
        water = self.library.reference.reconstitution.water_per_vial.value
        return Ml(water * self.vials)

    @property
    def stabilizer_vials(self) -> int:
        per_vial = self.library.reference.stabilizer_vial.value.value
        return vials_needed(self.stabilizer.value.value, per_vial=per_vial)

    @property
    def saline_kind(self) -> str:
        return self.bag.reference.saline_kind

    @property
    def rate(self) -> Sourced[MlPerHour]:
        rate = self.bag.rate
        assert rate is not None  # a recipe exists only when the bag's rate is known
        return rate

    @property
    def duration(self) -> Hours:
        return self.bag.duration

    @property
    def infuse(self) -> Ml:
        return self.rate.value * self.bag.duration

    @property
    def overfill(self) -> Ml:
        """The volume left in the bag and line after the infusion: for priming."""
        return Ml(self.total.value - self.infuse.value)

    @property
    def drug_mass(self) -> Mcg:
        return self.concentration * self.drug

    @property
    def bag_concentration(self) -> McgPerMl:
        return McgPerMl(self.drug_mass.value / self.total.value)

    @property
    def benzyl_alcohol(self) -> Decimal | None:
        """mg/kg/day of benzyl alcohol from a preserved bag (None: not preserved, or the
        site library gives no content)."""
        if not self.bag.reference.preservative:
            return None
        return benzyl_alcohol_mg_per_kg_per_day(
            self.bag,
            self.saline.value.value,
            self.total.value,
            self.rate.value.value,
            self.prescription.weight.value,
        )

    @property
    def deviation_percent(self) -> Decimal:
        """(delivered - prescribed) / prescribed x 100."""
        dose = self.prescription.dose.value
        return (self.delivered.value - dose) * _HUNDRED / dose

    @property
    def infusion(self) -> Infusion:
        return Infusion(
            hours=self.bag.hours,
            rate=self.rate.value,
            infuse=self.infuse,
            drug=self.drug_mass,
            total=self.total,
            rate_source=self.rate.source,
        )

    @property
    def expiry(self) -> tuple[Expiry, ...]:
        return self.bag.expiry

    @property
    def advisories(self) -> tuple[Advisory, ...]:
        return self.bag.advisories

    @property
    def steps(self) -> tuple[PreparationStep, ...]:
        """The preparation steps in order, filled with this recipe's figures."""
        fields = _step_fields(self)
        return tuple(
            PreparationStep(number, t.code, t.text.format(**fields), t.source)
            for number, t in enumerate(self.library.reference.steps, start=1)
        )


@dataclass(frozen=True, slots=True)
class Refusal:
    """No recipe: at least one hard stop, each with its reason and source."""

    prescription: Prescription
    library: ResolvedLibrary
    checks: CheckReport


def delivered_mcg_per_day(
    *,
    drug_ml: Decimal,
    concentration_mcg_per_ml: Decimal,
    saline_ml: Decimal,
    stabilizer_ml: Decimal,
    rate_ml_per_h: Decimal,
) -> Decimal:
    """mcg/day a bag delivers: drug mass / total volume x rate x 24 h (mass balance).

    The independent second computation: it takes the volumes as measured and never uses
    the formula that solved for them.
    """
    mass = concentration_mcg_per_ml * drug_ml
    volume = saline_ml + stabilizer_ml + drug_ml
    # One division, last: the products are exact, so the only rounding (to the decimal
    # context's precision) never carries a dose that is at most the prescription above it.
    return mass * rate_ml_per_h * HOURS_PER_DAY / volume


def delivered_dose(recipe: Recipe) -> McgPerDay:
    """The daily dose ``recipe`` delivers, from its own volumes, concentration and rate."""
    return McgPerDay(
        delivered_mcg_per_day(
            drug_ml=recipe.drug.value,
            concentration_mcg_per_ml=recipe.concentration.value,
            saline_ml=recipe.saline.value.value,
            stabilizer_ml=recipe.stabilizer.value.value,
            rate_ml_per_h=recipe.rate.value.value,
        )
    )


def prepare_bag(*, prescription: Prescription, library: ResolvedLibrary) -> Recipe | Refusal:
    """The recipe for one bag, or a ``Refusal`` naming every hard stop.

    Uses the library's label row for this prescription when it has one (origin
    ``label-row``), else solves the mass balance for the drug volume and rounds it to the
    site's measurable volume (origin ``derived``). Either way the delivered dose is
    recomputed from the volumes (``delivered_mcg_per_day``) and must lie within the site's
    tolerance; the bag must leave at least the site's priming volume after the infusion.

    Raises ``InvalidInput`` for a bag duration the reference does not know.
    """
    bag = library.bags.get(prescription.bag_hours)
    if bag is None:
        allowed = ", ".join(str(h) for h in library.bags)
        raise InvalidInput("bag_hours", prescription.bag_hours, f"one of {allowed}")
    found = [*bag.checks]
    found.extend(
        check_prescription(prescription, rules=library.dose_rules, bag=bag.reference).checks
    )
    saline = bag.saline_for(prescription.weight)
    if saline is None and bag.reference_saline is not None:
        found.append(_missing_saline_for_weight(bag, library))
    if _blocked(found) or saline is None:
        return Refusal(prescription, library, CheckReport(tuple(found)))
    assert bag.stabilizer is not None
    assert bag.capacity is not None
    assert library.usable_per_vial is not None
    row = library.row_for(prescription)
    if row is not None:
        return _finish(
            prescription,
            library,
            bag,
            found,
            origin=(row.id, row.vials),
            saline=Sourced(row.saline, row.source),
            stabilizer=Sourced(row.stabilizer, row.source),
            drug=row.drug.value,
        )
    dose = prescription.dose.value
    stabilizer = bag.stabilizer.value.value
    headroom = bag.capacity - dose
    exact = dose * (saline.value.value + stabilizer) / headroom if headroom > 0 else Decimal(0)
    step = measurable_step(exact, library.site.measurable) if exact > 0 else None
    if step is None:
        found.append(_unmeasurable(exact, bag, library))
        return Refusal(prescription, library, CheckReport(tuple(found)))
    drug = round_volume_ml(exact, step=step, rule=library.site.rounding)
    vials = vials_needed(drug, per_vial=library.usable_per_vial.value)
    return _finish(
        prescription,
        library,
        bag,
        found,
        origin=(None, vials),
        saline=saline,
        stabilizer=bag.stabilizer,
        drug=drug,
    )


def _finish(
    rx: Prescription,
    library: ResolvedLibrary,
    bag: BagSetup,
    found: list[Check],
    *,
    origin: tuple[str | None, int],
    saline: Sourced[Ml],
    stabilizer: Sourced[Ml],
    drug: Decimal,
) -> Recipe | Refusal:
    rate = bag.rate
    assert rate is not None
    assert bag.infuse is not None
    site = library.site
    delivered = delivered_mcg_per_day(
        drug_ml=drug,
        concentration_mcg_per_ml=library.reference.reconstitution.concentration.value,
        saline_ml=saline.value.value,
        stabilizer_ml=stabilizer.value.value,
        rate_ml_per_h=rate.value.value,
    )
    total = saline.value.value + stabilizer.value.value + drug
    found.append(_tolerance_check(delivered, rx.dose.value, site))
    if bag.reference.preservative:
        found.append(
            _benzyl_alcohol_check(
                benzyl_alcohol_mg_per_kg_per_day(
                    bag, saline.value.value, total, rate.value.value, rx.weight.value
                ),
                site,
            )
        )
    overfill = total - bag.infuse.value
    if overfill < site.priming.value:
        found.append(_overfill_check(total, bag.infuse.value, site))
    if _blocked(found):
        return Refusal(rx, library, CheckReport(tuple(found)))
    row_id, vials = origin
    return Recipe(
        prescription=rx,
        library=library,
        bag=bag,
        origin=Origin.DERIVED if row_id is None else Origin.LABEL_ROW,
        label_row=row_id,
        vials=vials,
        saline=saline,
        stabilizer=stabilizer,
        drug=Ml(drug),
        total=Ml(total),
        delivered=McgPerDay(delivered),
        checks=CheckReport(tuple(found)),
    )


def benzyl_alcohol_mg_per_kg_per_day(
    bag: BagSetup, saline_ml: Decimal, total_ml: Decimal, rate_ml_per_h: Decimal, weight_kg: Decimal
) -> Decimal | None:
    """The benzyl alcohol a patient gets from a preserved bag, mg/kg/day: the preserved
    saline's content x its share of the bag x the rate x 24 h / weight (None where the site
    library gives no content)."""
    content = bag.benzyl_alcohol
    if content is None:
        return None
    return content.value * saline_ml * rate_ml_per_h * HOURS_PER_DAY / (total_ml * weight_kg)


def _benzyl_alcohol_check(load: Decimal | None, site: SiteLibrary) -> Check:
    limit = site.benzyl_alcohol
    if load is None or limit is None:
        missing = "benzyl alcohol content of its preserved saline" if load is None else "limit"
        return Check(
            CheckLevel.SOFT,
            "benzyl-alcohol-not-checked",
            f"the benzyl alcohol load of this preserved bag is not checked: the site library "
            f"{site.name!r} gives no {missing}; check it against the preserved saline used",
            site.source,
        )
    shown = f"{round_reported(load)} mg/kg/day of benzyl alcohol"
    cap = limit.limit_mg_per_kg_per_day
    if load > cap:
        return Check(
            CheckLevel.HARD,
            "benzyl-alcohol-above-limit",
            f"{shown} is above the site's limit of {cap} mg/kg/day: use preservative-free "
            f"saline and a shorter bag",
            limit.source,
        )
    if load * _HUNDRED >= cap * limit.soft_from_percent:
        return Check(
            CheckLevel.SOFT,
            "benzyl-alcohol-near-limit",
            f"{shown} is {round_reported(load * _HUNDRED / cap)} % of the site's limit of "
            f"{cap} mg/kg/day",
            limit.source,
        )
    return Check(
        CheckLevel.OK,
        "benzyl-alcohol-within-limit",
        f"{shown}, within the site's limit of {cap} mg/kg/day",
        limit.source,
    )


def _blocked(found: list[Check]) -> bool:
    return any(check.level is CheckLevel.HARD for check in found)


def _tolerance_check(delivered: Decimal, dose: Decimal, site: SiteLibrary) -> Check:
    deviation = (delivered - dose) * _HUNDRED / dose
    figures = (
        f"the bag delivers {round_reported(delivered)} mcg/day for {dose} mcg/day prescribed"
        f" ({round_reported(deviation):+} %; site tolerance {site.tolerance_percent} %)"
    )
    if abs(deviation) <= site.tolerance_percent:
        return Check(CheckLevel.OK, "delivered-within-tolerance", figures, site.source)
    return Check(
        CheckLevel.HARD,
        "delivered-outside-tolerance",
        f"{figures}: outside the site tolerance",
        site.source,
    )


def _overfill_check(total: Decimal, infuse: Decimal, site: SiteLibrary) -> Check:
    return Check(
        CheckLevel.HARD,
        "overfill-below-priming",
        f"the bag holds {total} mL and infuses {infuse} mL, leaving {total - infuse} mL:"
        f" less than the {site.priming.value} mL the site needs to prime the line",
        site.source,
    )


def _missing_saline_for_weight(bag: BagSetup, library: ResolvedLibrary) -> Check:
    ref = bag.reference_saline
    assert ref is not None
    return Check(
        CheckLevel.HARD,
        "missing-base-saline",
        f"no base saline volume for a {bag.hours}-h bag under {ref.min_weight.value} kg: the"
        f" reference gives {ref.volume.value} mL only from {ref.min_weight.value} kg and the"
        f" site library {library.site.name!r} gives none",
        library.reference.missing_preparation_source,
    )


def _unmeasurable(exact: Decimal, bag: BagSetup, library: ResolvedLibrary) -> Check:
    site = library.site
    if exact <= 0:
        reason = (
            f"no drug volume can deliver this dose from a {bag.hours}-h bag at its rate:"
            " the dose is at or above what undiluted drug would give"
        )
    else:
        largest = site.measurable[-1].up_to_ml
        reason = (
            f"the drug volume {round_reported(exact)} mL is more than the largest volume the"
            f" site library measures ({largest} mL)"
        )
    return Check(CheckLevel.HARD, "drug-volume-not-measurable", reason, site.source)


def _step_fields(recipe: Recipe) -> dict[str, object]:
    reconstitution = recipe.library.reference.reconstitution
    return {
        "dose": recipe.prescription.describe(),
        "vials": recipe.vials,
        "water_per_vial_ml": reconstitution.water_per_vial.value,
        "water_ml": recipe.reconstitution_water.value,
        "water_kind": reconstitution.water_kind,
        "concentration_mcg_per_ml": reconstitution.concentration.value,
        "saline_ml": recipe.saline.value.value,
        "saline_kind": recipe.saline_kind,
        "stabilizer_ml": recipe.stabilizer.value.value,
        "drug_ml": recipe.drug.value,
        "total_ml": recipe.total.value,
        "infuse_ml": recipe.infuse.value,
        "rate_ml_per_h": recipe.rate.value.value,
        "duration_h": recipe.bag.hours,
        "priming_ml": recipe.site.priming.value,
    }


# --- resolving a site library against the reference --------------------------------------


def resolve_library(
    *, reference: PharmacyReference, site: SiteLibrary, dose_rules: LabelDoseRules
) -> ResolvedLibrary:
    """Join the sourced constants with ``site``, bag duration by bag duration.

    For each value the reference gives (a rate, the US-2014 base saline), the reference is
    used and a site value that contradicts it is a problem; for each value it does not
    give, the site's is used; where neither gives one, the bag carries a hard stop naming
    the missing value. Label rows are checked with ``delivered_mcg_per_day`` against the
    site's tolerance; every problem is listed with its key path in the site file.
    """
    problems: list[LibraryProblem] = []
    vial = reference.vials.get(site.region)
    usable = None if vial is None else reference.reconstitution.usable_per_vial(vial)
    site_bags = _site_bags(site, reference, problems)
    problems.extend(_site_problems(site, reference))
    bags = {
        hours: _resolve_bag(ref_bag, site_bags.get(hours), site, reference, problems)
        for hours, ref_bag in reference.bags.items()
    }
    fixed, bands = _label_rows(site, reference, dose_rules, bags, usable, problems)
    shared = _library_checks(site, reference, vial, problems)
    return ResolvedLibrary(
        site=site,
        reference=reference,
        dose_rules=dose_rules,
        vial=vial,
        usable_per_vial=usable,
        bags=MappingProxyType(
            {
                hours: BagSetup(
                    hours=bag.hours,
                    reference=bag.reference,
                    duration=bag.duration,
                    rate=bag.rate,
                    stabilizer=bag.stabilizer,
                    site_saline=bag.site_saline,
                    reference_saline=bag.reference_saline,
                    infuse=bag.infuse,
                    capacity=bag.capacity,
                    expiry=bag.expiry,
                    advisories=bag.advisories,
                    checks=shared + bag.checks,
                    benzyl_alcohol=bag.benzyl_alcohol,
                )
                for hours, bag in bags.items()
            }
        ),
        fixed_rows=MappingProxyType(fixed),
        band_rows=MappingProxyType(bands),
        problems=tuple(problems),
    )


def _library_checks(
    site: SiteLibrary,
    reference: PharmacyReference,
    vial: VialSpec | None,
    problems: list[LibraryProblem],
) -> tuple[Check, ...]:
    found: list[Check] = []
    problem = site.validation.problem
    if problem is None:
        found.append(
            Check(
                CheckLevel.OK,
                "library-validated",
                f"site library {site.name!r} ({site.version}) {site.validation.describe()}",
                site.source,
            )
        )
    else:
        found.append(
            Check(
                CheckLevel.HARD,
                "library-not-validated",
                f"the site library {site.name!r} is not validated: {problem}",
                site.source,
            )
        )
    if problems:
        first = problems[0]
        found.append(
            Check(
                CheckLevel.HARD,
                "library-problem",
                f"the site library {site.name!r} has {len(problems)} problem(s), first at"
                f" {first.key_path}: {first.problem}",
                site.source,
            )
        )
    if vial is None:
        found.append(
            Check(
                CheckLevel.HARD,
                "missing-vial",
                f"no vial content for region {site.region!r}: the reference gives it for"
                f" {', '.join(reference.vials)} only",
                reference.missing_preparation_source,
            )
        )
    return tuple(found)


def _site_bags(
    site: SiteLibrary, reference: PharmacyReference, problems: list[LibraryProblem]
) -> dict[int, tuple[int, SiteBag]]:
    entries: dict[int, tuple[int, SiteBag]] = {}
    known = ", ".join(str(h) for h in reference.bags)
    for index, bag in enumerate(site.bags):
        if bag.hours not in reference.bags:
            problems.append(
                LibraryProblem(
                    f"bags[{index}].hours",
                    f"{bag.hours} h is not a bag duration the reference knows: one of {known}",
                )
            )
        elif bag.hours in entries:
            problems.append(
                LibraryProblem(f"bags[{index}].hours", f"{bag.hours}-h bags are given twice")
            )
        else:
            entries[bag.hours] = (index, bag)
    return entries


def _site_problems(site: SiteLibrary, reference: PharmacyReference) -> list[LibraryProblem]:
    problems: list[LibraryProblem] = []
    previous = Decimal(0)
    for index, step in enumerate(site.measurable):
        if step.up_to_ml <= previous:
            problems.append(
                LibraryProblem(
                    f"site.measurable[{index}].up_to_ml",
                    f"{step.up_to_ml} mL must be more than the row before ({previous} mL)",
                )
            )
        previous = step.up_to_ml
    seen: set[str] = set()
    for index, area in enumerate(site.care_areas):
        where = f"care_areas[{index}]"
        if area.id in seen:
            problems.append(LibraryProblem(f"{where}.id", f"care area {area.id!r} appears twice"))
        seen.add(area.id)
        unknown = [h for h in area.bag_hours if h not in reference.bags]
        if unknown:
            problems.append(
                LibraryProblem(
                    f"{where}.bag_hours",
                    f"{unknown[0]} h is not a bag duration the reference knows",
                )
            )
        for key, limits in (
            ("dose_mcg_per_day", area.dose),
            ("dose_mcg_per_m2_per_day", area.dose_per_m2),
            ("rate_ml_per_h", area.rate),
            ("concentration_mcg_per_ml", area.concentration),
        ):
            if _limits_out_of_order(
                limits.hard_min, limits.soft_min, limits.soft_max, limits.hard_max
            ):
                problems.append(
                    LibraryProblem(
                        f"{where}.{key}",
                        "limits must run hard_min <= soft_min <= soft_max <= hard_max",
                    )
                )
    return problems


def _limits_out_of_order(*bounds: Decimal | None) -> bool:
    given = [bound for bound in bounds if bound is not None]
    return any(low > high for low, high in itertools.pairwise(given))


def _resolve_bag(
    ref: ReferenceBag,
    entry: tuple[int, SiteBag] | None,
    site: SiteLibrary,
    reference: PharmacyReference,
    problems: list[LibraryProblem],
) -> BagSetup:
    index, site_bag = (None, None) if entry is None else entry
    where = f"bags[{index}]"
    found: list[Check] = []
    rate = _resolve_rate(ref, site_bag, site, reference, where, problems, found)
    missing = reference.missing_preparation_source
    stabilizer = None
    if site_bag is not None and site_bag.stabilizer is not None:
        stabilizer = Sourced(site_bag.stabilizer, site_bag.source)
    else:
        found.append(_missing(ref.hours, "IV Solution Stabilizer volume", site, missing))
    ref_saline = next(
        (s for s in reference.base_saline if site.region in s.regions and ref.hours in s.bag_hours),
        None,
    )
    site_saline = None
    if site_bag is not None and site_bag.base_saline is not None:
        site_saline = Sourced(site_bag.base_saline, site_bag.source)
        if ref_saline is not None and site_bag.base_saline != ref_saline.volume:
            problems.append(
                LibraryProblem(
                    f"{where}.base_saline_ml",
                    f"{site_bag.base_saline.value} mL disagrees with the reference's"
                    f" {ref_saline.volume.value} mL ({ref_saline.source})",
                )
            )
    elif ref_saline is None:
        found.append(_missing(ref.hours, "base saline volume", site, missing))
    duration = Hours(Decimal(ref.hours))
    expiry, expiry_checks = _expiry(ref, site_bag, site, reference, duration)
    concentration = reference.reconstitution.concentration.value
    return BagSetup(
        hours=ref.hours,
        reference=ref,
        duration=duration,
        rate=rate,
        stabilizer=stabilizer,
        site_saline=site_saline,
        reference_saline=ref_saline,
        infuse=None if rate is None else rate.value * duration,
        capacity=None if rate is None else HOURS_PER_DAY * concentration * rate.value.value,
        expiry=expiry,
        advisories=tuple(
            a for a in reference.advisories if ref.preservative or not a.preservative_only
        ),
        checks=(*found, *expiry_checks),
        benzyl_alcohol=None
        if site_bag is None or site_bag.benzyl_alcohol_mg_per_ml is None or not ref.preservative
        else Sourced(site_bag.benzyl_alcohol_mg_per_ml, site_bag.source),
    )


def _missing(hours: int, what: str, site: SiteLibrary, source: str) -> Check:
    code = "missing-" + what.lower().replace(" ", "-")
    return Check(
        CheckLevel.HARD,
        code,
        f"no {what} for a {hours}-h bag: the reference has none (NOT RETRIEVED) and the site"
        f" library {site.name!r} gives none",
        source,
    )


def _resolve_rate(
    ref: ReferenceBag,
    site_bag: SiteBag | None,
    site: SiteLibrary,
    reference: PharmacyReference,
    where: str,
    problems: list[LibraryProblem],
    found: list[Check],
) -> Sourced[MlPerHour] | None:
    site_rate = None if site_bag is None else site_bag.rate
    if ref.rate is None or site.region not in ref.rate_regions:
        if site_bag is not None and site_rate is not None:
            return Sourced(site_rate, site_bag.source)
        found.append(
            _missing(ref.hours, "infusion rate", site, reference.missing_preparation_source)
        )
        return None
    source = ref.rate_source or ref.source
    if site_rate is not None and site_rate != ref.rate:
        problems.append(
            LibraryProblem(
                f"{where}.rate_ml_per_h",
                f"{site_rate.value} mL/h disagrees with the reference's {ref.rate.value} mL/h"
                f" ({source})",
            )
        )
    if not ref.rate_verified:
        if site_rate == ref.rate:
            found.append(
                Check(
                    CheckLevel.OK,
                    "rate-confirmed-by-site",
                    f"{ref.rate.value} mL/h for {ref.hours}-h bags rests on a single source;"
                    f" the validated site library {site.name!r} confirms it",
                    source,
                )
            )
        else:
            # Never a default: only a validated site library's own entry may make it.
            found.append(
                Check(
                    CheckLevel.HARD,
                    "rate-unverified",
                    f"{ref.rate.value} mL/h for {ref.hours}-h bags is not verified:"
                    f" {ref.rate_note}; a {ref.hours}-h bag is made only from a validated"
                    f" site library that confirms the rate from the current label",
                    source,
                )
            )
    return Sourced(ref.rate, source)


def _expiry(
    ref: ReferenceBag,
    site_bag: SiteBag | None,
    site: SiteLibrary,
    reference: PharmacyReference,
    duration: Hours,
) -> tuple[tuple[Expiry, ...], list[Check]]:
    rules: dict[tuple[StabilityItem, Storage], tuple[StabilityRule, StabilityRule | None]] = {}
    for rule in reference.stability:
        if rule.applies(bag_hours=ref.hours, region=site.region):
            rules[(rule.item, rule.storage)] = (rule, None)
    for rule in () if site_bag is None else site_bag.stability:
        before = rules.get((rule.item, rule.storage))
        rules[(rule.item, rule.storage)] = (rule, None if before is None else before[0])
    expiry: list[Expiry] = []
    found: list[Check] = []
    for item in StabilityItem:
        for storage in Storage:
            entry = rules.get((item, storage))
            what = f"{item.value.replace('-', ' ')} ({ref.hours}-h bag)"
            if entry is None:
                found.append(
                    Check(
                        CheckLevel.SOFT,
                        "stability-missing",
                        f"no beyond-use time for the {what} {_STORED[storage]}: the reference"
                        f" has no current value and the site library {site.name!r} gives none;"
                        " take it from the current label before dispensing",
                        reference.missing_stability_source,
                    )
                )
                continue
            rule, older = entry
            start_within = None
            if item is StabilityItem.PREPARED_BAG and rule.includes_infusion:
                start_within = rule.hours - duration.value
                if start_within < 0:
                    found.append(
                        Check(
                            CheckLevel.HARD,
                            "bag-expires-during-infusion",
                            f"a prepared bag keeps {rule.hours} h at {rule.temperature}"
                            f" including infusion time: a {ref.hours}-h bag would expire"
                            " while it runs",
                            rule.source,
                        )
                    )
            expiry.append(
                Expiry(
                    item=item,
                    storage=storage,
                    temperature=rule.temperature,
                    hours=rule.hours,
                    includes_infusion=rule.includes_infusion,
                    source=rule.source,
                    start_within_hours=start_within,
                    replaces=older,
                )
            )
    return tuple(expiry), found


def _label_rows(
    site: SiteLibrary,
    reference: PharmacyReference,
    rules: LabelDoseRules,
    bags: Mapping[int, BagSetup],
    usable: Ml | None,
    problems: list[LibraryProblem],
) -> tuple[dict[tuple[int, Decimal], LabelRow], dict[tuple[int, Decimal], tuple[LabelRow, ...]]]:
    fixed: dict[tuple[int, Decimal], LabelRow] = {}
    bands: dict[tuple[int, Decimal], tuple[LabelRow, ...]] = {}
    ids: set[str] = set()
    concentration = reference.reconstitution.concentration.value
    for index, row in enumerate(site.label_rows):
        where = f'label_rows[{index}] ("{row.id}")'
        if row.id in ids:
            problems.append(LibraryProblem(f"{where}.id", f"row id {row.id!r} appears twice"))
            continue
        ids.add(row.id)
        found = _row_problems(
            row, where, bags.get(row.bag_hours), site, rules, usable, concentration
        )
        if found:
            problems.extend(found)
        elif row.dose is not None:
            key = (row.bag_hours, row.dose.value)
            if key in fixed:
                problems.append(
                    LibraryProblem(where, f"a second row for {row.dose} in {row.bag_hours}-h bags")
                )
            fixed[key] = row
        else:
            assert row.per_m2 is not None
            key = (row.bag_hours, row.per_m2.value)
            if any(_overlap(row, other) for other in bands.get(key, ())):
                problems.append(
                    LibraryProblem(where, "its BSA band overlaps another row for the same dose")
                )
            bands[key] = (*bands.get(key, ()), row)
    return fixed, bands


def _overlap(row: LabelRow, other: LabelRow) -> bool:
    assert row.bsa_min is not None
    assert row.bsa_max is not None
    assert other.bsa_min is not None
    assert other.bsa_max is not None
    return row.bsa_min.value <= other.bsa_max.value and other.bsa_min.value <= row.bsa_max.value


def _row_doses(row: LabelRow, rules: LabelDoseRules) -> list[Decimal] | None:
    """The doses a row must deliver: its fixed dose, or the dose at each end of its band."""
    if row.dose is not None and row.per_m2 is None and row.bsa_min is None:
        return [row.dose.value]
    if row.dose is not None or row.per_m2 is None:
        return None
    if row.bsa_min is None or row.bsa_max is None or row.bsa_min.value > row.bsa_max.value:
        return None
    cap = rules.cap_for(row.per_m2).value
    return [min(row.per_m2.value * bsa.value, cap) for bsa in (row.bsa_min, row.bsa_max)]


def _row_problems(
    row: LabelRow,
    where: str,
    bag: BagSetup | None,
    site: SiteLibrary,
    rules: LabelDoseRules,
    usable: Ml | None,
    concentration: Decimal,
) -> list[LibraryProblem]:
    if bag is None:
        return [
            LibraryProblem(
                f"{where}.bag_hours", f"{row.bag_hours} h is not a bag duration the reference knows"
            )
        ]
    targets = _row_doses(row, rules)
    if targets is None:
        return [
            LibraryProblem(
                where,
                "give dose_mcg_per_day, or dose_mcg_per_m2_per_day with bsa_min_m2 <= bsa_max_m2",
            )
        ]
    if bag.rate is None or bag.infuse is None:
        return [
            LibraryProblem(f"{where}.bag_hours", f"no infusion rate for {row.bag_hours}-h bags")
        ]
    problems: list[LibraryProblem] = []
    for target in targets:
        delivered = delivered_mcg_per_day(
            drug_ml=row.drug.value,
            concentration_mcg_per_ml=concentration,
            saline_ml=row.saline.value,
            stabilizer_ml=row.stabilizer.value,
            rate_ml_per_h=bag.rate.value.value,
        )
        if abs(delivered - target) * _HUNDRED > site.tolerance_percent * target:
            problems.append(
                LibraryProblem(
                    f"{where}.drug_ml",
                    f"{row.drug.value} mL delivers {round_reported(delivered)} mcg/day, not"
                    f" {target} mcg/day within the site tolerance of {site.tolerance_percent} %",
                )
            )
            break
    problems.extend(_row_volume_problems(row, where, bag, usable))
    total = row.saline.value + row.stabilizer.value + row.drug.value
    if total - bag.infuse.value < site.priming.value:
        problems.append(
            LibraryProblem(
                where,
                f"the bag holds {total} mL and infuses {bag.infuse.value} mL: less than the"
                f" {site.priming.value} mL the site needs to prime the line",
            )
        )
    return problems


def _row_volume_problems(
    row: LabelRow, where: str, bag: BagSetup, usable: Ml | None
) -> list[LibraryProblem]:
    problems: list[LibraryProblem] = []
    ref = bag.reference_saline
    if row.dose is not None and ref is not None and row.saline != ref.volume:
        problems.append(
            LibraryProblem(
                f"{where}.saline_ml",
                f"{row.saline.value} mL disagrees with the reference's {ref.volume.value} mL"
                f" ({ref.source})",
            )
        )
    elif bag.site_saline is not None and row.saline != bag.site_saline.value:
        problems.append(
            LibraryProblem(
                f"{where}.saline_ml",
                f"{row.saline.value} mL disagrees with the site's base saline"
                f" {bag.site_saline.value.value} mL for {row.bag_hours}-h bags",
            )
        )
    if bag.stabilizer is not None and row.stabilizer != bag.stabilizer.value:
        problems.append(
            LibraryProblem(
                f"{where}.stabilizer_ml",
                f"{row.stabilizer.value} mL disagrees with the site's"
                f" {bag.stabilizer.value.value} mL for {row.bag_hours}-h bags",
            )
        )
    if usable is not None:
        needed = vials_needed(row.drug.value, per_vial=usable.value)
        if row.vials < needed:
            problems.append(
                LibraryProblem(
                    f"{where}.vials",
                    f"{row.vials} vial(s) cannot give {row.drug.value} mL: {needed} vials of"
                    f" {usable.value} mL are needed",
                )
            )
    return problems
