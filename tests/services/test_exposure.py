"""A course's estimated exposure through the service (services.exposure): a model-based
estimate for the clinic's staff, from the plan or from the bags hung, with percentile
bands of virtual patients when asked; a course without a height, or delivered before any
bag hung, is bad input naming the field. Moved down from the API's tests
(tests/api/test_exposure.py), which keep the route's wiring."""

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from blina.domain.errors import InvalidInput
from blina.interop.pk_json import exposure_to_dict
from blina.knowledge import Knowledge
from blina.services.errors import NotFound, PermissionDenied
from blina.services.exposure import Basis, course_exposure
from blina.store.session import read_only, transaction
from tests.clinic_factories import NOW, World, add_course, adult_course


@pytest.fixture
def measured_course(sessions: sessionmaker[Session], world: World, knowledge: Knowledge) -> int:
    """A course with a height recorded (the model's clearance needs the BSA)."""
    request = adult_course(start=date(2026, 12, 20), height_cm=Decimal(175))
    with transaction(sessions) as session:
        return add_course(session, world, knowledge, request=request, patient=world.other_patient)


def _exposure(
    sessions: sessionmaker[Session],
    world: World,
    knowledge: Knowledge,
    course_id: int,
    who: str = "nurse",
    basis: Basis = Basis.PLANNED,
    step_hours: str = "1",
    population: int | None = None,
) -> dict[str, Any]:
    with read_only(sessions) as session:
        found = course_exposure(
            session,
            actor=getattr(world, who),
            now=NOW,
            knowledge=knowledge,
            course_id=course_id,
            basis=basis,
            step_hours=Decimal(step_hours),
            population=population,
            seed=3,
        )
    assert found.basis is basis
    return exposure_to_dict(
        model=found.model,
        course=found.course,
        exposure=found.exposure,
        bands=found.bands,
        zone=found.zone,
    )


def test_the_planned_exposure_is_a_labelled_estimate(
    sessions: sessionmaker[Session], world: World, knowledge: Knowledge, measured_course: int
) -> None:
    body = _exposure(sessions, world, knowledge, measured_course)

    assert body["label"] == "model-based estimate, not a measured level"
    assert body["model"]["id"] == "clements-2020"
    assert body["model"]["sources"]["clearance"] == "pk-clements-2020-table3"
    assert [round(s["concentration_pg_per_ml"]) for s in body["steady_states"]] == [171, 532]
    assert len(body["times_h"]) == len(body["concentration_pg_per_ml"]) == 28 * 24 + 24
    assert body["marks"][0]["kind"] == "cycle-start"
    assert body["population"] is None


def test_a_population_gives_percentile_bands(
    sessions: sessionmaker[Session], world: World, knowledge: Knowledge, measured_course: int
) -> None:
    body = _exposure(
        sessions, world, knowledge, measured_course, "physician", step_hours="6", population=500
    )

    population = body["population"]
    assert population["count"] == 500
    assert set(population["percentiles"]) == {"p5", "p25", "p50", "p75", "p95"}
    assert population["label"] == "model-based estimate, not measured levels"


@pytest.mark.parametrize(
    ("who", "refusal"),
    [("family", PermissionDenied), ("other_family", PermissionDenied), ("outsider", NotFound)],
)
def test_only_the_clinic_s_staff_see_the_estimate(
    sessions: sessionmaker[Session],
    world: World,
    knowledge: Knowledge,
    measured_course: int,
    who: str,
    refusal: type[Exception],
) -> None:
    with pytest.raises(refusal):
        _exposure(sessions, world, knowledge, measured_course, who)


@pytest.mark.parametrize(
    ("basis", "step_hours", "field"),
    [(Basis.DELIVERED, "1", "basis"), (Basis.PLANNED, "0.01", "step_hours")],
)
def test_delivered_before_any_bag_hung_or_a_step_out_of_range_is_bad_input(
    sessions: sessionmaker[Session],
    world: World,
    knowledge: Knowledge,
    measured_course: int,
    basis: Basis,
    step_hours: str,
    field: str,
) -> None:
    with pytest.raises(InvalidInput) as refused:
        _exposure(sessions, world, knowledge, measured_course, basis=basis, step_hours=step_hours)

    assert refused.value.field == field


def test_a_course_without_a_height_names_the_missing_field(
    sessions: sessionmaker[Session], world: World, knowledge: Knowledge
) -> None:
    with transaction(sessions) as session:
        course_id = add_course(session, world, knowledge)

    with pytest.raises(InvalidInput) as refused:
        _exposure(sessions, world, knowledge, course_id)

    assert refused.value.field == "height_cm"
