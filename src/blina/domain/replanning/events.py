"""The course's event log as the re-planner reads it, and the checks it passes first.

Three things happen to an infusion: it is interrupted (a reaction, at a grade), restarted
(at a dose, once the reaction resolved) or discontinued. A log is checked before it is
replayed, so that a bad entry is refused naming its field (``events[2].at``) rather than
half-applied: every instant aware, in time order, none before the first infusion, a
grade from 1 to 4, a positive restart dose.
"""

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import NamedTuple

from blina.domain.course_plan import CoursePlan
from blina.domain.errors import InvalidInput
from blina.domain.modifications import AdverseReaction
from blina.domain.units import McgPerDay

__all__ = [
    "Discontinuation",
    "Event",
    "Hang",
    "Interruption",
    "Restart",
    "check_aware",
    "check_events",
    "check_hangs",
    "in_utc",
]


@dataclass(frozen=True, slots=True)
class Interruption:
    """The infusion stopped at ``at`` because of ``cause`` at ``grade`` (1-4)."""

    at: datetime
    cause: AdverseReaction
    grade: int


@dataclass(frozen=True, slots=True)
class Restart:
    """The infusion restarted at ``at``; ``dose`` None means the label's step.

    ``resolved_at`` is when the reaction resolved to the level the rule asks for, if
    known.
    """

    at: datetime
    dose: McgPerDay | None = None
    resolved_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Discontinuation:
    at: datetime
    reason: str = "the prescriber's decision"


Event = Interruption | Restart | Discontinuation


class Hang(NamedTuple):
    """What a bag record tells the re-plan: the bag made for the slot keyed ``slot``
    (``Bag.key``) at ``dose`` was hung at ``at``. Not an entry of the log: the replay
    reads hangs to count the time no bag ran between two bags (a bag hung late)."""

    slot: datetime
    dose: McgPerDay
    at: datetime


def in_utc(event: Event) -> Event:
    """Elapsed durations are added in UTC, whatever zone the log was written in."""
    if isinstance(event, Restart) and event.resolved_at is not None:
        event = replace(event, resolved_at=event.resolved_at.astimezone(UTC))
    return replace(event, at=event.at.astimezone(UTC))


def check_aware(field_name: str, moment: datetime) -> None:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise InvalidInput(field_name, moment.isoformat(), "a date-time with a UTC offset")


def check_events(plan: CoursePlan, events: Sequence[Event]) -> None:
    """Each event on its own and against the one before; what an event means in the
    course (a restart with no open interruption, say) is the replay's to refuse."""
    first = plan.cycles[0].infusion_start
    previous: datetime | None = None
    for index, event in enumerate(events):
        where = f"events[{index}]"
        check_aware(f"{where}.at", event.at)
        if previous is None and event.at < first:
            raise InvalidInput(
                f"{where}.at",
                event.at.isoformat(),
                f"on or after the first infusion, {first.isoformat()}",
            )
        if previous is not None and event.at <= previous:
            raise InvalidInput(
                f"{where}.at",
                event.at.isoformat(),
                f"after events[{index - 1}].at ({previous.isoformat()})",
            )
        previous = event.at
        if isinstance(event, Interruption) and event.grade not in range(1, 5):
            raise InvalidInput(f"{where}.grade", event.grade, ">= 1 and <= 4 (grade 5 is death)")
        if isinstance(event, Restart):
            if event.dose is not None and event.dose.value <= 0:
                raise InvalidInput(f"{where}.dose_mcg_per_day", event.dose.value, "> 0")
            if event.resolved_at is not None:
                check_aware(f"{where}.resolved_at", event.resolved_at)


def check_hangs(hangs: Sequence[Hang]) -> None:
    for index, hang in enumerate(hangs):
        check_aware(f"hangs[{index}].slot", hang.slot)
        check_aware(f"hangs[{index}].at", hang.at)
