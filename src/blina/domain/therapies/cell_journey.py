"""The CAR-T journey planner: one product's data and the patient's dates -> a ``TherapyPlan``.

One planner for the three products (kind ``CELL_JOURNEY``): leukapheresis, manufacturing
(the expected window where the reference gives one, then the date the product is ready,
recorded), bridging (the physician's choice, recorded as entered), lymphodepletion
(fludarabine and cyclophosphamide in mg/m2 per day times the BSA, on the days relative to
the infusion), the cell infusion (day 0; obecabtagene: Day 1 and Day 10 +/- 2 split by
the marrow blasts, with the second-dose rule), premedication, then the monitoring windows
of ``cell_windows``. What the reference does not give is a ``Gap`` of the plan; the
class and product warnings, and the tocilizumab table for CRS, are its ``warnings``.
Days are labelled as the label counts them ("day -5", "day 0"; obecabtagene "day 1").

About 660 lines: the journey's steps in their order, each a short function of the product
and the dates; the monitoring windows (``cell_windows``) and the second-dose rule
(``cell_second_dose``) already live beside it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import date, timedelta

from blina.domain.errors import InvalidInput
from blina.domain.sentences import Sentence, Template
from blina.domain.therapies.car_t import (
    BlastBurden,
    CarTProduct,
    cell_dose_band,
    format_cells,
    format_cells_as,
    tocilizumab_dose,
)
from blina.domain.therapies.cell_inputs import Bridging, Journey, check_before, check_journey
from blina.domain.therapies.cell_second_dose import (
    FirstDoseReaction,
    SecondDoseDecision,
    decide_second_dose,
)
from blina.domain.therapies.cell_windows import PHYSICIAN_SOURCE, JourneyWindows, journey_windows
from blina.domain.therapies.model import (
    Entry,
    EntryKind,
    PlanWarning,
    TherapyDay,
    TherapyKind,
    TherapyPlan,
)
from blina.domain.units import Kg

__all__ = [
    "Bridging",
    "Journey",
    "plan_cell_journey",
    "replan_after_first_dose",
    "windows_of_journey",
]


# The sentences of a CAR-T journey (``blina.domain.sentences``).
PRODUCT_READY = Template("The product is ready (recorded).")
LEUKAPHERESIS = Template("Leukapheresis: T cells are collected from the blood through an IV line.")
LEUKAPHERESIS_DETAILS = Template(
    "Leukapheresis: T cells are collected from the blood through an IV line ({details})."
)
APHERESIS_HOURS = Template("about {low}\u2013{high} h")
APHERESIS_SESSIONS = Template("{low}\u2013{high} sessions depending on the T-cell count")
PRODUCT_EXPECTED = Template(
    "Product expected: manufacturing usually takes {low} to {high} weeks ({first} to "
    "{last}), variable; record the date it is ready."
)
TRIAL_MANUFACTURING = Template(
    "Manufacturing: the median vein-to-release time in the FELIX trial was {days} days (a "
    "trial figure, not a label window); record the date the product is ready."
)
BRIDGING = Template("Bridging therapy (the physician's choice): {description}.")
BRIDGING_IN_TRIAL = Template(
    "{bridging} {percent}% of patients in the FELIX trial had bridging (a trial figure, not a "
    "label instruction)."
)
LYMPHODEPLETION_DOSE = Template(
    "Lymphodepletion: {drug} {per_m2} mg/m2 {route} (day {day} of {days} of lymphodepletion)."
)
PER_M2_BASIS = Template("{per_m2} mg/m2 \u00d7 {bsa} m2")
LYMPHODEPLETION_RECORDED = Template(
    "Lymphodepletion starts (recorded): {named}; doses and days were not retrieved, give "
    "them from the current PI."
)
MARROW_SAMPLE = Template(
    "Bone-marrow sample for the blast percentage that decides the dose split: within {days} "
    "days before lymphodepletion starts ({opens} to {start})."
)
BEFORE_INFUSION_UNTIMED = Template("before the cell infusion (timing not retrieved)")
MINUTES_BEFORE_INFUSION = Template("{low}\u2013{high} min before the cell infusion")
PREMEDICATION = Template("Premedication: {drug}, {when}.")
INFUSION_RATE = Template("one IV infusion at {low}\u2013{high} mL/min")
INFUSE_WITHIN = Template("infuse the bag's contents within {minutes} min")
NO_FILTER = Template("no leukodepleting filter")
CONFIRM_IDENTITY = Template("confirm the patient's identity against the bag")
CELLS_RANGE = Template("{low} to {high}")
CELL_INFUSION = Template("{brand} cell infusion: {cells} CAR-positive viable T cells; {how}.")
CELLS_BASIS = Template("{basis} = {cells} cells")
SPLIT_BASIS = Template("marrow blasts {blasts}% ({threshold}), total {total}")
REMAINDER = Template(
    "the remainder of the total, from the Release for Infusion certificate (the exact split "
    "was not retrieved)"
)
CELLS_AMOUNT = Template("{cells} CAR-positive viable T cells")
FIRST_INFUSION = Template("{brand} first infusion (Day {day}): {amount}; {how}.")
SECOND_INFUSION = Template("{brand} second infusion (Day {day}): {amount}; {how}.")
DAILY_CHECK = Template(
    "Daily check for CRS and neurologic toxicity (daily for at least the first {days} days "
    "after the infusion)."
)
LAST_MONITORING_DAY = Template(
    "Last day of monitoring for at least {days} days after the infusion; follow-up for new "
    "malignancies continues life-long."
)
STAY_NEAR = Template("Stay near the treatment centre (until {until}).")
NO_DRIVING = Template("Do not drive (until {until}).")
NO_PROPHYLACTIC_STEROIDS = Template(
    "Avoid prophylactic systemic corticosteroids before the cell infusion."
)
RECORD_LEUKAPHERESIS = Template(
    "Record the leukapheresis date to date the expected manufacturing time."
)
RECORD_LYMPHODEPLETION = Template(
    "Record the lymphodepletion start date: the marrow sample that decides the dose split is "
    "due within the days before it."
)
CRS_MANAGEMENT = Template(
    "CRS management ({edition}, an older label): tocilizumab {dose} IV over {hours} h "
    "({basis}); repeat if no improvement, at least {apart} h apart; at most {doses} doses. If "
    "no improvement {low}\u2013{high} h after the first dose, or worsening: "
    "methylprednisolone (dose not retrieved)."
)
SUPERSEDED_STAY_NEAR = Template(
    "Superseded (before June 2025): stay near the treatment centre for at least {weeks} weeks "
    "(to {until}). The current period was not retrieved: the treating team sets it from the "
    "current label."
)
SUPERSEDED_NO_DRIVING = Template(
    "Superseded (before June 2025): do not drive for at least {weeks} weeks (to {until}). The "
    "current period was not retrieved: the treating team sets it from the current label."
)
OLDER_DAILY_MONITORING = Template(
    "The 2021 label asked for daily monitoring for at least {days} days (to {until}); whether "
    "the current label keeps it was not retrieved: check it."
)
WITHHELD = Template("{decision} The physician has withheld the second infusion.")

_DAY = timedelta(days=1)
_Dated = tuple[date, Entry]


def plan_cell_journey(product: CarTProduct, journey: Journey) -> TherapyPlan:
    """Plan a CAR-T journey for one patient.

    Parameters
    ----------
    product
        The product's knowledge: ``load_knowledge().car_t.product("tisagenlecleucel")``
        (also ``"brexucabtagene"``, ``"obecabtagene"``).
    journey
        The patient's inputs (``Journey``, from ``cell_inputs``, re-exported here): the
        infusion date (day 0; obecabtagene's Day 1), weight (kg) and BSA (m2, required
        where lymphodepletion is dosed per m2); optionally the leukapheresis date, the
        date the product is ready, the bridging the physician chose, the lymphodepletion
        start (default: the last start the label allows, where it gives a window), and
        for obecabtagene the marrow blast percentage (required), the second infusion date
        (default Day 10), the reaction to the first infusion and the physician's decision
        to withhold the second. The stay-near and no-driving periods may be entered where
        the current label's was not retrieved, or to lengthen it.

    Returns
    -------
    TherapyPlan
        Kind ``CELL_JOURNEY``; days labelled "day -5" ... "day 0" ...; each entry with its
        source; warnings (indication, boxed warnings, CRS management with the patient's
        tocilizumab dose, superseded periods) and gaps (every NOT RETRIEVED fact of the
        product and what blina does instead).

    Raises
    ------
    InvalidInput
        A date out of order or outside the label's window, a field the product does not
        take, a missing BSA or marrow blast percentage; the message names the field and
        what is allowed.
    """
    check_journey(product, journey)
    decision = _second_dose_decision(product, journey)
    second = _second_dose_date(product, journey, decision)
    windows = _windows(product, journey, second)
    dated = [
        *_collection(product, journey),
        *_lymphodepletion(product, journey),
        *_infusions(product, journey, second),
        *_monitoring(product, windows),
    ]
    return TherapyPlan(
        therapy=product.key,
        kind=TherapyKind.CELL_JOURNEY,
        days=_days(product, journey.first_infusion, dated),
        warnings=_warnings(product, journey, windows, decision),
        gaps=tuple(topic.gap for topic in product.gaps),
    )


def windows_of_journey(product: CarTProduct, journey: Journey) -> JourneyWindows:
    """The windows after the infusion(s) exactly as ``plan_cell_journey`` dates them: for
    triage and the calendar of a recorded journey (the second obecabtagene infusion, when
    given, is the last). Raises ``InvalidInput`` as the planner does."""
    check_journey(product, journey)
    decision = _second_dose_decision(product, journey)
    return _windows(product, journey, _second_dose_date(product, journey, decision))


def _windows(product: CarTProduct, journey: Journey, second: date | None) -> JourneyWindows:
    return journey_windows(
        product,
        journey.first_infusion,
        last_infusion=second,
        stay_near_days=journey.stay_near_days,
        no_driving_days=journey.no_driving_days,
    )


def replan_after_first_dose(
    product: CarTProduct,
    journey: Journey,
    reaction: FirstDoseReaction,
    *,
    second_dose_on: date | None = None,
    withheld: bool = False,
) -> tuple[Journey, TherapyPlan]:
    """Re-plan the split dose after the reaction to the first infusion.

    The old plan stays valid; the new journey records the reaction and the physician's
    choice of date for the second infusion (within what ``decide_second_dose`` allows),
    or that it is withheld. Source ``obecabtagene-second-dose``.
    """
    changed = replace(
        journey,
        first_dose_reaction=reaction,
        second_dose_on=second_dose_on,
        second_dose_withheld=withheld,
    )
    return changed, plan_cell_journey(product, changed)


# --- the journey before the infusion --------------------------------------------------------


def _collection(product: CarTProduct, journey: Journey) -> Iterator[_Dated]:
    collected = journey.leukapheresis_on
    if collected is not None:
        yield collected, _leukapheresis(product)
        yield from _manufacturing(product, collected)
    if journey.product_ready_on is not None:
        yield (
            journey.product_ready_on,
            Entry(
                EntryKind.STEP,
                "product-ready",
                PRODUCT_READY(),
                PHYSICIAN_SOURCE,
            ),
        )
    if journey.bridging is not None:
        yield journey.bridging.start, _bridging(product, journey.bridging)


def _leukapheresis(product: CarTProduct) -> Entry:
    apheresis = product.leukapheresis
    if apheresis is None:
        return Entry(EntryKind.STEP, "leukapheresis", LEUKAPHERESIS(), product.anchor_source)
    details: list[Sentence] = []
    if apheresis.hours_low is not None:
        details.append(APHERESIS_HOURS(low=apheresis.hours_low, high=str(apheresis.hours_high)))
    if apheresis.sessions_low is not None:
        details.append(
            APHERESIS_SESSIONS(low=apheresis.sessions_low, high=str(apheresis.sessions_high))
        )
    return Entry(
        EntryKind.STEP,
        "leukapheresis",
        LEUKAPHERESIS_DETAILS(details=tuple(details)),
        apheresis.source,
    )


def _manufacturing(product: CarTProduct, collected: date) -> Iterator[_Dated]:
    made = product.manufacturing
    if made is None:
        return
    if made.weeks_low is not None and made.weeks_high is not None:
        first, last = collected + _DAY * 7 * made.weeks_low, collected + _DAY * 7 * made.weeks_high
        text = PRODUCT_EXPECTED(low=made.weeks_low, high=made.weeks_high, first=first, last=last)
        yield first, Entry(EntryKind.STEP, "manufacturing", text, made.source)
    elif made.trial_median_days is not None:
        text = TRIAL_MANUFACTURING(days=made.trial_median_days)
        yield (
            collected + _DAY * made.trial_median_days,
            Entry(EntryKind.STEP, "manufacturing", text, made.source),
        )


def _bridging(product: CarTProduct, bridging: Bridging) -> Entry:
    text = BRIDGING(description=bridging.description.strip())
    if product.bridging_trial_percent is not None and product.bridging_source is not None:
        text = BRIDGING_IN_TRIAL(bridging=text, percent=product.bridging_trial_percent)
    return Entry(EntryKind.STEP, "bridging", text, PHYSICIAN_SOURCE)


def _lymphodepletion(product: CarTProduct, journey: Journey) -> Iterator[_Dated]:
    plan = product.lymphodepletion
    if not plan.drugs:
        yield from _unretrieved_lymphodepletion(product, journey)
        return
    start = _lymphodepletion_start(product, journey)
    _collected_before(journey, start)
    count = plan.last_offset + 1
    bsa = journey.bsa
    assert bsa is not None  # check_journey refuses a per-m2 plan without it
    for drug in plan.drugs:
        for offset in drug.days_from_start:
            dose = drug.per_m2 * bsa
            text = LYMPHODEPLETION_DOSE(
                drug=drug.drug,
                per_m2=drug.per_m2.value,
                route=drug.route,
                day=offset + 1,
                days=count,
            )
            yield (
                start + _DAY * offset,
                Entry(
                    EntryKind.DOSE,
                    drug.drug,
                    text,
                    drug.source,
                    dose=dose.value,
                    unit="mg",
                    basis=PER_M2_BASIS(per_m2=drug.per_m2.value, bsa=bsa.value),
                ),
            )


def _lymphodepletion_start(product: CarTProduct, journey: Journey) -> date:
    """The recorded start, checked against the label's window for the last day, or the
    last start the window allows (``*-infusion-window`` / ``*-lymphodepletion`` source)."""
    plan = product.lymphodepletion
    assert plan.end_earliest_day is not None
    assert plan.end_latest_day is not None
    day0 = journey.first_infusion - _DAY * product.anchor_day
    earliest = day0 + _DAY * (plan.end_earliest_day - plan.last_offset)
    latest = day0 + _DAY * (plan.end_latest_day - plan.last_offset)
    start = journey.lymphodepletion_start
    if start is None:
        return latest
    if not earliest <= start <= latest:
        raise InvalidInput(
            "lymphodepletion_start",
            start,
            f"a date from {earliest} to {latest}, so that lymphodepletion ends between day "
            f"{plan.end_earliest_day} and day {plan.end_latest_day}",
        )
    return start


def _collected_before(journey: Journey, start: date) -> None:
    """The cells are collected before lymphodepletion starts (recorded or planned)."""
    collected = journey.leukapheresis_on
    if collected is not None and collected >= start:
        raise InvalidInput(
            "leukapheresis_on", collected, f"a date before lymphodepletion starts, {start}"
        )


def _unretrieved_lymphodepletion(product: CarTProduct, journey: Journey) -> Iterator[_Dated]:
    """Doses and days not retrieved: the recorded start and the marrow sample due."""
    start = journey.lymphodepletion_start
    if start is None:
        return
    check_before("lymphodepletion_start", start, journey.first_infusion)
    _collected_before(journey, start)
    plan = product.lymphodepletion
    text = LYMPHODEPLETION_RECORDED(named=" and ".join(plan.named))
    sample = product.marrow_sample
    if sample is not None:
        opens = start - _DAY * sample.days_before_lymphodepletion
        due = MARROW_SAMPLE(days=sample.days_before_lymphodepletion, opens=opens, start=start)
        yield opens, Entry(EntryKind.STEP, "marrow-sample", due, sample.source)
    yield start, Entry(EntryKind.STEP, "lymphodepletion", text, plan.source)


# --- the infusion(s) ------------------------------------------------------------------------


def _second_dose_decision(product: CarTProduct, journey: Journey) -> SecondDoseDecision | None:
    if product.split is None or product.second_dose_rule is None:
        return None
    return decide_second_dose(product.split, product.second_dose_rule, journey.first_dose_reaction)


def _second_dose_date(
    product: CarTProduct, journey: Journey, decision: SecondDoseDecision | None
) -> date | None:
    """The date of the second infusion, or None: one infusion, stopped or withheld."""
    if decision is None or journey.second_dose_withheld:
        return None
    if decision.earliest_day is None or decision.latest_day is None:
        if journey.second_dose_on is not None:
            raise InvalidInput(
                "second_dose_on", journey.second_dose_on, f"left out: {decision.text}"
            )
        return None
    assert product.split is not None
    day1 = journey.first_infusion - _DAY * product.split.first_day
    chosen = journey.second_dose_on or day1 + _DAY * product.split.second_day
    earliest, latest = day1 + _DAY * decision.earliest_day, day1 + _DAY * decision.latest_day
    if not earliest <= chosen <= latest:
        raise InvalidInput(
            "second_dose_on",
            chosen,
            f"a date from {earliest} (Day {decision.earliest_day}) to {latest} "
            f"(Day {decision.latest_day})",
        )
    return chosen


def _infusions(product: CarTProduct, journey: Journey, second: date | None) -> Iterator[_Dated]:
    first = journey.first_infusion
    yield from ((first, e) for e in _premedication(product))
    if product.split is None:
        yield first, _single_infusion(product, journey)
        return
    yield first, _split_infusion(product, journey, first=True)
    if second is not None:
        yield from ((second, e) for e in _premedication(product))
        yield second, _split_infusion(product, journey, first=False)


def _premedication(product: CarTProduct) -> Iterator[Entry]:
    premed = product.premedication
    if premed.minutes_before_low is None:
        when = BEFORE_INFUSION_UNTIMED()
    else:
        when = MINUTES_BEFORE_INFUSION(
            low=premed.minutes_before_low, high=str(premed.minutes_before_high)
        )
    for drug in premed.drugs:
        text = PREMEDICATION(drug=drug.text, when=when)
        yield Entry(EntryKind.PREMEDICATION, drug.what, text, premed.source)


def _how_to_infuse(product: CarTProduct) -> tuple[Sentence, ...]:
    how = product.infusion
    parts = []
    if how.rate_ml_per_min_low is not None:
        parts.append(INFUSION_RATE(low=how.rate_ml_per_min_low, high=str(how.rate_ml_per_min_high)))
    if how.within_minutes is not None:
        parts.append(INFUSE_WITHIN(minutes=how.within_minutes))
    if how.no_leukodepleting_filter:
        parts.append(NO_FILTER())
    if how.confirm_identity:
        parts.append(CONFIRM_IDENTITY())
    return tuple(parts)


def _single_infusion(product: CarTProduct, journey: Journey) -> Entry:
    band = cell_dose_band(product.cell_doses, journey.weight)
    single = band.low == band.high
    cells = (
        format_cells(band.high)
        if single
        else CELLS_RANGE(low=format_cells(band.low), high=format_cells(band.high))
    )
    how = _how_to_infuse(product)
    text = CELL_INFUSION(brand=product.brand, cells=cells, how=how)
    return Entry(
        EntryKind.DOSE,
        product.key,
        text,
        band.source,
        dose=band.high if single else None,
        unit="cells",
        basis=CELLS_BASIS(basis=band.basis, cells=cells),
    )


def _split_infusion(product: CarTProduct, journey: Journey, *, first: bool) -> Entry:
    split = product.split
    assert split is not None
    assert journey.marrow_blasts_percent is not None
    burden = split.burden(journey.marrow_blasts_percent)
    cells = burden.first if first else burden.second
    day = split.first_day if first else split.second_day
    side = "\u2264" if burden.blasts is BlastBurden.AT_OR_BELOW else ">"
    threshold = f"{side} {split.blasts_threshold_percent}%"
    basis = SPLIT_BASIS(
        blasts=journey.marrow_blasts_percent,
        threshold=threshold,
        total=format_cells_as(split.total, split.power_of_ten),
    )
    amount = (
        REMAINDER()
        if cells is None
        else CELLS_AMOUNT(cells=format_cells_as(cells, split.power_of_ten))
    )
    which = FIRST_INFUSION if first else SECOND_INFUSION
    text = which(brand=product.brand, day=day, amount=amount, how=_how_to_infuse(product))
    return Entry(
        EntryKind.DOSE, product.key, text, burden.source, dose=cells, unit="cells", basis=basis
    )


# --- after the infusion ---------------------------------------------------------------------


def _monitoring(product: CarTProduct, windows: JourneyWindows) -> Iterator[_Dated]:
    periods = product.periods
    for day in windows.daily_checks:
        text = DAILY_CHECK(days=periods.daily_days)
        yield day, Entry(EntryKind.MONITORING, "daily-check", text, periods.daily_source)
    end = LAST_MONITORING_DAY(days=periods.monitor_days)
    yield (
        windows.monitor_until,
        Entry(EntryKind.MONITORING, "monitoring-period", end, periods.monitor_source),
    )
    yield from _restriction(
        windows.stay_near_from,
        windows.stay_near_until,
        windows.stay_near_source,
        EntryKind.STAY_NEAR,
        STAY_NEAR,
    )
    yield from _restriction(
        windows.stay_near_from,
        windows.no_driving_until,
        windows.no_driving_source,
        EntryKind.NO_DRIVING,
        NO_DRIVING,
    )


def _restriction(
    start: date, until: date | None, source: str | None, kind: EntryKind, what: Template
) -> Iterator[_Dated]:
    if until is None or source is None:
        return
    text = what(until=until)
    for n in range((until - start).days + 1):
        yield start + _DAY * n, Entry(kind, kind.value, text, source)


# --- the plan's shape -----------------------------------------------------------------------


def _days(
    product: CarTProduct, first_infusion: date, dated: list[_Dated]
) -> tuple[TherapyDay, ...]:
    by_day: dict[date, list[Entry]] = {}
    for on, entry in dated:
        by_day.setdefault(on, []).append(entry)
    return tuple(
        TherapyDay(
            on=on,
            label=f"day {product.anchor_day + (on - first_infusion).days}",
            entries=tuple(by_day[on]),
        )
        for on in sorted(by_day)
    )


def _warnings(
    product: CarTProduct,
    journey: Journey,
    windows: JourneyWindows,
    decision: SecondDoseDecision | None,
) -> tuple[PlanWarning, ...]:
    warnings = [product.indication, *product.class_warnings, *product.warnings]
    if product.premedication.avoid_prophylactic_steroids:
        warnings.append(
            PlanWarning(
                "no-prophylactic-steroids",
                NO_PROPHYLACTIC_STEROIDS(),
                product.premedication.source,
            )
        )
    warnings.append(_tocilizumab_warning(product, journey.weight))
    warnings.extend(_superseded(product, windows))
    if decision is not None:
        warnings.append(_second_dose_warning(journey, decision))
    if product.manufacturing is not None and journey.leukapheresis_on is None:
        warnings.append(
            PlanWarning(
                "manufacturing",
                RECORD_LEUKAPHERESIS(),
                product.manufacturing.source,
            )
        )
    if not product.lymphodepletion.drugs and journey.lymphodepletion_start is None:
        warnings.append(
            PlanWarning(
                "lymphodepletion-start",
                RECORD_LYMPHODEPLETION(),
                product.lymphodepletion.source,
            )
        )
    return tuple(warnings)


def _tocilizumab_warning(product: CarTProduct, weight: Kg) -> PlanWarning:
    table = product.tocilizumab
    dose = tocilizumab_dose(table, weight)
    text = CRS_MANAGEMENT(
        edition=table.edition,
        dose=dose.dose,
        hours=table.infusion_hours,
        basis=dose.basis,
        apart=table.repeat_at_least_hours,
        doses=table.max_doses,
        low=table.steroid_after_hours_low,
        high=str(table.steroid_after_hours_high),
    )
    return PlanWarning("tocilizumab", text, table.source)


def _superseded(product: CarTProduct, windows: JourneyWindows) -> Iterator[PlanWarning]:
    periods = product.periods
    if windows.stay_near_until is None:
        yield PlanWarning(
            "superseded-stay-near",
            SUPERSEDED_STAY_NEAR(
                weeks=periods.superseded_stay_near_days // 7,
                until=windows.superseded_stay_near_until,
            ),
            periods.superseded_stay_near_source,
        )
    if windows.no_driving_until is None:
        yield PlanWarning(
            "superseded-no-driving",
            SUPERSEDED_NO_DRIVING(
                weeks=periods.superseded_no_driving_days // 7,
                until=windows.superseded_no_driving_until,
            ),
            periods.superseded_no_driving_source,
        )
    if periods.older_daily_days is not None and periods.older_daily_source is not None:
        yield PlanWarning(
            "older-daily-monitoring",
            OLDER_DAILY_MONITORING(
                days=periods.older_daily_days,
                until=windows.last_infusion + _DAY * periods.older_daily_days,
            ),
            periods.older_daily_source,
        )


def _second_dose_warning(journey: Journey, decision: SecondDoseDecision) -> PlanWarning:
    text = decision.text
    if journey.second_dose_withheld:
        text = WITHHELD(decision=decision.text)
    return PlanWarning(f"second-dose-{decision.action.value}", text, decision.source)
