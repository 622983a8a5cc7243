"""The pharmacy's pages: preparing and verifying a bag, a stored bag's worksheet."""

from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Response
from markupsafe import Markup

from blina.domain.course_state import BagStatus
from blina.domain.errors import BlinaError, InvalidInput
from blina.interop.bag_label import BagLabel, render_bag_label
from blina.interop.json.recipe import read_recipe_dict
from blina.interop.worksheet import (
    FilledIn,
    Signature,
    Words,
    limit_text,
    render_worksheet_sections,
)
from blina.services import clinic_settings, courses, pharmacy, users
from blina.services.actors import Actor
from blina.services.errors import (
    Conflict,
    NotFound,
    PermissionDenied,
)
from blina.services.records import BagPreparationRecord
from blina.services.storage import RecordId, Session
from blina.web.deps import FormDep, PageDep, ReadDep, WriteDep
from blina.web.formatting import Formatter
from blina.web.i18n import clinical_gettext_for
from blina.web.render import Ctx, redirect, render
from blina.web.routes._common import (
    WebRoute,
    decimal_field,
    refused,
    submit,
    text_field,
)
from blina.web.routes.care_team import render_patient_page
from blina.web.worksheet_words import worksheet_words

router = APIRouter(route_class=WebRoute, include_in_schema=False)

# --- the pharmacy ----------------------------------------------------------------------


@router.post("/courses/{course_id}/bags")
def prepare_bag(course_id: RecordId, ctx: PageDep, form: FormDep, session: WriteDep) -> Response:
    actor = ctx.signed_in()
    overrides = {
        str(key).removeprefix("override-"): str(value).strip()
        for key, value in form.multi_items()
        if str(key).startswith("override-") and isinstance(value, str) and value.strip()
    }
    # Only the patient is needed here; prepare_course_bag plans the course itself.
    patient_id = courses.course_patient(session, actor=actor, course_id=course_id).id
    library = pharmacy.library_for(ctx.state.settings, ctx.state.knowledge)

    zone = _zone(session, actor)

    def again(reading: Session, error: BlinaError, status: int) -> Response:
        codes = (
            [c.strip() for c in str(error.value).split(",")]
            if isinstance(error, InvalidInput) and error.field == "override_reasons"
            else []
        )
        suffix = f"-{codes[0]}" if codes else ""
        return render_patient_page(
            ctx,
            reading,
            patient_id,
            status=status,
            form_error=refused(ctx, zone, "prepare", error, suffix=suffix),
            override_codes=codes,
        )

    submit(
        ctx,
        lambda: pharmacy.prepare_course_bag(
            session,
            actor=actor,
            now=ctx.state.clock.now(),
            knowledge=ctx.state.knowledge,
            library=library,
            course_id=course_id,
            bag_start=None,
            override_reasons=overrides,
        ),
        refused={InvalidInput: 422, pharmacy.HardStop: 422, Conflict: 409},
        again=again,
    )
    return redirect(ctx, f"/patients/{patient_id}#bags")


@router.post("/bags/{bag_id}/verify")
def verify_bag(bag_id: RecordId, ctx: PageDep, session: WriteDep) -> Response:
    def step(actor: Actor, now: datetime) -> None:
        pharmacy.verify_bag(
            session, actor=actor, now=now, knowledge=ctx.state.knowledge, bag_id=bag_id
        )

    return _bag_step(ctx, session, bag_id, step)


@router.post("/bags/{bag_id}/dispense")
def dispense_bag(bag_id: RecordId, ctx: PageDep, form: FormDep, session: WriteDep) -> Response:
    """A verified bag leaves the pharmacy, to the ward or to the patient's home."""
    to = text_field(form, "to")

    def step(actor: Actor, now: datetime) -> None:
        pharmacy.dispense_bag(
            session, actor=actor, now=now, knowledge=ctx.state.knowledge, bag_id=bag_id, to=to
        )

    return _bag_step(ctx, session, bag_id, step)


@router.post("/bags/{bag_id}/remove")
def remove_bag(bag_id: RecordId, ctx: PageDep, form: FormDep, session: WriteDep) -> Response:
    """A hung bag taken off the pump, with the volume left in it when measured."""

    def step(actor: Actor, now: datetime) -> None:
        left = decimal_field(form, "volume_left_ml", required=False)
        pharmacy.remove_bag(session, actor=actor, now=now, bag_id=bag_id, volume_left_ml=left)

    return _bag_step(ctx, session, bag_id, step)


@router.post("/bags/{bag_id}/end")
def end_bag(bag_id: RecordId, ctx: PageDep, form: FormDep, session: WriteDep) -> Response:
    """A bag not hung, voided by the pharmacy or discarded, with a reason."""
    outcome, reason = text_field(form, "outcome"), text_field(form, "reason")

    def step(actor: Actor, now: datetime) -> None:
        pharmacy.end_bag(
            session, actor=actor, now=now, bag_id=bag_id, outcome=outcome, reason=reason
        )

    return _bag_step(ctx, session, bag_id, step)


def _bag_step(
    ctx: Ctx, session: Session, bag_id: int, step: Callable[[Actor, datetime], None]
) -> Response:
    """One step of a bag's life from its row on the patient page: the access check first
    (the bag's patient must be one the actor may see, for the page to go back to), then
    the step; a refusal is shown beside the bag."""
    actor = ctx.signed_in()
    patient_id = pharmacy.bag_patient(session, actor=actor, bag_id=bag_id).id
    zone = _zone(session, actor)

    def again(reading: Session, error: BlinaError, status: int) -> Response:
        failed = refused(
            ctx, zone, f"bag-{bag_id}", error, fields_of="bag", whole="bag", suffix=f"-{bag_id}"
        )
        return render_patient_page(ctx, reading, patient_id, status=status, form_error=failed)

    submit(
        ctx,
        lambda: step(actor, ctx.state.clock.now()),
        refused={PermissionDenied: 403, InvalidInput: 422, pharmacy.HardStop: 422, Conflict: 409},
        again=again,
    )
    return redirect(ctx, f"/patients/{patient_id}#bag-{bag_id}")


@router.post("/patients/{patient_id}/bags/hang")
def hang_bag(patient_id: RecordId, ctx: PageDep, form: FormDep, session: WriteDep) -> Response:
    """Hang a bag by its code (scanned or typed) with the pump's program as entered: every
    mismatch is a hard stop shown on the page, naming the difference."""
    actor = ctx.signed_in()
    zone = _zone(session, actor)

    def save() -> None:
        rate = decimal_field(form, "rate_ml_per_h")
        volume = decimal_field(form, "volume_ml")
        assert rate is not None
        assert volume is not None
        pharmacy.hang_bag(
            session,
            actor=actor,
            now=ctx.state.clock.now(),
            knowledge=ctx.state.knowledge,
            patient_id=patient_id,
            code=text_field(form, "code"),
            rate_ml_per_h=rate,
            volume_ml=volume,
        )

    def again(reading: Session, error: BlinaError, status: int) -> Response:
        # The form comes back as it was sent: the nurse corrects the one field named.
        entered = {name: text_field(form, name) for name in _HANG_FIELDS}
        failed = refused(ctx, zone, "hang", error, entered)
        return render_patient_page(ctx, reading, patient_id, status=status, form_error=failed)

    submit(
        ctx,
        save,
        refused={InvalidInput: 422, pharmacy.HardStop: 422, NotFound: 422},
        again=again,
    )
    return redirect(ctx, f"/patients/{patient_id}#state")


_HANG_FIELDS = ("code", "rate_ml_per_h", "volume_ml")


def _zone(session: Session, actor: Actor) -> ZoneInfo:
    return ZoneInfo(clinic_settings.clinic_of(session, actor=actor).zone)


# --- a stored bag's worksheet (the clinic's staff) ----------------------------------------


@router.get("/bags/{bag_id}/worksheet")
def bag_worksheet(bag_id: RecordId, ctx: PageDep, session: ReadDep) -> Response:
    """The printable pharmacy worksheet of a stored bag, rebuilt from its stored recipe,
    with the patient, the preparer and the checker filled in, and the bag's label (its
    code as a QR code) to cut out and stick on the bag."""
    actor = ctx.signed_in()
    bag, patient = pharmacy.get_bag(session, actor=actor, bag_id=bag_id)
    zone = ZoneInfo(clinic_settings.clinic_of(session, actor=actor).zone)
    people = users.signatures(
        session, actor=actor, ids={bag.prepared_by, bag.verified_by or bag.prepared_by}
    )
    recipe = read_recipe_dict(bag.recipe)
    fmt = Formatter(ctx.language, ctx.gettext)
    words = worksheet_words(fmt, clinical_gettext_for(ctx.language), ctx.state.knowledge, zone)

    def signed(user_id: int | None, at: datetime | None) -> Signature | None:
        if user_id is None or at is None:
            return None
        return Signature(people.get(user_id, str(user_id)), fmt.stamp(at, zone))

    filled = FilledIn(
        patient_name=patient.display_name,
        patient_identifier=patient.code,
        prepared_by=signed(bag.prepared_by, bag.prepared_at),
        checked_by=signed(bag.verified_by, bag.verified_at),
        overrides={str(k): str(v) for k, v in dict(recipe.get("overrides") or {}).items()},
    )
    sections = render_worksheet_sections(
        recipe, printed_at=ctx.state.clock.now().astimezone(zone), filled=filled, words=words
    )
    label = render_bag_label(
        _label_of(bag, patient.display_name, patient.code, recipe, zone, fmt, words), words
    )
    return render(
        ctx,
        "pages/worksheet.html",
        bag=bag,
        patient=patient,
        hung_at=datetime.fromisoformat(str(recipe.get("bag_start"))).astimezone(zone),
        # HTML that blina.interop's own templates rendered and autoescaped
        sections=Markup(sections),
        label=Markup(label),
    )


def _label_of(
    bag: BagPreparationRecord,
    name: str,
    identifier: str,
    recipe: dict[str, Any],
    zone: ZoneInfo,
    fmt: Formatter,
    words: Words,
) -> BagLabel:
    """The label's values from the stored bag and its recipe (as ``read_recipe_dict`` gives
    it). The hang window is the one the hang checks use: from ``HANG_EARLY`` before the
    bag's slot (its start when it was prepared) to ``pharmacy.hang_by``. The beyond-use
    times are the prepared bag's limits counted from its preparation, each with the
    recipe's own words; none is made up."""

    def at(moment: datetime) -> str:
        return f"{fmt.stamp(moment, zone)} {moment.astimezone(zone):%Z}"

    hang_by = pharmacy.hang_by(recipe, bag.prepared_at)
    limits = dict(recipe["expiry"].get("prepared-bag") or {})
    expiry = "; ".join(
        f"{at(bag.prepared_at + timedelta(hours=float(limit['hours'])))}"
        f" ({limit_text(limit, words)})"
        for limit in (limits.get("refrigerated"), limits.get("room-temperature"))
        if limit
    )
    return BagLabel(
        code=bag.code,
        patient_name=name,
        patient_identifier=identifier,
        dose_mcg_per_day=bag.dose_mcg_per_day,
        concentration_mcg_per_ml=Decimal(str(recipe["bag_concentration_mcg_per_ml"])),
        total_ml=Decimal(str(recipe["total_ml"])),
        infuse_ml=Decimal(str(recipe["infuse_ml"])),
        rate_ml_per_h=Decimal(str(recipe["rate_ml_per_h"])),
        duration_h=Decimal(str(recipe["duration_h"])),
        hang_from=at(datetime.fromisoformat(str(recipe["bag_start"])) - pharmacy.HANG_EARLY),
        hang_by=None if hang_by is None else at(hang_by),
        expiry=expiry or None,
        do_not_hang=_not_to_hang(bag, fmt),
    )


def _not_to_hang(bag: BagPreparationRecord, fmt: Formatter) -> str | None:
    """Why the label says DO NOT HANG: the plan no longer has the bag, or the bag was
    voided or discarded (a label printed again from its worksheet must not look usable).
    The plan's reason is the course state's English sentence."""
    if bag.status in (BagStatus.VOIDED, BagStatus.DISCARDED):
        reason = bag.ended_reason or fmt.gettext("no reason recorded")
        return fmt.gettext("this bag was %(status)s: %(reason)s") % {
            "status": fmt.status(bag.status),
            "reason": reason,
        }
    return bag.do_not_hang
