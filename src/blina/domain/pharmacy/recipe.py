"""Bag recipes: the mass balance solved, rounded to what the site measures, and checked.

``prepare_bag`` uses the library's label row for the prescription when it has one, else
solves the mass balance for the drug volume (``mass_balance.drug_ml_for``) and rounds it
to what the site can measure. ``delivered_dose`` then recomputes the delivered dose from
the recipe's own rounded volumes (the first formula, not the second), and a recipe outside
the site's tolerance is never returned: the answer is a ``Refusal`` with the hard stop
instead. A fixed preparation row from the site library is used as it stands, and checked
the same way, at load and at every use.
"""

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from blina.domain.checks import Check, CheckLevel, CheckReport
from blina.domain.errors import InvalidInput
from blina.domain.pharmacy.bag_setup import BagSetup
from blina.domain.pharmacy.expiry import Expiry
from blina.domain.pharmacy.mass_balance import (
    benzyl_alcohol_mg_per_kg_per_day,
    delivered_mcg_per_day,
    drug_ml_for,
)
from blina.domain.pharmacy.prescription import Prescription, check_prescription
from blina.domain.pharmacy.pump import Infusion
from blina.domain.pharmacy.reference import Advisory, Sourced, VialSpec
from blina.domain.pharmacy.resolution import ResolvedLibrary
from blina.domain.pharmacy.site_library import SiteLibrary
from blina.domain.rounding import measurable_step, round_reported, round_volume_ml, vials_needed
from blina.domain.sentences import Template
from blina.domain.units import Hours, Mcg, McgPerDay, McgPerMl, Ml, MlPerHour

__all__ = [
    "STEP_FIELDS",
    "Origin",
    "PreparationStep",
    "Recipe",
    "Refusal",
    "delivered_dose",
    "prepare_bag",
]

_HUNDRED = Decimal(100)

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
        return _benzyl_alcohol_load(
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
    exact = drug_ml_for(
        dose_mcg_per_day=prescription.dose.value,
        saline_ml=saline.value.value,
        stabilizer_ml=bag.stabilizer.value.value,
        capacity=bag.capacity,
    )
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
                _benzyl_alcohol_load(
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


def _benzyl_alcohol_load(
    bag: BagSetup, saline_ml: Decimal, total_ml: Decimal, rate_ml_per_h: Decimal, weight_kg: Decimal
) -> Decimal | None:
    content = bag.benzyl_alcohol
    return benzyl_alcohol_mg_per_kg_per_day(
        content_mg_per_ml=None if content is None else content.value,
        saline_ml=saline_ml,
        total_ml=total_ml,
        rate_ml_per_h=rate_ml_per_h,
        weight_kg=weight_kg,
    )


# The recipe's check reasons (``blina.domain.sentences``).
NO_BENZYL_CONTENT = Template(
    "the benzyl alcohol load of this preserved bag is not checked: the site library {site} "
    "gives no benzyl alcohol content of its preserved saline; check it against the preserved "
    "saline used"
)
NO_BENZYL_LIMIT = Template(
    "the benzyl alcohol load of this preserved bag is not checked: the site library {site} "
    "gives no limit; check it against the preserved saline used"
)
BENZYL_LOAD = Template("{load} mg/kg/day of benzyl alcohol")
BENZYL_ABOVE = Template(
    "{load} is above the site's limit of {cap} mg/kg/day: use preservative-free saline and a "
    "shorter bag"
)
BENZYL_NEAR = Template("{load} is {percent} % of the site's limit of {cap} mg/kg/day")
BENZYL_WITHIN = Template("{load}, within the site's limit of {cap} mg/kg/day")
DELIVERS = Template(
    "the bag delivers {delivered} mcg/day for {dose} mcg/day prescribed ({deviation} %; site "
    "tolerance {tolerance} %)"
)
OUTSIDE_TOLERANCE = Template("{figures}: outside the site tolerance")
OVERFILL = Template(
    "the bag holds {total} mL and infuses {infuse} mL, leaving {left} mL: less than the "
    "{priming} mL the site needs to prime the line"
)
NO_BASE_SALINE = Template(
    "no base saline volume for a {hours}-h bag under {weight} kg: the reference gives "
    "{volume} mL only from {weight} kg and the site library {site} gives none"
)
NO_DRUG_VOLUME = Template(
    "no drug volume can deliver this dose from a {hours}-h bag at its rate: the dose is at or "
    "above what undiluted drug would give"
)
NOT_MEASURABLE = Template(
    "the drug volume {volume} mL is more than the largest volume the site library measures "
    "({largest} mL)"
)


def _benzyl_alcohol_check(load: Decimal | None, site: SiteLibrary) -> Check:
    limit = site.benzyl_alcohol
    if load is None or limit is None:
        said = NO_BENZYL_CONTENT if load is None else NO_BENZYL_LIMIT
        return Check(
            CheckLevel.SOFT,
            "benzyl-alcohol-not-checked",
            said(site=repr(site.name)),
            site.source,
        )
    shown = BENZYL_LOAD(load=round_reported(load))
    cap = limit.limit_mg_per_kg_per_day
    if load > cap:
        return Check(
            CheckLevel.HARD,
            "benzyl-alcohol-above-limit",
            BENZYL_ABOVE(load=shown, cap=cap),
            limit.source,
        )
    if load * _HUNDRED >= cap * limit.soft_from_percent:
        return Check(
            CheckLevel.SOFT,
            "benzyl-alcohol-near-limit",
            BENZYL_NEAR(load=shown, percent=round_reported(load * _HUNDRED / cap), cap=cap),
            limit.source,
        )
    return Check(
        CheckLevel.OK,
        "benzyl-alcohol-within-limit",
        BENZYL_WITHIN(load=shown, cap=cap),
        limit.source,
    )


def _blocked(found: list[Check]) -> bool:
    return any(check.level is CheckLevel.HARD for check in found)


def _tolerance_check(delivered: Decimal, dose: Decimal, site: SiteLibrary) -> Check:
    deviation = (delivered - dose) * _HUNDRED / dose
    figures = DELIVERS(
        delivered=round_reported(delivered),
        dose=dose,
        deviation=f"{round_reported(deviation):+}",
        tolerance=site.tolerance_percent,
    )
    if abs(deviation) <= site.tolerance_percent:
        return Check(CheckLevel.OK, "delivered-within-tolerance", figures, site.source)
    return Check(
        CheckLevel.HARD,
        "delivered-outside-tolerance",
        OUTSIDE_TOLERANCE(figures=figures),
        site.source,
    )


def _overfill_check(total: Decimal, infuse: Decimal, site: SiteLibrary) -> Check:
    return Check(
        CheckLevel.HARD,
        "overfill-below-priming",
        OVERFILL(total=total, infuse=infuse, left=total - infuse, priming=site.priming.value),
        site.source,
    )


def _missing_saline_for_weight(bag: BagSetup, library: ResolvedLibrary) -> Check:
    ref = bag.reference_saline
    assert ref is not None
    return Check(
        CheckLevel.HARD,
        "missing-base-saline",
        NO_BASE_SALINE(
            hours=bag.hours,
            weight=ref.min_weight.value,
            volume=ref.volume.value,
            site=repr(library.site.name),
        ),
        library.reference.missing_preparation_source,
    )


def _unmeasurable(exact: Decimal, bag: BagSetup, library: ResolvedLibrary) -> Check:
    site = library.site
    if exact <= 0:
        reason = NO_DRUG_VOLUME(hours=bag.hours)
    else:
        largest = site.measurable[-1].up_to_ml
        reason = NOT_MEASURABLE(volume=round_reported(exact), largest=largest)
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
