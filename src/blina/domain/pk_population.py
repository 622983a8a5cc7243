"""Virtual populations: percentile bands of estimated concentration over time.

N patients are drawn (seeded) from a body-size distribution the caller gives and from
the model's variability on clearance (pkpd.md §4.4); each gets the course's input (a
dose per m2 scaled to the patient's BSA and capped). The answer is the exact
percentiles across patients at each output time, computed without ever holding an
N x T array:

- **Same input for everyone** (fixed doses; the label's dosing from 45 kg): each
  patient's concentration at every instant is a non-increasing function of clearance.
  Every input term, R/CL (1 - e^{-kT}) e^{-ks} or D/V e^{-ks}, falls as CL rises (V is
  the same for all), and for two compartments a larger elimination lowers every
  amount (the comparison principle for linear systems with non-negative coupling). So
  the p-th percentile of concentration is the concentration of the patient at the
  (100 - p)-th percentile of clearance, exactly (order statistics commute with a
  monotone map; numpy's linear interpolation between neighbours too). One selection
  over N clearances, then a handful of patients solved: a million patients take
  milliseconds, in O(N) memory.
- **Input that differs by patient** (a dose per m2): the states of all N patients are
  stepped through time together (O(N x modes) memory) and the percentiles taken at
  each output time by selection (``numpy.partition``); exact, slower (about 0.1 s per
  output time for a million patients), with ``progress`` called as it goes.
"""

import math
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from blina.domain.errors import InvalidInput
from blina.domain.pk import (
    PG_PER_ML_PER_UG_PER_L,
    Floats,
    PkInputs,
    PkModel,
    check_inputs,
    individual_clearance,
    modes,
    solve,
)

__all__ = [
    "DEFAULT_PERCENTILES",
    "MAX_PATIENTS",
    "Bands",
    "BsaDistribution",
    "VirtualPatients",
    "bands",
    "draw_patients",
    "patient_rates",
]

DEFAULT_PERCENTILES = (5.0, 25.0, 50.0, 75.0, 95.0)
# Memory stays O(N): 10 million patients are a few hundred MB of vectors.
MAX_PATIENTS = 10_000_000

Progress = Callable[[int, int], None]


@dataclass(frozen=True, slots=True)
class BsaDistribution:
    """Body surface area of the virtual patients: log-normal with ``median_m2`` and
    ``log_sd`` (0: everyone the median), kept within ``low_m2``..``high_m2`` by drawing
    again; or, when ``sample_m2`` is given, drawn from those values with replacement
    (for instance the BSAs of a clinic's patients, from their weights and heights; made
    by ``of_sample``, whose median is the sample's).

    The median has no default: the caller gives its patients' (the model's reference
    BSA is ``PkModel.reference_bsa_m2``, from the knowledge).
    """

    median_m2: float
    log_sd: float = 0.0
    low_m2: float = 0.1
    high_m2: float = 4.0
    sample_m2: tuple[float, ...] = ()

    @classmethod
    def of_sample(cls, sample_m2: Sequence[float]) -> "BsaDistribution":
        """Draws from ``sample_m2`` with replacement; its median is the sample's."""
        values = tuple(float(v) for v in sample_m2)
        if not values:
            raise InvalidInput("bsa_sample_m2", "(none)", "at least one BSA")
        return cls(median_m2=statistics.median(values), sample_m2=values)

    def check(self) -> None:
        if self.sample_m2:
            bad = [v for v in self.sample_m2 if not (math.isfinite(v) and 0 < v <= 5)]
            if bad:
                raise InvalidInput("bsa_sample_m2", bad[0], "> 0 and <= 5 m2")
            return
        if not (math.isfinite(self.low_m2) and 0 < self.low_m2 <= self.median_m2):
            raise InvalidInput("bsa_low_m2", self.low_m2, f"> 0 and <= the median {self.median_m2}")
        if not (math.isfinite(self.high_m2) and self.median_m2 <= self.high_m2 <= 5):
            raise InvalidInput("bsa_high_m2", self.high_m2, ">= the median and <= 5 m2")
        if not (math.isfinite(self.log_sd) and 0 <= self.log_sd <= 1):
            raise InvalidInput("bsa_log_sd", self.log_sd, ">= 0 and <= 1")

    def draw(self, rng: np.random.Generator, count: int) -> Floats:
        if self.sample_m2:
            return np.asarray(rng.choice(np.array(self.sample_m2), size=count), dtype=np.float64)
        values = np.empty(count, dtype=np.float64)
        filled = 0
        while filled < count:
            wanted = count - filled
            drawn = self.median_m2 * np.exp(self.log_sd * rng.standard_normal(wanted + 16))
            kept = drawn[(drawn >= self.low_m2) & (drawn <= self.high_m2)][:wanted]
            values[filled : filled + len(kept)] = kept
            filled += len(kept)
        return values


@dataclass(frozen=True)
class VirtualPatients:
    """Each patient's BSA (m2) and clearance (L/h)."""

    bsa_m2: Floats
    clearance_l_per_h: Floats


def draw_patients(
    model: PkModel, *, count: int, seed: int, bsa: BsaDistribution
) -> VirtualPatients:
    """``count`` patients, the same for the same seed: BSA from ``bsa``, then
    CL = CL_typ(BSA) x exp(eta), eta ~ N(0, omega^2) (source ``pk-clements-2020-variability``)."""
    if not 1 <= count <= MAX_PATIENTS:
        raise InvalidInput("population", count, f">= 1 and <= {MAX_PATIENTS:,}")
    if not 0 <= seed < 2**63:
        raise InvalidInput("seed", seed, ">= 0 and < 2^63")
    bsa.check()
    rng = np.random.default_rng(seed)
    body = bsa.draw(rng, count)
    eta = float(model.clearance_cv) * rng.standard_normal(count)
    return VirtualPatients(body, individual_clearance(model, bsa_m2=body, eta=eta))


def patient_rates(inputs: PkInputs, bsa_m2: Floats) -> Floats | None:
    """Each patient's rate for each infusion, (n, infusions): min(per m2 x BSA, cap) for
    a dose per m2, the infusion's rate otherwise; None when every rate is fixed."""
    if all(i.per_m2_ug_per_h is None for i in inputs.infusions):
        return None
    body = np.asarray(bsa_m2, dtype=np.float64).reshape(-1, 1)
    columns = []
    for infusion in inputs.infusions:
        if infusion.per_m2_ug_per_h is None:
            columns.append(np.full_like(body, infusion.rate_ug_per_h))
            continue
        rate = infusion.per_m2_ug_per_h * body
        cap = infusion.cap_ug_per_h
        columns.append(rate if cap is None else np.minimum(rate, cap))
    return np.concatenate(columns, axis=1)


@dataclass(frozen=True)
class Bands:
    """Percentiles of estimated concentration (pg/mL) across ``count`` virtual patients:
    ``values[i, t]`` is percentile ``percentiles[i]`` at ``times_h[t]``. ``method`` says
    how they were computed (both exact). A model-based estimate, not measured levels."""

    times_h: Floats
    percentiles: tuple[float, ...]
    values: Floats
    count: int
    seed: int
    method: str
    label: str = "model-based estimate, not measured levels"


def bands(
    model: PkModel,
    inputs: PkInputs,
    times_h: Floats,
    *,
    count: int,
    seed: int,
    bsa: BsaDistribution,
    percentiles: Sequence[float] = DEFAULT_PERCENTILES,
    progress: Progress | None = None,
) -> Bands:
    """Percentile bands of concentration over ``times_h`` for ``count`` virtual patients.

    See the module docstring for the two exact methods; ``progress(done, total)`` is
    called while the stepped method runs.
    """
    check_inputs(inputs)
    wanted = tuple(float(p) for p in percentiles)
    for p in wanted:
        if not 0 <= p <= 100:
            raise InvalidInput("percentiles", p, ">= 0 and <= 100")
    times = np.asarray(times_h, dtype=np.float64)
    patients = draw_patients(model, count=count, seed=seed, bsa=bsa)
    rates = patient_rates(inputs, patients.bsa_m2)
    if rates is None:
        values = _by_monotone_clearance(model, inputs, times, patients.clearance_l_per_h, wanted)
        method = "exact: concentration falls as clearance rises, one patient per percentile"
    else:
        values = _stepped(model, inputs, times, patients.clearance_l_per_h, rates, wanted, progress)
        method = "exact: every patient stepped through time, percentiles by selection"
    return Bands(times, wanted, values, count, seed, method)


def _positions(count: int, percentiles: tuple[float, ...]) -> list[tuple[int, int, float]]:
    """numpy's "linear" percentile: the order statistics below and above and the weight."""
    found = []
    for p in percentiles:
        position = p / 100.0 * (count - 1)
        low = math.floor(position)
        found.append((low, min(low + 1, count - 1), position - low))
    return found


def _lerp(low: Floats, high: Floats, weight: float) -> Floats:
    """numpy's interpolation between neighbours (the same arithmetic, so the same digits)."""
    step = high - low
    if weight >= 0.5:
        return high - step * (1 - weight)
    return low + step * weight


def _by_monotone_clearance(
    model: PkModel,
    inputs: PkInputs,
    times: Floats,
    clearance: Floats,
    percentiles: tuple[float, ...],
) -> Floats:
    count = len(clearance)
    positions = _positions(count, percentiles)
    # the k-th smallest concentration belongs to the k-th largest clearance
    ranks = sorted({count - 1 - r for low, high, _ in positions for r in (low, high)})
    chosen = np.partition(clearance, ranks)[ranks]
    curves = solve(model, inputs, chosen).concentration(times)
    row = {rank: index for index, rank in enumerate(ranks)}
    return np.stack(
        [
            _lerp(curves[row[count - 1 - low]], curves[row[count - 1 - high]], weight)
            for low, high, weight in positions
        ]
    )


def _stepped(
    model: PkModel,
    inputs: PkInputs,
    times: Floats,
    clearance: Floats,
    rates: Floats,
    percentiles: tuple[float, ...],
    progress: Progress | None,
) -> Floats:
    """All patients' mode states stepped together through every breakpoint and output
    time, in time order; percentiles by selection at each output time."""
    lam, alpha = modes(model, clearance)
    count = len(clearance)
    order = np.argsort(times, kind="stable")
    schedule = _schedule(inputs)
    positions = _positions(count, percentiles)
    kth = sorted({r for low, high, _ in positions for r in (low, high)})
    values = np.empty((len(percentiles), len(times)), dtype=np.float64)
    state = np.zeros_like(lam)
    clock = -math.inf
    rate = np.zeros((count, 1), dtype=np.float64)
    cursor = 0
    for done, column in enumerate(order, start=1):
        target = times[column]
        # every breakpoint at or before the target: step to it, apply its change
        while cursor < len(schedule) and schedule[cursor][0] <= target:
            at, running, push = schedule[cursor]
            if math.isfinite(clock):
                state = _advance(state, lam, rate, at - clock)
            state = state + push
            rate = rates[:, running].sum(axis=1, keepdims=True)
            clock = at
            cursor += 1
        if math.isfinite(clock) and target > clock:
            state = _advance(state, lam, rate, target - clock)
            clock = target
        level = (alpha * state).sum(axis=1) * PG_PER_ML_PER_UG_PER_L
        picked = np.partition(level, kth)
        for index, (low, high, weight) in enumerate(positions):
            values[index, column] = _lerp(picked[low : low + 1], picked[high : high + 1], weight)[0]
        if progress is not None:
            progress(done, len(times))
    return values


def _advance(state: Floats, lam: Floats, rate: Floats, width: float) -> Floats:
    grown = -np.expm1(-lam * width)
    return state + (rate / lam - state) * grown


def _schedule(inputs: PkInputs) -> list[tuple[float, list[int], float]]:
    """(time, the infusions running from then on, the bolus pushed then), in order."""
    moments = sorted(
        {i.start_h for i in inputs.infusions if i.end_h > i.start_h}
        | {i.end_h for i in inputs.infusions if i.end_h > i.start_h}
        | {b.at_h for b in inputs.boluses}
    )
    schedule = []
    for at in moments:
        running = [index for index, i in enumerate(inputs.infusions) if i.start_h <= at < i.end_h]
        push = sum(b.dose_ug for b in inputs.boluses if b.at_h == at)
        schedule.append((at, running, push))
    return schedule
