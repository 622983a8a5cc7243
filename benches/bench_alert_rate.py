"""How often home triage alerts the care team, on synthetic 28-day check-in streams.

Issue 15 (item 18). Two figures, each for the rules blina ships and, in the same run,
for the rules before issue 15:

- calm: the share of check-ins from patients with fluctuating common side effects and
  no red flag that raise a call-now or emergency alert (target: at most 5 %), overall
  and apart for the check-ins inside and outside the early-course window (the days
  after a start or step-up within which the shipped rules call now for a new symptom
  at least moderate, and ask for a call the same day for a new mild one:
  ``EARLY_WINDOW_DAYS``, the shipped site default);
- red flags: the share of red flags injected into those streams that are triaged at
  their level or above (target: 100 %).

For the shipped rules the calm figure is also printed for other early-course windows a
clinic may set (none, 3, 7, 14 days): the window is a site parameter.

The streams are synthetic and seeded (``SEED``): the figures show how the rules behave
on the stream model below, not how often real patients are alerted.

Stream model (one check-in a day for 28 days, at 18:00 UTC, while the infusion runs;
the earlier check-ins are the last 7 days' latest 3, as ``services.reports`` reads them):

- a cycle starts on day 1; half the streams step the dose up on day 8 (as cycle 1 of
  the relapsed/refractory regimen), half have no step-up (a later cycle);
- each patient has 1 to 3 common side effects (the graded symptoms of the ``common``
  group), each starting mild on a day from 1 to 10 and then moving each day: the same
  (60 %), one step up (20 %) or one step down (20 %), between none (not reported that
  day) and moderate;
- a severity is answered "not sure" 15 % of the time; half of those answer the
  follow-up question "no", half leave it unanswered (a calm patient);
- a temperature is taken on half the days, 36.1-37.4 C.

Red flags: each calm stream is copied once with one red flag injected on a random day:
a red-flag symptom of the symptom list (any severity, or "not sure" with or without a
yes to the follow-up) or a temperature that triggers a temperature rule. Its level is
stated here, apart from the rules: emergency for the UKONS override list (collapse,
seizure, airway or breathing compromise, severe bleeding, severe chest pain) and a
person in immediate danger of self-harm; call-now for every other red flag.

The baseline is the rules before issue 15, read as they were at ``BASELINE_COMMIT``
with ``git show`` (``domain/triage.py``, ``knowledge/_triage.py``, ``triage.toml`` and
``sources_triage.toml``): clearly the old rules, not a copy. A red flag the old symptom
list did not have is left out of the old figure and counted apart. Without git history
the baseline is skipped (said so).

Run: ``.venv/bin/python benches/bench_alert_rate.py [--patients N]``.
"""

import argparse
import dataclasses
import random
import subprocess
import sys
import tempfile
import tomllib
import types
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from blina.domain.triage.check_in import CheckIn, Context, SymptomAnswer, Temperature
from blina.domain.triage.engine import triage
from blina.domain.triage.rules import TriageLevel
from blina.knowledge import KNOWLEDGE_DIR
from blina.knowledge._loader import load_sources
from blina.knowledge._schema import SourceEntry
from blina.knowledge._triage import load_triage

SEED = 15
PATIENTS = 1000
DAYS = 28
STEP_UP_DAY = 8
LOOK_BACK = timedelta(days=7)
LOOK_BACK_COUNT = 3
NOT_SURE = 0.15
FIRST = datetime(2026, 12, 1, 18, 0, tzinfo=UTC)
BASELINE_COMMIT = "74f2657ed360331d8a94262cd249f782478d024a"
WINDOWS = (None, 3, 7, 14)
REPO = Path(__file__).resolve().parents[1]
CURRENT = types.SimpleNamespace(
    CheckIn=CheckIn,
    Context=Context,
    SymptomAnswer=SymptomAnswer,
    Temperature=Temperature,
    triage=triage,
)
"""Today's triage (a package) in the shape of the baseline (one module): the names the
streams use."""

# The level each red flag is caught at, stated apart from the rules (issue 15, item 16).
EMERGENCY_SIGNS = frozenset({"seizure", "fainting", "hard-to-wake", "self-harm-danger"})
EMERGENCY_WHEN_SEVERE = frozenset(
    {
        "chest-pain",
        "bleeding",
        "trouble-breathing",
        "wheezing",
        "throat-tightness",
        "mouth-throat-swelling",
    }
)
SEVERE = 3

Answer = tuple[str, int | None, bool | None]
"""(symptom, severity or None for "not sure" or a yes/no sign, follow-up answer)."""


@dataclass(frozen=True, slots=True)
class Day:
    """One check-in of a stream."""

    day: int
    answers: tuple[Answer, ...]
    temperature: Decimal | None
    days_since_start_or_step_up: int


@dataclass(frozen=True, slots=True)
class Injected:
    """A red flag put into a stream on ``day``, and the level it must reach."""

    day: int
    sign: str
    expected: TriageLevel


def _days_since(day: int, step_up: bool) -> int:
    moments = [1, STEP_UP_DAY] if step_up else [1]
    return day - max(moment for moment in moments if moment <= day)


def calm_stream(rng: random.Random, common: list[str]) -> list[Day]:
    """A patient's 28 check-ins with fluctuating common side effects and no red flag."""
    step_up = rng.random() < 0.5
    effects = rng.sample(common, rng.randint(1, 3))
    onset = {effect: rng.randint(1, 10) for effect in effects}
    severity = dict.fromkeys(effects, 0)
    stream = []
    for day in range(1, DAYS + 1):
        answers: list[Answer] = []
        for effect in effects:
            if day == onset[effect]:
                severity[effect] = 1
            elif day > onset[effect]:
                step = rng.random()
                change = 1 if step < 0.2 else -1 if step < 0.4 else 0
                severity[effect] = min(2, max(0, severity[effect] + change))
            if severity[effect] == 0:
                continue
            if rng.random() < NOT_SURE:
                answers.append((effect, None, False if rng.random() < 0.5 else None))
            else:
                answers.append((effect, severity[effect], None))
        temperature = None
        if rng.random() < 0.5:
            temperature = Decimal(rng.randint(361, 374)) / 10
        stream.append(Day(day, tuple(answers), temperature, _days_since(day, step_up)))
    return stream


def inject(
    rng: random.Random, stream: list[Day], flags: list[str], graded: set[str]
) -> tuple[list[Day], Injected]:
    """The stream with one red flag on a random day, and the level it must reach."""
    index = rng.randrange(len(stream))
    day = stream[index]
    if rng.random() < 0.15:
        value = (
            Decimal(rng.randint(376, 410)) / 10
            if rng.random() < 0.8
            else Decimal(rng.randint(340, 359)) / 10
        )
        changed = Day(day.day, day.answers, value, day.days_since_start_or_step_up)
        injected = Injected(day.day, f"temperature {value} C", TriageLevel.CALL_NOW)
    else:
        sign = rng.choice(flags)
        severity: int | None = None
        interferes: bool | None = None
        if sign in graded:
            severity = rng.choice([None, 1, 2, 3, 4])
            if severity is None:
                interferes = rng.choice([None, False, True])
        counted_severe = (severity or 0) >= SEVERE or interferes is True
        emergency = sign in EMERGENCY_SIGNS or (sign in EMERGENCY_WHEN_SEVERE and counted_severe)
        expected = TriageLevel.EMERGENCY if emergency else TriageLevel.CALL_NOW
        answers = (*(a for a in day.answers if a[0] != sign), (sign, severity, interferes))
        changed = Day(day.day, answers, day.temperature, day.days_since_start_or_step_up)
        shown = "not sure" if severity is None else str(severity)
        label = sign if sign not in graded else f"{sign}:{shown}{'+yes' if interferes else ''}"
        injected = Injected(day.day, label, expected)
    return [*stream[:index], changed, *stream[index + 1 :]], injected


# --- running a stream through a version of the rules --------------------------------------


@dataclass(frozen=True, slots=True)
class Rules:
    """A version of the triage rules: its domain (the names the streams use), its loaded
    rules, its symptoms."""

    name: str
    module: types.ModuleType | types.SimpleNamespace
    rules: Any

    def knows(self, symptom: str) -> bool:
        return symptom in self.rules.symptoms


def _check_in(rules: Rules, day: Day) -> Any:
    m = rules.module
    at = FIRST + timedelta(days=day.day - 1)
    if "interferes" in m.SymptomAnswer.__slots__:
        answers = tuple(m.SymptomAnswer(s, v, i) for s, v, i in day.answers)
    else:  # before issue 15: no follow-up question
        answers = tuple(m.SymptomAnswer(s, v) for s, v, _ in day.answers)
    temperature = None if day.temperature is None else m.Temperature(day.temperature)
    return m.CheckIn(at, answers, temperature)


def levels(rules: Rules, stream: list[Day]) -> list[Any]:
    """The level of each check-in of the stream, each against the ones before it."""
    m = rules.module
    built = [_check_in(rules, day) for day in stream]
    found = []
    for index, (day, check_in) in enumerate(zip(stream, built, strict=True)):
        since = check_in.observed_at - LOOK_BACK
        recent = tuple(c for c in built[:index] if c.observed_at >= since)[-LOOK_BACK_COUNT:]
        context = m.Context(
            infusing=True,
            days_since_start_or_step_up=day.days_since_start_or_step_up,
            recent=recent,
        )
        found.append(m.triage(check_in, context, rules.rules, now=check_in.observed_at).level)
    return found


def current_rules() -> Rules:
    rules = load_triage(KNOWLEDGE_DIR / "triage.toml", load_sources(KNOWLEDGE_DIR))
    return Rules("shipped (issue 15)", CURRENT, rules)


def _git_show(path: str) -> str:
    return subprocess.run(
        ["git", "show", f"{BASELINE_COMMIT}:{path}"],
        cwd=REPO,
        check=True,
        capture_output=True,
        text=True,
    ).stdout


def baseline_rules() -> Rules | None:
    """The rules before issue 15, as at ``BASELINE_COMMIT``; None without git history."""
    try:
        domain = _git_show("src/blina/domain/triage.py")
        loader = _git_show("src/blina/knowledge/_triage.py")
        data = _git_show("src/blina/knowledge/triage.toml")
        old_sources = tomllib.loads(_git_show("src/blina/knowledge/sources_triage.toml"))
    except (OSError, subprocess.CalledProcessError):
        return None
    old_domain = _module("blina_triage_before_issue_15", domain)
    old_loader = _module(
        "blina_triage_loader_before_issue_15",
        loader.replace(
            "from blina.domain.triage import", "from blina_triage_before_issue_15 import"
        ),
    )
    sources = dict(load_sources(KNOWLEDGE_DIR))
    sources.update({key: SourceEntry(**entry) for key, entry in old_sources.items()})
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "triage.toml"
        path.write_text(data, encoding="utf-8")
        rules = old_loader.load_triage(path, sources)
    return Rules(f"before issue 15 ({BASELINE_COMMIT[:7]})", old_domain, rules)


def _module(name: str, source: str) -> types.ModuleType:
    module = types.ModuleType(name)
    sys.modules[name] = module  # dataclasses look their module up by name
    # The text is the repository's own, at BASELINE_COMMIT (read with git show).
    exec(compile(source, f"<{name}>", "exec"), module.__dict__)
    return module


# --- the figures --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Streams:
    calm: list[list[Day]]
    flagged: list[tuple[list[Day], Injected]]


def build_streams(patients: int, seed: int = SEED) -> Streams:
    """``patients`` calm streams and as many with one red flag each, seeded."""
    rules = current_rules().rules
    common = sorted(s.id for s in rules.symptoms.values() if s.group == "common" and s.has_severity)
    flags = sorted(s.id for s in rules.symptoms.values() if s.red_flag)
    graded = {s.id for s in rules.symptoms.values() if s.has_severity}
    rng = random.Random(seed)
    calm = [calm_stream(rng, common) for _ in range(patients)]
    flagged = [inject(rng, stream, flags, graded) for stream in calm]
    return Streams(calm, flagged)


@dataclass(frozen=True, slots=True)
class Figures:
    """``calm_*`` count check-ins (``inside`` the early-course window of the shipped
    default, or outside it); ``flags`` the injected red flags this symptom list has."""

    calm_check_ins: Counter[bool]
    calm_alerts: Counter[bool]
    calm_emergencies: int
    flags: int
    caught: int
    missed: list[tuple[Injected, Any]]
    not_in_symptom_list: int

    def calm_alert_rate(self, inside: bool | None = None) -> float:
        """Over every calm check-in, or only those inside (True) or outside the window."""
        keys = (True, False) if inside is None else (inside,)
        return sum(self.calm_alerts[k] for k in keys) / sum(self.calm_check_ins[k] for k in keys)

    @property
    def caught_rate(self) -> float:
        return self.caught / self.flags if self.flags else 0.0


def early_window_days() -> int | None:
    """The shipped site default for the early-course window."""
    return current_rules().rules.early_course_days  # type: ignore[no-any-return]


def figures(rules: Rules, streams: Streams, window: int | None) -> Figures:
    """The figures of ``rules``; ``window`` splits the calm check-ins (None: all outside)."""
    alert = {"call-now", "emergency"}
    check_ins: Counter[bool] = Counter()
    alerts: Counter[bool] = Counter()
    emergencies = 0
    for stream in streams.calm:
        for day, level in zip(stream, levels(rules, stream), strict=True):
            inside = window is not None and day.days_since_start_or_step_up <= window
            check_ins[inside] += 1
            alerts[inside] += str(level) in alert
            emergencies += str(level) == "emergency"
    flags = caught = unknown = 0
    missed: list[tuple[Injected, Any]] = []
    rank = {"routine": 0, "same-day": 1, "call-now": 2, "emergency": 3}
    for stream, injected in streams.flagged:
        sign = injected.sign.split(":")[0]
        if not sign.startswith("temperature") and not rules.knows(sign):
            unknown += 1
            continue
        level = str(levels(rules, stream)[injected.day - 1])
        flags += 1
        if rank[level] >= rank[str(injected.expected)]:
            caught += 1
        else:
            missed.append((injected, level))
    return Figures(check_ins, alerts, emergencies, flags, caught, missed, unknown)


def with_window(rules: Rules, window: int | None) -> Rules:
    """The same rules with another early-course window (a site parameter)."""
    changed = dataclasses.replace(rules.rules, early_course_days=window)
    return Rules(f"{rules.name}, window {window}", rules.module, changed)


def calm_rules_fired(rules: Rules, streams: Streams) -> Counter[str]:
    """Which rules raised the calm alerts (the most urgent rule of each alerting check-in)."""
    fired: Counter[str] = Counter()
    m = rules.module
    for stream in streams.calm:
        built = [_check_in(rules, day) for day in stream]
        for index, (day, check_in) in enumerate(zip(stream, built, strict=True)):
            since = check_in.observed_at - LOOK_BACK
            recent = tuple(c for c in built[:index] if c.observed_at >= since)[-LOOK_BACK_COUNT:]
            context = m.Context(
                infusing=True,
                days_since_start_or_step_up=day.days_since_start_or_step_up,
                recent=recent,
            )
            result = m.triage(check_in, context, rules.rules, now=check_in.observed_at)
            if result.alert_care_team:
                fired[result.rules[0].id] += 1
    return fired


def _print(rules: Rules, found: Figures, window: int | None, out: Callable[[str], None]) -> None:
    alerts, check_ins = sum(found.calm_alerts.values()), sum(found.calm_check_ins.values())
    out(f"{rules.name}:")
    out(
        f"  calm check-ins raising call-now or emergency: {found.calm_alert_rate():7.2%} "
        f"({alerts} of {check_ins}; emergency {found.calm_emergencies})"
    )
    out(
        f"    outside the first {window} days after a start or step-up: "
        f"{found.calm_alert_rate(False):7.2%}; inside: {found.calm_alert_rate(True):7.2%}"
    )
    out(
        f"  injected red flags caught at their level:    {found.caught_rate:7.2%} "
        f"({found.caught} of {found.flags})"
    )
    if found.not_in_symptom_list:
        out(f"  red flags not in this symptom list (left out): {found.not_in_symptom_list}")
    for injected, level in found.missed[:5]:
        out(f"    missed: {injected.sign} on day {injected.day} -> {level}")


def main(argv: Iterable[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=PATIENTS)
    args = parser.parse_args(None if argv is None else list(argv))
    streams = build_streams(args.patients)
    print(
        f"Home triage alert rate: {args.patients} calm 28-day streams (seed {SEED}), "
        f"{args.patients} with one red flag injected"
    )
    print("targets (issue 15): calm alerts <= 5 %; injected red flags caught 100 %")
    shipped = current_rules()
    window = early_window_days()
    found = figures(shipped, streams, window)
    _print(shipped, found, window, print)
    print(f"  calm alerts by rule: {_top(calm_rules_fired(shipped, streams))}")
    for other in WINDOWS:
        rate = figures(with_window(shipped, other), streams, other).calm_alert_rate()
        shown = "none" if other is None else f"{other} days"
        print(f"  with an early-course window of {shown:<8} calm alerts {rate:7.2%}")
    old = baseline_rules()
    if old is None:
        print("baseline (before issue 15): skipped, no git history to read it from")
        return
    old_found = figures(old, streams, window)
    _print(old, old_found, window, print)
    print(f"  calm alerts by rule: {_top(calm_rules_fired(old, streams))}")


def _top(fired: Counter[str]) -> str:
    return ", ".join(f"{rule} {count}" for rule, count in fired.most_common(4)) or "none"


if __name__ == "__main__":
    main()
