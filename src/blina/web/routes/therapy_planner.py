"""The staff planner for the therapies beside blinatumomab (``/plan``): pick a therapy,
fill in what its planner reads, see the plan day by day with its warnings (boxed first),
the facts the sources lack and the sources cited. Nothing is stored.

The form is a GET, so the page works without JavaScript (the button shows the plan);
with htmx the plan follows the form as it is filled (``/plan/preview``, the partial
alone). The therapies and the inputs each reads come from ``services.therapy_catalog``;
the form shows the fields of the chosen therapy's kind (cycle doses, host courses, the
CAR-T journey with obecabtagene's split dose). Blinatumomab is planned where its course is
started, on the patient's page: the picker links there.
"""

from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from fastapi import APIRouter, Response
from starlette.datastructures import FormData

from blina.domain import bounds
from blina.domain.errors import InvalidInput
from blina.domain.therapies.cycle_doses import Response as CycleResponse
from blina.domain.therapies.cycle_doses import Transplant
from blina.domain.therapies.model import Entry, EntryKind, TherapyPlan
from blina.interop.json.therapy_plan import sources_used
from blina.services.errors import PermissionDenied
from blina.services.therapy_catalog import (
    TherapyInfo,
    is_boxed,
    therapy_catalog,
    therapy_info,
    warnings_boxed_first,
)
from blina.services.therapy_planning import TherapyInputs, plan_therapy
from blina.web.deps import PageDep, QueryFormDep
from blina.web.render import Ctx, render
from blina.web.routes._common import WebRoute, decimal_field, text_field

__all__ = ["form_values", "inputs_from_form", "plan_values", "router"]

router = APIRouter(route_class=WebRoute, include_in_schema=False)

_HOST_DAY = "host_day1."  # one date field per host course: host_day1.<course key>
_CELL_DATES = (
    "leukapheresis_on",
    "product_ready_on",
    "bridging_start",
    "lymphodepletion_start",
    "second_dose_on",
)


@dataclass(frozen=True, slots=True)
class _Shown:
    """The partial's values: a plan, or the refusals by form field, or nothing yet."""

    plan: TherapyPlan | None
    errors: dict[str, str]


def _staff(ctx: Ctx) -> None:
    if not ctx.signed_in().is_staff:
        raise PermissionDenied("only clinic staff may plan a therapy")


@router.get("/plan")
def planner(ctx: PageDep, form: QueryFormDep) -> Response:
    _staff(ctx)
    catalog = therapy_catalog(ctx.state.knowledge)
    info = _chosen(ctx, form)
    shown = _shown(ctx, info, form)
    return render(
        ctx,
        "pages/therapy_plan.html",
        status=422 if shown.errors else 200,
        therapies=catalog,
        info=info,
        values=_values(form),
        **_partial_values(ctx, shown),
    )


@router.get("/plan/preview")
def preview(ctx: PageDep, form: QueryFormDep) -> Response:
    """The plan for the form as filled so far (an htmx fragment)."""
    _staff(ctx)
    info = _chosen(ctx, form)
    return render(
        ctx, "_therapy_plan.html", info=info, **_partial_values(ctx, _shown(ctx, info, form))
    )


def _chosen(ctx: Ctx, form: FormData) -> TherapyInfo | None:
    key = text_field(form, "therapy")
    if not key:
        return None
    info = therapy_info(ctx.state.knowledge, key)
    if info is None or not info.planned_here:
        raise InvalidInput("therapy", key, "a therapy from the list on this page")
    return info


def _shown(ctx: Ctx, info: TherapyInfo | None, form: FormData) -> _Shown:
    if info is None or not _filled(form):
        return _Shown(None, {})
    try:
        plan = plan_therapy(ctx.state.knowledge, inputs_from_form(info, form))
    except InvalidInput as error:
        # The form's fields carry the planner's names, so the refusal lands beside its field.
        return _Shown(None, {error.field: str(error)})
    return _Shown(replace(plan, warnings=warnings_boxed_first(plan)), {})


def _filled(form: FormData) -> bool:
    """The button pressed, or anything of the therapy's inputs given: the picker's link
    alone asks for no plan."""
    names = [*_FORM_FIELDS, "show", *(n for n in form if n.startswith(_HOST_DAY))]
    return any(text_field(form, name) for name in names)


_FORM_FIELDS = (
    "bsa_m2",
    "height_cm",
    "weight_kg",
    "age_years",
    "start",
    "transplant",
    "responses",
    "mrd",
    "first_cycle_days",
    "blasts_per_mm3",
    "dose_date",
    *_CELL_DATES,
    "bridging",
    "marrow_blasts_percent",
    "first_dose_crs_grade",
    "first_dose_icans_grade",
    "second_dose_withheld",
    "stay_near_days",
    "no_driving_days",
)


def inputs_from_form(info: TherapyInfo, form: FormData) -> TherapyInputs:
    """The therapy's inputs as the form's fields give them (``_therapy_fields.html``)."""
    start = text_field(form, "start")
    first_days = text_field(form, "first_cycle_days")
    return _cell_inputs(
        form,
        TherapyInputs(
            therapy=info.key,
            bsa_m2=decimal_field(form, "bsa_m2", required=False),
            weight_kg=decimal_field(form, "weight_kg", required=False),
            height_cm=decimal_field(form, "height_cm", required=False),
            age_years=decimal_field(form, "age_years", required=False),
            start=bounds.parse_date("start", start) if start else None,
            transplant=_transplant(text_field(form, "transplant")),
            responses=_responses(text_field(form, "responses")),
            mrd_negative=_mrd(text_field(form, "mrd")),
            first_cycle_days=bounds.parse_integer("first_cycle_days", first_days)
            if first_days
            else None,
            dose_dates=_dose_dates(text_field(form, "dose_date")),
            blasts_per_mm3=decimal_field(form, "blasts_per_mm3", required=False),
            host_day1=_host_days(info, form),
        ),
    )


def _cell_inputs(form: FormData, inputs: TherapyInputs) -> TherapyInputs:
    """The CAR-T journey's fields as filled (none given for a drug's form, so the
    service's refusal of a CAR-T field for a drug holds here too)."""
    return replace(
        inputs,
        leukapheresis_on=_date(form, "leukapheresis_on"),
        product_ready_on=_date(form, "product_ready_on"),
        bridging_start=_date(form, "bridging_start"),
        lymphodepletion_start=_date(form, "lymphodepletion_start"),
        second_dose_on=_date(form, "second_dose_on"),
        bridging=text_field(form, "bridging") or None,
        marrow_blasts_percent=decimal_field(form, "marrow_blasts_percent", required=False),
        first_dose_crs_grade=_integer(form, "first_dose_crs_grade"),
        first_dose_icans_grade=_integer(form, "first_dose_icans_grade"),
        second_dose_withheld=bool(text_field(form, "second_dose_withheld")),
        stay_near_days=_integer(form, "stay_near_days"),
        no_driving_days=_integer(form, "no_driving_days"),
    )


def _date(form: FormData, name: str) -> date | None:
    text = text_field(form, name)
    return bounds.parse_date(name, text) if text else None


def _integer(form: FormData, name: str) -> int | None:
    text = text_field(form, name)
    return bounds.parse_integer(name, text) if text else None


def _transplant(text: str) -> Transplant | None:
    if not text:
        return None
    try:
        return Transplant(text)
    except ValueError:
        allowed = " or ".join(t.value for t in Transplant)
        raise InvalidInput("transplant", text, allowed) from None


def _responses(text: str) -> tuple[CycleResponse, ...]:
    found = []
    for item in (part.strip().lower() for part in text.split(",")):
        if not item:
            continue
        try:
            found.append(CycleResponse(item))
        except ValueError:
            allowed = ", ".join(r.value for r in CycleResponse)
            raise InvalidInput("responses", item, f"one of {allowed}, by commas") from None
    return tuple(found)


def _mrd(text: str) -> bool | None:
    if not text:
        return None
    if text not in ("negative", "positive"):
        raise InvalidInput("mrd", text, "negative or positive")
    return text == "negative"


def _dose_dates(text: str) -> dict[tuple[int, int], date]:
    dates: dict[tuple[int, int], date] = {}
    for item in (part.strip() for part in text.split(",")):
        if not item:
            continue
        key, sep, when = item.partition("=")
        cycle, dsep, day = key.strip().upper().removeprefix("C").partition("D")
        if not sep or not dsep or not cycle.isdigit() or not day.isdigit():
            raise InvalidInput("dose_date", item, "CnDm=YYYY-MM-DD by commas, e.g. C1D8=2027-01-12")
        dates[int(cycle), int(day)] = bounds.parse_date("dose_date", when.strip())
    return dates


def _host_days(info: TherapyInfo, form: FormData) -> dict[str, date]:
    days: dict[str, date] = {}
    for course in info.host_courses:
        text = text_field(form, _HOST_DAY + course.key)
        if text:
            days[course.key] = bounds.parse_date("host_day1", text)
    return days


def form_values(inputs: TherapyInputs) -> dict[str, str]:
    """The form's fields holding ``inputs`` (the inverse of ``inputs_from_form``): the
    "record what happened" form opens with the course's inputs as they stand."""
    values: dict[str, str] = {}
    for name in _FORM_FIELDS:
        value = getattr(inputs, _INPUT_OF.get(name, name), None)
        # not given: None, an empty collection, the flag unset (a grade 0 is given)
        if value is None or value is False or (isinstance(value, tuple | dict) and not value):
            continue
        values[name] = _written(name, value)
    for key, day in inputs.host_day1.items():
        values[_HOST_DAY + key] = day.isoformat()
    return values


# The form's names that are not the inputs' own.
_INPUT_OF = {"mrd": "mrd_negative", "dose_date": "dose_dates"}


def _written(name: str, value: Any) -> str:
    if name == "responses":
        return ", ".join(str(r) for r in value)
    if name == "mrd":
        return "negative" if value else "positive"
    if name == "dose_date":
        return ", ".join(f"C{c}D{d}={when.isoformat()}" for (c, d), when in sorted(value.items()))
    if name == "second_dose_withheld":
        return "1"
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _values(form: FormData) -> dict[str, str]:
    return {name: value for name, value in form.multi_items() if isinstance(value, str)}


# --- what the partial shows -------------------------------------------------------------


def _partial_values(ctx: Ctx, shown: _Shown) -> dict[str, Any]:
    return plan_values(ctx, shown.plan, shown.errors)


def plan_values(ctx: Ctx, plan: TherapyPlan | None, errors: dict[str, str]) -> dict[str, Any]:
    """What ``_therapy_plan.html`` reads: the plan (or the refusals by field), the names
    of its entries' kinds and the sources it cites with their references."""
    sources = ctx.state.knowledge.sources
    cited = [] if plan is None else sorted(sources_used(plan))
    return {
        "plan": plan,
        "errors": errors,
        "kinds": _kind_names(ctx),
        "is_boxed": is_boxed,
        "entry_dose": _entry_dose,
        "sources": [(key, sources[key].reference) for key in cited],
    }


def _kind_names(ctx: Ctx) -> dict[str, str]:
    _ = ctx.gettext
    return {
        EntryKind.DOSE: _("Dose"),
        EntryKind.PREMEDICATION: _("Premedication"),
        EntryKind.MONITORING: _("Check"),
        EntryKind.STEP: _("Step"),
        EntryKind.STAY_NEAR: _("Stay near the treatment centre"),
        EntryKind.NO_DRIVING: _("No driving"),
        EntryKind.VISIT: _("Visit"),
    }


def _entry_dose(entry: Entry) -> str:
    return "" if entry.dose is None else f"{entry.dose} {entry.unit}"
