"""The site drug library: its validation by two pharmacists, its demo stamp, its care
areas and their soft and hard limits.
"""

from datetime import date
from decimal import Decimal

import pytest
from tests.pharmacy_strategies import make_care_area, make_site

from blina.domain.checks import CheckLevel
from blina.domain.pharmacy.site_library import DEMO_STAMP, Limits, SiteLibrary, Validation


@pytest.mark.parametrize(
    ("validation", "problem"),
    [
        (Validation(("A", "B"), None), "the library has no validation date"),
        (
            Validation(("Ann Lee", " ann lee"), date(2026, 1, 1)),
            "the library was validated by Ann Lee twice, not by two pharmacists",
        ),
        (
            Validation(("Ann Lee",), date(2026, 1, 1)),
            "the library was not validated by two distinct pharmacists",
        ),
        (
            Validation(("Ann Lee", "  "), date(2026, 1, 1)),
            "the library was not validated by two distinct pharmacists",
        ),
        (Validation(("Ann Lee", "Bo Chen"), date(2026, 1, 1)), None),
    ],
    ids=["no-date", "same-twice", "one", "blank-second", "valid"],
)
def test_validation_problem_needs_two_distinct_pharmacists_and_a_date(
    validation: Validation, problem: str | None
) -> None:
    assert validation.problem == problem


def test_validation_describe_names_both_and_the_date() -> None:
    text = Validation(("A", "B"), date(2026, 1, 15)).describe()

    assert text == "validated by A and B on 2026-01-15"


def test_site_library_stamp_and_care_area_lookup() -> None:
    assert make_site(demo=True).stamp == DEMO_STAMP
    assert make_site().stamp is None
    area = make_care_area()
    site = make_site(care_areas=(area,))
    assert site.care_area("peds") is area
    assert site.care_area("icu") is None


@pytest.mark.parametrize(
    ("value", "level", "words"),
    [
        ("31", CheckLevel.HARD, "above the hard limit 30"),
        ("1", CheckLevel.HARD, "below the hard limit 2"),
        ("21", CheckLevel.SOFT, "above the soft limit 20"),
        ("4", CheckLevel.SOFT, "below the soft limit 5"),
        ("10", None, ""),
    ],
    ids=["hard-max", "hard-min", "soft-max", "soft-min", "within"],
)
def test_limits_check_reports_the_worst_broken_limit(
    value: str, level: CheckLevel | None, words: str
) -> None:
    limits = Limits(
        "mL/h",
        "lim-src",
        soft_min=Decimal(5),
        soft_max=Decimal(20),
        hard_min=Decimal(2),
        hard_max=Decimal(30),
    )

    check = limits.check(Decimal(value), what="rate", code="c", area="Home")

    if level is None:
        assert check is None
    else:
        assert check is not None
        assert check.level is level
        assert words in check.reason
        assert check.reason.endswith("in Home")
        assert check.source == "lim-src"


def test_site_library_is_frozen() -> None:
    site: SiteLibrary = make_site()

    with pytest.raises(AttributeError):
        site.name = "other"  # type: ignore[misc]
