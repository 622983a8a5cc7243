"""Virtual populations: the drawn patients, per-patient rates, and percentile bands
(their equality with brute force is a property test in test_pk_properties.py)."""

import math

import numpy as np
import pytest

from blina.domain.errors import InvalidInput
from blina.domain.pk import Infusion, PkInputs, solve
from blina.domain.pk_population import (
    MAX_PATIENTS,
    BsaDistribution,
    bands,
    draw_patients,
    patient_rates,
)
from blina.knowledge import load_knowledge

MODEL = load_knowledge().pk
# Adults around the model's reference BSA (knowledge: pk.toml, reference_bsa_m2).
ADULTS = BsaDistribution(
    median_m2=float(MODEL.reference_bsa_m2), log_sd=0.12, low_m2=1.3, high_m2=2.7
)
FIXED = PkInputs((Infusion(0.0, 168.0, 9 / 24), Infusion(168.0, 672.0, 28 / 24)))
PER_M2 = PkInputs((Infusion(0.0, 48.0, 0.4, 15 / 24, 28 / 24), Infusion(48.0, 60.0, 0.2)))


@pytest.mark.parametrize(
    ("distribution", "field"),
    [
        (BsaDistribution(median_m2=1.0, low_m2=0.0), "bsa_low_m2"),
        (BsaDistribution(median_m2=1.0, low_m2=1.5), "bsa_low_m2"),
        (BsaDistribution(median_m2=1.0, high_m2=0.5), "bsa_high_m2"),
        (BsaDistribution(median_m2=1.0, high_m2=6.0), "bsa_high_m2"),
        (BsaDistribution(median_m2=1.0, log_sd=-0.1), "bsa_log_sd"),
        (BsaDistribution(median_m2=1.0, log_sd=math.nan), "bsa_log_sd"),
        (BsaDistribution.of_sample((1.0, 0.0)), "bsa_sample_m2"),
        (BsaDistribution.of_sample((math.inf,)), "bsa_sample_m2"),
    ],
)
def test_bsa_distribution_out_of_range_names_the_field(
    distribution: BsaDistribution, field: str
) -> None:
    with pytest.raises(InvalidInput) as caught:
        draw_patients(MODEL, count=10, seed=1, bsa=distribution)
    assert caught.value.field == field


def test_draw_patients_same_seed_same_patients_within_the_bounds() -> None:
    first = draw_patients(MODEL, count=5000, seed=11, bsa=ADULTS)
    again = draw_patients(MODEL, count=5000, seed=11, bsa=ADULTS)

    np.testing.assert_array_equal(first.clearance_l_per_h, again.clearance_l_per_h)
    assert first.bsa_m2.min() >= 1.3
    assert first.bsa_m2.max() <= 2.7
    assert np.median(first.bsa_m2) == pytest.approx(1.876, rel=0.02)
    spread = np.log(first.clearance_l_per_h / (2.22 * (first.bsa_m2 / 1.876) ** 0.62))
    assert spread.std() == pytest.approx(0.476, rel=0.05)


def test_draw_patients_from_a_sample_only_uses_its_values() -> None:
    sample = BsaDistribution.of_sample([0.8, 1.2, 1.0])

    drawn = draw_patients(MODEL, count=100, seed=3, bsa=sample)

    assert sample.median_m2 == 1.0
    assert set(drawn.bsa_m2.tolist()) <= {0.8, 1.0, 1.2}


def test_an_empty_bsa_sample_is_refused() -> None:
    with pytest.raises(InvalidInput) as caught:
        BsaDistribution.of_sample(())
    assert caught.value.field == "bsa_sample_m2"


@pytest.mark.parametrize(
    ("count", "seed", "field"),
    [(0, 1, "population"), (MAX_PATIENTS + 1, 1, "population"), (10, -1, "seed")],
)
def test_draw_patients_out_of_range_count_or_seed(count: int, seed: int, field: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        draw_patients(MODEL, count=count, seed=seed, bsa=ADULTS)
    assert caught.value.field == field


def test_patient_rates_per_m2_capped_and_fixed_columns() -> None:
    rates = patient_rates(PER_M2, np.array([0.5, 3.0]))

    assert rates is not None
    np.testing.assert_allclose(rates, [[0.5 * 15 / 24, 0.2], [28 / 24, 0.2]])
    assert patient_rates(FIXED, np.array([1.0])) is None


def test_patient_rates_per_m2_without_a_cap() -> None:
    uncapped = PkInputs((Infusion(0.0, 1.0, 1.0, 2.0),))

    rates = patient_rates(uncapped, np.array([3.0]))

    assert rates is not None
    assert rates.tolist() == [[6.0]]


def test_bands_refuse_a_percentile_outside_0_to_100() -> None:
    with pytest.raises(InvalidInput, match="percentiles"):
        bands(MODEL, FIXED, np.array([1.0]), count=10, seed=1, bsa=ADULTS, percentiles=[101])


def test_bands_fixed_doses_ordered_and_labelled() -> None:
    times = np.arange(0.0, 673.0)

    found = bands(MODEL, FIXED, times, count=20_000, seed=5, bsa=ADULTS)

    assert found.percentiles == (5.0, 25.0, 50.0, 75.0, 95.0)
    assert np.all(np.diff(found.values, axis=0) >= 0)
    assert found.values[2, 600] == pytest.approx(28 / 24 / 2.22 * 1000, rel=0.05)
    assert found.method.startswith("exact: concentration falls as clearance rises")
    assert found.label == "model-based estimate, not measured levels"


def test_bands_one_patient_is_that_patients_curve() -> None:
    patient = draw_patients(MODEL, count=1, seed=2, bsa=ADULTS)
    times = np.array([10.0, 200.0])

    found = bands(MODEL, FIXED, times, count=1, seed=2, bsa=ADULTS, percentiles=[0, 100])

    curve = solve(MODEL, FIXED, patient.clearance_l_per_h).concentration(times)[0]
    np.testing.assert_allclose(found.values, [curve, curve], rtol=1e-14)


def test_bands_per_m2_steps_every_patient_and_reports_progress_in_any_time_order() -> None:
    calls: list[tuple[int, int]] = []
    times = np.array([50.0, 10.0, 70.0, -1.0])

    found = bands(
        MODEL,
        PER_M2,
        times,
        count=50,
        seed=4,
        bsa=ADULTS,
        progress=lambda done, total: calls.append((done, total)),
    )

    assert calls == [(1, 4), (2, 4), (3, 4), (4, 4)]
    assert found.values[:, 3].tolist() == [0.0] * 5
    assert found.values[2, 1] > found.values[2, 2] > 0  # 10 h running > 10 h after the end
    assert "stepped" in found.method
