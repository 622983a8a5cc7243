"""CRS and ICANS findings to a grade and the adverse reaction the label's rules act on.

One mapping for every door: the JSON API and the web forms both build the domain's
findings and call these, so a grading cannot differ between them.
"""

from blina.domain.modifications import AdverseReaction
from blina.domain.toxicity import Grading
from blina.domain.toxicity.crs import CrsFindings, grade_crs
from blina.domain.toxicity.icans import IcansFindings, Seizure, grade_icans
from blina.knowledge import Knowledge

__all__ = ["grade_crs_findings", "grade_icans_findings"]


def grade_crs_findings(
    findings: CrsFindings, knowledge: Knowledge
) -> tuple[Grading, AdverseReaction]:
    """The ASTCT CRS grade; the reaction is cytokine release syndrome."""
    return grade_crs(findings, knowledge.toxicity.crs), AdverseReaction.CRS


def grade_icans_findings(
    findings: IcansFindings, knowledge: Knowledge
) -> tuple[Grading, AdverseReaction]:
    """The ASTCT ICANS grade; a seizure is the label's seizure row, else neurological."""
    seizure = findings.seizure is not Seizure.NONE
    reaction = AdverseReaction.SEIZURE if seizure else AdverseReaction.NEUROLOGICAL
    return grade_icans(findings, knowledge.toxicity.icans), reaction
