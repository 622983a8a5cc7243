""" "About your treatment": every page in every language and for both readers, complete
translations, numbers that come from the cited sources, and a loader that names the file
and the key of any mistake.

The seed documents and reference files the pages cite are committed under ``seeds/`` and
``reference/`` beside this file, so a clean clone checks the numbers too; when the shared
tree sits beside the repository, each snapshot must equal its original.
"""

import itertools
import re
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from bs4 import BeautifulSoup, Tag
from sqlalchemy import select

from blina.domain.errors import KnowledgeError
from blina.knowledge import Knowledge
from blina.store.session import read_only
from blina.store.tables import Patient
from blina.web.education import AUDIENCE_COOKIE, choose_audience
from blina.web.education_content import (
    CONTENT_FILE,
    AboutContent,
    Audience,
    Block,
    Citation,
    Section,
    about_content,
    load_about,
    read_about,
)
from blina.web.i18n import DEFAULT_LANGUAGE, LANGUAGES, LOCALE_DIR, gettext_for
from tests.shared import REFERENCE, SEEDS
from tests.web.conftest import DemoClinic
from tests.web.soup import one, page

CONTENT = about_content()
ENGLISH = CONTENT[DEFAULT_LANGUAGE]
TRANSLATIONS = [language for language in LANGUAGES if language != DEFAULT_LANGUAGE]
AUDIENCES = [audience.value for audience in Audience]
SLUGS = [p.slug for p in ENGLISH.pages]


def _sections(
    content: AboutContent,
) -> Iterator[tuple[str, Section]]:
    for p in content.pages:
        for section in p.sections:
            yield f"{content.language}-{p.slug}-{section.id}", section


ALL_SECTIONS = [entry for language in LANGUAGES for entry in _sections(CONTENT[language])]


# --- numbers --------------------------------------------------------------------------------

_NUMBER = re.compile(r"(?<![\w.,])\d+(?:[.,]\d+)?(?!\w)")
# Counting words as the seeds write them ("the first nine days"); "one" and "un/una" are
# left out: they are also articles and pronouns.
_NUMBER_WORDS = {
    "en": "two three four five six seven eight nine ten eleven twelve",
    "es": "dos tres cuatro cinco seis siete ocho nueve diez once doce",
}


def numbers_in(text: str, language: str) -> set[Decimal]:
    """Every number in ``text``: digits (a decimal comma read as a point) and number words."""
    found = {Decimal(match.replace(",", ".")) for match in _NUMBER.findall(text)}
    for value, word in enumerate(_NUMBER_WORDS[language].split(), start=2):
        if re.search(rf"\b{word}\b", text, re.IGNORECASE):
            found.add(Decimal(value))
    return found


def reference_section(text: str, number: str) -> str:
    """The text of ``§number`` in a reference file: its heading down to the next heading
    of the same or a higher level."""
    heading = re.search(rf"^(#+) {re.escape(number)}\.? ", text, re.MULTILINE)
    assert heading is not None, f"no section §{number}"
    level = len(heading.group(1))
    end = re.compile(rf"^#{{1,{level}}} ", re.MULTILINE).search(text, heading.end())
    return text[heading.start() : end.start() if end else len(text)]


def cited_text(citation: Citation) -> str:
    if citation.seed_file is not None:
        return (SEEDS / citation.seed_file).read_text(encoding="utf-8")
    assert citation.reference_file is not None
    assert citation.section is not None
    whole = (REFERENCE / citation.reference_file).read_text(encoding="utf-8")
    return reference_section(whole, citation.section)


def _texts(section: Section) -> Iterator[tuple[Audience, str]]:
    for audience in Audience:
        yield audience, section.text_for(audience)


@pytest.mark.parametrize(("key", "section"), ALL_SECTIONS, ids=[k for k, _ in ALL_SECTIONS])
def test_every_number_in_a_section_is_in_a_source_it_cites(key: str, section: Section) -> None:
    in_sources = set().union(*(numbers_in(cited_text(c), "en") for c in section.sources))
    language = key.split("-")[0]
    for audience, text in _texts(section):
        invented = numbers_in(text, language) - in_sources
        assert not invented, f"{key} ({audience}): {sorted(invented)} not in {section.sources}"


@pytest.mark.parametrize("language", TRANSLATIONS)
def test_translations_keep_every_number_of_the_english(language: str) -> None:
    english = dict(_sections(ENGLISH))
    for key, section in _sections(CONTENT[language]):
        original = english[key.replace(language, DEFAULT_LANGUAGE, 1)]
        for audience in Audience:
            assert numbers_in(section.text_for(audience), language) == numbers_in(
                original.text_for(audience), DEFAULT_LANGUAGE
            ), f"{key} ({audience})"


def test_number_reading_handles_decimal_commas_words_and_markers() -> None:
    assert numbers_in("Fiebre: 70,8 %; 24/7; CD19", "es") == {Decimal("70.8"), 24, 7}
    assert numbers_in("the first nine days, up to 2 cycles", "en") == {9, 2}


@pytest.mark.parametrize("language", list(LANGUAGES))
def test_when_to_call_temperatures_are_the_triage_thresholds(
    language: str, knowledge: Knowledge
) -> None:
    when = CONTENT[language].page("when-to-call")
    assert when is not None
    section = next(s for s in when.sections if s.id == "temperature")
    celsius = {
        Decimal(value.replace(",", "."))
        for value in re.findall(r"(\d+(?:[.,]\d+)?) °C", section.text)
    }
    assert celsius == {rule.threshold_c for rule in knowledge.triage.temperature_rules}


# --- snapshots of the sources ---------------------------------------------------------------


def _cited() -> set[Citation]:
    return {c for _, section in ALL_SECTIONS for c in section.sources}


def test_every_cited_document_has_a_snapshot_and_every_snapshot_is_cited() -> None:
    seeds = {c.seed_file for c in _cited() if c.seed_file}
    references = {c.reference_file for c in _cited() if c.reference_file}
    assert seeds == {p.name for p in SEEDS.glob("*.txt")}
    assert references == {p.name for p in REFERENCE.glob("*.md")}


@pytest.mark.parametrize("citation", sorted({c.id for c in _cited() if c.section}))
def test_every_cited_reference_section_exists(citation: str) -> None:
    found = next(c for c in _cited() if c.id == citation)
    assert cited_text(found).strip()


# --- translations ---------------------------------------------------------------------------


@pytest.mark.parametrize("language", TRANSLATIONS)
def test_translation_has_every_page_section_and_parent_version(language: str) -> None:
    translated = CONTENT[language]
    assert [p.slug for p in translated.pages] == SLUGS
    for p in ENGLISH.pages:
        other = translated.page(p.slug)
        assert other is not None
        assert [(s.id, s.differs_for_parent) for s in other.sections] == [
            (s.id, s.differs_for_parent) for s in p.sections
        ], p.slug
    assert translated.sources.keys() == ENGLISH.sources.keys()


def _section_block(text: str, section_id: str) -> str:
    start = text.index(f'  [[pages.sections]]\n  id = "{section_id}"')
    end = text.find("  [[pages.sections]]", start + 1)
    return text[start:end]


def _cut_page(text: str) -> str:
    start = text.index('[[pages]]\nslug = "driving"')
    return text[:start] + text[text.index("[[pages]]", start + 1) :]


def _cut_section(text: str) -> str:
    return text.replace(_section_block(text, "crs"), "")


def _cut_parent_text(text: str) -> str:
    block = _section_block(text, "hospital")
    shorter = re.sub(r'  parent_text = """.*?"""\n', "", block, count=1, flags=re.DOTALL)
    return text.replace(block, shorter)


def _cut_therapy(text: str) -> str:
    return text.replace('slug = "rituximab"\ntherapy = "rituximab"\n', 'slug = "rituximab"\n', 1)


def _cut_source(text: str) -> str:
    return re.sub(r'"other-immunotherapies\.md" = .*\n', "", text, count=1)


@pytest.mark.parametrize(
    ("cut", "key"),
    [
        (_cut_page, "pages[driving]"),
        (_cut_section, "pages[side-effects].sections[crs]"),
        (_cut_parent_text, "pages[how-it-is-given].sections[hospital].parent_text"),
        (_cut_source, "other-immunotherapies.md"),
        (_cut_therapy, "pages[rituximab].therapy"),
    ],
    ids=["page", "section", "parent-text", "source", "therapy"],
)
def test_a_missing_translation_fails_naming_the_key(
    tmp_path: Path, cut: Callable[[str], str], key: str
) -> None:
    for language in LANGUAGES:
        (tmp_path / language).mkdir()
        original = (LOCALE_DIR / language / CONTENT_FILE).read_text(encoding="utf-8")
        text = cut(original) if language != DEFAULT_LANGUAGE else original
        (tmp_path / language / CONTENT_FILE).write_text(text, encoding="utf-8")
    with pytest.raises(KnowledgeError) as raised:
        load_about(tmp_path)
    assert raised.value.file == f"{TRANSLATIONS[0]}/{CONTENT_FILE}"
    assert key in raised.value.key_path or key in raised.value.problem, str(raised.value)


# --- the loader names the file and the key of a malformed file -------------------------------

_GOOD = (LOCALE_DIR / DEFAULT_LANGUAGE / CONTENT_FILE).read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("old", "new", "key"),
    [
        ('language = "en"', 'language = "en', "(syntax)"),
        ('language = "en"', 'language = "es"', "language"),
        ('title = "How it is given"\n', "", "pages[how-it-is-given].title"),
        ('id = "never"', 'id = "Never!"', "pages[pump-and-line].sections[Never!].id"),
        (
            '["seed 001_502819e456ac3f8f.txt"]\n\n  [[pages.sections]]\n  id = "hospital"',
            '["leaflet.pdf"]\n\n  [[pages.sections]]\n  id = "hospital"',
            "pages[how-it-is-given].sections[cycles].sources[0]",
        ),
        (
            '"blinatumomab-label.md §7"',
            '"unknown-reference.md §7"',
            "pages[side-effects].sections[how-common].sources[1]",
        ),
        (
            '  figure = "about-exposure.svg"\n',
            "",
            "pages[how-it-is-given].sections[why-all-the-time].figure_alt",
        ),
        ('slug = "driving"', 'slug = "vaccines"', "pages"),
        ('  id = "tests"', '  id = "drip"', "pages[how-it-is-given].sections"),
        ('  heading = "Fertility"\n', '  heading = "Fertility"\n  colour = "red"\n', "colour"),
        (
            "- Never flush the line, and never change the pump settings.\n",
            "- Never flush the line, and never change the pump settings.\n"
            "Whatever happens:\n  an indented line\n",
            "pages[when-to-call].sections[remember].text",
        ),
    ],
    ids=[
        "syntax",
        "language",
        "missing-title",
        "bad-id",
        "bad-citation",
        "unknown-document",
        "figure-without-picture",
        "duplicate-slug",
        "duplicate-section",
        "unknown-key",
        "stray-indent",
    ],
)
def test_a_malformed_file_fails_naming_the_file_and_key(
    tmp_path: Path, old: str, new: str, key: str
) -> None:
    assert old in _GOOD
    path = tmp_path / "about.toml"
    path.write_text(_GOOD.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(KnowledgeError) as raised:
        read_about(path, "en", "en/about.toml")
    assert str(raised.value).startswith("en/about.toml: ")
    assert key in raised.value.key_path, str(raised.value)


def test_an_uncited_source_fails_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "about.toml"
    path.write_text(
        _GOOD.replace("[sources]\n", '[sources]\n"seed 999_0000000000000000.txt" = "x"\n'),
        encoding="utf-8",
    )
    with pytest.raises(KnowledgeError, match=r"sources\.seed 999_0000000000000000\.txt"):
        read_about(path, "en")


def test_a_missing_file_fails_naming_it(tmp_path: Path) -> None:
    with pytest.raises(KnowledgeError, match=r"^es/about\.toml: \(file\)"):
        read_about(tmp_path / "nothing.toml", "es", "es/about.toml")


def test_text_becomes_paragraphs_and_lists() -> None:
    section = next(s for s in ENGLISH.pages[0].sections if s.id == "how-it-works")
    assert [b.is_list for b in section.blocks] == [False, True, False]
    assert len(section.blocks[1].items) == 2


# --- the pages ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("asked", "remembered", "chosen"),
    [
        ("parent", None, Audience.PARENT),
        (None, "parent", Audience.PARENT),
        ("adult", "parent", Audience.ADULT),
        ("bogus", "parent", Audience.PARENT),
        ("bogus", None, Audience.ADULT),
        (None, None, Audience.ADULT),
    ],
)
def test_choose_audience(asked: str | None, remembered: str | None, chosen: Audience) -> None:
    assert choose_audience(asked, remembered) is chosen


def _blocks_text(blocks: tuple[Block, ...]) -> list[str]:
    return [item for block in blocks for item in block.items]


def _rendered_text(section: Tag) -> list[str]:
    return [element.get_text() for element in section.select("p, li")]


def _headings_in_order(soup: BeautifulSoup) -> None:
    levels = [int(h.name[1]) for h in soup.select("main h1, main h2, main h3, main h4")]
    assert levels[0] == 1
    assert levels.count(1) == 1
    assert all(b - a <= 1 for a, b in itertools.pairwise(levels)), levels


@pytest.mark.parametrize("audience", AUDIENCES)
@pytest.mark.parametrize("language", list(LANGUAGES))
@pytest.mark.parametrize("slug", SLUGS)
def test_every_page_renders_in_every_language_for_both_readers(
    clinic: DemoClinic, slug: str, language: str, audience: str
) -> None:
    response = clinic.browser(None).get(
        f"/about/{slug}?for={audience}", headers={"accept-language": language}
    )
    assert response.status_code == 200
    soup = page(response)
    content = CONTENT[language].page(slug)
    assert content is not None
    assert one(soup, "html")["lang"] == language
    assert one(soup, "body")["data-page"] == "about-page"
    assert one(soup, "h1").get_text() == content.title
    assert soup.title is not None
    assert soup.title.get_text().startswith(content.title)
    listed = [str(li["data-source"]) for li in soup.select("section.sources li[data-source]")]
    assert listed == [c.id for c in content.citations()]
    for li, citation in zip(soup.select("section.sources li"), content.citations(), strict=True):
        assert CONTENT[language].sources[citation.document] in li.get_text()
    assert one(soup, '.audience [aria-current="true"]')["data-for"] == audience
    for section in content.sections:
        rendered = one(soup, f'section[data-section="{section.id}"]')
        assert _rendered_text(rendered) == _blocks_text(section.blocks_for(Audience(audience)))
        assert str(rendered["data-sources"]) == " | ".join(c.id for c in section.sources)
    _headings_in_order(soup)


@pytest.mark.parametrize("audience", AUDIENCES)
@pytest.mark.parametrize("language", list(LANGUAGES))
def test_the_index_lists_every_page_in_the_language(
    clinic: DemoClinic, language: str, audience: str
) -> None:
    response = clinic.browser(None).get(
        f"/about?for={audience}", headers={"accept-language": language}
    )
    assert response.status_code == 200
    soup = page(response)
    assert one(soup, "html")["lang"] == language
    assert one(soup, "h1").get_text() == gettext_for(language)("About your treatment")
    links = soup.select("ul.about-pages a")
    assert [a["href"] for a in links] == [f"/about/{slug}?for={audience}" for slug in SLUGS]
    assert [a.get_text() for a in links] == [p.title for p in CONTENT[language].pages]
    intro = CONTENT[language].intro.blocks_for(Audience(audience))
    assert _rendered_text(one(soup, "div.intro")) == _blocks_text(intro)
    _headings_in_order(soup)


PARENT_SECTIONS = [(p.slug, s) for p in ENGLISH.pages for s in p.sections if s.differs_for_parent]


def test_many_sections_have_a_version_for_parents() -> None:
    assert len(PARENT_SECTIONS) > 20
    assert {slug for slug, _ in PARENT_SECTIONS} == set(SLUGS)


@pytest.mark.parametrize(
    ("slug", "section"), PARENT_SECTIONS, ids=[f"{p}-{s.id}" for p, s in PARENT_SECTIONS]
)
def test_the_parent_version_differs_where_the_content_says_so(
    clinic: DemoClinic, slug: str, section: Section
) -> None:
    browser = clinic.browser(None)
    selector = f'section[data-section="{section.id}"]'
    adult = one(page(browser.get(f"/about/{slug}?for=adult")), selector)
    parent = one(page(browser.get(f"/about/{slug}?for=parent")), selector)
    assert (adult["data-version"], parent["data-version"]) == ("adult", "parent")
    assert _rendered_text(adult) == _blocks_text(section.blocks)
    assert section.parent_blocks is not None
    assert _rendered_text(parent) == _blocks_text(section.parent_blocks)
    assert _rendered_text(adult) != _rendered_text(parent)


def test_a_section_without_a_parent_version_is_the_same_for_both(clinic: DemoClinic) -> None:
    browser = clinic.browser(None)
    selector = 'section[data-section="never"]'
    adult = one(page(browser.get("/about/pump-and-line?for=adult")), selector)
    parent = one(page(browser.get("/about/pump-and-line?for=parent")), selector)
    assert adult["data-version"] == parent["data-version"] == "all"
    assert _rendered_text(adult) == _rendered_text(parent)


def test_the_chosen_reader_is_remembered_and_linked(clinic: DemoClinic) -> None:
    browser = clinic.browser(None)
    first = browser.get("/about/driving?for=parent")
    assert first.cookies.get(AUDIENCE_COOKIE) == "parent"
    soup = page(browser.get("/about"))
    assert one(soup, '.audience [aria-current="true"]')["data-for"] == "parent"
    assert one(soup, '.audience a[data-for="adult"]')["href"] == "/about?for=adult"
    again = page(browser.get("/about/vaccines"))
    assert one(again, 'a[data-link="about-index"]')["href"] == "/about?for=parent"
    assert one(again, 'a[data-link="next"]')["href"] == "/about/pregnancy?for=parent"
    assert one(again, 'a[data-link="previous"]')["href"] == "/about/driving?for=parent"
    switch = one(again, 'nav.languages a[data-language="es"]')["href"]
    assert switch == "/lang?to=es&next=%2Fabout%2Fvaccines"


def test_the_language_switch_keeps_the_reader(clinic: DemoClinic) -> None:
    soup = page(clinic.browser(None).get("/about/driving?for=parent"))
    switch = one(soup, 'nav.languages a[data-language="es"]')["href"]
    assert switch == "/lang?to=es&next=%2Fabout%2Fdriving%3Ffor%3Dparent"


@pytest.mark.parametrize("path", ["/about", *(f"/about/{slug}" for slug in SLUGS)])
def test_no_page_needs_sign_in(clinic: DemoClinic, path: str) -> None:
    response = clinic.browser(None).get(path, follow_redirects=False)
    assert response.status_code == 200
    assert not page(response).select('a[data-link="check-in"]')


def test_the_login_page_links_to_the_pages_before_signing_in(clinic: DemoClinic) -> None:
    soup = page(clinic.browser(None).get("/login"))

    assert [a["href"] for a in soup.select('a[data-link="about"]')] == ["/about"]


def test_a_signed_in_family_sees_no_patient_data_and_a_check_in_link(
    clinic: DemoClinic,
) -> None:
    patient_id = clinic.patients["P-001"]
    with read_only(clinic.app.state.blina.sessions) as session:
        name = session.execute(
            select(Patient.display_name).where(Patient.id == patient_id)
        ).scalar_one()
    browser = clinic.browser("alex")
    for slug in SLUGS:
        soup = page(browser.get(f"/about/{slug}"))
        text = one(soup, "main").get_text()
        assert "P-001" not in text
        assert name not in text
        links = soup.select('main a[data-link="check-in"]')
        if slug == "when-to-call":
            assert [a["href"] for a in links] == [f"/patients/{patient_id}/check-in"]
        else:
            assert links == []
    assert one(page(browser.get("/today")), 'nav a[data-link="about"]')["href"] == "/about"


def test_an_unknown_page_is_not_found(clinic: DemoClinic) -> None:
    response = clinic.browser(None).get("/about/no-such-page")
    assert response.status_code == 404
    assert one(page(response), "body")["data-page"] == "error"


def test_a_section_shows_its_picture_with_its_words(clinic: DemoClinic) -> None:
    browser = clinic.browser(None)
    for language, alt_start in (("en", "A line that rises"), ("es", "Una línea que sube")):
        response = browser.get("/about/how-it-is-given", headers={"Accept-Language": language})
        figure = page(response).select_one('[data-section="why-all-the-time"] figure img')
        assert figure is not None
        assert str(figure["alt"]).startswith(alt_start)
        assert browser.get(str(figure["src"])).status_code == 200
