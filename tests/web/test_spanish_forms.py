"""Every form in Spanish (the ``blina_lang=es`` cookie): no label, legend, button or
heading left in English, checked against the English rendering of the same form; and a
form sent with a mistake comes back (with its message beside the field) in the Spanish
page, its labels still Spanish.

The words a form shows that come from the knowledge files rather than the pages
(regimen names, CTCAE lab terms) are not page words and are left out of the comparison.
Read as a DOM: forms are found by their selectors and data-* attributes.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

import pytest
from babel.messages.pofile import read_po
from bs4 import BeautifulSoup, Tag
from fastapi.testclient import TestClient

from blina.web.i18n import LANG_COOKIE, LOCALE_DIR
from tests.web.conftest import DemoClinic
from tests.web.soup import csrf_of, one, page

# Selects whose options are the knowledge files' own names, not the pages' words.
KNOWLEDGE_OPTIONS = ["indication", "lab-term"]
# Words the same in both languages: units and symbols.
SAME_IN_BOTH = frozenset({"mL", "kg", "cm", "mcg", "mg", "min", "ICE", "CAPD", "CRS", "ICANS"})


@dataclass(frozen=True)
class Prepared:
    """P-002's course with a bag pharm.ana prepared (pharm.ben may verify it), and an
    open alert from a call-now check-in for P-001."""

    bag_id: int


Address = Callable[[DemoClinic, Prepared], str]


def _patient(code: str, then: str = "") -> Address:
    return lambda clinic, _: f"/patients/{clinic.patients[code]}{then}"


def _course(code: str, then: str) -> Address:
    return lambda clinic, _: f"/courses/{clinic.courses[code]}{then}"


@dataclass(frozen=True)
class Form:
    name: str
    who: str
    path: Address
    selector: str


FORMS = (
    Form("course", "dr.lee", _patient("P-002", "/courses/new"), "form.course"),
    Form("crs", "nurse.kim", _patient("P-002"), 'form[data-form="crs"]'),
    Form("icans", "dr.lee", _patient("P-002"), 'form[data-form="icans"]'),
    Form("lab", "nurse.kim", _patient("P-002"), 'form[data-form="lab"]'),
    Form("interruption", "dr.lee", _patient("P-002"), "section#events"),
    Form("prepare-bag", "pharm.ana", _patient("P-002"), "form.prepare"),
    Form("verify", "pharm.ben", _patient("P-002"), 'tr[data-bag] form[action$="/verify"]'),
    Form("acknowledge", "nurse.kim", lambda clinic, _: "/", "form.acknowledge"),
    Form("check-in", "alex.partner", _patient("P-001", "/check-in"), "form.check-in"),
    Form("calendar-feed", "alex.partner", _patient("P-001", "/calendar"), "section#feeds"),
)


def _browser(clinic: DemoClinic, who: str, language: str) -> TestClient:
    browser = clinic.browser(who)
    browser.cookies.set(LANG_COOKIE, language)
    return browser


@cache
def _catalog(language: str) -> dict[str, str]:
    with (LOCALE_DIR / language / "LC_MESSAGES" / "messages.po").open("rb") as po:
        return {str(m.id): str(m.string) for m in read_po(po) if m.id and m.string}


@cache
def same_on_purpose() -> frozenset[str]:
    """Words the Spanish catalog gives exactly as the English one ("no", "Pancreatitis")."""
    english, spanish = _catalog("en"), _catalog("es")
    return frozenset(text for key, text in spanish.items() if english.get(key) == text)


def _words(text: str) -> list[str]:
    return [w for w in re.findall(r"[^\W\d_]{2,}", text) if w not in SAME_IN_BOTH]


def _say(element: Tag) -> str:
    return " ".join(element.get_text(" ").split())


def labels_of(form: Tag) -> list[tuple[str, str]]:
    """(where, text) of what a reader reads to fill the form: headings, legends, labels,
    buttons, the options the pages word, and aria-labels."""
    read = ("h2", "h3", "legend", "label", "button", "option")
    found: list[tuple[str, str]] = []
    for element in form.select(", ".join([*read, "[aria-label]"])):
        if element.find_parent("select", id=KNOWLEDGE_OPTIONS):
            continue
        where = f"{element.name}#{element.get('id') or element.get('for') or element.get('name')}"
        if element.has_attr("aria-label"):
            found.append((where + "[aria-label]", str(element["aria-label"])))
        if element.name in read and _say(element):
            found.append((where, _say(element)))
    return found


def untranslated(english: Tag, spanish: Tag) -> list[tuple[str, str]]:
    """What the Spanish form reads exactly as the English one does, words and all."""
    read_en, read_es = labels_of(english), labels_of(spanish)
    assert read_en, "the form has nothing to read"
    assert [where for where, _ in read_es] == [where for where, _ in read_en]
    return [
        (where, en)
        for (where, en), (_, es) in zip(read_en, read_es, strict=True)
        if es == en and _words(en) and en not in same_on_purpose()
    ]


def _main_menu(soup: BeautifulSoup) -> str:
    return _say(one(soup, "header.top nav:not(.languages)"))


def _form(soup: BeautifulSoup, selector: str) -> Tag:
    found = soup.select(selector)
    assert found, f"no {selector!r} on the page"
    return found[0]


@pytest.fixture(scope="module")
def prepared(clinic: DemoClinic) -> Prepared:
    """Made through the pages: a bag prepared by pharm.ana for P-002 (its soft checks
    overridden, each with a reason) and a call-now check-in for P-001 (an alert)."""
    ana = clinic.browser("pharm.ana")
    course = clinic.courses["P-002"]
    soup = page(ana.get(f"/patients/{clinic.patients['P-002']}"))
    first = ana.post(f"/courses/{course}/bags", data={"csrf_token": csrf_of(soup)})
    assert first.status_code == 422
    reasons = {
        str(field["name"]): "checked against the current label"
        for field in page(first).select("form.prepare input[name^=override-]")
    }
    done = ana.post(
        f"/courses/{course}/bags",
        data={"csrf_token": csrf_of(soup), **reasons},
        follow_redirects=False,
    )
    assert done.status_code == 303, done.text
    bags = page(ana.get(f"/patients/{clinic.patients['P-002']}")).select("tr[data-bag]")
    assert bags

    family = clinic.browser("alex")
    patient = clinic.patients["P-001"]
    form = page(family.get(f"/patients/{patient}/check-in"))
    answer = family.post(
        f"/patients/{patient}/check-in",
        data={
            "csrf_token": csrf_of(form),
            "idempotency_key": "spanish-forms-1",
            "temperature": "39.0",
            "temperature_unit": "C",
            "symptom": ["confusion"],
        },
    )
    assert one(page(answer), "section.triage")["data-alert"] == "yes"
    return Prepared(bag_id=int(str(bags[-1]["data-bag"])))


def _rendered(clinic: DemoClinic, prepared: Prepared, form: Form, language: str) -> BeautifulSoup:
    response = _browser(clinic, form.who, language).get(form.path(clinic, prepared))
    assert response.status_code == 200
    soup = page(response)
    assert one(soup, "html")["lang"] == language
    return soup


@pytest.mark.parametrize("form", FORMS, ids=[f.name for f in FORMS])
def test_form_labels_are_spanish(clinic: DemoClinic, prepared: Prepared, form: Form) -> None:
    english = _form(_rendered(clinic, prepared, form, "en"), form.selector)
    spanish = _form(_rendered(clinic, prepared, form, "es"), form.selector)

    assert untranslated(english, spanish) == []


# --- a mistake comes back inside the Spanish page ----------------------------------------


@dataclass(frozen=True)
class Mistake:
    form: Form
    action: Address | None  # None: the action of the form shown
    data: dict[str, str]
    status: int
    field: Callable[[Prepared, str], str]  # the message's data-error-for (action known)


def _form_named(name: str) -> Form:
    return next(f for f in FORMS if f.name == name)


def _named(name: str) -> Callable[[Prepared, str], str]:
    return lambda prepared, action: name


MISTAKES = (
    Mistake(
        _form_named("course"),
        _patient("P-002", "/courses"),
        {
            "indication": "mrd-positive",
            "start": "2027-03-01",
            "start_time": "09:00",
            "weight_kg": "0",
            "height_cm": "165",
            "age_years": "33",
            "bag_hours": "24",
        },
        422,
        _named("weight_kg"),
    ),
    Mistake(
        _form_named("crs"),
        _course("P-002", "/assessments"),
        {"scale": "crs", "temperature_c": "hot"},
        422,
        _named("temperature_c"),
    ),
    Mistake(
        _form_named("icans"),
        _course("P-002", "/assessments"),
        {"scale": "icans", "age_years": "41", "consciousness": "awake", "ice_score": "ten"},
        422,
        _named("ice_score"),
    ),
    Mistake(
        _form_named("lab"),
        _course("P-002", "/labs"),
        {"term": "alt", "value": "300"},
        422,
        _named("uln"),
    ),
    Mistake(
        _form_named("interruption"),
        _course("P-002", "/events"),
        {"kind": "interrupt", "at": "yesterday", "cause": "crs", "grade": "3"},
        422,
        _named("at"),
    ),
    Mistake(_form_named("prepare-bag"), _course("P-002", "/bags"), {}, 422, _named("prepare")),
    Mistake(  # verifying one's own bag
        Form("verify-own-bag", "pharm.ana", _patient("P-002"), "section#bags"),
        lambda clinic, prepared: f"/bags/{prepared.bag_id}/verify",
        {},
        403,
        lambda prepared, action: f"verify-{prepared.bag_id}",
    ),
    Mistake(
        _form_named("acknowledge"),
        None,
        {"outcome": "nothing-at-all"},
        422,
        lambda prepared, action: f"acknowledge-{action.split('/')[2]}",
    ),
    Mistake(
        _form_named("check-in"),
        _patient("P-001", "/check-in"),
        {"temperature": "hot", "temperature_unit": "C"},
        422,
        _named("temperature"),
    ),
    Mistake(
        _form_named("calendar-feed"),
        _patient("P-001", "/calendar-feeds"),
        {"label": "x" * 500},
        422,
        _named("label"),
    ),
)


def _sent(clinic: DemoClinic, prepared: Prepared, mistake: Mistake, language: str) -> BeautifulSoup:
    """The page that answers the mistake, sent from the form's page in ``language``."""
    form = mistake.form
    browser = _browser(clinic, form.who, language)
    before = page(browser.get(form.path(clinic, prepared)))
    shown = _form(before, form.selector)
    action = str(shown["action"]) if mistake.action is None else mistake.action(clinic, prepared)
    hidden = {str(i["name"]): str(i["value"]) for i in shown.select("input[type=hidden]")}
    data = {"csrf_token": csrf_of(before), **hidden, **mistake.data}
    response = browser.post(action, data=data)
    assert response.status_code == mistake.status, response.text
    soup = page(response)
    assert one(soup, "html")["lang"] == language
    field = mistake.field(prepared, action)
    assert soup.select(f'[data-error-for="{field}"]'), [
        (e["data-error-for"], e.get_text()) for e in soup.select("[data-error-for]")
    ]
    return soup


@pytest.mark.parametrize("mistake", MISTAKES, ids=[m.form.name for m in MISTAKES])
def test_a_mistake_comes_back_in_the_spanish_page(
    clinic: DemoClinic, prepared: Prepared, mistake: Mistake
) -> None:
    english = _sent(clinic, prepared, mistake, "en")
    spanish = _sent(clinic, prepared, mistake, "es")

    assert _main_menu(spanish) != _main_menu(english)
    assert _say(one(spanish, "footer")) != _say(one(english, "footer"))
    selector = mistake.form.selector
    assert untranslated(_form(english, selector), _form(spanish, selector)) == []
