"""Load ``triage.toml``: the symptom list, the triage rules and the family's instructions.

The pydantic models mirror the file and are used only to validate it; the loader then
builds the frozen ``TriageRules`` and checks what a schema cannot: every level once, ids
unique, every rule naming symptoms and groups that exist, every red-flag symptom always
at least call-now, a persisting symptom never more urgent than the same symptom new at
the same severity, no emergency rule that a "not sure" alone can reach (source
``triage-not-sure``), temperature thresholds inside the plausible range, every therapy
named (by a rule, a symptom or an instruction) among ``[[therapies]]``, no rule limited to
the default therapy (so that naming a therapy only adds rules) and a window after the cell
infusion only on a rule for cell therapies. ``check_therapy_keys`` then checks the
therapies against the therapy knowledge. Any problem is a ``KnowledgeError`` naming the
file and the key path.

About 720 lines: one file's schema and the cross-checks above, which read each other's
ids (symptoms, groups, levels, therapies); split, every check would take the whole
schema as its input.
"""

from collections.abc import Iterable, Mapping
from decimal import Decimal
from pathlib import Path
from types import MappingProxyType

from pydantic import Field, NonNegativeInt, PositiveInt

from blina.domain.body import Range
from blina.domain.errors import KnowledgeError
from blina.domain.triage.rulebook import TriageRules
from blina.domain.triage.rules import (
    Compare,
    Guidance,
    Instruction,
    LevelGuide,
    Outcome,
    RuleHistory,
    SameDayEscalation,
    Symptom,
    SymptomArea,
    SymptomGroup,
    SymptomRule,
    TemperatureRule,
    TherapyGuide,
    TriageLevel,
)
from blina.knowledge._loader import check_sources, read_toml, validate
from blina.knowledge._schema import BoundFile, SourceEntry, _Strict

__all__ = ["KEBAB_CASE", "check_therapy_keys", "load_triage"]

KEBAB_CASE = r"^[a-z0-9]+(-[a-z0-9]+)*$"

_Id = Field(pattern=KEBAB_CASE)
_Text = Field(min_length=1)


# --- the file's shape ---------------------------------------------------------------------


class InstructionFile(_Strict):
    text: str = _Text
    source: str
    therapies: list[str] = Field(default_factory=list)


class GuidanceFile(_Strict):
    do_now: list[InstructionFile] = Field(default_factory=list)
    tell_team: list[InstructionFile] = Field(default_factory=list)
    do_not: list[InstructionFile] = Field(default_factory=list)


class LevelFile(GuidanceFile):
    id: TriageLevel
    name: str = _Text
    alert_care_team: bool
    source: str
    in_hospital: list[InstructionFile] = Field(default_factory=list)


class GroupFile(GuidanceFile):
    id: str = _Id
    name: str = _Text
    source: str


class WindowFile(_Strict):
    days: NonNegativeInt
    source: str


class TherapyFile(GuidanceFile):
    id: str = _Id
    name: str = _Text
    cell_therapy: bool = False
    source: str
    window: WindowFile | None = None


class AreaFile(_Strict):
    id: str = _Id
    name: str = _Text


class SymptomFile(_Strict):
    id: str = _Id
    name: str = _Text
    group: str
    area: str
    severity: bool
    red_flag: bool
    crisis_line: bool = False
    therapies: list[str] = Field(default_factory=list)
    source: str


class RuleFile(_Strict):
    id: str = _Id
    level: TriageLevel
    symptoms: list[str] = Field(default_factory=list)
    groups: list[str] = Field(default_factory=list)
    all_symptoms: bool = False
    min_severity: PositiveInt | None = None
    max_severity: PositiveInt | None = None
    min_rise: PositiveInt | None = None
    history: RuleHistory = RuleHistory.ANY
    with_any: list[str] = Field(default_factory=list)
    early_course: bool = False
    therapies: list[str] = Field(default_factory=list)
    infusion_window: bool = False
    reason: str = _Text
    source: str
    also_source: str | None = None


class TemperatureRuleFile(_Strict):
    id: str = _Id
    level: TriageLevel
    compare: Compare
    threshold_c: Decimal
    therapies: list[str] = Field(default_factory=list)
    infusion_window: bool = False
    reason: str = _Text
    source: str
    also_source: str | None = None


class PlausibilityFile(_Strict):
    temperature_c: BoundFile
    temperature_f: BoundFile


class SeverityFile(_Strict):
    words: list[str] = Field(min_length=2)
    source: str
    unknown_counts_as: PositiveInt
    interferes_counts_as: PositiveInt
    follow_up: str = _Text
    unknown_source: str
    repeated_source: str


class NoteFile(_Strict):
    note: str = _Text
    source: str


class OutcomeFile(_Strict):
    id: str = _Id
    reason: str = _Text
    source: str


class EscalationFile(_Strict):
    id: str = _Id
    min_findings: PositiveInt
    level: TriageLevel
    reason: str = _Text
    source: str


class EarlyCourseFile(_Strict):
    window_days: NonNegativeInt | None = None
    source: str


class AcknowledgementFile(_Strict):
    level: TriageLevel
    minutes: PositiveInt | None = None
    source: str


class TriageFile(_Strict):
    default_therapy: str
    plausibility: PlausibilityFile
    severity: SeverityFile
    levels: list[LevelFile]
    always: GuidanceFile
    infusing: GuidanceFile
    pediatric: NoteFile
    groups: list[GroupFile] = Field(min_length=1)
    areas: list[AreaFile] = Field(min_length=1)
    symptoms: list[SymptomFile] = Field(min_length=1)
    rules: list[RuleFile] = Field(min_length=1)
    no_rule: OutcomeFile
    same_day_escalation: EscalationFile
    temperature_rules: list[TemperatureRuleFile] = Field(default_factory=list)
    early_course: EarlyCourseFile
    acknowledgement: list[AcknowledgementFile]
    therapies: list[TherapyFile] = Field(min_length=1)


# --- loading --------------------------------------------------------------------------------


def load_triage(path: Path, sources: Mapping[str, SourceEntry]) -> TriageRules:
    """The triage rules of ``triage.toml``; a problem names its key path."""
    raw = read_toml(path)
    check_sources(raw, sources, path.name)
    data = validate(TriageFile, raw, path.name)
    file = path.name
    temperature_c = _range(data.plausibility.temperature_c, file, "plausibility.temperature_c")
    temperature_f = _range(data.plausibility.temperature_f, file, "plausibility.temperature_f")
    therapies = _therapies(data.therapies, file)
    if data.default_therapy not in therapies:
        raise KnowledgeError(
            file, "default_therapy", f"therapy {data.default_therapy!r} is not in therapies"
        )
    _check_therapies_named(data, therapies, file)
    groups = _groups(data.groups, file)
    areas = _areas(data.areas, file)
    symptoms = _symptoms(data.symptoms, groups, areas, file)
    max_severity = len(data.severity.words) - 1
    severity = data.severity
    if not severity.unknown_counts_as < severity.interferes_counts_as <= max_severity:
        raise KnowledgeError(
            file,
            "severity.interferes_counts_as",
            f"must be above unknown_counts_as and at most {max_severity}",
        )
    rules = tuple(
        _rule(rule, symptoms, groups, max_severity, file, f"rules[{index}]")
        for index, rule in enumerate(data.rules)
    )
    temperature_rules = tuple(
        _temperature_rule(rule, temperature_c, file, f"temperature_rules[{index}]")
        for index, rule in enumerate(data.temperature_rules)
    )
    _check_limits(data, therapies, file)
    _check_unique_rule_ids(data, file)
    _check_red_flags(data.symptoms, symptoms, rules, file)
    _check_persisting(data.rules, rules, symptoms, max_severity, file)
    _check_not_sure_never_emergency(rules, severity.unknown_counts_as, file)
    escalation = data.same_day_escalation
    if escalation.level.rank <= TriageLevel.SAME_DAY.rank:
        raise KnowledgeError(file, "same_day_escalation.level", "must be more urgent than same-day")
    return TriageRules(
        symptoms=MappingProxyType(symptoms),
        groups=MappingProxyType(groups),
        areas=MappingProxyType(areas),
        rules=rules,
        temperature_rules=temperature_rules,
        levels=MappingProxyType(_levels(data.levels, file)),
        always=_guidance(data.always),
        infusing=_guidance(data.infusing),
        pediatric_note=Instruction(data.pediatric.note, data.pediatric.source),
        no_rule=Outcome(data.no_rule.id, data.no_rule.reason, data.no_rule.source),
        same_day_escalation=SameDayEscalation(
            escalation.id,
            escalation.min_findings,
            escalation.level,
            escalation.reason,
            escalation.source,
        ),
        severity_words=tuple(data.severity.words),
        severity_source=data.severity.source,
        unknown_source=data.severity.unknown_source,
        repeated_source=data.severity.repeated_source,
        temperature_c=temperature_c,
        temperature_f=temperature_f,
        plausibility_source=data.plausibility.temperature_c.source,
        early_course_days=data.early_course.window_days,
        early_course_source=data.early_course.source,
        acknowledgement_minutes=MappingProxyType(_acknowledgement(data.acknowledgement, file)),
        acknowledgement_source=data.acknowledgement[0].source,
        therapies=MappingProxyType(therapies),
        default_therapy=data.default_therapy,
        unknown_severity=severity.unknown_counts_as,
        interferes_severity=severity.interferes_counts_as,
        follow_up=severity.follow_up,
    )


def _range(bound: BoundFile, file: str, where: str) -> Range:
    if bound.low >= bound.high:
        raise KnowledgeError(file, where, "low must be below high")
    return Range(bound.low, bound.high, bound.low_inclusive)


def _instructions(items: list[InstructionFile]) -> tuple[Instruction, ...]:
    return tuple(Instruction(item.text, item.source, frozenset(item.therapies)) for item in items)


def _guidance(entry: GuidanceFile) -> Guidance:
    instructions = _instructions

    return Guidance(
        instructions(entry.do_now), instructions(entry.tell_team), instructions(entry.do_not)
    )


def _levels(entries: list[LevelFile], file: str) -> dict[TriageLevel, LevelGuide]:
    levels: dict[TriageLevel, LevelGuide] = {}
    for index, entry in enumerate(entries):
        if entry.id in levels:
            raise KnowledgeError(file, f"levels[{index}].id", f"level {entry.id} appears twice")
        levels[entry.id] = LevelGuide(
            entry.id,
            entry.name,
            entry.alert_care_team,
            _guidance(entry),
            entry.source,
            _instructions(entry.in_hospital),
        )
    missing = [str(level) for level in TriageLevel if level not in levels]
    if missing:
        raise KnowledgeError(file, "levels", f"missing level(s): {', '.join(missing)}")
    for level, guide in levels.items():
        if not guide.guidance.do_now:
            raise KnowledgeError(file, "levels", f"level {level} says nothing to do now")
    return levels


def _therapies(entries: list[TherapyFile], file: str) -> dict[str, TherapyGuide]:
    therapies: dict[str, TherapyGuide] = {}
    for index, entry in enumerate(entries):
        if entry.id in therapies:
            raise KnowledgeError(
                file, f"therapies[{index}].id", f"therapy {entry.id} appears twice"
            )
        window = entry.window
        if window is not None and not entry.cell_therapy:
            raise KnowledgeError(
                file, f"therapies[{index}].window", "only a cell therapy has a window"
            )
        therapies[entry.id] = TherapyGuide(
            entry.id,
            entry.name,
            entry.cell_therapy,
            _guidance(entry),
            entry.source,
            None if window is None else window.days,
            None if window is None else window.source,
        )
    return therapies


def _named_therapies(data: TriageFile) -> Iterable[tuple[str, list[str]]]:
    """(key path, therapies) of everything in the file that may name therapies."""
    guides: list[tuple[str, GuidanceFile]] = [("always", data.always), ("infusing", data.infusing)]
    guides += [(f"levels[{i}]", entry) for i, entry in enumerate(data.levels)]
    guides += [(f"groups[{i}]", entry) for i, entry in enumerate(data.groups)]
    guides += [(f"therapies[{i}]", entry) for i, entry in enumerate(data.therapies)]
    for where, guide in guides:
        parts = [("do_now", guide.do_now), ("tell_team", guide.tell_team)]
        parts += [("do_not", guide.do_not)]
        if isinstance(guide, LevelFile):
            parts.append(("in_hospital", guide.in_hospital))
        for part, items in parts:
            for index, item in enumerate(items):
                yield f"{where}.{part}[{index}].therapies", item.therapies
    for index, symptom in enumerate(data.symptoms):
        yield f"symptoms[{index}].therapies", symptom.therapies
    for index, rule in enumerate(data.rules):
        yield f"rules[{index}].therapies", rule.therapies
    for index, temperature in enumerate(data.temperature_rules):
        yield f"temperature_rules[{index}].therapies", temperature.therapies


def _check_therapies_named(
    data: TriageFile, therapies: Mapping[str, TherapyGuide], file: str
) -> None:
    for where, named in _named_therapies(data):
        _check_known(named, therapies, file, where, "therapy")


def _check_limits(data: TriageFile, therapies: Mapping[str, TherapyGuide], file: str) -> None:
    """A rule limited to therapies never names the default therapy (naming a therapy
    adds rules, never removes one), a rule in the window after the cell infusion is only
    for cell therapies that have a window, and a rule that reads the history as
    persisting is for everyone (the check that a persisting symptom is never more urgent
    than a new one compares rules for everyone)."""
    limited: list[tuple[str, list[str], bool]] = [
        (f"rules[{i}]", r.therapies, r.infusion_window) for i, r in enumerate(data.rules)
    ]
    limited += [
        (f"temperature_rules[{i}]", r.therapies, r.infusion_window)
        for i, r in enumerate(data.temperature_rules)
    ]
    for where, named, window in limited:
        if data.default_therapy in named:
            raise KnowledgeError(
                file,
                f"{where}.therapies",
                f"must not name the default therapy {data.default_therapy}: leave "
                "therapies out for a rule that fires for everyone",
            )
        if window and not (named and all(therapies[k].window_days is not None for k in named)):
            raise KnowledgeError(
                file,
                f"{where}.infusion_window",
                "only on a rule whose therapies are all cell therapies with a window",
            )
    for index, rule in enumerate(data.rules):
        if (rule.therapies or rule.infusion_window) and rule.history is RuleHistory.PERSISTING:
            raise KnowledgeError(
                file, f"rules[{index}].history", "a rule for therapies is not for persisting only"
            )


def check_therapy_keys(
    rules: TriageRules,
    therapy_keys: Iterable[str],
    monitoring_days: Mapping[str, int],
    file: str,
) -> None:
    """Every therapy triage knows is a therapy of the knowledge (``therapy_keys``, with
    the default therapy, and the CAR-T products, keys of ``monitoring_days``); it is a
    cell therapy exactly when it is a CAR-T product, and then its window after the
    infusion is never shorter than the product's monitoring period (``car_t.toml``), so
    triage never stops escalating while the journey still monitors."""
    known = {rules.default_therapy, *therapy_keys, *monitoring_days}
    for index, (key, therapy) in enumerate(rules.therapies.items()):
        where = f"therapies[{index}]"
        if key not in known:
            raise KnowledgeError(file, f"{where}.id", f"{key!r} is not a therapy of the knowledge")
        product = key in monitoring_days
        if therapy.cell_therapy is not product:
            raise KnowledgeError(
                file,
                f"{where}.cell_therapy",
                f"must be {'true' if product else 'false'}: "
                f"{key} is {'a' if product else 'not a'} CAR-T product",
            )
        if product and (therapy.window_days or 0) < monitoring_days[key]:
            raise KnowledgeError(
                file,
                f"{where}.window.days",
                f"must be at least {monitoring_days[key]}, the product's monitoring period "
                "in car_t.toml",
            )


def _groups(entries: list[GroupFile], file: str) -> dict[str, SymptomGroup]:
    groups: dict[str, SymptomGroup] = {}
    for index, entry in enumerate(entries):
        if entry.id in groups:
            raise KnowledgeError(file, f"groups[{index}].id", f"group {entry.id} appears twice")
        groups[entry.id] = SymptomGroup(entry.id, entry.name, _guidance(entry), entry.source)
    return groups


def _areas(entries: list[AreaFile], file: str) -> dict[str, SymptomArea]:
    areas: dict[str, SymptomArea] = {}
    for index, entry in enumerate(entries):
        if entry.id in areas:
            raise KnowledgeError(file, f"areas[{index}].id", f"area {entry.id} appears twice")
        areas[entry.id] = SymptomArea(entry.id, entry.name)
    return areas


def _symptoms(
    entries: list[SymptomFile],
    groups: Mapping[str, SymptomGroup],
    areas: Mapping[str, SymptomArea],
    file: str,
) -> dict[str, Symptom]:
    symptoms: dict[str, Symptom] = {}
    for index, entry in enumerate(entries):
        where = f"symptoms[{index}]"
        if entry.id in symptoms:
            raise KnowledgeError(file, f"{where}.id", f"symptom {entry.id} appears twice")
        if entry.group not in groups:
            raise KnowledgeError(file, f"{where}.group", f"group {entry.group!r} is not in groups")
        if entry.area not in areas:
            raise KnowledgeError(file, f"{where}.area", f"area {entry.area!r} is not in areas")
        symptoms[entry.id] = Symptom(
            entry.id,
            entry.name,
            entry.group,
            entry.severity,
            entry.red_flag,
            entry.source,
            entry.crisis_line,
            entry.area,
            frozenset(entry.therapies),
        )
    return symptoms


def _rule(
    entry: RuleFile,
    symptoms: Mapping[str, Symptom],
    groups: Mapping[str, SymptomGroup],
    max_severity: int,
    file: str,
    where: str,
) -> SymptomRule:
    if not (entry.symptoms or entry.groups or entry.all_symptoms):
        raise KnowledgeError(file, where, "name symptoms, groups or all_symptoms = true")
    _check_known(entry.symptoms, symptoms, file, f"{where}.symptoms", "symptom")
    _check_known(entry.groups, groups, file, f"{where}.groups", "group")
    _check_known(entry.with_any, symptoms, file, f"{where}.with_any", "symptom")
    selected = {
        s.id
        for s in symptoms.values()
        if entry.all_symptoms or s.id in entry.symptoms or s.group in entry.groups
    }
    if not selected.isdisjoint(entry.with_any):
        raise KnowledgeError(file, f"{where}.with_any", "must not repeat the rule's own symptoms")
    graded = {
        name: value
        for name, value in (
            ("min_severity", entry.min_severity),
            ("max_severity", entry.max_severity),
            ("min_rise", entry.min_rise),
        )
        if value is not None
    }
    for name, value in graded.items():
        if value > max_severity:
            raise KnowledgeError(file, f"{where}.{name}", f"must be at most {max_severity}")
    if (entry.max_severity or max_severity) < (entry.min_severity or 0):
        raise KnowledgeError(file, f"{where}.max_severity", "must not be below min_severity")
    if graded:
        yes_no = [s for s in entry.symptoms if not symptoms[s].has_severity]
        if yes_no:
            raise KnowledgeError(
                file, f"{where}.symptoms", f"{yes_no[0]} has no severity for {next(iter(graded))}"
            )
        # A yes/no sign in a selected group has no severity to compare: leave it out.
        selected = {s for s in selected if symptoms[s].has_severity}
    return SymptomRule(
        id=entry.id,
        level=entry.level,
        symptoms=frozenset(selected),
        reason=entry.reason,
        source=entry.source,
        min_severity=entry.min_severity,
        history=entry.history,
        with_any=frozenset(entry.with_any),
        early_course=entry.early_course,
        also_source=entry.also_source,
        max_severity=entry.max_severity,
        min_rise=entry.min_rise,
        therapies=frozenset(entry.therapies),
        infusion_window=entry.infusion_window,
    )


def _check_known(
    names: Iterable[str], known: Mapping[str, object], file: str, where: str, kind: str
) -> None:
    for index, name in enumerate(names):
        if name not in known:
            raise KnowledgeError(file, f"{where}[{index}]", f"{kind} {name!r} is not defined")


def _temperature_rule(
    entry: TemperatureRuleFile, plausible: Range, file: str, where: str
) -> TemperatureRule:
    if entry.threshold_c not in plausible:
        raise KnowledgeError(
            file, f"{where}.threshold_c", f"must be {plausible.describe()} (plausibility)"
        )
    return TemperatureRule(
        entry.id,
        entry.level,
        entry.compare,
        entry.threshold_c,
        entry.reason,
        entry.source,
        entry.also_source,
        frozenset(entry.therapies),
        entry.infusion_window,
    )


def _check_unique_rule_ids(data: TriageFile, file: str) -> None:
    seen: set[str] = set()
    named = [(f"rules[{i}].id", r.id) for i, r in enumerate(data.rules)]
    named += [(f"temperature_rules[{i}].id", r.id) for i, r in enumerate(data.temperature_rules)]
    named += [("same_day_escalation.id", data.same_day_escalation.id)]
    named += [("no_rule.id", data.no_rule.id)]
    for where, rule_id in named:
        if rule_id in seen:
            raise KnowledgeError(file, where, f"rule id {rule_id} appears twice")
        seen.add(rule_id)


def _is_unconditional(rule: SymptomRule, symptom: Symptom) -> bool:
    """The rule fires whenever ``symptom`` is reported by a patient it is asked of: for
    every patient, or for those of the symptom's therapies (none of them in a window)."""
    return (
        rule.min_severity is None
        and rule.max_severity is None
        and rule.min_rise is None
        and not rule.with_any
        and not rule.early_course
        and rule.history is RuleHistory.ANY
        and not rule.infusion_window
        and (not rule.therapies or _covers(rule.therapies, symptom.therapies))
    )


def _covers(rule_therapies: frozenset[str], symptom_therapies: frozenset[str]) -> bool:
    """A rule for some therapies covers a symptom asked only of some of them."""
    return bool(symptom_therapies) and symptom_therapies <= rule_therapies


def _fires_at(rule: SymptomRule, severity: int | None) -> bool:
    if severity is None:
        return True
    low = rule.min_severity if rule.min_severity is not None else 0
    high = rule.max_severity if rule.max_severity is not None else severity
    return low <= severity <= high


def _check_red_flags(
    entries: list[SymptomFile],
    symptoms: Mapping[str, Symptom],
    rules: tuple[SymptomRule, ...],
    file: str,
) -> None:
    for index, entry in enumerate(entries):
        if entry.red_flag and not any(
            _is_unconditional(rule, symptoms[entry.id])
            and entry.id in rule.symptoms
            and rule.level.rank >= TriageLevel.CALL_NOW.rank
            for rule in rules
        ):
            raise KnowledgeError(
                file,
                f"symptoms[{index}].red_flag",
                "no unconditional rule makes this red flag at least call-now",
            )


def _check_persisting(
    entries: list[RuleFile],
    rules: tuple[SymptomRule, ...],
    symptoms: Mapping[str, Symptom],
    max_severity: int,
    file: str,
) -> None:
    """A symptom that persists is never more urgent than the same symptom new at the same
    severity, so a history that is unknown (counted as new) never lowers the level."""
    for index, rule in enumerate(rules):
        if rule.history is not RuleHistory.PERSISTING:
            continue
        for symptom in sorted(rule.symptoms):
            scale = range(1, max_severity + 1) if symptoms[symptom].has_severity else (None,)
            for severity in (s for s in scale if _fires_at(rule, s)):
                when_new = max(
                    (
                        other.level.rank
                        for other in rules
                        if symptom in other.symptoms
                        and not other.therapies
                        and not other.infusion_window
                        and other.history is not RuleHistory.PERSISTING
                        and other.min_rise is None
                        and not other.with_any
                        and not other.early_course
                        and _fires_at(other, severity)
                    ),
                    default=-1,
                )
                if rule.level.rank > when_new:
                    raise KnowledgeError(
                        file,
                        f"rules[{index}].level",
                        f"{entries[index].level} for persisting {symptom} is more urgent than "
                        "the same symptom new or worse",
                    )


def _check_not_sure_never_emergency(
    rules: tuple[SymptomRule, ...], unknown_counts_as: int, file: str
) -> None:
    """A "not sure" counts as ``unknown_counts_as``: an emergency rule that reads the
    severity must start above it, and none reads a rise (source triage-not-sure)."""
    for index, rule in enumerate(rules):
        if rule.level is not TriageLevel.EMERGENCY:
            continue
        if rule.min_rise is not None:
            raise KnowledgeError(
                file, f"rules[{index}].min_rise", "an emergency never rests on a rise"
            )
        reads_severity = rule.min_severity is not None or rule.max_severity is not None
        if reads_severity and (rule.min_severity or 0) <= unknown_counts_as:
            raise KnowledgeError(
                file,
                f"rules[{index}].min_severity",
                f"must be above {unknown_counts_as} (what a 'not sure' counts as): "
                "a 'not sure' alone never calls emergency services",
            )


def _acknowledgement(
    entries: list[AcknowledgementFile], file: str
) -> dict[TriageLevel, int | None]:
    minutes: dict[TriageLevel, int | None] = {}
    for index, entry in enumerate(entries):
        if entry.level in minutes:
            raise KnowledgeError(
                file, f"acknowledgement[{index}].level", f"level {entry.level} appears twice"
            )
        minutes[entry.level] = entry.minutes
    missing = [str(level) for level in TriageLevel if level not in minutes]
    if missing:
        raise KnowledgeError(file, "acknowledgement", f"missing level(s): {', '.join(missing)}")
    return minutes
