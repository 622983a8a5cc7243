"""Audited records carry their audit MAC, so a direct edit of a data table is found.

The trail records each write as an event, but the rows themselves (a check-in's report, a
course's weight, a user's role) could be edited in the database with no event at all
(issue 16). With the audit key, each audited row carries ``audit_mac``, the key's HMAC of
its audited columns, and ``blina audit verify`` re-hashes every row and names those that
differ (``verify_rows``).

The MAC is written on every path that writes these rows: ORM inserts and updates through
mapper events, and the check-in's Core insert by its caller (``with_audit_mac``). An ORM
insert's MAC names the row's id, which exists only after the insert: one more UPDATE for
that row (courses, bags, users and gradings are written a few at a time). A check-in's
MAC names it by its unique key (patient, submitter, idempotency key) instead: its id
comes back from its insert, and a second statement per check-in is what the hot path
cannot pay.

Columns left out are derived or bookkeeping, rewritten by plain UPDATEs that are no change
of the record: a course's ``plan_end`` and ``version`` (a therapy course's ``version``), a
bag's ``do_not_hang``, a user's ``failed_logins`` and ``locked_until``.

A row's columns are signed as they read back: datetimes in UTC, and JSON as the engine
writes it (pydantic's serializer keeps a dict's order, and so do SQLite's text and
PostgreSQL's ``json``; a column moved to ``jsonb`` would need its rows signed again).
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pydantic_core import to_json
from sqlalchemy import Connection, bindparam, event, select, update
from sqlalchemy.orm import Mapper, Session, object_session
from sqlalchemy.orm.attributes import set_committed_value

from blina.services.audit_key import AuditKey, key_of
from blina.store.session import streamed
from blina.store.tables import (
    BagPreparation,
    Base,
    Course,
    SymptomReport,
    TherapyCourse,
    ToxicityAssessment,
    User,
    table_of,
)

__all__ = [
    "AUDITED",
    "ChangedRow",
    "RowsReport",
    "sign_unsigned_rows",
    "verify_rows",
    "with_audit_mac",
]

# The audited columns of each audited table, in the order they are signed.
AUDITED: dict[type[Base], tuple[str, ...]] = {
    User: (
        "id",
        "clinic_id",
        "username",
        "display_name",
        "role",
        "password_hash",
        "patient_id",
        "active",
        "created_at",
    ),
    Course: (
        "id",
        "patient_id",
        "regimen_id",
        "start",
        "start_time",
        "bag_hours",
        "cycles",
        "cycle_starts",
        "weight_kg",
        "height_cm",
        "age_years",
        "status",
        "ended_reason",
        "backdated",
        "prescribed_by",
        "created_at",
        "updated_at",
    ),
    BagPreparation: (
        "id",
        "course_id",
        "code",
        "slot_start",
        "dose_mcg_per_day",
        "status",
        "recipe",
        "prepared_by",
        "prepared_at",
        "verified_by",
        "verified_at",
        "dispensed_by",
        "dispensed_at",
        "dispensed_to",
        "hung_by",
        "hung_at",
        "pump_rate_ml_per_h",
        "pump_volume_ml",
        "removed_by",
        "removed_at",
        "volume_left_ml",
        "ended_by",
        "ended_at",
        "ended_reason",
    ),
    TherapyCourse: (
        "id",
        "patient_id",
        "therapy",
        "inputs",
        "status",
        "ended_reason",
        "prescribed_by",
        "created_at",
        "updated_at",
    ),
    ToxicityAssessment: (
        "id",
        "course_id",
        "scale",
        "inputs",
        "grade",
        "decision",
        "assessed_by",
        "assessed_at",
    ),
    SymptomReport: (
        "patient_id",
        "submitted_by",
        "idempotency_key",
        "submitted_at",
        "request_sha256",
        "report",
        "observed_at",
        "symptoms",
    ),
}


def _mac(key: AuditKey, table: str, values: Sequence[Any]) -> str:
    return key.sign(_signed_text(table, values))


def _signed_text(table: str, values: Sequence[Any]) -> bytes:
    stored = [v.astimezone(UTC) if isinstance(v, datetime) else v for v in values]
    return b"row:" + table.encode() + b":" + to_json(stored)


def with_audit_mac(session: Session, model: type[Base], values: dict[str, Any]) -> dict[str, Any]:
    """``values`` of a row inserted by a Core statement (one whose audited columns do not
    include its id), with its ``audit_mac`` (None without a key)."""
    key = key_of(session)
    columns = AUDITED[model]
    mac = None if key is None else _mac(key, model.__tablename__, [values[c] for c in columns])
    values["audit_mac"] = mac
    return values


def _object_mac(target: Base) -> str | None:
    session = object_session(target)
    key = None if session is None else key_of(session)
    if key is None:
        return None
    columns = AUDITED[type(target)]
    return _mac(key, target.__tablename__, [getattr(target, c) for c in columns])


def _before_insert(_mapper: Mapper[Any], _connection: Connection, target: Base) -> None:
    target.audit_mac = _object_mac(target)  # type: ignore[attr-defined]


def _after_insert(_mapper: Mapper[Any], connection: Connection, target: Base) -> None:
    mac = _object_mac(target)
    if mac is None:
        return
    table = table_of(type(target))
    connection.execute(
        update(table).where(table.c.id == target.id).values(audit_mac=mac)  # type: ignore[attr-defined]
    )
    set_committed_value(target, "audit_mac", mac)


def _before_update(_mapper: Mapper[Any], _connection: Connection, target: Base) -> None:
    # Written with the UPDATE of the change (an unchanged MAC changes nothing).
    mac = _object_mac(target)
    if mac is not None:
        target.audit_mac = mac  # type: ignore[attr-defined]


for _model, _columns in AUDITED.items():
    if "id" in _columns:
        event.listen(_model, "after_insert", _after_insert)
    else:
        event.listen(_model, "before_insert", _before_insert)
    event.listen(_model, "before_update", _before_update)


def sign_unsigned_rows(session: Session, key: AuditKey) -> int:
    """Give every audited row written without a key its MAC: run once, as the trail
    becomes keyed (what the rows hold then is what the MACs vouch for). How many."""
    signed = 0
    for model, columns in AUDITED.items():
        table = table_of(model)
        rows = session.execute(
            select(table.c.id, *(table.c[c] for c in columns)).where(table.c.audit_mac.is_(None))
        ).all()
        if not rows:
            continue
        session.execute(
            update(table)
            .where(table.c.id == bindparam("row_id"))
            .values(audit_mac=bindparam("mac")),
            [{"row_id": row[0], "mac": _mac(key, table.name, row[1:])} for row in rows],
        )
        signed += len(rows)
    return signed


@dataclass(frozen=True, slots=True)
class ChangedRow:
    """An audited row whose content is not what its MAC vouches for."""

    table: str
    row_id: int
    problem: str


@dataclass(frozen=True, slots=True)
class RowsReport:
    rows: int
    changed: list[ChangedRow]


def verify_rows(session: Session, key: AuditKey, *, every_row_signed: bool) -> RowsReport:
    """Every audited row re-hashed with ``key``. ``every_row_signed``: once the trail is
    keyed, a row without a MAC was stripped of it."""
    count = 0
    changed = []
    for model, columns in AUDITED.items():
        table = table_of(model)
        query = select(table.c.id, table.c.audit_mac, *(table.c[c] for c in columns))
        with streamed(session, query.order_by(table.c.id)) as rows:
            for row in rows:
                count += 1
                if row[1] is None:
                    if every_row_signed:
                        changed.append(ChangedRow(table.name, row[0], "it carries no audit MAC"))
                elif not key.signed(_signed_text(table.name, row[2:]), row[1]):
                    changed.append(
                        ChangedRow(table.name, row[0], "its content does not match its audit MAC")
                    )
    return RowsReport(count, changed)
