"""The therapies beside blinatumomab over the API: what blina can plan
(``GET /therapies``) and a plan for one patient (``POST /calc/therapy-plan``, JSON as
`blina plan --therapy NAME --format json` prints it, or ``/calc/therapy-plan/ics``).

Stateless calculators like ``/calc/plan``: nothing is stored or audited. Planning is the
clinic staff's (any staff role); the list is anyone's who is signed in. A field's type
and magnitude are checked here; its clinical range by the service, in the CLI's words
(422 naming the field and the range).
"""

from collections.abc import Iterable
from dataclasses import replace
from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Response
from pydantic import BaseModel, Field, StringConstraints

from blina.api.deps import ActorDep, StateDep
from blina.api.schemas import BoundedDate, BoundedDecimal, BoundedInteger, Number, RequestBody
from blina.domain.errors import InvalidInput
from blina.domain.therapies.cycle_doses import Response as CycleResponse
from blina.domain.therapies.cycle_doses import Transplant
from blina.domain.therapies.model import TherapyPlan
from blina.interop.json.therapy_plan import therapy_plan_to_dict
from blina.interop.json.values import to_json_ready
from blina.interop.therapy_ical import therapy_plan_to_ical
from blina.knowledge import Knowledge
from blina.services.access import require_role
from blina.services.actors import STAFF_ROLES, Actor
from blina.services.therapy_catalog import therapy_catalog, therapy_info, warnings_boxed_first
from blina.services.therapy_planning import BLINATUMOMAB, TherapyInputs, plan_therapy

__all__ = [
    "TherapyFields",
    "TherapyPlanPublic",
    "TherapyPlanRequest",
    "TherapyPublic",
    "plan_answer",
    "router",
]

router = APIRouter(tags=["therapies"])

_Key = Annotated[str, StringConstraints(pattern=r"^[a-z0-9-]{1,40}$")]
_DoseDay = Annotated[str, StringConstraints(pattern=r"^[Cc]\d{1,2}[Dd]\d{1,2}$")]
_MAX_CYCLES = 12  # more than any cycle limit the knowledge holds; the service checks its own
_Bridging = Annotated[str, StringConstraints(min_length=1, max_length=200)]


class SourcePublic(BaseModel):
    id: str
    citation: str


class TherapyPublic(BaseModel):
    key: str
    name: str
    kind: str = Field(description="continuous-infusion, cycle-doses, cell-journey or hosted-doses")
    label: str = Field(description="The label revision the facts encode, e.g. US PI 3/2024")
    label_source: str
    planned_at: str = Field(description="Where to plan it: the API path")
    inputs: list[str] = Field(description="The request fields its planner reads")
    host: str | None = None
    host_courses: list[str] = Field(default=[], description="Keys for host_day1")
    sources: list[SourcePublic]


@router.get("/therapies", response_model=list[TherapyPublic])
def therapies(state: StateDep, actor: ActorDep) -> list[TherapyPublic]:
    """Every therapy blina knows, blinatumomab first, with its kind, label version, the
    inputs its planner reads and the sources its facts cite."""
    knowledge = state.knowledge
    return [
        TherapyPublic(
            key=info.key,
            name=info.name,
            kind=str(info.kind),
            label=info.label,
            label_source=info.label_source,
            planned_at="/api/v1/calc/therapy-plan" if info.planned_here else "/api/v1/calc/plan",
            inputs=list(info.inputs),
            host=info.host,
            host_courses=[c.key for c in info.host_courses],
            sources=[
                SourcePublic(id=key, citation=knowledge.sources[key].reference)
                for key in info.sources
            ],
        )
        for info in therapy_catalog(knowledge)
    ]


class TherapyFields(RequestBody):
    """A therapy's planning inputs, as `blina plan --therapy NAME` reads them. Each
    therapy reads the fields that ``GET /therapies`` lists for it. A CAR-T field for a
    drug, a drug's field for a CAR-T product or obecabtagene's split-dose fields for a
    one-infusion product are refused (422 naming the field), as the CLI refuses them."""

    bsa_m2: BoundedDecimal | None = Field(
        default=None, description="BSA in m2; or height_cm with weight_kg (Mosteller)"
    )
    height_cm: BoundedDecimal | None = None
    age_years: BoundedDecimal | None = Field(
        default=None,
        description="Age in years: checked against the label's ages (a plan without it says "
        "the range was not checked)",
    )
    weight_kg: BoundedDecimal | None = Field(
        default=None, description="Body weight; weight-based premedication doses use it"
    )
    start: BoundedDate | None = Field(
        default=None,
        description="Cycle doses: cycle 1 day 1. CAR-T: day 0, the cell infusion "
        "(obecabtagene: Day 1, its first infusion)",
    )
    transplant: Transplant | None = Field(
        default=None, description="Cycle doses: a stem-cell transplant planned or not"
    )
    responses: list[CycleResponse] = Field(
        default=[],
        max_length=_MAX_CYCLES,
        description="Cycle doses: the response recorded after each cycle, in order",
    )
    mrd: Literal["negative", "positive"] | None = Field(
        default=None, description="Cycle doses: MRD after cycle 2"
    )
    first_cycle_days: BoundedInteger | None = Field(
        default=None, description="Cycle doses: cycle 1 length (the label's, or lengthened)"
    )
    blasts_per_mm3: BoundedDecimal | None = Field(
        default=None, description="Cycle doses: peripheral blasts before the first dose"
    )
    dose_dates: dict[_DoseDay, BoundedDate] = Field(
        default={},
        max_length=3 * _MAX_CYCLES,
        description="Cycle doses: a dose's actual date by its day, e.g. {'C1D8': '2027-01-12'}",
    )
    host_day1: dict[_Key, BoundedDate] = Field(
        default={},
        max_length=20,
        description="Hosted doses: each host course's day 1, by course key",
    )
    leukapheresis_on: BoundedDate | None = Field(
        default=None, description="CAR-T: the leukapheresis (cell collection) date"
    )
    product_ready_on: BoundedDate | None = Field(
        default=None, description="CAR-T: the date the manufactured product is ready, recorded"
    )
    bridging: _Bridging | None = Field(
        default=None,
        description="CAR-T: the bridging therapy as the physician records it (with bridging_start)",
    )
    bridging_start: BoundedDate | None = Field(
        default=None, description="CAR-T: the first day of bridging (with bridging)"
    )
    lymphodepletion_start: BoundedDate | None = Field(
        default=None,
        description="CAR-T: lymphodepletion's first day, within the label's window before day 0 "
        "(default: ending as late as the window allows)",
    )
    marrow_blasts_percent: BoundedDecimal | None = Field(
        default=None,
        description="Obecabtagene (required): marrow blasts in %, 0 to 100; decides the split",
    )
    second_dose_on: BoundedDate | None = Field(
        default=None, description="Obecabtagene: the chosen date of the second infusion"
    )
    first_dose_crs_grade: BoundedInteger | None = Field(
        default=None,
        description="Obecabtagene: worst ASTCT CRS grade after the first infusion, 0 to 4 "
        "(with first_dose_icans_grade)",
    )
    first_dose_icans_grade: BoundedInteger | None = Field(
        default=None,
        description="Obecabtagene: worst ICANS grade after the first infusion, 0 to 4 "
        "(with first_dose_crs_grade)",
    )
    second_dose_withheld: bool = Field(
        default=False, description="Obecabtagene: the physician withholds the second infusion"
    )
    stay_near_days: BoundedInteger | None = Field(
        default=None,
        description="CAR-T: days to stay near the treatment centre from the current label, "
        "where blina's is not retrieved; never shorter than a known label period",
    )
    no_driving_days: BoundedInteger | None = Field(
        default=None,
        description="CAR-T: days without driving from the current label, as stay_near_days",
    )

    def input_values(self, names: Iterable[str]) -> dict[str, Any]:
        """The fields ``names`` as ``TherapyInputs`` names and values (``mrd`` is
        ``mrd_negative``; the dose dates keyed by cycle and day)."""
        values: dict[str, Any] = {}
        for name in names:
            value = getattr(self, name)
            if name == "mrd":
                values["mrd_negative"] = None if value is None else value == "negative"
            elif name == "responses":
                values[name] = tuple(value)
            elif name == "dose_dates":
                values[name] = {_dose_day(key): when for key, when in value.items()}
            elif name == "host_day1":
                values[name] = dict(value)
            else:
                values[name] = value
        return values


class TherapyPlanRequest(TherapyFields):
    """`blina plan --therapy NAME` as JSON: the therapy and its planning inputs."""

    therapy: _Key = Field(description="A key from GET /therapies, other than blinatumomab")

    def inputs(self) -> TherapyInputs:
        return TherapyInputs(therapy=self.therapy, **self.input_values(TherapyFields.model_fields))


def _dose_day(key: str) -> tuple[int, int]:
    cycle, day = key.upper().removeprefix("C").split("D")
    return int(cycle), int(day)


class EntryPublic(BaseModel):
    kind: str
    what: str
    text: str
    dose: Number | None
    unit: str | None
    basis: str | None
    source: str


class DayPublic(BaseModel):
    date: date
    label: str = Field(description="The day as the label counts it: C1 D8, day -2, ...")
    entries: list[EntryPublic]


class WarningPublic(BaseModel):
    what: str
    text: str
    source: str


class GapPublic(BaseModel):
    fact: str = Field(description="What the sources do not give (NOT RETRIEVED)")
    instead: str = Field(description="What blina does instead")
    source: str


class TherapyPlanPublic(BaseModel):
    therapy: str
    kind: str
    first_day: date | None
    last_day: date | None
    days: list[DayPublic]
    warnings: list[WarningPublic] = Field(description="Boxed warnings first")
    gaps: list[GapPublic]
    sources: dict[str, str] = Field(description="Each source id the plan cites: its citation")


@router.post("/calc/therapy-plan", response_model=TherapyPlanPublic)
def therapy_plan(body: TherapyPlanRequest, state: StateDep, actor: ActorDep) -> dict[str, Any]:
    """Plan a therapy other than blinatumomab day by day, with its warnings, the facts the
    sources lack (gaps) and the sources cited; nothing is stored."""
    return plan_answer(state.knowledge, _plan(body, state, actor))


def plan_answer(knowledge: Knowledge, plan: TherapyPlan) -> dict[str, Any]:
    """A plan as ``TherapyPlanPublic`` reads it, each source cited with its reference."""
    references = {key: entry.reference for key, entry in knowledge.sources.items()}
    answer: dict[str, Any] = to_json_ready(therapy_plan_to_dict(plan, references))
    return answer


@router.post(
    "/calc/therapy-plan/ics",
    response_class=Response,
    responses={200: {"content": {"text/calendar": {"schema": {"type": "string"}}}}},
)
def therapy_plan_ics(body: TherapyPlanRequest, state: StateDep, actor: ActorDep) -> Response:
    """The same plan as an iCalendar file: one all-day event per planned day."""
    plan = _plan(body, state, actor)
    info = therapy_info(state.knowledge, plan.therapy)
    name = plan.therapy if info is None else info.name
    calendar = therapy_plan_to_ical(plan, name, generated_at=state.clock.now())
    return Response(
        calendar,
        media_type="text/calendar",
        headers={"content-disposition": f'attachment; filename="{plan.therapy}-plan.ics"'},
    )


def _plan(body: TherapyPlanRequest, state: StateDep, actor: Actor) -> TherapyPlan:
    require_role(actor, *sorted(STAFF_ROLES), doing="plan a therapy")
    if body.therapy == BLINATUMOMAB:
        raise InvalidInput("therapy", body.therapy, "another therapy: POST /api/v1/calc/plan")
    plan = plan_therapy(state.knowledge, body.inputs())
    return replace(plan, warnings=warnings_boxed_first(plan))
