"""The About pages of the therapies beside blinatumomab (issue 19): one page per therapy
(one for the CAR-T products' shared journey), each written from a seed and citing it, for
adults and for parents, in every language, and listed apart on the About index. The
number, translation and rendering checks of ``test_education`` cover these pages too."""

import pytest

from blina.knowledge import Knowledge
from blina.web.education_content import Audience, about_content
from blina.web.i18n import DEFAULT_LANGUAGE, LANGUAGES, gettext_for
from tests.web.conftest import DemoClinic
from tests.web.soup import one, page

CONTENT = about_content()
ENGLISH = CONTENT[DEFAULT_LANGUAGE]
SEED_ADULTS = "seed 003_d037f6f99ba44e4b.txt"  # ACS, ALL in adults
SEED_CHILDREN = "seed 004_8f004b9456734144.txt"  # ACS with ASCO, childhood leukemia
THERAPY_PAGES = {"inotuzumab", "car-t", "rituximab", "gemtuzumab"}


def test_every_therapy_blina_plans_has_a_page(knowledge: Knowledge) -> None:
    about = {p.therapy for p in ENGLISH.pages if p.therapy}
    assert about == THERAPY_PAGES
    assert set(knowledge.therapies) <= about


@pytest.mark.parametrize("slug", sorted(THERAPY_PAGES))
def test_a_therapy_page_cites_a_seed_and_has_a_parent_version_of_each_seed_section(
    slug: str,
) -> None:
    therapy_page = ENGLISH.page(slug)
    assert therapy_page is not None
    cited = {c.id for c in therapy_page.citations()}
    assert cited & {SEED_ADULTS, SEED_CHILDREN}, "written from a seed, which it cites"
    for section in therapy_page.sections:
        assert section.differs_for_parent, f"{slug}.{section.id}: a parent version"


def test_the_car_t_page_names_the_three_products_and_cites_both_seeds() -> None:
    car_t = ENGLISH.page("car-t")
    assert car_t is not None
    products = next(s for s in car_t.sections if s.id == "products")
    for name in ("Tisagenlecleucel", "Brexucabtagene autoleucel", "Obecabtagene autoleucel"):
        assert name in products.text_for(Audience.ADULT)
    assert {SEED_ADULTS, SEED_CHILDREN} <= {c.id for c in car_t.citations()}


@pytest.mark.parametrize("language", list(LANGUAGES))
def test_the_index_lists_the_therapy_pages_apart(clinic: DemoClinic, language: str) -> None:
    soup = page(clinic.browser(None).get("/about", headers={"accept-language": language}))
    content = CONTENT[language]
    blinatumomab = one(soup, 'ul.about-pages[data-group="blinatumomab"]')
    others = one(soup, 'ul.about-pages[data-group="other-therapies"]')
    assert [li["data-slug"] for li in blinatumomab.select("li")] == [
        p.slug for p in content.pages if not p.therapy
    ]
    assert [(li["data-slug"], li["data-therapy"]) for li in others.select("li")] == [
        (p.slug, p.therapy) for p in content.pages if p.therapy
    ]
    heading = one(soup, "#other-therapies-title").get_text()
    assert heading == gettext_for(language)("Other immunotherapies")


@pytest.mark.parametrize("language", [lang for lang in LANGUAGES if lang != DEFAULT_LANGUAGE])
def test_a_translation_keeps_each_page_s_therapy(language: str) -> None:
    assert [(p.slug, p.therapy) for p in CONTENT[language].pages] == [
        (p.slug, p.therapy) for p in ENGLISH.pages
    ]
