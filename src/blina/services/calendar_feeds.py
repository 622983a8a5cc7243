"""Calendar feeds: a patient's course calendar at a secret address, so that a phone's
calendar can subscribe to it without signing in.

The token is shown once, when the feed is made; only its SHA-256 is stored, so a copy
of the database opens no calendar. The patient, their caregiver and the clinic's staff
make and revoke a patient's feeds (several: one per phone), and both are audited.
Reading a feed writes nothing; an unknown token and a revoked one answer the same
``NotFound``, so the answer tells nothing about which tokens ever existed.
"""

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from blina.domain.course_plan import CoursePlan
from blina.domain.errors import InvalidInput
from blina.knowledge import Knowledge
from blina.services.access import patient_for
from blina.services.actors import Actor
from blina.services.audit import append_audit
from blina.services.courses import events_of, replanned_plan
from blina.services.errors import NotFound
from blina.services.records import FeedRecord, copy_of
from blina.services.therapy_courses import TherapyCourseView, active_therapy_course
from blina.store.tables import CalendarFeed, Course, Patient

__all__ = ["LABEL_MAX", "CreatedFeed", "create_feed", "feed_plan", "list_feeds", "revoke_feed"]

LABEL_MAX = 100
_UNKNOWN = "no such calendar"


@dataclass(frozen=True, slots=True)
class CreatedFeed:
    """A new feed and its token: the only time the token is known."""

    feed: FeedRecord
    token: str


def create_feed(
    session: Session, *, actor: Actor, now: datetime, patient_id: int, label: str = ""
) -> CreatedFeed:
    """A new feed for the patient (their family, or the clinic's staff)."""
    patient = patient_for(session, actor, patient_id)
    label = label.strip()
    if len(label) > LABEL_MAX:
        raise InvalidInput("label", label, f"at most {LABEL_MAX} characters")
    token = secrets.token_urlsafe(32)
    feed = CalendarFeed(
        patient_id=patient.id,
        token_sha256=_digest(token),
        label=label,
        created_by=actor.user_id,
        created_at=now,
        revoked_by=None,
        revoked_at=None,
    )
    session.add(feed)
    session.flush()
    append_audit(
        session,
        at=now,
        actor=actor,
        action="calendar_feed.create",
        subject_type="calendar_feed",
        subject_id=feed.id,
        after={"patient_id": patient.id, "label": label},
    )
    return CreatedFeed(copy_of(FeedRecord, feed), token)


def list_feeds(session: Session, *, actor: Actor, patient_id: int) -> list[FeedRecord]:
    """The patient's feeds that still answer, oldest first."""
    patient = patient_for(session, actor, patient_id)
    rows = session.execute(
        select(CalendarFeed)
        .where(CalendarFeed.patient_id == patient.id, CalendarFeed.revoked_at.is_(None))
        .order_by(CalendarFeed.id)
    ).scalars()
    return [copy_of(FeedRecord, row) for row in rows]


def revoke_feed(session: Session, *, actor: Actor, now: datetime, feed_id: int) -> FeedRecord:
    """Stop a feed for good. Revoking a revoked feed changes nothing."""
    feed = session.get(CalendarFeed, feed_id, with_for_update=True)
    if feed is None:
        raise NotFound(f"calendar feed {feed_id} not found")
    try:
        patient_for(session, actor, feed.patient_id)
    except NotFound:
        raise NotFound(f"calendar feed {feed_id} not found") from None
    if feed.revoked_at is not None:
        return copy_of(FeedRecord, feed)
    feed.revoked_by = actor.user_id
    feed.revoked_at = now
    append_audit(
        session,
        at=now,
        actor=actor,
        action="calendar_feed.revoke",
        subject_type="calendar_feed",
        subject_id=feed.id,
        before={"revoked_at": None},
        after={"patient_id": feed.patient_id, "revoked_at": now.isoformat()},
    )
    return copy_of(FeedRecord, feed)


def feed_plan(
    session: Session, *, token: str, now: datetime, knowledge: Knowledge
) -> CoursePlan | TherapyCourseView:
    """The patient's calendar for the feed with ``token``: their active course of another
    therapy with its plan, else the plan of their latest course of blinatumomab,
    re-planned through its event log; ``NotFound`` for an unknown or revoked token (and
    for a patient with neither), always with the same words."""
    found = session.execute(
        select(Patient)
        .join(CalendarFeed, CalendarFeed.patient_id == Patient.id)
        .where(CalendarFeed.token_sha256 == _digest(token), CalendarFeed.revoked_at.is_(None))
    ).scalar_one_or_none()
    if found is None:
        raise NotFound(_UNKNOWN)
    therapy = active_therapy_course(session, found.id, knowledge=knowledge)
    if therapy is not None:
        return therapy
    course = session.execute(
        select(Course).where(Course.patient_id == found.id).order_by(Course.id.desc()).limit(1)
    ).scalar_one_or_none()
    if course is None:
        raise NotFound(_UNKNOWN)
    plan, _ = replanned_plan(session, knowledge, course, found, events_of(session, course.id), now)
    return plan


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
