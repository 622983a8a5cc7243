"""Accounts: argon2 passwords, tokens, pauses after repeated failures, all audited."""

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from blina.config import Settings
from blina.domain.errors import InvalidInput
from blina.services import accounts
from blina.services.accounts import authenticate, create_user, log_in, log_out
from blina.services.errors import (
    Conflict,
    LoginBusy,
    LoginThrottled,
    NotAuthenticated,
    PermissionDenied,
)
from blina.services.login_limits import LoginLimits
from blina.store.session import transaction
from blina.store.tables import AuditEvent, Clinic, LoginToken, PasswordReset, User

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
SETTINGS = Settings(
    login_max_failures=3,
    login_lockout_first_seconds=60,
    login_lockout_minutes=15,
    session_hours=12,
)
RIGHT = "a long password"
# A wrong password, an unknown name, a paused account: one answer for all three.
WRONG = "wrong username or password"


@pytest.fixture
def clinic_id(sessions: sessionmaker[Session]) -> int:
    with transaction(sessions) as session:
        clinic = Clinic(name="c", zone="UTC", created_at=NOW)
        session.add(clinic)
        session.flush()
        create_user(
            session,
            actor=None,
            now=NOW,
            clinic_id=clinic.id,
            username="nurse",
            display_name="N",
            role="nurse",
            password=RIGHT,
        )
        return clinic.id


@pytest.fixture
def limits() -> LoginLimits:
    return LoginLimits(SETTINGS)


def _login(
    sessions: sessionmaker[Session],
    password: str,
    at: datetime = NOW,
    *,
    limits: LoginLimits | None = None,
    username: str = "nurse",
) -> accounts.LoginOutcome:
    return log_in(
        sessions,
        limits=limits or LoginLimits(SETTINGS),
        settings=SETTINGS,
        now=at,
        username=username,
        password=password,
        kind="bearer",
        source="192.0.2.1",
    )


def _nurse(sessions: sessionmaker[Session]) -> User:
    with sessions() as session:
        return session.execute(select(User).where(User.username == "nurse")).scalar_one()


def _actions(sessions: sessionmaker[Session]) -> list[str]:
    with sessions() as session:
        return list(session.execute(select(AuditEvent.action).order_by(AuditEvent.seq)).scalars())


@pytest.fixture
def verifying(monkeypatch: pytest.MonkeyPatch) -> Callable[[Callable[[str], None]], None]:
    """Runs ``hold(password)`` inside every password check (where argon2 would work), then
    checks the password as usual."""
    check = accounts._verify

    def install(hold: Callable[[str], None]) -> None:
        def held(password_hash: str, password: str) -> bool:
            hold(password)
            return check(password_hash, password)

        monkeypatch.setattr(accounts, "_verify", held)

    return install


def test_hash_password_production_parameters_are_argon2id() -> None:
    hasher = accounts.PasswordHasher()
    assert hasher.hash("x").startswith("$argon2id$")
    assert accounts._dummy_hash(hasher).startswith("$argon2id$")


def test_log_in_right_password_issues_a_token_that_authenticates(
    sessions: sessionmaker[Session], clinic_id: int
) -> None:
    outcome = _login(sessions, RIGHT)

    assert outcome.refusal is None
    assert outcome.token is not None
    assert outcome.actor is not None
    assert outcome.actor.username == "nurse"
    with sessions() as session:
        actor = authenticate(session, now=NOW + timedelta(hours=11), token=outcome.token)
        assert actor.username == "nurse"
        with pytest.raises(NotAuthenticated):
            authenticate(session, now=NOW + timedelta(hours=12), token=outcome.token)


def test_log_out_token_stops_working(sessions: sessionmaker[Session], clinic_id: int) -> None:
    token = _login(sessions, RIGHT).token
    assert token is not None
    with transaction(sessions) as session:
        log_out(session, token=token)
    with sessions() as session, pytest.raises(NotAuthenticated):
        authenticate(session, now=NOW, token=token)


def test_log_in_repeated_failures_pause_the_account_and_are_audited(
    sessions: sessionmaker[Session], clinic_id: int
) -> None:
    for _ in range(3):
        assert str(_login(sessions, "wrong").refusal) == WRONG

    paused = _login(sessions, RIGHT, NOW + timedelta(seconds=59))
    assert isinstance(paused.refusal, NotAuthenticated)
    assert str(paused.refusal) == WRONG
    assert paused.token is None
    assert _login(sessions, RIGHT, NOW + timedelta(seconds=61)).token is not None
    assert _nurse(sessions).failed_logins == 0
    assert _actions(sessions)[-5:] == [
        "login.failed",
        "login.failed",
        "login.locked",
        "login.paused",
        "login",
    ]


def test_log_in_pause_doubles_with_each_failure_and_then_expires(
    sessions: sessionmaker[Session], clinic_id: int
) -> None:
    for _ in range(3):
        _login(sessions, "wrong")
    later = NOW + timedelta(seconds=61)
    _login(sessions, "wrong", later)  # the fourth: two minutes

    assert _nurse(sessions).locked_until == later + timedelta(seconds=120)
    assert _login(sessions, RIGHT, later + timedelta(seconds=119)).token is None
    assert _login(sessions, RIGHT, later + timedelta(seconds=120)).token is not None


@pytest.mark.parametrize(
    ("failures", "seconds"),
    [(2, None), (3, 60), (4, 120), (5, 240), (6, 480), (7, 900), (8, 900), (500, 900)],
    ids=lambda value: str(value),
)
def test_pause_grows_from_a_minute_to_the_longest(failures: int, seconds: int | None) -> None:
    pause = accounts._pause(SETTINGS, failures)
    assert pause == (None if seconds is None else timedelta(seconds=seconds))


def test_log_in_unknown_user_and_wrong_password_cost_one_check_and_answer_alike(
    sessions: sessionmaker[Session],
    clinic_id: int,
    verifying: Callable[[Callable[[str], None]], None],
) -> None:
    checks: list[str] = []
    verifying(checks.append)
    for _ in range(3):
        _login(sessions, "wrong")
    checks.clear()

    unknown = _login(sessions, "x", username="nobody")
    wrong = _login(sessions, "wrong", NOW - timedelta(days=1))
    paused = _login(sessions, RIGHT)

    assert checks == ["x", "wrong", RIGHT]  # one argon2 check each
    assert {type(o.refusal) for o in (unknown, wrong, paused)} == {NotAuthenticated}
    assert {str(o.refusal) for o in (unknown, wrong, paused)} == {WRONG}


def test_log_in_parallel_wrong_guesses_each_count(
    sessions: sessionmaker[Session],
    clinic_id: int,
    verifying: Callable[[Callable[[str], None]], None],
) -> None:
    """20 guesses read the account before any is counted (a barrier inside the check):
    all 20 are counted, none lost to a read-modify-write."""
    guesses = 20
    together = threading.Barrier(guesses, timeout=30)
    verifying(lambda password: together.wait())
    limits = LoginLimits(SETTINGS, slots=guesses)

    with ThreadPoolExecutor(guesses) as pool:
        outcomes = list(
            pool.map(lambda n: _login(sessions, f"guess {n}", limits=limits), range(guesses))
        )

    assert {str(o.refusal) for o in outcomes} == {WRONG}
    nurse = _nurse(sessions)
    assert nurse.failed_logins == guesses
    assert nurse.locked_until == NOW + timedelta(minutes=15)
    counted = [a for a in _actions(sessions) if a in ("login.failed", "login.locked")]
    assert counted == ["login.failed"] * 2 + ["login.locked"] * (guesses - 2)


def test_log_in_right_password_among_parallel_wrong_guesses_does_not_get_in(
    sessions: sessionmaker[Session],
    clinic_id: int,
    verifying: Callable[[Callable[[str], None]], None],
) -> None:
    """The right password is read with the account still open, and its check ends after
    the wrong guesses have paused it: the write that would let it in finds the pause."""
    guesses = 20
    together = threading.Barrier(guesses + 1, timeout=30)
    wrong_counted = threading.Event()

    def hold(password: str) -> None:
        together.wait()
        if password == RIGHT:
            assert wrong_counted.wait(30)

    verifying(hold)
    limits = LoginLimits(SETTINGS, slots=guesses + 1)
    with ThreadPoolExecutor(guesses + 1) as pool:
        right = pool.submit(_login, sessions, RIGHT, limits=limits)
        wrong = [pool.submit(_login, sessions, f"guess {n}", limits=limits) for n in range(20)]
        for guess in wrong:
            assert guess.result(30).token is None
        wrong_counted.set()
        outcome = right.result(30)

    assert outcome.token is None
    assert str(outcome.refusal) == WRONG
    with sessions() as session:
        assert session.execute(select(func.count()).select_from(LoginToken)).scalar_one() == 0
    assert _actions(sessions)[-1] == "login.refused"


def test_log_in_does_not_hold_the_writer_while_checking_the_password(
    sessions: sessionmaker[Session],
    clinic_id: int,
    verifying: Callable[[Callable[[str], None]], None],
) -> None:
    checking, release = threading.Event(), threading.Event()

    def hold(password: str) -> None:
        checking.set()
        assert release.wait(30)

    verifying(hold)

    def another_write() -> None:
        with transaction(sessions) as session:
            session.add(Clinic(name="written meanwhile", zone="UTC", created_at=NOW))

    with ThreadPoolExecutor(2) as pool:
        login = pool.submit(_login, sessions, RIGHT)
        assert checking.wait(30)
        written = pool.submit(another_write)
        try:
            written.result(timeout=10)  # raises TimeoutError if the login held the writer
        finally:
            release.set()
        assert login.result(30).token is not None


def test_log_in_too_many_at_once_are_told_to_try_again(
    sessions: sessionmaker[Session],
    clinic_id: int,
    verifying: Callable[[Callable[[str], None]], None],
) -> None:
    """Every place taken (one check at a time, nobody waiting): the next caller is refused
    at once, without a check and without counting against the account."""
    checking, release = threading.Event(), threading.Event()
    checks: list[str] = []

    def hold(password: str) -> None:
        checks.append(password)
        checking.set()
        assert release.wait(30)

    verifying(hold)
    limits = LoginLimits(SETTINGS, slots=1, waiting=0)
    with ThreadPoolExecutor(1) as pool:
        first = pool.submit(_login, sessions, RIGHT, limits=limits)
        assert checking.wait(30)
        second = _login(sessions, RIGHT, limits=limits)
        release.set()
        assert first.result(30).token is not None

    assert isinstance(second.refusal, LoginBusy)
    assert second.refusal.retry_after == 1
    assert checks == [RIGHT]
    assert _nurse(sessions).failed_logins == 0
    assert _login(sessions, RIGHT, limits=limits).token is not None  # the place is free again


def test_log_in_failures_from_one_source_are_limited(
    sessions: sessionmaker[Session], clinic_id: int
) -> None:
    limits = LoginLimits(Settings(login_failures_per_source=3))
    for n in range(3):
        assert _login(sessions, "x", limits=limits, username=f"name{n}").refusal is not None

    refused = _login(sessions, RIGHT, limits=limits)

    assert isinstance(refused.refusal, LoginThrottled)
    assert 1 <= refused.refusal.retry_after <= 60
    assert _nurse(sessions).failed_logins == 0  # refused before the account was read


def test_log_in_failures_naming_one_username_are_limited_known_or_not(
    sessions: sessionmaker[Session], clinic_id: int
) -> None:
    limits = LoginLimits(Settings(login_failures_per_username=2))
    answers = {}
    for name in ("nurse", "nobody"):
        for _ in range(2):
            _login(sessions, "wrong", limits=limits, username=name)
        answers[name] = _login(sessions, "wrong", limits=limits, username=name).refusal

    assert {type(a) for a in answers.values()} == {LoginThrottled}
    assert len({str(a) for a in answers.values()}) == 1


def test_log_in_success_forgets_the_failures_naming_the_username(
    sessions: sessionmaker[Session], clinic_id: int
) -> None:
    limits = LoginLimits(Settings(login_failures_per_username=2))
    _login(sessions, "wrong", limits=limits)
    assert _login(sessions, RIGHT, limits=limits).token is not None
    _login(sessions, "wrong", limits=limits)

    assert _login(sessions, RIGHT, limits=limits).token is not None


def test_log_in_inactive_account_is_refused_like_a_wrong_password(
    sessions: sessionmaker[Session], clinic_id: int
) -> None:
    with transaction(sessions) as session:
        session.execute(select(User).where(User.username == "nurse")).scalar_one().active = False

    assert str(_login(sessions, RIGHT).refusal) == WRONG


@pytest.mark.parametrize(
    ("field", "changes"),
    [
        ("role", {"role": "surgeon"}),
        ("username", {"username": "bad name"}),
        ("password", {"password": "short"}),
        ("patient_id", {"role": "patient"}),
        ("username", {"username": "nurse"}),
    ],
)
def test_create_user_bad_input_names_the_field(
    sessions: sessionmaker[Session], clinic_id: int, field: str, changes: dict[str, str]
) -> None:
    values = {
        "username": "new",
        "display_name": "N",
        "role": "nurse",
        "password": "a long password",
    } | changes
    with transaction(sessions) as session, pytest.raises(InvalidInput) as caught:
        create_user(session, actor=None, now=NOW, clinic_id=clinic_id, **values)  # type: ignore[arg-type]
    assert caught.value.field == field


def test_create_user_by_non_admin_is_denied(
    sessions: sessionmaker[Session], clinic_id: int
) -> None:
    with transaction(sessions) as session:
        nurse = accounts.to_actor(session.execute(select(accounts.User)).scalar_one())
    with transaction(sessions) as session, pytest.raises(PermissionDenied):
        create_user(
            session,
            actor=nurse,
            now=NOW,
            clinic_id=clinic_id,
            username="x",
            display_name="x",
            role="nurse",
            password="a long password",
        )


@pytest.mark.parametrize(
    "password", ["x" * 9, "x" * 201, "a long pass\x00word"], ids=["short", "long", "nul"]
)
def test_create_user_password_beyond_what_a_sign_in_takes_is_refused(
    sessions: sessionmaker[Session], clinic_id: int, password: str
) -> None:
    with transaction(sessions) as session, pytest.raises(InvalidInput) as caught:
        create_user(
            session,
            actor=None,
            now=NOW,
            clinic_id=clinic_id,
            username="new",
            display_name="N",
            role="nurse",
            password=password,
        )
    assert (caught.value.field, caught.value.value) == ("password", "(hidden)")


def test_log_in_records_the_last_sign_in(sessions: sessionmaker[Session], clinic_id: int) -> None:
    assert _nurse(sessions).last_login_at is None
    _login(sessions, RIGHT, NOW + timedelta(minutes=5))

    assert _nurse(sessions).last_login_at == NOW + timedelta(minutes=5)


# --- one's own new password ---------------------------------------------------------------

NEW = "a brand new passphrase"


def _change(
    sessions: sessionmaker[Session],
    token: str,
    current: str = RIGHT,
    new: str = NEW,
    *,
    limits: LoginLimits | None = None,
) -> int:
    with sessions() as session:
        actor = authenticate(session, now=NOW, token=token)
    return accounts.change_password(
        sessions,
        limits=limits or LoginLimits(SETTINGS),
        settings=SETTINGS,
        now=NOW,
        actor=actor,
        token=token,
        current_password=current,
        new_password=new,
        source="192.0.2.1",
    )


def test_change_password_ends_the_other_tokens_and_the_reset_links_not_yet_used(
    sessions: sessionmaker[Session], clinic_id: int
) -> None:
    this, other = (_login(sessions, RIGHT).token for _ in range(2))
    assert this is not None
    assert other is not None
    with transaction(sessions) as session:
        nurse = _nurse(sessions)
        session.add(
            PasswordReset(
                user_id=nurse.id,
                token_sha256="0" * 64,
                issued_by=nurse.id,
                created_at=NOW,
                expires_at=NOW + timedelta(hours=24),
            )
        )

    assert _change(sessions, this) == 1

    with sessions() as session:
        assert authenticate(session, now=NOW, token=this).username == "nurse"
        with pytest.raises(NotAuthenticated):
            authenticate(session, now=NOW, token=other)
        assert session.execute(select(PasswordReset.revoked_at)).scalar_one() == NOW
    assert _login(sessions, NEW).token is not None
    assert _actions(sessions)[-2:] == ["user.password", "login"]


def test_change_password_does_not_hold_the_writer_while_checking_the_password(
    sessions: sessionmaker[Session],
    clinic_id: int,
    verifying: Callable[[Callable[[str], None]], None],
) -> None:
    token = _login(sessions, RIGHT).token
    assert token is not None
    checking, release = threading.Event(), threading.Event()

    def hold(password: str) -> None:
        checking.set()
        assert release.wait(30)

    verifying(hold)

    def another_write() -> None:
        with transaction(sessions) as session:
            session.add(Clinic(name="written meanwhile", zone="UTC", created_at=NOW))

    with ThreadPoolExecutor(2) as pool:
        change = pool.submit(_change, sessions, token)
        assert checking.wait(30)
        written = pool.submit(another_write)
        try:
            written.result(timeout=10)  # raises TimeoutError if the change held the writer
        finally:
            release.set()
        assert change.result(30) == 0


def test_change_password_changed_meanwhile_is_not_overwritten(
    sessions: sessionmaker[Session],
    clinic_id: int,
    verifying: Callable[[Callable[[str], None]], None],
) -> None:
    """A reset (or another tab) set a password while the current one was checked: the
    change is refused, and the password set meanwhile stays."""
    token = _login(sessions, RIGHT).token
    assert token is not None
    meanwhile = accounts.hash_password("set meanwhile by a reset")

    def reset_meanwhile(password: str) -> None:
        with transaction(sessions) as session:
            session.execute(select(User)).scalar_one().password_hash = meanwhile

    verifying(reset_meanwhile)

    with pytest.raises(Conflict):
        _change(sessions, token)
    assert _nurse(sessions).password_hash == meanwhile


def test_change_password_too_many_at_once_are_told_to_try_again(
    sessions: sessionmaker[Session], clinic_id: int
) -> None:
    token = _login(sessions, RIGHT).token
    assert token is not None
    limits = LoginLimits(SETTINGS, slots=1, waiting=0)

    with limits.admitted(), pytest.raises(LoginBusy):  # the one place taken
        _change(sessions, token, limits=limits)
    assert _nurse(sessions).failed_logins == 0


def test_change_password_wrong_current_one_is_a_failed_attempt_that_pauses_the_account(
    sessions: sessionmaker[Session], clinic_id: int
) -> None:
    """Moved down from the API's tests (test_user_accounts)."""
    token = _login(sessions, RIGHT).token
    assert token is not None

    for _ in range(3):
        with pytest.raises(InvalidInput) as refused:
            _change(sessions, token, current="not the password")
        assert (refused.value.field, refused.value.value) == ("current_password", "(hidden)")
    with pytest.raises(LoginThrottled) as paused:
        _change(sessions, token)

    assert paused.value.retry_after >= 1
    assert _login(sessions, RIGHT).token is None  # paused as after wrong sign-ins
    with sessions() as session:  # a pause ends no session
        assert authenticate(session, now=NOW, token=token).username == "nurse"
    assert _actions(sessions).count("password.failed") == 2
    assert _actions(sessions).count("password.locked") == 1
    assert _login(sessions, RIGHT, NOW + timedelta(minutes=16)).token is not None  # the old one


@pytest.mark.parametrize(
    "new",
    [
        "short",
        RIGHT,  # the same as the current one
        "x" * 201,
        "a long one\x00here",
    ],
    ids=["short", "same", "too-long", "nul"],
)
def test_change_password_refused_as_input_names_the_field_and_changes_nothing(
    sessions: sessionmaker[Session], clinic_id: int, new: str
) -> None:
    """Moved down from the API's tests (test_user_accounts)."""
    token = _login(sessions, RIGHT).token
    assert token is not None

    with pytest.raises(InvalidInput) as refused:
        _change(sessions, token, new=new)

    assert refused.value.field == "new_password"
    assert RIGHT not in str(refused.value)
    assert _nurse(sessions).failed_logins == 0  # nothing was changed or counted
    assert _login(sessions, RIGHT).token is not None
