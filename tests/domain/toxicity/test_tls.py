"""Cairo-Bishop TLS: analyte thresholds, the 25% rule, the window, clinical TLS and grade."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from blina.domain.errors import InvalidInput
from blina.domain.toxicity.tls import (
    Analyte,
    Arrhythmia,
    LabSample,
    TlsAssessment,
    TlsCriteria,
    TlsFindings,
    TlsSeizure,
    assess_tls,
)
from blina.knowledge import Knowledge

START = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
UA, K, PO4, CA = Analyte.URIC_ACID, Analyte.POTASSIUM, Analyte.PHOSPHATE, Analyte.CALCIUM
# Two analytes abnormal: laboratory TLS, so the clinical criteria are graded.
LAB_TLS = {UA: Decimal("500"), K: Decimal("6.5")}


@pytest.fixture(scope="module")
def criteria(knowledge: Knowledge) -> TlsCriteria:
    return knowledge.toxicity.tls


def _assess(
    criteria: TlsCriteria,
    values: dict[Analyte, Decimal],
    *,
    child: bool = False,
    at: datetime = START + timedelta(days=1),
    baseline: dict[Analyte, Decimal] | None = None,
    creatinine: str | None = None,
    uln: str | None = None,
    arrhythmia: Arrhythmia = Arrhythmia.NONE,
    seizure: TlsSeizure = TlsSeizure.NONE,
) -> TlsAssessment:
    return assess_tls(
        TlsFindings(
            therapy_start=START,
            samples=(LabSample(at, values),),
            child=child,
            baseline=baseline or {},
            creatinine=None if creatinine is None else Decimal(creatinine),
            creatinine_uln=None if uln is None else Decimal(uln),
            arrhythmia=arrhythmia,
            seizure=seizure,
        ),
        criteria,
    )


def _abnormal(criteria: TlsCriteria, analyte: Analyte, value: str, **kwargs: object) -> bool:
    """Is ``analyte`` at ``value`` abnormal? Paired with an abnormal potassium or uric acid."""
    partner = {UA: Decimal("500")} if analyte is not UA else {K: Decimal("6.5")}
    return _assess(criteria, {**partner, analyte: Decimal(value)}, **kwargs).laboratory  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("analyte", "value", "child", "expected"),
    [
        (UA, "475", False, False),
        (UA, "476", False, True),
        (UA, "476", True, True),
        (K, "5.9", False, False),
        (K, "6.0", False, True),
        (PO4, "1.44", False, False),
        (PO4, "1.45", False, True),
        (PO4, "2.09", True, False),
        (PO4, "2.1", True, True),
        (CA, "1.76", False, False),
        (CA, "1.75", False, True),
    ],
    ids=[
        "urate-475",
        "urate-476-at",
        "urate-476-child",
        "k-5.9",
        "k-6.0-at",
        "po4-adult-1.44",
        "po4-adult-1.45-at",
        "po4-child-2.09",
        "po4-child-2.1-at",
        "ca-1.76",
        "ca-1.75-at",
    ],
)
def test_assess_tls_absolute_threshold_boundaries(
    criteria: TlsCriteria, analyte: Analyte, value: str, child: bool, expected: bool
) -> None:
    assert _abnormal(criteria, analyte, value, child=child) is expected


@pytest.mark.parametrize(
    ("analyte", "baseline", "value", "expected"),
    [
        (UA, "300", "374", False),
        (UA, "300", "375", True),
        (K, "4.0", "4.99", False),
        (K, "4.0", "5.00", True),
        (PO4, "1.0", "1.25", True),
        (CA, "2.40", "1.81", False),
        (CA, "2.40", "1.80", True),
    ],
    ids=[
        "urate-24.7pct-rise",
        "urate-25pct-rise-exact",
        "k-below-25pct",
        "k-25pct-exact",
        "po4-25pct",
        "ca-below-25pct-fall",
        "ca-25pct-fall-exact",
    ],
)
def test_assess_tls_25_percent_change_boundaries(
    criteria: TlsCriteria, analyte: Analyte, baseline: str, value: str, expected: bool
) -> None:
    result = _abnormal(criteria, analyte, value, baseline={analyte: Decimal(baseline)})

    assert result is expected


def test_assess_tls_25_percent_criterion_is_explained(criteria: TlsCriteria) -> None:
    result = _assess(
        criteria, {UA: Decimal("375"), K: Decimal("6.5")}, baseline={UA: Decimal("300")}
    )

    finding = next(c.finding for c in result.grading.criteria if c.domain == UA)
    assert "a 25% rise from baseline 300" in finding


@pytest.mark.parametrize(
    ("offset", "counted"),
    [
        (timedelta(days=-3), True),
        (timedelta(days=-3, seconds=-1), False),
        (timedelta(days=7), True),
        (timedelta(days=7, seconds=1), False),
    ],
    ids=["3-days-before-in", "just-before-window", "7-days-after-in", "just-after-window"],
)
def test_assess_tls_window_boundaries(
    criteria: TlsCriteria, offset: timedelta, counted: bool
) -> None:
    result = _assess(criteria, LAB_TLS, at=START + offset)

    assert result.laboratory is counted
    assert any("outside the window" in n for n in result.grading.notes) is not counted


def test_assess_tls_window_is_elapsed_time_across_dst(criteria: TlsCriteria) -> None:
    paris = ZoneInfo("Europe/Paris")
    start = datetime(2027, 3, 25, 9, 0, tzinfo=paris)
    findings = TlsFindings(
        therapy_start=start,
        samples=(LabSample(datetime(2027, 4, 1, 10, 0, tzinfo=paris), LAB_TLS),),
        child=False,
    )

    assert assess_tls(findings, criteria).laboratory is True


def test_assess_tls_one_abnormal_analyte_is_not_laboratory_tls(criteria: TlsCriteria) -> None:
    result = _assess(criteria, {UA: Decimal("500"), K: Decimal("4")}, seizure=TlsSeizure.STATUS)

    assert result.laboratory is False
    assert result.clinical is False
    assert result.grading.grade == 0
    assert "without laboratory TLS" in result.grading.notes[-1]


def test_assess_tls_laboratory_without_clinical_is_grade_0(criteria: TlsCriteria) -> None:
    result = _assess(criteria, LAB_TLS)

    assert (result.laboratory, result.clinical, result.grading.grade) == (True, False, 0)
    assert "clinical TLS grade 0" in result.grading.notes[-1]


def test_assess_tls_no_samples_is_nothing(criteria: TlsCriteria) -> None:
    result = assess_tls(TlsFindings(therapy_start=START, samples=(), child=False), criteria)

    assert result.grading.grade == 0
    assert result.grading.notes == ()


def test_assess_tls_abnormal_in_different_samples_counts_each_analyte_once(
    criteria: TlsCriteria,
) -> None:
    samples = (
        LabSample(START, {UA: Decimal("500")}),
        LabSample(START + timedelta(hours=6), {UA: Decimal("510"), CA: Decimal("1.6")}),
    )
    result = assess_tls(TlsFindings(therapy_start=START, samples=samples, child=False), criteria)

    assert result.laboratory is True
    assert [c.domain for c in result.grading.criteria[1:3]] == [UA, CA]


@pytest.mark.parametrize(
    ("creatinine", "expected"),
    [("149", 0), ("150", 1), ("151", 2), ("300", 2), ("301", 3), ("600", 3), ("601", 4)],
    ids=[
        "1.49x-none",
        "1.5x-exactly-g1",
        "above-1.5x-g2",
        "3.0x-g2",
        "above-3.0x-g3",
        "6.0x-g3",
        "above-6.0x-g4",
    ],
)
def test_assess_tls_creatinine_grade_boundaries(
    criteria: TlsCriteria, creatinine: str, expected: int
) -> None:
    result = _assess(criteria, LAB_TLS, creatinine=creatinine, uln="100")

    assert result.grading.grade == expected
    assert result.clinical is (expected > 0)


@pytest.mark.parametrize(
    ("arrhythmia", "expected"),
    [
        (Arrhythmia.NO_INTERVENTION, 1),
        (Arrhythmia.NON_URGENT, 2),
        (Arrhythmia.INCOMPLETELY_CONTROLLED, 3),
        (Arrhythmia.LIFE_THREATENING, 4),
        (Arrhythmia.DEATH, 5),
    ],
    ids=lambda v: str(v),
)
def test_assess_tls_arrhythmia_grades(
    criteria: TlsCriteria, arrhythmia: Arrhythmia, expected: int
) -> None:
    assert _assess(criteria, LAB_TLS, arrhythmia=arrhythmia).grading.grade == expected


@pytest.mark.parametrize(
    ("seizure", "expected"),
    [
        (TlsSeizure.BRIEF_GENERALIZED, 2),
        (TlsSeizure.POORLY_CONTROLLED, 3),
        (TlsSeizure.STATUS, 4),
        (TlsSeizure.DEATH, 5),
    ],
    ids=lambda v: str(v),
)
def test_assess_tls_seizure_grades(
    criteria: TlsCriteria, seizure: TlsSeizure, expected: int
) -> None:
    result = _assess(criteria, LAB_TLS, seizure=seizure)

    assert result.grading.grade == expected
    assert result.grading.source == "cairo-bishop-2004-clinical"


def test_assess_tls_grade_is_the_highest_component(criteria: TlsCriteria) -> None:
    result = _assess(
        criteria,
        LAB_TLS,
        creatinine="200",
        uln="100",
        arrhythmia=Arrhythmia.INCOMPLETELY_CONTROLLED,
    )

    assert result.grading.grade == 3
    assert [c.domain for c in result.grading.decisive] == ["cardiac arrhythmia"]


def test_assess_tls_child_gets_the_note_on_age(criteria: TlsCriteria) -> None:
    assert criteria.child_note in _assess(criteria, LAB_TLS, child=True).grading.notes


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"at": datetime(2027, 3, 2, 9, 0)}, "samples[0].at"),  # noqa: DTZ001 - the naive case under test
        ({"values": {UA: Decimal("-1")}}, "samples[0].uric-acid"),
        ({"baseline": {CA: Decimal("-2")}}, "baseline.calcium"),
        ({"creatinine": Decimal("100")}, "creatinine_uln"),
        ({"creatinine_uln": Decimal("100")}, "creatinine"),
        ({"creatinine": Decimal("100"), "creatinine_uln": Decimal("0")}, "creatinine_uln"),
        ({"creatinine": Decimal("-1"), "creatinine_uln": Decimal("100")}, "creatinine"),
        ({"therapy_start": datetime(2027, 3, 1)}, "therapy_start"),  # noqa: DTZ001
    ],
    ids=[
        "naive-sample",
        "negative-lab",
        "negative-baseline",
        "creatinine-without-uln",
        "uln-without-creatinine",
        "uln-0",
        "negative-creatinine",
        "naive-start",
    ],
)
def test_assess_tls_bad_input_names_the_field(
    criteria: TlsCriteria, change: dict[str, object], field: str
) -> None:
    sample = {"at": START, "values": LAB_TLS}
    sample.update({k: v for k, v in change.items() if k in sample})
    findings: dict[str, object] = {
        "therapy_start": START,
        "samples": (LabSample(**sample),),  # type: ignore[arg-type]
        "child": False,
    }
    findings.update({k: v for k, v in change.items() if k not in ("at", "values")})

    with pytest.raises(InvalidInput) as raised:
        assess_tls(TlsFindings(**findings), criteria)  # type: ignore[arg-type]

    assert raised.value.field == field
