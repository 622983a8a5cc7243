"""Exposure: blinatumomab concentration over time, as a model-based estimate.

The model is the published population PK model (Clements 2020, ``knowledge/pk.toml``):
one compartment, zero-order input (the infusion), first-order elimination, clearance
scaled by body surface area, variability between patients on clearance, and a
log-scale residual error. A two-compartment path exists for generality; with no
transfer clearance (the default) it is the one-compartment model. Nothing here is a
measured level: every number is what the model expects.

Why floats here when blina keeps clinical quantities as ``Decimal``: this is numerical
simulation (exponentials over thousands of time points and a million patients), not a
dose anyone prepares. The model's parameters stay ``Decimal`` as the knowledge gives them
and become floats only inside the computation; the results are estimates.

The input is piecewise constant: infusion segments ``(start, end, rate)`` plus boluses
(a flushed line pushes its content in at once; reference pkpd.md §4.1, §4.5). The
solution is exact: each mode of the linear system (one for one compartment, two for two)
is stepped from breakpoint to breakpoint with the closed form of pkpd.md §4.2-4.3, and
any output time is evaluated from the breakpoint before it, so the cost is one step per
breakpoint plus a few vector operations over the output grid, vectorised over patients.
Units inside: hours, micrograms, litres (ug/L); concentrations out in pg/mL (= ng/L).

A little over 600 lines on purpose: the model, its exact solution and one patient's
summaries read the same breakpoints and states; the course's inputs (``pk_course``) and
virtual populations (``pk_population``) live beside it.
"""

import itertools
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from functools import cached_property
from types import MappingProxyType

import numpy as np
import numpy.typing as npt

from blina.domain.errors import InvalidInput

__all__ = [
    "PG_PER_ML_PER_UG_PER_L",
    "Bolus",
    "Exposure",
    "FlushPeak",
    "Infusion",
    "InterruptionExposure",
    "PkDiscrepancy",
    "PkInputs",
    "PkModel",
    "Solution",
    "SteadyState",
    "check_inputs",
    "exposure",
    "half_life_h",
    "individual_clearance",
    "modes",
    "observe",
    "solve",
    "steady_state_pg_per_ml",
    "two_compartment",
    "typical_residual_mean_factor",
]

Floats = npt.NDArray[np.float64]

PG_PER_ML_PER_UG_PER_L = 1000.0
_DAY_H = 24.0


@dataclass(frozen=True, slots=True)
class PkDiscrepancy:
    """A sanity target of the reference (pkpd.md §3) that the model does not meet within
    the target's tolerance: what the reference says, what the model gives, and why."""

    target: str
    case: str
    reference_pg_per_ml: Decimal
    tolerance: Decimal
    model_pg_per_ml: Decimal
    why: str
    source: str


@dataclass(frozen=True, slots=True)
class PkModel:
    """A population PK model, each parameter with the source id it comes from.

    ``clearance_cv`` and ``residual_magnitude_cv`` are the SDs of log-scale random
    effects; ``residual_log_sd`` the SD of the log-scale residual. With
    ``intercompartmental_l_per_h`` zero the model has one compartment and
    ``peripheral_volume_l`` is not used (None: NOT RETRIEVED for blinatumomab).
    ``discrepancies``: where the model and the reference's sanity targets part.
    """

    id: str
    name: str
    structure: str
    clearance_l_per_h: Decimal
    reference_bsa_m2: Decimal
    bsa_exponent: Decimal
    volume_l: Decimal
    clearance_cv: Decimal
    residual_log_sd: Decimal
    residual_magnitude_cv: Decimal
    sources: Mapping[str, str]
    intercompartmental_l_per_h: Decimal = Decimal(0)
    peripheral_volume_l: Decimal | None = None
    discrepancies: tuple[PkDiscrepancy, ...] = ()

    @property
    def compartments(self) -> int:
        return 1 if self.intercompartmental_l_per_h == 0 else 2


def two_compartment(
    model: PkModel, *, intercompartmental_l_per_h: Decimal, peripheral_volume_l: Decimal
) -> PkModel:
    """``model`` with a peripheral compartment (pkpd.md §4.3). No published blinatumomab
    model has one: the values are the caller's, for sensitivity runs or other drugs."""
    if not intercompartmental_l_per_h.is_finite() or intercompartmental_l_per_h < 0:
        raise InvalidInput("intercompartmental_l_per_h", intercompartmental_l_per_h, ">= 0 L/h")
    if not peripheral_volume_l.is_finite() or peripheral_volume_l <= 0:
        raise InvalidInput("peripheral_volume_l", peripheral_volume_l, "> 0 L")
    sources = {**model.sources, "peripheral": "caller"}
    return replace(
        model,
        intercompartmental_l_per_h=intercompartmental_l_per_h,
        peripheral_volume_l=peripheral_volume_l,
        sources=MappingProxyType(sources),
    )


@dataclass(frozen=True, slots=True)
class Infusion:
    """A constant infusion from ``start_h`` to ``end_h`` at ``rate_ug_per_h``.

    ``per_m2_ug_per_h`` (with ``cap_ug_per_h``) says the dose is per m2 of BSA: a
    virtual patient of another size gets ``min(per_m2 x BSA, cap)``; None: a fixed dose.
    """

    start_h: float
    end_h: float
    rate_ug_per_h: float
    per_m2_ug_per_h: float | None = None
    cap_ug_per_h: float | None = None


@dataclass(frozen=True, slots=True)
class Bolus:
    """An amount pushed in at once (a flushed line: its volume x the bag's concentration)."""

    at_h: float
    dose_ug: float


@dataclass(frozen=True)
class PkInputs:
    """What enters the patient, in hours from an origin (the caller's: the first infusion)."""

    infusions: tuple[Infusion, ...]
    boluses: tuple[Bolus, ...] = ()

    @cached_property
    def columns(self) -> tuple[Floats, Floats, Floats]:
        """The infusions' starts, ends and rates as arrays (read once: a course has
        hundreds of bags)."""
        return (
            np.array([i.start_h for i in self.infusions], dtype=np.float64),
            np.array([i.end_h for i in self.infusions], dtype=np.float64),
            np.array([i.rate_ug_per_h for i in self.infusions], dtype=np.float64),
        )

    @property
    def end_h(self) -> float:
        """The last moment anything enters."""
        ends = [i.end_h for i in self.infusions] + [b.at_h for b in self.boluses]
        return max(ends, default=0.0)

    def rate_at(self, at_h: float) -> float:
        """The infusion rate running at ``at_h`` (ug/h; the rate starting there at a change)."""
        return sum(i.rate_ug_per_h for i in self.infusions if i.start_h <= at_h < i.end_h)

    @property
    def total_ug(self) -> float:
        return sum((i.end_h - i.start_h) * i.rate_ug_per_h for i in self.infusions) + sum(
            b.dose_ug for b in self.boluses
        )


def check_inputs(inputs: PkInputs) -> None:
    """Refuse what no pump delivers: a negative or infinite rate, an infusion that ends
    before it starts, a negative bolus, a time that is not a finite number. (Checked
    over arrays: a course has hundreds of bags; the first bad one is named.)"""
    starts, ends, rates = inputs.columns
    bad = ~(np.isfinite(starts) & np.isfinite(ends) & (ends >= starts))
    bad |= ~(np.isfinite(rates) & (rates >= 0))
    for index in np.flatnonzero(bad)[:1]:
        infusion = inputs.infusions[index]
        where = f"infusions[{index}]"
        if not (math.isfinite(infusion.start_h) and math.isfinite(infusion.end_h)):
            raise InvalidInput(f"{where}.start_h", infusion.start_h, "finite hours")
        if infusion.end_h < infusion.start_h:
            raise InvalidInput(f"{where}.end_h", infusion.end_h, f">= {infusion.start_h}")
        raise InvalidInput(f"{where}.rate_ug_per_h", infusion.rate_ug_per_h, ">= 0")
    for index, bolus in enumerate(inputs.boluses):
        if not math.isfinite(bolus.at_h):
            raise InvalidInput(f"boluses[{index}].at_h", bolus.at_h, "finite hours")
        if not (math.isfinite(bolus.dose_ug) and bolus.dose_ug >= 0):
            raise InvalidInput(f"boluses[{index}].dose_ug", bolus.dose_ug, ">= 0")


# --- the model's parameters for one patient ----------------------------------------------


def individual_clearance(
    model: PkModel, *, bsa_m2: float | Floats, eta: float | Floats = 0.0
) -> Floats:
    """CL_i = CL x (BSA/BSA_ref)^theta x exp(eta), in L/h (pkpd.md §4.4; source
    ``pk-clements-2020-table3``). ``eta`` 0 is the typical patient of that size."""
    ratio = np.asarray(bsa_m2, dtype=np.float64) / float(model.reference_bsa_m2)
    typical = float(model.clearance_l_per_h) * ratio ** float(model.bsa_exponent)
    return np.asarray(typical * np.exp(eta), dtype=np.float64)


def modes(model: PkModel, clearance: Floats) -> tuple[Floats, Floats]:
    """The rates ``lam`` and weights ``alpha`` (1/L) of the model's modes, shape (n, m).

    Concentration is ``sum(alpha_i * y_i)`` where each ``y_i' = -lam_i y_i + input``:
    one mode (CL/V, 1/V) for one compartment; two for two (pkpd.md §4.3, with the small
    rate computed without cancellation).
    """
    cl = np.asarray(clearance, dtype=np.float64).reshape(-1, 1)
    v1 = float(model.volume_l)
    if model.compartments == 1:
        return cl / v1, np.full_like(cl, 1.0 / v1)
    assert model.peripheral_volume_l is not None
    k10 = cl / v1
    k12 = float(model.intercompartmental_l_per_h) / v1
    k21 = float(model.intercompartmental_l_per_h) / float(model.peripheral_volume_l)
    total = k10 + k12 + k21
    root = np.sqrt(total * total - 4.0 * k10 * k21)
    fast = (total + root) / 2.0
    slow = 2.0 * k10 * k21 / (total + root)
    gap = fast - slow
    lam = np.concatenate([slow, fast], axis=1)
    alpha = np.concatenate([(k21 - slow) / (v1 * gap), (fast - k21) / (v1 * gap)], axis=1)
    return lam, alpha


def half_life_h(model: PkModel, clearance: float) -> float:
    """The terminal half-life, ln 2 / the slowest rate (ln 2 V/CL for one compartment)."""
    lam, _ = modes(model, np.array([clearance]))
    return math.log(2.0) / float(lam.min())


def steady_state_pg_per_ml(rate_ug_per_h: float, clearance: float) -> float:
    """Css = R/CL (pkpd.md §4.2), in pg/mL: where a constant infusion levels off."""
    return rate_ug_per_h / clearance * PG_PER_ML_PER_UG_PER_L


def typical_residual_mean_factor(model: PkModel) -> float:
    """How much higher the mean of observed concentrations is than the prediction for a
    patient of typical residual magnitude: E[exp(eps)] = exp(sigma^2 / 2).

    The variability on the residual's magnitude gives the mean over all patients no
    finite value (exp of a log-normal variance), so this is the typical patient's.
    """
    return math.exp(float(model.residual_log_sd) ** 2 / 2.0)


def observe(model: PkModel, predicted: Floats, rng: np.random.Generator) -> Floats:
    """Simulated measurements of ``predicted`` (rows are patients, columns samples) with
    the model's residual error: C x exp(eps), eps ~ N(0, (sigma exp(eta_eps))^2), one
    eta_eps per patient (pkpd.md §4.4; source ``pk-clements-2020-residual``)."""
    values = np.atleast_2d(np.asarray(predicted, dtype=np.float64))
    magnitude = float(model.residual_log_sd) * np.exp(
        rng.normal(0.0, float(model.residual_magnitude_cv), size=(values.shape[0], 1))
    )
    return values * np.exp(magnitude * rng.standard_normal(values.shape))


# --- the exact solution ------------------------------------------------------------------


@dataclass(frozen=True)
class Solution:
    """The exact solution for ``n`` patients: each mode's state just after every
    breakpoint (an infusion change or a bolus) and its integral up to there.

    ``breaks`` (M,) sorted; ``rates`` (n, M) the input rate from each breakpoint to the
    next (zero after the last); ``pushes`` (M,) the boluses at each; ``states`` and
    ``integrals`` (n, m, M); ``lam``, ``alpha`` (n, m).
    """

    breaks: Floats
    rates: Floats
    pushes: Floats
    states: Floats
    integrals: Floats
    lam: Floats
    alpha: Floats
    clearance: Floats

    def _at(self, times_h: Floats) -> tuple[Floats, Floats, Floats, Floats, Floats]:
        """Each mode's state, integral and rate at the breakpoint before each time (zero
        before the first: column 0 of the padded arrays), the growth since and the time."""
        times = np.asarray(times_h, dtype=np.float64)
        index = np.searchsorted(self.breaks, times, side="right")
        elapsed = times - self.breaks[np.maximum(index - 1, 0)]
        elapsed[index == 0] = 0.0
        n, m, _ = self.states.shape
        rate = np.concatenate([np.zeros((n, 1)), self.rates], axis=1)[:, None, index]
        state = np.concatenate([np.zeros((n, m, 1)), self.states], axis=2)[:, :, index]
        integral = np.concatenate([np.zeros((n, m, 1)), self.integrals], axis=2)[:, :, index]
        grown = -np.expm1(-self.lam[:, :, None] * elapsed)  # 1 - exp(-lam s)
        return state, integral, rate, grown, elapsed

    def concentration(self, times_h: Floats) -> Floats:
        """Concentration (pg/mL) at each time, shape (n, T); right-continuous at a bolus."""
        state, _, rate, grown, _ = self._at(times_h)
        lam = self.lam[:, :, None]
        level = state + (rate / lam - state) * grown
        return _weighted(self.alpha, level) * PG_PER_ML_PER_UG_PER_L

    def auc(self, times_h: Floats) -> Floats:
        """The integral of concentration from the first input to each time, in h x ug/L
        (exact: the integral of each mode's closed form), shape (n, T)."""
        state, integral, rate, grown, elapsed = self._at(times_h)
        lam = self.lam[:, :, None]
        steady = rate / lam
        part = steady * elapsed + (state - steady) * grown / lam
        return _weighted(self.alpha, integral + part)

    def amount_ug(self, times_h: Floats) -> Floats:
        """Drug in the body (all compartments) at each time, in ug, shape (n, T): what has
        gone in and not yet been cleared (each mode weighs CL x alpha / lam)."""
        state, _, rate, grown, _ = self._at(times_h)
        lam = self.lam[:, :, None]
        level = state + (rate / lam - state) * grown
        weight = self.clearance.reshape(-1, 1) * self.alpha / self.lam
        return _weighted(weight, level)


def _weighted(weights: Floats, levels: Floats) -> Floats:
    """Sum over modes: (n, m) weights times (n, m, T) levels -> (n, T)."""
    total: Floats = (weights[:, :, None] * levels).sum(axis=1)
    return total


def solve(
    model: PkModel,
    inputs: PkInputs,
    clearance: float | Floats,
    *,
    rates: Floats | None = None,
) -> Solution:
    """The exact solution of ``model`` for ``inputs``, one row per clearance value.

    ``rates`` (n, number of infusions) replaces each infusion's rate per patient (a
    dose per m2 differs with BSA); by default every patient gets ``rate_ug_per_h``.
    Breakpoints where nothing changes (a bag change at the same dose) are dropped
    first: they are invisible to the model (pkpd.md §4.1).
    """
    check_inputs(inputs)
    cl = np.atleast_1d(np.asarray(clearance, dtype=np.float64))
    if not (np.all(np.isfinite(cl)) and np.all(cl > 0)):
        raise InvalidInput("clearance_l_per_h", cl.min(), "> 0 and finite")
    lam, alpha = modes(model, cl)
    n = len(cl)
    starts, ends, given = inputs.columns
    running = np.flatnonzero(ends > starts)
    at = np.array([b.at_h for b in inputs.boluses], dtype=np.float64)
    moments = np.concatenate([starts[running], ends[running], at])
    # nothing enters: one breakpoint with nothing at it
    breaks = np.unique(moments) if len(moments) else np.zeros(1, dtype=np.float64)
    per_patient = np.broadcast_to(
        given[None, :] if rates is None else np.asarray(rates, dtype=np.float64),
        (n, len(inputs.infusions)),
    )
    step_rates = np.zeros((n, len(breaks)), dtype=np.float64)
    order = running[np.argsort(starts[running], kind="stable")]
    if not len(order):
        pass  # nothing infused: boluses alone
    elif np.all(starts[order][1:] >= ends[order][:-1]):  # one bag at a time: each its own
        owner = np.searchsorted(starts[order], breaks, side="right") - 1
        inside = (owner >= 0) & (breaks < ends[order][np.maximum(owner, 0)])
        step_rates[:, inside] = per_patient[:, order[owner[inside]]]
    else:  # infusions at the same time add up
        first = np.searchsorted(breaks, starts)
        last = np.searchsorted(breaks, ends)
        for column in running:
            step_rates[:, first[column] : last[column]] += per_patient[:, column : column + 1]
    pushes = np.zeros(len(breaks), dtype=np.float64)
    np.add.at(pushes, np.searchsorted(breaks, at), [b.dose_ug for b in inputs.boluses])
    keep = np.ones(len(breaks), dtype=bool)
    keep[1:] = (step_rates[:, 1:] != step_rates[:, :-1]).any(axis=0) | (pushes[1:] != 0)
    breaks, step_rates, pushes = breaks[keep], step_rates[:, keep], pushes[keep]
    states, integrals = _step(lam, breaks, step_rates, pushes)
    return Solution(breaks, step_rates, pushes, states, integrals, lam, alpha, cl)


def _step(lam: Floats, breaks: Floats, step_rates: Floats, pushes: Floats) -> tuple[Floats, Floats]:
    """Each mode's state just after every breakpoint, y' = y e^(-lam w) + R/lam (1 -
    e^(-lam w)) + push (pkpd.md §4.2), and its integral up to there: over each interval,
    the input less what the state gained, over lam (the mode's own mass balance)."""
    n, m = lam.shape
    widths = np.diff(breaks)  # (M-1,)
    rate = step_rates[:, None, :-1]  # (n, 1, M-1)
    exponent = -lam[:, :, None] * widths  # (n, m, M-1)
    gain = rate / lam[:, :, None] * -np.expm1(exponent) + pushes[1:]
    # the recurrence runs over breakpoints; each step is a vector over patients and modes
    decay = np.exp(exponent).reshape(n * m, -1).T.copy()
    gain = gain.reshape(n * m, -1).T.copy()
    flat = np.empty((len(breaks), n * m), dtype=np.float64)
    flat[0] = pushes[0]
    for j in range(len(breaks) - 1):
        np.multiply(flat[j], decay[j], out=flat[j + 1])
        flat[j + 1] += gain[j]
    states = np.ascontiguousarray(flat.T.reshape(n, m, -1))
    gained = states[:, :, 1:] - pushes[1:] - states[:, :, :-1]
    integrals = np.zeros_like(states)
    np.cumsum((rate * widths - gained) / lam[:, :, None], axis=2, out=integrals[:, :, 1:])
    return states, integrals


# --- one patient's exposure, summarised ----------------------------------------------------


@dataclass(frozen=True, slots=True)
class SteadyState:
    """Where an infusion rate levels off for this patient (Css = R/CL)."""

    rate_ug_per_h: float
    concentration_pg_per_ml: float


@dataclass(frozen=True, slots=True)
class FlushPeak:
    """A bolus: the concentration just before and just after it (its peak: after it the
    bolus's part only decays), and that peak over the steady state of the rate running."""

    at_h: float
    dose_ug: float
    before_pg_per_ml: float
    peak_pg_per_ml: float
    times_steady_state: float | None


@dataclass(frozen=True, slots=True)
class InterruptionExposure:
    """A stop in the infusion from ``start_h`` to ``restart_h`` (None: never restarted).

    ``hours_below`` is how long the concentration stayed under ``fraction`` of the
    steady state of the rate before the stop, from the stop until it first reached that
    level again after the restart (``recovered_h``; None if it did not before the next
    stop or the end of the simulation).
    """

    start_h: float
    restart_h: float | None
    fraction: float
    threshold_pg_per_ml: float
    hours_below: float
    recovered_h: float | None


@dataclass(frozen=True)
class Exposure:
    """One patient's estimated exposure: concentration on ``times_h`` (pg/mL), the AUC of
    each 24-h day from the origin (h x ug/L), steady states, flush peaks, interruptions.
    A model-based estimate, never a measured level."""

    model_id: str
    clearance_l_per_h: float
    times_h: Floats
    concentration_pg_per_ml: Floats
    auc_by_day: Floats
    steady_states: tuple[SteadyState, ...]
    flush_peaks: tuple[FlushPeak, ...]
    interruptions: tuple[InterruptionExposure, ...]
    label: str = "model-based estimate, not a measured level"


def exposure(
    model: PkModel,
    inputs: PkInputs,
    times_h: Floats,
    *,
    clearance: float,
    below_fraction: float = 0.5,
    interruptions_h: Sequence[float] | None = None,
) -> Exposure:
    """One patient's exposure to ``inputs`` at ``clearance`` (``individual_clearance``).

    ``below_fraction`` is the share of steady state that an interruption's
    ``hours_below`` counts under (0 < f <= 1). ``interruptions_h`` are the moments the
    course's log says the infusion was interrupted (the end of a cycle is no
    interruption); None counts every stop of a running infusion.
    """
    if not 0 < below_fraction <= 1:
        raise InvalidInput("below_fraction", below_fraction, "> 0 and <= 1")
    solution = solve(model, inputs, clearance)
    times = np.asarray(times_h, dtype=np.float64)
    horizon = max(inputs.end_h, float(times.max(initial=0.0)))
    days = math.ceil(horizon / _DAY_H)
    edges = np.arange(days + 1, dtype=np.float64) * _DAY_H
    cumulative = solution.auc(edges)[0]
    rates = sorted({i.rate_ug_per_h for i in inputs.infusions if i.rate_ug_per_h > 0})
    return Exposure(
        model_id=model.id,
        clearance_l_per_h=clearance,
        times_h=times,
        concentration_pg_per_ml=solution.concentration(times)[0],
        auc_by_day=np.diff(cumulative),
        steady_states=tuple(SteadyState(r, steady_state_pg_per_ml(r, clearance)) for r in rates),
        flush_peaks=_flush_peaks(solution, inputs.boluses),
        interruptions=_interruptions(solution, below_fraction, horizon, interruptions_h),
    )


def _flush_peaks(solution: Solution, boluses: Iterable[Bolus]) -> tuple[FlushPeak, ...]:
    """One peak per instant that boluses were pushed at (same-instant boluses add up)."""
    peaks = []
    clearance = float(solution.clearance[0])
    jump_per_ug = float(solution.alpha[0].sum()) * PG_PER_ML_PER_UG_PER_L
    instants = sorted({b.at_h for b in boluses})
    afters = solution.concentration(np.array(instants, dtype=np.float64))[0]
    for at_h, after in zip(instants, afters.tolist(), strict=True):
        index = int(np.searchsorted(solution.breaks, at_h))
        pushed = float(solution.pushes[index])
        rate = float(solution.rates[0, index])
        steady = steady_state_pg_per_ml(rate, clearance) if rate > 0 else None
        peaks.append(
            FlushPeak(
                at_h=at_h,
                dose_ug=pushed,
                before_pg_per_ml=after - pushed * jump_per_ug,
                peak_pg_per_ml=after,
                times_steady_state=None if steady is None else after / steady,
            )
        )
    return tuple(peaks)


def _interruptions(
    solution: Solution, fraction: float, horizon_h: float, only: Sequence[float] | None
) -> tuple[InterruptionExposure, ...]:
    """Each stop of a running infusion, with the time spent under ``fraction`` of the
    steady state before it (pkpd.md §4.1: the level falls with t1/2 ~2 h)."""
    rates = solution.rates[0]
    breaks = solution.breaks
    clearance = float(solution.clearance[0])
    stops = [
        j
        for j in range(1, len(breaks))
        if rates[j] == 0
        and rates[j - 1] > 0
        and (only is None or any(abs(breaks[j] - at) < 1e-9 for at in only))
    ]
    found = []
    for stop in stops:
        restart = next((k for k in range(stop + 1, len(breaks)) if rates[k] > 0), None)
        limit = (
            len(breaks)
            if restart is None
            else next((k for k in range(restart + 1, len(breaks)) if rates[k] == 0), len(breaks))
        )
        threshold = fraction * steady_state_pg_per_ml(float(rates[stop - 1]), clearance)
        restart_h = None if restart is None else float(breaks[restart])
        below, recovered = 0.0, None
        for index in range(stop, limit):
            end = breaks[index + 1] if index + 1 < len(breaks) else max(horizon_h, breaks[index])
            for first, last, under in _pieces(
                solution, index, float(end - breaks[index]), threshold
            ):
                at = float(breaks[index]) + first
                if restart_h is not None and at >= restart_h and not under:
                    recovered = at
                    break
                if under:
                    below += last - first
            if recovered is not None:
                break
        found.append(
            InterruptionExposure(
                start_h=float(breaks[stop]),
                restart_h=restart_h,
                fraction=fraction,
                threshold_pg_per_ml=threshold,
                hours_below=below,
                recovered_h=recovered,
            )
        )
    return tuple(found)


def _pieces(
    solution: Solution, index: int, length: float, threshold: float
) -> list[tuple[float, float, bool]]:
    """The interval from breakpoint ``index`` for ``length`` hours cut where patient 0's
    concentration crosses ``threshold``: (from, to, below) in hours from its start.

    With a constant rate each mode moves monotonically, so the concentration is a
    constant plus at most two exponentials: at most one extremum (found in closed form)
    and, on each monotone side, at most one crossing (found by bisection to 1e-12 h).
    """
    if length <= 0:
        return []
    lam = [float(x) for x in solution.lam[0]]
    alpha = [float(x) for x in solution.alpha[0]]
    rate = float(solution.rates[0, index])
    state = [float(x) for x in solution.states[0, :, index]]
    scale = PG_PER_ML_PER_UG_PER_L
    level = sum(a * rate / k for a, k in zip(alpha, lam, strict=True)) * scale
    beta = [a * (y - rate / k) * scale for a, y, k in zip(alpha, state, lam, strict=True)]

    def value(s: float) -> float:
        return level + sum(b * math.exp(-k * s) for b, k in zip(beta, lam, strict=True))

    cuts = [0.0, length]
    if len(lam) == 2 and lam[0] * beta[0] * lam[1] * beta[1] < 0:
        turn = math.log(-lam[0] * beta[0] / (lam[1] * beta[1])) / (lam[0] - lam[1])
        if 0 < turn < length:
            cuts.insert(1, turn)
    roots = []
    for low, high in itertools.pairwise(cuts):
        below_low = value(low) < threshold
        if below_low == (value(high) < threshold):
            continue
        if len(lam) == 1:  # level + beta e^(-lam s) = threshold
            roots.append(math.log(beta[0] / (threshold - level)) / lam[0])
            continue
        while high - low > 1e-12:
            middle = (low + high) / 2
            if (value(middle) < threshold) == below_low:
                low = middle
            else:
                high = middle
        roots.append(high)
    points = [0.0, *roots, length]
    return [
        (first, last, value((first + last) / 2) < threshold)
        for first, last in itertools.pairwise(points)
        if last > first
    ]
