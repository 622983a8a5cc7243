"""Load the pharmacy's sourced constants and a site drug library, refusing any problem.

``load_pharmacy`` reads ``knowledge/pharmacy.toml`` into a ``PharmacyReference``.
``load_site_library`` reads a site library file (the demo one is ``DEMO_LIBRARY``),
resolves it against the reference with
``blina.domain.pharmacy.resolution.resolve_library`` and raises ``KnowledgeError`` naming
the file and the key path of the first problem: a malformed value, a source that
resolves nowhere, a value that contradicts the reference, or a fixed label row that does
not deliver its dose (a slipped decimal is caught here, before any bag is made). An
unvalidated library loads: the caller decides (the CLI refuses it as bad input;
``prepare_bag`` answers with a hard stop).
"""

import string
from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from pathlib import Path
from types import MappingProxyType
from typing import Literal

from pydantic import Field, PositiveInt

from blina.domain.errors import KnowledgeError
from blina.domain.pharmacy.recipe import STEP_FIELDS
from blina.domain.pharmacy.reference import (
    Advisory,
    LabelDoseRules,
    PharmacyReference,
    Reconstitution,
    ReferenceBag,
    ReferenceSaline,
    Sourced,
    StabilityItem,
    StabilityRule,
    StepTemplate,
    Storage,
    VialSpec,
)
from blina.domain.pharmacy.resolution import ResolvedLibrary, resolve_library
from blina.domain.pharmacy.site_library import (
    BenzylAlcoholLimit,
    CareArea,
    LabelRow,
    Limits,
    SiteBag,
    SiteLibrary,
    Validation,
)
from blina.domain.rounding import MeasurableStep, VolumeRounding
from blina.domain.units import M2, Kg, Mcg, McgPerDay, McgPerM2PerDay, McgPerMl, Ml, MlPerHour
from blina.knowledge._loader import check_sources, read_toml, validate
from blina.knowledge._schema import SourceEntry, _Strict

__all__ = ["DEMO_LIBRARY", "PharmacyReference", "load_pharmacy", "load_site_library"]

DEMO_LIBRARY = Path(__file__).parent / "demo_library.toml"

_Positive = Field(gt=0)
_StorageName = Literal["room-temperature", "refrigerated"]
_ItemName = Literal["prepared-bag", "reconstituted-vial"]


# --- pharmacy.toml -----------------------------------------------------------------------


class MissingFile(_Strict):
    preparation_source: str
    stability_source: str


class InputFile(_Strict):
    bsa_max_m2: Decimal = _Positive
    source: str


class VialFile(_Strict):
    region: str
    content_mcg: Decimal = _Positive
    source: str


class ReconstitutionFile(_Strict):
    water_ml: Decimal = _Positive
    water_kind: str
    concentration_mcg_per_ml: Decimal = _Positive
    source: str


class StabilizerFile(_Strict):
    vial_ml: Decimal = _Positive
    source: str


class ReferenceBagFile(_Strict):
    hours: PositiveInt
    preservative: bool
    saline_kind: str
    source: str
    rate_ml_per_h: Decimal | None = Field(default=None, gt=0)
    rate_regions: list[str] = Field(default_factory=list)
    rate_verified: bool = True
    rate_note: str | None = None
    rate_source: str | None = None
    infused_ml: Decimal | None = Field(default=None, gt=0)
    infused_source: str | None = None
    min_weight_kg: Decimal | None = Field(default=None, gt=0)
    min_weight_source: str | None = None
    older_min_weight_kg: Decimal | None = Field(default=None, gt=0)
    older_min_weight_source: str | None = None


class BaseSalineFile(_Strict):
    regions: list[str] = Field(min_length=1)
    bag_hours: list[PositiveInt] = Field(min_length=1)
    min_weight_kg: Decimal = _Positive
    saline_ml: Decimal = _Positive
    source: str


class StabilityFile(_Strict):
    item: _ItemName
    storage: _StorageName
    temperature: str
    hours: Decimal = _Positive
    includes_infusion: bool
    bag_hours: list[PositiveInt] | None = None
    regions: list[str] = Field(min_length=1)
    source: str


class AdvisoryFile(_Strict):
    code: str
    text: str
    source: str
    preservative_only: bool = False


class StepFile(_Strict):
    code: str
    text: str
    source: str


class PharmacyFile(_Strict):
    missing: MissingFile
    input: InputFile
    vials: list[VialFile] = Field(min_length=1)
    reconstitution: ReconstitutionFile
    stabilizer: StabilizerFile
    bags: list[ReferenceBagFile] = Field(min_length=1)
    base_saline: list[BaseSalineFile] = Field(default_factory=list)
    stability: list[StabilityFile] = Field(default_factory=list)
    advisories: list[AdvisoryFile] = Field(min_length=1)
    steps: list[StepFile] = Field(min_length=1)


def load_pharmacy(path: Path, sources: Mapping[str, SourceEntry]) -> PharmacyReference:
    """The sourced constants of ``pharmacy.toml``; a problem names its key path."""
    raw = read_toml(path)
    check_sources(raw, sources, path.name)
    data = validate(PharmacyFile, raw, path.name)
    vials: dict[str, VialSpec] = {}
    for index, vial in enumerate(data.vials):
        if vial.region in vials:
            raise KnowledgeError(path.name, f"vials[{index}].region", "region appears twice")
        vials[vial.region] = VialSpec(vial.region, Mcg(vial.content_mcg), vial.source)
    bags: dict[int, ReferenceBag] = {}
    for index, bag in enumerate(data.bags):
        if bag.hours in bags:
            raise KnowledgeError(path.name, f"bags[{index}].hours", "bag duration appears twice")
        bags[bag.hours] = _reference_bag(bag, path.name, f"bags[{index}]")
    codes = [a.code for a in data.advisories]
    if "do-not-flush" not in codes or len(set(codes)) != len(codes):
        raise KnowledgeError(
            path.name, "advisories", "codes must be unique and include 'do-not-flush'"
        )
    for index, step in enumerate(data.steps):
        _check_template(step.text, path.name, f"steps[{index}].text")
    recon = data.reconstitution
    return PharmacyReference(
        vials=MappingProxyType(vials),
        reconstitution=Reconstitution(
            Ml(recon.water_ml),
            recon.water_kind,
            McgPerMl(recon.concentration_mcg_per_ml),
            recon.source,
        ),
        stabilizer_vial=Sourced(Ml(data.stabilizer.vial_ml), data.stabilizer.source),
        bags=MappingProxyType(bags),
        base_saline=tuple(
            ReferenceSaline(
                tuple(s.regions), tuple(s.bag_hours), Kg(s.min_weight_kg), Ml(s.saline_ml), s.source
            )
            for s in data.base_saline
        ),
        stability=tuple(_stability(s, tuple(s.regions), s.bag_hours) for s in data.stability),
        advisories=tuple(
            Advisory(a.code, a.text, a.source, a.preservative_only) for a in data.advisories
        ),
        steps=tuple(StepTemplate(s.code, s.text, s.source) for s in data.steps),
        bsa_max=Sourced(M2(data.input.bsa_max_m2), data.input.source),
        missing_preparation_source=data.missing.preparation_source,
        missing_stability_source=data.missing.stability_source,
    )


def _reference_bag(bag: ReferenceBagFile, file: str, where: str) -> ReferenceBag:
    if (bag.rate_ml_per_h is None) != (bag.rate_source is None):
        raise KnowledgeError(file, f"{where}.rate_source", "give a rate with its rate_source")
    if not bag.rate_verified and not bag.rate_note:
        raise KnowledgeError(file, f"{where}.rate_note", "an unverified rate needs a rate_note")
    if bag.infused_ml is not None and (
        bag.rate_ml_per_h is None or bag.rate_ml_per_h * bag.hours != bag.infused_ml
    ):
        raise KnowledgeError(
            file, f"{where}.infused_ml", f"{bag.infused_ml} mL is not rate x {bag.hours} h"
        )
    return ReferenceBag(
        hours=bag.hours,
        preservative=bag.preservative,
        saline_kind=bag.saline_kind,
        source=bag.source,
        rate=None if bag.rate_ml_per_h is None else MlPerHour(bag.rate_ml_per_h),
        rate_regions=tuple(bag.rate_regions),
        rate_verified=bag.rate_verified,
        rate_note=bag.rate_note,
        rate_source=bag.rate_source,
        min_weight=None if bag.min_weight_kg is None else Kg(bag.min_weight_kg),
        min_weight_source=bag.min_weight_source,
        older_min_weight=None if bag.older_min_weight_kg is None else Kg(bag.older_min_weight_kg),
        older_min_weight_source=bag.older_min_weight_source,
    )


def _check_template(text: str, file: str, key_path: str) -> None:
    try:
        names = {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}
    except ValueError as error:
        raise KnowledgeError(file, key_path, f"not a valid template: {error}") from None
    unknown = sorted(names - STEP_FIELDS)
    if unknown:
        raise KnowledgeError(
            file,
            key_path,
            f"unknown field {{{unknown[0]}}}: use one of {', '.join(sorted(STEP_FIELDS))}",
        )


def _stability(
    rule: "StabilityFile | SiteStabilityFile",
    regions: tuple[str, ...],
    bag_hours: list[int] | None,
) -> StabilityRule:
    return StabilityRule(
        item=StabilityItem(rule.item),
        storage=Storage(rule.storage),
        temperature=rule.temperature,
        hours=rule.hours,
        includes_infusion=rule.includes_infusion,
        bag_hours=None if bag_hours is None else tuple(bag_hours),
        regions=regions,
        source=rule.source,
    )


# --- a site library file -----------------------------------------------------------------


class LibraryInfoFile(_Strict):
    name: str = Field(min_length=1)
    version: str = Field(min_length=1)
    region: str
    demo: bool = False
    source: str


class ValidationFile(_Strict):
    pharmacists: list[str] = Field(default_factory=list)
    validated_on: date | None = None


class MeasurableFile(_Strict):
    up_to_ml: Decimal = _Positive
    step_ml: Decimal = _Positive
    source: str


class SiteFile(_Strict):
    """Site parameters; a tolerance above 10 % is refused (blina policy, not a label fact)."""

    priming_ml: Decimal = Field(ge=0)
    tolerance_percent: Decimal = Field(gt=0, le=10)
    rounding: Literal["nearest", "down"]
    source: str
    measurable: list[MeasurableFile] = Field(min_length=1)
    # The site's benzyl alcohol limit (no retrieved label states one): hard above, soft
    # from the given percent of it; given together with their source.
    benzyl_alcohol_limit_mg_per_kg_per_day: Decimal | None = Field(default=None, gt=0)
    benzyl_alcohol_soft_from_percent: Decimal = Field(default=Decimal(80), gt=0, le=100)
    benzyl_alcohol_source: str | None = None


class SiteStabilityFile(_Strict):
    item: _ItemName
    storage: _StorageName
    temperature: str
    hours: Decimal = _Positive
    includes_infusion: bool
    source: str


class SiteBagFile(_Strict):
    hours: PositiveInt
    source: str
    stabilizer_ml: Decimal | None = Field(default=None, gt=0)
    base_saline_ml: Decimal | None = Field(default=None, gt=0)
    rate_ml_per_h: Decimal | None = Field(default=None, gt=0)
    stability: list[SiteStabilityFile] = Field(default_factory=list)
    benzyl_alcohol_mg_per_ml: Decimal | None = Field(default=None, gt=0, le=100)


class LabelRowFile(_Strict):
    id: str = Field(min_length=1)
    bag_hours: PositiveInt
    saline_ml: Decimal = _Positive
    stabilizer_ml: Decimal = _Positive
    drug_ml: Decimal = _Positive
    vials: PositiveInt
    source: str
    dose_mcg_per_day: Decimal | None = Field(default=None, gt=0)
    dose_mcg_per_m2_per_day: Decimal | None = Field(default=None, gt=0)
    bsa_min_m2: Decimal | None = Field(default=None, gt=0)
    bsa_max_m2: Decimal | None = Field(default=None, gt=0)


class LimitsFile(_Strict):
    source: str
    soft_min: Decimal | None = Field(default=None, ge=0)
    soft_max: Decimal | None = Field(default=None, ge=0)
    hard_min: Decimal | None = Field(default=None, ge=0)
    hard_max: Decimal | None = Field(default=None, ge=0)


class CareAreaFile(_Strict):
    id: str = Field(min_length=1)
    name: str
    bag_hours: list[PositiveInt] = Field(min_length=1)
    source: str
    advisories: list[str] = Field(default_factory=list)
    dose_mcg_per_day: LimitsFile | None = None
    dose_mcg_per_m2_per_day: LimitsFile | None = None
    rate_ml_per_h: LimitsFile | None = None
    concentration_mcg_per_ml: LimitsFile | None = None


class SiteLibraryFile(_Strict):
    library: LibraryInfoFile
    site: SiteFile
    validation: ValidationFile = Field(default_factory=ValidationFile)
    bags: list[SiteBagFile] = Field(default_factory=list)
    label_rows: list[LabelRowFile] = Field(default_factory=list)
    care_areas: list[CareAreaFile] = Field(default_factory=list)
    sources: dict[str, SourceEntry] = Field(default_factory=dict)


def load_site_library(
    path: Path,
    *,
    reference: PharmacyReference,
    dose_rules: LabelDoseRules,
    sources: Mapping[str, SourceEntry],
) -> ResolvedLibrary:
    """Read, validate and resolve the site library at ``path``.

    ``sources`` are the knowledge sources; the file may add its own in a ``[sources]``
    table. Raises ``KnowledgeError(file, key_path, problem)`` for the first problem.
    """
    try:
        raw = read_toml(path)
    except OSError as error:
        raise KnowledgeError(path.name, "(file)", f"cannot be read: {error.strerror}") from None
    data = validate(SiteLibraryFile, raw, path.name)
    site = data.site
    if (site.benzyl_alcohol_limit_mg_per_kg_per_day is None) != (
        site.benzyl_alcohol_source is None
    ):
        raise KnowledgeError(
            path.name,
            "site.benzyl_alcohol_source",
            "give the benzyl alcohol limit and its source together",
        )
    known = {**sources, **data.sources}
    check_sources({k: v for k, v in raw.items() if k != "sources"}, known, path.name)
    resolved = resolve_library(reference=reference, site=_site_library(data), dose_rules=dose_rules)
    if resolved.problems:
        first = resolved.problems[0]
        more = len(resolved.problems) - 1
        problem = first.problem + (f" (and {more} more problem(s))" if more else "")
        raise KnowledgeError(path.name, first.key_path, problem)
    return resolved


def _site_library(data: SiteLibraryFile) -> SiteLibrary:
    info, site = data.library, data.site
    return SiteLibrary(
        name=info.name,
        version=info.version,
        region=info.region,
        demo=info.demo,
        validation=Validation(tuple(data.validation.pharmacists), data.validation.validated_on),
        priming=Ml(site.priming_ml),
        measurable=tuple(MeasurableStep(m.up_to_ml, m.step_ml) for m in site.measurable),
        tolerance_percent=site.tolerance_percent,
        rounding=VolumeRounding(site.rounding),
        source=info.source,
        bags=tuple(
            SiteBag(
                hours=b.hours,
                source=b.source,
                stabilizer=None if b.stabilizer_ml is None else Ml(b.stabilizer_ml),
                base_saline=None if b.base_saline_ml is None else Ml(b.base_saline_ml),
                rate=None if b.rate_ml_per_h is None else MlPerHour(b.rate_ml_per_h),
                stability=tuple(_stability(s, (info.region,), [b.hours]) for s in b.stability),
                benzyl_alcohol_mg_per_ml=b.benzyl_alcohol_mg_per_ml,
            )
            for b in data.bags
        ),
        label_rows=tuple(_label_row(row) for row in data.label_rows),
        benzyl_alcohol=None
        if site.benzyl_alcohol_limit_mg_per_kg_per_day is None
        else BenzylAlcoholLimit(
            site.benzyl_alcohol_limit_mg_per_kg_per_day,
            site.benzyl_alcohol_soft_from_percent,
            site.benzyl_alcohol_source or "",
        ),
        care_areas=tuple(_care_area(area) for area in data.care_areas),
    )


def _label_row(row: LabelRowFile) -> LabelRow:
    return LabelRow(
        id=row.id,
        bag_hours=row.bag_hours,
        saline=Ml(row.saline_ml),
        stabilizer=Ml(row.stabilizer_ml),
        drug=Ml(row.drug_ml),
        vials=row.vials,
        source=row.source,
        dose=None if row.dose_mcg_per_day is None else McgPerDay(row.dose_mcg_per_day),
        per_m2=(
            None
            if row.dose_mcg_per_m2_per_day is None
            else McgPerM2PerDay(row.dose_mcg_per_m2_per_day)
        ),
        bsa_min=None if row.bsa_min_m2 is None else M2(row.bsa_min_m2),
        bsa_max=None if row.bsa_max_m2 is None else M2(row.bsa_max_m2),
    )


def _care_area(area: CareAreaFile) -> CareArea:
    def limits(unit: str, given: LimitsFile | None) -> Limits:
        if given is None:
            return Limits(unit, area.source)
        return Limits(
            unit, given.source, given.soft_min, given.soft_max, given.hard_min, given.hard_max
        )

    return CareArea(
        id=area.id,
        name=area.name,
        bag_hours=tuple(area.bag_hours),
        dose=limits("mcg/day", area.dose_mcg_per_day),
        dose_per_m2=limits("mcg/m2/day", area.dose_mcg_per_m2_per_day),
        rate=limits("mL/h", area.rate_ml_per_h),
        concentration=limits("mcg/mL", area.concentration_mcg_per_ml),
        advisories=tuple(area.advisories),
        source=area.source,
    )
