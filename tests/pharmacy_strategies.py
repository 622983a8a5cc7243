"""Builders and hypothesis strategies for the pharmacy bench.

Builders make valid objects with keyword overrides (a validated US site library like the
demo one, resolved against the shipped reference); strategies draw valid clinical inputs
and synthetic site libraries no pharmacy has, so the invariants are checked far beyond
the demo values. Every number is a ``Decimal`` drawn with ``st.decimals(places=...)``.
``expect_recipe``, ``expect_refusal`` and ``hard_stops`` unwrap what ``prepare_bag``
answers, failing with the hard stops when the answer is not the one a test expects.
"""

from dataclasses import replace
from datetime import date
from decimal import Decimal
from typing import Any

from hypothesis import strategies as st

from blina.domain.pharmacy.prescription import Prescription, prescribe
from blina.domain.pharmacy.recipe import Recipe, Refusal
from blina.domain.pharmacy.reference import LabelDoseRules, PharmacyReference, label_dose_rules
from blina.domain.pharmacy.resolution import ResolvedLibrary, resolve_library
from blina.domain.pharmacy.site_library import (
    CareArea,
    LabelRow,
    Limits,
    SiteBag,
    SiteLibrary,
    Validation,
)
from blina.domain.rounding import MeasurableStep, VolumeRounding
from blina.domain.units import M2, McgPerDay, McgPerM2PerDay, Ml, MlPerHour
from blina.knowledge import load_knowledge

SITE_SOURCE = "synthetic-site"
BAG_HOURS = (24, 48, 72, 96, 168)
PRESERVATIVE_HOURS = (72, 96, 168)
VALIDATED = Validation(("Pharmacist A", "Pharmacist B"), date(2026, 1, 15))
DEMO_STABILIZER = {24: "6", 48: "6", 72: "3", 96: "4", 168: "2.5"}
DEMO_SALINE = {24: "270", 48: "270", 72: "140", 96: "185", 168: "110"}
DEMO_MEASURABLE = (("1", "0.01"), ("3", "0.1"), ("10", "0.2"), ("30", "0.5"))


def reference() -> PharmacyReference:
    """The shipped sourced constants (``knowledge/pharmacy.toml``)."""
    return load_knowledge().pharmacy


def dose_rules() -> LabelDoseRules:
    """The label's dose limits, read from the shipped regimens."""
    return label_dose_rules(load_knowledge().regimens_by_id.values())


def make_site_bag(hours: int, **overrides: Any) -> SiteBag:
    """A site bag with the demo library's stabilizer and saline volumes."""
    values: dict[str, Any] = {
        "hours": hours,
        "source": SITE_SOURCE,
        "stabilizer": Ml(Decimal(DEMO_STABILIZER[hours])),
        "base_saline": Ml(Decimal(DEMO_SALINE[hours])),
    }
    values.update(overrides)
    return SiteBag(**values)


def make_site_bags(*changed: tuple[int, dict[str, Any]]) -> tuple[SiteBag, ...]:
    """A site bag for every bag duration, with ``(hours, overrides)`` for those that differ."""
    overrides = dict(changed)
    return tuple(make_site_bag(h, **overrides.get(h, {})) for h in BAG_HOURS)


def make_label_row(row_id: str = "24h-28", **overrides: Any) -> LabelRow:
    """A fixed label row: 28 mcg/day in a 24-h bag of the demo library's volumes."""
    values: dict[str, Any] = {
        "id": row_id,
        "bag_hours": 24,
        "saline": Ml(Decimal(270)),
        "stabilizer": Ml(Decimal(6)),
        "drug": Ml(Decimal("2.6")),
        "vials": 1,
        "source": "row-src",
        "dose": McgPerDay(Decimal(28)),
    }
    values.update(overrides)
    return LabelRow(**values)


def make_band_row(row_id: str, low: str, high: str, drug: str, **overrides: Any) -> LabelRow:
    """A BSA-band label row: 15 mcg/m2/day from ``low`` to ``high`` m2 with ``drug`` mL."""
    return make_label_row(
        row_id,
        dose=None,
        per_m2=McgPerM2PerDay(Decimal(15)),
        bsa_min=M2(Decimal(low)),
        bsa_max=M2(Decimal(high)),
        drug=Ml(Decimal(drug)),
        **overrides,
    )


def make_care_area(**limits: Limits) -> CareArea:
    """A pediatric care area for 24/48-h bags: give ``dose``, ``dose_per_m2``, ``rate`` or
    ``concentration`` limits; the others set none."""
    empty = Limits("x", "area-src")
    return CareArea(
        id="peds",
        name="Pediatric inpatient",
        bag_hours=(24, 48),
        dose=limits.get("dose", empty),
        dose_per_m2=limits.get("dose_per_m2", empty),
        rate=limits.get("rate", empty),
        concentration=limits.get("concentration", empty),
        advisories=(),
        source="area-src",
    )


def make_site(**overrides: Any) -> SiteLibrary:
    """A validated US site library with the demo library's values; override any field."""
    values: dict[str, Any] = {
        "name": "synthetic site",
        "version": "1",
        "region": "US",
        "demo": False,
        "validation": VALIDATED,
        "priming": Ml(Decimal(10)),
        "measurable": tuple(MeasurableStep(Decimal(u), Decimal(s)) for u, s in DEMO_MEASURABLE),
        "tolerance_percent": Decimal(5),
        "rounding": VolumeRounding.NEAREST,
        "source": SITE_SOURCE,
        "bags": tuple(make_site_bag(hours) for hours in BAG_HOURS),
    }
    values.update(overrides)
    return SiteLibrary(**values)


def resolve(site: SiteLibrary | None = None) -> ResolvedLibrary:
    """``site`` (default ``make_site()``) resolved against the shipped reference."""
    return resolve_library(
        reference=reference(), site=make_site() if site is None else site, dose_rules=dose_rules()
    )


def make_rx(
    *,
    hours: int = 24,
    weight: str = "70",
    dose: str | None = "28",
    per_m2: str | None = None,
    bsa: str | None = None,
) -> Prescription:
    """A prescription; give ``per_m2`` and ``bsa`` (and ``dose=None``) for a dose per m2."""
    return prescribe(
        bag_hours=hours,
        weight_kg=Decimal(weight),
        rules=dose_rules(),
        bsa_max=reference().bsa_max.value,
        dose_mcg_per_day=None if dose is None else Decimal(dose),
        dose_mcg_per_m2_per_day=None if per_m2 is None else Decimal(per_m2),
        bsa_m2=None if bsa is None else Decimal(bsa),
    )


def expect_recipe(result: Recipe | Refusal) -> Recipe:
    """``result`` as a recipe; a refusal fails the test with its hard stops."""
    assert isinstance(result, Recipe), [c.reason for c in result.checks.hard]
    return result


def expect_refusal(result: Recipe | Refusal) -> Refusal:
    """``result`` as a refusal; a recipe fails the test."""
    assert isinstance(result, Refusal)
    return result


def hard_stops(result: Recipe | Refusal) -> dict[str, str]:
    """The hard stops of a refusal, code to reason; a recipe fails the test."""
    return {c.code: c.reason for c in expect_refusal(result).checks.hard}


def decimals(low: str, high: str, *, places: int) -> st.SearchStrategy[Decimal]:
    """Finite Decimals in [low, high] with ``places`` decimal places."""
    return st.decimals(
        min_value=Decimal(low),
        max_value=Decimal(high),
        places=places,
        allow_nan=False,
        allow_infinity=False,
    )


def bag_hours() -> st.SearchStrategy[int]:
    """Every bag duration the reference knows."""
    return st.sampled_from(BAG_HOURS)


def weights_kg(low: str = "0.5", high: str = "200") -> st.SearchStrategy[Decimal]:
    """Body weights in kg to 0.1 kg."""
    return decimals(low, high, places=1)


def bsas_m2(low: str = "0.15", high: str = "2.6") -> st.SearchStrategy[Decimal]:
    """Body surface areas in m2 to 0.01 m2, from a newborn to a large adult."""
    return decimals(low, high, places=2)


def fixed_doses() -> st.SearchStrategy[Decimal]:
    """Daily doses in mcg/day up to the label cap: the labelled 9 and 28, or any to 0.01."""
    return st.one_of(st.sampled_from((Decimal(9), Decimal(28))), decimals("0.5", "28", places=2))


def per_m2_doses() -> st.SearchStrategy[Decimal]:
    """Doses per m2 up to the label's 15 mcg/m2/day: the labelled 5 and 15, or any to 0.1."""
    return st.one_of(st.sampled_from((Decimal(5), Decimal(15))), decimals("1", "15", places=1))


@st.composite
def prescriptions(
    draw: st.DrawFn,
    *,
    weight: st.SearchStrategy[Decimal] | None = None,
    hours: st.SearchStrategy[int] | None = None,
) -> Prescription:
    """Valid prescriptions within the label's caps: fixed, or per m2 with a BSA."""
    chosen_hours = draw(hours if hours is not None else bag_hours())
    chosen_weight = draw(weight if weight is not None else weights_kg())
    if draw(st.booleans()):
        return make_rx(hours=chosen_hours, weight=str(chosen_weight), dose=str(draw(fixed_doses())))
    return make_rx(
        hours=chosen_hours,
        weight=str(chosen_weight),
        dose=None,
        per_m2=str(draw(per_m2_doses())),
        bsa=str(draw(bsas_m2())),
    )


@st.composite
def measurable_tables(draw: st.DrawFn) -> tuple[MeasurableStep, ...]:
    """One to four syringe sizes, increasing, with graduations from 0.01 to 1 mL."""
    count = draw(st.integers(1, 4))
    limits = sorted(draw(st.sets(decimals("0.5", "60", places=1), min_size=count, max_size=count)))
    steps = [
        draw(st.sampled_from(("0.01", "0.02", "0.05", "0.1", "0.2", "0.5", "1"))) for _ in limits
    ]
    return tuple(MeasurableStep(up, Decimal(step)) for up, step in zip(limits, steps, strict=True))


@st.composite
def site_bags(draw: st.DrawFn, hours: int) -> SiteBag:
    """A site bag with any stabilizer (0.5-10 mL) and base saline (20-400 mL).

    Where the reference gives the base saline (24/48 h: 270 mL from 45 kg) the site either
    repeats it or gives none; a site rate is given only where it equals the reference's,
    as a confirmation. Contradicting the reference is a library problem, tested apart.
    """
    confirm = draw(st.booleans())
    ref_rate = reference().bags[hours].rate
    if hours in (24, 48):
        saline = draw(st.sampled_from((Decimal(270), None)))
    else:
        saline = draw(decimals("20", "400", places=0))
    return make_site_bag(
        hours,
        stabilizer=Ml(draw(decimals("0.5", "10", places=1))),
        base_saline=None if saline is None else Ml(saline),
        rate=ref_rate if confirm else None,
    )


@st.composite
def site_libraries(draw: st.DrawFn) -> SiteLibrary:
    """Validated US site libraries no pharmacy has: any priming (0-30 mL), tolerance
    (0.5-10 %), rounding rule, measurable table and bag volumes."""
    return make_site(
        priming=Ml(draw(decimals("0", "30", places=1))),
        tolerance_percent=draw(decimals("0.5", "10", places=1)),
        rounding=draw(st.sampled_from(tuple(VolumeRounding))),
        measurable=draw(measurable_tables()),
        bags=tuple(draw(site_bags(hours)) for hours in BAG_HOURS),
    )


def unvalidated() -> st.SearchStrategy[Validation]:
    """Validations that do not count: no date, fewer than two names, or one name twice."""
    name = st.sampled_from(("Pharmacist A", "pharmacist a ", "Pharmacist B"))
    return st.one_of(
        st.builds(lambda names: Validation(tuple(names), None), st.lists(name, max_size=3)),
        st.builds(lambda n: Validation((n,), date(2026, 1, 1)), name),
        st.builds(lambda n: Validation((n, n.upper()), date(2026, 1, 1)), name),
        st.just(Validation((), date(2026, 1, 1))),
    )


def with_rate(site: SiteLibrary, hours: int, rate: str) -> SiteLibrary:
    """``site`` with a site rate for one bag duration."""
    bags = tuple(
        replace(b, rate=MlPerHour(Decimal(rate))) if b.hours == hours else b for b in site.bags
    )
    return replace(site, bags=bags)
