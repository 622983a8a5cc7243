"""Load ``pk.toml``: the population PK model that exposure estimates are computed with.

Each group of parameters names its source; ``PkModel.sources`` keeps them by group so
that every page, table and picture can say where a number comes from. The
``[[discrepancy]]`` entries note the reference's sanity targets the model does not meet.
"""

from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from types import MappingProxyType

from pydantic import Field

from blina.domain.pk import PkDiscrepancy, PkModel
from blina.knowledge._loader import check_sources, read_toml, validate
from blina.knowledge._schema import SourceEntry, _Strict

__all__ = ["load_pk"]

_Positive = Field(gt=0)


class ModelFile(_Strict):
    id: str
    name: str
    structure: str
    source: str


class ClearanceFile(_Strict):
    typical_l_per_h: Decimal = _Positive
    reference_bsa_m2: Decimal = _Positive
    bsa_exponent: Decimal
    source: str


class VolumeFile(_Strict):
    central_l: Decimal = _Positive
    source: str


class VariabilityFile(_Strict):
    clearance_cv: Decimal = Field(ge=0)
    source: str


class ResidualFile(_Strict):
    log_sd: Decimal = Field(ge=0)
    magnitude_cv: Decimal = Field(ge=0)
    source: str


class PeripheralFile(_Strict):
    # Only "none" is shipped: the peripheral volume was not retrieved (pkpd.md §2.3).
    intercompartmental_l_per_h: Decimal = Field(ge=0, le=0)
    source: str


class DiscrepancyFile(_Strict):
    target: str = Field(pattern=r"^T\d+$")
    case: str = Field(min_length=1)
    reference_pg_per_ml: Decimal = _Positive
    tolerance: Decimal = Field(gt=0, lt=1)
    model_pg_per_ml: Decimal = _Positive
    why: str = Field(min_length=1)
    source: str


class PkFile(_Strict):
    model: ModelFile
    clearance: ClearanceFile
    volume: VolumeFile
    variability: VariabilityFile
    residual: ResidualFile
    peripheral: PeripheralFile
    discrepancy: tuple[DiscrepancyFile, ...] = ()


def load_pk(path: Path, sources: Mapping[str, SourceEntry]) -> PkModel:
    raw = read_toml(path)
    check_sources(raw, sources, path.name)
    data = validate(PkFile, raw, path.name)
    return PkModel(
        id=data.model.id,
        name=data.model.name,
        structure=data.model.structure,
        clearance_l_per_h=data.clearance.typical_l_per_h,
        reference_bsa_m2=data.clearance.reference_bsa_m2,
        bsa_exponent=data.clearance.bsa_exponent,
        volume_l=data.volume.central_l,
        clearance_cv=data.variability.clearance_cv,
        residual_log_sd=data.residual.log_sd,
        residual_magnitude_cv=data.residual.magnitude_cv,
        intercompartmental_l_per_h=data.peripheral.intercompartmental_l_per_h,
        sources=MappingProxyType(
            {
                "structure": data.model.source,
                "clearance": data.clearance.source,
                "volume": data.volume.source,
                "variability": data.variability.source,
                "residual": data.residual.source,
                "peripheral": data.peripheral.source,
            }
        ),
        discrepancies=tuple(PkDiscrepancy(**entry.model_dump()) for entry in data.discrepancy),
    )
