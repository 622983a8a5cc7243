"""The clinic's tasks in the reader's language: written at display time from the figures
and names stored beside the English text, which the API keeps unchanged."""

from datetime import date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from blina.knowledge import Knowledge
from blina.services.tasks import TASK_KINDS, TaskRow, tasks_for_day
from blina.store.session import read_only, transaction
from blina.web.formatting import formatter_for
from blina.web.i18n import clinical_gettext_for
from blina.web.task_words import premedication_reason, task_words
from tests.clinic_factories import NOW, add_course, add_world

TODAY = date(2026, 12, 10)
ES = formatter_for("es")
EN = formatter_for("en")


def _row(kind: str, text: str, params: dict[str, str] | None) -> TaskRow:
    return TaskRow(TODAY, None, kind, text, 1, 1, "P1", "Ana", params=params)


def _es(task: TaskRow) -> str:
    return task_words(task, ES, clinical_gettext_for("es"))


def _en(task: TaskRow) -> str:
    return task_words(task, EN, clinical_gettext_for("en"))


@pytest.fixture
def today(sessions: sessionmaker[Session], knowledge: Knowledge) -> list[TaskRow]:
    """The first day of an adult's course (the service tests' world) as the nurse reads it."""
    with transaction(sessions) as session:
        world = add_world(session)
        add_course(session, world, knowledge)
    with read_only(sessions) as session:
        return tasks_for_day(session, actor=world.nurse, day=TODAY, now=NOW, knowledge=knowledge)


def test_each_stored_task_is_written_in_spanish(today: list[TaskRow]) -> None:
    by_kind = {task.kind: task for task in today}
    assert set(by_kind) == {"admission", "labs", "premedication", "bag-change"}
    bag = by_kind["bag-change"]
    assert bag.text == "Cycle 1 · bag 1 of 28 · 9 mcg/day · 24-h bag"  # the API's words
    assert _es(bag) == "Ciclo 1 · bolsa 1 de 28 · 9 mcg/día · bolsa de 24 h"
    assert _en(bag) == "Cycle 1 · bag 1 of 28 · 9 mcg/day · 24 h bag"
    assert _es(by_kind["admission"]).startswith("Ingreso: ciclo 1, ")
    premedication = _es(by_kind["premedication"])
    assert premedication.startswith("dexametasona 20 mg ")
    assert "antes de la primera dosis del ciclo 1" in premedication
    assert "before" not in premedication
    for task in today:
        assert _es(task) != task.text, task.kind
        assert all(word not in _es(task) for word in ("Cycle", "bag", "before", "cycle")), task


@pytest.mark.parametrize(
    ("kind", "params", "spanish"),
    [
        ("discharge", {"cycle": "2"}, "Alta tras los días de hospital del ciclo 2"),
        (
            "supervision",
            {
                "cycle": "3",
                "supervision": "Cycle start under healthcare-professional supervision or in"
                " hospital",
            },
            "Inicio del ciclo 3: Inicio del ciclo bajo supervisión de un profesional sanitario"
            " o en el hospital",
        ),
        (
            "do-not-hang",
            {"code": "AB12CD34", "reason": "the course is completed"},
            "No colocar la bolsa AB12CD34: el tratamiento ha terminado",
        ),
        (
            "labs",
            {"item": "ALT, AST, GGT and total bilirubin before starting"},
            "ALT, AST, GGT y bilirrubina total antes de empezar",
        ),
        (
            "labs",
            {
                "item": "Labs incl. WBC, ANC and liver tests during treatment: frequency per"
                " site protocol (not stated in the label sources) (label-8-monitoring)"
            },
            "Análisis, incluidos leucocitos, RAN y pruebas hepáticas durante el tratamiento:"
            " frecuencia según el protocolo del centro (no indicada en las fuentes de la ficha"
            " técnica) (label-8-monitoring)",
        ),
        (
            "bag-change",
            {"cycle": "1", "number": "2", "total": "3", "dose_mcg_per_day": "28.5", "hours": "54"},
            "Ciclo 1 · bolsa 2 de 3 · 28,5 mcg/día · bolsa de 2 días 6 h",
        ),
    ],
)
def test_every_kind_in_spanish(kind: str, params: dict[str, str], spanish: str) -> None:
    assert kind in TASK_KINDS
    assert _es(_row(kind, "stored", params)) == spanish


@pytest.mark.parametrize(
    "params",
    [None, {}, {"cycle": "1"}],  # before params were kept; of an older shape
)
def test_without_its_figures_a_task_shows_its_stored_text(params: dict[str, Any] | None) -> None:
    assert _es(_row("bag-change", "Cycle 1 · bag 1 of 28", params)) == "Cycle 1 · bag 1 of 28"
    assert _es(_row("a new kind", "as stored", {"x": "1"})) == "as stored"


def test_a_do_not_hang_reason_of_the_course_state_stays_as_written() -> None:
    task = _row("do-not-hang", "", {"code": "X1", "reason": "the plan has no bag then"})
    assert _es(task) == "No colocar la bolsa X1: the plan has no bag then"


@pytest.mark.parametrize(
    ("reason", "spanish"),
    [
        ("before the first dose of cycle 2", "antes de la primera dosis del ciclo 2"),
        ("before the step-up dose in cycle 1", "antes del aumento de dosis del ciclo 1"),
        (
            "before the first dose of cycle 3 (a new cycle after an interruption of 15 days)",
            "antes de la primera dosis del ciclo 3 (un ciclo nuevo tras una interrupción de"
            " 15 días)",
        ),
        (
            "before restarting after an interruption of 2 days 6 h",
            "antes de reanudar tras una interrupción de 2 días 6 h",
        ),
        (
            "before restarting after an interruption of 30 min",
            "antes de reanudar tras una interrupción de 30 min",
        ),
        (
            "before restarting after an interruption of 1 day 2 h",
            "antes de reanudar tras una interrupción de 26 h",
        ),
        (
            "before the first dose of cycle 2, which repeats cycle 1's step-up (premedicated"
            " as cycle 1)",
            "antes de la primera dosis del ciclo 2, que repite el aumento de dosis del ciclo 1"
            " (premedicado como el ciclo 1)",
        ),
        ("a reason in a new shape", "a reason in a new shape"),
    ],
)
def test_premedication_reasons(reason: str, spanish: str) -> None:
    assert premedication_reason(reason, ES) == spanish


def test_every_interruption_length_the_domain_writes_is_read_back() -> None:
    from blina.domain.replanning.decisions import duration_text

    for minutes in (1, 59, 60, 61, 24 * 60, 24 * 60 + 1, 3 * 24 * 60 + 125):
        span = timedelta(minutes=minutes)
        text = premedication_reason(
            f"before restarting after an interruption of {duration_text(span)}", EN
        )
        assert text == f"before restarting after an interruption of {EN.duration(span)}"


def test_the_api_text_is_unchanged_by_the_stored_figures(today: list[TaskRow]) -> None:
    assert all(task.params for task in today)
    assert isinstance(NOW, datetime)
