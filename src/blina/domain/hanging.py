"""Hanging a bag: the checks a nurse's scan or typed code runs before the pump starts.

Every finding is a hard stop naming the difference: the bag not verified, no longer in the
course's current plan (do not hang), outside its hang window, past its beyond-use time, or
a pump program that is not the bag's (the overdose factor, as ``check_pump_program`` words
it). The patient check (the bag's patient is the one at the pump) is the caller's: it
knows who the patient is.
"""

from datetime import datetime, timedelta

from blina.domain.checks import CheckLevel
from blina.domain.course_state import BagRecord, BagStatus, CourseState
from blina.domain.pharmacy.pump import Infusion, check_pump_program
from blina.domain.units import Ml, MlPerHour

__all__ = ["hang_problems"]

_HANGABLE = frozenset({BagStatus.VERIFIED, BagStatus.DISPENSED})


def hang_problems(
    *,
    state: CourseState,
    bag: BagRecord,
    infusion: Infusion,
    rate: MlPerHour,
    volume: Ml,
    hang_by: datetime | None,
    early: timedelta,
) -> tuple[str, ...]:
    """Why ``bag`` may not be hung at ``state.at`` with this pump program (empty: it may).

    ``hang_by`` is the bag's beyond-use time for hanging (None: the recipe gives none,
    which is itself a stop); ``early`` how long before its slot a bag may be hung.
    """
    now = state.at
    found: list[str] = []
    if bag.status not in _HANGABLE:
        found.append(
            f"bag {bag.code} is {bag.status.value}: only a verified bag is hung"
            if bag.status is BagStatus.PREPARED
            else f"bag {bag.code} is {bag.status.value}: it cannot be hung"
        )
    refused = state.reason_not_to_hang(bag.id)
    if refused is not None:
        found.append(f"do not hang bag {bag.code}: {refused}")
    slot = state.slot_of(bag)
    if refused is None and slot is not None and slot.bag == bag:
        window_opens = slot.slot.start - early
        if now < window_opens:
            found.append(
                f"bag {bag.code} is for {slot.slot.start.isoformat()}: it may be hung from "
                f"{window_opens.isoformat()}"
            )
        elif now >= slot.slot.end:
            found.append(f"bag {bag.code}'s time in the plan ended at {slot.slot.end.isoformat()}")
    if hang_by is None:
        found.append(f"bag {bag.code} has no beyond-use time in its recipe: do not hang it")
    elif now > hang_by:
        found.append(f"bag {bag.code} expired: it had to be hung by {hang_by.isoformat()}")
    if rate.value <= 0 or volume.value <= 0:
        found.append("the pump's rate and volume to be infused must both be > 0")
        return tuple(found)
    # At the pump a smaller volume too is a stop: the program must be the bag's.
    pump = check_pump_program(infusion, rate=rate, volume=volume)
    found.extend(check.reason for check in pump.report if check.level is not CheckLevel.OK)
    return tuple(found)
