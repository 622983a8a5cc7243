"""Every clinical number carries a source, every source resolves, and every source is used.

Also pins the committed snapshot of the clinical reference to the shared original, when
the shared tree sits beside the repository (it does in the project workspace, not in a
clean clone elsewhere).
"""

import re
import tomllib
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from tests import shared

from blina.knowledge import KNOWLEDGE_DIR

REPO_ROOT = Path(__file__).resolve().parents[2]
SNAPSHOT = shared.REFERENCE / "blinatumomab-label.md"
SOURCE_FILES = tuple(sorted(p.name for p in KNOWLEDGE_DIR.glob("sources*.toml")))
DATA_FILES = tuple(
    sorted(p.name for p in KNOWLEDGE_DIR.glob("*.toml") if p.name not in SOURCE_FILES)
)
# A note may cite a second source in its text, written "(source <id>)".
CITED_IN_TEXT = re.compile(r"\(source ([a-z0-9.-]+)\)")


def _load(name: str) -> dict[str, Any]:
    with (KNOWLEDGE_DIR / name).open("rb") as handle:
        return tomllib.load(handle, parse_float=Decimal)


SOURCES = {key: entry for name in SOURCE_FILES for key, entry in _load(name).items()}


def _is_source_key(key: str) -> bool:
    return key == "source" or key.endswith("_source")


def _tables(data: Any, path: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    """Every table (dict) in a TOML document, with its key path, depth first."""
    if isinstance(data, dict):
        yield path or "(top)", data
        for key, value in data.items():
            yield from _tables(value, f"{path}.{key}" if path else key)
    elif isinstance(data, list):
        for index, value in enumerate(data):
            yield from _tables(value, f"{path}[{index}]")


def _source_values(name: str) -> Iterator[tuple[str, Any]]:
    for path, table in _tables(_load(name)):
        for key, value in table.items():
            if _is_source_key(key):
                yield f"{path}.{key}", value


def _text_citations(name: str) -> Iterator[str]:
    for _, table in _tables(_load(name)):
        for value in table.values():
            if isinstance(value, str):
                yield from CITED_IN_TEXT.findall(value)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | Decimal) and not isinstance(value, bool)


def test_knowledge_dir_files_checked_here_include_the_planner_data() -> None:
    assert "sources.toml" in SOURCE_FILES
    assert {"body.toml", "regimens.toml"} <= set(DATA_FILES)


@pytest.mark.parametrize("name", DATA_FILES)
def test_source_fields_every_value_is_a_key_of_sources_toml(name: str) -> None:
    values = list(_source_values(name))

    assert values, f"{name} cites no source at all"
    assert [(path, value) for path, value in values if value not in SOURCES] == []


@pytest.mark.parametrize("name", DATA_FILES)
def test_source_citations_in_text_are_keys_of_sources_toml(name: str) -> None:
    assert [cited for cited in _text_citations(name) if cited not in SOURCES] == []


@pytest.mark.parametrize("sources_file", SOURCE_FILES)
def test_sources_toml_every_source_is_used(sources_file: str) -> None:
    used = {value for name in DATA_FILES for _, value in _source_values(name)}
    cited = {value for name in DATA_FILES for value in _text_citations(name)}

    assert [key for key in _load(sources_file) if key not in used | cited] == []


@pytest.mark.parametrize("name", DATA_FILES)
def test_number_bearing_tables_every_one_has_a_source(name: str) -> None:
    with_numbers = [
        (path, table)
        for path, table in _tables(_load(name))
        if any(_is_number(value) for value in table.values())
    ]

    assert with_numbers, f"{name} holds no numbers"
    assert [path for path, table in with_numbers if not any(map(_is_source_key, table))] == []


def test_number_bearing_tables_walk_reaches_the_dose_rows() -> None:
    # Guards the walk itself: the deepest number-bearing tables must be visited.
    paths = {path for path, _ in _tables(_load("regimens.toml"))}

    assert "regimens[0].cycle_groups[0].doses[1]" in paths
    assert "regimens[2].premedication[1]" in paths
    assert "bags[4]" in paths


def test_body_toml_each_age_bound_has_its_own_source() -> None:
    age = _load("body.toml")["age"]

    for stem in ("min", "max", "adult"):
        assert age[f"{stem}_source"] in SOURCES


@pytest.mark.parametrize("source_id", SOURCES)
def test_sources_toml_reference_points_to_a_reference_section(source_id: str) -> None:
    reference = SOURCES[source_id]["reference"]
    sections = re.findall(r"blinatumomab-label\.md §(\d+(?:\.\d+)?)", reference)
    headings = {
        match.group(1)
        for match in re.finditer(r"^#{2,3} (\d+(?:\.\d+)?)\.? ", SNAPSHOT.read_text("utf-8"), re.M)
    }

    assert SOURCES[source_id]["says"]
    assert [section for section in sections if section not in headings] == []


def test_reference_snapshot_holds_what_the_golden_tests_parse() -> None:
    snapshot = SNAPSHOT.read_text(encoding="utf-8")

    assert snapshot.startswith("# Blinatumomab (BLINCYTO)")
    assert "### 1.2 R/R B-ALL regimen" in snapshot
    assert "### 1.3 MRD-positive B-ALL regimen" in snapshot
    assert (
        "| Phase | Cycle(s) | Infusion days | Dose \u2265 45 kg | Dose < 45 kg (cap) "
        "| Off-treatment | Cycle length |"
    ) in snapshot
