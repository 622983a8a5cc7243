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
from blina.domain.replanning.decisions import Decision, DecisionKind, DecisionLevel
from blina.domain.replanning.events import Interruption, Restart
from blina.domain.replanning.ledger import DAY, Cap, CycleRun, StepUp
from blina.domain.sentences import Sentence, Template
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


# The sentences of the restart's decisions (``blina.domain.sentences``).
AFTER_RESOLVED = Template("{span} after the reaction resolved")
AFTER_INTERRUPTION = Template("{span} after the interruption")
BOTH = Template("{first} and {second}")
TOO_EARLY = Template(
    "A restart at {at} is earlier than the label allows ({why}): planned at {earliest}."
)
SAME_CYCLE = Template(
    "Interruption of {pause} (at most {days} days): cycle {cycle} continues to "
    "{infusion_days} infusion days in total ({given} given, {to_go} to go)."
)
STOOD_STILL = Template(
    "No bag ran for {delay} from {due} (the bag was hung after its time): cycle {cycle} "
    "continues to {infusion_days} infusion days in total ({given} given, {to_go} to go); "
    "the bags after it move with it."
)
LONG_PAUSE = Template(
    "No bag ran for {delay} from {due} (more than {days} days): record the interruption "
    "and the restart so the label's rule for a long interruption applies; the plan is not "
    "moved until then."
)
NEW_CYCLE = Template(
    "Interruption of {pause} (more than {days} days): a new cycle starts, cycle {cycle} "
    "({phase}); the interrupted cycle counts as given."
)
COURSE_ENDS = Template(
    "Interruption of {pause} (more than {days} days): the label starts a new cycle, but "
    "the plan has no cycle after cycle {cycle}. The course ends here; the prescriber "
    "decides what follows."
)
REGIMEN_DOSE_HERE = Template("the regimen's dose at this point of the cycle is {dose}")
RULE_RESTARTS_AT = Template("the rule restarts at {dose}")
EARLIER_RESTART_HOLDS = Template("the earlier restart's {dose} still holds")
RESTART_AT = Template("Restart at {dose}: {why}.")
ABOVE_THE_STEP = Template(
    "The logged restart dose {dose} is above the label's step for the situation, "
    "{allowed} ({why}): {allowed} is planned."
)
STEP_UP_AFTER = Template("Step up to {dose} after {span} of infusion without recurrence.")
HELD_BELOW = Template(
    "Below the regimen's dose and no step-up rule: held until the regimen's next step or "
    "the end of the cycle."
)
SHORT_PAUSE = Template(
    "Interruption of {pause} (under {hours} h): the label asks for no restart "
    "premedication or supervision."
)
BEFORE_RESTARTING = Template("before restarting after an interruption of {pause}")
SUPERVISED_RESTART = Template(
    "Restart after an interruption of {pause} (at least {hours} h): under "
    "healthcare-professional supervision or in hospital."
)
PREMEDICATION = Template("{drug} {dose} {route}, {timing}: {reason}.")
NO_ADULT_RESTART_PREMEDICATION = Template(
    "No premedication rule of {regimen} applies on restart to an adult patient in cycle {cycle}."
)
SHOWN_BESIDE = Template("Shown beside: {text}")
NO_CHILD_RESTART_PREMEDICATION = Template(
    "No premedication rule of {regimen} applies on restart to a child in cycle {cycle}; "
    "the prescriber decides."
)
STEP_UP_OFFER = Template(
    "Cycle {cycle} was interrupted before its step-up: the patient never reached the full "
    "dose. The new cycle starts at {full}, as the label says; the physician may repeat the "
    "step-up instead (record the restart at {first}): blina then steps up to {full} after "
    "{span}, as in cycle {cycle}."
)
REPEATED_STEP_UP = Template(
    "Restart at {first}: the physician repeats cycle {cycle}'s step-up; step up to {full} "
    "after {span} of infusion."
)
REPEATS_STEP_UP_REASON = Template(
    "before the first dose of cycle {cycle}, which repeats cycle {repeats}'s step-up "
    "(premedicated as cycle {repeats})"
)
STEPPED_UP = Template("{span} at {before} without recurrence: step up to {after}.")


def earliest_restart(
    restart: Restart, interruption: Interruption, action: Action
) -> tuple[datetime, Decision | None]:
    """The logged restart, or the earliest the rule allows if the log is earlier (with
    the hard decision that says so)."""
    earliest = restart.at
    resolved = restart.resolved_at
    why: list[Sentence] = []
    recovery, minimum = action.min_recovery, action.min_restart_after
    if recovery is not None and resolved is not None and resolved + recovery > earliest:
        earliest = resolved + recovery
        why.append(AFTER_RESOLVED(span=recovery))
    if minimum is not None and interruption.at + minimum > earliest:
        earliest = interruption.at + minimum
        why.append(AFTER_INTERRUPTION(span=minimum))
    if earliest == restart.at:
        return earliest, None
    return earliest, Decision(
        restart.at,
        DecisionKind.REFUSE,
        (
            TOO_EARLY(
                at=restart.at,
                why=why[0] if len(why) == 1 else BOTH(first=why[0], second=why[1]),
                earliest=earliest,
            ),
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
            SAME_CYCLE(
                pause=pause,
                days=rules.same_cycle_max_days,
                cycle=run.spec.number,
                infusion_days=run.spec.infusion_days,
                given=run.infused,
                to_go=run.remaining,
            ),
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
            STOOD_STILL(
                delay=delay,
                due=due,
                cycle=run.spec.number,
                infusion_days=run.spec.infusion_days,
                given=run.infused,
                to_go=run.remaining,
            ),
        ),
        rules.same_cycle_source,
    )


def long_pause(delay: timedelta, due: datetime, rules: InterruptionRules) -> Decision:
    """A bag hung more than the same-cycle limit after its time: the label's new-cycle
    rule needs the interruption recorded; until then the plan is not moved."""
    return Decision(
        due,
        DecisionKind.INTERRUPT,
        (LONG_PAUSE(delay=delay, due=due, days=rules.same_cycle_max_days),),
        rules.same_cycle_source,
        DecisionLevel.SOFT,
    )


def new_cycle(pause: timedelta, at: datetime, run: CycleRun, rules: InterruptionRules) -> Decision:
    """A longer pause: ``run``, the next cycle, starts at the restart."""
    return Decision(
        at,
        DecisionKind.NEW_CYCLE,
        (
            NEW_CYCLE(
                pause=pause,
                days=rules.same_cycle_max_days,
                cycle=run.spec.number,
                phase=run.spec.phase,
            ),
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
        (COURSE_ENDS(pause=pause, days=rules.same_cycle_max_days, cycle=run.spec.number),),
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
    why = [REGIMEN_DOSE_HERE(dose=base)]
    if action.restart_dose is not None and action.restart_dose.value < allowed.value:
        allowed = action.restart_dose
        why.append(RULE_RESTARTS_AT(dose=action.restart_dose))
    if prior is not None and prior.dose.value < allowed.value:
        allowed = prior.dose
        why.append(EARLIER_RESTART_HOLDS(dose=prior.dose))
    dose = allowed if requested is None else requested
    level = DecisionLevel.INFO
    reasons: list[str] = [RESTART_AT(dose=dose, why=tuple(why))]
    if dose.value > allowed.value:
        reasons = [ABOVE_THE_STEP(dose=dose, allowed=allowed, why=tuple(why))]
        dose = allowed
        level = DecisionLevel.HARD
    cap: Cap | None = None
    if action.step_up_after is not None and action.restart_dose is not None:
        cap = Cap(dose, total + action.step_up_after, action)
        assert action.step_up_dose is not None
        reasons.append(STEP_UP_AFTER(dose=action.step_up_dose, span=action.step_up_after))
    elif prior is not None:
        cap = Cap(dose, prior.until, prior.action)
    elif dose.value < base.value:
        cap = Cap(dose, next_step, None)
        reasons.append(HELD_BELOW())
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
                (SHORT_PAUSE(pause=pause, hours=rules.restart_care_min_hours),),
                rules.restart_care_source,
            )
        ]
    group = body.age_group
    reason = BEFORE_RESTARTING(pause=pause)
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
            (SUPERVISED_RESTART(pause=pause, hours=rules.restart_care_min_hours),),
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
            tuple(
                PREMEDICATION(
                    drug=d.drug, dose=d.dose, route=d.route, timing=d.timing, reason=d.reason
                )
                for d in doses
            ),
            doses[0].source,
        )
    if group is AgeGroup.ADULT:
        return Decision(
            at,
            DecisionKind.PREMEDICATE,
            (
                NO_ADULT_RESTART_PREMEDICATION(regimen=regimen.name, cycle=cycle),
                SHOWN_BESIDE(text=rules.older_restart_premedication),
            ),
            rules.older_restart_premedication_source,
            DecisionLevel.SOFT,
        )
    # The older label's restart premedication is an adult dose: never shown for a child.
    return Decision(
        at,
        DecisionKind.PREMEDICATE,
        (NO_CHILD_RESTART_PREMEDICATION(regimen=regimen.name, cycle=cycle),),
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
        (STEP_UP_OFFER(cycle=cycle, full=full, first=first, span=length),),
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
        (REPEATED_STEP_UP(first=first, cycle=cycle, full=full, span=length),),
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
    reason = REPEATS_STEP_UP_REASON(cycle=run.spec.number, repeats=run.premedicated_as)
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
            STEPPED_UP(
                span=step.action.step_up_after or timedelta(0),
                before=step.before,
                after=step.after,
            ),
        ),
        step.action.source,
    )
