"""The pages a clinic runs itself with (issue 18): its patients, registering one (a
physician, a nurse or the admin), and a patient's family access: the invitations the care
team issues for a family member to make their own account, each with its state, and
revocable. The page an invitation opens is ``user_accounts``' (beside the reset link's).

A refused form is shown again with what it held and, beside the field named, the rule in
the page's language; the services' own words name the field and range for the API.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request, Response

from blina.domain.errors import InvalidInput
from blina.services import invitations, patients, users
from blina.services.clinic_settings import clinic_of
from blina.services.storage import RecordId, Session
from blina.web.deps import FormDep, PageDep, ReadDep, WriteDep
from blina.web.render import Ctx, moment_for, redirect, render
from blina.web.routes._common import (
    WebRoute,
    phone_problem,
    public_url_for,
    submit,
    text_field,
)

router = APIRouter(route_class=WebRoute, include_in_schema=False)

# The name of the page an invitation opens (user_accounts.invitation_page).
INVITATION_PAGE = "invitation_page"
_PATIENT_FIELDS = ("code", "display_name", "phone")
_INVITE_FIELDS = ("role", "username", "display_name")


# --- the clinic's patients, and registering one ----------------------------------------------


@router.get("/clinic/patients")
def patients_page(page: PageDep, session: ReadDep) -> Response:
    actor = page.signed_in()
    return render(
        page,
        "pages/clinic_patients.html",
        rows=patients.clinic_patients(session, actor=actor),
        may_register=patients.may_register(actor),
        may_invite=invitations.may_invite(actor),
    )


@router.get("/clinic/patients/new")
def new_patient_page(page: PageDep) -> Response:
    patients.require_registering(page.signed_in())
    return _new_patient(page, dict.fromkeys(_PATIENT_FIELDS, ""), {})


@router.post("/clinic/patients")
def register_patient(page: PageDep, form: FormDep, session: WriteDep) -> Response:
    actor = page.signed_in()
    values = {name: text_field(form, name) for name in _PATIENT_FIELDS}

    def again(_: Session, error: InvalidInput, status: int) -> Response:
        return _new_patient(page, values, {error.field: _patient_problem(page, error)}, status)

    patient = submit(
        page,
        lambda: patients.create_patient(
            session,
            actor=actor,
            now=page.state.clock.now(),
            code=values["code"],
            display_name=values["display_name"],
            phone=values["phone"],
        ),
        refused={InvalidInput: 422},
        again=again,
    )
    return redirect(page, f"/patients/{patient.id}")


def _new_patient(
    ctx: Ctx, values: dict[str, str], errors: dict[str, str], status: int = 200
) -> Response:
    return render(
        ctx,
        "pages/patient_new.html",
        status=status,
        values=values,
        errors=errors,
        code_max=patients.CODE_MAX,
        name_max=patients.NAME_MAX,
    )


def _patient_problem(ctx: Ctx, error: InvalidInput) -> str:
    if error.field == "phone":
        return phone_problem(ctx)
    if error.field == "code" and "no other" in error.allowed:
        return ctx.gettext("Another patient of the clinic has this code: choose another.")
    if error.field == "code":
        return ctx.gettext("Give a code of 1 to %(max)s characters.") % {"max": patients.CODE_MAX}
    return ctx.gettext("Give a name of 1 to %(max)s characters.") % {"max": patients.NAME_MAX}


# --- a patient's family access ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class InvitationRow:
    """An invitation as the family access page lists it."""

    id: int
    username: str
    display_name: str
    role: str
    state: str
    issued: str
    issued_by: str
    expires: str
    ended: str | None  # when it was used or revoked


@dataclass(frozen=True, slots=True)
class ShownInvitation:
    """An invitation just issued: its link, shown this once."""

    username: str
    role: str
    url: str
    expires: str


@router.get("/patients/{patient_id}/family")
def family_access_page(patient_id: RecordId, page: PageDep, session: ReadDep) -> Response:
    return _family_page(page, session, patient_id, values=_blank_invitation(), errors={})


@router.post("/patients/{patient_id}/family/invitations")
def invite(
    patient_id: RecordId, request: Request, page: PageDep, form: FormDep, session: WriteDep
) -> Response:
    actor = page.signed_in()
    values = {name: text_field(form, name) for name in _INVITE_FIELDS}

    def again(reading: Session, error: InvalidInput, status: int) -> Response:
        errors = {error.field: _invitation_problem(page, error)}
        return _family_page(page, reading, patient_id, values=values, errors=errors, status=status)

    issued = submit(
        page,
        lambda: invitations.issue_invitation(
            session,
            actor=actor,
            now=page.state.clock.now(),
            patient_id=patient_id,
            role=values["role"],
            username=values["username"],
            display_name=values["display_name"],
            lifetime=timedelta(hours=page.state.settings.invitation_hours),
        ),
        refused={InvalidInput: 422},
        again=again,
    )
    url = public_url_for(request, INVITATION_PAGE, token=issued.token)
    return _family_page(
        page, session, patient_id, values=_blank_invitation(), errors={}, shown=(issued, url)
    )


@router.post("/patients/{patient_id}/family/invitations/{invitation_id}/revoke")
def revoke(
    patient_id: RecordId, invitation_id: RecordId, page: PageDep, form: FormDep, session: WriteDep
) -> Response:
    invitations.revoke_invitation(
        session,
        actor=page.signed_in(),
        now=page.state.clock.now(),
        patient_id=patient_id,
        invitation_id=invitation_id,
    )
    return redirect(page, f"/patients/{patient_id}/family?done=revoked")


def _blank_invitation() -> dict[str, str]:
    return {"role": "caregiver", "username": "", "display_name": ""}


def _family_page(
    ctx: Ctx,
    session: Session,
    patient_id: int,
    *,
    values: dict[str, str],
    errors: dict[str, str],
    status: int = 200,
    shown: tuple[invitations.IssuedInvitation, str] | None = None,
) -> Response:
    actor = ctx.signed_in()
    now = ctx.state.clock.now()
    found = invitations.list_invitations(session, actor=actor, now=now, patient_id=patient_id)
    patient = patients.patient_record(session, actor=actor, patient_id=patient_id)
    zone = ZoneInfo(clinic_of(session, actor=actor).zone)
    moment = moment_for(ctx.language)
    names = users.usernames(session, actor=actor, ids={row.issued_by for row in found})
    rows = [
        InvitationRow(
            id=row.id,
            username=row.username,
            display_name=row.display_name,
            role=row.role,
            state=row.state.value,
            issued=moment(row.created_at, zone),
            issued_by=names.get(row.issued_by, "?"),
            expires=moment(row.expires_at, zone),
            ended=_when(row.used_at or row.revoked_at, zone, moment),
        )
        for row in found
    ]
    link = None
    if shown is not None:
        issued, url = shown
        link = ShownInvitation(issued.username, issued.role, url, moment(issued.expires_at, zone))
    done = ctx.request.query_params.get("done")
    return render(
        ctx,
        "pages/patient_family.html",
        status=status,
        patient=patient,
        rows=rows,
        values=values,
        errors=errors,
        link=link,
        zone=zone,
        hours=ctx.state.settings.invitation_hours,
        done=done if done == "revoked" else None,
    )


def _when(
    at: datetime | None, zone: ZoneInfo, moment: Callable[[datetime, ZoneInfo], str]
) -> str | None:
    return None if at is None else moment(at, zone)


def _invitation_problem(ctx: Ctx, error: InvalidInput) -> str:
    if error.field == "username" and "no other" in error.allowed:
        return ctx.gettext("Someone already has this username: choose another.")
    if error.field == "username":
        return ctx.gettext(
            "Choose a username of 1 to 120 letters, digits, dots, dashes or underscores."
        )
    if error.field == "display_name":
        return ctx.gettext("Give a name of 1 to %(max)s characters.") % {"max": 200}
    return ctx.gettext("Choose whether they are the patient or a caregiver.")
