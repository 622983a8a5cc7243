"""A bag's label: every field with its unit, hostile text escaped, a missing beyond-use
time shown as missing, DO NOT HANG above all, and a QR code that draws exactly segno's
matrix for the code at a printable size. (Decoding it takes a QR reader: the browser
tests decode it with the vendored jsQR, from the page and from a camera.)"""

import re
import xml.etree.ElementTree as ET
from dataclasses import replace
from decimal import Decimal

import pytest
from bs4 import BeautifulSoup, Tag
from hypothesis import given
from hypothesis import strategies as st

from blina.interop.bag_label import (
    QR_BORDER_MODULES,
    QR_MODULE_MM,
    BagLabel,
    qr_code,
    qr_svg,
    render_bag_label,
)
from blina.services.pharmacy import new_bag_code

CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"  # new_bag_code's (no 0/O, 1/I/L)
SVG_NS = "{http://www.w3.org/2000/svg}"

LABEL = BagLabel(
    code="B7K29QXM",
    patient_name="Maria Lopez",
    patient_identifier="P-002",
    dose_mcg_per_day=Decimal("28"),
    concentration_mcg_per_ml=Decimal("0.117"),
    total_ml=Decimal("278.6"),
    infuse_ml=Decimal("240"),
    rate_ml_per_h=Decimal("10"),
    duration_h=Decimal("24"),
    hang_from="2026-12-01 08:00 CET",
    hang_by="2026-12-09 10:00 CET",
    expiry="2026-12-09 10:00 CET (192 h at 2-8 °C)",
)


def bag_codes() -> st.SearchStrategy[str]:
    """Codes as a label can carry them: ``new_bag_code``'s alphabet, 1 to 16 characters
    (the column's width; the codes made today have 8)."""
    return st.text(alphabet=CODE_ALPHABET, min_size=1, max_size=16)


def _label(label: BagLabel) -> Tag:
    found = BeautifulSoup(render_bag_label(label), "lxml").select_one('[data-label="bag"]')
    assert isinstance(found, Tag)
    return found


def _field(label: Tag, key: str) -> Tag:
    (found,) = label.select(f'[data-label-field="{key}"]')
    return found


def _text(tag: Tag) -> str:
    return " ".join(tag.get_text(" ").split())


@pytest.mark.parametrize(
    ("key", "shown"),
    [
        ("code", "B7K29QXM"),
        ("patient_name", "Maria Lopez"),
        ("patient_identifier", "P-002"),
        ("dose_mcg_per_day", "28 mcg/day"),
        ("concentration_mcg_per_ml", "0.117 mcg/mL"),
        ("total_ml", "278.6 mL"),
        ("infuse_ml", "240 mL"),
        ("rate_ml_per_h", "10 mL/h"),
        ("duration_h", "24 h"),
        ("hang_from", "2026-12-01 08:00 CET"),
        ("hang_by", "2026-12-09 10:00 CET"),
        ("expiry", "2026-12-09 10:00 CET (192 h at 2-8 °C)"),
    ],
)
def test_render_bag_label_shows_every_field_with_its_unit(key: str, shown: str) -> None:
    assert _text(_field(_label(LABEL), key)) == shown


def test_render_bag_label_carries_the_code_in_the_qr_and_as_text() -> None:
    label = _label(LABEL)

    assert label["data-bag-code"] == "B7K29QXM"
    assert label["data-do-not-hang"] == "no"
    assert not label.select('[data-label-field="do_not_hang"]')
    qr = label.select_one("[data-label-qr]")
    assert qr is not None
    assert qr["role"] == "img"
    assert qr["aria-label"] == "QR code of bag B7K29QXM"
    assert qr["data-label-qr"] == "B7K29QXM"
    assert len(qr.select("svg")) == 1


def test_render_bag_label_escapes_hostile_text() -> None:
    hostile = replace(
        LABEL,
        patient_name="<script>alert(1)</script>",
        patient_identifier='"><img src=x onerror=alert(2)>',
        do_not_hang="<b>plan changed</b>",
    )

    html = render_bag_label(hostile)
    label = _label(hostile)

    assert "<script>" not in html
    assert "<img" not in html
    assert not label.select("script, img, b")
    assert _text(_field(label, "patient_name")) == "<script>alert(1)</script>"
    assert _text(_field(label, "patient_identifier")) == '"><img src=x onerror=alert(2)>'
    assert "<b>plan changed</b>" in _text(_field(label, "do_not_hang"))


def test_render_bag_label_shows_a_missing_beyond_use_time_as_missing() -> None:
    label = _label(replace(LABEL, hang_by=None, expiry=None))

    for key in ("hang_by", "expiry"):
        shown = _field(label, key)
        assert shown["data-missing"] == "yes"
        assert "data-value" not in shown.attrs
        assert _text(shown).startswith("missing")
        assert not re.search(r"\d{4}-\d{2}-\d{2}", _text(shown)), "no time made up"
    assert "do not hang" in _text(_field(label, "hang_by"))


def test_render_bag_label_of_a_bag_not_to_hang_says_do_not_hang_first() -> None:
    reason = "the course was interrupted on 2026-12-02 at 16:51"
    label = _label(replace(LABEL, do_not_hang=reason))

    assert label["data-do-not-hang"] == "yes"
    stop = _field(label, "do_not_hang")
    assert stop["role"] == "alert"
    assert _text(stop) == f"DO NOT HANG : {reason}"
    first = label.find(
        lambda tag: tag.has_attr("data-label-field") or tag.has_attr("data-label-qr")
    )
    assert first is stop, "the stop comes before the code and the figures"


def test_qr_svg_is_printed_at_a_readable_size_with_its_quiet_zone() -> None:
    svg = ET.fromstring(qr_svg("B7K29QXM"))
    qr = qr_code("B7K29QXM")
    modules = qr.symbol_size(border=QR_BORDER_MODULES)[0]

    assert Decimal("0.5") <= QR_MODULE_MM  # smaller modules read badly from paper
    assert QR_BORDER_MODULES == 4
    assert svg.tag == f"{SVG_NS}svg"
    assert svg.get("width") == svg.get("height") == f"{modules * QR_MODULE_MM}mm"
    assert svg.get("viewBox") == f"0 0 {modules} {modules}"
    assert svg.findtext(f"{SVG_NS}title") == "QR code of bag B7K29QXM"


def _dark_modules(svg: ET.Element) -> set[tuple[int, int]]:
    """The modules the SVG's stroked path draws: segno draws each run of dark modules as
    a horizontal line of width 1 through the middle of its row (``M x y.5 h n m dx dy``)."""
    (path,) = [p for p in svg.iter(f"{SVG_NS}path") if p.get("stroke")]
    dark: set[tuple[int, int]] = set()
    x = y = Decimal(0)
    for command, first, second in re.findall(
        r"([Mmh])(-?[\d.]+)(?: (-?[\d.]+))?", path.get("d", "")
    ):
        if command == "M":
            x, y = Decimal(first), Decimal(second)
        elif command == "m":
            x, y = x + Decimal(first), y + Decimal(second)
        else:
            run = Decimal(first)
            dark |= {(int(x + i), int(y)) for i in range(int(run))}
            x += run
    return dark


@given(bag_codes())
def test_qr_svg_is_well_formed_and_draws_segnos_matrix_for_any_code(code: str) -> None:
    qr = qr_code(code)
    svg = ET.fromstring(qr_svg(code))
    # the SVG as the label embeds it is well-formed XML too
    embedded = re.search(r"<svg\b.*?</svg>", render_bag_label(replace(LABEL, code=code)), re.S)
    assert embedded is not None
    ET.fromstring(embedded.group(0))

    assert qr.version == 1  # up to 16 letters and digits fit the smallest QR code
    assert not qr.is_micro
    assert qr.error in ("M", "Q", "H")
    assert qr.mode in ("numeric", "alphanumeric")  # compact modes, never bytes
    assert qr.symbol_size(border=QR_BORDER_MODULES) == (29, 29)
    wanted = {
        (x, y)
        for y, row in enumerate(qr.matrix_iter(scale=1, border=QR_BORDER_MODULES))
        for x, dark in enumerate(row)
        if dark
    }
    assert _dark_modules(svg) == wanted


def test_new_bag_codes_come_from_the_alphabet_tested_here() -> None:
    assert all(set(new_bag_code()) <= set(CODE_ALPHABET) for _ in range(200))
