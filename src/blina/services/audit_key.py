"""The audit key: a secret kept outside the database that signs the audit trail.

The trail's SHA-256 chain shows any change that was not followed by recomputing the
hashes; anyone who can write to the database can recompute them (issue 16). With the key
(``BLINA_AUDIT_KEY``):

- each event carries an HMAC-SHA256 of its hash and of the event the keyed trail starts
  at, so the start cannot be moved without breaking every MAC after it (blina.services.audit);
- each audited record carries one of its audited columns (blina.services.sealed_rows);
- each commit that moved the chain's head appends the signed head to a file outside the
  database, so a tail cut off with the head moved back is found (``append_head``).

The key reaches the code that writes through the session factory (``use_audit_key``):
every session it makes carries it in ``session.info``. Without a key (the local
environment) nothing is signed, and ``blina audit verify`` says so.
"""

import hmac
import logging
import os
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from blina.config import Settings

__all__ = [
    "AuditKey",
    "SignedHead",
    "append_head",
    "audit_key_of",
    "key_of",
    "read_signed_head",
    "use_audit_key",
]

_log = logging.getLogger(__name__)
_KEY = "blina.audit_key"
# The head file's tail read by a check: the newest lines, a few dozen of them (several
# processes may append theirs out of order).
_TAIL_BYTES = 8192


@dataclass(frozen=True, slots=True)
class AuditKey:
    """The secret, and the file each commit's signed head is appended to (None: none)."""

    secret: bytes
    head_file: Path | None = None

    def sign(self, text: bytes) -> str:
        """The hex HMAC-SHA256 of ``text``. Each kind of text starts with its own prefix
        (``event:``, ``row:``, ``head:``, ``checkpoint:``), so no MAC stands for another."""
        return hmac.digest(self.secret, text, "sha256").hex()  # one call into C

    def signed(self, text: bytes, mac: str | None) -> bool:
        return mac is not None and hmac.compare_digest(self.sign(text), mac)


def audit_key_of(settings: Settings) -> AuditKey | None:
    """The settings' key and head file (audit-head.log in the data directory by default)."""
    if settings.audit_key is None:
        return None
    head_file = settings.audit_head_file or settings.data_dir / "audit-head.log"
    return AuditKey(settings.audit_key.get_secret_value().encode(), head_file)


def use_audit_key(sessions: sessionmaker[Session], key: AuditKey | None) -> sessionmaker[Session]:
    """``sessions``, each session of which signs the trail with ``key`` from now on (the
    head file's folder is made now, not at each commit)."""
    if key is not None and key.head_file is not None:
        key.head_file.parent.mkdir(parents=True, exist_ok=True)
    info = dict(sessions.kw.get("info") or {})
    info[_KEY] = key
    sessions.configure(info=info)
    return sessions


def key_of(session: Session) -> AuditKey | None:
    key: AuditKey | None = session.info.get(_KEY)
    return key


@dataclass(frozen=True, slots=True)
class SignedHead:
    """The chain's head as signed: its newest event, that event's hash, and the event the
    keyed trail starts at (None: not keyed). One line of the head file."""

    seq: int
    hash: str
    mac_from: int | None
    mac: str

    @classmethod
    def of(cls, key: AuditKey, seq: int, last_hash: str, mac_from: int | None) -> "SignedHead":
        return cls(seq, last_hash, mac_from, key.sign(_head_text(seq, last_hash, mac_from)))

    @classmethod
    def parse(cls, line: str) -> "SignedHead":
        """The head a line names (``seq=.. hash=.. mac_from=.. mac=..``); ValueError if it
        is not one."""
        fields = {name: value for name, _, value in (part.partition("=") for part in line.split())}
        if set(fields) != {"seq", "hash", "mac_from", "mac"}:
            raise ValueError(f"not a signed audit head: {line!r}")
        mac_from = fields["mac_from"]
        return cls(
            int(fields["seq"]),
            fields["hash"],
            None if mac_from == "-" else int(mac_from),
            fields["mac"],
        )

    def line(self) -> str:
        mac_from = "-" if self.mac_from is None else self.mac_from
        return f"seq={self.seq} hash={self.hash} mac_from={mac_from} mac={self.mac}"

    def signed_by(self, key: AuditKey) -> bool:
        return key.signed(_head_text(self.seq, self.hash, self.mac_from), self.mac)


def _head_text(seq: int, last_hash: str, mac_from: int | None) -> bytes:
    return f"head:{seq}:{last_hash}:{mac_from}".encode()


def append_head(key: AuditKey, head: SignedHead) -> None:
    """Append ``head`` as one line to the key's head file: one ``write`` to a file opened
    for appending, so lines of several processes never mix. Not synced to disk (a commit
    costs no extra wait); a file that cannot be written is logged, the commit stands."""
    if key.head_file is None:
        return
    try:
        descriptor = os.open(key.head_file, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(descriptor, (head.line() + "\n").encode())
        finally:
            os.close(descriptor)
    except OSError:
        _log.exception("the signed audit head could not be appended to %s", key.head_file)


def read_signed_head(key: AuditKey) -> tuple[SignedHead | None, str]:
    """The newest head of the key's head file (the highest event among its last lines),
    or None when there is none; and the problem found (a line not signed with the key),
    or ""."""
    if key.head_file is None or not key.head_file.exists():
        return None, ""
    with key.head_file.open("rb") as file:
        size = file.seek(0, os.SEEK_END)
        file.seek(max(0, size - _TAIL_BYTES))
        tail = file.read().decode(errors="replace").splitlines()
    if size > _TAIL_BYTES:
        tail = tail[1:]  # the first line read may be cut
    newest: SignedHead | None = None
    for line in filter(None, (text.strip() for text in tail)):
        try:
            head = SignedHead.parse(line)
        except ValueError:
            return None, f"the head file {key.head_file} holds a line that is not a signed head"
        if not head.signed_by(key):
            return None, (
                f"the head file {key.head_file} holds a head not signed with the audit key "
                f"(event {head.seq})"
            )
        if newest is None or head.seq > newest.seq:
            newest = head
    return newest, ""
