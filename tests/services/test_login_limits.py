"""Login limits of one process: failures per address and per username, turns at hashing."""

import os
import sys
import threading

import pytest

from blina.config import Settings
from blina.services.errors import LoginThrottled
from blina.services.login_limits import LoginLimits


@pytest.mark.skipif(sys.platform != "linux", reason="a nice value per thread is Linux's")
def test_in_turn_hashes_at_a_lower_cpu_priority() -> None:
    limits = LoginLimits(Settings())

    def niceness() -> int:
        return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())

    assert limits.in_turn(niceness) == min(niceness() + 10, 19)


def test_check_names_the_wait_until_the_oldest_failure_leaves_the_window() -> None:
    limits = LoginLimits(Settings(login_failures_per_source=2))
    limits.failed(source="192.0.2.1", username="a")
    limits.failed(source="192.0.2.1", username="b")

    with pytest.raises(LoginThrottled) as refused:
        limits.check(source="192.0.2.1", username="c")
    assert 55 <= refused.value.retry_after <= 60
    limits.check(source="192.0.2.2", username="c")  # another address is not limited


def test_check_limits_a_long_username_by_its_beginning() -> None:
    limits = LoginLimits(Settings(login_failures_per_username=1))
    limits.failed(source="192.0.2.1", username="x" * 300)

    with pytest.raises(LoginThrottled):
        limits.check(source="192.0.2.2", username="x" * 250)
