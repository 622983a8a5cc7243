"""Load ``car_t.toml``: the CAR-T class facts and one journey per product.

The pydantic models mirror the file and only validate it; the loader then checks what a
schema cannot (weight bands covering every weight once, a lymphodepletion window that
lets the last day fall before the infusion, a gap for every journey step whose facts are
missing) and folds the class facts into each ``CarTProduct``. Any problem is a
``KnowledgeError`` naming the file and the key path.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from types import MappingProxyType

from pydantic import Field, NonNegativeInt, PositiveInt

from blina.domain.errors import KnowledgeError, UnknownId
from blina.domain.therapies.car_t import (
    BlastBurden,
    CarTProduct,
    CellDoseRule,
    DosePer,
    Infusion,
    Leukapheresis,
    Lymphodepletion,
    LymphodepletionDrug,
    Manufacturing,
    MarrowSample,
    Periods,
    Premedication,
    PremedicationDrug,
    SecondDoseRule,
    SplitBurden,
    SplitDose,
    Tocilizumab,
    TopicGap,
)
from blina.domain.therapies.model import Gap, PlanWarning
from blina.domain.units import Kg, Mg, MgPerM2
from blina.knowledge._loader import check_sources, read_toml, validate
from blina.knowledge._schema import SourceEntry, _Strict

__all__ = ["CarTKnowledge", "load_car_t"]

_WEEK = 7


@dataclass(frozen=True, slots=True)
class CarTKnowledge:
    products: Mapping[str, CarTProduct]

    def product(self, key: str) -> CarTProduct:
        try:
            return self.products[key]
        except KeyError:
            raise UnknownId("CAR-T product", key, self.products) from None


# --- the file's shape ---------------------------------------------------------------------


class TextFile(_Strict):
    what: str
    text: str
    source: str


class GapFile(_Strict):
    about: str
    fact: str
    instead: str
    source: str


class MonitoringFile(_Strict):
    daily_days: PositiveInt
    at_least_days: PositiveInt
    source: str


class SupersededFile(_Strict):
    stay_near_weeks: PositiveInt
    no_driving_weeks: PositiveInt
    source: str


class TocilizumabFile(_Strict):
    edition: str
    light_below_kg: Decimal = Field(gt=0)
    light_mg_per_kg: Decimal = Field(gt=0)
    heavy_mg_per_kg: Decimal = Field(gt=0)
    heavy_max_mg: Decimal = Field(gt=0)
    infusion_hours: PositiveInt
    repeat_at_least_hours: PositiveInt
    max_doses: PositiveInt
    steroid_after_hours_low: PositiveInt
    steroid_after_hours_high: PositiveInt
    source: str


class SharedFile(_Strict):
    monitoring: MonitoringFile
    superseded: SupersededFile
    secondary_malignancy: TextFile
    counting: TextFile
    physician: TextFile
    tocilizumab: TocilizumabFile
    gaps: list[GapFile] = Field(default_factory=list)


class LeukapheresisFile(_Strict):
    hours_low: PositiveInt | None = None
    hours_high: PositiveInt | None = None
    sessions_low: PositiveInt | None = None
    sessions_high: PositiveInt | None = None
    source: str


class ManufacturingFile(_Strict):
    weeks_low: PositiveInt | None = None
    weeks_high: PositiveInt | None = None
    trial_median_days: PositiveInt | None = None
    source: str


class BridgingFile(_Strict):
    trial_percent: Decimal = Field(gt=0, le=100)
    source: str


class DrugFile(_Strict):
    drug: str
    route: str
    mg_per_m2_per_day: Decimal = Field(gt=0)
    days_from_start: list[NonNegativeInt] = Field(min_length=1)
    source: str


class LymphodepletionFile(_Strict):
    drugs: list[DrugFile] = Field(default_factory=list)
    named: list[str] = Field(default_factory=list)
    end_earliest_day: int | None = None
    end_latest_day: int | None = None
    source: str


class MarrowFile(_Strict):
    days_before_lymphodepletion: PositiveInt
    source: str


class CellDoseFile(_Strict):
    per: DosePer
    low: Decimal = Field(gt=0)
    high: Decimal = Field(gt=0)
    power_of_ten: NonNegativeInt
    above_kg: Decimal | None = Field(default=None, gt=0)
    up_to_kg: Decimal | None = Field(default=None, gt=0)
    max: Decimal | None = Field(default=None, gt=0)
    max_power_of_ten: NonNegativeInt | None = None
    source: str


class BurdenFile(_Strict):
    blasts: BlastBurden
    first: Decimal = Field(gt=0)
    second: Decimal | None = Field(default=None, gt=0)
    source: str


class SplitFile(_Strict):
    total: Decimal = Field(gt=0)
    power_of_ten: NonNegativeInt
    first_day: int
    second_day: int
    tolerance_days: NonNegativeInt
    blasts_threshold_percent: Decimal = Field(gt=0, lt=100)
    burdens: list[BurdenFile] = Field(min_length=2, max_length=2)
    source: str


class SecondDoseFile(_Strict):
    defer_crs_grade: PositiveInt
    defer_up_to_day: int
    settle_to_crs_grade: NonNegativeInt
    stop_from_crs_grade: PositiveInt
    source: str


class PremedDrugFile(_Strict):
    what: str
    text: str


class PremedicationFile(_Strict):
    drugs: list[PremedDrugFile] = Field(min_length=1)
    minutes_before_low: PositiveInt | None = None
    minutes_before_high: PositiveInt | None = None
    avoid_prophylactic_steroids: bool
    source: str


class InfusionFile(_Strict):
    rate_ml_per_min_low: PositiveInt | None = None
    rate_ml_per_min_high: PositiveInt | None = None
    within_minutes: PositiveInt | None = None
    no_leukodepleting_filter: bool
    confirm_identity: bool
    source: str


class DaysFile(_Strict):
    days: PositiveInt
    source: str


class WeeksFile(_Strict):
    weeks: PositiveInt
    source: str


class PeriodsFile(_Strict):
    """The current periods (with their source), and each other figure in a table of its
    own with its source."""

    stay_near_days: PositiveInt | None = None
    no_driving_days: PositiveInt | None = None
    source: str | None = None
    monitor: DaysFile | None = None
    superseded_stay_near: WeeksFile | None = None
    superseded_no_driving: WeeksFile | None = None
    older_daily: DaysFile | None = None


class ProductFile(_Strict):
    name: str
    brand: str
    anchor_day: NonNegativeInt
    source: str  # of anchor_day
    label: str
    label_source: str
    indication: TextFile
    leukapheresis: LeukapheresisFile | None = None
    manufacturing: ManufacturingFile | None = None
    bridging: BridgingFile | None = None
    lymphodepletion: LymphodepletionFile
    marrow_sample: MarrowFile | None = None
    cell_doses: list[CellDoseFile] = Field(default_factory=list)
    split: SplitFile | None = None
    second_dose_rule: SecondDoseFile | None = None
    premedication: PremedicationFile
    infusion: InfusionFile
    periods: PeriodsFile
    warnings: list[TextFile] = Field(default_factory=list)
    gaps: list[GapFile] = Field(default_factory=list)


class CarTFile(_Strict):
    shared: SharedFile
    products: dict[str, ProductFile] = Field(min_length=1)


# --- building the domain objects ----------------------------------------------------------


def load_car_t(path: Path, sources: Mapping[str, SourceEntry]) -> CarTKnowledge:
    """Validate ``car_t.toml`` against the schema and the citation table, then build it."""
    raw = read_toml(path)
    check_sources(raw, sources, path.name)
    data = validate(CarTFile, raw, path.name)
    products = {
        key: _product(key, entry, data.shared, path.name, f"products.{key}")
        for key, entry in data.products.items()
    }
    return CarTKnowledge(MappingProxyType(products))


def _product(key: str, entry: ProductFile, shared: SharedFile, file: str, at: str) -> CarTProduct:
    gaps = tuple(_gap(g) for g in (*entry.gaps, *shared.gaps))
    _require_gaps(entry, {g.about for g in gaps}, file, at)
    _check_ranges(entry, file, at)
    split = None if entry.split is None else _split(entry.split, file, f"{at}.split")
    if (split is None) == (not entry.cell_doses):
        raise KnowledgeError(file, at, "give exactly one of cell_doses and split")
    if (split is None) != (entry.second_dose_rule is None):
        raise KnowledgeError(file, at, "a split dose and its second_dose_rule go together")
    return CarTProduct(
        key=key,
        name=entry.name,
        brand=entry.brand,
        anchor_day=entry.anchor_day,
        anchor_source=entry.source,
        label=entry.label,
        label_source=entry.label_source,
        indication=_warning(entry.indication),
        leukapheresis=None if entry.leukapheresis is None else _leukapheresis(entry.leukapheresis),
        manufacturing=None if entry.manufacturing is None else _manufacturing(entry.manufacturing),
        bridging_trial_percent=None if entry.bridging is None else entry.bridging.trial_percent,
        bridging_source=None if entry.bridging is None else entry.bridging.source,
        lymphodepletion=_lymphodepletion(entry.lymphodepletion, file, f"{at}.lymphodepletion"),
        marrow_sample=None
        if entry.marrow_sample is None
        else MarrowSample(
            entry.marrow_sample.days_before_lymphodepletion, entry.marrow_sample.source
        ),
        cell_doses=_cell_doses(entry.cell_doses, file, f"{at}.cell_doses"),
        split=split,
        second_dose_rule=None
        if entry.second_dose_rule is None
        else _second_dose(entry.second_dose_rule, file, f"{at}.second_dose_rule"),
        premedication=_premedication(entry.premedication),
        infusion=_infusion(entry.infusion),
        periods=_periods(entry.periods, shared, file, f"{at}.periods"),
        tocilizumab=_tocilizumab(shared.tocilizumab),
        class_warnings=tuple(
            _warning(t) for t in (shared.secondary_malignancy, shared.counting, shared.physician)
        ),
        warnings=tuple(_warning(w) for w in entry.warnings),
        gaps=gaps,
    )


def _gap(entry: GapFile) -> TopicGap:
    return TopicGap(entry.about, Gap(entry.fact, entry.instead, entry.source))


def _warning(entry: TextFile) -> PlanWarning:
    return PlanWarning(entry.what, entry.text, entry.source)


def _require_gaps(entry: ProductFile, topics: set[str], file: str, at: str) -> None:
    """A journey step without its facts must say so with a gap about it."""
    missing = {
        "manufacturing": entry.manufacturing is None or entry.manufacturing.weeks_low is None,
        "leukapheresis": entry.leukapheresis is None,
        "lymphodepletion": not entry.lymphodepletion.drugs,
        "stay-near": entry.periods.stay_near_days is None,
        "no-driving": entry.periods.no_driving_days is None,
        "second-dose-cells": entry.split is not None
        and any(b.second is None for b in entry.split.burdens),
    }
    for about, lacks in missing.items():
        if lacks and about not in topics:
            raise KnowledgeError(
                file, f"{at}.gaps", f"the {about} facts are missing: add a gap about {about!r}"
            )


def _check_ranges(entry: ProductFile, file: str, at: str) -> None:
    """Every low-high pair of the product: both ends or neither, low <= high."""
    pairs = []
    if entry.leukapheresis is not None:
        a = entry.leukapheresis
        pairs += [("leukapheresis.hours", a.hours_low, a.hours_high)]
        pairs += [("leukapheresis.sessions", a.sessions_low, a.sessions_high)]
    if entry.manufacturing is not None:
        m = entry.manufacturing
        pairs.append(("manufacturing.weeks", m.weeks_low, m.weeks_high))
    p, i = entry.premedication, entry.infusion
    pairs.append(("premedication.minutes_before", p.minutes_before_low, p.minutes_before_high))
    pairs.append(("infusion.rate_ml_per_min", i.rate_ml_per_min_low, i.rate_ml_per_min_high))
    for name, low, high in pairs:
        if (low is None) != (high is None) or (low is not None and high is not None and low > high):
            raise KnowledgeError(file, f"{at}.{name}", "give both ends of the range, low <= high")


def _leukapheresis(entry: LeukapheresisFile) -> Leukapheresis:
    return Leukapheresis(
        entry.hours_low, entry.hours_high, entry.sessions_low, entry.sessions_high, entry.source
    )


def _manufacturing(entry: ManufacturingFile) -> Manufacturing:
    return Manufacturing(entry.weeks_low, entry.weeks_high, entry.trial_median_days, entry.source)


def _lymphodepletion(entry: LymphodepletionFile, file: str, at: str) -> Lymphodepletion:
    window = (entry.end_earliest_day, entry.end_latest_day)
    if bool(entry.drugs) != (None not in window):
        raise KnowledgeError(file, at, "doses need the window of their last day, and only they do")
    if entry.drugs:
        earliest, latest = entry.end_earliest_day, entry.end_latest_day
        assert earliest is not None
        assert latest is not None
        if not earliest <= latest < 0:
            raise KnowledgeError(
                file, at, "the last day falls before day 0: earliest <= latest < 0"
            )
    elif not entry.named:
        raise KnowledgeError(file, f"{at}.named", "name the drugs when their doses are a gap")
    drugs = tuple(
        LymphodepletionDrug(
            d.drug, d.route, MgPerM2(d.mg_per_m2_per_day), tuple(d.days_from_start), d.source
        )
        for d in entry.drugs
    )
    return Lymphodepletion(
        drugs=drugs,
        named=tuple(entry.named or (d.drug for d in drugs)),
        end_earliest_day=entry.end_earliest_day,
        end_latest_day=entry.end_latest_day,
        source=entry.source,
    )


def _cell_doses(entries: list[CellDoseFile], file: str, at: str) -> tuple[CellDoseRule, ...]:
    """Bands in order of weight, each starting where the last ended, the last open."""
    rules: list[CellDoseRule] = []
    for index, entry in enumerate(entries):
        here = f"{at}[{index}]"
        previous = None if not rules else rules[-1].up_to_kg
        if entry.above_kg != previous or (index < len(entries) - 1) == (entry.up_to_kg is None):
            raise KnowledgeError(file, here, "weight bands must follow on and cover every weight")
        if entry.low > entry.high or (entry.max is None) != (entry.max_power_of_ten is None):
            raise KnowledgeError(file, here, "low <= high; max needs max_power_of_ten")
        max_cells = (
            None
            if entry.max is None or entry.max_power_of_ten is None
            else entry.max * Decimal(10) ** entry.max_power_of_ten
        )
        rules.append(
            CellDoseRule(
                per=entry.per,
                low=entry.low,
                high=entry.high,
                power_of_ten=entry.power_of_ten,
                source=entry.source,
                above_kg=entry.above_kg,
                up_to_kg=entry.up_to_kg,
                max_cells=max_cells,
            )
        )
    return tuple(rules)


def _split(entry: SplitFile, file: str, at: str) -> SplitDose:
    unit = Decimal(10) ** entry.power_of_ten
    if not entry.first_day + entry.tolerance_days < entry.second_day - entry.tolerance_days:
        raise KnowledgeError(file, at, "the second day's window must fall after the first day")
    burdens = tuple(
        SplitBurden(
            b.blasts, b.first * unit, None if b.second is None else b.second * unit, b.source
        )
        for b in entry.burdens
    )
    if {b.blasts for b in burdens} != set(BlastBurden):
        raise KnowledgeError(file, f"{at}.burdens", "one regimen each side of the blast threshold")
    for index, burden in enumerate(burdens):
        given = burden.first + (burden.second or Decimal(0))
        if given > entry.total * unit or (
            burden.second is not None and given != entry.total * unit
        ):
            raise KnowledgeError(file, f"{at}.burdens[{index}]", "the two infusions make the total")
    return SplitDose(
        total=entry.total * unit,
        power_of_ten=entry.power_of_ten,
        first_day=entry.first_day,
        second_day=entry.second_day,
        tolerance_days=entry.tolerance_days,
        blasts_threshold_percent=entry.blasts_threshold_percent,
        burdens=burdens,
        source=entry.source,
    )


def _second_dose(entry: SecondDoseFile, file: str, at: str) -> SecondDoseRule:
    if not entry.settle_to_crs_grade < entry.defer_crs_grade < entry.stop_from_crs_grade:
        raise KnowledgeError(
            file, at, "settle_to_crs_grade < defer_crs_grade < stop_from_crs_grade"
        )
    return SecondDoseRule(
        entry.defer_crs_grade,
        entry.defer_up_to_day,
        entry.settle_to_crs_grade,
        entry.stop_from_crs_grade,
        entry.source,
    )


def _premedication(entry: PremedicationFile) -> Premedication:
    return Premedication(
        drugs=tuple(PremedicationDrug(d.what, d.text) for d in entry.drugs),
        minutes_before_low=entry.minutes_before_low,
        minutes_before_high=entry.minutes_before_high,
        avoid_prophylactic_steroids=entry.avoid_prophylactic_steroids,
        source=entry.source,
    )


def _infusion(entry: InfusionFile) -> Infusion:
    return Infusion(
        entry.rate_ml_per_min_low,
        entry.rate_ml_per_min_high,
        entry.within_minutes,
        entry.no_leukodepleting_filter,
        entry.confirm_identity,
        entry.source,
    )


def _periods(entry: PeriodsFile, shared: SharedFile, file: str, at: str) -> Periods:
    current = (entry.stay_near_days, entry.no_driving_days)
    if (entry.source is None) != all(days is None for days in current):
        raise KnowledgeError(file, f"{at}.source", "a current period needs its source, and only it")
    monitoring, old = shared.monitoring, shared.superseded
    near, drive, monitor = entry.superseded_stay_near, entry.superseded_no_driving, entry.monitor
    return Periods(
        daily_days=monitoring.daily_days,
        daily_source=monitoring.source,
        monitor_days=monitoring.at_least_days if monitor is None else monitor.days,
        monitor_source=monitoring.source if monitor is None else monitor.source,
        stay_near_days=entry.stay_near_days,
        no_driving_days=entry.no_driving_days,
        source=entry.source,
        superseded_stay_near_days=(old.stay_near_weeks if near is None else near.weeks) * _WEEK,
        superseded_stay_near_source=old.source if near is None else near.source,
        superseded_no_driving_days=(old.no_driving_weeks if drive is None else drive.weeks) * _WEEK,
        superseded_no_driving_source=old.source if drive is None else drive.source,
        older_daily_days=None if entry.older_daily is None else entry.older_daily.days,
        older_daily_source=None if entry.older_daily is None else entry.older_daily.source,
    )


def _tocilizumab(entry: TocilizumabFile) -> Tocilizumab:
    return Tocilizumab(
        edition=entry.edition,
        light_below=Kg(entry.light_below_kg),
        light_per_kg=entry.light_mg_per_kg,
        heavy_per_kg=entry.heavy_mg_per_kg,
        heavy_max=Mg(entry.heavy_max_mg),
        infusion_hours=entry.infusion_hours,
        repeat_at_least_hours=entry.repeat_at_least_hours,
        max_doses=entry.max_doses,
        steroid_after_hours_low=entry.steroid_after_hours_low,
        steroid_after_hours_high=entry.steroid_after_hours_high,
        source=entry.source,
    )
