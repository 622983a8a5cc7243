"""Invariants of the therapy planners over any patient, responses and dates (hypothesis).

- no dose above its per-dose cap, no cycle above its per-cycle total (the scheme's total
  mg/m2 times the BSA), no more cycles or doses than the therapy allows;
- every dose date blina places (not one the user gave) is at least the minimum spacing
  after the dose before it, and a day 8/15 it places without a given date before it stays
  inside its window; a given date that breaks either rule is named in a plan warning.
"""

from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal

from hypothesis import assume, given
from hypothesis import strategies as st

from blina.domain.errors import InvalidInput
from blina.domain.therapies.cycle_doses import (
    CycleDoseFacts,
    CycleDoseRequest,
    Response,
    Transplant,
    plan_cycle_doses,
)
from blina.domain.therapies.hosted_doses import (
    HostedDoseFacts,
    HostedDoseRequest,
    plan_hosted_doses,
)
from blina.domain.therapies.model import EntryKind, TherapyDay, TherapyPlan
from blina.knowledge import load_knowledge

THERAPIES = load_knowledge().therapies
INOTUZUMAB = THERAPIES["inotuzumab"]
assert isinstance(INOTUZUMAB, CycleDoseFacts)
HOSTED = tuple(f for f in THERAPIES.values() if isinstance(f, HostedDoseFacts))

BSA = st.decimals(min_value=Decimal("0.20"), max_value=Decimal("3.50"), places=2)
STARTS = st.dates(min_value=date(2026, 1, 1), max_value=date(2030, 12, 31))


def _dose(day: TherapyDay) -> Decimal:
    (dose,) = [e.dose for e in day.entries if e.kind is EntryKind.DOSE]
    assert dose is not None
    return dose


def _cycle(day: TherapyDay) -> int:
    return int(day.label.split()[0][1:])


@st.composite
def inotuzumab_requests(draw: st.DrawFn) -> CycleDoseRequest:
    responses = tuple(draw(st.lists(st.sampled_from(list(Response)), max_size=6)))
    start = draw(STARTS)
    given: dict[tuple[int, int], date] = {}
    for cycle, cycle_day in draw(st.sets(st.tuples(st.integers(1, 3), st.sampled_from([8, 15])))):
        nominal = start + timedelta(days=(cycle - 1) * 28 + cycle_day - 1)
        given[cycle, cycle_day] = nominal + timedelta(days=draw(st.integers(-4, 4)))
    return CycleDoseRequest(
        bsa_m2=draw(BSA),
        start=start,
        transplant=draw(st.sampled_from(list(Transplant))),
        responses=responses,
        mrd_negative=draw(st.none() | st.booleans()),
        first_cycle_days=draw(st.sampled_from([None, 21, 28])),
        given=draw(st.sampled_from([{}, given])),
    )


def _inotuzumab(request: CycleDoseRequest) -> TherapyPlan:
    try:
        return plan_cycle_doses(INOTUZUMAB, request)
    except InvalidInput:
        assume(False)  # dates out of order, a response or date for a cycle not planned
        raise  # pragma: no cover


@given(inotuzumab_requests())
def test_inotuzumab_never_exceeds_a_per_dose_or_per_cycle_amount(
    request: CycleDoseRequest,
) -> None:
    plan = _inotuzumab(request)
    schemes = (INOTUZUMAB.first_cycle, INOTUZUMAB.in_response, INOTUZUMAB.no_response)
    largest_dose = max(mg for s in schemes for _, mg in s.doses) * request.bsa_m2
    largest_cycle = max(s.total_mg_per_m2 for s in schemes) * request.bsa_m2
    per_cycle: defaultdict[int, Decimal] = defaultdict(Decimal)
    for day in plan.days:
        assert _dose(day) <= largest_dose
        per_cycle[_cycle(day)] += _dose(day)

    assert all(total <= largest_cycle for total in per_cycle.values())
    assert all(len([d for d in plan.days if _cycle(d) == c]) == 3 for c in per_cycle)
    limit = (
        INOTUZUMAB.limits.hsct_max_cycles
        if request.transplant is Transplant.PLANNED
        else INOTUZUMAB.limits.max_cycles
    )
    assert len(per_cycle) <= limit


@given(inotuzumab_requests())
def test_inotuzumab_placed_dates_keep_the_spacing_and_given_ones_are_flagged(
    request: CycleDoseRequest,
) -> None:
    plan = _inotuzumab(request)
    spacing = timedelta(days=INOTUZUMAB.scheduling.min_spacing_days)
    flagged = " ".join(w.text for w in plan.warnings if w.what.startswith("dose-date-"))

    for before, after in zip(plan.days, plan.days[1:], strict=False):
        assert after.on > before.on
        label = after.label.replace(" ", "")
        key = (_cycle(after), int(label.split("D")[1]))
        if key not in request.given:
            assert after.on - before.on >= spacing, (before, after)
        elif after.on - before.on < spacing:
            assert f"{after.label} given {after.on}" in flagged


@given(st.builds(CycleDoseRequest, bsa_m2=BSA, start=STARTS, transplant=st.just(
    Transplant.NOT_PLANNED), responses=st.just((Response.CR,) * 6)))  # fmt: skip
def test_inotuzumab_without_given_dates_keeps_the_nominal_days(request: CycleDoseRequest) -> None:
    plan = plan_cycle_doses(INOTUZUMAB, request)

    day1 = {_cycle(d): d.on for d in plan.days if d.label.endswith(" D1")}
    for day in plan.days:
        cycle_day = int(day.label.split(" D")[1])
        assert day.on == day1[_cycle(day)] + timedelta(days=cycle_day - 1)
    assert not [w for w in plan.warnings if w.what.startswith("dose-date-")]


@st.composite
def hosted_requests(draw: st.DrawFn) -> tuple[HostedDoseFacts, HostedDoseRequest]:
    facts = draw(st.sampled_from(HOSTED))
    day1 = draw(STARTS)
    dated: dict[str, date] = {}
    for course in facts.courses:
        if draw(st.booleans()):
            dated[course.key] = day1
        day1 += timedelta(days=draw(st.integers(14, 60)))
    weight = draw(st.none() | st.decimals(Decimal("5"), Decimal("150"), places=1))
    return facts, HostedDoseRequest(draw(BSA), dated, weight)


@given(hosted_requests())
def test_hosted_doses_never_exceed_the_cap_or_the_total(
    case: tuple[HostedDoseFacts, HostedDoseRequest],
) -> None:
    facts, request = case
    plan = plan_hosted_doses(facts, request)
    expected = facts.mg_per_m2 * request.bsa_m2
    if facts.cap_mg is not None:
        expected = min(expected, facts.cap_mg)

    for day in plan.days:
        assert _dose(day) == expected
        assert facts.cap_mg is None or _dose(day) <= facts.cap_mg
    assert facts.max_doses is None or len(plan.days) <= facts.max_doses
    wanted = sum(len(c.days) for c in facts.courses if c.key in request.host_day1)
    assert len(plan.days) == wanted
    assert [d.on for d in plan.days] == sorted({d.on for d in plan.days})
