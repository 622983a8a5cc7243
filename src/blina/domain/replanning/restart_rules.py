"""The label's rules for a restart, as pure functions.

Each function takes what its rule reads (the interruption's action, the restart as
logged, the cycle as given so far, the label's interruption rules) and returns what it
decides: decisions, a restart instant, a restart dose and the cap that holds it,
premedication; none of them changes anything. The replay (``replay.Replay``) applies
their answers in the order the event log drives:

- when: ``earliest_restart`` (never sooner than the rule allows);
- where: ``same_cycle`` within ``same_cycle_max_days``, else ``new_cycle``, or
  ``course_ends`` when no cycle is left;
- at which dose: ``restart_dose`` (never above the label's step), and ``stepped_up``
  when its cap runs out without recurrence;
- with what care: ``restart_care`` (premedication and supervision after 4 hours);
- a cycle stopped before its step-up: ``step_up_not_reached``, ``step_up_offer`` (and
  ``offer_while_open``), ``repeated_step_up``, ``repeated_cycle_premedication``.
"""

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import NamedTuple

from blina.domain.body import AgeGroup, BodySize
from blina.domain.course_plan import PremedicationDose, premedication_dose
from blina.domain.modifications import Action, InterruptionRules
from blina.domain.regimens import PremedTrigger, Regimen
from blina.domain.replanning.decisions import (
    Decision,
    DecisionKind,
    DecisionLevel,
    duration_text,
)
from blina.domain.replanning.events import Interruption, Restart
from blina.domain.replanning.ledger import DAY, Cap, CycleRun, StepUp
from blina.domain.units import McgPerDay

__all__ = [
    "Repeat",
    "course_ends",
    "earliest_restart",
    "new_cycle",
    "offer_while_open",
    "repeated_cycle_premedication",
    "repeated_step_up",
    "restart_care",
    "restart_dose",
    "same_cycle",
    "step_up_not_reached",
    "step_up_offer",
    "stepped_up",
]


# --- the restart ------------------------------------------------------------------------------


def earliest_restart(
    restart: Restart, interruption: Interruption, action: Action
) -> tuple[datetime, Decision | None]:
    """The logged restart, or the earliest the rule allows if the log is earlier (with
    the hard decision that says so)."""
    earliest = restart.at
    resolved = restart.resolved_at
    why = []
    recovery, minimum = action.min_recovery, action.min_restart_after
    if recovery is not None and resolved is not None and resolved + recovery > earliest:
        earliest = resolved + recovery
        why.append(f"{duration_text(recovery)} after the reaction resolved")
    if minimum is not None and interruption.at + minimum > earliest:
        earliest = interruption.at + minimum
        why.append(f"{duration_text(minimum)} after the interruption")
    if earliest == restart.at:
        return earliest, None
    return earliest, Decision(
        restart.at,
        DecisionKind.REFUSE,
        (
            f"A restart at {restart.at.isoformat()} is earlier than the label allows "
            f"({' and '.join(why)}): planned at {earliest.isoformat()}.",
        ),
        action.source,
        DecisionLevel.HARD,
    )


def same_cycle(pause: timedelta, at: datetime, run: CycleRun, rules: InterruptionRules) -> Decision:
    """A pause of at most ``same_cycle_max_days``: the cycle goes on to its labelled
    infusion time."""
    return Decision(
        at,
        DecisionKind.CONTINUE_CYCLE,
        (
            f"Interruption of {duration_text(pause)} (at most {rules.same_cycle_max_days} "
            f"days): cycle {run.spec.number} continues to {run.spec.infusion_days} "
            f"infusion days in total ({duration_text(run.infused)} given, "
            f"{duration_text(run.remaining)} to go).",
        ),
        rules.same_cycle_source,
    )


def stood_still(
    delay: timedelta, due: datetime, run: CycleRun, rules: InterruptionRules
) -> Decision:
    """No bag ran for ``delay`` from ``due`` (the next bag was hung late): the cycle goes
    on to its labelled infusion time, as after a short interruption."""
    return Decision(
        due,
        DecisionKind.CONTINUE_CYCLE,
        (
            f"No bag ran for {duration_text(delay)} from {due.isoformat()} (the bag was hung "
            f"after its time): cycle {run.spec.number} continues to {run.spec.infusion_days} "
            f"infusion days in total ({duration_text(run.infused)} given, "
            f"{duration_text(run.remaining)} to go); the bags after it move with it.",
        ),
        rules.same_cycle_source,
    )


def long_pause(delay: timedelta, due: datetime, rules: InterruptionRules) -> Decision:
    """A bag hung more than the same-cycle limit after its time: the label's new-cycle
    rule needs the interruption recorded; until then the plan is not moved."""
    return Decision(
        due,
        DecisionKind.INTERRUPT,
        (
            f"No bag ran for {duration_text(delay)} from {due.isoformat()} (more than "
            f"{rules.same_cycle_max_days} days): record the interruption and the restart so "
            "the label's rule for a long interruption applies; the plan is not moved until then.",
        ),
        rules.same_cycle_source,
        DecisionLevel.SOFT,
    )


def new_cycle(pause: timedelta, at: datetime, run: CycleRun, rules: InterruptionRules) -> Decision:
    """A longer pause: ``run``, the next cycle, starts at the restart."""
    return Decision(
        at,
        DecisionKind.NEW_CYCLE,
        (
            f"Interruption of {duration_text(pause)} (more than {rules.same_cycle_max_days} "
            f"days): a new cycle starts, cycle {run.spec.number} ({run.spec.phase}); "
            "the interrupted cycle counts as given.",
        ),
        rules.same_cycle_source,
    )


def course_ends(
    pause: timedelta, at: datetime, run: CycleRun, rules: InterruptionRules
) -> Decision:
    """A longer pause after the plan's last cycle: no cycle is left to start."""
    return Decision(
        at,
        DecisionKind.END_COURSE,
        (
            f"Interruption of {duration_text(pause)} (more than {rules.same_cycle_max_days} "
            f"days): the label starts a new cycle, but the plan has no cycle after cycle "
            f"{run.spec.number}. The course ends here; the prescriber decides what "
            "follows.",
        ),
        rules.same_cycle_source,
        DecisionLevel.SOFT,
    )


def restart_dose(
    requested: McgPerDay | None,
    action: Action,
    base: McgPerDay,
    prior: Cap | None,
    *,
    at: datetime,
    total: timedelta,
    next_step: timedelta | None,
) -> tuple[Cap | None, Decision]:
    """The label's step for the situation, and the cap that holds it; a logged dose
    above it is a hard stop.

    ``base`` is the regimen's dose at this point of the cycle, ``prior`` the cap of an
    earlier restart that still holds, ``total`` the course's infusion time so far and
    ``next_step`` the total at which the regimen's next step begins (None: none is left
    in the cycle).
    """
    allowed = base
    why = [f"the regimen's dose at this point of the cycle is {base}"]
    if action.restart_dose is not None and action.restart_dose.value < allowed.value:
        allowed = action.restart_dose
        why.append(f"the rule restarts at {action.restart_dose}")
    if prior is not None and prior.dose.value < allowed.value:
        allowed = prior.dose
        why.append(f"the earlier restart's {prior.dose} still holds")
    dose = allowed if requested is None else requested
    level = DecisionLevel.INFO
    reasons = [f"Restart at {dose}: {'; '.join(why)}."]
    if dose.value > allowed.value:
        reasons = [
            f"The logged restart dose {dose} is above the label's step for the situation, "
            f"{allowed} ({'; '.join(why)}): {allowed} is planned."
        ]
        dose = allowed
        level = DecisionLevel.HARD
    cap: Cap | None = None
    if action.step_up_after is not None and action.restart_dose is not None:
        cap = Cap(dose, total + action.step_up_after, action)
        reasons.append(
            f"Step up to {action.step_up_dose} after {duration_text(action.step_up_after)} of "
            "infusion without recurrence."
        )
    elif prior is not None:
        cap = Cap(dose, prior.until, prior.action)
    elif dose.value < base.value:
        cap = Cap(dose, next_step, None)
        reasons.append(
            "Below the regimen's dose and no step-up rule: held until the regimen's next step "
            "or the end of the cycle."
        )
    return cap, Decision(at, DecisionKind.RESTART, tuple(reasons), action.source, level)


def restart_care(
    pause: timedelta,
    at: datetime,
    cycle: int,
    cycle_premedication: Sequence[PremedicationDose] | None,
    *,
    regimen: Regimen,
    body: BodySize,
    rules: InterruptionRules,
) -> tuple[list[PremedicationDose], list[Decision]]:
    """Premedication and supervision after an interruption of 4 hours or more.

    ``cycle`` is the cycle whose premedication rules apply; ``cycle_premedication`` the
    first-dose premedication of a new cycle starting at the restart (None: the same
    cycle continues), which the restart premedication does not repeat. Returns the
    restart premedication and the decisions.
    """
    if pause < timedelta(hours=rules.restart_care_min_hours):
        return [], [
            Decision(
                at,
                DecisionKind.RESTART,
                (
                    f"Interruption of {duration_text(pause)} (under "
                    f"{rules.restart_care_min_hours} h): the label asks for no restart "
                    "premedication or supervision.",
                ),
                rules.restart_care_source,
            )
        ]
    group = body.age_group
    reason = f"before restarting after an interruption of {duration_text(pause)}"
    starts_cycle = cycle_premedication is not None
    restart = [
        premedication_dose(rule, body, at, reason)
        for rule in regimen.premedication
        if rule.applies(trigger=PremedTrigger.RESTART, cycle=cycle, age_group=group)
        and not (
            starts_cycle
            and rule.applies(trigger=PremedTrigger.CYCLE_START, cycle=cycle, age_group=group)
        )
    ]
    doses = [*(cycle_premedication or ()), *restart]
    return restart, [
        _premedicate(doses, at, cycle, regimen, group, rules),
        Decision(
            at,
            DecisionKind.SUPERVISE,
            (
                f"Restart after an interruption of {duration_text(pause)} (at least "
                f"{rules.restart_care_min_hours} h): under healthcare-professional supervision "
                "or in hospital.",
            ),
            rules.restart_care_source,
        ),
    ]


def _premedicate(
    doses: Sequence[PremedicationDose],
    at: datetime,
    cycle: int,
    regimen: Regimen,
    group: AgeGroup,
    rules: InterruptionRules,
) -> Decision:
    """The premedication decision of a restart: the doses, or, with none, the older
    label's restart premedication beside (an adult's) or the prescriber's call (a
    child's)."""
    if doses:
        return Decision(
            at,
            DecisionKind.PREMEDICATE,
            tuple(f"{d.drug} {d.dose} {d.route}, {d.timing}: {d.reason}." for d in doses),
            doses[0].source,
        )
    if group is AgeGroup.ADULT:
        return Decision(
            at,
            DecisionKind.PREMEDICATE,
            (
                f"No premedication rule of {regimen.name} applies on restart "
                f"to an adult patient in cycle {cycle}.",
                f"Shown beside: {rules.older_restart_premedication}",
            ),
            rules.older_restart_premedication_source,
            DecisionLevel.SOFT,
        )
    # The older label's restart premedication is an adult dose: never shown for a child.
    return Decision(
        at,
        DecisionKind.PREMEDICATE,
        (
            f"No premedication rule of {regimen.name} applies on restart "
            f"to a child in cycle {cycle}; the prescriber decides.",
        ),
        rules.restart_care_source,
        DecisionLevel.SOFT,
    )


# --- a cycle stopped before its step-up -------------------------------------------------------


class Repeat(NamedTuple):
    """The step-up a new cycle may repeat: the interrupted cycle's first dose, how long
    that step lasts, and the cycle's number."""

    first: McgPerDay
    length: timedelta
    cycle: int


def step_up_not_reached(run: CycleRun) -> Repeat | None:
    """For a cycle with a step-up that was stopped before it: the step-up it could repeat
    (None once the full dose was reached)."""
    steps = run.spec.steps
    if len(steps) < 2 or run.infused >= (steps[-1].first_day - 1) * DAY:
        return None
    return Repeat(run.doses[0], steps[0].last_day * DAY, run.spec.number)


def step_up_offer(repeat: Repeat, full: McgPerDay, at: datetime, source: str) -> Decision:
    """The new cycle starts at its full dose, as the label says; the patient never
    reached it in the interrupted cycle: say so, and offer the step-up again."""
    first, length, cycle = repeat
    return Decision(
        at,
        DecisionKind.STEP_UP,
        (
            f"Cycle {cycle} was interrupted before its step-up: the patient never "
            f"reached the full dose. The new cycle starts at {full}, as the label "
            "says; the physician may repeat the step-up instead (record the restart "
            f"at {first}): blina then steps up to {full} after {duration_text(length)}, as "
            f"in cycle {cycle}.",
        ),
        source,
        DecisionLevel.SOFT,
    )


def offer_while_open(
    interruption: Interruption,
    now: datetime,
    rules: InterruptionRules,
    repeat: Repeat | None,
    full: McgPerDay | None,
    source: str,
) -> Decision | None:
    """An interruption still open past the same-cycle limit: its restart will start a
    new cycle (at ``full``; None: no cycle is left). When the patient never reached the
    full dose, the step-up is offered now, while the physician can still take it when
    recording the restart."""
    limit = rules.same_cycle_max_days * DAY
    if now - interruption.at <= limit or repeat is None or full is None:
        return None
    return step_up_offer(repeat, full, interruption.at + limit, source)


def repeated_step_up(
    repeat: Repeat, full: McgPerDay, at: datetime, total: timedelta, source: str
) -> tuple[Cap, Decision]:
    """The physician's choice, recorded as the restart dose: the first step again, held
    for its days of infusion from ``total``."""
    first, length, cycle = repeat
    return Cap(first, total + length, None), Decision(
        at,
        DecisionKind.RESTART,
        (
            f"Restart at {first}: the physician repeats cycle {cycle}'s step-up; step "
            f"up to {full} after {duration_text(length)} of infusion.",
        ),
        source,
        DecisionLevel.SOFT,
    )


def repeated_cycle_premedication(
    run: CycleRun, at: datetime, regimen: Regimen, body: BodySize
) -> list[PremedicationDose]:
    """The repeated cycle's first-dose premedication that the new cycle's own rules
    leave out (a child's, which the label gives in the first cycle only). The label
    says nothing of a step-up repeated in a later cycle: blina premedicates it as the
    cycle it repeats, the safer reading."""
    group = body.age_group
    reason = (
        f"before the first dose of cycle {run.spec.number}, which repeats cycle "
        f"{run.premedicated_as}'s step-up (premedicated as cycle {run.premedicated_as})"
    )
    return [
        premedication_dose(rule, body, at, reason)
        for rule in regimen.premedication
        if rule.applies(
            trigger=PremedTrigger.CYCLE_START, cycle=run.premedicated_as, age_group=group
        )
        and not rule.applies(
            trigger=PremedTrigger.CYCLE_START, cycle=run.spec.number, age_group=group
        )
    ]


# --- on the way -------------------------------------------------------------------------------


def stepped_up(step: StepUp) -> Decision:
    """A restart's cap ran out without recurrence: the dose steps up."""
    return Decision(
        step.at,
        DecisionKind.STEP_UP,
        (
            f"{duration_text(step.action.step_up_after or timedelta(0))} at {step.before} "
            f"without recurrence: step up to {step.after}.",
        ),
        step.action.source,
    )
