"""The label's rules when the infusion stops, as pure functions.

Each function takes what its rule reads (the interruption, the action the modification
table gives for it, the restart as logged) and returns what the rule decides; none of
them changes anything. The replay (``replay.Replay``) applies their answers in the order
the event log drives:

- the interruption: ``onset_state`` (what the table reads), ``interruption_decision``;
- a reaction that takes too long to resolve: ``resolution_time``, ``too_long`` (and the
  older label's limit beside, ``older_limit``), ``open_too_long`` for one still open;
- the end: ``discontinued_by_log``, and ``not_applied`` for an event after a rule ended
  the course.
"""

from collections.abc import Sequence
from datetime import datetime, timedelta

from blina.domain.body import BodySize
from blina.domain.modifications import (
    Action,
    ActionKind,
    AdverseReaction,
    CourseState,
    InterruptionRules,
)
from blina.domain.regimens import Regimen
from blina.domain.replanning.decisions import Decision, DecisionKind, DecisionLevel
from blina.domain.replanning.events import Discontinuation, Event, Interruption, Restart
from blina.domain.replanning.ledger import DAY
from blina.domain.sentences import Template
from blina.domain.units import McgPerDay

__all__ = [
    "decision_level",
    "discontinued_by_log",
    "interruption_decision",
    "not_applied",
    "older_limit",
    "onset_state",
    "open_too_long",
    "resolution_time",
    "too_long",
]

_KIND_OF_ACTION = {
    ActionKind.CONTINUE: DecisionKind.CONTINUE,
    ActionKind.INTERRUPT: DecisionKind.INTERRUPT,
    ActionKind.CONSIDER_DISCONTINUATION: DecisionKind.CONSIDER_DISCONTINUATION,
    ActionKind.DISCONTINUE: DecisionKind.DISCONTINUE,
}

_STOPPED_WITHOUT_A_RULE = Template(
    "The infusion was stopped as recorded; the label does not ask for an interruption at"
    " this grade, so the restart (at the dose before the interruption) is the care team's"
    " decision."
)
GIVE_CORTICOSTEROID = Template("Give {drug} {dose} per dose: {how}.")
RESTART_WHEN = Template("Restart when {condition}.")
DISCONTINUE_UNLESS_RESTARTED = Template(
    "Discontinue permanently unless the physician decides to restart and records "
    "why; a restart follows the grade-3 rule, never sooner or at a higher dose."
)
TOOK_TOO_LONG = Template(
    "{cause} grade {grade} took {took} to resolve, more than the {days} days the rule "
    "allows: discontinue permanently."
)
RESOLUTION_ASSUMED = Template(
    "No resolution time was logged: it is taken as the restart minus the recovery days "
    "the rule asks for (the latest the log allows)."
)
OLDER_LABEL_LIMIT = Template("This limit is the older label's: confirm against the current label.")
RESTART_REFUSED = Template("Restart refused: the course was discontinued at {at}.")
TOOK_LONGER_THAN_OLDER = Template(
    "{cause} grade {grade} took {took} to resolve. The older label ({edition}) "
    "discontinues permanently after {days} days; the current label's wording for "
    "this was NOT RETRIEVED. Confirm before restarting and record why."
)
OPEN_TOO_LONG = Template(
    "{cause} grade {grade}: no restart logged within the {days} days the rule allows "
    "for it to resolve: discontinue permanently."
)
DISCONTINUED_BY_LOG = Template("Discontinued by the event log: {reason}.")
NOT_APPLIED = Template("Not applied: the course ended at {at}.")


def decision_level(action: Action, *, discontinues: bool) -> DecisionLevel:
    """A discontinuation is ``hard`` where the row's text is partial and stricter rules
    took part (a gap never makes the decision less careful); otherwise ``soft`` where a
    gap asks for confirmation, else ``info``."""
    if discontinues and action.stricter:
        return DecisionLevel.HARD
    return DecisionLevel.SOFT if action.needs_confirmation else DecisionLevel.INFO


# --- the interruption -------------------------------------------------------------------------


def onset_state(
    event: Interruption,
    earlier: Sequence[Interruption],
    body: BodySize,
    regimen: Regimen,
    dose_at_onset: McgPerDay,
) -> CourseState:
    """The course as the modification table reads it when ``event`` happens: the patient,
    the seizures so far (this one included) and the earlier grade 3-4 episodes of the
    same reaction."""
    episodes = sum(1 for e in earlier if e.cause is event.cause and e.grade >= 3)
    seizures = sum(1 for e in earlier if e.cause is AdverseReaction.SEIZURE)
    return CourseState(
        weight=body.weight,
        bsa=body.bsa,
        weight_threshold=regimen.weight_threshold,
        seizures=seizures + (event.cause is AdverseReaction.SEIZURE),
        earlier_episodes=episodes,
        dose_at_onset=dose_at_onset,
    )


def interruption_decision(event: Interruption, action: Action) -> Decision:
    """The decision an interruption gets: its kind (``discontinue`` when the course ends
    here) with the rule's reasons, corticosteroid and restart condition."""
    rule = action.rule
    reasons = list(action.reasons)
    if action.corticosteroid_dose is not None:
        assert rule is not None
        assert rule.corticosteroid is not None
        steroid = rule.corticosteroid
        reasons.append(
            GIVE_CORTICOSTEROID(
                drug=steroid.drug, dose=action.corticosteroid_dose, how=steroid.text
            )
        )
    if action.kind is not ActionKind.DISCONTINUE and rule is not None and rule.resume_when:
        reasons.append(RESTART_WHEN(condition=rule.resume_when))
    reasons.extend(action.warnings)
    level = decision_level(action, discontinues=action.kind is ActionKind.DISCONTINUE)
    if action.kind is ActionKind.CONSIDER_DISCONTINUATION:
        # Discontinue, unless the physician decides to restart (on the grade-3 path).
        level = DecisionLevel.HARD
        reasons.insert(0, DISCONTINUE_UNLESS_RESTARTED())
    kind = _KIND_OF_ACTION[action.kind]
    if kind is DecisionKind.CONTINUE:
        # The log says the infusion was stopped: the first word says so, even where
        # the label would have let it run.
        kind = DecisionKind.INTERRUPT
        reasons.insert(0, _STOPPED_WITHOUT_A_RULE())
    return Decision(event.at, kind, tuple(reasons), action.source, level)


# --- a reaction that takes too long to resolve ------------------------------------------------


def resolution_time(
    interruption: Interruption, action: Action, restart: Restart
) -> tuple[timedelta, bool]:
    """How long the reaction took to resolve, and whether that was assumed: with no
    resolution logged, the restart minus the recovery days the rule asks for (the latest
    the log allows)."""
    resolved = restart.resolved_at
    assumed = (
        resolved if resolved is not None else restart.at - (action.min_recovery or timedelta(0))
    )
    return max(assumed - interruption.at, timedelta(0)), resolved is None


def too_long(
    interruption: Interruption, action: Action, took: timedelta, at: datetime, assumed: bool
) -> tuple[Decision, Decision] | None:
    """Past the rule's resolution limit: discontinue at the limit, and refuse the restart
    logged at ``at`` (None within the limit)."""
    limit = action.max_resolution
    if limit is None or took <= limit:
        return None
    limit_at = interruption.at + limit
    reasons: list[str] = [
        TOOK_TOO_LONG(
            cause=interruption.cause, grade=interruption.grade, took=took, days=limit.days
        ),
    ]
    if assumed:
        reasons.append(RESOLUTION_ASSUMED())
    if action.from_older:
        reasons.append(OLDER_LABEL_LIMIT())
    return (
        Decision(
            limit_at,
            DecisionKind.DISCONTINUE,
            tuple(reasons),
            action.source,
            decision_level(action, discontinues=True),
        ),
        Decision(
            at,
            DecisionKind.REFUSE,
            (RESTART_REFUSED(at=limit_at),),
            action.source,
            DecisionLevel.HARD,
        ),
    )


def older_limit(
    interruption: Interruption, action: Action, took: timedelta, at: datetime
) -> Decision | None:
    """The older label's stricter resolution limit, shown beside as a soft decision."""
    older = action.older
    if older is None or older.max_resolution_days is None or action.max_resolution is not None:
        return None
    if took <= older.max_resolution_days * DAY:
        return None
    return Decision(
        at,
        DecisionKind.CONSIDER_DISCONTINUATION,
        (
            TOOK_LONGER_THAN_OLDER(
                cause=interruption.cause,
                grade=interruption.grade,
                took=took,
                edition=older.edition,
                days=older.max_resolution_days,
            ),
        ),
        older.source,
        DecisionLevel.SOFT,
    )


def open_too_long(interruption: Interruption, action: Action, now: datetime) -> Decision | None:
    """An interruption with no restart logged by ``now``, past the rule's resolution
    limit: discontinue at the limit."""
    limit = action.max_resolution
    if limit is None or now - interruption.at <= limit:
        return None
    return Decision(
        interruption.at + limit,
        DecisionKind.DISCONTINUE,
        (OPEN_TOO_LONG(cause=interruption.cause, grade=interruption.grade, days=limit.days),),
        action.source,
        DecisionLevel.SOFT if action.needs_confirmation else DecisionLevel.INFO,
    )


# --- the end ----------------------------------------------------------------------------------


def discontinued_by_log(event: Discontinuation) -> Decision:
    return Decision(
        event.at,
        DecisionKind.DISCONTINUE,
        (DISCONTINUED_BY_LOG(reason=event.reason),),
        "event-log",
        DecisionLevel.INFO,
    )


def not_applied(event: Event, ended_at: datetime, rules: InterruptionRules) -> Decision:
    """An event after the course ended by a rule (not by the log): shown, not applied."""
    return Decision(
        event.at,
        DecisionKind.REFUSE,
        (NOT_APPLIED(at=ended_at),),
        rules.same_cycle_source,
        DecisionLevel.HARD,
    )
