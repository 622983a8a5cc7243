"""A course's state at a moment: the one truth every screen, task and bag reads.

``course_state`` takes the course as re-planned through its event log (``replan``, or the
plan itself when the log is empty), the log, the bags recorded for it and a moment, and
says what is true then: whether the infusion runs (at which dose, since when), is
stopped (since when, what a restart needs) or is over; the cycle and its day; every bag
slot of the current plan with the bag that fills it and whether it is done, due, overdue
or blocked; and the bags that must not be hung because the plan no longer has their slot.

The pharmacy's next bag, the clinic's task list, the care team's banner and the family's
Today page all read this; nothing keeps its own copy of "the current dose".
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum

from blina.domain.course_plan import CoursePlan
from blina.domain.errors import InvalidInput
from blina.domain.replanning.decisions import CourseStatus, DecisionKind, Replan
from blina.domain.replanning.events import Discontinuation, Event, Interruption, Restart
from blina.domain.sentences import Template
from blina.domain.units import McgPerDay

__all__ = [
    "LATE",
    "LIVE",
    "ON_PUMP",
    "STOPPED",
    "WAITING",
    "BagRecord",
    "BagStatus",
    "CoursePhase",
    "CourseState",
    "DeliveredDay",
    "Slot",
    "SlotState",
    "SlotStatus",
    "course_state",
    "delivered_pieces",
    "slot_status",
]

_MICROSECOND = timedelta(microseconds=1)
_HOUR_US = Decimal(3_600_000_000)
_DAY_US = 24 * _HOUR_US
# How late a bag that follows on from the one before may still be the pharmacy's next.
LATE = timedelta(hours=1)
_DAY = timedelta(days=1)


class CoursePhase(StrEnum):
    NOT_STARTED = "not-started"
    INFUSING = "infusing"
    INTERRUPTED = "interrupted"
    TREATMENT_FREE = "treatment-free"
    COMPLETED = "completed"
    DISCONTINUED = "discontinued"
    CANCELLED = "cancelled"


# Phases after which no bag is prepared or hung again.
STOPPED = frozenset({CoursePhase.COMPLETED, CoursePhase.DISCONTINUED, CoursePhase.CANCELLED})


class BagStatus(StrEnum):
    """A bag from the bench to the pump: prepared, verified, dispensed (to the ward or to
    home), hung, then removed; or discarded (any time before removal, with a reason), or
    voided by the pharmacy before it left (with a reason)."""

    PREPARED = "prepared"
    VERIFIED = "verified"
    DISPENSED = "dispensed"
    HUNG = "hung"
    REMOVED = "removed"
    DISCARDED = "discarded"
    VOIDED = "voided"


# Bags that hold their slot: one per slot (a discarded or voided bag frees it).
LIVE = frozenset(
    {BagStatus.PREPARED, BagStatus.VERIFIED, BagStatus.DISPENSED, BagStatus.HUNG, BagStatus.REMOVED}
)
WAITING = frozenset({BagStatus.PREPARED, BagStatus.VERIFIED, BagStatus.DISPENSED})
ON_PUMP = frozenset({BagStatus.HUNG, BagStatus.REMOVED})


@dataclass(frozen=True, slots=True)
class BagRecord:
    """A bag as recorded: the slot it was made for (its key, ``Slot.key``, and dose), where
    it is now, and when it was hung and removed."""

    id: int
    code: str
    slot_start: datetime
    dose: McgPerDay
    status: BagStatus
    hung_at: datetime | None = None
    removed_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Slot:
    """One bag of the current plan: the ``number``-th of the course, hung at ``start``,
    replaced or stopped at ``end``. ``shift`` and ``key`` are the bag's (``Bag``): a late
    hang before it moves its start, not its key, which the bag made for it keeps."""

    number: int
    cycle: int
    start: datetime
    end: datetime
    dose: McgPerDay
    shift: timedelta = timedelta(0)

    @property
    def hours(self) -> Decimal:
        # whole microseconds, exactly: a float of seconds would round a slot of odd length
        return Decimal((self.end - self.start) // _MICROSECOND) / _HOUR_US

    @property
    def key(self) -> datetime:
        return self.start - self.shift


class SlotStatus(StrEnum):
    """``done``: its bag was hung. ``due``: not yet, and on track. ``blocked``: less than the
    verification lead before it is due and no verified bag. ``overdue``: it should be
    running and is not. ``missed``: its time passed and no bag was hung."""

    DONE = "done"
    DUE = "due"
    BLOCKED = "blocked"
    OVERDUE = "overdue"
    MISSED = "missed"


@dataclass(frozen=True, slots=True)
class SlotState:
    slot: Slot
    bag: BagRecord | None
    status: SlotStatus


@dataclass(frozen=True, slots=True)
class DeliveredDay:
    """What the recorded bags infused on one calendar day (clinic zone)."""

    date: date
    hours: Decimal
    mcg: Decimal


@dataclass(frozen=True, slots=True)
class CourseState:
    """A course at ``at``. See the module docstring; every instant is aware.

    ``since``: when the current phase began (the current dose's bag when infusing, the
    interruption, the end). ``until``: when it ends as planned (the current dose's last
    bag, the next cycle's first bag). ``do_not_hang`` pairs each bag that is not to be
    hung with the reason; ``to_remove`` is a bag still on the pump of a stopped infusion.
    ``delivered`` is what the hung bags infused per day up to ``at``; ``planned`` what the
    current plan infuses on the same days up to ``at``, to show beside it. ``restarted``
    is the last restart and the interruption it ended (None once the course has stopped).
    """

    at: datetime
    phase: CoursePhase
    since: datetime | None
    until: datetime | None
    cycle: int | None
    cycle_day: int | None
    dose: McgPerDay | None
    interruption: Interruption | None
    restart_needs: tuple[str, ...]
    next_dose_change: tuple[datetime, McgPerDay] | None
    slots: tuple[SlotState, ...]
    do_not_hang: tuple[tuple[BagRecord, str], ...]
    hung: BagRecord | None
    to_remove: BagRecord | None
    delivered: tuple[DeliveredDay, ...]
    planned: tuple[DeliveredDay, ...]
    restarted: tuple[Interruption, Restart] | None

    @property
    def stopped(self) -> bool:
        return self.phase in STOPPED

    @property
    def next_slot(self) -> SlotState | None:
        """The pharmacy's next bag: the first slot of the current plan with no bag that is
        still needed (None once the infusion is stopped or over).

        A slot that has begun is still needed when it starts the infusion again (a
        restart, a cycle's first bag: nothing else can be running) or began less than
        ``LATE`` ago; one that follows on from the bag before it and began earlier is
        taken as covered by that bag running on.
        """
        if self.stopped or self.phase is CoursePhase.INTERRUPTED:
            return None
        previous_end: datetime | None = None
        for state in self.slots:
            slot = state.slot
            needed = slot.start > self.at - LATE or slot.start != previous_end
            previous_end = slot.end
            if state.bag is None and slot.end > self.at and needed:
                return state
        return None

    @property
    def upcoming(self) -> tuple[SlotState, ...]:
        """Slots not yet ended, in order (what the task list and the pages show next)."""
        return tuple(s for s in self.slots if s.slot.end > self.at)

    def slot_at(self, start: datetime) -> SlotState | None:
        """The slot starting at ``start`` (as the plan shows it now)."""
        for state in self.slots:
            if state.slot.start == start:
                return state
        return None

    def slot_of(self, bag: BagRecord) -> SlotState | None:
        """The slot ``bag`` was made for, wherever late hangs have moved it."""
        for state in self.slots:
            if state.slot.key == bag.slot_start and state.slot.dose == bag.dose:
                return state
        return None

    def reason_not_to_hang(self, bag_id: int) -> str | None:
        for bag, reason in self.do_not_hang:
            if bag.id == bag_id:
                return reason
        return None


def course_state(
    *,
    plan: CoursePlan,
    replanned: Replan | None,
    events: Sequence[Event],
    bags: Sequence[BagRecord],
    recorded_status: str,
    now: datetime,
    verify_lead: timedelta,
) -> CourseState:
    """The state of a course at ``now``.

    Parameters
    ----------
    plan : the current plan: ``replanned.plan`` when the log has events, else the plan.
    replanned : the re-plan through ``events`` (None for an empty log).
    events : the course's event log, in time order.
    bags : every bag recorded for the course, in any order.
    recorded_status : the course row's status: ``active``, ``completed``, ``discontinued``
        or ``cancelled`` (entered in error).
    now : the moment (aware).
    verify_lead : how long before its start a bag must be verified (a site parameter).
    """
    if now.tzinfo is None or now.utcoffset() is None:
        raise InvalidInput("now", now.isoformat(), "a date-time with a UTC offset")
    phase, since = _phase(plan, replanned, events, recorded_status, now)
    interruption = _open_interruption(events) if phase is CoursePhase.INTERRUPTED else None
    if interruption is not None:
        since = interruption.at
    slots = _slots(plan)
    matched, do_not_hang = _match(slots, bags, phase)
    states = tuple(
        SlotState(
            slot,
            matched.get(slot.number),
            _status_of(slot, matched.get(slot.number), now, verify_lead),
        )
        for slot in slots
    )
    hung = next((b for b in bags if b.status is BagStatus.HUNG), None)
    current = _current_slot(slots, now) if phase is CoursePhase.INFUSING else None
    day = now.astimezone(plan.zone).date()
    cycle = next((c for c in plan.cycles if c.start <= day <= c.end), None)
    return CourseState(
        at=now,
        phase=phase,
        since=_dose_since(slots, current) if current is not None else since,
        until=_until(slots, current, phase, now),
        cycle=None if cycle is None else cycle.number,
        cycle_day=None if cycle is None else (day - cycle.start).days + 1,
        dose=None if current is None else current.dose,
        interruption=interruption,
        restart_needs=_restart_needs(replanned, interruption),
        next_dose_change=_next_dose_change(slots, current, now) if phase not in STOPPED else None,
        slots=states,
        do_not_hang=do_not_hang,
        hung=hung,
        to_remove=hung if hung is not None and _off_plan(hung, slots, phase, now) else None,
        delivered=_delivered(bags, events, plan, now),
        planned=_by_day(
            [(bag.start, min(bag.end, now), bag.dose) for bag in plan.bags if bag.start < now],
            plan,
        ),
        restarted=_last_restart(events) if phase not in STOPPED else None,
    )


def _last_restart(events: Sequence[Event]) -> tuple[Interruption, Restart] | None:
    """The last restart of the log with the interruption it ended (the event before it:
    the re-plan accepts a restart only while an interruption is open)."""
    for index in range(len(events) - 1, 0, -1):
        restart = events[index]
        if isinstance(restart, Restart):
            opened = events[index - 1]
            assert isinstance(opened, Interruption)
            return opened, restart
    return None


def _phase(
    plan: CoursePlan,
    replanned: Replan | None,
    events: Sequence[Event],
    recorded_status: str,
    now: datetime,
) -> tuple[CoursePhase, datetime | None]:
    if recorded_status == "cancelled":
        return CoursePhase.CANCELLED, None
    if replanned is not None and replanned.status is CourseStatus.DISCONTINUED:
        return CoursePhase.DISCONTINUED, replanned.discontinued_at
    if recorded_status == "discontinued":
        return CoursePhase.DISCONTINUED, None
    if recorded_status == "completed" or (
        replanned is not None and replanned.status is CourseStatus.COMPLETED
    ):
        end = plan.bags[-1].end if plan.bags else None
        return CoursePhase.COMPLETED, end
    if _open_interruption(events) is not None:
        return CoursePhase.INTERRUPTED, None
    if not plan.bags or now < plan.bags[0].start:
        return CoursePhase.NOT_STARTED, None
    if now >= plan.bags[-1].end:
        return CoursePhase.COMPLETED, plan.bags[-1].end
    if any(bag.start <= now < bag.end for bag in plan.bags):
        return CoursePhase.INFUSING, None
    ended = max(bag.end for bag in plan.bags if bag.end <= now)
    return CoursePhase.TREATMENT_FREE, ended


def _off_plan(hung: BagRecord, slots: tuple[Slot, ...], phase: CoursePhase, now: datetime) -> bool:
    """A hung bag to take off the pump: the infusion is stopped or over, or the plan no
    longer has its slot at its dose (a restart at another dose where it began), or its time
    in the plan has ended (a bag hung a little early for its slot stays)."""
    if phase in STOPPED or phase is CoursePhase.INTERRUPTED:
        return True
    return not any(
        slot.key == hung.slot_start and slot.dose == hung.dose and slot.end > now for slot in slots
    )


def _open_interruption(events: Sequence[Event]) -> Interruption | None:
    """The last interruption when no restart followed it."""
    last = next((e for e in reversed(events) if not isinstance(e, Discontinuation)), None)
    return last if isinstance(last, Interruption) else None


def _slots(plan: CoursePlan) -> tuple[Slot, ...]:
    return tuple(
        Slot(number, bag.cycle, bag.start, bag.end, bag.dose, bag.shift)
        for number, bag in enumerate(plan.bags, start=1)
    )


def _match(
    slots: tuple[Slot, ...], bags: Sequence[BagRecord], phase: CoursePhase
) -> tuple[dict[int, BagRecord], tuple[tuple[BagRecord, str], ...]]:
    """Each live bag to the slot of the current plan it was made for (same key, same
    dose); a waiting bag with no such slot, or of a stopped infusion, is not to be hung."""
    by_start = {slot.key: slot for slot in slots}
    matched: dict[int, BagRecord] = {}
    refused: list[tuple[BagRecord, str]] = []
    for bag in sorted(bags, key=lambda b: b.id):
        if bag.status not in LIVE:
            continue
        slot = by_start.get(bag.slot_start)
        fits = slot is not None and slot.dose == bag.dose and slot.number not in matched
        if fits and slot is not None:
            matched[slot.number] = bag
        if bag.status not in WAITING:
            continue
        if phase in STOPPED:
            refused.append((bag, COURSE_IS(phase=phase)))
        elif phase is CoursePhase.INTERRUPTED:
            refused.append((bag, INTERRUPTED_NO_RESTART()))
        elif not fits:
            refused.append((bag, _not_in_plan(bag, slot)))
    return matched, tuple(refused)


# Why a bag must not be hung (``blina.domain.sentences``).
COURSE_IS = Template("the course is {phase}")
INTERRUPTED_NO_RESTART = Template("the infusion is interrupted: no restart is recorded")
NO_SUCH_SLOT = Template(
    "the current plan has no bag starting {start}: the plan changed after this bag was prepared"
)
OTHER_DOSE = Template("the current plan's bag at this time is {planned}, not {bag}")
SLOT_FILLED = Template("another bag already fills this slot")


def _not_in_plan(bag: BagRecord, slot: Slot | None) -> str:
    if slot is None:
        return NO_SUCH_SLOT(start=bag.slot_start)
    if slot.dose != bag.dose:
        return OTHER_DOSE(planned=slot.dose, bag=bag.dose)
    return SLOT_FILLED()


def slot_status(
    *,
    start: datetime,
    end: datetime | None,
    bag: BagStatus | None,
    now: datetime,
    lead: timedelta,
) -> SlotStatus:
    """The status of the bag slot ``start``..``end`` whose bag (if any) is in ``bag``
    status; ``end`` None (a task list that reads starts only) is never missed."""
    if bag in ON_PUMP:
        return SlotStatus.DONE
    if end is not None and now >= end:
        return SlotStatus.MISSED
    if now >= start:
        return SlotStatus.OVERDUE
    if bag in (None, BagStatus.PREPARED) and now >= start - lead:
        return SlotStatus.BLOCKED
    return SlotStatus.DUE


def _status_of(slot: Slot, bag: BagRecord | None, now: datetime, lead: timedelta) -> SlotStatus:
    return slot_status(
        start=slot.start, end=slot.end, bag=None if bag is None else bag.status, now=now, lead=lead
    )


def _current_slot(slots: tuple[Slot, ...], now: datetime) -> Slot:
    return next(slot for slot in slots if slot.start <= now < slot.end)


def _dose_since(slots: tuple[Slot, ...], current: Slot) -> datetime:
    """When the current dose began: back through the bags that follow on at the same dose."""
    since = current.start
    for slot in reversed(slots[: current.number - 1]):
        if slot.end != since or slot.dose != current.dose:
            break
        since = slot.start
    return since


def _until(
    slots: tuple[Slot, ...], current: Slot | None, phase: CoursePhase, now: datetime
) -> datetime | None:
    if current is not None:
        until = current.end
        for slot in slots[current.number :]:
            if slot.start != until or slot.dose != current.dose:
                break
            until = slot.end
        return until
    if phase in (CoursePhase.NOT_STARTED, CoursePhase.TREATMENT_FREE):
        return next(slot.start for slot in slots if slot.start > now)
    return None


def _next_dose_change(
    slots: tuple[Slot, ...], current: Slot | None, now: datetime
) -> tuple[datetime, McgPerDay] | None:
    """The next bag whose dose differs from the one running (or the first bag ahead)."""
    for slot in slots:
        if slot.start > now and (current is None or slot.dose != current.dose):
            return slot.start, slot.dose
    return None


def _restart_needs(replanned: Replan | None, interruption: Interruption | None) -> tuple[str, ...]:
    """What the label asks before a restart: the decision taken at the interruption."""
    if replanned is None or interruption is None:
        return ()
    return tuple(
        reason
        for decision in replanned.decisions
        if decision.at == interruption.at and decision.action is not DecisionKind.REFUSE
        for reason in decision.reasons
    )


def _delivered(
    bags: Sequence[BagRecord], events: Sequence[Event], plan: CoursePlan, now: datetime
) -> tuple[DeliveredDay, ...]:
    """Hours infused and mcg delivered per calendar day, from the hang and removal times,
    less the time the log says the infusion was stopped."""
    return _by_day(delivered_pieces(bags, events, now), plan)


def delivered_pieces(
    bags: Sequence[BagRecord], events: Sequence[Event], now: datetime
) -> list[tuple[datetime, datetime, McgPerDay]]:
    """What the hung bags infused up to ``now``: (start, stop, dose) from each bag's hang
    to its removal time (or ``now``), less the time the log says the infusion was
    stopped. The delivered-dose record that the exposure model reads too."""
    stopped = _stopped_spans(events, now)
    pieces: list[tuple[datetime, datetime, McgPerDay]] = []
    for bag in bags:
        if bag.hung_at is None or bag.status not in ON_PUMP:
            continue
        end = bag.removed_at if bag.removed_at is not None else now
        for start, stop in _without(bag.hung_at, min(end, now), stopped):
            pieces.append((start, stop, bag.dose))
    return pieces


def _by_day(
    pieces: Sequence[tuple[datetime, datetime, McgPerDay]], plan: CoursePlan
) -> tuple[DeliveredDay, ...]:
    """Hours and mcg per calendar day (clinic zone) of infusion pieces (start, stop, dose).

    Each day sums whole microseconds (and dose x microseconds) exactly and divides once,
    so a day's figure rounds once however many pieces it holds."""
    days: dict[date, tuple[int, Decimal]] = {}
    for start, stop, dose in pieces:
        clock = start
        while clock < stop:
            local = clock.astimezone(plan.zone)
            day_start = local.replace(hour=0, minute=0, second=0, microsecond=0)
            midnight = (day_start + _DAY).replace(tzinfo=plan.zone).astimezone(UTC)
            piece_end = min(stop.astimezone(UTC), midnight)
            # elapsed time in UTC: a daylight-saving day is 23 or 25 hours long
            micros = (piece_end - clock.astimezone(UTC)) // _MICROSECOND
            held = days.get(local.date(), (0, Decimal(0)))
            days[local.date()] = (held[0] + micros, held[1] + dose.value * micros)
            clock = piece_end
    return tuple(
        DeliveredDay(day, Decimal(micros) / _HOUR_US, dosed / _DAY_US)
        for day, (micros, dosed) in sorted(days.items())
    )


def _stopped_spans(events: Sequence[Event], now: datetime) -> list[tuple[datetime, datetime]]:
    spans: list[tuple[datetime, datetime]] = []
    opened: datetime | None = None
    for event in events:
        if isinstance(event, Restart):
            spans.append((opened or event.at, event.at))
            opened = None
        elif opened is None:  # an interruption, or a discontinuation while running
            opened = event.at
    if opened is not None:
        spans.append((opened, max(opened, now)))
    return spans


def _without(
    start: datetime, end: datetime, gaps: list[tuple[datetime, datetime]]
) -> list[tuple[datetime, datetime]]:
    """The parts of [start, end) outside every gap."""
    parts = [(start, end)] if start < end else []
    for gap_start, gap_end in gaps:
        kept = []
        for part_start, part_end in parts:
            if gap_end <= part_start or gap_start >= part_end:
                kept.append((part_start, part_end))
                continue
            if part_start < gap_start:
                kept.append((part_start, gap_start))
            if gap_end < part_end:
                kept.append((gap_end, part_end))
        parts = kept
    return parts
