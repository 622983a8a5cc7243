"""Pieces of therapy facts that several planners share: premedication with its dose rule,
a check or test with the moment it belongs to, and the dose arithmetic on BSA.

The knowledge loader builds these from each therapy's TOML; the planners only read them.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from blina.domain.sentences import Template
from blina.domain.therapies.model import Entry, EntryKind

__all__ = ["MonitoringFact", "PremedicationFact", "When", "dose_entry", "mg_for_bsa", "plain"]


class When(StrEnum):
    """The dose days a monitoring fact or premedication belongs to."""

    FIRST_DOSE = "first-dose"  # before the first dose of the whole plan only
    EACH_DOSE = "each-dose"  # before every dose
    CYCLE_START = "cycle-start"  # on day 1 of every cycle or host course after the first


# How a dose was computed, as the plan shows it (``blina.domain.sentences``).
FIXED = Template("fixed")
PER_KG_BASIS = Template("{per_kg} mg/kg x {weight} kg")
CAPPED = Template("{basis} = {exact} mg, capped at {cap} mg")
PER_M2_BASIS = Template("{per_m2} mg/m2 x {bsa} m2")
CAPPED_PER_DOSE = Template("{basis} = {exact} mg, capped at {cap} mg per dose")


@dataclass(frozen=True, slots=True)
class PremedicationFact:
    """A premedication before a dose; a dose only where the reference gives one.

    ``mg`` is a fixed dose; ``mg_per_kg`` a weight-based one, capped at ``max_mg`` when
    the reference gives a cap. With neither, the drug and its dose are the prescriber's.
    """

    what: str
    text: str
    source: str
    mg: Decimal | None = None
    mg_per_kg: Decimal | None = None
    max_mg: Decimal | None = None

    def entry(self, weight_kg: Decimal | None) -> Entry:
        if self.mg is not None:
            return Entry(
                EntryKind.PREMEDICATION, self.what, self.text, self.source, self.mg, "mg", FIXED()
            )
        if self.mg_per_kg is None or weight_kg is None:
            return Entry(EntryKind.PREMEDICATION, self.what, self.text, self.source)
        exact = plain(self.mg_per_kg * weight_kg)
        dose = exact if self.max_mg is None else min(exact, self.max_mg)
        basis = PER_KG_BASIS(per_kg=self.mg_per_kg, weight=weight_kg)
        if dose != exact:
            assert self.max_mg is not None
            basis = CAPPED(basis=basis, exact=Decimal(exact), cap=self.max_mg)
        return Entry(EntryKind.PREMEDICATION, self.what, self.text, self.source, dose, "mg", basis)


@dataclass(frozen=True, slots=True)
class MonitoringFact:
    """A check, test or watch, and the dose days it belongs to."""

    what: str
    when: When
    text: str
    source: str

    def entry(self) -> Entry:
        return Entry(EntryKind.MONITORING, self.what, self.text, self.source)


def plain(value: Decimal) -> Decimal:
    """The same number without trailing zeros, never in exponent form.

    >>> plain(Decimal("0.860")), plain(Decimal("650")), plain(Decimal("412.50"))
    (Decimal('0.86'), Decimal('650'), Decimal('412.5'))
    """
    if value == value.to_integral_value():
        return value.quantize(Decimal(1))
    return value.normalize()


def mg_for_bsa(mg_per_m2: Decimal, bsa_m2: Decimal, cap_mg: Decimal | None) -> Decimal:
    """The dose in mg for a BSA, never above the per-dose cap; not rounded (the product
    of a dose to 0.1 mg/m2 and a BSA to 0.01 m2 is exact; measuring it is the pharmacy's).

    >>> mg_for_bsa(Decimal("3"), Decimal("1.72"), Decimal("4.5"))
    Decimal('4.5')
    >>> mg_for_bsa(Decimal("0.8"), Decimal("1.72"), None)
    Decimal('1.376')
    >>> mg_for_bsa(Decimal("0.5"), Decimal("1.72"), None)
    Decimal('0.86')
    """
    exact = plain(mg_per_m2 * bsa_m2)
    return exact if cap_mg is None else min(exact, cap_mg)


def dose_entry(
    *,
    what: str,
    text: str,
    source: str,
    mg_per_m2: Decimal,
    bsa_m2: Decimal,
    cap_mg: Decimal | None,
) -> Entry:
    """The dose of the day, with the arithmetic that made it (and the cap when it bit)."""
    dose = mg_for_bsa(mg_per_m2, bsa_m2, cap_mg)
    basis = PER_M2_BASIS(per_m2=mg_per_m2, bsa=bsa_m2)
    exact = plain(mg_per_m2 * bsa_m2)
    if dose != exact:
        assert cap_mg is not None
        basis = CAPPED_PER_DOSE(basis=basis, exact=Decimal(exact), cap=cap_mg)
    return Entry(EntryKind.DOSE, what, text, source, dose, "mg", basis)
