"""triage.toml's body areas (issue 18): every symptom is shown under one area, every area
holds a symptom, no rule reads them, and a bad area is named by its key path."""

from pathlib import Path

import pytest

from blina.domain.errors import KnowledgeError
from blina.domain.triage.rulebook import TriageRules
from blina.knowledge import KNOWLEDGE_DIR, Knowledge
from blina.knowledge._loader import load_sources
from blina.knowledge._triage import load_triage

SOURCES = load_sources(KNOWLEDGE_DIR)
TEXT = (KNOWLEDGE_DIR / "triage.toml").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def rules(knowledge: Knowledge) -> TriageRules:
    return knowledge.triage


def test_every_symptom_has_an_area_and_every_area_a_symptom(rules: TriageRules) -> None:
    used = {symptom.area for symptom in rules.symptoms.values()}
    assert used == set(rules.areas)
    assert all(area.name.strip() for area in rules.areas.values())


def test_headache_is_under_the_head(rules: TriageRules) -> None:
    # issue 18: headache was far down the form, under the common side effects
    assert rules.symptoms["headache"].area == rules.symptoms["seizure"].area == "head-brain"


def _load_edited(tmp_path: Path, old: str, new: str) -> TriageRules:
    assert old in TEXT, f"test data out of date: {old!r}"
    path = tmp_path / "triage.toml"
    path.write_text(TEXT.replace(old, new, 1), encoding="utf-8")
    return load_triage(path, SOURCES)


@pytest.mark.parametrize(
    ("old", "new", "key_path", "problem"),
    [
        (
            'red_flag = true\narea = "head-brain"',
            'red_flag = true\narea = "elbow"',
            "symptoms[0].area",
            "area 'elbow' is not in areas",
        ),
        (
            'id = "head-brain"\nname = "Head, brain, speech and senses"',
            'id = "whole-body"\nname = "Head, brain, speech and senses"',
            "areas[1].id",
            "area whole-body appears twice",
        ),
        ('red_flag = true\narea = "head-brain"', "red_flag = true", "symptoms[0].area", "required"),
    ],
    ids=["unknown-area", "area-twice", "area-missing"],
)
def test_a_bad_area_is_named(
    tmp_path: Path, old: str, new: str, key_path: str, problem: str
) -> None:
    with pytest.raises(KnowledgeError) as raised:
        _load_edited(tmp_path, old, new)
    assert raised.value.key_path == key_path
    assert problem in raised.value.problem
