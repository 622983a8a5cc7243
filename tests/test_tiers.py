"""The quick tier's sample of a sweep (tests/conftest.py)."""

from hypothesis import given
from hypothesis import strategies as st

from tests.conftest import spread


@given(count=st.integers(0, 500), keep=st.integers(1, 20))
def test_a_sweep_keeps_its_first_and_last_case_and_as_many_as_asked(count: int, keep: int) -> None:
    kept = spread(count, keep)
    assert len(kept) == min(count, keep)
    assert kept <= set(range(count))
    if count:
        assert 0 in kept
        assert (count - 1 in kept) == (keep > 1 or count == 1)


def test_a_sweep_is_sampled_evenly() -> None:
    assert spread(76, 10) == {0, 8, 17, 25, 33, 42, 50, 58, 67, 75}
    assert spread(5, 10) == {0, 1, 2, 3, 4}
