"""The pump and the line: a pump program and a line flush against the bag they are for.

``check_pump_program`` checks a programmed rate and volume against the bag's
``Infusion``; a rate that does not match is hard and the dose factor is shown.
``check_flush`` gives the bolus a line flush would push, in mcg and in hours of infusion.
Both return their figures with a ``CheckReport``; only a rate, volume or line volume that
is not a number > 0 raises ``InvalidInput``.
"""

from dataclasses import dataclass
from decimal import Decimal

from blina.domain.checks import Check, CheckLevel, CheckReport
from blina.domain.errors import InvalidInput
from blina.domain.pharmacy.mass_balance import HOURS_PER_DAY
from blina.domain.pharmacy.reference import Advisory
from blina.domain.pharmacy.site_library import CareArea
from blina.domain.rounding import round_factor, round_reported
from blina.domain.units import Mcg, McgPerDay, McgPerMl, Ml, MlPerHour

__all__ = ["FlushCheck", "Infusion", "PumpCheck", "check_flush", "check_pump_program"]


@dataclass(frozen=True, slots=True)
class Infusion:
    """What one prepared bag is meant to deliver: its rate, volume, drug and duration."""

    hours: int
    rate: MlPerHour
    infuse: Ml
    drug: Mcg
    total: Ml
    rate_source: str

    @property
    def concentration(self) -> McgPerMl:
        """Drug per mL of the bag: drug mass / total bag volume."""
        return McgPerMl(self.drug.value / self.total.value)

    def daily_dose_at(self, rate: MlPerHour) -> McgPerDay:
        """mcg/day the bag delivers at ``rate``: concentration x rate x 24 h."""
        return McgPerDay(self.drug.value * rate.value * HOURS_PER_DAY / self.total.value)


@dataclass(frozen=True, slots=True)
class PumpCheck:
    """A pump program's verdict with its figures.

    ``dose_factor`` is the programmed rate over the bag's rate (16.67 for a 7-day bag run
    at 10 mL/h: an overdose of 16.67 times); ``programmed_hours`` is volume / rate.
    """

    report: CheckReport
    dose_factor: Decimal
    programmed_dose: McgPerDay
    programmed_hours: Decimal


@dataclass(frozen=True, slots=True)
class FlushCheck:
    """A line flush's verdict: the bolus it pushes and the hours of infusion it equals."""

    report: CheckReport
    bolus: Mcg
    equivalent_hours: Decimal


def check_pump_program(
    infusion: Infusion,
    *,
    rate: MlPerHour,
    volume: Ml,
    care_area: CareArea | None = None,
) -> PumpCheck:
    """A pump program (rate, volume to be infused) against the bag it is meant for.

    Hard: a rate that is not the bag's rate (the dose factor and the daily dose it gives
    are in the reason); a volume to be infused above the bag's, which would run the bag
    past its duration into its priming overfill. Soft: a smaller volume, which stops the
    infusion early. With ``care_area``, its rate and concentration limits apply too.
    Source: the bag's rate source.
    """
    if rate.value <= 0:
        raise InvalidInput("rate_ml_per_h", rate.value, "a number > 0")
    if volume.value <= 0:
        raise InvalidInput("volume_ml", volume.value, "a number > 0")
    factor = rate.value / infusion.rate.value
    dose = infusion.daily_dose_at(rate)
    hours = volume.value / rate.value
    found = [_rate_check(infusion, rate, factor, dose)]
    volume_check = _volume_check(infusion, volume)
    if volume_check is not None:
        found.append(volume_check)
    if care_area is not None:
        name = care_area.name
        limits = (
            care_area.rate.check(rate.value, what="rate", code="care-area-rate", area=name),
            care_area.concentration.check(
                infusion.concentration.value,
                what="concentration",
                code="care-area-concentration",
                area=name,
            ),
        )
        found.extend(check for check in limits if check is not None)
    return PumpCheck(CheckReport(tuple(found)), factor, dose, hours)


def _rate_check(infusion: Infusion, rate: MlPerHour, factor: Decimal, dose: McgPerDay) -> Check:
    bag = f"the {infusion.hours}-h bag's {infusion.rate.value} mL/h"
    prescribed = infusion.daily_dose_at(infusion.rate).value
    if rate.value == infusion.rate.value:
        return Check(
            CheckLevel.OK,
            "rate-matches-bag",
            f"{rate.value} mL/h is {bag}",
            infusion.rate_source,
        )
    kind = "an overdose" if factor > 1 else "an underdose"
    return Check(
        CheckLevel.HARD,
        "rate-does-not-match-bag",
        f"{rate.value} mL/h is not {bag}: {kind} of {round_factor(factor)} times the"
        f" prescribed dose ({round_reported(dose.value)} instead of"
        f" {round_reported(prescribed)} mcg/day)",
        infusion.rate_source,
    )


def _volume_check(infusion: Infusion, volume: Ml) -> Check | None:
    infuse = infusion.infuse.value
    if volume.value > infuse:
        return Check(
            CheckLevel.HARD,
            "volume-above-bag",
            f"volume to be infused {volume.value} mL is more than the {infuse} mL this bag"
            f" infuses: the pump would run past {infusion.hours} h into the priming overfill",
            infusion.rate_source,
        )
    if volume.value < infuse:
        return Check(
            CheckLevel.SOFT,
            "volume-below-bag",
            f"volume to be infused {volume.value} mL is less than the {infuse} mL this bag"
            f" infuses: the infusion would stop before {infusion.hours} h",
            infusion.rate_source,
        )
    return None


def check_flush(infusion: Infusion, *, line_volume: Ml, rule: Advisory) -> FlushCheck:
    """What flushing ``line_volume`` of this bag's solution would push into the patient.

    bolus (mcg) = bag concentration x line volume; equivalent hours = line volume / rate.
    The label says never to flush the line (``rule``, the do-not-flush advisory): a hard
    stop, with the figures that show why.
    """
    if line_volume.value <= 0:
        raise InvalidInput("line_volume_ml", line_volume.value, "a number > 0")
    bolus = Mcg(infusion.drug.value * line_volume.value / infusion.total.value)
    hours = line_volume.value / infusion.rate.value
    reason = (
        f"do not flush: {line_volume.value} mL of this line holds"
        f" {round_reported(bolus.value)} mcg, pushed at once; the pump gives that over"
        f" {round_factor(hours)} h"
    )
    report = CheckReport((Check(CheckLevel.HARD, "do-not-flush", reason, rule.source),))
    return FlushCheck(report, bolus, hours)
