"""CRS and ICANS findings to a grade and the reaction the label's rules act on: one mapping
for the API and the web forms."""

from decimal import Decimal

import pytest

from blina.domain.modifications import AdverseReaction
from blina.domain.toxicity.crs import CrsFindings, Hypotension, OxygenSupport
from blina.domain.toxicity.icans import Consciousness, IcansFindings, Seizure
from blina.knowledge import Knowledge
from blina.services.gradings import grade_crs_findings, grade_icans_findings


@pytest.mark.parametrize(
    ("hypotension", "oxygen", "grade"),
    [
        (Hypotension.NONE, OxygenSupport.NONE, 1),
        (Hypotension.FLUIDS, OxygenSupport.NONE, 2),
        (Hypotension.ONE_VASOPRESSOR, OxygenSupport.NONE, 3),
        (Hypotension.NONE, OxygenSupport.POSITIVE_PRESSURE, 4),
    ],
)
def test_crs_findings_are_graded_on_the_astct_scale_as_crs(
    knowledge: Knowledge, hypotension: Hypotension, oxygen: OxygenSupport, grade: int
) -> None:
    findings = CrsFindings(temperature_c=Decimal("39.1"), hypotension=hypotension, oxygen=oxygen)

    grading, reaction = grade_crs_findings(findings, knowledge)

    assert (grading.scale, grading.grade, reaction) == (
        "ASTCT CRS (Lee 2019)",
        grade,
        AdverseReaction.CRS,
    )


def test_no_fever_is_no_crs(knowledge: Knowledge) -> None:
    findings = CrsFindings(Decimal("37.0"), Hypotension.NONE, OxygenSupport.NONE)

    grading, reaction = grade_crs_findings(findings, knowledge)

    assert (grading.grade, reaction) == (0, AdverseReaction.CRS)


def test_icans_without_a_seizure_acts_on_the_label_s_neurological_row(
    knowledge: Knowledge,
) -> None:
    findings = IcansFindings(Decimal(40), Consciousness.AWAKENS_TO_VOICE, ice_score=5)

    grading, reaction = grade_icans_findings(findings, knowledge)

    assert (grading.scale, grading.grade) == ("ASTCT ICANS (Lee 2019)", 2)
    assert reaction is AdverseReaction.NEUROLOGICAL


@pytest.mark.parametrize("seizure", [s for s in Seizure if s is not Seizure.NONE])
def test_icans_with_any_seizure_acts_on_the_label_s_seizure_row(
    knowledge: Knowledge, seizure: Seizure
) -> None:
    findings = IcansFindings(Decimal(40), Consciousness.AWAKE, ice_score=10, seizure=seizure)

    grading, reaction = grade_icans_findings(findings, knowledge)

    assert grading.grade >= 3
    assert reaction is AdverseReaction.SEIZURE


@pytest.mark.parametrize(("ice", "grade"), [(3, 2), (2, 3)])
def test_icans_is_graded_from_the_ice_score(knowledge: Knowledge, ice: int, grade: int) -> None:
    """Moved down from the API's tests (test_flows). ASTCT: ICE 3-6 is grade 2, ICE 0-2
    grade 3 (toxicity-and-triage.md, ICANS table)."""
    findings = IcansFindings(Decimal(40), Consciousness.AWAKE, ice_score=ice)

    grading, _ = grade_icans_findings(findings, knowledge)

    assert grading.grade == grade
