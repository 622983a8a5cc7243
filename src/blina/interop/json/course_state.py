"""A course's state (``blina.domain.course_state``) as JSON: what the API answers and what
pages and the worker read beside the plan."""

from typing import Any

from blina.domain.course_state import CourseState, SlotState

__all__ = ["course_state_to_dict"]


def course_state_to_dict(state: CourseState, *, upcoming: int = 6) -> dict[str, Any]:
    """The state at its moment; ``upcoming`` bag slots ahead (all slots are in the plan)."""
    change = state.next_dose_change
    return {
        "at": state.at.isoformat(),
        "phase": state.phase.value,
        "since": None if state.since is None else state.since.isoformat(),
        "until": None if state.until is None else state.until.isoformat(),
        "cycle": state.cycle,
        "cycle_day": state.cycle_day,
        "dose_mcg_per_day": None if state.dose is None else str(state.dose.value),
        "interruption": None
        if state.interruption is None
        else {
            "at": state.interruption.at.isoformat(),
            "cause": str(state.interruption.cause),
            "grade": state.interruption.grade,
        },
        "restart_needs": list(state.restart_needs),
        "next_dose_change": None
        if change is None
        else {"at": change[0].isoformat(), "dose_mcg_per_day": str(change[1].value)},
        "next_bag": None if state.next_slot is None else _slot(state.next_slot),
        "upcoming_bags": [_slot(s) for s in state.upcoming[:upcoming]],
        "bags_in_plan": len(state.slots),
        "do_not_hang": [
            {"bag_id": bag.id, "code": bag.code, "reason": reason}
            for bag, reason in state.do_not_hang
        ],
        "hung_bag": None
        if state.hung is None
        else {"bag_id": state.hung.id, "code": state.hung.code},
        "to_remove": None
        if state.to_remove is None
        else {"bag_id": state.to_remove.id, "code": state.to_remove.code},
        "delivered": [
            {
                "date": d.date.isoformat(),
                "hours": str(round(d.hours, 2)),
                "mcg": str(round(d.mcg, 2)),
            }
            for d in state.delivered
        ],
    }


def _slot(state: SlotState) -> dict[str, Any]:
    slot = state.slot
    return {
        "number": slot.number,
        "cycle": slot.cycle,
        "start": slot.start.isoformat(),
        "end": slot.end.isoformat(),
        "hours": str(round(slot.hours, 2)),
        "dose_mcg_per_day": str(slot.dose.value),
        "status": state.status.value,
        "bag": None
        if state.bag is None
        else {"id": state.bag.id, "code": state.bag.code, "status": state.bag.status.value},
    }
