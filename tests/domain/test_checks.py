"""Safety verdicts as values: levels, the worst level, and the opt-in exception."""

import pytest

from blina.domain.checks import Check, CheckLevel, CheckReport, HardStop
from blina.domain.errors import BlinaError

OK = Check(CheckLevel.OK, "fine", "all good", "src-ok")
SOFT = Check(CheckLevel.SOFT, "careful", "needs a reason", "src-soft")
HARD = Check(CheckLevel.HARD, "stop", "blocked here", "src-hard")


@pytest.mark.parametrize(
    ("checks", "level"),
    [
        ((), CheckLevel.OK),
        ((OK,), CheckLevel.OK),
        ((OK, SOFT), CheckLevel.SOFT),
        ((SOFT, HARD, OK), CheckLevel.HARD),
        ((HARD, SOFT), CheckLevel.HARD),
    ],
    ids=["empty", "ok", "soft", "hard-among-others", "hard-first"],
)
def test_check_report_level_is_the_worst_finding(
    checks: tuple[Check, ...], level: CheckLevel
) -> None:
    assert CheckReport(checks).level is level


def test_check_level_rank_orders_by_severity() -> None:
    assert [level.rank for level in (CheckLevel.OK, CheckLevel.SOFT, CheckLevel.HARD)] == [0, 1, 2]


def test_check_report_soft_only_needs_override_and_is_not_blocked() -> None:
    report = CheckReport((OK, SOFT))

    assert report.needs_override
    assert not report.blocked
    assert report.soft == (SOFT,)
    assert report.hard == ()


def test_check_report_hard_is_blocked_and_needs_no_override() -> None:
    report = CheckReport((SOFT, HARD))

    assert report.blocked
    assert not report.needs_override
    assert report.hard == (HARD,)


def test_check_report_add_iter_len_codes_keep_order() -> None:
    report = CheckReport((OK,)) + CheckReport((SOFT, HARD))

    assert list(report) == [OK, SOFT, HARD]
    assert len(report) == 3
    assert report.codes() == ("fine", "careful", "stop")


def test_raise_for_hard_stop_without_hard_returns_the_report() -> None:
    report = CheckReport((OK, SOFT))

    assert report.raise_for_hard_stop() is report


def test_raise_for_hard_stop_with_hard_raises_with_every_reason_and_source() -> None:
    report = CheckReport((HARD, SOFT, Check(CheckLevel.HARD, "two", "second", "src-2")))

    with pytest.raises(HardStop) as raised:
        report.raise_for_hard_stop()

    assert raised.value.report is report
    assert isinstance(raised.value, BlinaError)
    assert str(raised.value) == "hard stop: blocked here (src-hard); second (src-2)"
