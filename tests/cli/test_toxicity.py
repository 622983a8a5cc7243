"""`blina grade crs|icans|ctcae|tls`: exit codes 0 and 2, JSON keys."""

import json
from decimal import Decimal
from typing import Any

import pytest
from typer.testing import CliRunner

from blina.cli import app

runner = CliRunner()


def _run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def _json(*args: str, code: int = 0) -> Any:
    exit_code, out, err = _run(*args, "--format", "json")
    assert exit_code == code, err
    return json.loads(out, parse_float=Decimal)


def _one_line_error(code: int, out: str, err: str, field: str) -> None:
    assert code == 2
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith(f"blina: {field} ")
    assert "is not allowed: must be" in lines[0]
    assert "Traceback" not in err


# --- grade ---------------------------------------------------------------------------------


def test_grade_crs_json_worked_example_is_grade_3_with_criteria_and_source() -> None:
    data = _json(
        "grade",
        "crs",
        "--temp-c",
        "39.5",
        "--hypotension",
        "one-vasopressor",
        "--oxygen",
        "low-flow",
    )

    assert data["grade"] == 3
    assert data["source"] == "astct-2019-crs"
    assert [c["domain"] for c in data["criteria"]] == ["fever", "hypotension", "hypoxia"]
    assert [c["decisive"] for c in data["criteria"]] == [False, True, False]
    assert set(data) == {"scale", "grade", "criteria", "notes", "source"}


def test_grade_crs_no_fever_is_grade_0() -> None:
    assert _json("grade", "crs", "--temp-c", "37.2")["grade"] == 0


def test_grade_crs_masked_fever_and_flow() -> None:
    args = ["grade", "crs", "--temp-c", "37", "--fever-masked", "--oxygen", "high-flow"]
    known = _json(*args, "--oxygen-flow-l-min", "8", "--crs-diagnosed")
    new = _json(*args, "--oxygen-flow-l-min", "8")

    assert known["grade"] == 3
    # Masking counts only once CRS was diagnosed in this episode.
    assert new["grade"] == 0


def test_grade_crs_table_marks_the_decisive_criterion() -> None:
    code, out, _ = _run("grade", "crs", "--temp-c", "38.2", "--hypotension", "fluids")

    assert code == 0
    assert "grade 2" in out
    assert "2 *" in out
    assert "astct-2019-crs" in out


@pytest.mark.parametrize(
    ("args", "field"),
    [
        (["--temp-c", "50"], "temperature_c"),
        (["--temp-c", "29"], "temperature_c"),
        (["--temp-c", "hot"], "temperature_c"),
        ([], "temperature_c"),
        (["--temp-c", "39", "--hypotension", "low"], "hypotension"),
        (["--temp-c", "39", "--oxygen", "mask"], "oxygen"),
        (
            ["--temp-c", "39", "--oxygen", "low-flow", "--oxygen-flow-l-min", "7"],
            "oxygen_flow_l_per_min",
        ),
    ],
    ids=[
        "temp-50",
        "temp-29",
        "temp-text",
        "temp-missing",
        "hypotension",
        "oxygen",
        "flow-vs-level",
    ],
)
def test_grade_crs_bad_input_exits_2_naming_the_field(args: list[str], field: str) -> None:
    _one_line_error(*_run("grade", "crs", *args), field)


def test_grade_icans_json_worked_example_ice_3_and_seizure_is_grade_3() -> None:
    data = _json(
        "grade",
        "icans",
        "--age-years",
        "40",
        "--ice-score",
        "3",
        "--seizure",
        "generalized-resolved",
    )

    assert data["grade"] == 3
    assert data["source"] == "astct-2019-icans"


def test_grade_icans_items_signs_and_child_answers() -> None:
    adult = _json(
        "grade",
        "icans",
        "--age-years",
        "30",
        "--ice-items",
        "orientation=4,naming=3,commands=1,writing=1,attention=1",
        "--icp-sign",
        "papilledema",
        "--consciousness",
        "awakens-to-voice",
        "--cerebral-edema",
        "focal",
        "--motor-weakness",
    )
    child = _json(
        "grade",
        "icans",
        "--age-years",
        "6",
        "--capd-answers",
        "never,never,never,never,never,never,never,never",
    )

    assert adult["grade"] == 4
    assert child["grade"] == 3
    assert _json("grade", "icans", "--age-years", "6", "--capd-score", "4")["grade"] == 1


@pytest.mark.parametrize(
    ("args", "field"),
    [
        (["--age-years", "40", "--ice-score", "11"], "ice_score"),
        (["--age-years", "40", "--ice-score", "-1"], "ice_score"),
        (["--age-years", "40"], "ice_score"),
        (["--ice-score", "8"], "age_years"),
        (["--age-years", "6", "--ice-score", "8"], "ice_score"),
        (["--age-years", "40", "--ice-items", "orientation"], "ice_items"),
        (["--age-years", "40", "--ice-items", "orientation=4,orientation=3"], "ice_items"),
        (["--age-years", "40", "--ice-items", "orientation=x"], "ice_items.orientation"),
        (["--age-years", "6", "--capd-answers", "never,sometimes,maybe"], "capd_answers"),
        (["--age-years", "40", "--ice-score", "9", "--consciousness", "asleep"], "consciousness"),
        (["--age-years", "40", "--ice-score", "9", "--icp-sign", "headache"], "icp_sign"),
    ],
    ids=[
        "ice-11",
        "ice-minus-1",
        "ice-missing",
        "age-missing",
        "ice-under-12",
        "item-no-value",
        "item-twice",
        "item-not-a-number",
        "capd-bad-answer",
        "consciousness",
        "icp-sign",
    ],
)
def test_grade_icans_bad_input_exits_2_naming_the_field(args: list[str], field: str) -> None:
    _one_line_error(*_run("grade", "icans", *args), field)


@pytest.mark.parametrize(
    ("args", "grade"),
    [
        (["alt", "--value", "201", "--uln", "40"], 3),
        (["alt", "--value", "90", "--uln", "40", "--baseline", "60"], 1),
        (["neutrophils", "--value", "450", "--lln", "1800"], 4),
        (["lipase", "--value", "130", "--uln", "60", "--asymptomatic"], 2),
        (["lipase", "--value", "130", "--uln", "60", "--symptomatic"], 3),
        (["seizure", "--finding", "brief-generalized"], 2),
        (["febrile-neutropenia", "--value", "800", "--temp-c", "38.5"], 3),
        (["febrile-neutropenia", "--value", "800", "--temp-c", "38.1", "--fever-hours", "2"], 3),
    ],
    ids=[
        "alt-g3",
        "alt-abnormal-baseline",
        "anc-g4",
        "lipase-asymptomatic",
        "lipase-symptomatic",
        "seizure",
        "fn-single",
        "fn-sustained",
    ],
)
def test_grade_ctcae_json_grades(args: list[str], grade: int) -> None:
    data = _json("grade", "ctcae", *args)

    assert data["grade"] == grade
    assert data["scale"].startswith("CTCAE v5.0")


@pytest.mark.parametrize(
    ("args", "field"),
    [
        (["alt", "--value", "-5", "--uln", "40"], "value"),
        (["alt", "--value", "50"], "uln"),
        (["potassium", "--value", "4"], "term"),
        (["tremor", "--finding", "awful"], "finding"),
        (["febrile-neutropenia", "--value", "800", "--temp-c", "47"], "temperature_c"),
    ],
    ids=["negative-lab", "no-uln", "unknown-term", "unknown-finding", "temp-47"],
)
def test_grade_ctcae_bad_input_exits_2_naming_the_field(args: list[str], field: str) -> None:
    _one_line_error(*_run("grade", "ctcae", *args), field)


TLS = [
    "grade",
    "tls",
    "--age-years",
    "40",
    "--therapy-start",
    "2027-03-01T09:00:00+00:00",
    "--sample",
    "at=2027-03-02T06:00:00+00:00,uric-acid=520,potassium=6.3",
]


def test_grade_tls_json_laboratory_and_clinical() -> None:
    lab_only = _json(*TLS)
    clinical = _json(
        *TLS,
        "--creatinine",
        "200",
        "--creatinine-uln",
        "100",
        "--arrhythmia",
        "non-urgent-intervention",
    )

    assert (lab_only["laboratory_tls"], lab_only["clinical_tls"], lab_only["grade"]) == (
        True,
        False,
        0,
    )
    assert (clinical["clinical_tls"], clinical["grade"]) == (True, 2)
    assert clinical["source"] == "cairo-bishop-2004-clinical"


def test_grade_tls_baseline_change_and_table() -> None:
    data = _json(
        "grade",
        "tls",
        "--age-years",
        "8",
        "--therapy-start",
        "2027-03-01T09:00:00+00:00",
        "--sample",
        "at=2027-03-02T06:00:00+00:00,uric-acid=400,phosphate=2.2",
        "--baseline",
        "uric-acid=300",
        "--seizure",
        "brief-generalized",
    )
    code, out, _ = _run(*TLS)

    assert data["grade"] == 2
    assert code == 0
    assert "laboratory tls: yes" in out


@pytest.mark.parametrize(
    ("args", "field"),
    [
        (["--sample", "at=2027-03-02T06:00:00+00:00,uric-acid=-1"], "samples[1].uric-acid"),
        (["--sample", "uric-acid=400"], "samples[1].at"),
        (["--sample", "at=2027-03-02T06:00:00,uric-acid=400"], "samples[1].at"),
        (["--sample", "at=2027-03-02T06:00:00+00:00,urate=400"], "samples[1]"),
        (["--creatinine", "200"], "creatinine_uln"),
        (["--arrhythmia", "bad"], "arrhythmia"),
        (["--baseline", "potassium=-2"], "baseline.potassium"),
    ],
    ids=[
        "negative-lab",
        "sample-without-time",
        "naive-time",
        "unknown-analyte",
        "creatinine-no-uln",
        "arrhythmia",
        "negative-baseline",
    ],
)
def test_grade_tls_bad_input_exits_2_naming_the_field(args: list[str], field: str) -> None:
    _one_line_error(*_run(*TLS, *args), field)


@pytest.mark.parametrize(
    ("args", "field"),
    [
        (["--age-years", "200"], "age_years"),
        (["--therapy-start", "yesterday"], "therapy_start"),
    ],
    ids=["age-200", "start-not-a-time"],
)
def test_grade_tls_bad_patient_or_start_exits_2(args: list[str], field: str) -> None:
    base = {"--age-years": "40", "--therapy-start": "2027-03-01T09:00:00+00:00"}
    base.update(dict(zip(args[::2], args[1::2], strict=True)))
    _one_line_error(*_run("grade", "tls", *[i for pair in base.items() for i in pair]), field)
