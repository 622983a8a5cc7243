"""The pharmacy reference: the label's dose rules read from the regimens, and what a vial
yields once reconstituted.
"""

from decimal import Decimal

import pytest
from tests.factories import make_cycle, make_regimen, make_step
from tests.pharmacy_strategies import dose_rules, reference

from blina.domain.pharmacy.reference import VialSpec, label_dose_rules
from blina.domain.units import Kg, Mcg, McgPerDay, McgPerM2PerDay, Ml

RULES = dose_rules()


def test_label_dose_rules_shipped_regimens_give_label_caps() -> None:
    assert RULES.max_dose == McgPerDay(Decimal(28))
    assert RULES.max_per_m2 == McgPerM2PerDay(Decimal(15))
    assert RULES.fixed_doses == (Decimal(9), Decimal(28))
    assert RULES.caps == ((Decimal(5), Decimal(9)), (Decimal(15), Decimal(28)))
    assert RULES.weight_threshold == Kg(Decimal(45))
    assert RULES.max_dose_source == "label-1.2-rr"


@pytest.mark.parametrize(
    ("per_m2", "cap"), [("5", "9"), ("15", "28"), ("10", "28")], ids=["5", "15", "unlabelled"]
)
def test_label_dose_rules_cap_for_per_m2_dose_gives_its_cap(per_m2: str, cap: str) -> None:
    assert RULES.cap_for(McgPerM2PerDay(Decimal(per_m2))) == McgPerDay(Decimal(cap))


def test_label_dose_rules_synthetic_regimen_uses_its_highest_cap() -> None:
    steps = (make_step(1, 7, fixed=Decimal(5), per_m2=Decimal(3), cap=Decimal(6)),)
    regimen = make_regimen(
        cycles=[make_cycle(1, infusion_days=7, steps=steps), make_cycle(2)],
        weight_threshold_kg=Decimal(40),
    )

    rules = label_dose_rules([regimen])

    assert rules.max_dose == McgPerDay(Decimal(28))
    assert rules.caps == ((Decimal(3), Decimal(6)), (Decimal(15), Decimal(28)))
    assert rules.weight_threshold == Kg(Decimal(40))


def test_reconstitution_usable_per_vial_is_content_over_concentration() -> None:
    ref = reference()

    assert ref.reconstitution.usable_per_vial(ref.vials["US"]) == Ml(Decimal("2.8"))
    assert ref.reconstitution.usable_per_vial(ref.vials["EU"]) == Ml(Decimal("3.08"))
    assert ref.reconstitution.usable_per_vial(VialSpec("X", Mcg(Decimal(25)), "s")) == Ml(
        Decimal(2)
    )
