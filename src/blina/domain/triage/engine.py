"""The engine: ``triage(check_in, context, rules, now=...)`` reads a check-in against the
rule set and gives a level, the rules that fired, and instructions.

``triage()`` is pure: the rules are data (``blina.knowledge`` builds them from
``knowledge/triage.toml``, each rule with its source) and the time is passed in, never
read from a clock. The answers are checked here against the rule set in use (a known
symptom, a severity on its scale, a plausible temperature), then merged, compared with the
earlier check-ins and matched through the rule set's index.

Safety over convenience (source ``triage-safety-first``):

- the level is the most urgent level of every rule that fired, so a red flag always wins;
- a severity left as "not sure" is missing, not the worst (PRO-CTCAE, source
  ``triage-not-sure``): it counts as moderate, and a yes to the one follow-up question
  ("Is it getting in the way of daily activities?") makes it severe; a "not sure" alone
  never reaches emergency services (the loader checks every emergency rule for it);
- two answers for one symptom keep the worse, and with no earlier check-in every symptom
  counts as new;
- a symptom is new when no earlier check-in in ``Context.recent`` reported it (or the
  latest that answered it said none); otherwise it is worse or persisting against that
  latest answer, and its rise in points is what the change rule reads (source
  ``triage-change-alert``);
- the answers are a set: their order never matters;
- the instructions are shown in full: what to do now, what to tell the team, and what
  never to do (flush the line, change the pump settings); a patient recorded as in
  hospital is told to call the nurse, not an ambulance (source ``triage-in-hospital``);
- a therapy named in the context (issue 19) adds the rules and instructions written for
  it and never takes away a rule that fires for everyone, so its level is never less
  urgent than with no therapy named; a rule limited to a window after a CAR-T cell
  infusion fires on day 0 to the window's last day, and when the day is not known.
"""

from collections.abc import Iterable
from datetime import datetime
from typing import NoReturn

from blina.domain.body import AgeGroup
from blina.domain.errors import InvalidInput
from blina.domain.triage.check_in import (
    CheckIn,
    Context,
    SymptomAnswer,
    Temperature,
    TemperatureUnit,
)
from blina.domain.triage.result import Finding, FiredRule, Triage
from blina.domain.triage.rulebook import TriageRules
from blina.domain.triage.rules import (
    COMPARE,
    RANK,
    Guidance,
    History,
    Symptom,
    SymptomGroup,
    TriageLevel,
)

__all__ = ["triage"]


def triage(check_in: CheckIn, context: Context, rules: TriageRules, *, now: datetime) -> Triage:
    """Triage one check-in.

    Parameters
    ----------
    check_in
        The answers, the temperature (C or F) and the time they were observed.
    context
        The course now: cycle day, infusing, days since a start, step-up or restart, age
        group, in hospital, earlier check-ins, the therapy and the days since a CAR-T
        cell infusion. An unknown course field never lowers the level; without earlier
        check-ins every symptom is new.
    rules
        The triage rules (``load_knowledge().triage``).
    now
        The current instant (aware); a check-in may not be later.

    Returns
    -------
    Triage
        The level, every rule that fired (most urgent first) with its source, the
        instructions in full, and whether the care team is alerted.

    Raises
    ------
    InvalidInput
        An unknown symptom, a severity outside 0-4 (or given for a yes/no sign), a
        follow-up answer given with a severity, a temperature outside the plausible
        range, a naive time, a check-in dated after ``now``, a therapy the rules do not
        know, or days since a cell infusion for a therapy that is not a cell therapy.
    """
    _check_time(check_in.observed_at, now)
    therapy = _therapy(context, rules)
    in_window = rules.therapies[therapy].in_window(context.days_since_cell_infusion)
    answers = _merge(check_in.answers, rules)
    previous = _previous(check_in.observed_at, context.recent, rules) if context.recent else {}
    findings, rises = _findings(answers, previous, rules)
    fired = _symptom_rules(findings, rises, context, (therapy, in_window), rules)
    if check_in.temperature is not None:
        fired += _temperature_rules(check_in.temperature, (therapy, in_window), rules)
    fired = _escalate(fired, rules)
    if fired:
        # Stable: within a level, rules keep their order in the file.
        fired.sort(key=_by_rank, reverse=True)
        level = fired[0].level
    else:
        outcome = rules.no_rule
        level = TriageLevel.ROUTINE
        fired = [FiredRule(outcome.id, level, outcome.reason, outcome.source, ())]
    return Triage(
        level=level,
        alert_care_team=rules.levels[level].alert_care_team,
        rules=tuple(fired),
        instructions=_guidance(level, findings, context, therapy, rules),
        findings=findings,
        temperature=check_in.temperature,
        context=context,
        observed_at=check_in.observed_at,
        notes=_notes(check_in, answers, findings, context, rules),
        free_text=check_in.free_text,
        crisis_line=any(finding.symptom in rules.index.crisis for finding in findings),
    )


def _therapy(context: Context, rules: TriageRules) -> str:
    """The context's therapy, checked against the rule set (None: the default)."""
    key = context.therapy
    if key is None:
        therapy = rules.default_therapy
    elif key in rules.therapies:
        therapy = key
    else:
        raise InvalidInput("therapy", key, f"one of {', '.join(sorted(rules.therapies))}")
    days = context.days_since_cell_infusion
    if days is not None and not rules.therapies[therapy].cell_therapy:
        cells = sorted(k for k, t in rules.therapies.items() if t.cell_therapy)
        raise InvalidInput(
            "days_since_cell_infusion",
            days,
            f"left out unless the therapy is a cell therapy ({', '.join(cells)})",
        )
    return therapy


def _by_rank(rule: FiredRule) -> int:
    return RANK[rule.level]


def _check_time(observed_at: datetime, now: datetime) -> None:
    if now.utcoffset() is None:
        raise InvalidInput("now", now.isoformat(), "a date-time with a UTC offset")
    if observed_at.utcoffset() is None:
        raise InvalidInput("observed_at", observed_at.isoformat(), "a date-time with a UTC offset")
    if observed_at > now:
        raise InvalidInput(
            "observed_at", observed_at.isoformat(), f"no later than now ({now.isoformat()})"
        )


_Answer = tuple[int | None, bool | None]
"""A symptom's answer: its severity (None: not sure, or a yes/no sign) and follow-up."""


def _merge(answers: tuple[SymptomAnswer, ...], rules: TriageRules) -> dict[str, _Answer]:
    """One answer per symptom: the worse of repeated answers, as counted."""
    catalogue = rules.symptoms
    top = rules.max_severity
    merged: dict[str, _Answer] = {}
    for answer in answers:
        symptom_id, severity, interferes = answer.symptom, answer.severity, answer.interferes
        symptom = catalogue.get(symptom_id)
        if symptom is None:
            raise InvalidInput("symptom", symptom_id, "one of the known symptom ids")
        if severity is not None and (
            not symptom.has_severity or type(severity) is not int or not 0 <= severity <= top
        ):
            _refuse_severity(symptom, severity, rules)
        if interferes is not None and (
            severity is not None or not symptom.has_severity or type(interferes) is not bool
        ):
            _refuse_follow_up(symptom, interferes, rules)
        given = (severity, interferes)
        merged[symptom_id] = (
            given if symptom_id not in merged else _worse(rules, merged[symptom_id], given)
        )
    return merged


def _refuse_severity(symptom: Symptom, severity: object, rules: TriageRules) -> NoReturn:
    field_name = f"{symptom.id} severity"
    if not symptom.has_severity:
        raise InvalidInput(field_name, severity, "left out (a yes/no sign has no severity)")
    words, top = rules.severity_words, rules.max_severity
    raise InvalidInput(
        field_name,
        severity,
        f"a whole number from 0 ({words[0]}) to {top} ({words[top]}), or left out if not known",
    )


def _refuse_follow_up(symptom: Symptom, interferes: object, rules: TriageRules) -> NoReturn:
    field_name = f"{symptom.id} interferes"
    if not symptom.has_severity:
        raise InvalidInput(field_name, interferes, "left out (a yes/no sign has no severity)")
    if type(interferes) is not bool:
        raise InvalidInput(field_name, interferes, "true or false, or left out")
    raise InvalidInput(
        field_name, interferes, "left out when a severity is given (it answers a 'not sure')"
    )


def _worse(rules: TriageRules, first: _Answer, second: _Answer) -> _Answer:
    """The worse of two answers as counted; on a tie, a severity given beats a "not sure",
    and of two "not sure" the follow-up answered (yes before no) is kept."""
    if first[0] is None and second[0] is None:
        answered = {first[1], second[1]}
        return (None, True if True in answered else False if False in answered else None)
    first_count = first[0] if first[0] is not None else _unknown(rules, first[1])
    second_count = second[0] if second[0] is not None else _unknown(rules, second[1])
    if first_count != second_count:
        return first if first_count > second_count else second
    return first if first[0] is not None else second


def _unknown(rules: TriageRules, interferes: bool | None) -> int:
    return rules.interferes_severity if interferes else rules.unknown_severity


def _notes(
    check_in: CheckIn,
    answers: dict[str, _Answer],
    findings: tuple[Finding, ...],
    context: Context,
    rules: TriageRules,
) -> tuple[str, ...]:
    notes: list[str] = []
    if len(answers) != len(check_in.answers):
        notes += (
            _repeated_note(rules.symptoms[s], check_in.answers, rules)
            for s in _in_order(answers, rules)
            if sum(1 for a in check_in.answers if a.symptom == s) > 1
        )
    words = rules.severity_words
    for finding in findings:
        if finding.severity is None and finding.has_severity:
            note = (
                f"{finding.name}: not sure how bad, so it counts as {words[rules.unknown_severity]}"
            )
            if finding.interferes:
                note += (
                    "; it gets in the way of daily activities, so it counts as "
                    f"{words[rules.interferes_severity]}"
                )
            notes.append(note + ".")
    if context.age_group is AgeGroup.PEDIATRIC:
        notes.append(rules.pediatric_note.text)
    if check_in.free_text and not check_in.free_text.isspace():
        notes.append("The note is passed to the care team as written; the rules do not read it.")
    return tuple(notes)


def _repeated_note(symptom: Symptom, answers: tuple[SymptomAnswer, ...], rules: TriageRules) -> str:
    given = sorted(
        {a.severity for a in answers if a.symptom == symptom.id},
        key=lambda severity: rules.max_severity + 1 if severity is None else severity,
    )
    shown = ", ".join("not sure" if s is None else str(s) for s in given)
    return f"{symptom.name}: answered more than once ({shown}); the worse answer counts."


def _in_order(symptoms: Iterable[str], rules: TriageRules) -> list[str]:
    order = rules.index.symptom_order
    return sorted(symptoms, key=order.__getitem__)


def _previous(
    observed_at: datetime, recent: tuple[CheckIn, ...], rules: TriageRules
) -> dict[str, int | None]:
    """Each symptom's latest earlier answer, as counted (answers at the same instant
    merged, the worse kept; a yes/no sign as None). Check-ins later than this one are
    left out."""
    latest: dict[str, datetime] = {}
    answers: dict[str, int | None] = {}
    catalogue = rules.symptoms
    for earlier in recent:
        at = earlier.observed_at
        if at.utcoffset() is None:
            raise InvalidInput(
                "recent.observed_at", at.isoformat(), "a date-time with a UTC offset"
            )
        if at > observed_at:
            continue
        for answer in earlier.answers:
            symptom = catalogue.get(answer.symptom)
            # An id no longer in the symptom list is left out: the symptom then counts as new.
            if symptom is None:
                continue
            counted = (
                None
                if not symptom.has_severity
                else answer.severity
                if answer.severity is not None
                else _unknown(rules, answer.interferes)
            )
            seen = latest.get(symptom.id)
            if seen is None or at > seen:
                latest[symptom.id] = at
                answers[symptom.id] = counted
            elif at == seen and counted is not None:
                before = answers[symptom.id]
                answers[symptom.id] = counted if before is None else max(before, counted)
    return answers


def _findings(
    answers: dict[str, _Answer], previous: dict[str, int | None], rules: TriageRules
) -> tuple[tuple[Finding, ...], dict[str, int]]:
    """The reported symptoms (severity 0 is 'none', not reported), in display order, and
    the rise in points of those that rose from an earlier answer."""
    items = list(answers.items())
    if len(items) > 1:
        order = rules.index.symptom_order
        items.sort(key=lambda item: order[item[0]])
    cached = rules.index.finding
    findings: list[Finding] = []
    rises: dict[str, int] = {}
    for symptom_id, (severity, interferes) in items:
        if severity == 0:
            continue
        history = History.NEW
        if symptom_id in previous:
            counted = cached[symptom_id, severity, interferes, History.NEW].counted_as
            history, rise = _history(counted, previous[symptom_id])
            if rise is not None:
                rises[symptom_id] = rise
        findings.append(cached[symptom_id, severity, interferes, history])
    return tuple(findings), rises


def _history(counted: int | None, before: int | None) -> tuple[History, int | None]:
    """The history against the latest earlier answer, and the rise in points (None when
    the severity did not rise, or for a yes/no sign)."""
    if counted is None or before is None:
        return History.PERSISTING, None
    rise = counted - before
    if before == 0:
        return History.NEW, rise
    if rise > 0:
        return History.WORSE, rise
    return History.PERSISTING, None


def _symptom_rules(
    findings: tuple[Finding, ...],
    rises: dict[str, int],
    context: Context,
    course: tuple[str, bool],
    rules: TriageRules,
) -> list[FiredRule]:
    """The symptom rules that fired; ``course`` is the therapy and whether the day is in
    its window after the cell infusion."""
    matching = rules.index.matching
    triggers: dict[int, list[str]] = {}
    for finding in findings:
        for index in matching[finding.symptom, finding.counted_as, finding.history]:
            found = triggers.get(index)
            if found is None:
                triggers[index] = [finding.symptom]
            else:
                found.append(finding.symptom)
    if rises:
        for index, rule in rules.index.rising:
            assert rule.min_rise is not None
            rose = [
                f.symptom
                for f in findings
                if f.symptom in rule.symptoms
                and rises.get(f.symptom, 0) >= rule.min_rise
                and rule.meets(f.counted_as, f.history)
            ]
            if rose:
                triggers[index] = rose
    fired: list[FiredRule] = []
    all_rules = rules.rules
    for index in sorted(triggers):
        rule = all_rules[index]
        if rule.with_any and all(f.symptom not in rule.with_any for f in findings):
            continue
        if rule.early_course and not _in_early_course(context, rules):
            continue
        if (rule.therapies or rule.infusion_window) and not rule.applies_to(*course):
            continue
        symptoms = triggers[index]
        if len(symptoms) == 1:
            fired.append(rules.index.fired_by[index, symptoms[0]])
        else:
            fired.append(FiredRule.of(rule, tuple(symptoms)))
    return fired


def _in_early_course(context: Context, rules: TriageRules) -> bool:
    window = rules.early_course_days
    if window is None:
        return False
    days = context.days_since_start_or_step_up
    return days is None or days <= window


def _temperature_rules(
    temperature: Temperature, course: tuple[str, bool], rules: TriageRules
) -> list[FiredRule]:
    allowed = rules.temperature_c if temperature.unit is TemperatureUnit.C else rules.temperature_f
    if temperature.value not in allowed:
        raise InvalidInput(temperature.field, temperature.value, allowed.describe())
    celsius = temperature.celsius
    return [
        fired
        for rule, fired in rules.index.fired_by_temperature
        if COMPARE[rule.compare](celsius, rule.threshold_c) and rule.applies_to(*course)
    ]


def _escalate(fired: list[FiredRule], rules: TriageRules) -> list[FiredRule]:
    """UKONS: more than one same-day finding (distinct triggers) raises the level."""
    triggers: set[str] = set()
    for rule in fired:
        if rule.level is TriageLevel.SAME_DAY:
            triggers.update(rule.triggers)
    escalation = rules.same_day_escalation
    if len(triggers) < escalation.min_findings:
        return fired
    order = rules.index.symptom_order
    ordered = tuple(sorted(triggers, key=lambda t: order.get(t, len(order))))
    return [
        *fired,
        FiredRule(escalation.id, escalation.level, escalation.reason, escalation.source, ordered),
    ]


def _guidance(
    level: TriageLevel,
    findings: tuple[Finding, ...],
    context: Context,
    therapy: str,
    rules: TriageRules,
) -> Guidance:
    guided = rules.index.guided_group
    groups: list[SymptomGroup] = []
    for finding in findings:
        group = guided.get(finding.symptom)
        if group is not None and group not in groups:
            groups.append(group)
    infusing = context.infusing is not False
    hospital = context.in_hospital is True
    if not groups:
        return rules.index.base[therapy, level, infusing, hospital]
    if len(groups) == 1:
        return rules.index.base_with_group[therapy, level, infusing, hospital, groups[0].id]
    guidance = rules.index.base[therapy, level, infusing, hospital]
    for group in groups:
        guidance += group.guidance.for_therapy(therapy)
    return guidance
