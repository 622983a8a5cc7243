"""Load ``indications.toml``: the labelled ages of each therapy beside blinatumomab.

Every therapy blina plans (each ``therapy_*.toml`` and each CAR-T product) must have its
entry, and no entry may name a therapy blina does not plan: a missing range would let a
plan pass unchecked, so it is a ``KnowledgeError`` at load.
"""

from collections.abc import Iterable, Mapping
from decimal import Decimal
from pathlib import Path

from pydantic import Field

from blina.domain.errors import KnowledgeError
from blina.domain.therapies.indication import AgeIndication
from blina.knowledge._loader import check_sources, read_toml, validate
from blina.knowledge._schema import SourceEntry, _Strict

__all__ = ["load_age_indications"]


class AgeIndicationFile(_Strict):
    from_years: Decimal | None = Field(default=None, gt=0, le=130)
    under_years: Decimal | None = Field(default=None, gt=0, le=130)
    text: str = Field(min_length=1)
    source: str


def load_age_indications(
    path: Path, sources: Mapping[str, SourceEntry], therapies: Iterable[str]
) -> dict[str, AgeIndication]:
    """The age range of every therapy key in ``therapies``, read from ``path``."""
    raw = read_toml(path)
    check_sources(raw, sources, path.name)
    found: dict[str, AgeIndication] = {}
    for key, entry in raw.items():
        data = validate(AgeIndicationFile, entry, path.name, key)
        try:
            found[key] = AgeIndication(data.from_years, data.under_years, data.text, data.source)
        except ValueError as error:
            raise KnowledgeError(path.name, key, str(error)) from None
    wanted = set(therapies)
    for key in sorted(wanted - set(found)):
        raise KnowledgeError(path.name, key, "missing: every therapy planned needs its ages")
    for key in sorted(set(found) - wanted):
        raise KnowledgeError(path.name, key, "no therapy file or CAR-T product has this key")
    return found
