"""What a re-plan answers: the new plan, the course's status, and the decisions.

Each decision says what to do at an instant, why (its reasons, in words a care team
reads), on whose authority (a source id, or ``event-log`` for the prescriber's own
discontinuation) and how firmly (``DecisionLevel``).
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from blina.domain.course_plan import CoursePlan
from blina.domain.sentences import duration_words

__all__ = [
    "CourseStatus",
    "Decision",
    "DecisionKind",
    "DecisionLevel",
    "Replan",
    "duration_text",
]


class DecisionLevel(StrEnum):
    """``info``: the label's answer; ``soft``: confirm it (a gap, or a stricter older
    rule); ``hard``: the log asked for something the label does not allow."""

    INFO = "info"
    SOFT = "soft"
    HARD = "hard"


class DecisionKind(StrEnum):
    CONTINUE = "continue"
    INTERRUPT = "interrupt"
    CONSIDER_DISCONTINUATION = "consider-discontinuation"
    DISCONTINUE = "discontinue"
    RESTART = "restart"
    CONTINUE_CYCLE = "continue-cycle"
    NEW_CYCLE = "new-cycle"
    PREMEDICATE = "premedicate"
    SUPERVISE = "supervise"
    STEP_UP = "step-up"
    REFUSE = "refuse"
    END_COURSE = "end-course"


class CourseStatus(StrEnum):
    ACTIVE = "active"
    COMPLETED = "completed"
    DISCONTINUED = "discontinued"


@dataclass(frozen=True, slots=True)
class Decision:
    at: datetime
    action: DecisionKind
    reasons: tuple[str, ...]
    source: str
    level: DecisionLevel = DecisionLevel.INFO


@dataclass(frozen=True, slots=True)
class Replan:
    plan: CoursePlan
    decisions: tuple[Decision, ...]
    status: CourseStatus
    discontinued_at: datetime | None

    @property
    def hard_stops(self) -> tuple[Decision, ...]:
        return tuple(d for d in self.decisions if d.level is DecisionLevel.HARD)


def duration_text(duration: timedelta) -> str:
    """A duration for people, as the decisions' reasons give it.

    >>> duration_text(timedelta(days=2, hours=6)), duration_text(timedelta(minutes=30))
    ('2 days 6 h', '30 min')
    """
    return duration_words(duration)
