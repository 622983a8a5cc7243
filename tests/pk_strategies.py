"""Hypothesis strategies for the exposure model: courses with interruptions and flushes.

Times are hours, rates ug/h, doses ug; the ranges cover blinatumomab (rates 0.1-4 ug/h,
flushes up to 40 ug) and the model's clearance range (0.3-8 L/h: BSA 0.37-2.7 m2 and
the variability's tails)."""

from decimal import Decimal

from hypothesis import strategies as st

from blina.domain.pk import Bolus, Infusion, PkInputs, PkModel, two_compartment


@st.composite
def courses(draw: st.DrawFn, *, max_segments: int = 8, per_m2: bool = False) -> PkInputs:
    """Segments that follow one another with gaps (interruptions) and dose changes, and
    boluses at any time (flushes, at a bag change or in a stop)."""
    clock = draw(st.floats(min_value=0.0, max_value=24.0))
    infusions = []
    for _ in range(draw(st.integers(min_value=1, max_value=max_segments))):
        clock += draw(st.sampled_from([0.0, 0.0, 0.25, 4.0, 30.0]))  # gaps: none to a day+
        length = draw(st.floats(min_value=0.1, max_value=96.0))
        rate = draw(st.floats(min_value=0.05, max_value=4.0))
        per = draw(st.floats(min_value=0.05, max_value=2.0)) if per_m2 else None
        cap = draw(st.floats(min_value=0.5, max_value=4.0)) if per_m2 else None
        infusions.append(Infusion(clock, clock + length, rate, per, cap))
        clock += length
    boluses = draw(
        st.lists(
            st.builds(
                Bolus,
                st.floats(min_value=0.0, max_value=clock + 12.0),
                st.floats(min_value=0.0, max_value=40.0),
            ),
            max_size=4,
        )
    )
    return PkInputs(tuple(infusions), tuple(boluses))


def clearances() -> st.SearchStrategy[float]:
    return st.floats(min_value=0.3, max_value=8.0)


@st.composite
def models(draw: st.DrawFn, base: PkModel) -> PkModel:
    """The shipped model, or the same with a peripheral compartment (the 2-cmt path)."""
    if not draw(st.booleans()):
        return base
    return two_compartment(
        base,
        intercompartmental_l_per_h=Decimal(draw(st.integers(min_value=1, max_value=400))) / 100,
        peripheral_volume_l=Decimal(draw(st.integers(min_value=50, max_value=2000))) / 100,
    )
