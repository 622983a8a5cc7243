"""Read the TOML files (numbers as ``Decimal``), validate them, build domain objects.

Any problem is a ``KnowledgeError`` naming the file and the key path, raised at load.
"""

import tomllib
from collections.abc import Iterator, Mapping
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from blina.domain.body import AgeGroup, BodyRules, Range
from blina.domain.errors import KnowledgeError
from blina.domain.regimens import (
    BagOption,
    CycleSpec,
    DoseStep,
    Evidence,
    LabelVersion,
    MonitoringRule,
    MonitoringWhen,
    Phase,
    PrecautionRule,
    PremedicationRule,
    PremedTrigger,
    Regimen,
    SourcedNote,
)
from blina.domain.units import Kg, McgPerDay, McgPerM2PerDay, Mg, MgPerM2
from blina.knowledge._schema import (
    BodyFile,
    CycleGroupFile,
    PremedicationFile,
    RegimenFile,
    RegimensFile,
    SourceEntry,
)

_Model = TypeVar("_Model", bound=BaseModel)


def read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle, parse_float=Decimal)
    except tomllib.TOMLDecodeError as error:
        raise KnowledgeError(path.name, "(syntax)", str(error)) from None


def validate(model: type[_Model], data: Any, file: str, prefix: str = "") -> _Model:
    try:
        return model.model_validate(data)
    except ValidationError as error:
        first = error.errors()[0]
        raise KnowledgeError(
            file, _key_path((prefix, *first["loc"]) if prefix else first["loc"]), first["msg"]
        ) from None


def load_sources(directory: Path) -> dict[str, SourceEntry]:
    """Every ``sources*.toml`` in ``directory`` (one citation table per area), merged."""
    sources: dict[str, SourceEntry] = {}
    for path in sorted(directory.glob("sources*.toml")):
        for key, value in read_toml(path).items():
            if key in sources:
                raise KnowledgeError(
                    path.name, key, "this source id is already defined in another sources file"
                )
            sources[key] = validate(SourceEntry, value, path.name, key)
    return sources


def check_sources(data: Any, sources: Mapping[str, SourceEntry], file: str) -> None:
    """Every ``source`` (and ``*_source``) value must be a key of sources.toml."""
    for key_path, value in _source_fields(data, ""):
        if value not in sources:
            raise KnowledgeError(file, key_path, f"source {value!r} is not in sources.toml")


def load_body_rules(path: Path, sources: Mapping[str, SourceEntry]) -> BodyRules:
    raw = read_toml(path)
    check_sources(raw, sources, path.name)
    body = validate(BodyFile, raw, path.name)
    age = body.age
    # 1 month is 0.0833... years; ages are entered to 0.01 year, so the lower bound is the
    # month count in years rounded to 0.01 (1 month: 0.08 years).
    youngest = (Decimal(age.min_months) / 12).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    return BodyRules(
        weight_kg=Range(body.weight_kg.low, body.weight_kg.high, body.weight_kg.low_inclusive),
        height_cm=Range(body.height_cm.low, body.height_cm.high, body.height_cm.low_inclusive),
        age_years=Range(
            youngest,
            Decimal(age.max_years),
            text=f"at least {age.min_months} month(s) ({youngest} years) "
            f"and <= {age.max_years} years",
        ),
        bsa_quantum_m2=body.bsa.quantum_m2,
        adult_from_age_years=Decimal(age.adult_from_years),
        source=body.weight_kg.source,
        bsa_source=body.bsa.source,
        adult_age_source=age.adult_source,
        adult_age_note=age.adult_note,
    )


def load_regimens(path: Path, sources: Mapping[str, SourceEntry]) -> dict[str, Regimen]:
    raw = read_toml(path)
    check_sources(raw, sources, path.name)
    data = validate(RegimensFile, raw, path.name)
    label = LabelVersion(data.label.region, data.label.revision, data.label.title)
    bags = tuple(
        BagOption(
            hours=b.hours,
            preservative=b.preservative,
            source=b.source,
            min_weight=None if b.min_weight_kg is None else Kg(b.min_weight_kg),
            min_weight_source=b.min_weight_source,
            older_min_weight=None if b.older_min_weight_kg is None else Kg(b.older_min_weight_kg),
            older_min_weight_source=b.older_min_weight_source,
        )
        for b in data.bags
    )
    monitoring = tuple(
        MonitoringRule(
            what=m.what,
            when=MonitoringWhen(m.when),
            age_group=None if m.age_group is None else AgeGroup(m.age_group),
            source=m.source,
        )
        for m in data.monitoring
    )
    precautions = tuple(
        PrecautionRule(p.kind, p.description, p.hours_after_last_infusion, p.note, p.source)
        for p in data.precautions
    )
    supervision = SourcedNote(data.supervision.text, data.supervision.source)
    regimens: dict[str, Regimen] = {}
    for index, entry in enumerate(data.regimens):
        where = f"regimens[{index}]"
        if entry.id in regimens:
            raise KnowledgeError(path.name, f"{where}.id", f"regimen id {entry.id!r} appears twice")
        regimens[entry.id] = Regimen(
            id=entry.id,
            name=entry.name,
            indication=entry.indication,
            label=label,
            evidence=Evidence(entry.evidence),
            weight_threshold=Kg(entry.weight_threshold_kg),
            weight_threshold_source=entry.weight_threshold_source,
            phases=tuple(Phase(p.name, p.max_cycles, p.source) for p in entry.phases),
            cycles=_cycles(entry, path.name, where),
            premedication=tuple(
                _premedication(p, path.name, f"{where}.premedication[{i}]")
                for i, p in enumerate(entry.premedication)
            ),
            monitoring=monitoring,
            bag_options=bags,
            precautions=precautions,
            supervision=supervision,
            notes=tuple(SourcedNote(n.text, n.source) for n in entry.notes),
            source=entry.source,
        )
    return regimens


def _cycles(entry: RegimenFile, file: str, where: str) -> tuple[CycleSpec, ...]:
    specs: list[CycleSpec] = []
    for index, group in enumerate(entry.cycle_groups):
        at = f"{where}.cycle_groups[{index}]"
        if group.first_cycle != len(specs) + 1 or group.last_cycle < group.first_cycle:
            raise KnowledgeError(
                file,
                at,
                f"cycles must follow on from cycle {len(specs) + 1} with last_cycle >= first_cycle",
            )
        if not group.infusion_days <= group.length_days or group.inpatient_days > group.length_days:
            raise KnowledgeError(
                file, at, "infusion_days and inpatient_days must fit within length_days"
            )
        steps = _steps(group, file, at)
        specs.extend(
            CycleSpec(
                number=number,
                phase=group.phase,
                infusion_days=group.infusion_days,
                length_days=group.length_days,
                steps=steps,
                inpatient_days=group.inpatient_days,
                source=group.source,
                inpatient_source=group.inpatient_source,
            )
            for number in range(group.first_cycle, group.last_cycle + 1)
        )
    for index, phase in enumerate(entry.phases):
        count = sum(1 for spec in specs if spec.phase == phase.name)
        if count != phase.max_cycles:
            raise KnowledgeError(
                file,
                f"{where}.phases[{index}]",
                f"max_cycles {phase.max_cycles} but {count} cycles name this phase",
            )
    named = {phase.name for phase in entry.phases}
    for spec in specs:
        if spec.phase not in named:
            raise KnowledgeError(
                file, f"{where}.cycle_groups", f"phase {spec.phase!r} is not in phases"
            )
    return tuple(specs)


def _steps(group: CycleGroupFile, file: str, at: str) -> tuple[DoseStep, ...]:
    expected_first = 1
    for index, dose in enumerate(group.doses):
        if dose.first_day != expected_first or dose.last_day < dose.first_day:
            raise KnowledgeError(
                file, f"{at}.doses[{index}]", f"doses must follow on from day {expected_first}"
            )
        if dose.fixed_mcg_per_day > dose.cap_mcg_per_day:
            raise KnowledgeError(
                file, f"{at}.doses[{index}]", "fixed_mcg_per_day must not exceed cap_mcg_per_day"
            )
        expected_first = dose.last_day + 1
    if expected_first != group.infusion_days + 1:
        raise KnowledgeError(
            file, f"{at}.doses", f"doses must cover days 1 to {group.infusion_days}"
        )
    return tuple(
        DoseStep(
            first_day=d.first_day,
            last_day=d.last_day,
            fixed=McgPerDay(d.fixed_mcg_per_day),
            per_m2=McgPerM2PerDay(d.per_m2_mcg_per_m2_per_day),
            cap=McgPerDay(d.cap_mcg_per_day),
            source=d.source,
        )
        for d in group.doses
    )


def _premedication(entry: PremedicationFile, file: str, at: str) -> PremedicationRule:
    if (entry.dose_mg is None) == (entry.dose_mg_per_m2 is None):
        raise KnowledgeError(file, at, "give exactly one of dose_mg and dose_mg_per_m2")
    if entry.max_dose_mg is not None and entry.dose_mg_per_m2 is None:
        raise KnowledgeError(
            file, f"{at}.max_dose_mg", "max_dose_mg applies only to dose_mg_per_m2"
        )
    return PremedicationRule(
        age_group=AgeGroup(entry.age_group),
        drug=entry.drug,
        route=entry.route,
        dose=None if entry.dose_mg is None else Mg(entry.dose_mg),
        dose_per_m2=None if entry.dose_mg_per_m2 is None else MgPerM2(entry.dose_mg_per_m2),
        max_dose=None if entry.max_dose_mg is None else Mg(entry.max_dose_mg),
        minutes_before=entry.minutes_before,
        timing=entry.timing,
        triggers=frozenset(PremedTrigger(t) for t in entry.triggers),
        cycles=None if entry.cycles is None else tuple(entry.cycles),
        alternative=entry.alternative,
        source=entry.source,
    )


def _source_fields(data: Any, path: str) -> Iterator[tuple[str, Any]]:
    if isinstance(data, dict):
        for key, value in data.items():
            here = f"{path}.{key}" if path else key
            if key == "source" or key.endswith("_source"):
                yield here, value
            else:
                yield from _source_fields(value, here)
    elif isinstance(data, list):
        for index, value in enumerate(data):
            yield from _source_fields(value, f"{path}[{index}]")


def _key_path(loc: tuple[int | str, ...]) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(top)"
