"""The "About your treatment" pages as data: one TOML file per language, checked at load.

Each language's pages live in ``locale/<language>/about.toml`` beside its message
catalog (the package data already ships everything under ``locale/``). A file holds an
``intro``, a ``sources`` table (cited document -> title shown to the reader) and the
``pages``; a page about a therapy other than blinatumomab names it (``therapy``), and
the About index lists those apart. Each page has ``sections`` with the text for an adult
patient (``text``), the text for the parent of a child where it differs
(``parent_text``), and ``sources``.

A citation is ``"seed <file>.txt"`` (a seed document) or ``"<file>.md §<n>"`` (a section
of a clinical reference file). Text is plain: paragraphs are separated by a blank line, a
line starting ``- `` is a list item, and an indented line continues the item above.

Every translation must hold every page, section and parent version that the English file
holds, with the same citations; anything missing or malformed is a ``KnowledgeError``
naming the file and the key.
"""

import re
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from blina.domain.errors import KnowledgeError
from blina.web.i18n import DEFAULT_LANGUAGE, LANGUAGES, LOCALE_DIR

__all__ = [
    "CONTENT_FILE",
    "AboutContent",
    "Audience",
    "Block",
    "Citation",
    "Page",
    "Section",
    "about_content",
    "check_translation",
    "load_about",
    "parse_citation",
    "read_about",
]

CONTENT_FILE = "about.toml"

_ID = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"
_SEED = re.compile(r"^seed (\d{3}_[0-9a-f]{16}\.txt)$")
_REFERENCE = re.compile(r"^([a-z0-9-]+\.md) §(\d+(?:\.\d+)*)$")


class Audience(StrEnum):
    ADULT = "adult"
    PARENT = "parent"


@dataclass(frozen=True, slots=True)
class Block:
    """A paragraph (one item) or a bulleted list."""

    items: tuple[str, ...]
    is_list: bool


@dataclass(frozen=True, slots=True)
class Citation:
    """``document`` is a key of the file's ``sources``; ``section`` is set for a reference."""

    id: str
    document: str
    section: str | None = None

    @property
    def seed_file(self) -> str | None:
        return self.document.removeprefix("seed ") if self.section is None else None

    @property
    def reference_file(self) -> str | None:
        return self.document if self.section is not None else None


@dataclass(frozen=True, slots=True)
class Section:
    id: str
    heading: str
    text: str
    parent_text: str | None
    sources: tuple[Citation, ...]
    blocks: tuple[Block, ...]
    parent_blocks: tuple[Block, ...] | None
    figure: str | None = None
    figure_alt: str | None = None

    @property
    def differs_for_parent(self) -> bool:
        return self.parent_text is not None

    def text_for(self, audience: Audience) -> str:
        if audience == Audience.PARENT and self.parent_text is not None:
            return self.parent_text
        return self.text

    def blocks_for(self, audience: Audience) -> tuple[Block, ...]:
        if audience == Audience.PARENT and self.parent_blocks is not None:
            return self.parent_blocks
        return self.blocks


@dataclass(frozen=True, slots=True)
class Page:
    slug: str
    title: str
    summary: str
    check_in_link: bool
    sections: tuple[Section, ...]
    therapy: str | None = None  # a therapy other than blinatumomab the page is about

    def citations(self) -> tuple[Citation, ...]:
        """Every citation of the page's sections, once each, in order of first use."""
        seen: dict[str, Citation] = {}
        for section in self.sections:
            for citation in section.sources:
                seen.setdefault(citation.id, citation)
        return tuple(seen.values())


@dataclass(frozen=True, slots=True)
class AboutContent:
    language: str
    file: str
    intro: Section
    sources: Mapping[str, str]
    pages: tuple[Page, ...]

    def page(self, slug: str) -> Page | None:
        return next((page for page in self.pages if page.slug == slug), None)

    def neighbours(self, slug: str) -> tuple[Page | None, Page | None]:
        """The pages before and after ``slug`` in the file's order."""
        slugs = [page.slug for page in self.pages]
        index = slugs.index(slug)
        before = self.pages[index - 1] if index > 0 else None
        after = self.pages[index + 1] if index + 1 < len(self.pages) else None
        return before, after


# --- the file's shape -------------------------------------------------------------------


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _IntroFile(_Strict):
    text: str = Field(min_length=1)
    parent_text: str | None = Field(default=None, min_length=1)


class _SectionFile(_IntroFile):
    id: str = Field(pattern=_ID)
    heading: str = Field(min_length=1)
    sources: tuple[str, ...] = Field(min_length=1)
    # A picture from web/static shown under the text, with its text for people who
    # cannot see it (both or neither).
    figure: str | None = Field(default=None, pattern=r"^[a-z0-9-]+\.svg$")
    figure_alt: str | None = Field(default=None, min_length=1)


class _PageFile(_Strict):
    slug: str = Field(pattern=_ID)
    title: str = Field(min_length=1)
    summary: str = Field(min_length=1)
    check_in_link: bool = False
    therapy: str | None = Field(default=None, pattern=_ID)
    sections: tuple[_SectionFile, ...] = Field(min_length=1)


class _AboutFile(_Strict):
    language: str
    intro: _IntroFile
    sources: dict[str, str] = Field(min_length=1)
    pages: tuple[_PageFile, ...] = Field(min_length=1)


# --- loading ----------------------------------------------------------------------------


def read_about(path: Path, language: str, file: str | None = None) -> AboutContent:
    """One language's file, validated; ``file`` is the name errors give (default: the path's)."""
    name = file or path.name
    data = _validate(_read_toml(path, name), name)
    if data.language != language:
        raise KnowledgeError(name, "language", f"{data.language!r} is not {language!r}")
    pages = tuple(_page(page, data.sources, name) for page in data.pages)
    _check_unique([page.slug for page in pages], "pages", "slug", name)
    _check_every_source_cited(data.sources, pages, name)
    intro = Section(
        id="intro",
        heading="",
        text=data.intro.text,
        parent_text=data.intro.parent_text,
        sources=(),
        blocks=_blocks(data.intro.text, "intro.text", name),
        parent_blocks=_parent_blocks(data.intro.parent_text, "intro.parent_text", name),
    )
    return AboutContent(language, name, intro, dict(data.sources), pages)


def load_about(directory: Path = LOCALE_DIR) -> dict[str, AboutContent]:
    """Every language's pages; a translation missing anything the English has is an error."""
    content = {
        language: read_about(
            directory / language / CONTENT_FILE, language, f"{language}/{CONTENT_FILE}"
        )
        for language in LANGUAGES
    }
    reference = content[DEFAULT_LANGUAGE]
    for language, translation in content.items():
        if language != DEFAULT_LANGUAGE:
            check_translation(reference, translation)
    return content


@cache
def about_content() -> Mapping[str, AboutContent]:
    """The shipped pages, read once per process."""
    return load_about()


def check_translation(reference: AboutContent, translation: AboutContent) -> None:
    """Every page, section, parent version and source of ``reference`` is in ``translation``."""
    for key, problem in _translation_gaps(reference, translation):
        raise KnowledgeError(translation.file, key, problem)


def parse_citation(text: str) -> Citation | None:
    if (seed := _SEED.match(text)) is not None:
        return Citation(text, f"seed {seed.group(1)}")
    if (reference := _REFERENCE.match(text)) is not None:
        return Citation(text, reference.group(1), reference.group(2))
    return None


def _read_toml(path: Path, name: str) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        raise KnowledgeError(name, "(file)", "the file is missing") from None
    except tomllib.TOMLDecodeError as error:
        raise KnowledgeError(name, "(syntax)", str(error)) from None


def _validate(raw: dict[str, Any], name: str) -> _AboutFile:
    try:
        return _AboutFile.model_validate(raw)
    except ValidationError as error:
        first = error.errors()[0]
        key = _key_path(raw, first["loc"])
        raise KnowledgeError(name, key, first["msg"]) from None


def _key_path(raw: dict[str, Any], location: tuple[int | str, ...]) -> str:
    """``pages[2].sections[0].sources`` with each page and section named by its slug or id."""
    parts: list[str] = []
    node: Any = raw
    for step in location:
        if isinstance(step, int):
            item = node[step] if isinstance(node, list | tuple) and step < len(node) else None
            label = item.get("slug") or item.get("id") if isinstance(item, dict) else None
            parts[-1] += f"[{label}]" if isinstance(label, str) else f"[{step}]"
            node = item
        else:
            parts.append(step)
            node = node.get(step) if isinstance(node, dict) else None
    return ".".join(parts)


def _page(page: _PageFile, sources: Mapping[str, str], name: str) -> Page:
    where = f"pages[{page.slug}]"
    _check_unique([section.id for section in page.sections], where + ".sections", "id", name)
    sections = tuple(
        _section(section, f"{where}.sections[{section.id}]", sources, name)
        for section in page.sections
    )
    return Page(page.slug, page.title, page.summary, page.check_in_link, sections, page.therapy)


def _section(section: _SectionFile, where: str, sources: Mapping[str, str], name: str) -> Section:
    if (section.figure is None) != (section.figure_alt is None):
        raise KnowledgeError(name, f"{where}.figure_alt", "given with figure, and only with it")
    return Section(
        id=section.id,
        heading=section.heading,
        text=section.text,
        parent_text=section.parent_text,
        sources=_citations(section.sources, where, sources, name),
        blocks=_blocks(section.text, f"{where}.text", name),
        parent_blocks=_parent_blocks(section.parent_text, f"{where}.parent_text", name),
        figure=section.figure,
        figure_alt=section.figure_alt,
    )


def _parent_blocks(text: str | None, where: str, name: str) -> tuple[Block, ...] | None:
    return None if text is None else _blocks(text, where, name)


def _citations(
    cited: tuple[str, ...], where: str, sources: Mapping[str, str], name: str
) -> tuple[Citation, ...]:
    citations: list[Citation] = []
    for index, text in enumerate(cited):
        citation = parse_citation(text)
        key = f"{where}.sources[{index}]"
        if citation is None:
            raise KnowledgeError(
                name, key, f"{text!r} is neither 'seed <file>.txt' nor '<file>.md §<section>'"
            )
        if citation.document not in sources:
            raise KnowledgeError(name, key, f"{citation.document!r} is not in [sources]")
        citations.append(citation)
    _check_unique([c.id for c in citations], f"{where}.sources", "citation", name)
    return tuple(citations)


def _blocks(text: str, where: str, name: str) -> tuple[Block, ...]:
    blocks: list[Block] = []
    for chunk in re.split(r"\n\s*\n", text.strip()):
        blocks.extend(_chunk_blocks(chunk.splitlines(), where, name))
    return tuple(blocks)


def _chunk_blocks(lines: list[str], where: str, name: str) -> Iterator[Block]:
    """Consecutive plain lines make a paragraph; ``- `` lines (and their indented
    continuations) make a list."""
    paragraph: list[str] = []
    items: list[str] = []
    for line in lines:
        if line.startswith("- "):
            if paragraph:
                yield Block((" ".join(paragraph),), is_list=False)
                paragraph = []
            items.append(line[2:].strip())
        elif line.startswith(" ") and items:
            items[-1] += " " + line.strip()
        elif line.startswith(" "):
            raise KnowledgeError(name, where, f"an indented line outside a list: {line.strip()!r}")
        else:
            if items:
                yield Block(tuple(items), is_list=True)
                items = []
            paragraph.append(line.strip())
    if paragraph:
        yield Block((" ".join(paragraph),), is_list=False)
    if items:
        yield Block(tuple(items), is_list=True)


def _check_unique(values: list[str], where: str, what: str, name: str) -> None:
    seen: set[str] = set()
    for value in values:
        if value in seen:
            raise KnowledgeError(name, where, f"{what} {value!r} appears twice")
        seen.add(value)


def _check_every_source_cited(
    sources: Mapping[str, str], pages: tuple[Page, ...], name: str
) -> None:
    cited = {c.document for page in pages for c in page.citations()}
    for document in sources:
        if document not in cited:
            raise KnowledgeError(name, f"sources.{document}", "no section cites this source")


def _translation_gaps(reference: AboutContent, other: AboutContent) -> Iterator[tuple[str, str]]:
    have = f"{reference.file} has it"
    if reference.intro.parent_text is not None and other.intro.parent_text is None:
        yield "intro.parent_text", f"missing: {have}"
    for document in reference.sources:
        if document not in other.sources:
            yield f"sources.{document}", f"missing: {have}"
    for page in reference.pages:
        translated = other.page(page.slug)
        if translated is None:
            yield f"pages[{page.slug}]", f"missing: {have}"
            continue
        yield from _page_gaps(page, translated, reference.file)
    for page in other.pages:
        if reference.page(page.slug) is None:
            yield f"pages[{page.slug}]", f"not in {reference.file}"


def _page_gaps(page: Page, other: Page, reference_file: str) -> Iterator[tuple[str, str]]:
    where = f"pages[{page.slug}]"
    have = f"{reference_file} has it"
    if page.check_in_link != other.check_in_link:
        yield f"{where}.check_in_link", f"differs from {reference_file}"
    if page.therapy != other.therapy:
        yield f"{where}.therapy", f"differs from {reference_file}"
    theirs = {section.id: section for section in other.sections}
    for section in page.sections:
        key = f"{where}.sections[{section.id}]"
        translated = theirs.get(section.id)
        if translated is None:
            yield key, f"missing: {have}"
        elif section.parent_text is not None and translated.parent_text is None:
            yield f"{key}.parent_text", f"missing: {have}"
        elif section.figure != translated.figure:
            yield f"{key}.figure", f"differs from {reference_file}"
        elif section.parent_text is None and translated.parent_text is not None:
            yield f"{key}.parent_text", f"not in {reference_file}"
        elif [c.id for c in section.sources] != [c.id for c in translated.sources]:
            yield f"{key}.sources", f"differs from {reference_file}"
    ours = {section.id for section in page.sections}
    for section in other.sections:
        if section.id not in ours:
            yield f"{where}.sections[{section.id}]", f"not in {reference_file}"
