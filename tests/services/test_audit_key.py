"""The audit trail signed with a key kept outside the database (issue 16, item 9).

Each rewrite that someone with write access to the database (and without the key) could
make passed the plain SHA-256 chain: an edited event with its hashes recomputed, a tail
cut off with the head moved back, a direct edit of a check-in, a course or a user. Each
is now detected, on SQLite and PostgreSQL.
"""

from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from pydantic import SecretStr, ValidationError
from sqlalchemy import Engine, delete, select, update
from sqlalchemy.orm import Session, sessionmaker

from blina.config import Settings
from blina.knowledge import Knowledge
from blina.services.audit import GENESIS, AuditKeyMissing, append_audit, event_content, event_hash
from blina.services.audit_checks import (
    check_signed_head,
    signed_head,
    verify_chain,
    verify_clinic_trail,
)
from blina.services.audit_key import (
    AuditKey,
    SignedHead,
    audit_key_of,
    read_signed_head,
    use_audit_key,
)
from blina.services.courses import CourseRequest, start_course
from blina.services.reports import submit_report
from blina.services.sealed_rows import RowsReport, verify_rows
from blina.store.session import make_session_factory, transaction
from blina.store.tables import (
    AuditCheckpoint,
    AuditEvent,
    AuditHead,
    Course,
    SymptomReport,
    User,
    table_of,
)
from tests.factories import add_clinic_with_family
from tests.services.test_alerts import FEVER_AND_CONFUSION

AT = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
_EVENTS = table_of(AuditEvent)
_HEAD = table_of(AuditHead)


@pytest.fixture
def key(tmp_path: Path) -> AuditKey:
    return AuditKey(b"a test audit key, 32 bytes long!", tmp_path / "audit-head.log")


@pytest.fixture
def keyed(engine: Engine, key: AuditKey) -> sessionmaker[Session]:
    return use_audit_key(make_session_factory(engine), key)


def _write(sessions: sessionmaker[Session], count: int) -> None:
    """``count`` events, one commit each."""
    for index in range(count):
        with transaction(sessions) as session:
            append_audit(
                session,
                at=AT,
                actor=None,
                action="test.write",
                subject_type="thing",
                subject_id=index,
                after={"n": index},
            )


def _verify(sessions: sessionmaker[Session]) -> tuple[bool, int | None, str]:
    with sessions() as session:
        report = verify_chain(session)
    return report.ok, report.first_bad_seq, report.problem


def _rehash(engine: Engine) -> None:
    """What anyone who can write to the database can do after an edit: the plain chain
    recomputed from the start, and the head moved to its new last hash."""
    with engine.begin() as connection:
        previous = GENESIS
        for event in connection.execute(select(_EVENTS).order_by(_EVENTS.c.seq)).all():
            digest = event_hash(previous, event_content(event))
            connection.execute(
                update(_EVENTS)
                .where(_EVENTS.c.seq == event.seq)
                .values(prev_hash=previous, hash=digest)
            )
            previous = digest
        connection.execute(update(_HEAD).values(last_hash=previous))


def test_a_keyed_trail_signs_every_event_and_each_commit_s_head(
    keyed: sessionmaker[Session], key: AuditKey
) -> None:
    _write(keyed, 3)

    with keyed() as session:
        report = verify_chain(session)
        macs = session.execute(select(AuditEvent.mac).order_by(AuditEvent.seq)).scalars().all()
    assert (report.ok, report.events, report.keyed, report.mac_from) == (True, 3, True, 1)
    assert all(mac is not None for mac in macs)
    assert key.head_file is not None
    assert len(key.head_file.read_text().splitlines()) == 3  # one line per commit
    newest, problem = read_signed_head(key)
    assert newest is not None
    assert (newest.seq, newest.mac_from, problem) == (3, 1, "")


def test_an_edited_event_with_its_plain_chain_recomputed_is_detected(
    engine: Engine, sessions: sessionmaker[Session], keyed: sessionmaker[Session]
) -> None:
    # Without a key (the hole of issue 16) the recomputed chain passes.
    _write(sessions, 3)
    with engine.begin() as connection:
        connection.execute(update(_EVENTS).where(_EVENTS.c.seq == 2).values(action="x"))
    _rehash(engine)
    assert _verify(sessions) == (True, None, "")

    # Keyed from event 4 on: an edit there, rehashed, breaks the event's MAC.
    _write(keyed, 3)
    with engine.begin() as connection:
        connection.execute(update(_EVENTS).where(_EVENTS.c.seq == 5).values(after={"n": 99}))
    _rehash(engine)

    assert _verify(keyed) == (
        False,
        5,
        "its MAC does not match: it was written or rewritten without the audit key",
    )


def test_an_edit_before_the_keyed_start_then_the_start_moved_is_detected(
    engine: Engine, keyed: sessionmaker[Session]
) -> None:
    _write(keyed, 4)
    # The start moved past event 2, whose MAC is dropped, then event 2 edited and rehashed:
    # the MACs after it no longer match (they sign the start, and the hashes changed).
    with engine.begin() as connection:
        connection.execute(update(_HEAD).values(mac_from=3))
        connection.execute(update(_EVENTS).where(_EVENTS.c.seq <= 2).values(mac=None, action="x"))
    _rehash(engine)
    assert _verify(keyed)[:2] == (False, 3)

    # Every MAC dropped and the trail unkeyed: the signed head file still says where the
    # keyed trail started.
    with engine.begin() as connection:
        connection.execute(update(_HEAD).values(mac_from=None))
        connection.execute(update(_EVENTS).values(mac=None))
    ok, first_bad, problem = _verify(keyed)
    assert (ok, first_bad) == (False, None)
    assert "the keyed trail starts at event None, and the signed head says 1" in problem


def test_a_tail_cut_off_with_the_head_moved_back_is_detected(
    engine: Engine, keyed: sessionmaker[Session]
) -> None:
    _write(keyed, 5)
    with engine.begin() as connection:
        third = connection.execute(select(_EVENTS.c.hash).where(_EVENTS.c.seq == 3)).scalar()
        connection.execute(delete(_EVENTS).where(_EVENTS.c.seq > 3))
        connection.execute(update(_HEAD).values(seq=3, last_hash=third))

    assert _verify(keyed) == (
        False,
        None,
        "the head is event 3, behind the signed head's event 5: the newest events were removed",
    )


def test_a_head_kept_elsewhere_finds_a_cut_even_without_the_head_file(
    engine: Engine, keyed: sessionmaker[Session], key: AuditKey
) -> None:
    _write(keyed, 4)
    with keyed() as session:
        kept, problem = signed_head(session)
    assert kept is not None
    assert problem == ""
    assert SignedHead.parse(kept.line()) == kept
    with engine.begin() as connection:
        third = connection.execute(select(_EVENTS.c.hash).where(_EVENTS.c.seq == 3)).scalar()
        connection.execute(delete(_EVENTS).where(_EVENTS.c.seq == 4))
        connection.execute(update(_HEAD).values(seq=3, last_hash=third))
    assert key.head_file is not None
    key.head_file.unlink()  # gone too

    with keyed() as session:
        assert "behind the signed head's event 4" in check_signed_head(session, kept)
        forged = SignedHead(3, str(third), 1, "0" * 64)
        assert check_signed_head(session, forged) == (
            "the head given is not signed with the audit key"
        )


def test_a_line_added_to_the_head_file_without_the_key_is_detected(
    keyed: sessionmaker[Session], key: AuditKey
) -> None:
    _write(keyed, 2)
    assert key.head_file is not None
    with key.head_file.open("a") as file:
        file.write(SignedHead(1, GENESIS, 1, "f" * 64).line() + "\n")

    ok, _, problem = _verify(keyed)
    assert not ok
    assert "not signed with the audit key (event 1)" in problem


def test_a_process_without_the_key_cannot_append_to_a_keyed_trail(
    sessions: sessionmaker[Session], keyed: sessionmaker[Session]
) -> None:
    _write(keyed, 1)

    with pytest.raises(AuditKeyMissing, match="keyed from event 1"):
        _write(sessions, 1)
    ok, _, problem = _verify(sessions)
    assert not ok
    assert problem == (
        "events from 1 on carry a MAC, and no audit key (BLINA_AUDIT_KEY) is set to check them"
    )


# --- audited records ---------------------------------------------------------------------


def _records(sessions: sessionmaker[Session], knowledge: Knowledge) -> tuple[int, int, int]:
    """A clinic, a physician, a family; a course and a check-in. Ids of the physician,
    the course and the check-in."""
    with transaction(sessions) as session:
        world = add_clinic_with_family(session, now=AT, staff_role="physician")
    with transaction(sessions) as session:
        view = start_course(
            session,
            actor=world.staff,
            now=AT,
            knowledge=knowledge,
            patient_id=world.patient_id,
            request=CourseRequest(
                "relapsed-refractory", date(2026, 12, 2), Decimal("70"), Decimal("40")
            ),
        )
    with transaction(sessions) as session:
        report = submit_report(
            session,
            actor=world.family,
            now=AT,
            knowledge=knowledge,
            patient_id=world.patient_id,
            idempotency_key="k1",
            check_in=FEVER_AND_CONFUSION,
        )
    return world.staff.user_id, view.course.id, report.id


def _rows(sessions: sessionmaker[Session], key: AuditKey) -> RowsReport:
    with sessions() as session:
        return verify_rows(session, key, every_row_signed=True)


@pytest.mark.parametrize(
    ("model", "change"),
    [
        (SymptomReport, {"report": {"symptoms": {}, "note": "all fine"}}),
        (Course, {"weight_kg": Decimal("7")}),
        (User, {"role": "admin"}),
    ],
    ids=["check-in-report", "course-weight", "user-role"],
)
def test_a_direct_edit_of_an_audited_record_is_named(
    engine: Engine,
    keyed: sessionmaker[Session],
    key: AuditKey,
    knowledge: Knowledge,
    model: type[SymptomReport | Course | User],
    change: dict[str, object],
) -> None:
    physician, course, check_in = _records(keyed, knowledge)
    before = _rows(keyed, key)
    assert before.changed == []
    assert before.rows == 4  # two users, a course, a check-in
    row_id = {SymptomReport: check_in, Course: course, User: physician}[model]
    table = table_of(model)

    with engine.begin() as connection:
        connection.execute(update(table).where(table.c.id == row_id).values(**change))

    changed = _rows(keyed, key).changed
    assert [(c.table, c.row_id, c.problem) for c in changed] == [
        (table.name, row_id, "its content does not match its audit MAC")
    ]
    assert _verify(keyed) == (True, None, "")  # the chain itself was not touched


def test_the_changes_the_services_make_keep_their_records_signed(
    keyed: sessionmaker[Session], key: AuditKey, knowledge: Knowledge
) -> None:
    _, course, _ = _records(keyed, knowledge)
    with transaction(keyed) as session:
        row = session.get(Course, course)
        assert row is not None
        row.weight_kg = Decimal("71")  # an ORM update: its MAC follows
    assert _rows(keyed, key).changed == []


def test_records_written_before_the_key_are_signed_when_the_trail_becomes_keyed(
    engine: Engine,
    sessions: sessionmaker[Session],
    keyed: sessionmaker[Session],
    key: AuditKey,
    knowledge: Knowledge,
) -> None:
    _, course, _ = _records(sessions, knowledge)
    with sessions() as session:
        assert verify_rows(session, key, every_row_signed=False).changed == []

    _write(keyed, 1)  # the first keyed write signs what is there

    assert _rows(keyed, key).changed == []
    table = table_of(Course)
    with engine.begin() as connection:  # a MAC stripped, with the weight changed
        connection.execute(
            update(table).where(table.c.id == course).values(audit_mac=None, weight_kg=Decimal("7"))
        )
    assert [(c.table, c.row_id, c.problem) for c in _rows(keyed, key).changed] == [
        ("course", course, "it carries no audit MAC")
    ]


# --- a clinic's page: its checkpoint -------------------------------------------------------


def test_a_clinic_s_checkpoint_moved_without_the_key_and_a_cut_tail_are_shown(
    engine: Engine, keyed: sessionmaker[Session]
) -> None:
    with transaction(keyed) as session:
        admin = add_clinic_with_family(session, now=AT, staff_role="admin").staff
    _write(keyed, 2)
    assert verify_clinic_trail(keyed, actor=admin).ok
    checkpoints = table_of(AuditCheckpoint)
    with engine.begin() as connection:  # past events not yet verified
        connection.execute(update(checkpoints).values(seq=checkpoints.c.seq + 1))

    report = verify_clinic_trail(keyed, actor=admin)
    assert (report.ok, report.problem) == (
        False,
        "the page's checkpoint was not written with the audit key",
    )

    with engine.begin() as connection:
        connection.execute(delete(checkpoints))
        newest = connection.execute(select(_HEAD.c.seq)).scalar_one()
        previous = connection.execute(
            select(_EVENTS.c.hash).where(_EVENTS.c.seq == newest - 1)
        ).scalar()
        connection.execute(delete(_EVENTS).where(_EVENTS.c.seq == newest))
        connection.execute(update(_HEAD).values(seq=newest - 1, last_hash=previous))
    report = verify_clinic_trail(keyed, actor=admin)
    assert not report.ok
    assert "the newest events were removed" in report.problem


# --- the setting ---------------------------------------------------------------------------


def test_the_key_is_required_outside_local_long_and_its_head_file_in_the_data_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("BLINA_AUDIT_KEY", "BLINA_AUDIT_HEAD_FILE"):
        monkeypatch.delenv(name, raising=False)
    production = Settings(
        environment="local",
        secret_key=SecretStr("a production secret key, not the placeholder"),
        cookie_secure=True,
        public_url="https://blina.example.org",
        data_dir=tmp_path,
    ).model_dump() | {"environment": "production"}

    with pytest.raises(ValidationError, match="BLINA_AUDIT_KEY must be set"):
        Settings(**production)
    with pytest.raises(ValidationError, match="at least 32"):
        Settings(**production | {"audit_key": SecretStr("short")})
    settings = Settings(**production | {"audit_key": SecretStr("k" * 32)})
    key = audit_key_of(settings)
    assert key is not None
    assert (key.secret, key.head_file) == (b"k" * 32, tmp_path / "audit-head.log")
    assert audit_key_of(Settings(data_dir=tmp_path)) is None  # local: none
