"""A page read in Spanish holds no English from the pages' catalog: no msgid whose Spanish
differs from it (a heading, a label, a status word, a unit, a task's frame) is left in
the text a reader reads, as each role sees the page.

Every page (the clinic's home with its open and acknowledged alerts, the patient's page,
the planner, the family's Today, check-in and the check-in's answer, the calendar, the
worksheet and its bag label, the About pages, the account pages, the clinic's users,
numbers, patients and audit pages, the login page and the error page) is rendered as each
role that may see it, with the ``blina_lang=es`` cookie, and its visible text (and the
aria-labels and titles a screen reader reads) is searched for each English msgid, whole
words only.

Left out, each for a reason:

- elements marked ``lang="en"``: text the page declares English. A sentence the domain
  writes and a knowledge text are written in Spanish through the clinical catalog
  (``blina.web.sentences``); one that cannot be is shown in English, marked so, and
  ``test_a_spanish_page_declares_no_english`` fails on it (a source's citation, which
  names its document in the document's language, and the site library's validation,
  which names its pharmacists, excepted);
- the language switch, which names "English" in English on purpose;
- the people's and the clinic's own data: usernames and the patients' names (the demo's
  are English descriptions, "Alex (adult, in hospital on cycle 1)"), the site library's
  name, sources' ids, the reasons a pharmacist typed to override a soft check
  (``[data-override]``), and the audit trail's stored keys, values and action codes
  (``<code>``, ``[data-code]``, ``.who``, ...);
- ``IGNORED``: msgids that are also ordinary Spanish, or a proper noun / code the
  Spanish keeps (below, each with why).
"""

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache
from urllib.parse import urlencode

import pytest
from babel.messages.pofile import read_po
from bs4 import BeautifulSoup

from blina.demo import DEMO_PATIENTS, DEMO_THERAPY_PATIENTS, DEMO_USERS
from blina.web.i18n import LANG_COOKIE, LOCALE_DIR
from tests.web.conftest import DemoClinic
from tests.web.soup import csrf_in, csrf_of, page
from tests.web.test_therapy_planner import FORMS

# msgids the Spanish text may contain for another reason
IGNORED = frozenset(
    {
        "blina",  # the product's name
        "No",  # Spanish "No" at the start of a sentence (the msgid is the word "no")
        "info",  # short for "información" in Spanish too
        "Total",  # Spanish "total" ("Volumen total")
        "C%(cycle)s D%(day)s",  # C1 D1: ciclo, día
        "focal",  # Spanish "focal" too ("Convulsión focal o generalizada"); the msgid is a
        # grading choice whose Spanish is the whole sentence
    }
)
# Elements whose text is the clinic's data or a code, not the pages' words.
DATA = ", ".join(
    [
        "[lang=en]",
        "nav.languages",
        ".who",
        "[data-username]",
        "code",
        "[data-code]",
        "script",
        "style",
        ".source",
        "[data-field=library_name]",
        "[data-field=validated_by]",
        "[data-field=patient_name]",
        "[data-label-field=patient_name]",
        "[data-signed-by]",
        "[data-override]",
    ]
)


@cache
def _english_msgids() -> tuple[tuple[str, str, re.Pattern[str]], ...]:
    """(msgid, piece, pattern) of each msgid whose Spanish differs; a msgid with
    placeholders is searched for by its longest literal piece (of two words or more)."""
    catalogs = {}
    for language in ("en", "es"):
        with (LOCALE_DIR / language / "LC_MESSAGES" / "messages.po").open("rb") as po:
            catalogs[language] = {str(m.id): str(m.string) for m in read_po(po) if m.id}
    found = []
    for msgid, spanish in catalogs["es"].items():
        english = catalogs["en"].get(msgid) or msgid
        if not spanish or spanish == english or msgid in IGNORED:
            continue
        for text in {msgid, english}:
            piece = _searchable(text)
            if piece:
                pattern = re.compile(rf"(?<![\w-]){re.escape(piece)}(?![\w-])")
                found.append((msgid, piece, pattern))
    return tuple(found)


def _searchable(text: str) -> str | None:
    """The part of ``text`` to search for: all of it without placeholders, else its
    longest piece between placeholders if that is two words or more."""
    pieces = [p.strip(" ,.:;()·") for p in re.split(r"%\(\w+\)s|%%", text)]
    if len(pieces) == 1:
        return pieces[0] if re.search(r"[A-Za-z]{2,}", pieces[0]) else None
    longest = max(pieces, key=len)
    return longest if len(longest.split()) >= 2 else None


# The clinic's data: the demo's usernames and patients' names.
NAMES = sorted(
    {*DEMO_USERS, *(patient.name for patient in (*DEMO_PATIENTS, *DEMO_THERAPY_PATIENTS))},
    key=len,
    reverse=True,
)


def _readable(soup: BeautifulSoup) -> str:
    """The text a reader reads: the visible text, the aria-labels, titles and alt texts,
    without the clinic's data."""
    body = soup.body
    assert body is not None
    for element in body.select(DATA):
        element.decompose()
    said = [" ".join(body.get_text(" ").split())]
    for attribute in ("aria-label", "title", "alt", "placeholder"):
        said.extend(str(e[attribute]) for e in body.select(f"[{attribute}]"))
    text = " | ".join(said)
    for name in NAMES:  # whole names: "admin" is a user, "administrado" a word
        text = re.sub(rf"(?<![\w.]){re.escape(name)}(?!\w|\.\w)", "", text)
    return text


def english_in(soup: BeautifulSoup) -> list[str]:
    text = _readable(soup)
    # The piece as a substring first: the same answer, without a regex search of every
    # page for each of the catalog's 1,400 pieces.
    return sorted(
        {
            msgid
            for msgid, piece, pattern in _english_msgids()
            if piece in text and pattern.search(text)
        }
    )


# --- the pages ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Prepared:
    bag_id: int
    answer: str  # the check-in's answer page, as the family read it after sending


Address = Callable[[DemoClinic, Prepared], str]


@dataclass(frozen=True)
class Page:
    name: str
    who: tuple[str | None, ...]
    path: Address
    status: int = 200


STAFF = ("admin", "dr.lee", "nurse.kim", "pharm.ana")
EVERYONE = (*STAFF, "alex", "alex.partner")


# Each therapy the planner plans, its plan shown.
PLANNED = {
    therapy: {"therapy": therapy, **fields, "show": "1"} for therapy, fields in FORMS.items()
}
# What a physician types is the clinic's own text: on a Spanish page, in Spanish.
PLANNED["tisagenlecleucel"]["bridging"] = "vincristina y dexametasona"


def _fixed(path: str) -> Address:
    return lambda _clinic, _prepared: path


def _patient(code: str, then: str) -> Address:
    return lambda clinic, _: f"/patients/{clinic.patients[code]}{then}"


PAGES = (
    Page("home", STAFF, _fixed("/")),
    Page("patient", STAFF, _patient("P-001", "")),
    Page("patient-with-bags", STAFF, _patient("P-002", "")),
    # the decision log and what the label asks before a restart (an interruption)
    Page("patient-interrupted", STAFF, _patient("P-004", "")),
    Page("patient-audit", ("admin", "dr.lee"), _patient("P-001", "/audit")),
    Page("planner", ("dr.lee", "nurse.kim", "pharm.ana"), _fixed("/plan")),
    *(
        Page(f"planner-{therapy}", ("dr.lee",), _fixed(f"/plan?{urlencode(fields)}"))
        for therapy, fields in sorted(PLANNED.items())
    ),
    Page("today", ("alex", "alex.partner"), _fixed("/today")),
    Page("today-car-t", ("robin", "robin.partner"), _fixed("/today")),
    Page("calendar-car-t", ("robin",), _patient("P-005", "/calendar")),
    Page("patient-car-t", ("dr.lee", "nurse.kim"), _patient("P-005", "")),
    Page("check-in", ("alex", "alex.partner"), _patient("P-001", "/check-in")),
    Page("login", (None,), _fixed("/login")),
    Page("error", ("nurse.kim",), _fixed("/no-such-page"), 404),
    Page("about", EVERYONE, _fixed("/about")),
    Page("about-page", ("alex", "nurse.kim"), _fixed("/about/what-it-is")),
    Page("account", EVERYONE, _fixed("/account")),
    Page("audit", ("admin", "dr.lee"), _fixed("/audit")),
    Page("clinic-numbers", STAFF, _fixed("/clinic/numbers")),
    Page("clinic-patients", ("admin", "dr.lee", "nurse.kim"), _fixed("/clinic/patients")),
    Page("patient-new", ("dr.lee", "nurse.kim"), _fixed("/clinic/patients/new")),
    Page("patient-family", ("dr.lee", "nurse.kim"), _patient("P-001", "/family")),
    Page("clinic-users", ("admin",), _fixed("/clinic/users")),
    Page("user-new", ("admin",), _fixed("/clinic/users/new")),
    Page("password-reset", (None,), _fixed("/reset/not-a-token"), 404),
    Page("invitation", (None,), _fixed("/invite/not-a-token"), 404),
    Page("calendar", ("alex", "alex.partner"), _patient("P-001", "/calendar")),
    Page("course-new", ("dr.lee",), _patient("P-002", "/courses/new")),
    Page(
        "worksheet",
        ("pharm.ana", "pharm.ben", "nurse.kim", "dr.lee"),
        lambda _, prepared: f"/bags/{prepared.bag_id}/worksheet",
    ),
)


def _cases() -> Iterator[tuple[Page, str | None]]:
    for shown in PAGES:
        for who in shown.who:
            yield shown, who


CASES = list(_cases())

# English on purpose: a source's citation names its document in the document's language;
# the site library's validation, stored as English with the names of the pharmacists who
# validated it (the clinic's own data), cannot be read back word for word.
CITATIONS = "[data-source] [lang=en], [data-check=library-validated] [lang=en]"


@pytest.fixture(scope="module")
def prepared(clinic: DemoClinic) -> Prepared:
    """A bag pharm.ana prepared for P-002 through the pages (its soft checks overridden)."""
    ana = clinic.browser("pharm.ana")
    course = clinic.courses["P-002"]
    soup = page(ana.get(f"/patients/{clinic.patients['P-002']}"))
    first = ana.post(f"/courses/{course}/bags", data={"csrf_token": csrf_of(soup)})
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
    _gradings_and_labs(clinic)
    return Prepared(bag_id=int(str(bags[-1]["data-bag"])), answer=_alerts(clinic))


def _gradings_and_labs(clinic: DemoClinic) -> None:
    """A CRS and an ICANS grading and two lab values recorded for P-001 through its page:
    the grading log's findings and the labs' rules are read back from what was stored."""
    lee = clinic.browser("dr.lee")
    patient = f"/patients/{clinic.patients['P-001']}"
    course = clinic.courses["P-001"]
    token = csrf_in(lee.get(patient))
    sampled = {"taken_at": "2026-12-10T08:00"}
    forms = [
        (
            "assessments",
            {
                "scale": "crs",
                "temperature_c": "39.2",
                "hypotension": "one-vasopressor",
                "oxygen": "low-flow",
                "oxygen_flow_l_per_min": "3.5",
            },
        ),
        (
            "assessments",
            {
                "scale": "icans",
                "age_years": "41",
                "consciousness": "awakens-to-voice",
                "ice_score": "5",
                "seizure": "none",
                "cerebral_edema": "none",
            },
        ),
        ("labs", {"term": "alt", "unit": "U/L", "value": "250", "uln": "40", **sampled}),
        ("labs", {"term": "neutrophils", "value": "700", "lln": "1500", **sampled}),
    ]
    for where, form in forms:
        done = lee.post(
            f"/courses/{course}/{where}",
            data={"csrf_token": token, **form},
            follow_redirects=False,
        )
        assert done.status_code == 303, done.text[:500]


def _check_in(clinic: DemoClinic, who: str, data: dict[str, str | list[str]]) -> str:
    browser = clinic.browser(who)
    browser.cookies.set(LANG_COOKIE, "es")
    path = f"/patients/{clinic.patients['P-001']}/check-in"
    token = csrf_in(browser.get(path))
    answer = browser.post(path, data={"csrf_token": token, **data})
    assert answer.status_code == 200, answer.text[:500]
    return answer.text


def _alerts(clinic: DemoClinic) -> str:
    """An alert acknowledged (the home page's list of handled alerts) and one still open
    from check-ins in C and F with symptoms (its card); the last check-in's answer."""
    fever = {"temperature": "38,6", "temperature_unit": "C", "symptom": ["headache"]}
    _check_in(clinic, "alex", {"idempotency_key": "es-1", **fever, "severity-headache": "2"})
    kim = clinic.browser("nurse.kim")
    home = page(kim.get("/"))
    alert = home.select_one("li[data-alert]")
    assert alert is not None
    done = kim.post(
        f"/alerts/{alert['data-alert']}/acknowledge",
        data={
            "csrf_token": csrf_of(home),
            "outcome": "advice-given",
            "what_was_done": "called the family",
        },
        follow_redirects=False,
    )
    assert done.status_code == 303, done.text[:500]
    fever_f = {"temperature": "101.3", "temperature_unit": "F", "symptom": ["nausea"]}
    return _check_in(
        clinic, "alex.partner", {"idempotency_key": "es-2", **fever_f, "severity-nausea": ""}
    )


def _spanish(clinic: DemoClinic, prepared: Prepared, shown: Page, who: str | None) -> BeautifulSoup:
    browser = clinic.browser(who)
    browser.cookies.set(LANG_COOKIE, "es")
    response = browser.get(shown.path(clinic, prepared))
    assert response.status_code == shown.status, response.text[:500]
    soup = page(response)
    assert soup.html is not None
    assert soup.html["lang"] == "es"
    return soup


@pytest.mark.parametrize(
    ("shown", "who"), CASES, ids=[f"{shown.name}-{who or 'anonymous'}" for shown, who in CASES]
)
def test_a_spanish_page_has_no_catalog_english(
    clinic: DemoClinic, prepared: Prepared, shown: Page, who: str | None
) -> None:
    soup = _spanish(clinic, prepared, shown, who)
    assert english_in(soup) == []


@pytest.mark.parametrize(
    ("shown", "who"), CASES, ids=[f"{shown.name}-{who or 'anonymous'}" for shown, who in CASES]
)
def test_a_spanish_page_declares_no_english(
    clinic: DemoClinic, prepared: Prepared, shown: Page, who: str | None
) -> None:
    """No domain sentence or knowledge text is left in English (marked ``lang="en"``):
    a new sentence the domain writes without a Spanish entry fails here."""
    soup = _spanish(clinic, prepared, shown, who)
    cited = soup.select(CITATIONS)
    english = [
        " ".join(e.get_text().split())
        for e in soup.select("[lang=en]")
        if not e.find_parent("nav", class_="languages") and e not in cited
    ]
    assert english == []


def test_the_patient_page_reads_its_gradings_labs_and_decisions_in_spanish(
    clinic: DemoClinic, prepared: Prepared
) -> None:
    """The pages checked above hold what they are checked for: the grading log's
    findings, the labs' rules, the decision log and what the label asks before a
    restart, with figures in the reader's format."""
    patient = _spanish(clinic, prepared, PAGES[1], "dr.lee")
    findings = [" ".join(li.get_text().split()) for li in patient.select("[data-decisive]")]
    assert "hipotensión: hipotensión que necesita un vasopresor (se puede añadir vasopresina)" in (
        findings
    )
    assert "puntuación ICE: ICE 5 de 10: ICE 3-6" in findings
    rules = [" ".join(td.get_text().split()) for td in patient.select("td[data-rule]")]
    assert any(r.startswith("250 U/L > 5,0 x LSN (200,0 U/L): grado 3:") for r in rules), rules
    interrupted = next(p for p in PAGES if p.name == "patient-interrupted")
    soup = _spanish(clinic, prepared, interrupted, "dr.lee")
    needs = [" ".join(li.get_text().split()) for li in soup.select(".restart-needs li")]
    assert "Reanudar cuando el SLC se haya resuelto." in needs
    decisions = " ".join(soup.select_one("section.decisions").get_text().split())
    assert "Dar dexametasona 8 mg por dosis" in decisions


def test_the_check_in_answer_in_spanish(prepared: Prepared) -> None:
    """The answer to a check-in (a POST's page): what was sent, in the reader's words."""
    soup = BeautifulSoup(prepared.answer, "lxml")
    assert soup.html is not None
    assert soup.html["lang"] == "es"
    assert soup.select("[data-sent]"), "the answer repeats the check-in"
    assert english_in(soup) == []


def test_the_home_page_read_holds_an_open_and_an_acknowledged_alert(
    clinic: DemoClinic, prepared: Prepared
) -> None:
    """The home page the test above reads has both alert lists, the temperatures in the
    reader's numbers: the cards and the handled list are checked, not an empty page."""
    soup = _spanish(clinic, prepared, PAGES[0], "nurse.kim")
    assert soup.select("section.alerts li[data-alert]")
    assert soup.select("section.handled li[data-handled]")
    temperatures = [" ".join(t.get_text().split()) for t in soup.select("[data-temperature]")]
    assert any(t.startswith("Temperatura 101,3 °F = 38,50 °C") for t in temperatures), temperatures


def test_the_check_finds_english_left_in_a_spanish_page() -> None:
    """The test above can fail: English headings, units and status words are found."""
    soup = BeautifulSoup(
        "<html lang=es><body><h2>Patients</h2><p>9 mcg/day</p><p>Estado: hung</p>"
        "<p lang=en>Patients</p><span aria-label='Bag code'></span></body></html>",
        "lxml",
    )
    assert {"Patients", "mcg/day", "hung", "Bag code"} <= set(english_in(soup))
    spanish = BeautifulSoup(
        "<html lang=es><body><h2>Pacientes</h2><p>9 mcg/día · colocada</p>"
        "<p lang=en>Patients</p></body></html>",
        "lxml",
    )
    assert english_in(spanish) == []


def test_the_grade_preview_in_spanish(clinic: DemoClinic) -> None:
    """The htmx fragment a grading form shows: the label's action and the restart dose in
    the reader's words and units."""
    browser = clinic.browser("nurse.kim")
    browser.cookies.set(LANG_COOKIE, "es")
    crs_grade_3 = {"scale": "crs", "temperature_c": "39.0", "hypotension": "one-vasopressor"}
    fragment = browser.get(f"/courses/{clinic.courses['P-001']}/grade", params=crs_grade_3)
    assert fragment.status_code == 200
    soup = BeautifulSoup(f"<html><body>{fragment.text}</body></html>", "lxml")
    action = soup.select_one("[data-action]")
    assert action is not None
    assert action["data-action"] == "interrupt"
    assert "interrumpir" in action.get_text().lower()
    assert english_in(soup) == []
    assert soup.select("[lang=en]") == []
    reasons = [" ".join(p.get_text().split()) for p in soup.select("[data-reason]")]
    assert reasons
    assert reasons[0].startswith("Síndrome de liberación de citocinas grado 3: Interrumpir.")


def test_the_lab_grade_preview_in_spanish(clinic: DemoClinic) -> None:
    """The htmx fragment of the lab form: the CTCAE term, the figures and the scale's
    cell in the reader's words and number format."""
    browser = clinic.browser("nurse.kim")
    browser.cookies.set(LANG_COOKIE, "es")
    potassium = {"term": "hyperkalemia", "value": "6.5", "uln": "5.1"}
    fragment = browser.get(f"/courses/{clinic.courses['P-001']}/labs/grade", params=potassium)
    assert fragment.status_code == 200
    soup = BeautifulSoup(f"<html><body>{fragment.text}</body></html>", "lxml")
    assert soup.select("[lang=en]") == []
    decisive = " ".join(soup.select_one("[data-decisive]").get_text().split())
    assert decisive == (
        "Hiperpotasemia: 6,5 mmol/L > 6,0 mmol/L: grado 3: >6.0-7.0 mmol/L; "
        "hospitalización indicada"
    )
