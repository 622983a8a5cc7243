"""One bag duration resolved against one site library: each value with its source.

For each value the reference gives (a rate, the US-2014 base saline), the reference is
used and a site value that contradicts it is a problem in the library; for each value it
does not give, the site's is used; where neither gives one, the bag carries a hard stop
naming the missing value. A rate the reference could not verify is a hard stop unless the
validated site library confirms it: never a default. ``resolution`` builds one
``BagSetup`` per bag duration the reference knows.
"""

from dataclasses import dataclass
from decimal import Decimal

from blina.domain.checks import Check, CheckLevel
from blina.domain.pharmacy.expiry import Expiry, bag_expiry
from blina.domain.pharmacy.mass_balance import HOURS_PER_DAY
from blina.domain.pharmacy.reference import (
    Advisory,
    PharmacyReference,
    ReferenceBag,
    ReferenceSaline,
    Sourced,
)
from blina.domain.pharmacy.site_library import LibraryProblem, SiteBag, SiteLibrary
from blina.domain.sentences import Template
from blina.domain.units import Hours, Kg, Ml, MlPerHour

__all__ = ["BagSetup", "resolve_bag"]


@dataclass(frozen=True, slots=True)
class BagSetup:
    """One bag duration resolved against one site library: each value with its source.

    ``checks`` are the findings that do not depend on the patient (library validation,
    missing values, an unverified rate, missing stability, a bag that expires while it
    runs). ``capacity`` is 24 x c x r: the mcg/day one mL of undiluted reconstituted drug
    would give at this rate; None when the rate is missing.
    """

    hours: int
    reference: ReferenceBag
    duration: Hours
    rate: Sourced[MlPerHour] | None
    stabilizer: Sourced[Ml] | None
    site_saline: Sourced[Ml] | None
    reference_saline: ReferenceSaline | None
    infuse: Ml | None
    capacity: Decimal | None
    expiry: tuple[Expiry, ...]
    advisories: tuple[Advisory, ...]
    checks: tuple[Check, ...]
    benzyl_alcohol: Sourced[Decimal] | None = None  # mg/mL in the preserved saline

    def saline_for(self, weight: Kg) -> Sourced[Ml] | None:
        """The reference's base saline where it applies to ``weight``, else the site's."""
        ref = self.reference_saline
        if ref is not None and weight.value >= ref.min_weight.value:
            return Sourced(ref.volume, ref.source)
        return self.site_saline


# The rate's check reasons (``blina.domain.sentences``).
RATE_CONFIRMED = Template(
    "{rate} for {hours}-h bags rests on a single source; the validated site library {site} "
    "confirms it"
)
RATE_UNVERIFIED = Template(
    "{rate} for {hours}-h bags is not verified: {note}; a {hours}-h bag is made only from a "
    "validated site library that confirms the rate from the current label"
)


def resolve_bag(
    ref: ReferenceBag,
    entry: tuple[int, SiteBag] | None,
    site: SiteLibrary,
    reference: PharmacyReference,
    problems: list[LibraryProblem],
) -> BagSetup:
    """``ref`` joined with the site's entry for it (``entry``: its index in the site file
    and the entry; None when the site gives none). ``problems`` gets every contradiction."""
    index, site_bag = (None, None) if entry is None else entry
    where = f"bags[{index}]"
    found: list[Check] = []
    rate = _resolve_rate(ref, site_bag, site, reference, where, problems, found)
    missing = reference.missing_preparation_source
    stabilizer = None
    if site_bag is not None and site_bag.stabilizer is not None:
        stabilizer = Sourced(site_bag.stabilizer, site_bag.source)
    else:
        found.append(_missing(ref.hours, "IV Solution Stabilizer volume", site, missing))
    ref_saline = next(
        (s for s in reference.base_saline if site.region in s.regions and ref.hours in s.bag_hours),
        None,
    )
    site_saline = None
    if site_bag is not None and site_bag.base_saline is not None:
        site_saline = Sourced(site_bag.base_saline, site_bag.source)
        if ref_saline is not None and site_bag.base_saline != ref_saline.volume:
            problems.append(
                LibraryProblem(
                    f"{where}.base_saline_ml",
                    f"{site_bag.base_saline.value} mL disagrees with the reference's"
                    f" {ref_saline.volume.value} mL ({ref_saline.source})",
                )
            )
    elif ref_saline is None:
        found.append(_missing(ref.hours, "base saline volume", site, missing))
    duration = Hours(Decimal(ref.hours))
    expiry, expiry_checks = bag_expiry(ref, site_bag, site, reference, duration)
    concentration = reference.reconstitution.concentration.value
    return BagSetup(
        hours=ref.hours,
        reference=ref,
        duration=duration,
        rate=rate,
        stabilizer=stabilizer,
        site_saline=site_saline,
        reference_saline=ref_saline,
        infuse=None if rate is None else rate.value * duration,
        capacity=None if rate is None else HOURS_PER_DAY * concentration * rate.value.value,
        expiry=expiry,
        advisories=tuple(
            a for a in reference.advisories if ref.preservative or not a.preservative_only
        ),
        checks=(*found, *expiry_checks),
        benzyl_alcohol=None
        if site_bag is None or site_bag.benzyl_alcohol_mg_per_ml is None or not ref.preservative
        else Sourced(site_bag.benzyl_alcohol_mg_per_ml, site_bag.source),
    )


def _missing(hours: int, what: str, site: SiteLibrary, source: str) -> Check:
    code = "missing-" + what.lower().replace(" ", "-")
    return Check(
        CheckLevel.HARD,
        code,
        f"no {what} for a {hours}-h bag: the reference has none (NOT RETRIEVED) and the site"
        f" library {site.name!r} gives none",
        source,
    )


def _resolve_rate(
    ref: ReferenceBag,
    site_bag: SiteBag | None,
    site: SiteLibrary,
    reference: PharmacyReference,
    where: str,
    problems: list[LibraryProblem],
    found: list[Check],
) -> Sourced[MlPerHour] | None:
    site_rate = None if site_bag is None else site_bag.rate
    if ref.rate is None or site.region not in ref.rate_regions:
        if site_bag is not None and site_rate is not None:
            return Sourced(site_rate, site_bag.source)
        found.append(
            _missing(ref.hours, "infusion rate", site, reference.missing_preparation_source)
        )
        return None
    source = ref.rate_source or ref.source
    if site_rate is not None and site_rate != ref.rate:
        problems.append(
            LibraryProblem(
                f"{where}.rate_ml_per_h",
                f"{site_rate.value} mL/h disagrees with the reference's {ref.rate.value} mL/h"
                f" ({source})",
            )
        )
    if not ref.rate_verified:
        if site_rate == ref.rate:
            found.append(
                Check(
                    CheckLevel.OK,
                    "rate-confirmed-by-site",
                    RATE_CONFIRMED(rate=ref.rate, hours=ref.hours, site=repr(site.name)),
                    source,
                )
            )
        else:
            # Never a default: only a validated site library's own entry may make it.
            found.append(
                Check(
                    CheckLevel.HARD,
                    "rate-unverified",
                    RATE_UNVERIFIED(rate=ref.rate, hours=ref.hours, note=str(ref.rate_note)),
                    source,
                )
            )
    return Sourced(ref.rate, source)
