"""A refused form's messages in the form's own words: each field named by the label the
form shows for it (never a path such as ``events[0].at``), every moment in the clinic's
time (never ``+00:00``), and the summary at the top of the form that links to each field.

The domain and the services refuse in their own terms (``InvalidInput`` names a field
path and an allowed range, ``Conflict`` says why); the API and the CLI show those as they
are. A page is read by a nurse or a physician: this module rewrites the message for them,
and the page marks the field (``aria-invalid``, ``aria-describedby``) and moves focus to
the summary.
"""

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime

from blina.domain.errors import BlinaError, InvalidInput, UnknownId
from blina.web.i18n import Gettext

__all__ = [
    "FORMS",
    "FormError",
    "Problem",
    "Refusal",
    "field_of",
    "in_clinic_time",
    "plain_words",
    "premedication_suffix",
    "refused_form",
]


@dataclass(frozen=True, slots=True)
class Problem:
    """One line of a form's error summary: the field it is about (empty for the form as
    a whole), the id of the element to go to, and the message."""

    field: str
    target: str
    text: str


@dataclass(frozen=True, slots=True)
class FormError:
    """Why a form on the patient page was refused: which form, the message beside each
    field (``form`` for the form as a whole), what it held (to show it again) and the
    summary's lines at the top of the form."""

    form: str  # crs | icans | lab | event | end | premedication | hang | prepare | bag
    errors: dict[str, str]
    values: dict[str, str]
    problems: tuple[Problem, ...] = ()


# form -> field -> (the label the form shows, as its msgid; the id of its element).
# The labels are the templates' own; ``gettext`` here finds them in the catalogs.
FORMS: Mapping[str, Mapping[str, tuple[str, str]]] = {
    "event": {
        "kind": ("What happened", "event-kind"),
        "at": ("When (clinic time)", "event-at"),
        "cause": ("Cause (interruption)", "event-cause"),
        "grade": ("Grade (interruption)", "event-grade"),
        "dose_mcg_per_day": (
            "Restart dose (mcg/day, optional: empty for the label's dose)",
            "event-dose",
        ),
        "reason": ("Reason for discontinuing (optional)", "event-reason"),
    },
    "lab": {
        "term": ("Test", "lab-term"),
        "unit": ("Unit (of the result and of the limits and baseline below)", "lab-unit"),
        "value": ("Result (in the unit chosen above)", "lab-value"),
        "lln": ("Lower limit of normal (LLN), where the test is graded against it", "lab-lln"),
        "uln": (
            "Upper limit of normal (ULN), where the test is graded against it or against a "
            "baseline",
            "lab-uln",
        ),
        "baseline": ("Baseline (optional), where the test is graded against it", "lab-baseline"),
        "symptomatic": ("Symptoms (where the grade depends on them)", "lab-symptomatic"),
        "taken_at": ("Sample taken (clinic time)", "lab-taken_at"),
    },
    "crs": {
        "temperature_c": ("Temperature (C)", "crs-temperature_c"),
        "crs_diagnosed": ("CRS already diagnosed in this episode", "crs-crs_diagnosed"),
        "fever_masked": (
            "Fever masked (antipyretic, tocilizumab or corticosteroids given)",
            "crs-fever_masked",
        ),
        "hypotension": ("Hypotension", "crs-hypotension"),
        "oxygen": ("Oxygen", "crs-oxygen"),
        "oxygen_flow_l_per_min": (
            "Nasal cannula flow (L/min, optional)",
            "crs-oxygen_flow_l_per_min",
        ),
    },
    "icans": {
        "age_years": ("Age (years)", "icans-age_years"),
        "consciousness": ("Level of consciousness", "icans-consciousness"),
        "seizure": ("Seizure", "icans-seizure"),
        "cerebral_edema": ("Cerebral edema", "icans-cerebral_edema"),
        "ice_score": ("ICE score (0-10, from 12 years)", "icans-ice_score"),
        "capd_score": (
            "CAPD score (0-32, under 12 years or with developmental delay)",
            "icans-capd_score",
        ),
        "developmental_delay": ("Developmental delay", "icans-developmental_delay"),
        "motor_weakness": ("Deep focal motor weakness", "icans-motor_weakness"),
    },
    "end": {
        "outcome": ("How it ends", "end-outcome"),
        "reason": ("Reason (needed to discontinue or to cancel as entered in error)", "end-reason"),
    },
    "premedication": {
        "given_at": ("Given at (clinic time)", "given_at"),
    },
    "hang": {
        "code": ("Bag code (scan or type it from the label)", "hang-code"),
        "rate_ml_per_h": ("Rate on the pump (mL/h)", "hang-rate"),
        "volume_ml": ("Volume to be infused on the pump (mL)", "hang-volume"),
    },
    "bag": {
        "to": ("Dispense to", "dispense"),
        "volume_left_ml": ("Volume left in the bag (mL), if measured", "left"),
        "reason": ("Reason", "end-reason"),
    },
    "prepare": {
        "override_reasons": ("Reasons to override the library's checks", "override"),
    },
    "course": {
        "indication": ("Indication", "indication"),
        "start": ("First infusion day", "start"),
        "start_time": ("Time the first bag is hung", "start_time"),
        "weight_kg": ("Weight (kg)", "weight_kg"),
        "height_cm": ("Height (cm)", "height_cm"),
        "age_years": ("Age (years)", "age_years"),
        "cycles": ("Cycles (empty: the whole course)", "cycles"),
        "bag_hours": ("Bag duration (hours)", "bag_hours"),
    },
}

# a domain field named in InvalidInput -> the form field it is shown beside
_ALIASES = {
    "ice_items": "ice_score",
    "capd_answers": "capd_score",
    "weight": "weight_kg",
    "height": "height_cm",
    "age": "age_years",
    "dose": "dose_mcg_per_day",
}

# An ISO moment with its offset, as the domain writes one into a message.
_MOMENT = re.compile(
    r"\b\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:[+-]\d{2}:\d{2}|Z)"
)
# Another event of the log named by its path (``events[0].at``).
_EVENT_TIME = re.compile(r"\bevents\[\d+\]\.at\b")


def field_of(error: InvalidInput) -> str:
    """The form field an ``InvalidInput`` is about: the last part of its path, without
    an index (``events[0].at`` -> ``at``), under the form's own name for it."""
    last = error.field.rsplit(".", 1)[-1].split("[", 1)[0]
    return _ALIASES.get(last, last)


def in_clinic_time(text: str, moment: Callable[[datetime], str]) -> str:
    """``text`` with each ISO moment in it shown as ``moment`` shows it (the clinic's
    time, in the reader's language)."""

    def shown(found: re.Match[str]) -> str:
        try:
            return moment(datetime.fromisoformat(found.group(0)))
        except (ValueError, OverflowError):  # a moment no zone can show (year 9999)
            return found.group(0)

    return _MOMENT.sub(shown, text)


@dataclass(frozen=True, slots=True)
class Refusal:
    """The message of a refused form and the field it is about (``None``: the form as a
    whole)."""

    field: str | None
    text: str


def plain_words(
    error: BlinaError,
    form: str,
    gettext: Gettext,
    moment: Callable[[datetime], str],
) -> Refusal:
    """``error`` as the form ``form`` should show it: the field named by its label, the
    moments in clinic time; a field the form does not have is the form's as a whole."""
    fields = FORMS.get(form, {})
    if isinstance(error, UnknownId) and error.kind in fields:
        text = gettext("%(label)s: %(value)s is not known: must be one of %(known)s") % {
            "label": gettext(fields[error.kind][0]),
            "value": error.value,
            "known": ", ".join(error.known),
        }
        return Refusal(error.kind, text)
    if not isinstance(error, InvalidInput):
        return Refusal(None, in_clinic_time(str(error), moment))
    field = field_of(error)
    known = field in fields
    label = gettext(fields[field][0]) if known else field.replace("_", " ")
    allowed = in_clinic_time(
        _EVENT_TIME.sub(gettext("the time of the event before"), error.allowed), moment
    )
    if str(error.value) == "(missing)":
        text = gettext("%(label)s: nothing entered: must be %(allowed)s") % {
            "label": label,
            "allowed": allowed,
        }
    else:
        text = gettext("%(label)s: %(value)s is not allowed: must be %(allowed)s") % {
            "label": label,
            "value": in_clinic_time(str(error.value), moment),
            "allowed": allowed,
        }
    return Refusal(field if known else None, text)


def premedication_suffix(drug: str, due: str) -> str:
    """The end of the ids of a due premedication dose's form (one form per dose on the
    page): the drug and the due moment (as the form sends it, ISO) to the minute."""
    try:
        at = datetime.fromisoformat(due)
    except ValueError:
        return ""
    return f"-{drug}-{at:%Y%m%d%H%M}"


def refused_form(
    form: str,
    error: BlinaError,
    values: Mapping[str, str],
    gettext: Gettext,
    moment: Callable[[datetime], str],
    *,
    whole: str | None = None,
    fields_of: str | None = None,
    suffix: str = "",
) -> FormError:
    """The refused form ``form`` to show again: ``error`` in plain words beside its field
    (or as the form's own message, under ``whole``, by default the form's name), what the
    form held, and its summary. ``fields_of`` names the labels' form when it differs (a
    bag's row: ``bag``); ``suffix`` is added to an element id repeated on the page (``-3``
    for bag 3's)."""
    labels = fields_of or form
    refusal = plain_words(error, labels, gettext, moment)
    key = refusal.field or whole or form
    target = f"{FORMS[labels][refusal.field][1]}{suffix}" if refusal.field else ""
    problem = Problem(refusal.field or "", target, refusal.text)
    return FormError(form, {key: refusal.text}, dict(values), (problem,))
