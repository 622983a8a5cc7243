"""Rounding rules: drug volumes to whole syringe graduations, vials counted up, reported
figures half up.
"""

from decimal import Decimal

import pytest

from blina.domain.rounding import (
    MeasurableStep,
    VolumeRounding,
    measurable_step,
    round_factor,
    round_reported,
    round_volume_ml,
    vials_needed,
)


@pytest.mark.parametrize(
    ("volume", "step", "rule", "expected"),
    [
        ("0.8305", "0.01", VolumeRounding.NEAREST, "0.83"),
        ("0.835", "0.01", VolumeRounding.NEAREST, "0.84"),
        ("0.839", "0.01", VolumeRounding.DOWN, "0.83"),
        ("5.25", "0.2", VolumeRounding.NEAREST, "5.2"),
        ("5.3", "0.2", VolumeRounding.NEAREST, "5.4"),
        ("20.72", "0.5", VolumeRounding.NEAREST, "20.5"),
        ("20.75", "0.5", VolumeRounding.NEAREST, "21.0"),
    ],
)
def test_round_volume_ml_rounds_to_whole_graduations(
    volume: str, step: str, rule: VolumeRounding, expected: str
) -> None:
    rounded = round_volume_ml(Decimal(volume), step=Decimal(step), rule=rule)

    assert rounded == Decimal(expected)


def test_measurable_step_picks_first_syringe_that_holds_the_volume() -> None:
    steps = (
        MeasurableStep(Decimal(1), Decimal("0.01")),
        MeasurableStep(Decimal(3), Decimal("0.1")),
    )

    assert measurable_step(Decimal(1), steps) == Decimal("0.01")
    assert measurable_step(Decimal("1.01"), steps) == Decimal("0.1")
    assert measurable_step(Decimal("3.01"), steps) is None


@pytest.mark.parametrize(
    ("volume", "vials"), [("2.8", 1), ("2.81", 2), ("5.6", 2), ("0.01", 1), ("0", 0)]
)
def test_vials_needed_counts_up(volume: str, vials: int) -> None:
    assert vials_needed(Decimal(volume), per_vial=Decimal("2.8")) == vials


def test_round_reported_and_round_factor_are_half_up() -> None:
    assert round_reported(Decimal("27.99712")) == Decimal("27.997")
    assert round_reported(Decimal("0.0005")) == Decimal("0.001")
    assert round_factor(Decimal("16.665")) == Decimal("16.67")
