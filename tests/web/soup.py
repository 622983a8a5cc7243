"""Reading pages as a DOM: elements and data-* attributes, never substrings."""

from typing import Any

from bs4 import BeautifulSoup, Tag
from lxml import html


def page(response: Any) -> BeautifulSoup:
    """A whole page, parsed by lxml: Clinic today in 6.5 ms against 10.4 ms with Python's
    own parser, where the quick tier spent about a sixth of its time. lxml adds ``<html>``
    around a fragment."""
    return BeautifulSoup(response.text, "lxml")


def fragment(response: Any) -> BeautifulSoup:
    """A partial (an htmx answer) as sent: Python's parser adds no ``<html>`` around it."""
    return BeautifulSoup(response.text, "html.parser")


def csrf_of(soup: BeautifulSoup) -> str:
    field = soup.find("input", attrs={"name": "csrf_token"})
    assert isinstance(field, Tag), "the page has no form with a CSRF token"
    value = field.get("value")
    assert isinstance(value, str)
    return value


def csrf_in(response: Any) -> str:
    """The form token of a page fetched only to post its form: the token read from lxml's
    tree, without BeautifulSoup building the whole page (about 13 ms a page, 30 ms the
    family's check-in form). The first such field, as ``csrf_of`` finds it."""
    found = html.fromstring(response.text).xpath('//input[@name="csrf_token"]/@value')
    assert found, "the page has no form with a CSRF token"
    return str(found[0])


def one(soup: BeautifulSoup | Tag, selector: str) -> Tag:
    found = soup.select(selector)
    assert len(found) == 1, f"{selector!r}: {len(found)} elements"
    return found[0]
