"""Load ``toxicity.toml``: grading criteria and the label's dose-modification table.

The pydantic models mirror the file and are used only to validate it; the loader then
builds the frozen domain objects and checks what a schema cannot (every level of a
scale present once, score bands covering every score, no two rows for one case). Any
problem is a ``KnowledgeError`` naming the file and the key path.

Lab measurands (the units each lab value may be entered in, with their exact factors, and
the plausible range from ``[plausibility.labs]``) are built first; every CTCAE lab term
and TLS analyte names its measurand, whose canonical unit must be the unit its thresholds
are written in.

About 850 lines: the schema of one file (four grading scales, the CTCAE terms, the lab
measurands, the modification table) and its checks, which refer to each other (a lab
term names a measurand, a rule names a grade of a scale).
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from types import MappingProxyType
from typing import TypeVar

from pydantic import Field, NonNegativeInt, PositiveInt

from blina.domain.body import Range
from blina.domain.errors import KnowledgeError
from blina.domain.modifications import (
    ActionKind,
    AdverseReaction,
    Corticosteroid,
    DoseRule,
    InterruptionRules,
    ModificationRow,
    ModificationRules,
    Rule,
    WeightBand,
)
from blina.domain.toxicity import Band, Compare, Level, Relative
from blina.domain.toxicity.crs import CrsCriteria, Hypotension, OxygenSupport
from blina.domain.toxicity.ctcae import CtcaeCriteria, CtcaeTerm, FebrileNeutropeniaRule
from blina.domain.toxicity.icans import (
    CapdAnswer,
    CapdItem,
    CerebralEdema,
    Consciousness,
    IcansCriteria,
    IceItem,
    IcpSign,
    ScoreBand,
    Seizure,
)
from blina.domain.toxicity.lab_units import LabUnit, Measurand
from blina.domain.toxicity.tls import (
    Analyte,
    AnalyteRule,
    Arrhythmia,
    Restatement,
    TlsCriteria,
    TlsSeizure,
)
from blina.domain.units import McgPerDay, McgPerM2PerDay, Mg, MgPerM2
from blina.knowledge._loader import check_sources, read_toml, validate
from blina.knowledge._schema import BoundFile, SourceEntry, _Strict

__all__ = ["ToxicityKnowledge", "load_toxicity"]

_Enum = TypeVar("_Enum", bound=StrEnum)
_Grade = Field(ge=0, le=5)


@dataclass(frozen=True, slots=True)
class ToxicityKnowledge:
    crs: CrsCriteria
    icans: IcansCriteria
    ctcae: CtcaeCriteria
    tls: TlsCriteria
    modifications: ModificationRules
    measurands: Mapping[str, Measurand]


# --- the file's shape ---------------------------------------------------------------------


class LabBoundFile(BoundFile):
    canonical: str


class PlausibilityFile(_Strict):
    temperature_c: BoundFile
    oxygen_flow_l_per_min: BoundFile
    age_years: BoundFile
    labs: dict[str, LabBoundFile]


class LabUnitFile(_Strict):
    unit: str
    factor: Decimal = Field(gt=0)
    aliases: list[str] = Field(default_factory=list)
    source: str


class MeasurandFile(_Strict):
    name: str
    canonical: str
    canonical_aliases: list[str] = Field(default_factory=list)
    units: list[LabUnitFile] = Field(default_factory=list)


class LevelFile(_Strict):
    grade: int = _Grade
    text: str
    source: str


class HypotensionFile(LevelFile):
    level: Hypotension


class OxygenFile(LevelFile):
    level: OxygenSupport


class CrsFile(_Strict):
    fever_min_c: Decimal
    low_flow_max_l_per_min: Decimal = Field(gt=0)
    masking: str
    masking_source: str
    source: str
    hypotension: list[HypotensionFile]
    oxygen: list[OxygenFile]


class IceItemFile(_Strict):
    id: str
    task: str
    points: PositiveInt
    source: str


class ScoreBandFile(_Strict):
    low: NonNegativeInt
    high: NonNegativeInt
    grade: int = _Grade
    text: str
    note: str | None = None
    source: str


class CapdItemFile(_Strict):
    id: str
    text: str
    reverse: bool
    source: str


class CapdPointsFile(_Strict):
    never: NonNegativeInt
    rarely: NonNegativeInt
    sometimes: NonNegativeInt
    often: NonNegativeInt
    always: NonNegativeInt
    source: str


class ConsciousnessFile(LevelFile):
    level: Consciousness


class SeizureFile(LevelFile):
    level: Seizure


class EdemaFile(LevelFile):
    level: CerebralEdema


class IcpFile(LevelFile):
    level: IcpSign


class IcansFile(_Strict):
    capd_below_age_years: Decimal = Field(gt=0)
    age_source: str
    age_note: str
    source: str
    ice_items: list[IceItemFile] = Field(min_length=1)
    ice_bands: list[ScoreBandFile] = Field(min_length=1)
    ice_unarousable: LevelFile
    capd_items: list[CapdItemFile] = Field(min_length=1)
    capd_answer_points: CapdPointsFile
    capd_bands: list[ScoreBandFile] = Field(min_length=1)
    capd_unarousable: LevelFile
    consciousness: list[ConsciousnessFile]
    seizure: list[SeizureFile]
    motor_weakness: LevelFile
    cerebral_edema: list[EdemaFile]
    icp_signs: list[IcpFile]


class BandFile(_Strict):
    grade: int = _Grade
    compare: Compare
    threshold: Decimal = Field(ge=0)
    relative: Relative
    text: str
    baseline_abnormal: bool | None = None
    symptomatic: bool | None = None
    source: str


class FindingFile(_Strict):
    id: str
    grade: int = _Grade
    text: str
    source: str


class FebrileFile(_Strict):
    anc_below: Decimal = Field(gt=0)
    single_above_c: Decimal
    sustained_at_least_c: Decimal
    sustained_hours_above: Decimal = Field(ge=0)
    grade: int = _Grade
    text: str
    source: str


class TermFile(_Strict):
    id: str
    term: str
    unit: str | None = None
    measurand: str | None = None
    notes: list[str] = Field(default_factory=list)
    source: str
    bands: list[BandFile] = Field(default_factory=list)
    findings: list[FindingFile] = Field(default_factory=list)
    febrile: FebrileFile | None = None


class CtcaeFile(_Strict):
    version: str
    worst_case_source: str
    source: str
    terms: list[TermFile] = Field(min_length=1)


class AnalyteFile(_Strict):
    analyte: Analyte
    measurand: str
    unit: str
    rises: bool
    adult_threshold: Decimal = Field(gt=0)
    child_threshold: Decimal = Field(gt=0)
    change_fraction: Decimal = Field(gt=0, lt=1)
    text: str
    restated_unit: str | None = None
    restated_adult_threshold: Decimal | None = Field(default=None, gt=0)
    restated_child_threshold: Decimal | None = Field(default=None, gt=0)
    source: str


class ArrhythmiaFile(LevelFile):
    level: Arrhythmia


class TlsSeizureFile(LevelFile):
    level: TlsSeizure


class TlsFile(_Strict):
    min_abnormal: PositiveInt
    window_days_before: NonNegativeInt
    window_days_after: NonNegativeInt
    creatinine_unit: str
    creatinine_measurand: str
    child_note: str
    source: str
    clinical_source: str
    analytes: list[AnalyteFile]
    creatinine_bands: list[BandFile] = Field(min_length=1)
    arrhythmia: list[ArrhythmiaFile]
    seizure: list[TlsSeizureFile]


class SteroidFile(_Strict):
    drug: str
    route: str
    dose_mg: Decimal | None = Field(default=None, gt=0)
    dose_mg_per_m2: Decimal | None = Field(default=None, gt=0)
    max_dose_mg: Decimal | None = Field(default=None, gt=0)
    every_hours: PositiveInt
    max_days: PositiveInt
    taper_days: PositiveInt | None = None
    source: str


class RuleFile(_Strict):
    edition: str
    kind: ActionKind
    text: str
    resume_when: str | None = None
    min_recovery_days: PositiveInt | None = None
    max_resolution_days: PositiveInt | None = None
    recurrence_discontinues: bool = False
    discontinue_at_restart_dose: bool = False
    max_seizures: PositiveInt | None = None
    min_restart_hours: PositiveInt | None = None
    restart_mcg_per_day: Decimal | None = Field(default=None, gt=0)
    restart_mcg_per_m2_per_day: Decimal | None = Field(default=None, gt=0)
    restart_cap_mcg_per_day: Decimal | None = Field(default=None, gt=0)
    restart_cap_source: str | None = None
    step_up_after_days: PositiveInt | None = None
    step_up_mcg_per_day: Decimal | None = Field(default=None, gt=0)
    step_up_mcg_per_m2_per_day: Decimal | None = Field(default=None, gt=0)
    step_up_cap_mcg_per_day: Decimal | None = Field(default=None, gt=0)
    step_up_cap_source: str | None = None
    corticosteroid: SteroidFile | None = None
    gaps: list[str] = Field(default_factory=list)
    source: str


class RowFile(_Strict):
    id: str
    reaction: AdverseReaction
    grades: list[int] = Field(min_length=1)
    weight_band: WeightBand
    current: RuleFile | None = None
    current_gap: str | None = None
    older: RuleFile | None = None


class InterruptionsFile(_Strict):
    source: str
    same_cycle_max_days: PositiveInt
    same_cycle_source: str
    restart_care_min_hours: PositiveInt
    restart_care_source: str
    older_restart_premedication: str
    older_restart_premedication_source: str
    child_step_row: str
    child_step_source: str
    no_row: str
    no_row_source: str


class ModificationsFile(_Strict):
    interruptions: InterruptionsFile
    rows: list[RowFile] = Field(min_length=1)


class ToxicityFile(_Strict):
    plausibility: PlausibilityFile
    measurands: dict[str, MeasurandFile]
    crs: CrsFile
    icans: IcansFile
    ctcae: CtcaeFile
    tls: TlsFile
    modifications: ModificationsFile


# --- building the domain objects ----------------------------------------------------------


def load_toxicity(path: Path, sources: Mapping[str, SourceEntry]) -> ToxicityKnowledge:
    """Validate ``toxicity.toml`` against the schema and the citation table, then build it."""
    raw = read_toml(path)
    check_sources(raw, sources, path.name)
    data = validate(ToxicityFile, raw, path.name)
    file = path.name
    plausible = data.plausibility
    measurands = _measurands(data.measurands, plausible.labs, file)
    return ToxicityKnowledge(
        crs=_crs(data.crs, plausible, file),
        icans=_icans(data.icans, plausible, file),
        ctcae=_ctcae(data.ctcae, plausible, measurands, file),
        tls=_tls(data.tls, measurands, file),
        modifications=_modifications(data.modifications, file),
        measurands=measurands,
    )


def _measurands(
    entries: Mapping[str, MeasurandFile], ranges: Mapping[str, LabBoundFile], file: str
) -> Mapping[str, Measurand]:
    """Each measurand with its units (the canonical one first) and its plausible range;
    every spelling of a unit once, one range per measurand, in its canonical unit."""
    measurands: dict[str, Measurand] = {}
    for key, entry in entries.items():
        bound = ranges.get(key)
        if bound is None:
            raise KnowledgeError(file, "plausibility.labs", f"no plausible range for {key!r}")
        if bound.canonical != entry.canonical:
            raise KnowledgeError(
                file,
                f"plausibility.labs.{key}.canonical",
                f"the range is in the canonical unit of {key!r}, {entry.canonical}",
            )
        units = (
            LabUnit(entry.canonical, Decimal(1), tuple(entry.canonical_aliases)),
            *(LabUnit(u.unit, u.factor, tuple(u.aliases)) for u in entry.units),
        )
        spellings = [spelling for unit in units for spelling in (unit.code, *unit.aliases)]
        if len(set(spellings)) != len(spellings):
            raise KnowledgeError(
                file, f"measurands.{key}.units", "each unit and each alias names one unit once"
            )
        measurands[key] = Measurand(key, entry.name, units, _range(bound))
    unknown = [key for key in ranges if key not in entries]
    if unknown:
        raise KnowledgeError(
            file, f"plausibility.labs.{unknown[0]}", "a range for a measurand not in measurands"
        )
    return MappingProxyType(measurands)


def _measurand(
    measurands: Mapping[str, Measurand],
    name: str,
    unit: str,
    file: str,
    *,
    at: str,
    unit_at: str,
) -> Measurand:
    """The measurand ``name``, whose canonical unit must be ``unit`` (the thresholds')."""
    measurand = measurands.get(name)
    if measurand is None:
        raise KnowledgeError(file, at, f"measurand {name!r} is not in measurands")
    if measurand.canonical != unit:
        raise KnowledgeError(
            file, unit_at, f"the canonical unit of measurand {name!r}, {measurand.canonical}"
        )
    return measurand


def _range(bound: BoundFile) -> Range:
    return Range(bound.low, bound.high, bound.low_inclusive)


def _levels(
    enum: type[_Enum], entries: Sequence[tuple[_Enum, LevelFile]], file: str, at: str
) -> Mapping[_Enum, Level]:
    """Every member of ``enum`` exactly once."""
    levels: dict[_Enum, Level] = {}
    for index, (level, entry) in enumerate(entries):
        if level in levels:
            raise KnowledgeError(
                file, f"{at}[{index}].level", f"level {level.value!r} appears twice"
            )
        levels[level] = Level(entry.grade, entry.text)
    missing = [member.value for member in enum if member not in levels]
    if missing:
        raise KnowledgeError(file, at, f"missing levels: {', '.join(missing)}")
    return MappingProxyType(levels)


def _crs(crs: CrsFile, plausible: PlausibilityFile, file: str) -> CrsCriteria:
    return CrsCriteria(
        fever_min_c=crs.fever_min_c,
        low_flow_max_l_per_min=crs.low_flow_max_l_per_min,
        hypotension=_levels(
            Hypotension, [(h.level, h) for h in crs.hypotension], file, "crs.hypotension"
        ),
        oxygen=_levels(OxygenSupport, [(o.level, o) for o in crs.oxygen], file, "crs.oxygen"),
        masking=crs.masking,
        temperature_c=_range(plausible.temperature_c),
        oxygen_flow_l_per_min=_range(plausible.oxygen_flow_l_per_min),
        source=crs.source,
        masking_source=crs.masking_source,
        plausibility_source=plausible.temperature_c.source,
    )


def _score_bands(bands: list[ScoreBandFile], top: int, file: str, at: str) -> tuple[ScoreBand, ...]:
    """Bands must cover every score from 0 to ``top`` exactly once."""
    covered = sorted((b.low, b.high) for b in bands)
    expected = 0
    for low, high in covered:
        if low != expected or high < low:
            raise KnowledgeError(
                file, at, f"bands must cover scores 0 to {top} without gaps or overlaps"
            )
        expected = high + 1
    if expected != top + 1:
        raise KnowledgeError(
            file, at, f"bands must cover scores 0 to {top} without gaps or overlaps"
        )
    return tuple(ScoreBand(b.low, b.high, b.grade, b.text, b.note) for b in bands)


def _icans(icans: IcansFile, plausible: PlausibilityFile, file: str) -> IcansCriteria:
    points = icans.capd_answer_points
    answer_points = MappingProxyType(
        {
            CapdAnswer.NEVER: points.never,
            CapdAnswer.RARELY: points.rarely,
            CapdAnswer.SOMETIMES: points.sometimes,
            CapdAnswer.OFTEN: points.often,
            CapdAnswer.ALWAYS: points.always,
        }
    )
    ice_items = tuple(IceItem(i.id, i.task, i.points) for i in icans.ice_items)
    if len({i.id for i in ice_items}) != len(ice_items):
        raise KnowledgeError(file, "icans.ice_items", "item ids must be unique")
    capd_items = tuple(CapdItem(i.id, i.text, i.reverse) for i in icans.capd_items)
    ice_max = sum(i.points for i in ice_items)
    capd_max = len(capd_items) * max(answer_points.values())
    return IcansCriteria(
        ice_items=ice_items,
        ice_bands=_score_bands(icans.ice_bands, ice_max, file, "icans.ice_bands"),
        ice_unarousable=Level(icans.ice_unarousable.grade, icans.ice_unarousable.text),
        capd_items=capd_items,
        capd_answer_points=answer_points,
        capd_bands=_score_bands(icans.capd_bands, capd_max, file, "icans.capd_bands"),
        capd_unarousable=Level(icans.capd_unarousable.grade, icans.capd_unarousable.text),
        capd_below_age_years=icans.capd_below_age_years,
        consciousness=_levels(
            Consciousness, [(c.level, c) for c in icans.consciousness], file, "icans.consciousness"
        ),
        seizure=_levels(Seizure, [(s.level, s) for s in icans.seizure], file, "icans.seizure"),
        motor_weakness=Level(icans.motor_weakness.grade, icans.motor_weakness.text),
        cerebral_edema=_levels(
            CerebralEdema,
            [(e.level, e) for e in icans.cerebral_edema],
            file,
            "icans.cerebral_edema",
        ),
        icp_signs=_levels(
            IcpSign, [(s.level, s) for s in icans.icp_signs], file, "icans.icp_signs"
        ),
        age_years=_range(plausible.age_years),
        source=icans.source,
        ice_source=icans.ice_items[0].source,
        pediatric_source=icans.age_source,
        capd_source=points.source,
        age_note=icans.age_note,
    )


def _band(band: BandFile) -> Band:
    return Band(
        grade=band.grade,
        compare=band.compare,
        threshold=band.threshold,
        relative=band.relative,
        text=band.text,
        baseline_abnormal=band.baseline_abnormal,
        symptomatic=band.symptomatic,
    )


def _ctcae(
    ctcae: CtcaeFile,
    plausible: PlausibilityFile,
    measurands: Mapping[str, Measurand],
    file: str,
) -> CtcaeCriteria:
    terms: dict[str, CtcaeTerm] = {}
    for index, entry in enumerate(ctcae.terms):
        at = f"ctcae.terms[{index}]"
        if entry.id in terms:
            raise KnowledgeError(file, f"{at}.id", f"term id {entry.id!r} appears twice")
        if not (entry.bands or entry.findings or entry.febrile):
            raise KnowledgeError(file, at, "a term needs bands, findings or a febrile rule")
        measurand = None
        if entry.bands or entry.febrile:
            if entry.unit is None:
                raise KnowledgeError(file, f"{at}.unit", "a lab term needs its unit")
            if entry.measurand is None:
                raise KnowledgeError(file, f"{at}.measurand", "a lab term needs its measurand")
            measurand = _measurand(
                measurands,
                entry.measurand,
                entry.unit,
                file,
                at=f"{at}.measurand",
                unit_at=f"{at}.unit",
            )
        findings = {f.id: Level(f.grade, f.text) for f in entry.findings}
        if len(findings) != len(entry.findings):
            raise KnowledgeError(file, f"{at}.findings", "finding ids must be unique")
        febrile = entry.febrile
        terms[entry.id] = CtcaeTerm(
            id=entry.id,
            term=entry.term,
            unit=entry.unit,
            bands=tuple(_band(b) for b in entry.bands),
            findings=MappingProxyType(findings),
            febrile=None
            if febrile is None
            else FebrileNeutropeniaRule(
                anc_below=febrile.anc_below,
                single_above_c=febrile.single_above_c,
                sustained_at_least_c=febrile.sustained_at_least_c,
                sustained_hours_above=febrile.sustained_hours_above,
                grade=febrile.grade,
                text=febrile.text,
            ),
            notes=tuple(entry.notes),
            source=entry.source,
            measurand=measurand,
        )
    return CtcaeCriteria(
        version=ctcae.version,
        terms=MappingProxyType(terms),
        temperature_c=_range(plausible.temperature_c),
        source=ctcae.source,
        worst_case_source=ctcae.worst_case_source,
    )


def _tls(tls: TlsFile, measurands: Mapping[str, Measurand], file: str) -> TlsCriteria:
    analytes: dict[Analyte, AnalyteRule] = {}
    for index, entry in enumerate(tls.analytes):
        at = f"tls.analytes[{index}]"
        if entry.analyte in analytes:
            raise KnowledgeError(
                file, f"{at}.analyte", f"analyte {entry.analyte.value!r} appears twice"
            )
        measurand = _measurand(
            measurands,
            entry.measurand,
            entry.unit,
            file,
            at=f"{at}.measurand",
            unit_at=f"{at}.unit",
        )
        analytes[entry.analyte] = AnalyteRule(
            analyte=entry.analyte,
            unit=entry.unit,
            rises=entry.rises,
            adult_threshold=entry.adult_threshold,
            child_threshold=entry.child_threshold,
            change_fraction=entry.change_fraction,
            text=entry.text,
            measurand=measurand,
            restated=_restatement(entry, measurand, file, at),
        )
    missing = [a.value for a in Analyte if a not in analytes]
    if missing:
        raise KnowledgeError(file, "tls.analytes", f"missing analytes: {', '.join(missing)}")
    if any(b.relative is not Relative.ULN for b in tls.creatinine_bands):
        raise KnowledgeError(
            file, "tls.creatinine_bands", "creatinine bands are multiples of the ULN"
        )
    return TlsCriteria(
        analytes=MappingProxyType(analytes),
        min_abnormal=tls.min_abnormal,
        window_before=timedelta(days=tls.window_days_before),
        window_after=timedelta(days=tls.window_days_after),
        creatinine_bands=tuple(_band(b) for b in tls.creatinine_bands),
        creatinine_unit=tls.creatinine_unit,
        creatinine_measurand=_measurand(
            measurands,
            tls.creatinine_measurand,
            tls.creatinine_unit,
            file,
            at="tls.creatinine_measurand",
            unit_at="tls.creatinine_unit",
        ),
        arrhythmia=_levels(
            Arrhythmia, [(a.level, a) for a in tls.arrhythmia], file, "tls.arrhythmia"
        ),
        seizure=_levels(TlsSeizure, [(s.level, s) for s in tls.seizure], file, "tls.seizure"),
        source=tls.source,
        clinical_source=tls.clinical_source,
        child_note=tls.child_note,
    )


def _restatement(
    entry: AnalyteFile, measurand: Measurand, file: str, at: str
) -> Restatement | None:
    """The source's own thresholds in another unit of the analyte's measurand, if any."""
    unit = entry.restated_unit
    adult, child = entry.restated_adult_threshold, entry.restated_child_threshold
    if unit is None and adult is None and child is None:
        return None
    if unit is None or adult is None or child is None:
        raise KnowledgeError(
            file,
            at,
            "restated_unit, restated_adult_threshold and restated_child_threshold "
            "are given together",
        )
    found = measurand.by_code.get(unit)
    if found is None or found is measurand.units[0]:
        others = ", ".join(u.code for u in measurand.units[1:])
        raise KnowledgeError(
            file, f"{at}.restated_unit", f"another unit of {measurand.id!r}: {others or 'none'}"
        )
    return Restatement(found.code, adult, child)


def _dose_rule(
    fixed: Decimal | None,
    per_m2: Decimal | None,
    cap: Decimal | None,
    file: str,
    at: str,
) -> DoseRule | None:
    if fixed is None and per_m2 is None:
        if cap is not None:
            raise KnowledgeError(file, at, "a cap needs a dose per m2")
        return None
    if cap is not None and per_m2 is None:
        raise KnowledgeError(file, at, "a cap applies only to a dose per m2")
    if per_m2 is not None and cap is None:
        raise KnowledgeError(file, at, "a dose per m2 needs its cap (the fixed adult dose)")
    return DoseRule(
        fixed=None if fixed is None else McgPerDay(fixed),
        per_m2=None if per_m2 is None else McgPerM2PerDay(per_m2),
        cap=None if cap is None else McgPerDay(cap),
    )


def _steroid(entry: SteroidFile, file: str, at: str) -> Corticosteroid:
    if (entry.dose_mg is None) == (entry.dose_mg_per_m2 is None):
        raise KnowledgeError(file, at, "give exactly one of dose_mg and dose_mg_per_m2")
    if entry.max_dose_mg is not None and entry.dose_mg_per_m2 is None:
        raise KnowledgeError(
            file, f"{at}.max_dose_mg", "max_dose_mg applies only to dose_mg_per_m2"
        )
    dose = (
        f"{entry.dose_mg} mg"
        if entry.dose_mg is not None
        else f"{entry.dose_mg_per_m2} mg/m2 (max {entry.max_dose_mg} mg)"
    )
    taper = "" if entry.taper_days is None else f", then taper over {entry.taper_days} days"
    return Corticosteroid(
        drug=entry.drug,
        route=entry.route,
        dose=None if entry.dose_mg is None else Mg(entry.dose_mg),
        dose_per_m2=None if entry.dose_mg_per_m2 is None else MgPerM2(entry.dose_mg_per_m2),
        max_dose=None if entry.max_dose_mg is None else Mg(entry.max_dose_mg),
        every_hours=entry.every_hours,
        max_days=entry.max_days,
        taper_days=entry.taper_days,
        text=(
            f"{entry.drug} {dose} every {entry.every_hours} h {entry.route} for up to "
            f"{entry.max_days} days{taper}"
        ),
    )


def _rule(entry: RuleFile, file: str, at: str) -> Rule:
    restart = _dose_rule(
        entry.restart_mcg_per_day,
        entry.restart_mcg_per_m2_per_day,
        entry.restart_cap_mcg_per_day,
        file,
        f"{at}.restart",
    )
    step_up = _dose_rule(
        entry.step_up_mcg_per_day,
        entry.step_up_mcg_per_m2_per_day,
        entry.step_up_cap_mcg_per_day,
        file,
        f"{at}.step_up",
    )
    if (step_up is None) != (entry.step_up_after_days is None):
        raise KnowledgeError(file, at, "a step-up needs both its dose and step_up_after_days")
    if step_up is not None and restart is None:
        raise KnowledgeError(file, at, "a step-up needs a restart dose to step up from")
    return Rule(
        edition=entry.edition,
        kind=entry.kind,
        text=entry.text,
        source=entry.source,
        resume_when=entry.resume_when,
        min_recovery_days=entry.min_recovery_days,
        max_resolution_days=entry.max_resolution_days,
        recurrence_discontinues=entry.recurrence_discontinues,
        discontinue_at_restart_dose=entry.discontinue_at_restart_dose,
        max_seizures=entry.max_seizures,
        min_restart_hours=entry.min_restart_hours,
        corticosteroid=None
        if entry.corticosteroid is None
        else _steroid(entry.corticosteroid, file, f"{at}.corticosteroid"),
        restart=restart,
        step_up_after_days=entry.step_up_after_days,
        step_up=step_up,
        gaps=tuple(entry.gaps),
    )


def _modifications(data: ModificationsFile, file: str) -> ModificationRules:
    rows: list[ModificationRow] = []
    cases: dict[tuple[AdverseReaction, int, WeightBand], str] = {}
    for index, entry in enumerate(data.rows):
        at = f"modifications.rows[{index}]"
        if any(row.id == entry.id for row in rows):
            raise KnowledgeError(file, f"{at}.id", f"row id {entry.id!r} appears twice")
        if entry.current is None and entry.older is None:
            raise KnowledgeError(file, at, "a row needs a current rule, an older rule or both")
        if (entry.current is None) != (entry.current_gap is not None):
            raise KnowledgeError(
                file,
                f"{at}.current_gap",
                "give current_gap exactly when the current rule is missing",
            )
        for grade in entry.grades:
            if not 1 <= grade <= 4:
                raise KnowledgeError(file, f"{at}.grades", "grades are 1 to 4")
            bands = (
                [WeightBand.AT_OR_ABOVE, WeightBand.BELOW]
                if entry.weight_band is WeightBand.ANY
                else [entry.weight_band]
            )
            for band in bands:
                key = (entry.reaction, grade, band)
                if key in cases:
                    raise KnowledgeError(
                        file,
                        at,
                        f"{entry.reaction} grade {grade} ({band}) is already in row {cases[key]!r}",
                    )
                cases[key] = entry.id
        rows.append(
            ModificationRow(
                id=entry.id,
                reaction=entry.reaction,
                grades=frozenset(entry.grades),
                weight_band=entry.weight_band,
                current=None
                if entry.current is None
                else _rule(entry.current, file, f"{at}.current"),
                current_gap=entry.current_gap,
                older=None if entry.older is None else _rule(entry.older, file, f"{at}.older"),
            )
        )
    i = data.interruptions
    child = next((row for row in rows if row.id == i.child_step_row), None)
    if child is None or child.current is None or child.current.restart is None:
        raise KnowledgeError(
            file,
            "modifications.interruptions.child_step_row",
            f"{i.child_step_row!r} must name a row whose current rule has a restart dose",
        )
    step = child.current
    assert step.restart is not None
    if step.restart.per_m2 is None or step.step_up is None or step.step_up.per_m2 is None:
        raise KnowledgeError(
            file,
            "modifications.interruptions.child_step_row",
            f"row {i.child_step_row!r}: the child's step is a restart and a step-up per m2",
        )
    return ModificationRules(
        rows=tuple(rows),
        interruptions=InterruptionRules(
            same_cycle_max_days=i.same_cycle_max_days,
            same_cycle_source=i.same_cycle_source,
            restart_care_min_hours=i.restart_care_min_hours,
            restart_care_source=i.restart_care_source,
            older_restart_premedication=i.older_restart_premedication,
            older_restart_premedication_source=i.older_restart_premedication_source,
            no_row=i.no_row,
            no_row_source=i.no_row_source,
            child_step=step,
            child_step_row=i.child_step_row,
        ),
    )
