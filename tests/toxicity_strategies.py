"""Hypothesis strategies for toxicity grading and re-planning.

Every number is a ``Decimal`` drawn with ``st.decimals(places=...)``, never a float.
Event logs are built so that every interruption falls while an infusion runs: the
infusion between two events is shorter than what is left of any cycle.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from hypothesis import strategies as st

from blina.domain.modifications import AdverseReaction
from blina.domain.replanning.events import Discontinuation, Event, Interruption, Restart
from blina.domain.toxicity.crs import CrsFindings, Hypotension, OxygenSupport
from blina.domain.units import McgPerDay
from tests.strategies import decimals


def temperatures_c() -> st.SearchStrategy[Decimal]:
    """Temperatures within blina's plausible range, 30-45 C, to 0.1 C."""
    return decimals("30", "45", places=1)


@st.composite
def crs_findings(draw: st.DrawFn) -> CrsFindings:
    """Any plausible bedside CRS picture; a nasal-cannula flow only with cannula oxygen,
    and then consistent with the low-/high-flow level (6 L/min is low-flow)."""
    oxygen = draw(st.sampled_from(OxygenSupport))
    flow = None
    if oxygen is OxygenSupport.LOW_FLOW and draw(st.booleans()):
        flow = draw(decimals("0.5", "6", places=1))
    elif oxygen is OxygenSupport.HIGH_FLOW and draw(st.booleans()):
        flow = draw(decimals("6.1", "80", places=1))
    return CrsFindings(
        temperature_c=draw(temperatures_c()),
        hypotension=draw(st.sampled_from(Hypotension)),
        oxygen=oxygen,
        fever_masked=draw(st.booleans()),
        oxygen_flow_l_per_min=flow,
        crs_diagnosed=draw(st.booleans()),
    )


@dataclass(frozen=True)
class Episode:
    """Infuse for ``infuse_hours``, interrupt for ``cause`` at ``grade``, pause
    ``pause_hours``, then restart at ``dose`` (None: the label's step)."""

    infuse_hours: int
    cause: AdverseReaction
    grade: int
    pause_hours: int
    dose: Decimal | None


def episodes() -> st.SearchStrategy[Episode]:
    """One interruption and its restart: pauses from an hour to three weeks, so both
    sides of the 4-hour, 7-day and 14-day rules are drawn."""
    return st.builds(
        Episode,
        infuse_hours=st.integers(1, 120),
        cause=st.sampled_from(AdverseReaction),
        grade=st.integers(1, 4),
        pause_hours=st.one_of(st.integers(1, 8), st.integers(9, 200), st.integers(160, 500)),
        dose=st.one_of(st.none(), decimals("1", "40", places=1)),
    )


@st.composite
def event_logs(draw: st.DrawFn, first_infusion: datetime) -> list[Event]:
    """Zero to five episodes from ``first_infusion``, sometimes left open (no restart),
    sometimes ended by a discontinuation."""
    log: list[Event] = []
    clock = first_infusion
    for episode in draw(st.lists(episodes(), max_size=5)):
        clock += timedelta(hours=episode.infuse_hours)
        log.append(Interruption(clock, episode.cause, episode.grade))
        # The label allows no restart within 12 h of an overdose; a log that restarts
        # earlier gets its restart moved, which is tested in test_replanning.py.
        pause = episode.pause_hours
        if episode.cause is AdverseReaction.OVERDOSE:
            pause = max(pause, 12)
        clock += timedelta(hours=pause)
        log.append(Restart(clock, None if episode.dose is None else McgPerDay(episode.dose)))
    if log and draw(st.booleans()):
        log.pop()
    elif draw(st.booleans()):
        clock += timedelta(hours=draw(st.integers(1, 100)))
        log.append(Discontinuation(clock))
    return log
