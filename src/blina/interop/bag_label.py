"""A stored bag's label: the code as a QR code and as text, and what the nurse checks at
the pump (HTML fragment; printed with the worksheet, cut out and stuck on the bag).

The QR code holds the bag's code and nothing else: hanging a bag looks the code up and
checks the bag against the course and the pump program (``blina.services.pharmacy``), so
what is scanned can never disagree with the store. It is drawn at 1 mm per
module with the 4-module quiet zone that ISO/IEC 18004 asks for (29 mm for an 8-character
code, version 1), twice the 0.5 mm below which phone cameras read paper codes badly. The
code is printed beside it in large monospaced characters for typing when no camera works.

Values arrive already read (``BagLabel``; its times already written): this module only
renders them, its words and figures in the reader's language (``Words``).
A missing beyond-use time is shown as missing, never filled in; a bag the plan no longer
has says DO NOT HANG, with the reason, above everything else. Jinja2 autoescapes every
value; the SVG is segno's own output for a code of letters and digits.
"""

import io
from dataclasses import dataclass
from decimal import Decimal

import segno
from jinja2 import Environment, PackageLoader, StrictUndefined

from blina.interop.worksheet import ENGLISH, Words, install_filters

__all__ = ["QR_BORDER_MODULES", "QR_MODULE_MM", "BagLabel", "qr_code", "qr_svg", "render_bag_label"]

QR_MODULE_MM = 1  # printed size of one module (>= 0.5 mm to be read from paper)
QR_BORDER_MODULES = 4  # the quiet zone ISO/IEC 18004 asks for around a QR code

_ENV = Environment(
    loader=PackageLoader("blina.interop", "templates"),
    autoescape=True,
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
install_filters(_ENV)


@dataclass(frozen=True, slots=True)
class BagLabel:
    """What a bag's label shows; times already formatted in the clinic's zone.

    ``hang_by`` and ``expiry`` are None when the recipe gives no beyond-use time (the
    label says so; a hang is then refused); ``do_not_hang`` is the reason the course's
    current plan no longer has this bag.
    """

    code: str
    patient_name: str
    patient_identifier: str
    dose_mcg_per_day: Decimal
    concentration_mcg_per_ml: Decimal
    total_ml: Decimal
    infuse_ml: Decimal
    rate_ml_per_h: Decimal
    duration_h: Decimal
    hang_from: str
    hang_by: str | None
    expiry: str | None
    do_not_hang: str | None = None


def qr_code(code: str) -> segno.QRCode:
    """The QR code of ``code``: error correction level M at least (segno raises it when
    the same size allows), never a Micro QR code (phone readers often skip those)."""
    return segno.make_qr(code, error="m")


def qr_svg(code: str, title: str | None = None) -> str:
    """``code``'s QR code as an SVG element (with its namespace, no XML declaration), sized
    in millimetres for print: ``QR_MODULE_MM`` per module, ``QR_BORDER_MODULES`` of quiet
    zone, black on white."""
    out = io.BytesIO()
    qr_code(code).save(
        out,
        kind="svg",
        xmldecl=False,
        svgns=True,  # the element stands alone too (drawn into a canvas, saved as a file)
        nl=False,
        scale=QR_MODULE_MM,
        border=QR_BORDER_MODULES,
        unit="mm",
        dark="#000",
        light="#fff",
        svgclass="bag-label-qr-code",
        title=f"QR code of bag {code}" if title is None else title,
    )
    return out.getvalue().decode("utf-8")


def render_bag_label(label: BagLabel, words: Words = ENGLISH) -> str:
    """The label as an HTML fragment (no ``<html>``, no styles) for a page that has them,
    in ``words``' language (English, figures as given, by default)."""
    return _ENV.get_template("_bag_label.html").render(
        label=label,
        qr=qr_svg(label.code, words.gettext("QR code of bag %(code)s") % {"code": label.code}),
        words=words,
        _=words.gettext,
    )
