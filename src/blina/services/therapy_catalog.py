"""What blina can plan, therapy by therapy: the list ``GET /api/v1/therapies`` answers and
the staff planner page offers, with each therapy's kind, label version, sources and the
inputs its planner reads.

A therapy family registers itself once, in ``FAMILIES``: a function from the knowledge to
the ``TherapyInfo`` of each of its therapies. Blinatumomab (its own course planner) and
the dose therapies of ``knowledge.therapies`` and the CAR-T products of ``knowledge.car_t``
are registered here; a new family adds one function to the tuple, and everything that
lists therapies (the API, the planner page, the About index's links) lists it too. The
inputs a kind of therapy reads are named by ``INPUTS``, fields of
``therapy_planning.TherapyInputs``.
"""

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, fields, is_dataclass
from typing import Any

from blina.domain.therapies.car_t import CarTProduct
from blina.domain.therapies.hosted_doses import HostedDoseFacts
from blina.domain.therapies.model import PlanWarning, TherapyKind, TherapyPlan
from blina.knowledge import Knowledge
from blina.services.therapy_planning import BLINATUMOMAB, CELL_FIELDS

__all__ = [
    "FAMILIES",
    "INPUTS",
    "HostCourseInfo",
    "TherapyInfo",
    "is_boxed",
    "sources_of",
    "therapy_catalog",
    "therapy_info",
    "warnings_boxed_first",
]

_BODY = ("bsa_m2", "height_cm", "weight_kg", "age_years")

INPUTS: Mapping[TherapyKind, tuple[str, ...]] = {
    TherapyKind.CONTINUOUS_INFUSION: (),  # the course planner's own form and /calc/plan
    TherapyKind.CYCLE_DOSES: (
        *_BODY,
        "start",
        "transplant",
        "responses",
        "mrd_negative",
        "first_cycle_days",
        "blasts_per_mm3",
        "dose_dates",
    ),
    TherapyKind.HOSTED_DOSES: (*_BODY, "host_day1"),
    # ``start`` is day 0 (obecabtagene: Day 1, its first infusion); the split-dose fields
    # only where the product is split (``_SPLIT_ONLY``).
    TherapyKind.CELL_JOURNEY: (*_BODY, "start", *CELL_FIELDS),
}
_SPLIT_ONLY = frozenset(CELL_FIELDS[5:10])


@dataclass(frozen=True, slots=True)
class HostCourseInfo:
    """A course of the host regimen a hosted therapy's doses sit in: its day 1 is an input."""

    key: str
    name: str
    days: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class TherapyInfo:
    """One therapy as the catalog lists it; ``planned_here`` is False for blinatumomab,
    whose course planner is the patient's course form and ``/calc/plan``."""

    key: str
    name: str
    kind: TherapyKind
    label: str
    label_source: str
    sources: tuple[str, ...]  # every source id its facts cite, sorted
    inputs: tuple[str, ...]
    host: str | None = None
    host_courses: tuple[HostCourseInfo, ...] = ()
    planned_here: bool = True


Family = Callable[[Knowledge], Iterable[TherapyInfo]]


def _blinatumomab(knowledge: Knowledge) -> Iterator[TherapyInfo]:
    label = knowledge.label
    regimens = knowledge.regimens_by_id.values()
    yield TherapyInfo(
        key=BLINATUMOMAB,
        name="Blinatumomab (BLINCYTO)",
        kind=TherapyKind.CONTINUOUS_INFUSION,
        label=f"{label.region} {label.revision}",
        label_source=next(iter(regimens)).source,
        sources=tuple(sorted(set().union(*(sources_of(r) for r in regimens)))),
        inputs=INPUTS[TherapyKind.CONTINUOUS_INFUSION],
        planned_here=False,
    )


def _dose_therapies(knowledge: Knowledge) -> Iterator[TherapyInfo]:
    for key in sorted(knowledge.therapies):
        facts = knowledge.therapies[key]
        hosted = facts if isinstance(facts, HostedDoseFacts) else None
        yield TherapyInfo(
            key=key,
            name=facts.name,
            kind=facts.kind,
            label=facts.label,
            label_source=facts.label_source,
            sources=tuple(sorted(sources_of(facts))),
            inputs=INPUTS[facts.kind],
            host=None if hosted is None else hosted.host,
            host_courses=()
            if hosted is None
            else tuple(HostCourseInfo(c.key, c.name, c.days) for c in hosted.courses),
        )


def _car_t(knowledge: Knowledge) -> Iterator[TherapyInfo]:
    products = knowledge.car_t.products
    for key in sorted(products):
        product = products[key]
        yield TherapyInfo(
            key=key,
            name=product.name,
            kind=TherapyKind.CELL_JOURNEY,
            label=product.label,
            label_source=product.label_source,
            sources=tuple(sorted(sources_of(product))),
            inputs=_cell_inputs(product),
        )


def _cell_inputs(product: CarTProduct) -> tuple[str, ...]:
    """A product's inputs: height and BSA only where lymphodepletion is dosed per m2, the
    split-dose fields only where the infusion is split."""
    left_out = set() if product.split is not None else set(_SPLIT_ONLY)
    if not product.lymphodepletion.drugs:
        left_out |= {"bsa_m2", "height_cm"}
    return tuple(n for n in INPUTS[TherapyKind.CELL_JOURNEY] if n not in left_out)


# One entry per family of therapies; a new family registers here (and its planner in
# ``therapy_planning.plan_therapy``).
FAMILIES: tuple[Family, ...] = (_blinatumomab, _dose_therapies, _car_t)


def therapy_catalog(knowledge: Knowledge) -> tuple[TherapyInfo, ...]:
    """Every therapy blina knows, blinatumomab first, the others by key within a family."""
    return tuple(info for family in FAMILIES for info in family(knowledge))


def therapy_info(knowledge: Knowledge, key: str) -> TherapyInfo | None:
    return next((info for info in therapy_catalog(knowledge) if info.key == key), None)


def sources_of(facts: object) -> set[str]:
    """Every source id a knowledge object cites: each ``source`` or ``*_source`` text
    field, in it and in the dataclasses and tuples it holds."""
    found: set[str] = set()
    _collect(facts, found)
    return found


def _collect(value: Any, found: set[str]) -> None:
    if isinstance(value, tuple | list | frozenset):
        for item in value:
            _collect(item, found)
        return
    if not is_dataclass(value) or isinstance(value, type):
        return
    for field in fields(value):
        item = getattr(value, field.name)
        if (field.name == "source" or field.name.endswith("_source")) and isinstance(item, str):
            found.add(item)
        else:
            _collect(item, found)


_BOXED = "Boxed warning"


def is_boxed(warning: PlanWarning) -> bool:
    """A label's boxed warning: the knowledge files write it first in the warning's text."""
    return warning.text.startswith(_BOXED)


def warnings_boxed_first(plan: TherapyPlan) -> tuple[PlanWarning, ...]:
    """The plan's warnings with the boxed ones first, each group in the plan's order."""
    return tuple(sorted(plan.warnings, key=lambda w: not is_boxed(w)))
