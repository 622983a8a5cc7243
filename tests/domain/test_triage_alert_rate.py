"""The alert-rate simulation of issue 15 (item 18), smaller than the bench: seeded
synthetic 28-day check-in streams of calm patients (fluctuating common side effects, no
red flag) and the same streams with one red flag injected.

The stream model and the level each injected red flag must reach are the bench's
(``benches/bench_alert_rate.py``), read from there so that the two cannot drift apart.
The targets: at most 5 % of calm check-ins raise a call-now or emergency alert, and every
injected red flag is caught at its level. The early-course window (a site parameter,
7 days by default) asks for a call on a new symptom at least moderate in the days after
a start or step-up (a new mild one: the same day): the calm figure is checked overall,
outside the window and with no window, and every calm alert must come from that rule or
from UKONS' "more than one Amber".
"""

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

BENCH = Path(__file__).resolve().parents[2] / "benches" / "bench_alert_rate.py"
PATIENTS = 150
TARGET = 0.05


def _bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_alert_rate", BENCH)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    return _bench()


@pytest.fixture(scope="module")
def streams(bench: ModuleType) -> object:
    return bench.build_streams(PATIENTS, seed=bench.SEED)


def test_alert_rate_every_injected_red_flag_is_caught_at_its_level(
    bench: ModuleType, streams: object
) -> None:
    found = bench.figures(bench.current_rules(), streams, bench.early_window_days())

    assert found.flags == PATIENTS
    assert found.caught == found.flags, found.missed


def test_alert_rate_calm_check_ins_with_the_shipped_window(
    bench: ModuleType, streams: object
) -> None:
    found = bench.figures(bench.current_rules(), streams, bench.early_window_days())

    assert found.calm_alert_rate() <= TARGET


def test_alert_rate_calm_check_ins_outside_the_early_window(
    bench: ModuleType, streams: object
) -> None:
    window = bench.early_window_days()
    found = bench.figures(bench.current_rules(), streams, window)

    assert window == 7
    assert found.calm_alert_rate(False) <= TARGET
    assert found.calm_emergencies == 0


def test_alert_rate_calm_check_ins_when_a_site_sets_no_window(
    bench: ModuleType, streams: object
) -> None:
    rules = bench.with_window(bench.current_rules(), None)

    assert bench.figures(rules, streams, None).calm_alert_rate() <= TARGET


def test_alert_rate_calm_alerts_come_only_from_the_window_and_two_ambers(
    bench: ModuleType, streams: object
) -> None:
    fired = bench.calm_rules_fired(bench.current_rules(), streams)

    assert set(fired) <= {"early-in-cycle", "more-than-one-same-day"}


def test_alert_rate_streams_are_seeded_and_calm(bench: ModuleType) -> None:
    first = bench.build_streams(5, seed=1)
    again = bench.build_streams(5, seed=1)
    rules = bench.current_rules().rules
    common = {s.id for s in rules.symptoms.values() if s.group == "common"}

    assert first == again
    assert len(first.calm) == 5
    for stream in first.calm:
        assert [day.day for day in stream] == list(range(1, bench.DAYS + 1))
        for day in stream:
            assert {symptom for symptom, _, _ in day.answers} <= common
            assert all(severity in (None, 1, 2) for _, severity, _ in day.answers)
            assert all(interferes is not True for _, _, interferes in day.answers)
