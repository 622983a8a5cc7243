"""Golden tests: the sanity targets T1-T11 of the PK reference, each with its tolerance.

The targets are the table of pkpd.md §3 (its committed snapshot); each test first checks
that the row still says what is tested here. Virtual cohorts are seeded. Cohort designs
that the reference does not give (T4-T7: weights, BSA from weight) follow the
nlmixr2lib vignette of the same model, which pkpd.md §2.2 and §4.4 cite: log-normal
weights (log-SD 0.35) around the study medians, Livingston-Scott BSA 0.1173 x WT^0.6466.
Three T4-T5 means are beyond the published model: each is noted in knowledge/pk.toml with
its cause and held here to the figure the reference's equations give (``UNMET``).
"""

import math
import re
import statistics

import numpy as np
import pytest
from tests import shared

from blina.domain.pk import (
    Infusion,
    PkInputs,
    PkModel,
    exposure,
    half_life_h,
    individual_clearance,
    solve,
    steady_state_pg_per_ml,
    typical_residual_mean_factor,
)
from blina.knowledge import Knowledge

SNAPSHOT = shared.REFERENCE / "pkpd.md"
TYPICAL_BSA = 1.876
COHORT = 20_000


def _target_row(target: str) -> str:
    text = SNAPSHOT.read_text(encoding="utf-8")
    match = re.search(rf"^\| {target} \|.*$", text, re.M)
    assert match is not None, f"{target} is no longer in the reference's §3 table"
    return match.group(0)


@pytest.fixture(scope="module")
def model(knowledge: Knowledge) -> PkModel:
    return knowledge.pk


def _typical(model: PkModel, bsa: float = TYPICAL_BSA) -> float:
    return float(individual_clearance(model, bsa_m2=bsa))


def _infusion(mcg_per_day: float, hours: float = 672.0) -> PkInputs:
    return PkInputs((Infusion(0.0, hours, mcg_per_day / 24.0),))


@pytest.mark.parametrize(
    ("target", "mcg_per_day", "expected"), [("T1", 28.0, 526.0), ("T2", 9.0, 169.0)]
)
def test_typical_adult_steady_state_within_0_1_percent(
    model: PkModel, target: str, mcg_per_day: float, expected: float
) -> None:
    assert f"{expected:.0f} pg/mL" in _target_row(target)
    clearance = _typical(model)
    simulated = exposure(model, _infusion(mcg_per_day), np.array([671.0]), clearance=clearance)

    assert simulated.concentration_pg_per_ml[0] == pytest.approx(expected, rel=1e-3)
    assert simulated.steady_states[0].concentration_pg_per_ml == pytest.approx(expected, rel=1e-3)


@pytest.mark.parametrize(
    ("bsa", "half_life"), [(0.37, 5.11), (1.31, 2.34), (1.88, 1.86), (2.70, 1.49)]
)
def test_t3_typical_half_life_by_bsa_within_0_02_h(
    model: PkModel, bsa: float, half_life: float
) -> None:
    assert "5.11 / 2.34 / 1.86 / 1.49 h" in _target_row("T3")

    assert half_life_h(model, _typical(model, bsa)) == pytest.approx(half_life, abs=0.02)


# --- T4-T6: mean Css over a population, observed scale --------------------------------


def _weights(rng: np.random.Generator, median: float, low: float, high: float) -> np.ndarray:
    drawn = median * np.exp(0.35 * rng.standard_normal(COHORT * 4))
    return drawn[(drawn >= low) & (drawn <= high)][:COHORT]


def _livingston_scott(weight: np.ndarray) -> np.ndarray:
    return 0.1173 * weight**0.6466


def _observed_mean_css(model: PkModel, group: str, dose: str, seed: int) -> float:
    """Mean Css over a cohort, on the observed scale: the mean of the predictions over
    the variability on clearance, times the residual's mean factor exp(sigma^2/2) for a
    patient of typical residual magnitude (the variability on that magnitude gives the
    observed mean no finite value; ``typical_residual_mean_factor``)."""
    rng = np.random.default_rng(seed)
    if group == ">=45":
        weight = _weights(rng, 71.0, 45.0, 149.0)
    elif dose in ("9", "28"):  # light adults of the fixed-dose studies (39 and 42 kg minimum)
        weight = rng.uniform(39.0, 44.9, COHORT)
    else:  # the pediatric study, median 21 kg
        weight = _weights(rng, 21.0, 7.5, 44.9)
    bsa = _livingston_scott(weight)
    daily = {"9": 9.0, "28": 28.0, "5/m2": 5.0 * bsa, "15/m2": 15.0 * bsa}[dose]
    eta = float(model.clearance_cv) * rng.standard_normal(len(bsa))
    clearance = individual_clearance(model, bsa_m2=bsa, eta=eta)
    css = np.asarray(daily) / 24.0 / clearance * 1000.0
    return float(css.mean()) * typical_residual_mean_factor(model)


T4_T5 = [
    ("T4", ">=45", "9", 229.0, 0.20),
    ("T4", ">=45", "28", 615.0, 0.20),
    ("T4", ">=45", "15/m2", 608.0, 0.20),
    ("T5", "<45", "5/m2", 157.0, 0.25),
    ("T5", "<45", "15/m2", 538.0, 0.25),
]


@pytest.mark.parametrize(
    ("target", "group", "dose", "expected", "tolerance"),
    T4_T5,
    ids=["T4-9mcg", "T4-28mcg", "T4-15mcg-m2", "T5-5mcg-m2", "T5-15mcg-m2"],
)
def test_population_mean_css_within_the_reference_tolerance(
    model: PkModel, target: str, group: str, dose: str, expected: float, tolerance: float
) -> None:
    assert f"{expected:.0f}" in _target_row(target)

    mean = _observed_mean_css(model, group, dose, seed=20200401)

    assert mean == pytest.approx(expected, rel=tolerance)


# --- T4-T5 rows the published model does not meet ----------------------------------------
#
# Three Table 2 means are beyond what Clements' model gives; knowledge/pk.toml notes each
# as a discrepancy with its cause. Here the model is held to the figure the reference's
# own equations give for the same cohort, worked by hand from pkpd.md §2.2 and §4.4 (every
# number below is the reference's, none is read from the model):
#
#   Css = dose/24 / CL x 1000 pg/mL,   CL = 2.22 x (BSA/1.876)^0.620 L/h
#   mean over eta_CL ~ N(0, 0.476^2):  x E[exp(-eta)] = exp(0.476^2/2) = 1.1200
#   observed scale (typical residual): x exp(0.559^2/2) = 1.1691
#   BSA = 0.1173 x WT^0.6466 (the cohorts' formula, module docstring)
#
# T5, light adults (weight uniform on 39-44.9 kg), fixed dose: at 42 kg, the middle, BSA
# 1.315 m2, CL 2.22 x (1.315/1.876)^0.620 = 1.781 L/h (the paper's -20 % at 1.31 m2), so
#   9 mcg/day:  9/24/1.781 x 1000 = 210.5 x 1.1200 x 1.1691 = 275.7 pg/mL (174: +58 %)
#   28 mcg/day: 28/24/1.781 x 1000 = 655.0 x 1.1200 x 1.1691 = 857.7 pg/mL (637: +35 %)
# (the mean over the uniform weights differs from the middle's by 0.1 %).
# T4, adults >= 45 kg (log-normal weight, median 71 kg, log-SD 0.35, kept in 45-149 kg),
# 5 mcg/m2/day: Css = 5 BSA/24 / CL x 1000 = 5/24/2.22 x 1.876^0.62 x 1000 x BSA^0.38
# = 27.72 x 5 x BSA^0.38 pg/mL; at the median adult (BSA 1.846 m2) 175.0 x 1.1200 x 1.1691
# = 229.1 pg/mL, and over the cohort x E[WT^0.2457] / 71^0.2457 = 1.0149 (the moment of a
# truncated log-normal, ``_kept_moment``) = 232.5 pg/mL (191: +22 %).
UNMET = [
    ("T4", ">=45", "5/m2", 191.0, 0.20, 232.5),
    ("T5", "<45", "9", 174.0, 0.25, 275.7),
    ("T5", "<45", "28", 637.0, 0.25, 857.7),
]
UNMET_IDS = ["T4-5mcg-m2", "T5-9mcg-light-adults", "T5-28mcg-light-adults"]
_CASES = {
    ("T4", "5/m2"): "adults >= 45 kg, 5 mcg/m2/day",
    ("T5", "9"): "light adults < 45 kg, 9 mcg/day",
    ("T5", "28"): "light adults < 45 kg, 28 mcg/day",
}


def _kept_moment(median: float, log_sd: float, low: float, high: float, power: float) -> float:
    """E[WT^power] / median^power for WT log-normal (median, log_sd) kept within low..high:
    exp(p^2 s^2/2) (Phi(b - p s) - Phi(a - p s)) / (Phi(b) - Phi(a)), a and b the bounds
    in SDs from the median's log."""
    normal = statistics.NormalDist()
    a, b = (math.log(bound / median) / log_sd for bound in (low, high))
    kept = normal.cdf(b - power * log_sd) - normal.cdf(a - power * log_sd)
    return math.exp((power * log_sd) ** 2 / 2) * kept / (normal.cdf(b) - normal.cdf(a))


def test_the_t4_cohort_moment_is_the_one_worked_above() -> None:
    moment = _kept_moment(71.0, 0.35, 45.0, 149.0, 0.6466 * 0.38)

    assert moment == pytest.approx(1.0149, abs=1e-4)
    assert 229.1 * moment == pytest.approx(232.5, abs=0.05)


@pytest.mark.parametrize(
    ("target", "group", "dose", "reference", "tolerance", "by_hand"), UNMET, ids=UNMET_IDS
)
def test_unmet_rows_give_what_the_reference_equations_give(
    model: PkModel,
    target: str,
    group: str,
    dose: str,
    reference: float,
    tolerance: float,
    by_hand: float,
) -> None:
    assert f"{reference:.0f}" in _target_row(target)

    mean = _observed_mean_css(model, group, dose, seed=20200401)

    assert mean == pytest.approx(by_hand, rel=0.01)  # 20,000 patients: about 0.4 % SE
    assert abs(mean / reference - 1) > tolerance  # still unmet: else it belongs in T4_T5


@pytest.mark.parametrize(
    ("target", "group", "dose", "reference", "tolerance", "by_hand"), UNMET, ids=UNMET_IDS
)
def test_unmet_rows_are_noted_as_discrepancies_in_the_knowledge(
    model: PkModel,
    target: str,
    group: str,
    dose: str,
    reference: float,
    tolerance: float,
    by_hand: float,
) -> None:
    [noted] = [
        d for d in model.discrepancies if (d.target, d.case) == (target, _CASES[target, dose])
    ]

    assert float(noted.reference_pg_per_ml) == reference
    assert float(noted.tolerance) == tolerance
    assert float(noted.model_pg_per_ml) == pytest.approx(by_hand, rel=0.005)
    assert f"{noted.model_pg_per_ml:.0f}" in noted.why
    assert noted.source == "pk-clements-2020-table2"


def test_every_noted_discrepancy_is_one_tested_here(model: PkModel) -> None:
    tested = sorted((target, case) for (target, _), case in _CASES.items())

    assert sorted((d.target, d.case) for d in model.discrepancies) == tested


def test_t4_5_mcg_m2_re_derived_from_the_9_mcg_day_mean_by_linearity(model: PkModel) -> None:
    """T4's 5 mcg/m2/day mean (191) and its 9 mcg/day mean (229) contradict the linearity
    the reference states (§2.1, T9) for one cohort of adults: for one patient the ratio of
    the two is 5 x BSA / 9 whatever the clearance, 0.83 only at a BSA of 1.50 m2. The
    target re-derived from the 9 mcg/day mean at the reference BSA (1.876 m2):
    229 x 5 x 1.876 / 9 = 238.7 pg/mL, with T4's tolerance (20 %)."""
    row = _target_row("T4")
    assert "9 ug/day ~229" in row
    assert "5 ug/m2/day ~191" in row
    rederived = 229.0 * 5.0 * 1.876 / 9.0  # 238.7 pg/mL

    mean = _observed_mean_css(model, ">=45", "5/m2", seed=20200401)

    assert mean == pytest.approx(rederived, rel=0.20)


@pytest.mark.parametrize(("dose", "expected"), [("9", 228.0), ("28", 616.0)])
def test_t6_label_mean_css_within_20_percent(model: PkModel, dose: str, expected: float) -> None:
    assert f"{expected:.0f}" in _target_row("T6")

    assert _observed_mean_css(model, ">=45", dose, seed=20200402) == pytest.approx(
        expected, rel=0.20
    )


def test_t7_weight_bin_median_css_adult_ends_within_15_percent(model: PkModel) -> None:
    row = _target_row("T7")
    assert "484-873" in row
    assert "391-567" in row
    assert "391-603" in row
    rng = np.random.default_rng(20200403)
    medians: dict[str, list[float]] = {"fixed": [], "bsa": [], "label": []}
    for low in range(5, 105, 10):
        weight = rng.uniform(low, low + 10, 1000)  # 1000 patients per bin, as the paper
        bsa = _livingston_scott(weight)
        eta = float(model.clearance_cv) * rng.standard_normal(len(bsa))
        per_mcg = 1000.0 / 24.0 / individual_clearance(model, bsa_m2=bsa, eta=eta)
        medians["fixed"].append(float(np.median(28.0 * per_mcg)))
        medians["bsa"].append(float(np.median(15.0 * bsa * per_mcg)))
        label = np.where(weight < 45, np.minimum(15.0 * bsa, 28.0), 28.0)
        medians["label"].append(float(np.median(label * per_mcg)))

    assert min(medians["fixed"]) == pytest.approx(484.0, rel=0.15)
    assert max(medians["bsa"]) == pytest.approx(567.0, rel=0.15)
    assert max(medians["label"]) == pytest.approx(603.0, rel=0.15)
    assert medians["fixed"] == sorted(medians["fixed"], reverse=True)  # heavier: lower


@pytest.mark.parametrize("bsa", [TYPICAL_BSA, 0.37])
def test_t8_over_95_percent_of_steady_state_within_24_h(model: PkModel, bsa: float) -> None:
    assert "> 95 % within 24 h" in _target_row("T8")
    clearance = _typical(model, bsa)
    simulated = exposure(model, _infusion(28.0), np.array([24.0]), clearance=clearance)

    steady = steady_state_pg_per_ml(28.0 / 24.0, clearance)
    assert simulated.concentration_pg_per_ml[0] > 0.95 * steady


def test_t9_twice_the_dose_gives_exactly_twice_the_concentration(model: PkModel) -> None:
    assert "exact (linear)" in _target_row("T9")
    once = PkInputs((Infusion(0.0, 168.0, 9 / 24), Infusion(168.0, 672.0, 28 / 24)))
    twice = PkInputs((Infusion(0.0, 168.0, 2 * 9 / 24), Infusion(168.0, 672.0, 2 * 28 / 24)))
    times = np.linspace(0.0, 700.0, 1401)
    clearance = _typical(model)

    single = solve(model, once, clearance).concentration(times)
    double = solve(model, twice, clearance).concentration(times)

    np.testing.assert_array_equal(double, 2 * single)


def test_t10_integral_of_concentration_is_total_dose_over_clearance(model: PkModel) -> None:
    assert "1e-9 rel" in _target_row("T10")
    course = PkInputs(
        (Infusion(0.0, 168.0, 9 / 24), Infusion(168.0, 300.0, 28 / 24), Infusion(310, 672, 28 / 24))
    )
    clearance = _typical(model)

    area = solve(model, course, clearance).auc(np.array([672.0 + 400.0]))[0, 0]

    assert area == pytest.approx(course.total_ug / clearance, rel=1e-9)


def test_t11_below_5_percent_of_steady_state_8_to_9_h_after_stop(model: PkModel) -> None:
    assert "< 5 % of Css ~8-9 h after stop" in _target_row("T11")
    clearance = _typical(model)
    stop = 672.0
    simulated = exposure(
        model, _infusion(28.0, stop), np.array([stop + 8.0, stop + 9.0]), clearance=clearance
    )
    steady = steady_state_pg_per_ml(28.0 / 24.0, clearance)

    at_8, at_9 = simulated.concentration_pg_per_ml
    assert at_8 >= 0.05 * steady > at_9
    assert 8.0 < math.log(20.0) * float(model.volume_l) / clearance < 9.0
