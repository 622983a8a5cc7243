"""The world service tests start from (``tests.clinic_factories``), and the pharmacy's
library."""

import pytest
from sqlalchemy.orm import Session, sessionmaker

from blina.config import Settings
from blina.domain.pharmacy.resolution import ResolvedLibrary
from blina.knowledge import Knowledge
from blina.services.pharmacy import library_for
from blina.store.session import transaction
from tests.clinic_factories import World, add_world


@pytest.fixture
def world(sessions: sessionmaker[Session]) -> World:
    """Two clinics and their people, in the emptied database."""
    with transaction(sessions) as session:
        return add_world(session)


@pytest.fixture(scope="session")
def library(knowledge: Knowledge) -> ResolvedLibrary:
    """The demo site library (the one a clinic without ``BLINA_SITE_LIBRARY`` uses)."""
    return library_for(Settings(), knowledge)
