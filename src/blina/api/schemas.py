"""Request and response models. Decimals travel as JSON numbers (exact digits)."""

from collections.abc import Callable
from datetime import date, datetime, time
from decimal import Decimal
from typing import Annotated, Any, Literal, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    field_validator,
)

from blina.domain import bounds
from blina.domain.errors import InvalidInput
from blina.services.storage import RecordId, StoredInteger

__all__ = [
    "BoundedDate",
    "BoundedDateTime",
    "BoundedDecimal",
    "BoundedInteger",
    "CourseChange",
    "CourseCreate",
    "CourseEventCreate",
    "CourseEventIn",
    "CoursePublic",
    "InvitationCreate",
    "InvitationIssued",
    "InvitationPublic",
    "LoginRequest",
    "LoginResponse",
    "MePublic",
    "Number",
    "ObservedAt",
    "PasswordChange",
    "PatientCreate",
    "PatientPublic",
    "PlanRequest",
    "ReportCreate",
    "ReportPublic",
    "RequestBody",
    "ResetLinkPublic",
    "RoleChange",
    "TaskPublic",
    "UserCreate",
    "UserPublic",
]


def _number(value: Decimal) -> int | float:
    # A float prints the shortest text that reads back as itself: the digits stay exact.
    return int(value) if value == value.to_integral_value() else float(value)


Number = Annotated[Decimal, PlainSerializer(_number, return_type=int | float, when_used="json")]

# --- what comes in: every number and date within blina.domain.bounds ---------------------
# The bounds' own checks, so a value refused here is refused by the web forms and the CLI
# in the same words; a refusal is a 422 naming the field (api/errors.py).

_A = TypeVar("_A")
_R = TypeVar("_R")


def _refused_as_value_error(check: Callable[[str, _A], _R]) -> Callable[[_A], _R]:
    """``check`` as a pydantic validator: its refusal's allowed range as the message."""

    def validate(value: _A) -> _R:
        try:
            return check("value", value)
        except InvalidInput as error:
            raise ValueError(error.allowed) from None

    return validate


_parse_decimal = _refused_as_value_error(bounds.parse_decimal)


def _decimal_text(value: Any) -> Any:
    """A number sent as text is read with the ASCII digits only: ``Decimal()`` would read
    an Arabic-Indic or a fullwidth three as 3."""
    return _parse_decimal(value) if isinstance(value, str) else value


_LIMIT = 10**bounds.MAX_MAGNITUDE
BoundedDecimal = Annotated[
    Decimal,
    BeforeValidator(_decimal_text),
    AfterValidator(_refused_as_value_error(bounds.check_decimal)),
    Field(json_schema_extra={"exclusiveMinimum": -_LIMIT, "exclusiveMaximum": _LIMIT}),
]
BoundedInteger = StoredInteger
_DATES = {
    "formatMinimum": bounds.EARLIEST_DATE.isoformat(),
    "formatMaximum": bounds.LATEST_DATE.isoformat(),
}
BoundedDate = Annotated[
    date,
    AfterValidator(_refused_as_value_error(bounds.check_date)),
    Field(json_schema_extra=_DATES),
]
BoundedDateTime = Annotated[
    datetime,
    AfterValidator(_refused_as_value_error(bounds.check_moment)),
    Field(json_schema_extra=_DATES),
]


def _observed(field: str, at: datetime) -> datetime:
    return bounds.check_moment(field, at, earliest=bounds.EARLIEST_OBSERVATION)


ObservedAt = Annotated[
    datetime,
    AfterValidator(_refused_as_value_error(_observed)),
    Field(json_schema_extra={**_DATES, "formatMinimum": bounds.EARLIEST_OBSERVATION.isoformat()}),
]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")

    @field_validator("*", mode="before")
    @classmethod
    def _no_nul(cls, value: Any) -> Any:
        """No text holds a NUL character: PostgreSQL cannot store one, and no name, code or
        note needs one (the same request answers the same on SQLite). Checked field by
        field, nested values included, so that the refusal names the field."""
        if _has_nul(value):
            raise ValueError("text without NUL (0x00) characters")
        return value


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return any(_has_nul(item) for item in value)
    return False


class RequestBody(_In):
    """A route module's request body: no field beyond its own, no NUL in any text."""


class LoginRequest(_In):
    username: str = Field(min_length=1, max_length=120)
    password: str = Field(min_length=1, max_length=200)
    kind: Literal["session", "bearer"] = "bearer"


class LoginResponse(BaseModel):
    token: str
    token_type: Literal["bearer", "session"]
    user: "MePublic"


class MePublic(BaseModel):
    id: int
    username: str
    role: str
    clinic_id: int
    patient_id: int | None


class AccountPublic(MePublic):
    """One's own account as stored now (``/me``): who is signed in, and their own number."""

    phone: str | None = Field(description="One's own number to be called back on; null: none")


# A phone number as a request gives it; its rule is the service's (``services.phones``),
# refused in its words naming the field.
PhoneGiven = Annotated[
    str | None,
    Field(
        description=(
            "Empty or null for none; else at most 32 characters of digits, spaces and "
            "+ - ( ) ., with at least 6 digits"
        )
    ),
]


class PhoneChange(_In):
    phone: PhoneGiven


class UserCreate(_In):
    username: str
    display_name: str = Field(min_length=1, max_length=200)
    role: str
    password: str
    patient_id: RecordId | None = None
    phone: PhoneGiven = None


class UserPublic(BaseModel):
    id: int
    username: str
    display_name: str
    role: str
    patient_id: int | None
    active: bool
    phone: str | None = Field(description="The user's own number; null: none")


class RoleChange(_In):
    role: str = Field(min_length=1, max_length=20)


# A password as a request may carry one: a sign-in's bound (``LoginRequest``); the rule a
# new one keeps is the service's (``accounts.check_new_password``), in its words.
Password = Annotated[str, Field(min_length=1, max_length=200)]


class PasswordChange(_In):
    current_password: Password
    new_password: Password


class ResetLinkPublic(BaseModel):
    """A password reset link: shown this once (only its hash is kept)."""

    url: str
    expires_at: datetime


class PatientCreate(_In):
    code: str = Field(min_length=1, max_length=64)
    display_name: str = Field(min_length=1, max_length=200)
    phone: PhoneGiven = None


class PatientPublic(BaseModel):
    id: int
    code: str
    display_name: str
    phone: str | None = Field(
        description="The patient's or family's number to call back; null: none"
    )


class CourseCreate(_In):
    indication: str
    # Ranges are checked by the domain (knowledge/body.toml), in the CLI's words.
    weight_kg: BoundedDecimal
    age_years: BoundedDecimal
    height_cm: BoundedDecimal | None = None
    start: BoundedDate
    bag_hours: BoundedInteger = 24
    cycles: BoundedInteger | None = None
    cycle_starts: dict[BoundedInteger, BoundedDate] = {}
    start_time: time = time(9, 0)
    confirm_past_start: bool = Field(
        default=False, description="A start before today is refused unless confirmed"
    )


class PlanRequest(CourseCreate):
    """The CLI's `blina plan` options as JSON: a course's prescription and the time zone."""

    zone: str = "UTC"


class CourseChange(_In):
    version: BoundedInteger = Field(
        ge=1, description="The version you read; a newer one answers 409"
    )
    bag_hours: BoundedInteger | None = None
    cycles: BoundedInteger | None = None
    cycle_starts: dict[BoundedInteger, BoundedDate] | None = None
    status: Literal["active", "completed", "discontinued"] | None = None


class CourseEnd(_In):
    """End the active course: completed, discontinued (a reason) or cancelled as entered
    in error (a reason). Nothing is deleted."""

    version: BoundedInteger = Field(
        ge=1, description="The version you read; a newer one answers 409"
    )
    outcome: Literal["completed", "discontinued", "cancelled"]
    reason: str = Field(default="", max_length=2000)


class CourseEventIn(_In):
    """One entry of the course's log, as `blina replan` reads it."""

    at: BoundedDateTime = Field(description="When it happened (ISO 8601 with offset)")
    kind: Literal["interrupt", "restart", "discontinue"]
    cause: (
        Literal[
            "crs",
            "neurological",
            "seizure",
            "liver",
            "pancreatitis",
            "neutropenia",
            "infection",
            "other",
            "overdose",
        ]
        | None
    ) = Field(default=None, description="For an interruption: the adverse reaction behind it")
    grade: BoundedInteger | None = Field(default=None, description="For an interruption: its grade")
    dose_mcg_per_day: BoundedDecimal | None = Field(
        default=None, description="For a restart: the dose"
    )
    resolved_at: BoundedDateTime | None = Field(
        default=None, description="For a restart: when the reaction resolved"
    )
    reason: str | None = Field(default=None, description="For a discontinuation")

    def as_log_entry(self) -> dict[str, Any]:
        """The event as the course log stores it (``blina.interop.json.replanning``)."""
        return {
            key: value.isoformat() if isinstance(value, datetime) else value
            for key, value in self.model_dump(exclude_none=True).items()
        }


class CourseEventCreate(_In):
    version: BoundedInteger = Field(
        ge=1, description="The course version you read; a newer one answers 409"
    )
    event: CourseEventIn


class CoursePublic(BaseModel):
    id: int
    patient_id: int
    regimen_id: str
    start: date
    bag_hours: int
    cycles: int
    status: str
    version: int
    weight_kg: Number
    height_cm: Number | None
    age_years: Number
    ended_reason: str | None = None
    backdated: bool = False
    state: dict[str, Any] = Field(
        description="The course now: phase, dose, the next bags, bags not to hang"
    )
    plan: dict[str, Any]


class ReportCreate(_In):
    """A symptom check-in as the phone sends it; the answer carries its triage."""

    temperature: BoundedDecimal | None = Field(
        default=None, description="Body temperature, see temperature_unit"
    )
    temperature_unit: Literal["C", "F"] = "C"
    symptoms: dict[str, BoundedInteger | None] = Field(
        default={}, description="symptom id (blina triage --list-symptoms) -> severity 0-4, or null"
    )
    note: str = Field(default="", max_length=2000)
    observed_at: ObservedAt | None = Field(
        default=None,
        description="When the symptoms were observed (ISO 8601 with offset); default: now",
    )
    interferes: dict[str, bool] = Field(
        default={},
        description="symptom id -> the answer to the follow-up question for a severity "
        "left null (not sure): is it getting in the way of daily activities?",
    )


class ReportPublic(BaseModel):
    id: int
    patient_id: int
    submitted_at: datetime
    report: dict[str, Any] = Field(description="What was entered, and its triage under 'triage'")
    replayed: bool = False
    alert_id: int | None = None


class TaskPublic(BaseModel):
    day: date
    at: datetime | None
    kind: str
    text: str
    course_id: int | None = Field(
        description="the blinatumomab course's id; null on a therapy course's row"
    )
    patient_id: int
    patient_code: str
    patient_name: str
    state: Literal["due", "done", "overdue", "blocked", "do-not-hang"]
    bag_code: str | None
    therapy: str = Field(description="the therapy's key: blinatumomab, obecabtagene, ...")
    therapy_course_id: int | None = Field(
        description="the therapy course's id on its rows (kinds therapy-*); else null"
    )


# --- family invitations (issue 18) ---------------------------------------------------------


class InvitationCreate(_In):
    role: Literal["patient", "caregiver"]
    username: str = Field(min_length=1, max_length=120)
    display_name: str = Field(min_length=1, max_length=200)


class InvitationIssued(BaseModel):
    """An invitation just issued: its link, shown this once (only its hash is kept)."""

    id: int
    url: str
    expires_at: datetime
    username: str
    role: str


class InvitationPublic(BaseModel):
    id: int
    patient_id: int
    role: str
    username: str
    display_name: str
    state: Literal["pending", "used", "expired", "revoked"]
    created_at: datetime
    expires_at: datetime
    used_at: datetime | None
    revoked_at: datetime | None
    user_id: int | None = Field(description="The account the invitation made, once used")
