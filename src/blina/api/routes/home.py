"""Symptom reports from home and the clinic's task list."""

import gzip
import hashlib
import json
import re
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, TypeVar

from anyio import to_thread
from fastapi import APIRouter, Header, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, StringConstraints, TypeAdapter, ValidationError
from starlette.routing import Route

from blina.api.deps import ActorDep, ReadDep, authenticated, token_of
from blina.api.paging import LIMIT_DEFAULT, After, Limit, one_page
from blina.api.schemas import BoundedDate, Number, ReportCreate, ReportPublic, TaskPublic
from blina.api.state import AppState
from blina.services import reports, tasks
from blina.services.actors import Actor
from blina.services.audit import audit_position
from blina.services.check_ins import PostedCheckIn
from blina.services.errors import NotAuthenticated
from blina.services.records import ReportRecord
from blina.services.storage import RecordId, read_only

router = APIRouter()
T = TypeVar("T")


def _report(
    row: ReportRecord | reports.SubmittedReport,
    replayed: bool = False,
    alert_id: int | None = None,
) -> ReportPublic:
    return ReportPublic(
        id=row.id,
        patient_id=row.patient_id,
        submitted_at=row.submitted_at,
        report=row.report,
        replayed=replayed,
        alert_id=alert_id,
    )


# The check-in's inputs, declared once: the FastAPI route below is documented from them,
# and the fast route validates with adapters of the same types.
IdempotencyKey = Annotated[
    str, StringConstraints(min_length=1, max_length=reports.IDEMPOTENCY_KEY_LENGTH)
]


# The app serves this operation through check_in_route, mounted in front of this route,
# which declares and documents it (and answers as it does).
@router.post(
    "/patients/{patient_id}/symptom-reports",
    status_code=201,
    tags=["home"],
    response_model=ReportPublic,
    responses={
        200: {"model": ReportPublic, "description": "Stored before under this key"},
        422: {"description": "Bad input: each field, its value and what is allowed"},
    },
)
async def submit_report(
    request: Request,
    patient_id: RecordId,
    idempotency_key: Annotated[IdempotencyKey, Header()],
    check_in: ReportCreate,
) -> Response:
    """Store a symptom check-in. The same Idempotency-Key with the same check-in again
    stores nothing new (200); with a different check-in it is refused (422)."""
    return await _stored(request, patient_id, idempotency_key, check_in)


def check_in_route(prefix: str) -> Route:
    """The busiest route (phones post check-ins all day), as a Starlette route of its
    own: FastAPI's dependency solving, body reading, response validation and router
    dispatch cost more than the rest of its work on the event loop
    (docs/design/service.md). It reads the path, the header and the body with the
    adapters of ``submit_report``'s types, answers bad input with the same 422 (every
    problem at once), and is documented by ``submit_report``, which it shadows."""
    return Route(
        f"{prefix}/patients/{{patient_id}}/symptom-reports",
        _read_check_in,
        methods=["POST"],
        name="submit_report_fast",
    )


_PATIENT_ID: TypeAdapter[int] = TypeAdapter(RecordId)
_IDEMPOTENCY_KEY: TypeAdapter[str] = TypeAdapter(IdempotencyKey)
_CHECK_IN: TypeAdapter[ReportCreate] = TypeAdapter(ReportCreate)


async def _read_check_in(request: Request) -> Response:
    raw = await request.body()
    problems: list[dict[str, Any]] = []
    patient_id = _valid(
        _PATIENT_ID, request.path_params["patient_id"], ("path", "patient_id"), problems
    )
    idempotency_key = _valid(
        _IDEMPOTENCY_KEY,
        request.headers.get("idempotency-key"),
        ("header", "idempotency-key"),
        problems,
    )
    body = _valid(_CHECK_IN, raw, ("body",), problems)
    if problems:
        raise RequestValidationError(problems)
    assert patient_id is not None
    assert idempotency_key is not None
    assert body is not None
    return await _stored(request, patient_id, idempotency_key, body)


async def _stored(
    request: Request, patient_id: int, idempotency_key: str, body: ReportCreate
) -> Response:
    """The check-in handed to the app's writer (services.check_ins), which signs it in,
    checks it and stores it; the answer written with the model's serializer."""
    state: AppState = request.app.state.blina
    token = token_of(request)
    if token is None:
        raise NotAuthenticated("sign in first")

    def signed_in(actor: Actor) -> None:
        request.state.actor = actor  # for the audit of a refusal (api.errors)

    submitted = await state.check_ins.write(
        PostedCheckIn(
            token=token,
            patient_id=patient_id,
            idempotency_key=idempotency_key,
            check_in=reports.CheckInRequest(
                symptoms=dict(body.symptoms),
                temperature=body.temperature,
                temperature_unit=body.temperature_unit,
                note=body.note,
                observed_at=body.observed_at,
                interferes=dict(body.interferes),
            ),
            signed_in=signed_in,
        )
    )
    answer = _report(submitted, submitted.replayed, submitted.alert_id)
    return Response(
        _REPORT_JSON.to_json(answer),
        status_code=200 if submitted.replayed else 201,
        media_type="application/json",
    )


_REPORT_JSON = ReportPublic.__pydantic_serializer__


def _valid(
    adapter: TypeAdapter[T],
    value: str | bytes | None,
    where: tuple[str, ...],
    problems: list[dict[str, Any]],
) -> T | None:
    """``value`` validated (bytes as JSON), or None with its problems added, each
    located as FastAPI locates it."""
    if value is None:
        problems.append({"type": "missing", "loc": where, "msg": "Field required", "input": None})
        return None
    try:
        if isinstance(value, bytes):
            return adapter.validate_json(value)
        return adapter.validate_python(value)
    except ValidationError as error:
        for problem in error.errors():
            if problem["loc"]:
                problems.append({**problem, "loc": (*where, *problem["loc"])})
            else:
                shown = value.decode(errors="replace") if isinstance(value, bytes) else value
                problems.append({**problem, "loc": where, "input": shown})
        return None


@router.get("/patients/{patient_id}/symptom-reports", tags=["home"])
def list_reports(
    patient_id: RecordId,
    request: Request,
    response: Response,
    session: ReadDep,
    actor: ActorDep,
    limit: Limit = LIMIT_DEFAULT,
    after: After = None,
) -> list[ReportPublic]:
    """The patient's check-ins, oldest first, a page at a time (``paging``)."""
    found = reports.list_reports(
        session, actor=actor, patient_id=patient_id, after=after, limit=limit + 1
    )
    return [_report(r) for r in one_page(request, response, found, limit, lambda r: r.id)]


@router.get("/clinic/tasks", tags=["clinic"], response_model=list[TaskPublic])
async def clinic_tasks(
    request: Request, day: Annotated[BoundedDate | None, Query()] = None
) -> Response:
    """The clinic's tasks for a day (default: today in the clinic's time zone).

    Ward screens poll this list. Every write appends an audit event, so the list is kept
    by the audit chain's position: built once per change (and compressed once for the
    screens that take gzip), and answered 304 to a screen that sends back the ETag of
    what it shows. The ETag is a digest of the list itself.
    """
    state: AppState = request.app.state.blina
    # One trip to a reader thread and one read transaction for the whole answer, signing
    # in included; few reader threads, so that many screens polling at once do not
    # spend the process's time handing the interpreter lock between threads.
    return await to_thread.run_sync(_clinic_tasks, request, day, limiter=state.readers)


def _clinic_tasks(request: Request, day: date | None) -> Response:
    state: AppState = request.app.state.blina
    # Its three small statements (sign-in, the clinic's zone, the audit position) run
    # prepared on the driver, as in the check-in writer: screens poll it all day.
    with read_only(state.sessions, prepared_on_the_driver=True) as session:
        actor = authenticated(request, state, session)
        tasks.require_task_reader(actor)
        now = state.clock.now()
        when = day or tasks.clinic_today(session, actor=actor, now=now)
        # The position is read before the tasks: the kept list is never older than its key.
        # A task's state moves with the clock (due, blocked, overdue): kept for a minute.
        minute = now.strftime("%Y%m%d%H%M")
        kept = f"tasks-{actor.clinic_id}-{when.isoformat()}-{audit_position(session)}-{minute}"

        def listed() -> bytes:
            return state.responses.get(
                kept,
                lambda: _task_list(
                    tasks.tasks_for_day(
                        session, actor=actor, day=when, now=now, knowledge=state.knowledge
                    )
                ),
            )

        # The tag is the list's own digest: it moves when the list does, never with another
        # clinic's writes (the audit position as a tag told every clinic how busy the
        # others were; issue 16).
        digest = state.responses.get(
            (kept, "tag"), lambda: _digest(actor.clinic_id, when, listed())
        ).decode()
        compressed = _accepts_gzip(request.headers.get("accept-encoding", ""))
        # Each encoding is its own representation, with its own tag (RFC 9110, 8.8.3).
        tag = f'"{digest}-gzip"' if compressed else f'"{digest}"'
        headers = {"ETag": tag, "Cache-Control": "private, no-cache", "Vary": "Accept-Encoding"}
        if request.headers.get("if-none-match") == tag:
            return Response(status_code=304, headers=headers)
        if not compressed:
            return Response(listed(), media_type="application/json", headers=headers)
        # A large clinic's list is hundreds of kilobytes of repeated keys on the ward's
        # network; compressed once per change, like the list itself.
        body = state.responses.get((kept, "gzip"), lambda: gzip.compress(listed(), compresslevel=6))
    headers["Content-Encoding"] = "gzip"
    return Response(body, media_type="application/json", headers=headers)


def _digest(clinic_id: int, day: date, listed: bytes) -> bytes:
    """The task list's entity tag: a digest of the clinic, the day and the list."""
    digest = hashlib.blake2b(f"{clinic_id}|{day.isoformat()}|".encode(), digest_size=16)
    digest.update(listed)
    return digest.hexdigest().encode()


def _accepts_gzip(accept_encoding: str) -> bool:
    """Whether an Accept-Encoding header takes gzip: named, or "*", and not refused by
    q=0 (RFC 9110, 12.5.3)."""
    accepted: dict[str, bool] = {}
    for offer in accept_encoding.split(","):
        name, *parameters = (part.strip().lower() for part in offer.split(";"))
        accepted[name] = not any(_REFUSED.fullmatch(p.replace(" ", "")) for p in parameters)
    return accepted.get("gzip", accepted.get("*", False))


_REFUSED = re.compile(r"q=0(\.0{0,3})?")


def _task_list(rows: list[tasks.TaskRow]) -> bytes:
    # Thousands of rows in a large clinic: written straight to JSON, not re-validated.
    return json.dumps(
        [
            {
                "day": row.day.isoformat(),
                "at": None if row.at is None else row.at.isoformat(),
                "kind": row.kind,
                "text": row.text,
                "course_id": row.course_id,
                "patient_id": row.patient_id,
                "patient_code": row.patient_code,
                "patient_name": row.patient_name,
                "state": row.state,
                "bag_code": row.bag_code,
                "therapy": row.therapy,
                "therapy_course_id": row.therapy_course_id,
            }
            for row in rows
        ],
        separators=(",", ":"),
    ).encode()


class TrendPoint(BaseModel):
    observed_at: datetime
    temperature_c: Number | None
    level: str
    symptoms: dict[str, int | None]


@router.get("/patients/{patient_id}/symptom-reports/trend", tags=["home"])
def report_trend(patient_id: RecordId, session: ReadDep, actor: ActorDep) -> list[TrendPoint]:
    """Each check-in's temperature in C, triage level and symptoms, oldest first."""
    points = []
    for row in reports.list_reports(session, actor=actor, patient_id=patient_id):
        triaged = row.report.get("triage") or {}
        temperature = triaged.get("temperature") or {}
        points.append(
            TrendPoint(
                observed_at=datetime.fromisoformat(
                    row.report.get("observed_at", row.submitted_at.isoformat())
                ),
                temperature_c=None if not temperature else Decimal(temperature["celsius"]),
                level=triaged.get("level", "not triaged"),
                symptoms=dict(row.report.get("symptoms", {})),
            )
        )
    return sorted(points, key=lambda point: point.observed_at)
