"""A clinic task in its reader's language, written at display time from the figures and
names it was stored with (``TaskRow.params``).

The task index stores each task's English ``text`` (the API returns it unchanged) and,
beside it, what that text was written from: the cycle, the bag's number, dose and length,
the premedication's drug, dose, route, timing and reason, ... (``write_tasks``). A page
writes the same sentence from those through the pages' catalog (its frame) and the
clinical catalog (the knowledge files' words: drug, route, timing, supervision, labs),
numbers and units through the reader's ``Formatter``.

A premedication's reason is a sentence the plan writes in English; its few shapes are
read back here (``_REASONS``) and written through the catalog. A reason in no known shape
and a task stored before the figures were kept are shown in the stored English: never a
guess. A do-not-hang reason (the course state's own sentence) is read back against the
domain's sentences (``blina.web.sentences``), else shown as stored.
"""

import re
from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import TYPE_CHECKING, Protocol

from blina.web.i18n import Gettext

if TYPE_CHECKING:
    from blina.web.formatting import Formatter

__all__ = ["task_words"]


class _Task(Protocol):
    @property
    def kind(self) -> str: ...
    @property
    def text(self) -> str: ...
    @property
    def params(self) -> Mapping[str, str] | None: ...


def task_words(task: _Task, fmt: "Formatter", clinical: Gettext) -> str:
    """``task``'s words in ``fmt``'s language; its stored text when they cannot be written."""
    params = task.params
    write = _WRITERS.get(task.kind)
    if not params or write is None:
        return task.text
    try:
        return write(params, fmt, clinical)
    except KeyError:  # params of an older shape: the stored text is right
        return task.text


def _bag_change(p: Mapping[str, str], fmt: "Formatter", _clinical: Gettext) -> str:
    return fmt.gettext(
        "Cycle %(cycle)s · bag %(number)s of %(total)s · %(dose)s · %(hours)s bag"
    ) % {
        "cycle": p["cycle"],
        "number": p["number"],
        "total": p["total"],
        "dose": fmt.quantity(p["dose_mcg_per_day"], "mcg/day"),
        "hours": fmt.duration(p["hours"]),
    }


def _premedication(p: Mapping[str, str], fmt: "Formatter", clinical: Gettext) -> str:
    return fmt.gettext("%(drug)s %(dose)s %(route)s, %(timing)s (%(reason)s)") % {
        "drug": clinical(p["drug"]),
        "dose": fmt.quantity(p["dose_mg"], "mg"),
        "route": clinical(p["route"]),
        "timing": clinical(p["timing"]),
        "reason": premedication_reason(p["reason"], fmt),
    }


def _admission(p: Mapping[str, str], fmt: "Formatter", _clinical: Gettext) -> str:
    return fmt.gettext("Admission: cycle %(cycle)s, %(days)s days") % {
        "cycle": p["cycle"],
        "days": p["days"],
    }


def _discharge(p: Mapping[str, str], fmt: "Formatter", _clinical: Gettext) -> str:
    return fmt.gettext("Discharge after cycle %(cycle)s's hospital days") % {"cycle": p["cycle"]}


def _supervision(p: Mapping[str, str], fmt: "Formatter", clinical: Gettext) -> str:
    return fmt.gettext("Cycle %(cycle)s start: %(supervision)s") % {
        "cycle": p["cycle"],
        "supervision": clinical(p["supervision"]),
    }


def _labs(p: Mapping[str, str], _fmt: "Formatter", clinical: Gettext) -> str:
    """A monitoring item as the plan writes it, "<what> (<source id>)": the words
    translated, the source id kept."""
    item = p["item"]
    sourced = _SOURCED.fullmatch(item)
    if sourced is None:
        return clinical(item)
    return f"{clinical(sourced['what'])} ({sourced['source']})"


_SOURCED = re.compile(r"(?P<what>.+) \((?P<source>[a-z0-9][a-z0-9.\-]*)\)")


def _do_not_hang(p: Mapping[str, str], fmt: "Formatter", _clinical: Gettext) -> str:
    reason = p["reason"]
    if reason in _DO_NOT_HANG_REASONS:
        reason = fmt.gettext(_DO_NOT_HANG_REASONS[reason])
    else:  # the course state's own sentence, as stored: read back, else as stored
        # imported here: blina.web.sentences imports blina.web.formatting, which imports us
        from blina.web.sentences import Speaker

        reason = Speaker(fmt).words_or_stored(reason)
    return fmt.gettext("Do not hang bag %(code)s: %(reason)s") % {
        "code": p["code"],
        "reason": reason,
    }


_WRITERS: Mapping[str, Callable[[Mapping[str, str], "Formatter", Gettext], str]] = {
    "bag-change": _bag_change,
    "premedication": _premedication,
    "admission": _admission,
    "discharge": _discharge,
    "supervision": _supervision,
    "labs": _labs,
    "do-not-hang": _do_not_hang,
}

# The task list's own reason for a bag of an ended course (``blina.services.tasks``).
_DO_NOT_HANG_REASONS = {"the course is completed": "the course is completed"}

# The shapes of a premedication's reason (blina.domain.planning and .replanning), each
# with its msgid; ``{duration}`` is an interruption's length as the domain writes it.
_DURATION = r"(?P<duration>(?:\d+ days? ?)?(?:\d+ h ?)?(?:\d+ min)?)"
_REASONS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), msgid)
    for pattern, msgid in (
        (
            r"before the first dose of cycle (?P<cycle>\d+) \(a new cycle after an "
            rf"interruption of {_DURATION}\)",
            "before the first dose of cycle %(cycle)s (a new cycle after an interruption"
            " of %(duration)s)",
        ),
        (
            r"before the first dose of cycle (?P<cycle>\d+), which repeats cycle "
            r"(?P<repeats>\d+)'s step-up \(premedicated as cycle (?P=repeats)\)",
            "before the first dose of cycle %(cycle)s, which repeats cycle %(repeats)s's"
            " step-up (premedicated as cycle %(repeats)s)",
        ),
        (
            r"before the first dose of cycle (?P<cycle>\d+)",
            "before the first dose of cycle %(cycle)s",
        ),
        (
            r"before the step-up dose in cycle (?P<cycle>\d+)",
            "before the step-up dose in cycle %(cycle)s",
        ),
        (
            rf"before restarting after an interruption of {_DURATION}",
            "before restarting after an interruption of %(duration)s",
        ),
    )
)
_PART = re.compile(r"(\d+) (days?|h|min)")
_UNIT = {"day": timedelta(days=1), "days": timedelta(days=1), "h": timedelta(hours=1)}


def premedication_reason(reason: str, fmt: "Formatter") -> str:
    """A premedication's reason in ``fmt``'s language; as stored if in no known shape."""
    for pattern, msgid in _REASONS:
        found = pattern.fullmatch(reason)
        if found is None:
            continue
        values = dict(found.groupdict())
        if "duration" in values:
            values["duration"] = _duration(values["duration"], fmt)
        return fmt.gettext(msgid) % values
    return reason


def _duration(text: str, fmt: "Formatter") -> str:
    """The domain's "2 days 6 h" / "30 min" in the reader's words, or as written if empty."""
    parts = _PART.findall(text)
    if not parts:
        return text
    span = sum((int(n) * _UNIT.get(unit, timedelta(minutes=1)) for n, unit in parts), timedelta(0))
    return fmt.duration(span)
