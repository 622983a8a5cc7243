"""The exposure model's pieces: parameters, input checks, the solution, and one patient's
summaries (steady states, flush peaks, time below a share of steady state)."""

import math
from dataclasses import replace
from decimal import Decimal

import numpy as np
import pytest

from blina.domain.errors import InvalidInput
from blina.domain.pk import (
    Bolus,
    Infusion,
    PkInputs,
    PkModel,
    exposure,
    half_life_h,
    individual_clearance,
    observe,
    solve,
    steady_state_pg_per_ml,
    two_compartment,
    typical_residual_mean_factor,
)
from blina.knowledge import load_knowledge

MODEL = load_knowledge().pk
CL = 2.22
TWO = two_compartment(
    MODEL, intercompartmental_l_per_h=Decimal("1.5"), peripheral_volume_l=Decimal("4")
)
RUNNING = PkInputs((Infusion(0.0, 100.0, 28 / 24), Infusion(110.0, 200.0, 28 / 24)))


def test_individual_clearance_scales_with_bsa_and_eta() -> None:
    assert float(individual_clearance(MODEL, bsa_m2=1.876)) == pytest.approx(2.22)
    assert float(individual_clearance(MODEL, bsa_m2=1.876, eta=math.log(2))) == pytest.approx(4.44)
    assert float(individual_clearance(MODEL, bsa_m2=2 * 1.876)) == pytest.approx(2.22 * 2**0.62)


@pytest.mark.parametrize(
    ("q", "v2", "field"),
    [
        (Decimal(-1), Decimal(4), "intercompartmental_l_per_h"),
        (Decimal("NaN"), Decimal(4), "intercompartmental_l_per_h"),
        (Decimal(1), Decimal(0), "peripheral_volume_l"),
        (Decimal(1), Decimal("Infinity"), "peripheral_volume_l"),
    ],
)
def test_two_compartment_bad_parameters_name_the_field(q: Decimal, v2: Decimal, field: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        two_compartment(MODEL, intercompartmental_l_per_h=q, peripheral_volume_l=v2)
    assert caught.value.field == field


def test_two_compartment_records_its_source_and_no_transfer_stays_one_compartment() -> None:
    still_one = two_compartment(
        MODEL, intercompartmental_l_per_h=Decimal(0), peripheral_volume_l=Decimal(4)
    )

    assert TWO.compartments == 2
    assert TWO.sources["peripheral"] == "caller"
    assert still_one.compartments == 1
    assert MODEL.sources["clearance"] == "pk-clements-2020-table3"


def test_two_compartment_keeps_steady_state_and_lengthens_the_terminal_half_life() -> None:
    level = solve(TWO, PkInputs((Infusion(0.0, 2000.0, 1.0),)), CL).concentration(
        np.array([1999.0])
    )

    assert level[0, 0] == pytest.approx(steady_state_pg_per_ml(1.0, CL))
    assert half_life_h(TWO, CL) > half_life_h(MODEL, CL) == pytest.approx(math.log(2) * 5.98 / CL)


@pytest.mark.parametrize(
    ("inputs", "field"),
    [
        (PkInputs((Infusion(math.nan, 1.0, 1.0),)), "infusions[0].start_h"),
        (PkInputs((Infusion(0.0, math.inf, 1.0),)), "infusions[0].start_h"),
        (PkInputs((Infusion(2.0, 1.0, 1.0),)), "infusions[0].end_h"),
        (PkInputs((Infusion(0.0, 1.0, -1.0),)), "infusions[0].rate_ug_per_h"),
        (PkInputs((Infusion(0.0, 1.0, math.inf),)), "infusions[0].rate_ug_per_h"),
        (PkInputs((), (Bolus(math.nan, 1.0),)), "boluses[0].at_h"),
        (PkInputs((), (Bolus(1.0, -1.0),)), "boluses[0].dose_ug"),
    ],
)
def test_solve_refuses_inputs_no_pump_delivers(inputs: PkInputs, field: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        solve(MODEL, inputs, CL)
    assert caught.value.field == field


@pytest.mark.parametrize("clearance", [0.0, -1.0, math.nan, math.inf])
def test_solve_refuses_a_clearance_that_is_not_positive_and_finite(clearance: float) -> None:
    with pytest.raises(InvalidInput, match="clearance_l_per_h"):
        solve(MODEL, RUNNING, clearance)


def test_solve_nothing_given_is_zero_everywhere() -> None:
    empty = PkInputs(())

    assert empty.end_h == 0.0
    assert empty.total_ug == 0.0
    assert solve(MODEL, empty, CL).concentration(np.array([-1.0, 0.0, 5.0])).tolist() == [
        [0.0, 0.0, 0.0]
    ]


def test_solve_before_the_first_input_is_zero_and_a_bolus_counts_from_its_instant() -> None:
    inputs = PkInputs((), (Bolus(10.0, 5.98),))

    level = solve(MODEL, inputs, CL).concentration(np.array([9.999, 10.0]))[0]

    assert level.tolist() == [0.0, pytest.approx(1000.0)]  # 5.98 ug in 5.98 L = 1 ug/L


def test_solve_overlapping_infusions_add_and_empty_ones_are_ignored() -> None:
    overlapping = PkInputs(
        (Infusion(0.0, 500.0, 0.5), Infusion(0.0, 500.0, 0.5), Infusion(3.0, 3.0, 9.0))
    )
    single = PkInputs((Infusion(0.0, 500.0, 1.0),))
    times = np.linspace(0.0, 600.0, 61)

    np.testing.assert_allclose(
        solve(MODEL, overlapping, CL).concentration(times),
        solve(MODEL, single, CL).concentration(times),
        rtol=1e-14,
    )


def test_solve_rates_per_patient_replace_the_infusion_rates() -> None:
    rates = np.array([[1.0, 1.0], [2.0, 2.0]])

    level = solve(MODEL, RUNNING, np.array([CL, CL]), rates=rates).concentration(np.array([99.0]))

    assert level[1, 0] == pytest.approx(2 * level[0, 0])
    assert level[0, 0] == pytest.approx(steady_state_pg_per_ml(1.0, CL))


def test_amount_in_body_is_concentration_times_volume_for_one_compartment() -> None:
    solution = solve(MODEL, RUNNING, CL)
    times = np.array([5.0, 50.0, 105.0])

    np.testing.assert_allclose(
        solution.amount_ug(times), solution.concentration(times) / 1000.0 * 5.98, rtol=1e-12
    )


def test_typical_residual_mean_factor_is_exp_half_sigma_squared() -> None:
    assert typical_residual_mean_factor(MODEL) == pytest.approx(math.exp(0.559**2 / 2))


def test_observe_spreads_each_patient_by_a_residual_of_varying_magnitude() -> None:
    predicted = np.full((400, 2000), 500.0)

    seen = observe(MODEL, predicted, np.random.default_rng(7))

    log_ratio = np.log(seen / predicted)
    per_patient_sd = log_ratio.std(axis=1)
    assert abs(log_ratio.mean()) < 0.02
    assert np.median(per_patient_sd) == pytest.approx(0.559, rel=0.1)
    assert np.log(per_patient_sd).std() == pytest.approx(0.643, rel=0.1)


def test_observe_without_residual_error_returns_the_prediction() -> None:
    exact = replace(MODEL, residual_log_sd=Decimal(0))

    assert observe(exact, np.array([1.0, 2.0]), np.random.default_rng(1)).tolist() == [[1.0, 2.0]]


# --- one patient's summaries ------------------------------------------------------------


def test_exposure_refuses_a_fraction_outside_0_to_1() -> None:
    with pytest.raises(InvalidInput, match="below_fraction"):
        exposure(MODEL, RUNNING, np.array([1.0]), clearance=CL, below_fraction=0.0)


def test_exposure_auc_by_day_sums_to_dose_over_clearance_and_steady_states_per_rate() -> None:
    inputs = PkInputs((Infusion(0.0, 168.0, 9 / 24), Infusion(168.0, 672.0, 28 / 24)))

    found = exposure(MODEL, inputs, np.arange(0.0, 720.0), clearance=CL)

    assert len(found.auc_by_day) == 30
    assert found.auc_by_day.sum() == pytest.approx(inputs.total_ug / CL, rel=1e-9)
    assert found.auc_by_day[10] == pytest.approx(28 / CL, rel=1e-9)  # a day at steady state
    assert [s.concentration_pg_per_ml for s in found.steady_states] == [
        pytest.approx(168.919, abs=1e-3),
        pytest.approx(525.526, abs=1e-3),
    ]
    assert found.label == "model-based estimate, not a measured level"


def test_exposure_flush_peak_is_steady_state_plus_dose_over_volume() -> None:
    # 20 mL of a 7-day bag (1.94 ug/mL) into a typical adult: ~13 x Css (pkpd.md §4.5)
    inputs = PkInputs((Infusion(0.0, 300.0, 28 / 24),), (Bolus(200.0, 20 * 1.944),))

    (peak,) = exposure(MODEL, inputs, np.array([200.0]), clearance=CL).flush_peaks

    assert peak.before_pg_per_ml == pytest.approx(525.5, abs=0.1)
    assert peak.peak_pg_per_ml == pytest.approx(525.5 + 38.88 / 5.98 * 1000, abs=0.1)
    assert peak.times_steady_state == pytest.approx(13.4, abs=0.1)


def test_exposure_boluses_at_one_instant_add_up_and_one_in_a_stop_has_no_ratio() -> None:
    inputs = PkInputs(
        (Infusion(0.0, 100.0, 1.0),), (Bolus(150.0, 1.0), Bolus(150.0, 2.0), Bolus(50.0, 1.0))
    )

    first, second = exposure(MODEL, inputs, np.array([0.0]), clearance=CL).flush_peaks

    assert (first.at_h, first.dose_ug) == (50.0, 1.0)
    assert first.times_steady_state is not None
    assert (second.at_h, second.dose_ug, second.times_steady_state) == (150.0, 3.0, None)
    assert second.peak_pg_per_ml - second.before_pg_per_ml == pytest.approx(3 / 5.98 * 1000)


def test_exposure_interruption_counts_time_below_half_until_recovered() -> None:
    (stop, end) = exposure(MODEL, RUNNING, np.array([250.0]), clearance=CL).interruptions
    k = CL / 5.98
    half_life = math.log(2) / k
    # from 10 h of fall (2.4 % of Css left) back up to half of it
    rising = math.log(2 * (1 - math.exp(-10 * k))) / k

    assert (stop.start_h, stop.restart_h) == (100.0, 110.0)
    assert stop.recovered_h == pytest.approx(110.0 + rising, abs=1e-9)
    assert stop.hours_below == pytest.approx(10.0 - half_life + rising, abs=1e-9)
    assert stop.threshold_pg_per_ml == pytest.approx(steady_state_pg_per_ml(28 / 24, CL) / 2)
    assert (end.start_h, end.restart_h, end.recovered_h) == (200.0, None, None)
    assert end.hours_below == pytest.approx(250.0 - 200.0 - half_life)


def test_exposure_restart_at_a_lower_dose_never_recovers_before_the_next_stop() -> None:
    inputs = PkInputs(
        (Infusion(0.0, 100.0, 28 / 24), Infusion(110.0, 200.0, 9 / 24), Infusion(300, 310, 1.0))
    )

    stop = exposure(MODEL, inputs, np.array([320.0]), clearance=CL).interruptions[0]

    assert stop.recovered_h is None
    assert stop.hours_below == pytest.approx(100.0 - math.log(2) * 5.98 / CL)


def _below_on_a_grid(
    model: PkModel, inputs: PkInputs, start: float, end: float, fraction: float
) -> float:
    step = 1e-4
    times = np.arange(start, end, step) + step / 2
    level = solve(model, inputs, CL).concentration(times)[0]
    return float((level < fraction * steady_state_pg_per_ml(28 / 24, CL)).sum() * step)


@pytest.mark.parametrize(("dose", "threshold"), [(1.4, 270.0), (1.3, 262.0)])
def test_exposure_two_compartments_with_a_flush_at_restart_matches_a_fine_grid(
    dose: float, threshold: float
) -> None:
    # after the flush the fast mode falls while the slow one rises: with 1.4 ug a dip
    # below the threshold inside the first interval after the restart, then the
    # crossing up; with 1.3 ug the turn lies before the restart, the rise is monotone
    slow = two_compartment(
        MODEL, intercompartmental_l_per_h=Decimal("3"), peripheral_volume_l=Decimal("20")
    )
    inputs = PkInputs(
        (Infusion(0.0, 300.0, 28 / 24), Infusion(340.0, 600.0, 28 / 24)), (Bolus(340.0, dose),)
    )
    fraction = threshold / steady_state_pg_per_ml(28 / 24, CL)

    found = exposure(slow, inputs, np.array([600.0]), clearance=CL, below_fraction=fraction)
    stop = found.interruptions[0]

    assert stop.recovered_h is not None
    assert 341.0 < stop.recovered_h < 345.0
    assert stop.hours_below == pytest.approx(
        _below_on_a_grid(slow, inputs, 300.0, stop.recovered_h, fraction), abs=2e-3
    )


def test_inputs_rate_at_is_the_rate_running_then() -> None:
    assert RUNNING.rate_at(50.0) == pytest.approx(28 / 24)
    assert RUNNING.rate_at(100.0) == 0.0  # the stop begins at 100
    assert RUNNING.rate_at(110.0) == pytest.approx(28 / 24)


def test_exposure_counts_only_the_stops_the_log_names() -> None:
    found = exposure(MODEL, RUNNING, np.array([250.0]), clearance=CL, interruptions_h=[100.0])

    assert [stop.start_h for stop in found.interruptions] == [100.0]
