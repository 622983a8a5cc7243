"""The label's dose modifications: adverse reaction + grade -> what to do.

The table is data (``knowledge/toxicity.toml``, one row per reaction, grade and weight
band), each row holding the current label's rule and the older US-2014 rule beside it.
The project rule for sources applies: the newest label-derived rule acts and the older
one is shown beside it, as a warning where it is stricter. Where the current wording
was NOT RETRIEVED, the older rule is the only one there is: it is applied, and the
action says so and asks for confirmation against the current label.

Rules encoded here, not in the data:

- a seizure is judged first by the seizure row (more than ``max_seizures`` in the
  course: discontinue permanently), else by the neurological-toxicity row for its grade;
- a reaction and grade with no row of its own falls back to the "other clinically
  relevant adverse reaction" row from grade 3; below grade 3 the table has no row, so
  there is no label modification.

About 630 lines: the row lookup, the comparison of the current and older rules and the
seizure and fallback rules all read the same rows, and the action's sentences sit beside
the rule that writes them.
"""

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import timedelta
from enum import StrEnum

from blina.domain.errors import InvalidInput
from blina.domain.sentences import Param, Sentence, Template
from blina.domain.units import M2, Kg, McgPerDay, McgPerM2PerDay, Mg, MgPerM2

__all__ = [
    "Action",
    "ActionKind",
    "AdverseReaction",
    "Corticosteroid",
    "CourseState",
    "DoseRule",
    "InterruptionRules",
    "ModificationRow",
    "ModificationRules",
    "Rule",
    "WeightBand",
    "decide",
    "effective_rule",
]

# The sentences the table's answer is written in (``blina.domain.sentences``).
SEIZURE_COUNT = Template(
    "Seizure {seizure} of the course: more than {limit} means permanent discontinuation "
    "({source}); until then the neurological-toxicity row for grade {grade} applies."
)
NO_ROW_OF_ITS_OWN = Template(
    "No row of its own for {reaction} grade {grade}: the 'other clinically relevant "
    "adverse reaction' row applies."
)
NO_ROW = Template("{reaction} grade {grade}: {rule}")
RECURRED = Template(
    "The reaction has recurred ({episodes} earlier episode(s)): the rule says discontinue "
    "permanently."
)
BEGAN_AT_RESTART_STEP = Template(
    "The reaction began at {onset}, already at the rule's restart step ({lowest}): a "
    "restart cannot lower the dose; discontinue permanently."
)
CHILD_STEP = Template(
    "a child's restart at the lower step, {restart}, then {step_up} after {days} days "
    "without recurrence, as the retrieved < 45 kg row {row} does ({edition}, {source})"
)
STRICTER_ACTION = Template("the action is {kind}")
STRICTER_RESOLUTION = Template(
    "discontinue permanently if it takes more than {days} days to resolve"
)
STRICTER_RECURRENCE = Template("discontinue permanently if it recurs")
STRICTER_AT_RESTART_STEP = Template("discontinue permanently if it began at the restart step")
STRICTER_RECOVERY = Template("restart only after {days} days at grade 1 or less")
STRICTER_RESTART = Template("restart at {dose}")
STRICTER_FROM = Template("{what} ({edition}, {source})")
RESTART_PATH_RULE = Template(
    "{rule} A restart, if the physician decides on one, follows the grade-3 rule: {grade_3}"
)
RESTART_FOLLOWS_GRADE_3 = Template("a restart follows the grade-3 rule ({row})")
DOSE_AT_MOST = Template("{dose} (at most {cap})")
ROW_RULE = Template("{reaction} grade {grade}: {rule} ({edition}, {source}).")
CURRENT_NOT_RETRIEVED = Template(
    "The current label's rule was NOT RETRIEVED ({gap}): the older rule is applied; "
    "confirm against the current label."
)
GAP = Template("Gap: {gap}")
STRICTER_DECIDES = Template(
    "The current text is not fully retrieved, so the stricter rule decides: {parts}."
)
BEGAN_NOT_ABOVE_RESTART = Template(
    "The reaction began at {onset}, not above the restart dose {restart}: restarting at "
    "that dose does not lower it; check the label's rule for this case."
)
OLDER_LABEL = Template("Older label ({edition}, {source}): {rule}")
OLDER_STRICTER_RESOLUTION = Template(
    "Stricter in the older label: discontinue permanently if the reaction takes more than "
    "{days} days to resolve."
)
OLDER_STRICTER_RECURRED = Template(
    "Stricter in the older label: the reaction has recurred; it says discontinue."
)
OLDER_STRICTER_RECURRENCE = Template(
    "Stricter in the older label: discontinue permanently if the reaction recurs."
)

_GRADES = range(1, 5)


class AdverseReaction(StrEnum):
    CRS = "crs"
    NEUROLOGICAL = "neurological"
    SEIZURE = "seizure"
    LIVER = "liver"
    PANCREATITIS = "pancreatitis"
    NEUTROPENIA = "neutropenia"
    INFECTION = "infection"
    OTHER = "other"
    OVERDOSE = "overdose"


class ActionKind(StrEnum):
    CONTINUE = "continue"
    INTERRUPT = "interrupt"
    CONSIDER_DISCONTINUATION = "consider-discontinuation"
    DISCONTINUE = "discontinue"


class WeightBand(StrEnum):
    """Rows that differ by weight use the regimen's threshold (45 kg in the label)."""

    ANY = "any"
    AT_OR_ABOVE = "at-or-above-threshold"
    BELOW = "below-threshold"


@dataclass(frozen=True, slots=True)
class Corticosteroid:
    """A corticosteroid course: a fixed dose, or per m2 with a maximum, every few hours."""

    drug: str
    route: str
    dose: Mg | None
    dose_per_m2: MgPerM2 | None
    max_dose: Mg | None
    every_hours: int
    max_days: int
    taper_days: int | None
    text: str


@dataclass(frozen=True, slots=True)
class DoseRule:
    """A daily dose: ``fixed``, or ``per_m2`` x BSA never above ``cap``."""

    fixed: McgPerDay | None
    per_m2: McgPerM2PerDay | None
    cap: McgPerDay | None


@dataclass(frozen=True, slots=True)
class Rule:
    """One label's rule for one row of the table.

    ``min_recovery_days``: days at the recovered level before restarting;
    ``max_resolution_days``: a reaction taking longer to resolve means permanent
    discontinuation; ``max_seizures``: more seizures than this means discontinuation;
    ``min_restart_hours``: the earliest restart after the interruption;
    ``discontinue_at_restart_dose``: a reaction that began at (or below) the rule's
    restart dose means permanent discontinuation. ``gaps`` names the parts of the rule
    that were NOT RETRIEVED: a rule with gaps is *partial*.
    """

    edition: str
    kind: ActionKind
    text: str
    source: str
    resume_when: str | None = None
    min_recovery_days: int | None = None
    max_resolution_days: int | None = None
    recurrence_discontinues: bool = False
    discontinue_at_restart_dose: bool = False
    max_seizures: int | None = None
    min_restart_hours: int | None = None
    corticosteroid: Corticosteroid | None = None
    restart: DoseRule | None = None
    step_up_after_days: int | None = None
    step_up: DoseRule | None = None
    gaps: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ModificationRow:
    """A row of the label's table; ``current`` is None where its wording was NOT RETRIEVED."""

    id: str
    reaction: AdverseReaction
    grades: frozenset[int]
    weight_band: WeightBand
    current: Rule | None
    current_gap: str | None
    older: Rule | None

    @property
    def acting(self) -> Rule:
        rule = self.current if self.current is not None else self.older
        assert rule is not None, "the loader refuses a row with neither rule"
        return rule


@dataclass(frozen=True, slots=True)
class InterruptionRules:
    """The label's rules on the length of interruptions and on restarting."""

    same_cycle_max_days: int
    same_cycle_source: str
    restart_care_min_hours: int
    restart_care_source: str
    older_restart_premedication: str
    older_restart_premedication_source: str
    no_row: str
    no_row_source: str
    # The conservative restart for a child (< the weight threshold) whose row has no
    # restart dose of its own: the retrieved < 45 kg row it names (its restart and
    # step-up, per m2 and capped).
    child_step: Rule | None = None
    child_step_row: str | None = None


@dataclass(frozen=True, slots=True)
class ModificationRules:
    rows: tuple[ModificationRow, ...]
    interruptions: InterruptionRules

    def row(self, reaction: AdverseReaction, grade: int, below: bool) -> ModificationRow | None:
        for row in self.rows:
            if row.reaction is reaction and grade in row.grades:
                band = row.weight_band
                if band is WeightBand.ANY or (band is WeightBand.BELOW) is below:
                    return row
        return None


@dataclass(frozen=True, slots=True)
class CourseState:
    """What ``decide`` needs to know about the patient and the course so far.

    ``seizures`` counts the seizures of the course including this one;
    ``earlier_episodes`` the earlier interruptions for the same reaction at grade 3 or
    more; ``dose_at_onset`` the dose running when the reaction began.
    """

    weight: Kg
    bsa: M2 | None
    weight_threshold: Kg
    seizures: int = 0
    earlier_episodes: int = 0
    dose_at_onset: McgPerDay | None = None

    @property
    def below_threshold(self) -> bool:
        return self.weight.value < self.weight_threshold.value


@dataclass(frozen=True, slots=True)
class Action:
    """What the label says to do, with the doses worked out for this patient.

    ``from_older`` is True when the current label's rule was NOT RETRIEVED and the older
    rule was applied; ``needs_confirmation`` when any part of the rule is a gap.
    ``stricter`` names each part of ``rule`` that a stricter companion rule set because
    the row's own text is partial (``effective_rule``): such a part decides as a hard
    decision.
    """

    kind: ActionKind
    reaction: AdverseReaction
    grade: int
    row_id: str | None
    rule: Rule | None
    older: Rule | None
    from_older: bool
    corticosteroid_dose: Mg | None
    restart_dose: McgPerDay | None
    step_up_dose: McgPerDay | None
    step_up_after: timedelta | None
    min_recovery: timedelta | None
    max_resolution: timedelta | None
    min_restart_after: timedelta | None
    reasons: tuple[str, ...]
    warnings: tuple[str, ...]
    source: str
    stricter: tuple[str, ...] = ()

    @property
    def needs_confirmation(self) -> bool:
        return self.from_older or (self.rule is not None and bool(self.rule.gaps))


def decide(
    *, reaction: AdverseReaction, grade: int, state: CourseState, rules: ModificationRules
) -> Action:
    """The label's action for ``reaction`` at ``grade`` in this course.

    Parameters
    ----------
    reaction : the adverse reaction behind the event.
    grade : 1 to 4, on the scale the label's table uses (its footnote naming the scale
        was NOT RETRIEVED: ASTCT for CRS and ICANS is assumed by the callers).
    state : the patient's weight and BSA, the regimen's weight threshold, seizures so far,
        earlier episodes of the same reaction and the dose at onset.
    rules : the modification table (``blina.knowledge``).

    Raises ``InvalidInput`` for a grade outside 1-4, or a per-m2 dose without a BSA.
    """
    if grade not in _GRADES:
        raise InvalidInput("grade", grade, ">= 1 and <= 4 (grade 5 is death)")
    below = state.below_threshold
    if reaction is AdverseReaction.SEIZURE:
        seizure_row = rules.row(reaction, grade, below)
        limit = None if seizure_row is None else seizure_row.acting.max_seizures
        if seizure_row is not None and limit is not None:
            if max(state.seizures, 1) > limit:
                return _action(
                    seizure_row,
                    seizure_row.acting,
                    reaction,
                    grade,
                    state,
                    ActionKind.DISCONTINUE,
                    (),
                )
            first = SEIZURE_COUNT(
                seizure=max(state.seizures, 1),
                limit=limit,
                source=seizure_row.acting.source,
                grade=grade,
            )
            return _decide_row(AdverseReaction.NEUROLOGICAL, reaction, grade, state, rules, first)
    return _decide_row(reaction, reaction, grade, state, rules, None)


def _decide_row(
    looked_up: AdverseReaction,
    reaction: AdverseReaction,
    grade: int,
    state: CourseState,
    rules: ModificationRules,
    lead: str | None,
) -> Action:
    below = state.below_threshold
    leads = [] if lead is None else [lead]
    row = rules.row(looked_up, grade, below)
    if row is None and grade >= 3:
        row = rules.row(AdverseReaction.OTHER, grade, below)
        leads.append(NO_ROW_OF_ITS_OWN(reaction=looked_up, grade=grade))
    if row is None:
        table = rules.interruptions
        return Action(
            kind=ActionKind.CONTINUE,
            reaction=reaction,
            grade=grade,
            row_id=None,
            rule=None,
            older=None,
            from_older=False,
            corticosteroid_dose=None,
            restart_dose=None,
            step_up_dose=None,
            step_up_after=None,
            min_recovery=None,
            max_resolution=None,
            min_restart_after=None,
            reasons=(*leads, NO_ROW(reaction=looked_up, grade=grade, rule=table.no_row)),
            warnings=(),
            source=table.no_row_source,
        )
    rule, stricter = effective_rule(row, grade, rules, below)
    if rule.kind is ActionKind.CONSIDER_DISCONTINUATION:
        rule, path = _restart_path(row, rule, rules, below)
        stricter = (*stricter, *path)
    kind = rule.kind
    if rule.recurrence_discontinues and state.earlier_episodes > 0:
        kind = ActionKind.DISCONTINUE
        leads.append(RECURRED(episodes=state.earlier_episodes))
    onset = state.dose_at_onset
    lowest = None if rule.restart is None else _daily_dose(rule.restart, state, "restart")
    at_lowest = lowest is not None and onset is not None and onset.value <= lowest.value
    if rule.discontinue_at_restart_dose and at_lowest:
        kind = ActionKind.DISCONTINUE
        assert onset is not None
        assert lowest is not None
        leads.append(BEGAN_AT_RESTART_STEP(onset=onset, lowest=lowest))
    return _action(row, rule, reaction, grade, state, kind, leads, stricter)


_SEVERITY = {
    ActionKind.CONTINUE: 0,
    ActionKind.INTERRUPT: 1,
    ActionKind.CONSIDER_DISCONTINUATION: 2,
    ActionKind.DISCONTINUE: 3,
}


def effective_rule(
    row: ModificationRow, grade: int, rules: ModificationRules, below: bool
) -> tuple[Rule, tuple[str, ...]]:
    """The rule that acts for ``row`` at ``grade``, and what stricter companions set in it.

    A row whose own text is complete acts as written (an older, stricter rule is only
    shown beside it). Where the text is *partial* (the current rule has gaps, or was NOT
    RETRIEVED and the older one stands in), every part of a companion rule that is
    stricter acts instead, and is named: the older label's rule of the row; for a row of
    the child column, the adult row of the same reaction and grade (as it acts); for a
    reaction whose row gives no restart, the "other clinically relevant adverse
    reaction" row of the grade. A child (``below`` the weight threshold) whose rule
    still has no restart dose per m2 restarts at the child's lower step
    (``InterruptionRules.child_step``), never at the full dose. A gap in the sources
    never makes the decision less careful.
    """
    rule = row.acting
    if row.current is not None and not row.current.gaps:
        return rule, ()
    notes: list[str] = []
    companions: list[Rule] = []
    if row.current is not None and row.older is not None:
        companions.append(row.older)
    if row.weight_band is WeightBand.BELOW:
        adult = rules.row(row.reaction, grade, below=False)
        if adult is not None:
            companions.append(effective_rule(adult, grade, rules, False)[0])
    other = rules.row(AdverseReaction.OTHER, grade, below)
    if rule.restart is None and row.reaction is not AdverseReaction.OTHER and other is not None:
        companions.append(effective_rule(other, grade, rules, below)[0])
    for companion in companions:
        rule = _stricter(rule, companion, notes)
    child = rules.interruptions.child_step
    restarts = rule.kind is not ActionKind.DISCONTINUE
    if (
        below
        and restarts
        and child is not None
        and (rule.restart is None or not rule.restart.per_m2)
    ):
        rule = replace(
            rule,
            restart=child.restart,
            step_up=child.step_up,
            step_up_after_days=child.step_up_after_days,
        )
        notes.append(
            CHILD_STEP(
                restart=_dose_text(child.restart),
                step_up=_dose_text(child.step_up),
                days=str(child.step_up_after_days),
                row=str(rules.interruptions.child_step_row),
                edition=child.edition,
                source=child.source,
            )
        )
    return rule, tuple(notes)


def _stricter(rule: Rule, other: Rule, notes: list[str]) -> Rule:
    """``rule`` with every part of ``other`` that is stricter, each named in ``notes``."""
    changes: dict[str, object] = {}
    said: list[Sentence] = []
    if _SEVERITY[other.kind] > _SEVERITY[rule.kind]:
        changes["kind"] = other.kind
        said.append(STRICTER_ACTION(kind=other.kind))
    limit = other.max_resolution_days
    if limit is not None and (rule.max_resolution_days is None or limit < rule.max_resolution_days):
        changes["max_resolution_days"] = limit
        said.append(STRICTER_RESOLUTION(days=limit))
    if other.recurrence_discontinues and not rule.recurrence_discontinues:
        changes["recurrence_discontinues"] = True
        said.append(STRICTER_RECURRENCE())
    if other.discontinue_at_restart_dose and not rule.discontinue_at_restart_dose:
        changes["discontinue_at_restart_dose"] = True
        said.append(STRICTER_AT_RESTART_STEP())
    recovery = other.min_recovery_days
    if recovery is not None and (
        rule.min_recovery_days is None or recovery > rule.min_recovery_days
    ):
        changes["min_recovery_days"] = recovery
        changes["resume_when"] = other.resume_when
        said.append(STRICTER_RECOVERY(days=recovery))
    if (
        rule.restart is None
        and other.restart is not None
        and rule.kind is not ActionKind.DISCONTINUE
    ):
        changes["restart"] = other.restart
        changes["step_up"] = other.step_up
        changes["step_up_after_days"] = other.step_up_after_days
        said.append(STRICTER_RESTART(dose=_dose_text(other.restart)))
    notes.extend(
        STRICTER_FROM(what=what, edition=other.edition, source=other.source) for what in said
    )
    return replace(rule, **changes) if changes else rule  # type: ignore[arg-type]


def _restart_path(
    row: ModificationRow, rule: Rule, rules: ModificationRules, below: bool
) -> tuple[Rule, tuple[str, ...]]:
    """ "Consider permanent discontinuation" (grade 4) never restarts sooner or at a higher
    dose than grade 3: a restart, if the physician decides on one, follows the grade-3
    rule of the reaction (or of "other" reactions)."""
    three = rules.row(row.reaction, 3, below) or rules.row(AdverseReaction.OTHER, 3, below)
    if three is None:
        return rule, ()
    path, notes = effective_rule(three, 3, rules, below)
    merged = replace(
        path,
        kind=rule.kind,
        edition=rule.edition,
        text=RESTART_PATH_RULE(rule=rule.text, grade_3=path.text),
        source=rule.source,
        gaps=(*rule.gaps, *path.gaps),
    )
    return merged, (RESTART_FOLLOWS_GRADE_3(row=three.id), *notes)


def _dose_text(dose: DoseRule | None) -> Param:
    assert dose is not None
    if dose.per_m2 is None:
        assert dose.fixed is not None
        return dose.fixed
    if dose.cap is None:
        return dose.per_m2
    return DOSE_AT_MOST(dose=dose.per_m2, cap=dose.cap)


def _action(
    row: ModificationRow,
    rule: Rule,
    reaction: AdverseReaction,
    grade: int,
    state: CourseState,
    kind: ActionKind,
    leads: Iterable[str],
    stricter: tuple[str, ...] = (),
) -> Action:
    from_older = row.current is None
    older = None if from_older else row.older
    reasons = [
        *leads,
        ROW_RULE(
            reaction=row.reaction,
            grade=grade,
            rule=rule.text,
            edition=rule.edition,
            source=rule.source,
        ),
    ]
    if from_older:
        reasons.append(CURRENT_NOT_RETRIEVED(gap=row.current_gap or ""))
    reasons.extend(GAP(gap=gap) for gap in rule.gaps)
    if stricter:
        reasons.append(STRICTER_DECIDES(parts=stricter))
    restart = None if rule.restart is None else _daily_dose(rule.restart, state, "restart")
    warnings = list(_older_beside(rule, older, state))
    onset = state.dose_at_onset
    if (
        restart is not None
        and onset is not None
        and onset.value <= restart.value
        and kind is not ActionKind.DISCONTINUE
    ):
        warnings.append(BEGAN_NOT_ABOVE_RESTART(onset=onset, restart=restart))
    steroid = rule.corticosteroid
    return Action(
        kind=kind,
        reaction=reaction,
        grade=grade,
        row_id=row.id,
        rule=rule,
        older=older,
        from_older=from_older,
        corticosteroid_dose=None if steroid is None else _steroid_dose(steroid, state),
        restart_dose=restart,
        step_up_dose=None if rule.step_up is None else _daily_dose(rule.step_up, state, "step_up"),
        step_up_after=_days(rule.step_up_after_days),
        min_recovery=_days(rule.min_recovery_days),
        max_resolution=_days(rule.max_resolution_days),
        min_restart_after=None
        if rule.min_restart_hours is None
        else timedelta(hours=rule.min_restart_hours),
        reasons=tuple(reasons),
        warnings=tuple(warnings),
        source=rule.source,
        stricter=stricter,
    )


def _older_beside(rule: Rule, older: Rule | None, state: CourseState) -> Iterable[str]:
    """The older label's rule, shown beside the current one; flagged where it is stricter."""
    if older is None:
        return
    yield OLDER_LABEL(edition=older.edition, source=older.source, rule=older.text)
    if older.max_resolution_days is not None and rule.max_resolution_days is None:
        yield OLDER_STRICTER_RESOLUTION(days=older.max_resolution_days)
    if older.recurrence_discontinues and not rule.recurrence_discontinues:
        if state.earlier_episodes > 0:
            yield OLDER_STRICTER_RECURRED()
        else:
            yield OLDER_STRICTER_RECURRENCE()


def _daily_dose(rule: DoseRule, state: CourseState, field: str) -> McgPerDay:
    if rule.per_m2 is None or (rule.fixed is not None and not state.below_threshold):
        assert rule.fixed is not None
        return rule.fixed
    if state.bsa is None:
        raise InvalidInput(
            "height_cm", "(missing)", f"given: the {field} dose is per m2 of body surface area"
        )
    dose = rule.per_m2 * state.bsa
    return dose if rule.cap is None else dose.capped_at(rule.cap)


def _steroid_dose(steroid: Corticosteroid, state: CourseState) -> Mg:
    if steroid.dose is not None:
        return steroid.dose
    assert steroid.dose_per_m2 is not None
    if state.bsa is None:
        raise InvalidInput(
            "height_cm", "(missing)", f"given: {steroid.drug} is dosed per m2 of body surface area"
        )
    dose = steroid.dose_per_m2 * state.bsa
    return dose if steroid.max_dose is None else dose.capped_at(steroid.max_dose)


def _days(count: int | None) -> timedelta | None:
    return None if count is None else timedelta(days=count)
