"""Exposure pictures: a valid PNG and a valid SVG, each saying it is an estimate."""

import struct
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from decimal import Decimal

import numpy as np
import pytest

from blina.domain.pk import Bolus, Infusion, PkInputs, exposure
from blina.domain.pk_course import CourseInputs, Mark, MarkKind
from blina.domain.pk_population import BsaDistribution, bands
from blina.interop.pk_plot import plot_exposure
from blina.knowledge import Knowledge

COURSE = CourseInputs(
    datetime(2027, 3, 1, 9, tzinfo=UTC),
    PkInputs(
        (Infusion(0.0, 168.0, 9 / 24), Infusion(168.0, 230.0, 28 / 24), Infusion(262, 672, 9 / 24)),
        (Bolus(400.0, 2.3),),
    ),
    (
        Mark(0.0, MarkKind.CYCLE_START, "cycle start"),
        Mark(24.0, MarkKind.BAG_CHANGE, "bag change"),
        Mark(168.0, MarkKind.STEP_UP, "step-up"),
        Mark(230.0, MarkKind.INTERRUPTION, "interruption (crs grade 3)"),
        Mark(262.0, MarkKind.RESTART, "restart"),
        Mark(400.0, MarkKind.FLUSH, "flush 20 mL"),
        Mark(672.0, MarkKind.DISCONTINUATION, "stopped"),
    ),
)


@pytest.fixture(scope="module")
def pictures(knowledge: Knowledge) -> dict[str, bytes]:
    times = np.arange(0.0, 700.0, 0.5)
    curve = exposure(knowledge.pk, COURSE.inputs, times, clearance=2.22)
    crowd = bands(
        knowledge.pk,
        COURSE.inputs,
        times,
        count=2000,
        seed=1,
        bsa=BsaDistribution(median_m2=1.88, log_sd=0.12, low_m2=1.3, high_m2=2.7),
    )
    return {
        kind: plot_exposure(
            model=knowledge.pk, exposure=curve, bands=crowd, marks=COURSE.marks, picture=kind
        )
        for kind in ("png", "svg")
    }


def test_plot_exposure_png_is_a_whole_png_of_the_figure_size(pictures: dict[str, bytes]) -> None:
    png = pictures["png"]

    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert png[12:16] == b"IHDR"
    width, height = struct.unpack(">II", png[16:24])
    assert (width, height) == (1100, 528)  # 10 x 4.8 in at 110 dpi
    assert png.endswith(b"IEND\xaeB`\x82")


def test_plot_exposure_svg_parses_and_says_it_is_an_estimate(pictures: dict[str, bytes]) -> None:
    root = ET.fromstring(pictures["svg"])

    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert b"Model-based estimate, not a measured level" in pictures["svg"]


def test_plot_exposure_curve_alone_and_the_same_bytes_twice(knowledge: Knowledge) -> None:
    times = np.arange(0.0, 200.0)
    curve = exposure(knowledge.pk, COURSE.inputs, times, clearance=2.22)

    first = plot_exposure(model=knowledge.pk, exposure=curve, picture="svg")

    assert first == plot_exposure(model=knowledge.pk, exposure=curve, picture="svg")
    assert Decimal(len(first)) > 0
