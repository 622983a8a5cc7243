"""A toxicity grading (``blina.domain.toxicity``) as JSON-ready data: what ``blina grade``
prints with ``--format json``, what the API answers and what the audit trail keeps."""

from typing import Any

from blina.domain.toxicity import Grading

__all__ = ["grading_to_dict"]


def grading_to_dict(grading: Grading) -> dict[str, Any]:
    decisive = set(grading.decisive)
    return {
        "scale": grading.scale,
        "grade": grading.grade,
        "criteria": [
            {
                "domain": c.domain,
                "finding": c.finding,
                "grade": c.grade,
                "decisive": c in decisive,
            }
            for c in grading.criteria
        ],
        "notes": list(grading.notes),
        "source": grading.source,
    }
