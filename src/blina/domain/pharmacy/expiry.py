"""Beyond-use times: how long a prepared bag and a reconstituted vial keep, per bag.

The reference's stability rules apply by region and bag duration; a site library's rule
for the same item and storage replaces the reference's, which is kept beside it
(``Expiry.replaces``). A missing beyond-use time is a soft check (take it from the current
label); a prepared bag whose limit, infusion included, is shorter than its duration is a
hard stop: it would expire while it runs.
"""

from dataclasses import dataclass
from decimal import Decimal

from blina.domain.checks import Check, CheckLevel
from blina.domain.pharmacy.reference import (
    PharmacyReference,
    ReferenceBag,
    StabilityItem,
    StabilityRule,
    Storage,
)
from blina.domain.pharmacy.site_library import SiteBag, SiteLibrary
from blina.domain.sentences import Template
from blina.domain.units import Hours

__all__ = ["Expiry", "bag_expiry"]


# Why a beyond-use time is missing, for each item and storage (``blina.domain.sentences``).
NO_STABILITY_BAG_ROOM = Template(
    "no beyond-use time for the prepared bag ({hours}-h bag) at room temperature: the "
    "reference has no current value and the site library {site} gives none; take it from "
    "the current label before dispensing"
)
NO_STABILITY_BAG_COLD = Template(
    "no beyond-use time for the prepared bag ({hours}-h bag) refrigerated: the reference has "
    "no current value and the site library {site} gives none; take it from the current label "
    "before dispensing"
)
NO_STABILITY_VIAL_ROOM = Template(
    "no beyond-use time for the reconstituted vial ({hours}-h bag) at room temperature: the "
    "reference has no current value and the site library {site} gives none; take it from "
    "the current label before dispensing"
)
NO_STABILITY_VIAL_COLD = Template(
    "no beyond-use time for the reconstituted vial ({hours}-h bag) refrigerated: the "
    "reference has no current value and the site library {site} gives none; take it from "
    "the current label before dispensing"
)
_NO_STABILITY = {
    (StabilityItem.PREPARED_BAG, Storage.ROOM_TEMPERATURE): NO_STABILITY_BAG_ROOM,
    (StabilityItem.PREPARED_BAG, Storage.REFRIGERATED): NO_STABILITY_BAG_COLD,
    (StabilityItem.RECONSTITUTED_VIAL, Storage.ROOM_TEMPERATURE): NO_STABILITY_VIAL_ROOM,
    (StabilityItem.RECONSTITUTED_VIAL, Storage.REFRIGERATED): NO_STABILITY_VIAL_COLD,
}


@dataclass(frozen=True, slots=True)
class Expiry:
    """A beyond-use limit for one item at one storage condition.

    For a prepared bag whose limit includes the infusion time, ``start_within_hours`` is
    how long after preparation the bag may wait before it is hung (limit - duration).
    ``replaces`` is the older reference rule a site value replaces, shown beside it.
    """

    item: StabilityItem
    storage: Storage
    temperature: str
    hours: Decimal
    includes_infusion: bool
    source: str
    start_within_hours: Decimal | None = None
    replaces: StabilityRule | None = None

    def describe(self) -> str:
        text = f"{self.hours} h at {self.temperature}"
        if self.includes_infusion:
            text += " including infusion time"
        if self.start_within_hours is not None:
            text += f": hang within {self.start_within_hours} h of preparation"
        return text


def bag_expiry(
    ref: ReferenceBag,
    site_bag: SiteBag | None,
    site: SiteLibrary,
    reference: PharmacyReference,
    duration: Hours,
) -> tuple[tuple[Expiry, ...], list[Check]]:
    """Every item's beyond-use time at each storage for one bag, and the checks on them."""
    rules: dict[tuple[StabilityItem, Storage], tuple[StabilityRule, StabilityRule | None]] = {}
    for rule in reference.stability:
        if rule.applies(bag_hours=ref.hours, region=site.region):
            rules[(rule.item, rule.storage)] = (rule, None)
    for rule in () if site_bag is None else site_bag.stability:
        before = rules.get((rule.item, rule.storage))
        rules[(rule.item, rule.storage)] = (rule, None if before is None else before[0])
    expiry: list[Expiry] = []
    found: list[Check] = []
    for item in StabilityItem:
        for storage in Storage:
            entry = rules.get((item, storage))
            if entry is None:
                found.append(
                    Check(
                        CheckLevel.SOFT,
                        "stability-missing",
                        _NO_STABILITY[item, storage](hours=ref.hours, site=repr(site.name)),
                        reference.missing_stability_source,
                    )
                )
                continue
            rule, older = entry
            start_within = None
            if item is StabilityItem.PREPARED_BAG and rule.includes_infusion:
                start_within = rule.hours - duration.value
                if start_within < 0:
                    found.append(
                        Check(
                            CheckLevel.HARD,
                            "bag-expires-during-infusion",
                            f"a prepared bag keeps {rule.hours} h at {rule.temperature}"
                            f" including infusion time: a {ref.hours}-h bag would expire"
                            " while it runs",
                            rule.source,
                        )
                    )
            expiry.append(
                Expiry(
                    item=item,
                    storage=storage,
                    temperature=rule.temperature,
                    hours=rule.hours,
                    includes_infusion=rule.includes_infusion,
                    source=rule.source,
                    start_within_hours=start_within,
                    replaces=older,
                )
            )
    return tuple(expiry), found
