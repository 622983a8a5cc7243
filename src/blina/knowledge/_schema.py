"""Pydantic models that mirror the TOML files; used only to validate them at load."""

from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, PositiveInt


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SourceEntry(_Strict):
    kind: Literal["label", "trial", "patient-material", "formula", "policy"]
    reference: str
    documents: str
    says: str


class BoundFile(_Strict):
    low: Decimal
    high: Decimal
    low_inclusive: bool = True
    source: str


class AgeFile(_Strict):
    source: str
    min_months: PositiveInt
    min_source: str
    max_years: PositiveInt
    max_source: str
    adult_from_years: PositiveInt
    adult_source: str
    adult_note: str | None = None


class BsaFile(_Strict):
    formula: Literal["mosteller"]
    quantum_m2: Decimal = Field(gt=0)
    source: str


class BodyFile(_Strict):
    weight_kg: BoundFile
    height_cm: BoundFile
    age: AgeFile
    bsa: BsaFile


class LabelFile(_Strict):
    region: str
    revision: str
    title: str


class NoteFile(_Strict):
    text: str
    source: str


class BagFile(_Strict):
    hours: PositiveInt
    preservative: bool
    source: str
    min_weight_kg: Decimal | None = Field(default=None, gt=0)
    min_weight_source: str | None = None
    older_min_weight_kg: Decimal | None = Field(default=None, gt=0)
    older_min_weight_source: str | None = None


class MonitoringFile(_Strict):
    what: str
    when: Literal["course-start", "cycle-start", "infusing-day", "preservative-bag-day"]
    age_group: Literal["adult", "pediatric"] | None = None
    source: str


class PrecautionFile(_Strict):
    kind: str
    description: str
    hours_after_last_infusion: int | None = Field(default=None, ge=0)
    note: str | None = None
    source: str


class PhaseFile(_Strict):
    name: str
    max_cycles: PositiveInt
    source: str


class DoseFile(_Strict):
    first_day: PositiveInt
    last_day: PositiveInt
    fixed_mcg_per_day: Decimal = Field(gt=0)
    per_m2_mcg_per_m2_per_day: Decimal = Field(gt=0)
    cap_mcg_per_day: Decimal = Field(gt=0)
    source: str


class CycleGroupFile(_Strict):
    first_cycle: PositiveInt
    last_cycle: PositiveInt
    phase: str
    infusion_days: PositiveInt
    length_days: PositiveInt
    inpatient_days: int = Field(ge=0)
    inpatient_source: str
    source: str
    doses: list[DoseFile] = Field(min_length=1)


class PremedicationFile(_Strict):
    age_group: Literal["adult", "pediatric"]
    drug: str
    route: str
    dose_mg: Decimal | None = Field(default=None, gt=0)
    dose_mg_per_m2: Decimal | None = Field(default=None, gt=0)
    max_dose_mg: Decimal | None = Field(default=None, gt=0)
    minutes_before: int = Field(ge=0)
    timing: str
    triggers: list[Literal["cycle-start", "step-up", "restart"]] = Field(min_length=1)
    cycles: list[PositiveInt] | None = None
    alternative: str | None = None
    source: str


class RegimenFile(_Strict):
    id: str
    name: str
    indication: str
    evidence: Literal["label", "trial"]
    source: str
    weight_threshold_kg: Decimal = Field(gt=0)
    weight_threshold_source: str
    notes: list[NoteFile] = []
    phases: list[PhaseFile] = Field(min_length=1)
    cycle_groups: list[CycleGroupFile] = Field(min_length=1)
    premedication: list[PremedicationFile] = []


class RegimensFile(_Strict):
    label: LabelFile
    supervision: NoteFile
    bags: list[BagFile] = Field(min_length=1)
    monitoring: list[MonitoringFile] = []
    precautions: list[PrecautionFile] = []
    regimens: list[RegimenFile] = Field(min_length=1)
