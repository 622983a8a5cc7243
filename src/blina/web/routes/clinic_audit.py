"""The clinic's audit trail (admin and physician)."""

from datetime import date, datetime, time, timedelta
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request, Response

from blina.domain import bounds
from blina.domain.errors import InvalidInput
from blina.services import audit_checks, audit_reading, clinic_settings, users
from blina.services.access import require_role
from blina.services.actors import Role
from blina.services.storage import StoredInteger
from blina.web.deps import PageDep, ReadDep
from blina.web.render import render
from blina.web.routes._common import WebRoute
from blina.web.viewmodels import audit_row

router = APIRouter(route_class=WebRoute, include_in_schema=False)

# --- the clinic's audit trail (admin and physician) --------------------------------------

_AUDIT_PAGE_SIZE = 100
_AUDIT_FILTERS = ("who", "action", "from", "to")


def _audit_filters(
    request: Request, zone: ZoneInfo
) -> tuple[audit_reading.AuditFilters, dict[str, str], dict[str, str]]:
    """The filters the address asks for, what the form held, and the message beside
    each field that could not be read. Dates are the clinic's days, both included."""
    values = {name: request.query_params.get(name, "").strip() for name in _AUDIT_FILTERS}
    errors: dict[str, str] = {}
    for name, value in values.items():
        try:
            bounds.check_text(name, value)
        except InvalidInput as error:
            errors[name] = str(error)
    actor_id: int | None = None
    if values["who"] and "who" not in errors:
        try:
            actor_id = bounds.parse_integer("who", values["who"], low=1, high=bounds.MAX_RECORD_ID)
        except InvalidInput:
            errors["who"] = str(InvalidInput("who", values["who"], "one of the clinic's users"))
    days: dict[str, date] = {}
    for name in ("from", "to"):
        if values[name] and name not in errors:
            try:
                days[name] = bounds.parse_date(name, values[name])
            except InvalidInput as error:
                errors[name] = str(error)
    filters = audit_reading.AuditFilters(
        actor_id=actor_id,
        action=values["action"] or None,
        since=_midnight(days["from"], zone) if "from" in days else None,
        until=_midnight(days["to"] + timedelta(days=1), zone) if "to" in days else None,
    )
    return filters, values, errors


def _midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=zone)


@router.get("/audit")
def clinic_audit_page(
    ctx: PageDep,
    session: ReadDep,
    before: StoredInteger | None = None,
    after: StoredInteger | None = None,
) -> Response:
    """Everything audited in the clinic, newest first, a page at a time, with the hash
    chain's verdict (admin and physician)."""
    actor = ctx.signed_in()
    require_role(actor, Role.ADMIN, Role.PHYSICIAN, doing="read the clinic's audit trail")
    zone = ZoneInfo(clinic_settings.clinic_of(session, actor=actor).zone)
    filters, values, errors = _audit_filters(ctx.request, zone)
    choices = audit_reading.audit_choices(session, actor=actor)
    found = (
        audit_reading.AuditPage([], None, None)
        if errors
        else audit_reading.clinic_events(
            session,
            actor=actor,
            filters=filters,
            before=before,
            after=after,
            limit=_AUDIT_PAGE_SIZE,
        )
    )
    ids = {e.actor_id for e in found.events if e.actor_id is not None}
    names = users.usernames(session, actor=actor, ids=ids)
    # The clinic's events since the page last verified them (a checkpoint), not all.
    chain = audit_checks.verify_clinic_trail(ctx.state.sessions, actor=actor)
    kept = {name: value for name, value in values.items() if value}

    def page_of(cursor: str, seq: int | None) -> str | None:
        return None if seq is None else "/audit?" + urlencode({**kept, cursor: seq})

    return render(
        ctx,
        "pages/clinic_audit.html",
        status=422 if errors else 200,
        rows=[
            audit_row(e, None if e.actor_id is None else names.get(e.actor_id), zone)
            for e in found.events
        ],
        chain=chain,
        choices=choices,
        values=values,
        errors=errors,
        newer=page_of("after", found.newer),
        older=page_of("before", found.older),
        zone=zone,
    )
