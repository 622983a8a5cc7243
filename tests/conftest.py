"""Shared fixtures and the hypothesis profiles.

``HYPOTHESIS_PROFILE=ci`` (set by ``scripts/test`` under CI) makes property tests
reproducible: derandomized, no deadline, and a reproduction blob printed on failure.
"""

import os

import pytest
from hypothesis import settings

from blina.domain.body import BodyRules
from blina.domain.regimens import Regimen
from blina.knowledge import Knowledge, load_knowledge

settings.register_profile("ci", deadline=None, print_blob=True, derandomize=True)
settings.register_profile("dev", deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))


@pytest.fixture(scope="session")
def knowledge() -> Knowledge:
    """The shipped knowledge; read-only, so one load serves the whole session."""
    return load_knowledge()


@pytest.fixture(scope="session")
def body_rules(knowledge: Knowledge) -> BodyRules:
    return knowledge.body_rules


@pytest.fixture(scope="session")
def relapsed_refractory(knowledge: Knowledge) -> Regimen:
    return knowledge.regimen("relapsed-refractory")


@pytest.fixture(scope="session")
def mrd_positive(knowledge: Knowledge) -> Regimen:
    return knowledge.regimen("mrd-positive")


@pytest.fixture(scope="session")
def consolidation(knowledge: Knowledge) -> Regimen:
    return knowledge.regimen("consolidation")
