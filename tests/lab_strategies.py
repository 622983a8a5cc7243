"""Hypothesis strategies for lab values in every unit a measurand may be entered in.

Every number is a ``Decimal`` drawn with ``st.decimals(places=...)``, never a float. A value
is drawn in its unit, within the measurand's plausible range once converted (the bounds
are converted back to the unit and rounded inward to the drawn number of places), so it
is a value blina accepts.
"""

from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

from hypothesis import strategies as st

from blina.domain.toxicity.lab_units import LabUnit, Measurand
from tests.strategies import decimals


def lab_values(
    measurand: Measurand, unit: LabUnit, *, above_zero: bool = False
) -> st.SearchStrategy[Decimal]:
    """Values in ``unit`` to 0-3 decimal places whose canonical value is plausible
    (and > 0 with ``above_zero``, as an LLN, a ULN or a baseline must be)."""

    @st.composite
    def draw_value(draw: st.DrawFn) -> Decimal:
        places = draw(st.integers(0, 3))
        quantum = Decimal(1).scaleb(-places)
        plausible = measurand.plausible
        low = (plausible.low / unit.factor).quantize(quantum, rounding=ROUND_CEILING)
        high = (plausible.high / unit.factor).quantize(quantum, rounding=ROUND_FLOOR)
        if (above_zero or not plausible.low_inclusive) and low * unit.factor <= plausible.low:
            low += quantum
        return draw(decimals(str(low), str(high), places=places))

    return draw_value()


@st.composite
def lab_entries(draw: st.DrawFn, measurand: Measurand) -> tuple[Decimal, LabUnit]:
    """A plausible value of ``measurand`` and the unit it is entered in (any of its units,
    the canonical one included)."""
    unit = draw(st.sampled_from(measurand.units))
    return draw(lab_values(measurand, unit)), unit


def symptoms() -> st.SearchStrategy[bool | None]:
    """Symptoms present, absent or not stated."""
    return st.sampled_from([None, True, False])
