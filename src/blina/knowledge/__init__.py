"""Clinical facts as data: loaded once, validated, turned into frozen domain objects.

``load_knowledge()`` is the only entry point. Each fact in the TOML files names its
source, a key of ``sources.toml``.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from types import MappingProxyType

from blina.domain.body import BodyRules
from blina.domain.errors import UnknownId
from blina.domain.pk import PkModel
from blina.domain.regimens import LabelVersion, Regimen
from blina.domain.therapies.indication import AgeIndication
from blina.domain.triage.rulebook import TriageRules
from blina.knowledge._car_t import CarTKnowledge, load_car_t
from blina.knowledge._indications import load_age_indications
from blina.knowledge._loader import load_body_rules, load_regimens, load_sources
from blina.knowledge._pharmacy import PharmacyReference, load_pharmacy
from blina.knowledge._pk import load_pk
from blina.knowledge._schema import SourceEntry
from blina.knowledge._therapies import TherapyFacts, load_therapies
from blina.knowledge._toxicity import ToxicityKnowledge, load_toxicity
from blina.knowledge._triage import check_therapy_keys, load_triage

__all__ = ["KNOWLEDGE_DIR", "Knowledge", "SourceEntry", "load_knowledge", "load_knowledge_from"]

KNOWLEDGE_DIR = Path(__file__).parent


@dataclass(frozen=True, slots=True)
class Knowledge:
    sources: Mapping[str, SourceEntry]
    body_rules: BodyRules
    regimens_by_id: Mapping[str, Regimen]
    pharmacy: PharmacyReference
    toxicity: ToxicityKnowledge
    triage: TriageRules
    pk: PkModel
    therapies: Mapping[str, TherapyFacts]  # beside blinatumomab, by key (therapy_*.toml)
    car_t: CarTKnowledge
    # each therapy's labelled ages, by therapy key (indications.toml)
    age_indications: Mapping[str, AgeIndication]

    @property
    def label(self) -> LabelVersion:
        return next(iter(self.regimens_by_id.values())).label

    def regimen(self, regimen_id: str) -> Regimen:
        try:
            return self.regimens_by_id[regimen_id]
        except KeyError:
            raise UnknownId("indication", regimen_id, self.regimens_by_id) from None


def load_knowledge_from(directory: Path) -> Knowledge:
    """Load and validate every knowledge file in ``directory``."""
    sources = load_sources(directory)
    triage = load_triage(directory / "triage.toml", sources)
    therapies = load_therapies(directory, sources)
    car_t = load_car_t(directory / "car_t.toml", sources)
    # Triage's therapies are the knowledge's: a key no therapy file has would never match.
    monitoring = {key: p.periods.monitor_days for key, p in car_t.products.items()}
    check_therapy_keys(triage, therapies, monitoring, "triage.toml")
    ages = load_age_indications(
        directory / "indications.toml", sources, [*therapies, *car_t.products]
    )
    return Knowledge(
        sources=MappingProxyType(sources),
        body_rules=load_body_rules(directory / "body.toml", sources),
        regimens_by_id=MappingProxyType(load_regimens(directory / "regimens.toml", sources)),
        pharmacy=load_pharmacy(directory / "pharmacy.toml", sources),
        toxicity=load_toxicity(directory / "toxicity.toml", sources),
        triage=triage,
        pk=load_pk(directory / "pk.toml", sources),
        therapies=MappingProxyType(therapies),
        car_t=car_t,
        age_indications=MappingProxyType(ages),
    )


@cache
def load_knowledge() -> Knowledge:
    """The knowledge shipped with blina, loaded once."""
    return load_knowledge_from(KNOWLEDGE_DIR)
