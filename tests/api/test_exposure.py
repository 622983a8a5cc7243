"""GET /courses/{id}/exposure: a course's estimated exposure for the clinic's staff,
labelled as a model-based estimate; others are refused as for a course's bags.

The route's wiring; the estimate's figures, its bands and its refusals are
services/test_exposure's."""

import pytest
from tests.api.conftest import World


@pytest.fixture(scope="module")
def measured_course(world: World) -> int:
    """A course with a height recorded (the model's clearance needs the BSA)."""
    started = world.client.post(
        f"/api/v1/patients/{world.patient_a2}/courses",
        json={
            "indication": "relapsed-refractory",
            "weight_kg": 70,
            "height_cm": 175,
            "age_years": 40,
            "start": "2026-12-20",
            "cycles": 1,
        },
        headers=world.as_("physician_a"),
    )
    assert started.status_code == 201, started.text
    course_id: int = started.json()["id"]
    return course_id


def test_exposure_planned_for_staff_is_a_labelled_estimate(
    world: World, measured_course: int
) -> None:
    answer = world.client.get(
        f"/api/v1/courses/{measured_course}/exposure", headers=world.as_("nurse_a")
    )

    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["label"] == "model-based estimate, not a measured level"
    assert body["basis"] == "planned"
    assert set(body) >= {"model", "steady_states", "times_h", "concentration_pg_per_ml", "marks"}
    assert body["population"] is None


def test_exposure_with_a_population_has_percentile_bands(
    world: World, measured_course: int
) -> None:
    answer = world.client.get(
        f"/api/v1/courses/{measured_course}/exposure?population=500&seed=3&step_hours=6",
        headers=world.as_("physician_a"),
    )

    assert answer.status_code == 200, answer.text
    population = answer.json()["population"]
    assert population["count"] == 500
    assert set(population["percentiles"]) == {"p5", "p25", "p50", "p75", "p95"}


@pytest.mark.parametrize(
    ("who", "status"),
    [("caregiver_a", 403), ("patient_a", 403), ("physician_b", 404)],
)
def test_exposure_refused_to_all_but_the_clinic_staff(
    world: World, measured_course: int, who: str, status: int
) -> None:
    answer = world.client.get(f"/api/v1/courses/{measured_course}/exposure", headers=world.as_(who))

    assert answer.status_code == status


def test_exposure_without_a_height_names_the_missing_field(world: World) -> None:
    answer = world.client.get(
        f"/api/v1/courses/{world.course_a1}/exposure", headers=world.as_("nurse_a")
    )

    assert answer.status_code == 422
    assert answer.json()["errors"][0]["field"] == "height_cm"


def test_exposure_step_out_of_range_is_refused(world: World, measured_course: int) -> None:
    answer = world.client.get(
        f"/api/v1/courses/{measured_course}/exposure?step_hours=0.01",
        headers=world.as_("nurse_a"),
    )

    assert answer.status_code == 422
