"""Fixed preparation rows copied from the current label, checked before they are used.

A site library may copy rows from the label: a fixed dose, or a dose per m2 over a BSA
band. Each row is checked at load by the same computation as every recipe
(``mass_balance.delivered_mcg_per_day`` within the site's tolerance, at each end of a
band), and against the bag's saline and stabilizer, its vial count and the priming
volume. Every problem is listed with its key path in the site file; a library with any
problem is refused at load and at use.
"""

from collections.abc import Mapping
from decimal import Decimal

from blina.domain.pharmacy.bag_setup import BagSetup
from blina.domain.pharmacy.mass_balance import delivered_mcg_per_day
from blina.domain.pharmacy.reference import LabelDoseRules, PharmacyReference
from blina.domain.pharmacy.site_library import LabelRow, LibraryProblem, SiteLibrary
from blina.domain.rounding import round_reported, vials_needed
from blina.domain.units import Ml

__all__ = ["index_label_rows"]

_HUNDRED = Decimal(100)


def index_label_rows(
    site: SiteLibrary,
    reference: PharmacyReference,
    rules: LabelDoseRules,
    bags: Mapping[int, BagSetup],
    usable: Ml | None,
    problems: list[LibraryProblem],
) -> tuple[dict[tuple[int, Decimal], LabelRow], dict[tuple[int, Decimal], tuple[LabelRow, ...]]]:
    """The site's label rows by (bag hours, dose): fixed-dose rows, and BSA-band rows by
    their dose per m2. Each row is checked first; ``problems`` gets every problem found."""
    fixed: dict[tuple[int, Decimal], LabelRow] = {}
    bands: dict[tuple[int, Decimal], tuple[LabelRow, ...]] = {}
    ids: set[str] = set()
    concentration = reference.reconstitution.concentration.value
    for index, row in enumerate(site.label_rows):
        where = f'label_rows[{index}] ("{row.id}")'
        if row.id in ids:
            problems.append(LibraryProblem(f"{where}.id", f"row id {row.id!r} appears twice"))
            continue
        ids.add(row.id)
        found = _row_problems(
            row, where, bags.get(row.bag_hours), site, rules, usable, concentration
        )
        if found:
            problems.extend(found)
        elif row.dose is not None:
            key = (row.bag_hours, row.dose.value)
            if key in fixed:
                problems.append(
                    LibraryProblem(where, f"a second row for {row.dose} in {row.bag_hours}-h bags")
                )
            fixed[key] = row
        else:
            assert row.per_m2 is not None
            key = (row.bag_hours, row.per_m2.value)
            if any(_overlap(row, other) for other in bands.get(key, ())):
                problems.append(
                    LibraryProblem(where, "its BSA band overlaps another row for the same dose")
                )
            bands[key] = (*bands.get(key, ()), row)
    return fixed, bands


def _overlap(row: LabelRow, other: LabelRow) -> bool:
    assert row.bsa_min is not None
    assert row.bsa_max is not None
    assert other.bsa_min is not None
    assert other.bsa_max is not None
    return row.bsa_min.value <= other.bsa_max.value and other.bsa_min.value <= row.bsa_max.value


def _row_doses(row: LabelRow, rules: LabelDoseRules) -> list[Decimal] | None:
    """The doses a row must deliver: its fixed dose, or the dose at each end of its band."""
    if row.dose is not None and row.per_m2 is None and row.bsa_min is None:
        return [row.dose.value]
    if row.dose is not None or row.per_m2 is None:
        return None
    if row.bsa_min is None or row.bsa_max is None or row.bsa_min.value > row.bsa_max.value:
        return None
    cap = rules.cap_for(row.per_m2).value
    return [min(row.per_m2.value * bsa.value, cap) for bsa in (row.bsa_min, row.bsa_max)]


def _row_problems(
    row: LabelRow,
    where: str,
    bag: BagSetup | None,
    site: SiteLibrary,
    rules: LabelDoseRules,
    usable: Ml | None,
    concentration: Decimal,
) -> list[LibraryProblem]:
    if bag is None:
        return [
            LibraryProblem(
                f"{where}.bag_hours", f"{row.bag_hours} h is not a bag duration the reference knows"
            )
        ]
    targets = _row_doses(row, rules)
    if targets is None:
        return [
            LibraryProblem(
                where,
                "give dose_mcg_per_day, or dose_mcg_per_m2_per_day with bsa_min_m2 <= bsa_max_m2",
            )
        ]
    if bag.rate is None or bag.infuse is None:
        return [
            LibraryProblem(f"{where}.bag_hours", f"no infusion rate for {row.bag_hours}-h bags")
        ]
    problems: list[LibraryProblem] = []
    for target in targets:
        delivered = delivered_mcg_per_day(
            drug_ml=row.drug.value,
            concentration_mcg_per_ml=concentration,
            saline_ml=row.saline.value,
            stabilizer_ml=row.stabilizer.value,
            rate_ml_per_h=bag.rate.value.value,
        )
        if abs(delivered - target) * _HUNDRED > site.tolerance_percent * target:
            problems.append(
                LibraryProblem(
                    f"{where}.drug_ml",
                    f"{row.drug.value} mL delivers {round_reported(delivered)} mcg/day, not"
                    f" {target} mcg/day within the site tolerance of {site.tolerance_percent} %",
                )
            )
            break
    problems.extend(_row_volume_problems(row, where, bag, usable))
    total = row.saline.value + row.stabilizer.value + row.drug.value
    if total - bag.infuse.value < site.priming.value:
        problems.append(
            LibraryProblem(
                where,
                f"the bag holds {total} mL and infuses {bag.infuse.value} mL: less than the"
                f" {site.priming.value} mL the site needs to prime the line",
            )
        )
    return problems


def _row_volume_problems(
    row: LabelRow, where: str, bag: BagSetup, usable: Ml | None
) -> list[LibraryProblem]:
    problems: list[LibraryProblem] = []
    ref = bag.reference_saline
    if row.dose is not None and ref is not None and row.saline != ref.volume:
        problems.append(
            LibraryProblem(
                f"{where}.saline_ml",
                f"{row.saline.value} mL disagrees with the reference's {ref.volume.value} mL"
                f" ({ref.source})",
            )
        )
    elif bag.site_saline is not None and row.saline != bag.site_saline.value:
        problems.append(
            LibraryProblem(
                f"{where}.saline_ml",
                f"{row.saline.value} mL disagrees with the site's base saline"
                f" {bag.site_saline.value.value} mL for {row.bag_hours}-h bags",
            )
        )
    if bag.stabilizer is not None and row.stabilizer != bag.stabilizer.value:
        problems.append(
            LibraryProblem(
                f"{where}.stabilizer_ml",
                f"{row.stabilizer.value} mL disagrees with the site's"
                f" {bag.stabilizer.value.value} mL for {row.bag_hours}-h bags",
            )
        )
    if usable is not None:
        needed = vials_needed(row.drug.value, per_vial=usable.value)
        if row.vials < needed:
            problems.append(
                LibraryProblem(
                    f"{where}.vials",
                    f"{row.vials} vial(s) cannot give {row.drug.value} mL: {needed} vials of"
                    f" {usable.value} mL are needed",
                )
            )
    return problems
