"""Golden tests: each therapy TOML number equals the reference text's number, row by row.

The reference is the committed snapshot tests/shared/reference/other-immunotherapies.md
(pinned to ../shared by tests/shared/test_snapshots.py). Each test finds the reference
line it reads by an anchor, cites it ("§1.2, line 57" at the time of writing) and parses
the number there, so a change on either side fails here. The last tests walk every text
of the three TOML files: each number a warning, gap or item states must occur in the
reference section its source cites.
"""

import re
import tomllib
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from tests import shared

from blina.domain.therapies.cycle_doses import CycleDoseFacts, CycleScheme
from blina.domain.therapies.hosted_doses import HostedDoseFacts
from blina.knowledge import KNOWLEDGE_DIR, Knowledge

SNAPSHOT = shared.REFERENCE / "other-immunotherapies.md"
TEXT = SNAPSHOT.read_text(encoding="utf-8")
LINES = TEXT.splitlines()
MINUS = "\u2212"
SQUARED = "\u00b2"
THERAPY_FILES = ("therapy_inotuzumab.toml", "therapy_rituximab.toml", "therapy_gemtuzumab.toml")


def _line(anchor: str) -> str:
    """The one reference line that contains ``anchor``."""
    found = [line for line in LINES if anchor in line]
    assert len(found) == 1, f"{anchor!r} is on {len(found)} reference lines"
    return found[0]


def _number(pattern: str, anchor: str) -> Decimal:
    match = re.search(pattern, _line(anchor))
    assert match is not None, f"{pattern!r} not on the line of {anchor!r}"
    return Decimal(match.group(1).replace(",", ""))


def _inotuzumab(knowledge: Knowledge) -> CycleDoseFacts:
    facts = knowledge.therapies["inotuzumab"]
    assert isinstance(facts, CycleDoseFacts)
    return facts


def _hosted(knowledge: Knowledge, key: str) -> HostedDoseFacts:
    facts = knowledge.therapies[key]
    assert isinstance(facts, HostedDoseFacts)
    return facts


# --- inotuzumab, §1.2 regimen table (lines 57-59) ------------------------------------------

REGIMEN_ROW = re.compile(
    rf"^\| (?P<cycle>[^|]+) \| (?P<status>[^|]+) "
    rf"\| (?P<d1>[\d.]+) mg/m{SQUARED} \| (?P<d8>[\d.]+) mg/m{SQUARED} "
    rf"\| (?P<d15>[\d.]+) mg/m{SQUARED} \| (?P<total>[\d.]+) mg/m{SQUARED} "
    r"\| (?P<length>\d+) days(?P<rest>[^|]*)\|$"
)


@pytest.mark.parametrize(
    ("anchor", "scheme"),
    [
        ("| 1 | all patients |", "first_cycle"),  # §1.2, line 57
        ("| \u2265 2 | CR or CRi achieved |", "in_response"),  # §1.2, line 58
        ("| \u2265 2 | CR/CRi **not** achieved |", "no_response"),  # §1.2, line 59
    ],
)
def test_inotuzumab_regimen_rows(knowledge: Knowledge, anchor: str, scheme: str) -> None:
    row = REGIMEN_ROW.match(_line(anchor))
    assert row is not None
    facts: CycleScheme = getattr(_inotuzumab(knowledge), scheme)

    assert facts.doses == (
        (1, Decimal(row["d1"])),
        (8, Decimal(row["d8"])),
        (15, Decimal(row["d15"])),
    )
    assert facts.total_mg_per_m2 == Decimal(row["total"])
    assert facts.length_days == int(row["length"])
    assert facts.source == "inotuzumab-1.2-regimen"


def test_inotuzumab_first_cycle_may_be_lengthened(knowledge: Knowledge) -> None:
    lengthened = _number(r"lengthened to (\d+) days", "| 1 | all patients |")  # line 57

    assert _inotuzumab(knowledge).first_cycle_lengths == {21, int(lengthened)}


def test_inotuzumab_scheduling_window_and_spacing(knowledge: Knowledge) -> None:
    anchor = "Days 8 and 15 may move"  # §1.2, line 62
    rules = _inotuzumab(knowledge).scheduling

    assert rules.window_days == _number(r"\*\*\u00b1 (\d+) days\*\*", anchor)
    assert rules.min_spacing_days == _number(r"\*\*\u2265 (\d+) days\*\*", anchor)
    assert rules.window_applies_to == {8, 15}


def test_inotuzumab_cycle_limits(knowledge: Knowledge) -> None:
    limits = _inotuzumab(knowledge).limits

    # §1.2, lines 64-67
    assert limits.hsct_cycles == _number(r"\*\*(\d+) cycles\*\* recommended", "Going to HSCT")
    assert limits.hsct_max_cycles == _number(r"a \*\*(\d+)rd\*\*", "Going to HSCT")
    assert limits.max_cycles == _number(r"\*\*(\d+) cycles maximum\*\*", "Not going to HSCT")
    assert limits.response_within_cycles == _number(r"\*\*(\d+) cycles\*\*", "No CR/CRi within")


def test_inotuzumab_cytoreduction_and_infusion(knowledge: Knowledge) -> None:
    facts = _inotuzumab(knowledge)

    # §1.2, line 82 and line 84
    limit = _number(r"\*\*\u2264 ([\d,]+)/mm", "to a peripheral blast count")
    assert facts.cytoreduction.max_blasts_per_mm3 == limit
    assert _number(r"\*\*(\d+) hour at", "- Infusion: **") == 1
    assert "1 hour at 50 mL/h" in facts.dose_text
    assert _number(r"at (\d+) mL/h", "- Infusion: **") == 50


def test_inotuzumab_modification_thresholds(knowledge: Knowledge) -> None:
    rules = _inotuzumab(knowledge).changes

    # §1.3, lines 102, 103, 111, 113
    assert rules.anc_min == _number(r"^\| ANC \u2265 (\d+) ", "| ANC \u2265 1 \u00d7 10")
    assert rules.platelets_min == _number(r"^\| Platelets \u2265 (\d+) ", "| Platelets \u2265")
    assert rules.low_counts_max_days == _number(r"> (\d+) days", "| ANC \u2265 1 \u00d7 10")
    assert rules.low_counts_max_days == _number(r"> (\d+) days", "| Platelets \u2265")
    assert rules.bilirubin_max_x_uln == _number(r"bilirubin > ([\d.]+) \u00d7", "| Total bili")
    assert rules.ast_alt_max_x_uln == _number(r"AST/ALT > ([\d.]+) \u00d7", "| Total bili")
    grade = _number(r"\u2265 grade (\d+)", "| Any non-hematologic toxicity")
    assert rules.non_hematologic_hold_from_grade == grade


def test_inotuzumab_cheat_sheet_row_agrees(knowledge: Knowledge) -> None:
    row = _line("| Inotuzumab | C1D1 |")  # §8, line 604
    facts = _inotuzumab(knowledge)

    assert "C1: D1 0.8, D8 0.5, D15 0.5 mg/m" in row
    assert "D1 dose 0.5 (CR/CRi) or 0.8 mg/m" in row
    assert facts.in_response.doses[0][1] == Decimal("0.5")
    assert facts.no_response.doses[0][1] == Decimal("0.8")
    assert "next cycle D1 = C1D22 (or C1D29 if extended)" in row  # 21 or 28 days after D1
    assert f"\u2264 {facts.limits.max_cycles} otherwise" in row


# --- rituximab, §6.2 and §8 ----------------------------------------------------------------


def test_rituximab_dose_and_total(knowledge: Knowledge) -> None:
    facts = _hosted(knowledge, "rituximab")
    anchor = "IV per dose with systemic LMB chemotherapy"  # §6.2, line 452

    assert facts.mg_per_m2 == _number(rf"(\d+) mg/m{SQUARED} IV per dose", anchor)
    assert facts.max_doses == _number(r"\*\*(\d+) infusions in total\*\*", anchor)
    assert facts.cap_mg is None  # the reference gives no per-dose cap


def test_rituximab_courses_and_days_from_the_cheat_sheet(knowledge: Knowledge) -> None:
    row = _line("| Rituximab (pediatric B-AL) |")  # §8, line 608
    schedule = row.split(" | ")[2].split(" \u2014 ")[0]
    expected = []
    for part in schedule.split("; "):
        name, days = part.split(": ")
        expected.append((name, tuple(int(d[1:].replace(MINUS, "-")) for d in days.split(", "))))

    facts = _hosted(knowledge, "rituximab")
    assert [(c.name, c.days) for c in facts.courses] == expected
    assert f"{facts.mg_per_m2} mg/m{SQUARED} each ({facts.max_doses} doses)" in row


def test_rituximab_day_placement_line(knowledge: Knowledge) -> None:
    line = _line("- Day placement: induction doses on")  # §6.2, line 455

    assert f"**Day {MINUS}2 and Day 1**" in line
    courses = {c.key: c.days for c in _hosted(knowledge, "rituximab").courses}
    assert courses["copdam1"] == courses["copdam2"] == (-2, 1)
    assert courses["cym-cyve1"] == courses["cym-cyve2"] == (1,)


# --- gemtuzumab, §7.2 and §8 ----------------------------------------------------------------


def test_gemtuzumab_induction_and_consolidation_rows(knowledge: Knowledge) -> None:
    induction = _line("| Adult, newly diagnosed de novo, combination |")  # §7.2, line 533
    consolidation = _line("| | Consolidation (2 cycles) |")  # §7.2, line 534
    facts = _hosted(knowledge, "gemtuzumab")
    days = {c.key: c.days for c in facts.courses}

    for row in (induction, consolidation):
        assert facts.mg_per_m2 == _number(rf"\| (\d+) mg/m{SQUARED} \(max", row)
        assert facts.cap_mg == _number(r"max one ([\d.]+) mg vial", row)
    listed = re.search(r"\*\*Days ([\d, ]+)\*\*", induction)
    assert listed is not None
    assert days["induction"] == tuple(int(d) for d in listed.group(1).split(", "))
    assert "**Day 1**" in consolidation
    assert days["consolidation1"] == days["consolidation2"] == (1,)
    assert _number(r"Consolidation \((\d+) cycles\)", consolidation) == 2


def test_gemtuzumab_cheat_sheet_row_agrees(knowledge: Knowledge) -> None:
    row = _line("| Gemtuzumab (adult combo) |")  # §8, line 609
    facts = _hosted(knowledge, "gemtuzumab")

    assert f"Induction D1, D4, D7 {facts.mg_per_m2} mg/m" in row
    assert f"(\u2264 {facts.cap_mg} mg each)" in row


def test_gemtuzumab_adult_premedication(knowledge: Knowledge) -> None:
    line = _line("- Adults: acetaminophen")  # §7.2, line 548
    premeds = {p.what: p for p in _hosted(knowledge, "gemtuzumab").premedication}

    assert premeds["acetaminophen"].mg == _number(r"acetaminophen (\d+) mg", line)
    assert premeds["diphenhydramine"].mg == _number(r"diphenhydramine (\d+) mg", line)
    assert premeds["methylprednisolone"].mg_per_kg == _number(
        r"^\s+(\d+) mg/kg", "  1 mg/kg (or equivalent) within 30 min"
    )


# --- every number in every text, against the section its source cites ---------------------

NUMBER = re.compile(r"\d+(?:[.,]\d+)*")


def _load(name: str) -> dict[str, Any]:
    with (KNOWLEDGE_DIR / name).open("rb") as handle:
        return tomllib.load(handle, parse_float=Decimal)


SOURCES = _load("sources_therapies.toml")


def _section(number: str) -> str:
    """The reference text from the heading numbered ``number`` to the next heading."""
    level = "##" if "." not in number else "###"
    heading = re.compile(rf"^{level} {re.escape(number)}\.? ", re.M)
    start = heading.search(TEXT)
    assert start is not None, f"no section {number}"
    end = re.compile(r"^#{2,3} ", re.M).search(TEXT, start.end())
    if level == "##":  # a whole chapter: up to the next chapter
        end = re.compile(r"^## ", re.M).search(TEXT, start.end())
    return TEXT[start.start() : None if end is None else end.start()]


def _cited_text(source: str) -> str:
    reference = SOURCES[source]["reference"]
    sections = re.findall(r"\u00a7(\d+(?:\.\d+)?)", reference)
    text = "\n".join(_section(s) for s in sections)
    if "Open questions" in reference:
        text += TEXT[TEXT.index("## Open questions") : TEXT.index("## Source key")]
    return text


def _numbers(text: str) -> set[str]:
    text = re.sub(r"\^\d+", "", text)  # "10^9/L" is written 10⁹/L in the reference
    return {n.replace(",", "").rstrip(".") for n in NUMBER.findall(text)}


def _texts(data: Any) -> list[tuple[str, str]]:
    """(text, source) for each table holding a text and a source, depth first."""
    found: list[tuple[str, str]] = []
    if isinstance(data, dict):
        source = data.get("source")
        for key in ("text", "fact", "instead"):
            if isinstance(data.get(key), str) and isinstance(source, str):
                found.append((data[key], source))
        for value in data.values():
            found.extend(_texts(value))
    elif isinstance(data, list):
        for value in data:
            found.extend(_texts(value))
    return found


@pytest.mark.parametrize("name", THERAPY_FILES)
def test_every_number_in_a_text_is_in_the_cited_reference_section(name: str) -> None:
    texts = _texts(_load(name))
    missing = []
    for text, source in texts:
        cited = _numbers(_cited_text(source))
        missing.extend((source, n, text) for n in _numbers(text) if n not in cited)

    assert texts, f"{name}: no texts found"
    assert missing == []


@pytest.mark.parametrize("source", sorted(SOURCES))
def test_every_therapy_source_cites_reference_sections_that_exist(source: str) -> None:
    assert SOURCES[source]["reference"].startswith("other-immunotherapies.md \u00a7")
    assert _cited_text(source)
    assert source.split("-")[0] in {"inotuzumab", "rituximab", "gemtuzumab"}


def test_every_not_retrieved_source_is_shown_as_a_gap(knowledge: Knowledge) -> None:
    """A source whose text says NOT RETRIEVED is cited by a gap every plan shows."""
    gap_sources = {g.source for facts in knowledge.therapies.values() for g in facts.gaps}
    not_retrieved = {k for k, v in SOURCES.items() if "NOT RETRIEVED" in v["says"]}

    assert not_retrieved - gap_sources == set()


def test_snapshot_path_is_the_shared_reference() -> None:
    assert Path(SNAPSHOT).name == "other-immunotherapies.md"
    assert TEXT.startswith("# Other leukemia immunotherapies")
