"""Calendar feeds: a secret address per phone, made and revoked by the family or the
clinic's staff (audited), and read with the token alone; an unknown and a revoked token
answer the same words."""

import hashlib
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from blina.domain.errors import InvalidInput
from blina.knowledge import Knowledge
from blina.services.calendar_feeds import (
    LABEL_MAX,
    create_feed,
    feed_plan,
    list_feeds,
    revoke_feed,
)
from blina.services.errors import NotFound
from blina.store.session import read_only, transaction
from blina.store.tables import CalendarFeed
from tests.clinic_factories import NOW, World, add_course, adult_course, audited


def _create(sessions: sessionmaker[Session], world: World, label: str = "") -> tuple[int, str]:
    with transaction(sessions) as session:
        made = create_feed(
            session, actor=world.family, now=NOW, patient_id=world.patient, label=label
        )
        return made.feed.id, made.token


def test_a_feed_keeps_only_its_token_s_digest_and_is_audited(
    sessions: sessionmaker[Session], world: World
) -> None:
    _, token = _create(sessions, world, label="  Alex's phone ")

    with read_only(sessions) as session:
        [stored] = session.execute(select(CalendarFeed)).scalars()
        [event] = audited(session, "calendar_feed.create")
    assert len(token) >= 40
    assert stored.token_sha256 == hashlib.sha256(token.encode()).hexdigest()
    assert token not in {stored.token_sha256, stored.label}
    assert (stored.label, stored.created_by) == ("Alex's phone", world.family.user_id)
    assert event.after == {"patient_id": world.patient, "label": "Alex's phone"}


def test_the_token_opens_the_latest_course_s_plan(
    sessions: sessionmaker[Session], world: World, knowledge: Knowledge
) -> None:
    with transaction(sessions) as session:
        add_course(session, world, knowledge, request=adult_course(bag_hours=48))
    _, token = _create(sessions, world)

    with read_only(sessions) as session:
        plan = feed_plan(session, token=token, now=NOW, knowledge=knowledge)

    assert plan.regimen.id == "relapsed-refractory"
    assert plan.first_day.isoformat() == "2026-12-10"
    assert plan.bags[0].end - plan.bags[0].start == timedelta(hours=48)


def test_unknown_revoked_and_course_less_feeds_answer_the_same(
    sessions: sessionmaker[Session], world: World, knowledge: Knowledge
) -> None:
    feed_id, token = _create(sessions, world)  # P1 has no course yet
    answers = []
    with read_only(sessions) as session:
        for wanted in (token, "not-a-token"):
            with pytest.raises(NotFound) as refused:
                feed_plan(session, token=wanted, now=NOW, knowledge=knowledge)
            answers.append(str(refused.value))
    with transaction(sessions) as session:
        add_course(session, world, knowledge)
        revoke_feed(session, actor=world.nurse, now=NOW, feed_id=feed_id)
    with read_only(sessions) as session, pytest.raises(NotFound) as revoked:
        feed_plan(session, token=token, now=NOW, knowledge=knowledge)

    assert answers == [str(revoked.value)] * 2 == ["no such calendar"] * 2


def test_a_revoked_feed_leaves_the_list_and_revoking_it_again_changes_nothing(
    sessions: sessionmaker[Session], world: World
) -> None:
    kept, _ = _create(sessions, world, label="kept")
    gone, _ = _create(sessions, world, label="gone")

    with transaction(sessions) as session:
        first = revoke_feed(session, actor=world.family, now=NOW, feed_id=gone)
        assert (first.revoked_by, first.revoked_at) == (world.family.user_id, NOW)
    with transaction(sessions) as session:
        again = revoke_feed(session, actor=world.nurse, now=NOW, feed_id=gone)
        assert again.revoked_by == world.family.user_id

    with read_only(sessions) as session:
        assert [f.id for f in list_feeds(session, actor=world.nurse, patient_id=world.patient)] == [
            kept
        ]
        assert len(audited(session, "calendar_feed.revoke")) == 1


def test_a_label_past_its_length_is_refused(sessions: sessionmaker[Session], world: World) -> None:
    with pytest.raises(InvalidInput) as refused:
        _create(sessions, world, label="x" * (LABEL_MAX + 1))

    assert refused.value.field == "label"
    with read_only(sessions) as session:
        assert session.execute(select(CalendarFeed)).first() is None


def test_nobody_else_makes_lists_or_revokes_a_patient_s_feeds(
    sessions: sessionmaker[Session], world: World
) -> None:
    feed_id, _ = _create(sessions, world)

    with transaction(sessions) as session:
        for stranger in (world.other_family, world.outsider):
            with pytest.raises(NotFound):
                create_feed(session, actor=stranger, now=NOW, patient_id=world.patient)
            with pytest.raises(NotFound):
                list_feeds(session, actor=stranger, patient_id=world.patient)
            with pytest.raises(NotFound, match=f"calendar feed {feed_id} not found"):
                revoke_feed(session, actor=stranger, now=NOW, feed_id=feed_id)
        with pytest.raises(NotFound, match="calendar feed 999999 not found"):
            revoke_feed(session, actor=world.nurse, now=NOW, feed_id=999_999)
