"""A CAR-T product as data, and the small calculations its plan needs.

``knowledge/car_t.toml`` is loaded into one ``CarTProduct`` per product (tisagenlecleucel,
brexucabtagene autoleucel, obecabtagene autoleucel); the class-wide facts of the
reference's §2 (monitoring, the superseded pre-June-2025 rule, the tocilizumab table,
secondary malignancy) are folded into each product at load, so every function here and
in ``cell_journey`` takes one product. A fact the reference marks NOT RETRIEVED is a
``Gap`` of the product, never a number here.

Cell counts are exact ``Decimal`` numbers of cells; the label writes them as a
coefficient and a power of ten (0.2-5.0 x 10^6/kg), and so do the rules.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum

from blina.domain.sentences import Template
from blina.domain.therapies.model import Gap, PlanWarning
from blina.domain.units import Kg, Mg, MgPerM2

__all__ = [
    "BlastBurden",
    "CarTProduct",
    "CellDoseBand",
    "CellDoseRule",
    "DosePer",
    "Infusion",
    "Leukapheresis",
    "Lymphodepletion",
    "LymphodepletionDrug",
    "Manufacturing",
    "MarrowSample",
    "Periods",
    "Premedication",
    "PremedicationDrug",
    "SecondDoseRule",
    "SplitBurden",
    "SplitDose",
    "Tocilizumab",
    "TocilizumabDose",
    "TopicGap",
    "cell_dose_band",
    "format_cells",
    "format_cells_as",
    "tocilizumab_dose",
]

_SUPERSCRIPT = str.maketrans(
    "-0123456789", "\u207b\u2070\u00b9\u00b2\u00b3\u2074\u2075\u2076\u2077\u2078\u2079"
)


class DosePer(StrEnum):
    KG = "kg"  # cells per kg of body weight
    TOTAL = "total"  # cells for the patient, whatever the weight


class BlastBurden(StrEnum):
    """Which side of the marrow-blast threshold a split-dose regimen is for."""

    AT_OR_BELOW = "at-or-below"
    ABOVE = "above"


@dataclass(frozen=True, slots=True)
class TopicGap:
    """A gap of the product, with the step of the journey it is about."""

    about: str
    gap: Gap


@dataclass(frozen=True, slots=True)
class Leukapheresis:
    hours_low: int | None
    hours_high: int | None
    sessions_low: int | None
    sessions_high: int | None
    source: str


@dataclass(frozen=True, slots=True)
class Manufacturing:
    """The expected window (weeks after collection) or, lacking one, a trial median."""

    weeks_low: int | None
    weeks_high: int | None
    trial_median_days: int | None
    source: str


@dataclass(frozen=True, slots=True)
class LymphodepletionDrug:
    drug: str
    route: str
    per_m2: MgPerM2  # per day
    days_from_start: tuple[int, ...]  # 0 is the first lymphodepletion day
    source: str


@dataclass(frozen=True, slots=True)
class Lymphodepletion:
    """Doses by day from the start, and the days (relative to day 0) its last day may fall
    on. No drugs means the doses and days were not retrieved (only ``named``)."""

    drugs: tuple[LymphodepletionDrug, ...]
    named: tuple[str, ...]
    end_earliest_day: int | None
    end_latest_day: int | None
    source: str

    @property
    def last_offset(self) -> int:
        """The last lymphodepletion day, counted from its first (0)."""
        return max(day for drug in self.drugs for day in drug.days_from_start)


@dataclass(frozen=True, slots=True)
class MarrowSample:
    days_before_lymphodepletion: int
    source: str


@dataclass(frozen=True, slots=True)
class CellDoseRule:
    """A weight band's dose: ``low``-``high`` x 10^``power_of_ten`` cells per kg or in
    total, with an optional cap in cells. ``above_kg`` excludes its weight, ``up_to_kg``
    includes it."""

    per: DosePer
    low: Decimal
    high: Decimal
    power_of_ten: int
    source: str
    above_kg: Decimal | None = None
    up_to_kg: Decimal | None = None
    max_cells: Decimal | None = None

    def covers(self, weight: Kg) -> bool:
        above = self.above_kg is None or weight.value > self.above_kg
        return above and (self.up_to_kg is None or weight.value <= self.up_to_kg)


@dataclass(frozen=True, slots=True)
class CellDoseBand:
    """The patient's dose band in cells (``low == high`` for a single target dose)."""

    low: Decimal
    high: Decimal
    basis: str
    source: str


@dataclass(frozen=True, slots=True)
class SplitBurden:
    """The cells of the two infusions for one side of the blast threshold; ``second`` is
    None where the reference does not give it (a gap of the product)."""

    blasts: BlastBurden
    first: Decimal  # cells
    second: Decimal | None  # cells
    source: str


@dataclass(frozen=True, slots=True)
class SplitDose:
    """A split dose (obecabtagene): ``first_day`` and ``second_day`` +/- ``tolerance_days``
    as the label counts days, the regimen picked by the marrow blasts."""

    total: Decimal  # cells
    power_of_ten: int  # how the label writes the counts: 410 x 10^6
    first_day: int
    second_day: int
    tolerance_days: int
    blasts_threshold_percent: Decimal
    burdens: tuple[SplitBurden, ...]
    source: str

    def burden(self, blasts_percent: Decimal) -> SplitBurden:
        side = (
            BlastBurden.AT_OR_BELOW
            if blasts_percent <= self.blasts_threshold_percent
            else BlastBurden.ABOVE
        )
        return next(b for b in self.burdens if b.blasts is side)


@dataclass(frozen=True, slots=True)
class SecondDoseRule:
    """The label's modification of the second dose after CRS following the first."""

    defer_crs_grade: int
    defer_up_to_day: int
    settle_to_crs_grade: int
    stop_from_crs_grade: int
    source: str


@dataclass(frozen=True, slots=True)
class PremedicationDrug:
    what: str
    text: str


@dataclass(frozen=True, slots=True)
class Premedication:
    drugs: tuple[PremedicationDrug, ...]
    minutes_before_low: int | None
    minutes_before_high: int | None
    avoid_prophylactic_steroids: bool
    source: str


@dataclass(frozen=True, slots=True)
class Infusion:
    rate_ml_per_min_low: int | None
    rate_ml_per_min_high: int | None
    within_minutes: int | None
    no_leukodepleting_filter: bool
    confirm_identity: bool
    source: str


@dataclass(frozen=True, slots=True)
class Periods:
    """Days after the infusion: the current label's (None where not retrieved) and the
    superseded pre-June-2025 ones, with the class's daily checks and monitoring."""

    daily_days: int
    daily_source: str
    monitor_days: int
    monitor_source: str
    stay_near_days: int | None
    no_driving_days: int | None
    source: str | None
    superseded_stay_near_days: int
    superseded_stay_near_source: str
    superseded_no_driving_days: int
    superseded_no_driving_source: str
    older_daily_days: int | None = None
    older_daily_source: str | None = None


@dataclass(frozen=True, slots=True)
class Tocilizumab:
    """The tocilizumab table for CRS (the KYMRIAH 2018 PI, the only one retrieved)."""

    edition: str
    light_below: Kg
    light_per_kg: Decimal  # mg/kg
    heavy_per_kg: Decimal  # mg/kg
    heavy_max: Mg
    infusion_hours: int
    repeat_at_least_hours: int
    max_doses: int
    steroid_after_hours_low: int
    steroid_after_hours_high: int
    source: str


@dataclass(frozen=True, slots=True)
class TocilizumabDose:
    dose: Mg
    basis: str


@dataclass(frozen=True, slots=True)
class CarTProduct:
    """One product's journey facts, with the class facts folded in."""

    key: str  # "tisagenlecleucel", "brexucabtagene", "obecabtagene"
    name: str  # "Tisagenlecleucel (KYMRIAH)": the generic name and the brand, for headings
    brand: str
    anchor_day: int  # how the label numbers the (first) infusion day: 0, or 1 for obe-cel
    anchor_source: str
    label: str  # the US label version the facts encode ("US PI 2024-2025")
    label_source: str
    indication: PlanWarning
    leukapheresis: Leukapheresis | None
    manufacturing: Manufacturing | None
    bridging_trial_percent: Decimal | None
    bridging_source: str | None
    lymphodepletion: Lymphodepletion
    marrow_sample: MarrowSample | None
    cell_doses: tuple[CellDoseRule, ...]
    split: SplitDose | None
    second_dose_rule: SecondDoseRule | None
    premedication: Premedication
    infusion: Infusion
    periods: Periods
    tocilizumab: Tocilizumab
    class_warnings: tuple[PlanWarning, ...]  # secondary malignancy, counting, recorded
    warnings: tuple[PlanWarning, ...]
    gaps: tuple[TopicGap, ...]


def format_cells(cells: Decimal) -> str:
    """A number of cells the way the label writes it.

    >>> format_cells(Decimal("190000000"))
    '1.9 \u00d7 10\u2078'
    >>> format_cells(Decimal("410000000"))
    '4.1 \u00d7 10\u2078'
    >>> format_cells(Decimal("7600000"))
    '7.6 \u00d7 10\u2076'
    """
    exponent = cells.adjusted()
    mantissa = (cells.scaleb(-exponent)).normalize()
    return f"{mantissa:f} \u00d7 10{str(exponent).translate(_SUPERSCRIPT)}"


def format_cells_as(cells: Decimal, power_of_ten: int) -> str:
    """A number of cells as a coefficient of a given power of ten, as a label table has it.

    >>> format_cells_as(Decimal("10000000"), 6)
    '10 \u00d7 10\u2076'
    """
    return _times_ten((cells.scaleb(-power_of_ten)).normalize(), power_of_ten)


def _times_ten(coefficient: Decimal, power: int) -> str:
    return f"{coefficient:f} \u00d7 10{str(power).translate(_SUPERSCRIPT)}"


# How a cell or tocilizumab dose was computed (``blina.domain.sentences``).
CELLS_IN_TOTAL = Template("{cells} CAR-positive viable T cells in total")
CELLS_PER_KG = Template("{cells} CAR-positive viable T cells/kg \u00d7 {weight}")
CELLS_CAPPED = Template("{per}, capped at {cap}")
CELLS_MAXIMUM = Template("{per} (maximum {cap})")
TOCILIZUMAB_BASIS = Template("{per_kg} mg/kg \u00d7 {weight}")
TOCILIZUMAB_CAPPED = Template("{basis} = {exact} mg, capped at {cap}")


def cell_dose_band(rules: tuple[CellDoseRule, ...], weight: Kg) -> CellDoseBand:
    """The product's dose band for ``weight``, in cells (source: the rule's).

    A per-kg band is multiplied by the weight, then capped at ``max_cells``.

    >>> rule = CellDoseRule(DosePer.KG, Decimal("0.2"), Decimal("5.0"), 6, "s",
    ...                     up_to_kg=Decimal(50))
    >>> band = cell_dose_band((rule,), Kg(Decimal("38")))
    >>> format_cells(band.low), format_cells(band.high)
    ('7.6 \u00d7 10\u2076', '1.9 \u00d7 10\u2078')
    """
    rule = next((r for r in rules if r.covers(weight)), None)
    if rule is None:  # the loader checks the bands cover every weight
        raise ValueError(f"no cell dose band covers {weight}")
    unit = Decimal(10) ** rule.power_of_ten
    if rule.per is DosePer.TOTAL:
        low, high = rule.low * unit, rule.high * unit
        per = CELLS_IN_TOTAL(cells=_range_text(rule))
    else:
        low, high = rule.low * unit * weight.value, rule.high * unit * weight.value
        per = CELLS_PER_KG(cells=_range_text(rule), weight=weight)
    if rule.max_cells is not None and high > rule.max_cells:
        low, high = min(low, rule.max_cells), rule.max_cells
        per = CELLS_CAPPED(per=per, cap=format_cells(rule.max_cells))
    elif rule.max_cells is not None:
        per = CELLS_MAXIMUM(per=per, cap=format_cells(rule.max_cells))
    return CellDoseBand(low, high, per, rule.source)


def _range_text(rule: CellDoseRule) -> str:
    if rule.low == rule.high:
        return _times_ten(rule.low, rule.power_of_ten)
    return f"{rule.low}\u2013{_times_ten(rule.high, rule.power_of_ten)}"


def tocilizumab_dose(table: Tocilizumab, weight: Kg) -> TocilizumabDose:
    """One tocilizumab dose for CRS by weight (source: the table's).

    Below ``light_below`` kg: ``light_per_kg``; from it: ``heavy_per_kg``, capped at
    ``heavy_max``. Rounded half-up to 0.1 mg for display; the pharmacy rounds for the bag.

    >>> table = Tocilizumab("2018", Kg(Decimal(30)), Decimal(12), Decimal(8), Mg(Decimal(800)),
    ...                     1, 8, 4, 12, 18, "s")
    >>> tocilizumab_dose(table, Kg(Decimal("20"))).dose
    Mg(value=Decimal('240.0'))
    >>> tocilizumab_dose(table, Kg(Decimal("120"))).basis
    '8 mg/kg \u00d7 120 kg = 960.0 mg, capped at 800 mg'
    """
    light = weight.value < table.light_below.value
    per_kg = table.light_per_kg if light else table.heavy_per_kg
    exact = (per_kg * weight.value).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    basis = TOCILIZUMAB_BASIS(per_kg=per_kg, weight=weight)
    if not light and exact > table.heavy_max.value:
        return TocilizumabDose(
            table.heavy_max, TOCILIZUMAB_CAPPED(basis=basis, exact=exact, cap=table.heavy_max)
        )
    return TocilizumabDose(Mg(exact), basis)
