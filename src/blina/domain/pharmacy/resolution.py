"""A site library joined with the reference, once, ready to prepare bags from.

``resolve_library`` joins the sourced constants with one site library, bag duration by
bag duration (``bag_setup``): it finds every parameter and its source, the beyond-use
times (``expiry``), the checks that do not depend on the patient, and every problem in
the library (a site value that contradicts the reference, a label row that does not
deliver its dose: ``label_rows``). The knowledge loader refuses a library with any
problem, naming its key path; ``prepare_bag`` refuses to use one.
"""

import itertools
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from types import MappingProxyType

from blina.domain.checks import Check, CheckLevel
from blina.domain.pharmacy.bag_setup import BagSetup, resolve_bag
from blina.domain.pharmacy.label_rows import index_label_rows
from blina.domain.pharmacy.prescription import Prescription
from blina.domain.pharmacy.reference import LabelDoseRules, PharmacyReference, VialSpec
from blina.domain.pharmacy.site_library import LabelRow, LibraryProblem, SiteBag, SiteLibrary
from blina.domain.sentences import Template
from blina.domain.units import Ml

__all__ = ["ResolvedLibrary", "resolve_library"]


@dataclass(frozen=True, slots=True)
class ResolvedLibrary:
    """A site library joined with the reference, ready to prepare bags from.

    ``problems`` is empty for a library that loads: the knowledge loader refuses any
    problem, naming its key path; ``prepare_bag`` refuses to use a library that has one.
    """

    site: SiteLibrary
    reference: PharmacyReference
    dose_rules: LabelDoseRules
    vial: VialSpec | None
    usable_per_vial: Ml | None
    bags: Mapping[int, BagSetup]
    fixed_rows: Mapping[tuple[int, Decimal], LabelRow]
    band_rows: Mapping[tuple[int, Decimal], tuple[LabelRow, ...]]
    problems: tuple[LibraryProblem, ...]

    def row_for(self, rx: Prescription) -> LabelRow | None:
        """The label row for this prescription: same bag, same dose (or per-m2 dose and BSA)."""
        if rx.per_m2 is None or rx.bsa is None:
            return self.fixed_rows.get((rx.bag_hours, rx.dose.value))
        for row in self.band_rows.get((rx.bag_hours, rx.per_m2.value), ()):
            low, high = row.bsa_min, row.bsa_max
            if low is not None and high is not None and low.value <= rx.bsa.value <= high.value:
                return row
        return None


# The site library's check reasons (``blina.domain.sentences``).
LIBRARY_VALIDATED = Template("site library {site} ({version}) {validation}")
LIBRARY_NOT_VALIDATED = Template("the site library {site} is not validated: {problem}")


def resolve_library(
    *, reference: PharmacyReference, site: SiteLibrary, dose_rules: LabelDoseRules
) -> ResolvedLibrary:
    """Join the sourced constants with ``site``, bag duration by bag duration.

    For each value the reference gives (a rate, the US-2014 base saline), the reference is
    used and a site value that contradicts it is a problem; for each value it does not
    give, the site's is used; where neither gives one, the bag carries a hard stop naming
    the missing value. Label rows are checked with ``delivered_mcg_per_day`` against the
    site's tolerance; every problem is listed with its key path in the site file.
    """
    problems: list[LibraryProblem] = []
    vial = reference.vials.get(site.region)
    usable = None if vial is None else reference.reconstitution.usable_per_vial(vial)
    site_bags = _site_bags(site, reference, problems)
    problems.extend(_site_problems(site, reference))
    bags = {
        hours: resolve_bag(ref_bag, site_bags.get(hours), site, reference, problems)
        for hours, ref_bag in reference.bags.items()
    }
    fixed, bands = index_label_rows(site, reference, dose_rules, bags, usable, problems)
    shared = _library_checks(site, reference, vial, problems)
    return ResolvedLibrary(
        site=site,
        reference=reference,
        dose_rules=dose_rules,
        vial=vial,
        usable_per_vial=usable,
        bags=MappingProxyType(
            {
                hours: BagSetup(
                    hours=bag.hours,
                    reference=bag.reference,
                    duration=bag.duration,
                    rate=bag.rate,
                    stabilizer=bag.stabilizer,
                    site_saline=bag.site_saline,
                    reference_saline=bag.reference_saline,
                    infuse=bag.infuse,
                    capacity=bag.capacity,
                    expiry=bag.expiry,
                    advisories=bag.advisories,
                    checks=shared + bag.checks,
                    benzyl_alcohol=bag.benzyl_alcohol,
                )
                for hours, bag in bags.items()
            }
        ),
        fixed_rows=MappingProxyType(fixed),
        band_rows=MappingProxyType(bands),
        problems=tuple(problems),
    )


def _library_checks(
    site: SiteLibrary,
    reference: PharmacyReference,
    vial: VialSpec | None,
    problems: list[LibraryProblem],
) -> tuple[Check, ...]:
    found: list[Check] = []
    problem = site.validation.problem
    if problem is None:
        found.append(
            Check(
                CheckLevel.OK,
                "library-validated",
                LIBRARY_VALIDATED(
                    site=repr(site.name),
                    version=site.version,
                    validation=site.validation.describe(),
                ),
                site.source,
            )
        )
    else:
        found.append(
            Check(
                CheckLevel.HARD,
                "library-not-validated",
                LIBRARY_NOT_VALIDATED(site=repr(site.name), problem=problem),
                site.source,
            )
        )
    if problems:
        first = problems[0]
        found.append(
            Check(
                CheckLevel.HARD,
                "library-problem",
                f"the site library {site.name!r} has {len(problems)} problem(s), first at"
                f" {first.key_path}: {first.problem}",
                site.source,
            )
        )
    if vial is None:
        found.append(
            Check(
                CheckLevel.HARD,
                "missing-vial",
                f"no vial content for region {site.region!r}: the reference gives it for"
                f" {', '.join(reference.vials)} only",
                reference.missing_preparation_source,
            )
        )
    return tuple(found)


def _site_bags(
    site: SiteLibrary, reference: PharmacyReference, problems: list[LibraryProblem]
) -> dict[int, tuple[int, SiteBag]]:
    entries: dict[int, tuple[int, SiteBag]] = {}
    known = ", ".join(str(h) for h in reference.bags)
    for index, bag in enumerate(site.bags):
        if bag.hours not in reference.bags:
            problems.append(
                LibraryProblem(
                    f"bags[{index}].hours",
                    f"{bag.hours} h is not a bag duration the reference knows: one of {known}",
                )
            )
        elif bag.hours in entries:
            problems.append(
                LibraryProblem(f"bags[{index}].hours", f"{bag.hours}-h bags are given twice")
            )
        else:
            entries[bag.hours] = (index, bag)
    return entries


def _site_problems(site: SiteLibrary, reference: PharmacyReference) -> list[LibraryProblem]:
    problems: list[LibraryProblem] = []
    previous = Decimal(0)
    for index, step in enumerate(site.measurable):
        if step.up_to_ml <= previous:
            problems.append(
                LibraryProblem(
                    f"site.measurable[{index}].up_to_ml",
                    f"{step.up_to_ml} mL must be more than the row before ({previous} mL)",
                )
            )
        previous = step.up_to_ml
    seen: set[str] = set()
    for index, area in enumerate(site.care_areas):
        where = f"care_areas[{index}]"
        if area.id in seen:
            problems.append(LibraryProblem(f"{where}.id", f"care area {area.id!r} appears twice"))
        seen.add(area.id)
        unknown = [h for h in area.bag_hours if h not in reference.bags]
        if unknown:
            problems.append(
                LibraryProblem(
                    f"{where}.bag_hours",
                    f"{unknown[0]} h is not a bag duration the reference knows",
                )
            )
        for key, limits in (
            ("dose_mcg_per_day", area.dose),
            ("dose_mcg_per_m2_per_day", area.dose_per_m2),
            ("rate_ml_per_h", area.rate),
            ("concentration_mcg_per_ml", area.concentration),
        ):
            if _limits_out_of_order(
                limits.hard_min, limits.soft_min, limits.soft_max, limits.hard_max
            ):
                problems.append(
                    LibraryProblem(
                        f"{where}.{key}",
                        "limits must run hard_min <= soft_min <= soft_max <= hard_max",
                    )
                )
    return problems


def _limits_out_of_order(*bounds: Decimal | None) -> bool:
    given = [bound for bound in bounds if bound is not None]
    return any(low > high for low, high in itertools.pairwise(given))
