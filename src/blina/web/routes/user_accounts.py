"""Accounts: the admin's page of the clinic's users (create one, deactivate, reactivate,
change a role, issue a password reset link), every signed-in user's own account page
(change the password), and the pages a link opens, without signing in: a reset link's
(set a new password) and a family member's invitation (set the password of the account it
makes, ``services.invitations``).

The admin creates a user without a password: the new user sets it through a one-time
link shown once (the reset link's machinery), so that no one but them ever knows it.

Those two pages' addresses hold the link's secret token: their answers are never stored
(``Cache-Control: no-store``) and send no Referer from them (``Referrer-Policy:
no-referrer``), whatever they say, errors included (``_PrivateRoute``).

About 610 lines, kept as one module: the four pages share the new-password form, its
checks and the private route; split by page, each would import the others' pieces.
"""

from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import anyio
from fastapi import APIRouter, Request, Response
from fastapi.concurrency import run_in_threadpool

from blina.domain import bounds
from blina.domain.errors import InvalidInput
from blina.services import account_admin, accounts, invitations, password_resets, patients
from blina.services.access import require_role
from blina.services.actors import Actor, Role
from blina.services.clinic_settings import clinic_of
from blina.services.errors import Conflict, LoginBusy, LoginThrottled, NotFound
from blina.services.records import UserRecord
from blina.services.storage import MAX_RECORD_ID, RecordId, Session, read_only
from blina.web.deps import FormDep, PageDep, ReadDep, WriteDep
from blina.web.render import Ctx, context_of, moment_for, redirect, render
from blina.web.routes._common import (
    WebRoute,
    phone_problem,
    posted_form,
    public_url_for,
    submit,
    text_field,
)

router = APIRouter(route_class=WebRoute, include_in_schema=False)

# --- the clinic's users (admin) -----------------------------------------------------------

# The status line after a change, by the change (``?done=``).
_DONE = ("deactivated", "reactivated", "role", "phone")
_NEW_USER_FIELDS = ("username", "display_name", "role", "patient_id", "phone")


@dataclass(frozen=True, slots=True)
class UserRow:
    """A user as the admin's page lists them."""

    id: int
    username: str
    display_name: str
    role: str
    active: bool
    last_sign_in: str | None
    is_self: bool
    roles: tuple[str, ...]  # the roles the user may be given (accounts.roles_for)
    phone: str | None


@dataclass(frozen=True, slots=True)
class ShownLink:
    """A reset link just issued: shown this once."""

    user_id: int
    username: str
    url: str
    expires: str
    new_user: bool  # the link of a user just created, who has no password yet


@router.get("/clinic/users")
def users_page(page: PageDep, session: ReadDep) -> Response:
    return _users_page(page, session)


@router.post("/clinic/users/{user_id}/deactivate")
def deactivate_user(user_id: RecordId, page: PageDep, form: FormDep, session: WriteDep) -> Response:
    account_admin.deactivate_user(
        session, actor=page.signed_in(), now=page.state.clock.now(), user_id=user_id
    )
    return redirect(page, "/clinic/users?done=deactivated")


@router.post("/clinic/users/{user_id}/reactivate")
def reactivate_user(user_id: RecordId, page: PageDep, form: FormDep, session: WriteDep) -> Response:
    account_admin.reactivate_user(
        session, actor=page.signed_in(), now=page.state.clock.now(), user_id=user_id
    )
    return redirect(page, "/clinic/users?done=reactivated")


@router.post("/clinic/users/{user_id}/role")
def change_role(user_id: RecordId, page: PageDep, form: FormDep, session: WriteDep) -> Response:
    actor = page.signed_in()
    role = text_field(form, "role")

    def again(reading: Session, error: InvalidInput, status: int) -> Response:
        return _users_page(page, reading, status=status, failed=(user_id, str(error)))

    submit(
        page,
        lambda: account_admin.change_role(
            session, actor=actor, now=page.state.clock.now(), user_id=user_id, role=role
        ),
        refused={InvalidInput: 422},
        again=again,
    )
    return redirect(page, "/clinic/users?done=role")


@router.post("/clinic/users/{user_id}/phone")
def set_user_phone(user_id: RecordId, page: PageDep, form: FormDep, session: WriteDep) -> Response:
    """The admin sets a user's own number (empty: none)."""
    phone = text_field(form, "phone")

    def again(reading: Session, _: InvalidInput, status: int) -> Response:
        failed = (user_id, phone_problem(page))
        return _users_page(page, reading, status=status, phone_failed=failed, phone=phone)

    submit(
        page,
        lambda: account_admin.set_phone(
            session,
            actor=page.signed_in(),
            now=page.state.clock.now(),
            user_id=user_id,
            phone=phone,
        ),
        refused={InvalidInput: 422},
        again=again,
    )
    return redirect(page, "/clinic/users?done=phone")


@router.post("/clinic/users/{user_id}/reset-link")
def issue_reset_link(
    user_id: RecordId, request: Request, page: PageDep, form: FormDep, session: WriteDep
) -> Response:
    issued = password_resets.issue_reset_link(
        session,
        actor=page.signed_in(),
        now=page.state.clock.now(),
        user_id=user_id,
        lifetime=timedelta(hours=page.state.settings.password_reset_hours),
    )
    url = public_url_for(request, "password_reset_page", token=issued.token)
    return _users_page(page, session, shown=(issued, url))


@router.get("/clinic/users/new")
def new_user_page(page: PageDep, session: ReadDep) -> Response:
    require_role(page.signed_in(), Role.ADMIN, doing="create a user")
    return _new_user(page, session, dict.fromkeys(_NEW_USER_FIELDS, ""), {})


@router.post("/clinic/users")
def create_user(request: Request, page: PageDep, form: FormDep, session: WriteDep) -> Response:
    """A new user with no password, and the one-time link they set it with: the admin
    never knows it (``accounts.create_user``, ``password_resets``)."""
    actor = page.signed_in()
    values = {name: text_field(form, name) for name in _NEW_USER_FIELDS}

    def again(reading: Session, error: InvalidInput, status: int) -> Response:
        problem = {error.field: _new_user_problem(page, error)}
        return _new_user(page, reading, values, problem, status)

    def save() -> password_resets.IssuedReset:
        now = page.state.clock.now()
        user = accounts.create_user(
            session,
            actor=actor,
            now=now,
            clinic_id=actor.clinic_id,
            username=values["username"],
            display_name=values["display_name"],
            role=values["role"],
            password=None,
            patient_id=_patient_choice(values["patient_id"]),
            phone=values["phone"],
        )
        return password_resets.issue_reset_link(
            session,
            actor=actor,
            now=now,
            user_id=user.id,
            lifetime=timedelta(hours=page.state.settings.password_reset_hours),
        )

    issued = submit(page, save, refused={InvalidInput: 422}, again=again)
    url = public_url_for(request, "password_reset_page", token=issued.token)
    return _users_page(page, session, shown=(issued, url), done="created")


def _patient_choice(text: str) -> int | None:
    """The patient chosen for a new user (the form's select), None for none."""
    return None if not text else bounds.parse_integer("patient_id", text, low=1, high=MAX_RECORD_ID)


def _new_user(
    ctx: Ctx, session: Session, values: dict[str, str], errors: dict[str, str], status: int = 200
) -> Response:
    actor = ctx.signed_in()
    return render(
        ctx,
        "pages/user_new.html",
        status=status,
        values=values,
        errors=errors,
        roles=[r.value for r in Role],
        patients=patients.clinic_patients(session, actor=actor),
        hours=ctx.state.settings.password_reset_hours,
    )


def _new_user_problem(ctx: Ctx, error: InvalidInput) -> str:
    if error.field == "phone":
        return phone_problem(ctx)
    if error.field == "username" and "no other" in error.allowed:
        return ctx.gettext("Someone already has this username: choose another.")
    if error.field == "username":
        return ctx.gettext(
            "Choose a username of 1 to 120 letters, digits, dots, dashes or underscores."
        )
    if error.field == "display_name":
        return ctx.gettext("Give a name of 1 to %(max)s characters.") % {"max": 200}
    if error.field == "patient_id":
        return ctx.gettext(
            "Choose the patient for a patient or a caregiver, and no patient for the staff."
        )
    return ctx.gettext("Choose one of the roles.")


def _users_page(
    ctx: Ctx,
    session: Session,
    *,
    status: int = 200,
    failed: tuple[int, str] | None = None,
    shown: tuple[password_resets.IssuedReset, str] | None = None,
    done: str | None = None,
    phone_failed: tuple[int, str] | None = None,
    phone: str = "",
) -> Response:
    """The clinic's users; ``failed``: a role change refused (the user, why); ``shown``: a
    reset link just issued, and its address; ``phone_failed``: a phone number refused
    (the user, why), ``phone`` what its form held."""
    actor = ctx.signed_in()
    users = accounts.list_users(session, actor=actor)
    zone = ZoneInfo(clinic_of(session, actor=actor).zone)
    moment = moment_for(ctx.language)
    done = done or ctx.request.query_params.get("done")
    link = None
    if shown is not None:
        issued, url = shown
        expires = moment(issued.expires_at, zone)
        link = ShownLink(issued.user_id, issued.username, url, expires, done == "created")
    return render(
        ctx,
        "pages/clinic_users.html",
        status=status,
        rows=[_row(user, actor, moment, zone) for user in users],
        failed_user=None if failed is None else failed[0],
        failure=None if failed is None else failed[1],
        phone_failed_user=None if phone_failed is None else phone_failed[0],
        phone_failure=None if phone_failed is None else phone_failed[1],
        phone_given=phone,
        link=link,
        done=done if done in (*_DONE, "created") else None,
        zone=zone,
    )


def _row(
    user: UserRecord, actor: Actor, moment: Callable[[datetime, ZoneInfo], str], zone: ZoneInfo
) -> UserRow:
    return UserRow(
        id=user.id,
        username=user.username,
        display_name=user.display_name,
        role=user.role,
        active=user.active,
        last_sign_in=None if user.last_login_at is None else moment(user.last_login_at, zone),
        is_self=user.id == actor.user_id,
        roles=tuple(r.value for r in accounts.roles_for(user.patient_id)),
        phone=user.phone,
    )


# --- one's own account ----------------------------------------------------------------------


@router.get("/account")
def account_page(request: Request) -> Response:
    ctx = context_of(request)
    ctx.signed_in()
    saved = ctx.request.query_params.get("saved")
    return _account_page(ctx, errors={}, saved=saved if saved in ("1", "phone") else None)


@router.post("/account/phone")
def set_own_phone(page: PageDep, form: FormDep, session: WriteDep) -> Response:
    """A patient or caregiver sets their own number, for the care team to call them back
    (empty: none)."""
    phone = text_field(form, "phone")

    def again(reading: Session, _: InvalidInput, status: int) -> Response:
        errors = {"phone": phone_problem(page)}
        return _account_page(page, errors=errors, status=status, phone=phone)

    submit(
        page,
        lambda: accounts.set_own_phone(
            session, actor=page.signed_in(), now=page.state.clock.now(), phone=phone
        ),
        refused={InvalidInput: 422},
        again=again,
    )
    return redirect(page, "/account?saved=phone")


@router.post("/account/password")
async def change_own_password(request: Request) -> Response:
    ctx, form = await posted_form(request)
    actor = ctx.signed_in()
    token = ctx.session_token
    assert token is not None  # signed in by it
    current = text_field(form, "current_password")
    new = text_field(form, "new_password")
    if new != text_field(form, "new_password_again"):
        message = ctx.gettext("The two new passwords are not the same.")
        errors = {"new_password_again": message}
        return await run_in_threadpool(_account_page, ctx, errors=errors, status=422)
    state = ctx.state
    try:
        await run_in_threadpool(
            accounts.change_password,
            state.sessions,
            limits=state.logins,
            settings=state.settings,
            now=state.clock.now(),
            actor=actor,
            token=token,
            current_password=current,
            new_password=new,
            source=request.client.host if request.client else "",
        )
    except InvalidInput as error:
        field = "current_password" if error.field == "current_password" else "new_password"
        errors = {field: _password_problem(ctx, field)}
        return await run_in_threadpool(_account_page, ctx, errors=errors, status=422)
    except LoginThrottled as refusal:
        errors = {"current_password": _busy(ctx, refusal)}
        refused = await run_in_threadpool(_account_page, ctx, errors=errors, status=429)
        refused.headers["Retry-After"] = str(refusal.retry_after)
        await anyio.sleep(state.settings.login_refusal_delay_seconds)
        return refused
    return redirect(ctx, "/account?saved=1")


def _account_page(
    ctx: Ctx,
    *,
    errors: dict[str, str],
    status: int = 200,
    saved: str | None = None,
    phone: str | None = None,
) -> Response:
    """The account page; ``phone``: what the phone form held when refused (else the
    number on file, read here for a patient or caregiver, who may set one)."""
    actor = ctx.signed_in()
    may_set_phone = actor.role in accounts.OWN_PHONE_ROLES
    if may_set_phone and phone is None:
        with read_only(ctx.state.sessions) as session:
            phone = accounts.own_account(session, actor=actor).phone
    return render(
        ctx,
        "pages/account.html",
        status=status,
        errors=errors,
        saved=saved,
        may_set_phone=may_set_phone,
        phone=phone,
        password_min=accounts.PASSWORD_MIN,
        password_max=accounts.PASSWORD_MAX,
    )


_PASSWORD_LENGTHS = {"min": accounts.PASSWORD_MIN, "max": accounts.PASSWORD_MAX}


def _password_problem(ctx: Ctx, field: str) -> str:
    """Why a password change was refused (``field``), in the page's language."""
    if field == "current_password":
        return ctx.gettext(
            "The current password is wrong. After several wrong tries, wait a few minutes."
        )
    return (
        ctx.gettext("Choose a new password of %(min)s to %(max)s characters, not the current one.")
        % _PASSWORD_LENGTHS
    )


def _password_rule(ctx: Ctx) -> str:
    return ctx.gettext("Choose a password of %(min)s to %(max)s characters.") % _PASSWORD_LENGTHS


def _busy(ctx: Ctx, refusal: LoginThrottled) -> str:
    if isinstance(refusal, LoginBusy):
        return ctx.gettext("Many people are signing in at once. Try again in a moment.")
    return ctx.gettext("Too many failed attempts. Try again later.")


# --- the page a reset link opens (no sign-in) -------------------------------------------------


class _PrivateRoute(WebRoute):
    """Every answer, an error page included, is not stored and sends no Referer: the
    address holds the reset link's token."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def private(request: Request) -> Response:
            response = await handler(request)
            response.headers["cache-control"] = "no-store"
            response.headers["referrer-policy"] = "no-referrer"
            return response

        return private


reset_router = APIRouter(route_class=_PrivateRoute, include_in_schema=False)


@reset_router.get("/reset/{token}", name="password_reset_page")
def password_reset_page(request: Request, token: str) -> Response:
    ctx = context_of(request)
    try:
        with read_only(ctx.state.sessions) as session:
            target = password_resets.reset_target(session, token=token, now=ctx.state.clock.now())
    except NotFound:
        return _unusable(ctx)
    return _reset_page(ctx, target.username, errors={})


@reset_router.post("/reset/{token}")
async def reset_password(request: Request, token: str) -> Response:
    ctx, form = await posted_form(request)
    state = ctx.state
    password = text_field(form, "password")

    def usable() -> str | None:
        with read_only(state.sessions) as session:
            try:
                return password_resets.reset_target(
                    session, token=token, now=state.clock.now()
                ).username
            except NotFound:
                return None

    username = await run_in_threadpool(usable)
    if username is None:
        return _unusable(ctx)
    if password != text_field(form, "password_again"):
        message = ctx.gettext("The two new passwords are not the same.")
        return _reset_page(ctx, username, errors={"password_again": message}, status=422)
    try:
        await run_in_threadpool(
            password_resets.use_reset_link,
            state.sessions,
            limits=state.logins,
            now=state.clock.now(),
            token=token,
            password=password,
        )
    except NotFound:
        return _unusable(ctx)
    except InvalidInput:
        return _reset_page(ctx, username, errors={"password": _password_rule(ctx)}, status=422)
    except LoginThrottled as refusal:
        refused = _reset_page(ctx, username, errors={"password": _busy(ctx, refusal)}, status=429)
        refused.headers["Retry-After"] = str(refusal.retry_after)
        return refused
    return render(ctx, "pages/password_reset.html", state="done", username=username, errors={})


def _reset_page(ctx: Ctx, username: str, *, errors: dict[str, str], status: int = 200) -> Response:
    return render(
        ctx,
        "pages/password_reset.html",
        status=status,
        state="form",
        username=username,
        errors=errors,
        password_min=accounts.PASSWORD_MIN,
        password_max=accounts.PASSWORD_MAX,
    )


def _unusable(ctx: Ctx) -> Response:
    """One answer for an unknown, used, revoked or expired link."""
    return render(
        ctx, "pages/password_reset.html", status=404, state="unusable", username="", errors={}
    )


# --- the page an invitation opens (no sign-in) ------------------------------------------------


@reset_router.get("/invite/{token}", name="invitation_page")
def invitation_page(request: Request, token: str) -> Response:
    ctx = context_of(request)
    try:
        with read_only(ctx.state.sessions) as session:
            target = invitations.invitation_target(session, token=token, now=ctx.state.clock.now())
    except NotFound:
        return _invitation_unusable(ctx)
    return _invitation_form(ctx, target, errors={})


@reset_router.post("/invite/{token}")
async def accept_invitation(request: Request, token: str) -> Response:
    ctx, form = await posted_form(request)
    state = ctx.state
    password = text_field(form, "password")
    phone = text_field(form, "phone")

    def usable() -> invitations.InvitationTarget | None:
        with read_only(state.sessions) as session:
            try:
                return invitations.invitation_target(session, token=token, now=state.clock.now())
            except NotFound:
                return None

    target = await run_in_threadpool(usable)
    if target is None:
        return _invitation_unusable(ctx)
    if password != text_field(form, "password_again"):
        message = ctx.gettext("The two new passwords are not the same.")
        errors = {"password_again": message}
        return _invitation_form(ctx, target, errors=errors, phone=phone, status=422)
    try:
        await run_in_threadpool(
            invitations.accept_invitation,
            state.sessions,
            limits=state.logins,
            now=state.clock.now(),
            token=token,
            password=password,
            phone=phone,
        )
    except NotFound:
        return _invitation_unusable(ctx)
    except InvalidInput as refused:
        problem = phone_problem(ctx) if refused.field == "phone" else _password_rule(ctx)
        errors = {"phone" if refused.field == "phone" else "password": problem}
        return _invitation_form(ctx, target, errors=errors, phone=phone, status=422)
    except Conflict:
        return _invitation_page(ctx, target, state="taken", status=409)
    except LoginThrottled as refusal:
        refused_page = _invitation_form(
            ctx, target, errors={"password": _busy(ctx, refusal)}, phone=phone, status=429
        )
        refused_page.headers["Retry-After"] = str(refusal.retry_after)
        return refused_page
    return _invitation_page(ctx, target, state="done")


def _invitation_form(
    ctx: Ctx,
    target: invitations.InvitationTarget,
    *,
    errors: dict[str, str],
    phone: str = "",
    status: int = 200,
) -> Response:
    return _invitation_page(ctx, target, state="form", errors=errors, phone=phone, status=status)


def _invitation_page(
    ctx: Ctx,
    target: invitations.InvitationTarget | None,
    *,
    state: str,
    errors: dict[str, str] | None = None,
    phone: str = "",
    status: int = 200,
) -> Response:
    return render(
        ctx,
        "pages/invitation.html",
        status=status,
        state=state,
        target=target,
        errors=errors or {},
        phone=phone,
        password_min=accounts.PASSWORD_MIN,
        password_max=accounts.PASSWORD_MAX,
    )


def _invitation_unusable(ctx: Ctx) -> Response:
    """One answer for an unknown, used, revoked or expired invitation."""
    return _invitation_page(ctx, None, state="unusable", status=404)
