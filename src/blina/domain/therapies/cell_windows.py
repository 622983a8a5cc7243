"""The windows after a CAR-T infusion, as dates: what triage and the calendar read.

After the (last) cell infusion the class labels (June 2025) ask for daily checks for at
least the first week and monitoring for at least 2 weeks; each product's current label
says how long to stay near the treatment centre and not to drive. Where a product's
current period was not retrieved the window is None unless the treating team enters the
period from the current label; the superseded pre-June-2025 dates are given beside it,
for display only. Sources: ``car-t-fda-2025-monitoring``, the product's periods source,
``car-t-blina-day-counting`` (how the days are counted).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from blina.domain.errors import InvalidInput
from blina.domain.therapies.car_t import CarTProduct

__all__ = ["PHYSICIAN_SOURCE", "JourneyWindows", "journey_windows"]

PHYSICIAN_SOURCE = "car-t-physician-choice"
# Not a clinical limit: a plausibility bound on a period the team types in.
_MAX_PERIOD_DAYS = 365


@dataclass(frozen=True, slots=True)
class JourneyWindows:
    """Dates after the cell infusion(s), each window inclusive of its last day.

    ``stay_near_from`` is the day after the first infusion; the periods end counted from
    the last infusion. A ``*_source`` names where a period comes from: the product's
    label source, or ``car-t-physician-choice`` when the team entered it.
    """

    product: str
    first_infusion: date
    last_infusion: date
    daily_checks: tuple[date, ...]
    monitor_until: date
    stay_near_from: date
    stay_near_until: date | None
    stay_near_source: str | None
    no_driving_until: date | None
    no_driving_source: str | None
    superseded_stay_near_until: date
    superseded_no_driving_until: date


def journey_windows(
    product: CarTProduct,
    first_infusion: date,
    *,
    last_infusion: date | None = None,
    stay_near_days: int | None = None,
    no_driving_days: int | None = None,
) -> JourneyWindows:
    """The daily-check days, the monitoring end, and the stay-near and no-driving ends.

    Parameters
    ----------
    product
        The CAR-T product (its periods; the class's daily checks and monitoring).
    first_infusion
        The date of the cell infusion (day 0; obecabtagene's Day 1).
    last_infusion
        For a split dose, the date of the second infusion when it is given; periods
        count from it. Defaults to ``first_infusion``.
    stay_near_days, no_driving_days
        A period the treating team enters (whole days after the last infusion): where the
        current label's period was not retrieved, or to lengthen it (never shorter).

    Raises ``InvalidInput`` naming the field and the allowed range.
    """
    last = first_infusion if last_infusion is None else last_infusion
    if last < first_infusion:
        raise InvalidInput(
            "last_infusion", last, f"on or after the first infusion, {first_infusion}"
        )
    periods = product.periods
    near, near_source = _period(
        "stay_near_days", periods.stay_near_days, periods.source, stay_near_days
    )
    drive, drive_source = _period(
        "no_driving_days", periods.no_driving_days, periods.source, no_driving_days
    )
    one = timedelta(days=1)
    daily_end = last + timedelta(days=periods.daily_days)
    return JourneyWindows(
        product=product.key,
        first_infusion=first_infusion,
        last_infusion=last,
        daily_checks=tuple(
            first_infusion + one * n for n in range(1, (daily_end - first_infusion).days + 1)
        ),
        monitor_until=last + timedelta(days=periods.monitor_days),
        stay_near_from=first_infusion + one,
        stay_near_until=None if near is None else last + timedelta(days=near),
        stay_near_source=near_source,
        no_driving_until=None if drive is None else last + timedelta(days=drive),
        no_driving_source=drive_source,
        superseded_stay_near_until=last + timedelta(days=periods.superseded_stay_near_days),
        superseded_no_driving_until=last + timedelta(days=periods.superseded_no_driving_days),
    )


def _period(
    field: str, label_days: int | None, label_source: str | None, entered: int | None
) -> tuple[int | None, str | None]:
    """The period in days and its source: the team's entry if any (never shorter than
    the label's), else the label's (None where not retrieved)."""
    if entered is None:
        return label_days, label_source
    shortest = 1 if label_days is None else label_days
    if isinstance(entered, bool) or not shortest <= entered <= _MAX_PERIOD_DAYS:
        why = "" if label_days is None else " (not shorter than the current label's period)"
        raise InvalidInput(
            field, entered, f"a whole number of days from {shortest}{why} to {_MAX_PERIOD_DAYS}"
        )
    return entered, PHYSICIAN_SOURCE
