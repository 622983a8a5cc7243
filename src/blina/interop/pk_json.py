"""Exposure as JSON-ready data, and the exposure inputs read from JSON (flushes, the
bags' hang and removal times). Shared by ``blina pk simulate`` and the API so both
answer the same shape; every answer carries its label: a model-based estimate.

Concentrations are rounded to 0.01 pg/mL and AUCs to 1e-4 h x ug/L: they are estimates,
and more digits would only suggest a precision the model does not have.
"""

from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from blina.domain.course_state import BagRecord, BagStatus
from blina.domain.errors import InvalidInput
from blina.domain.pk import Exposure, PkModel
from blina.domain.pk_course import CourseInputs, Flush
from blina.domain.pk_population import Bands
from blina.domain.units import McgPerDay
from blina.interop.json.values import json_field, json_instant, json_positive, json_text

__all__ = ["ESTIMATE_LABEL", "bag_from_dict", "exposure_to_dict", "flush_from_dict"]

ESTIMATE_LABEL = "model-based estimate, not a measured level"


def exposure_to_dict(
    *,
    model: PkModel,
    course: CourseInputs,
    exposure: Exposure,
    bands: Bands | None = None,
    zone: ZoneInfo,
) -> dict[str, Any]:
    """The patient's curve and summaries (and the population's bands), instants in the
    clinic's zone."""

    def instant(hours: float) -> str:
        return (course.origin + timedelta(hours=hours)).astimezone(zone).isoformat()

    data: dict[str, Any] = {
        "label": ESTIMATE_LABEL,
        "model": model_to_dict(model),
        "origin": course.origin.astimezone(zone).isoformat(),
        "clearance_l_per_h": round(exposure.clearance_l_per_h, 4),
        "times_h": [round(float(t), 4) for t in exposure.times_h],
        "concentration_pg_per_ml": _rounded(exposure.concentration_pg_per_ml, 2),
        "steady_states": [
            {
                "rate_mcg_per_day": round(s.rate_ug_per_h * 24, 4),
                "concentration_pg_per_ml": round(s.concentration_pg_per_ml, 2),
            }
            for s in exposure.steady_states
        ],
        "auc_by_day_h_ug_per_l": _rounded(exposure.auc_by_day, 4),
        "flush_peaks": [
            {
                "at": instant(p.at_h),
                "dose_mcg": round(p.dose_ug, 4),
                "before_pg_per_ml": round(p.before_pg_per_ml, 2),
                "peak_pg_per_ml": round(p.peak_pg_per_ml, 2),
                "times_steady_state": None
                if p.times_steady_state is None
                else round(p.times_steady_state, 3),
            }
            for p in exposure.flush_peaks
        ],
        "interruptions": [
            {
                "at": instant(i.start_h),
                "restart": None if i.restart_h is None else instant(i.restart_h),
                "fraction_of_steady_state": i.fraction,
                "threshold_pg_per_ml": round(i.threshold_pg_per_ml, 2),
                "hours_below": round(i.hours_below, 3),
                "back_above_at": None if i.recovered_h is None else instant(i.recovered_h),
            }
            for i in exposure.interruptions
        ],
        "marks": [
            {"at": instant(m.at_h), "at_h": round(m.at_h, 4), "kind": str(m.kind), "text": m.text}
            for m in course.marks
        ],
        "population": None if bands is None else bands_to_dict(bands),
    }
    return data


def model_to_dict(model: PkModel) -> dict[str, Any]:
    return {
        "id": model.id,
        "name": model.name,
        "structure": model.structure,
        "clearance_l_per_h": model.clearance_l_per_h,
        "reference_bsa_m2": model.reference_bsa_m2,
        "bsa_exponent": model.bsa_exponent,
        "volume_l": model.volume_l,
        "clearance_cv": model.clearance_cv,
        "residual_log_sd": model.residual_log_sd,
        "residual_magnitude_cv": model.residual_magnitude_cv,
        "intercompartmental_l_per_h": model.intercompartmental_l_per_h,
        "sources": dict(model.sources),
    }


def bands_to_dict(bands: Bands) -> dict[str, Any]:
    return {
        "label": bands.label,
        "count": bands.count,
        "seed": bands.seed,
        "method": bands.method,
        "times_h": [round(float(t), 4) for t in bands.times_h],
        "percentiles": {
            f"p{p:g}": _rounded(row, 2)
            for p, row in zip(bands.percentiles, bands.values, strict=True)
        },
    }


def _rounded(values: Any, places: int) -> list[float]:
    return [round(float(v), places) for v in values]


def flush_from_dict(
    item: Any, where: str, *, concentration_at: Callable[[datetime], Decimal]
) -> Flush:
    """``{"at", "line_volume_ml", "concentration_mcg_per_ml"?}``; without a
    concentration, ``concentration_at(at)`` gives the running bag's."""
    if not isinstance(item, Mapping):
        raise InvalidInput(where, str(item), "an object with at and line_volume_ml")
    at = json_instant(f"{where}.at", json_text(json_field(item, "at", where), f"{where}.at"))
    volume = json_positive(json_field(item, "line_volume_ml", where), f"{where}.line_volume_ml")
    if volume > 1000:
        raise InvalidInput(f"{where}.line_volume_ml", volume, "> 0 and <= 1000 mL")
    given = item.get("concentration_mcg_per_ml")
    concentration = (
        concentration_at(at)
        if given is None
        else json_positive(given, f"{where}.concentration_mcg_per_ml")
    )
    return Flush(at, volume, concentration)


def bag_from_dict(item: Any, where: str, number: int) -> BagRecord:
    """``{"hung_at", "removed_at"?, "dose_mcg_per_day"}``: a bag as the pump ran it."""
    if not isinstance(item, Mapping):
        raise InvalidInput(where, str(item), "an object with hung_at and dose_mcg_per_day")
    hung = json_instant(
        f"{where}.hung_at", json_text(json_field(item, "hung_at", where), f"{where}.hung_at")
    )
    removed_text = item.get("removed_at")
    removed = (
        None
        if removed_text is None
        else json_instant(f"{where}.removed_at", json_text(removed_text, f"{where}.removed_at"))
    )
    if removed is not None and removed < hung:
        raise InvalidInput(f"{where}.removed_at", removed.isoformat(), f"not before {hung}")
    dose = json_positive(json_field(item, "dose_mcg_per_day", where), f"{where}.dose_mcg_per_day")
    status = BagStatus.HUNG if removed is None else BagStatus.REMOVED
    return BagRecord(number, f"bag-{number}", hung, McgPerDay(dose), status, hung, removed)
