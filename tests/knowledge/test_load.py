"""Loading the knowledge files: cached, frozen, and a malformed file names its key path.

Each malformed case copies the shipped knowledge directory into ``tmp_path``, edits one
TOML file as text and loads the copy with ``load_knowledge_from``.
"""

import shutil
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest

from blina.domain.body import AgeGroup
from blina.domain.errors import KnowledgeError, UnknownId
from blina.domain.regimens import Regimen
from blina.knowledge import KNOWLEDGE_DIR, Knowledge, load_knowledge, load_knowledge_from

REGIMEN_IDS = ("relapsed-refractory", "mrd-positive", "consolidation")


def test_load_knowledge_shipped_files_load_all_regimens(knowledge: Knowledge) -> None:
    assert tuple(knowledge.regimens_by_id) == REGIMEN_IDS
    assert all(isinstance(r, Regimen) for r in knowledge.regimens_by_id.values())
    assert "mosteller-1987" in knowledge.sources


def test_load_knowledge_called_twice_returns_the_same_object() -> None:
    assert load_knowledge() is load_knowledge()


def test_load_knowledge_from_copy_equals_shipped(tmp_path: Path, knowledge: Knowledge) -> None:
    copy = shutil.copytree(KNOWLEDGE_DIR, tmp_path / "knowledge")

    loaded = load_knowledge_from(copy)

    assert loaded is not knowledge
    assert loaded == knowledge


def test_load_knowledge_mappings_are_read_only(knowledge: Knowledge) -> None:
    with pytest.raises(TypeError):
        knowledge.regimens_by_id["x"] = knowledge.regimen("mrd-positive")  # type: ignore[index]
    with pytest.raises(TypeError):
        del knowledge.sources["mosteller-1987"]  # type: ignore[attr-defined]


def test_load_knowledge_numbers_are_decimals_never_floats(knowledge: Knowledge) -> None:
    rules = knowledge.body_rules
    bag = knowledge.regimen("relapsed-refractory").bag_option(96)

    assert bag is not None
    assert bag.min_weight is not None
    assert type(bag.min_weight.value) is Decimal
    assert bag.min_weight.value.as_tuple() == Decimal("5.4").as_tuple()
    assert rules.bsa_quantum_m2.as_tuple() == Decimal("0.01").as_tuple()


def test_load_knowledge_body_rules_match_body_toml(knowledge: Knowledge) -> None:
    rules = knowledge.body_rules

    assert (rules.weight_kg.low, rules.weight_kg.high, rules.weight_kg.low_inclusive) == (
        0,
        350,
        False,
    )
    assert (rules.height_cm.low, rules.height_cm.high, rules.height_cm.low_inclusive) == (
        30,
        250,
        True,
    )
    # 1 month, in years rounded to the 0.01 year ages are entered with.
    assert rules.age_years.low == Decimal("0.08")
    assert rules.age_years.high == 120
    assert rules.adult_from_age_years == 18
    assert (rules.source, rules.bsa_source, rules.adult_age_source) == (
        "blina-input-plausibility",
        "mosteller-1987",
        "lexicomp-pediatric-age",
    )


def test_knowledge_regimen_unknown_id_raises_listing_known_ids(knowledge: Knowledge) -> None:
    with pytest.raises(UnknownId) as caught:
        knowledge.regimen("ph-positive")
    assert caught.value.kind == "indication"
    assert caught.value.known == REGIMEN_IDS
    assert str(caught.value) == (
        "indication ph-positive is not known: must be one of relapsed-refractory, "
        "mrd-positive, consolidation"
    )


def test_knowledge_label_is_the_us_label_every_regimen_shares(knowledge: Knowledge) -> None:
    assert (knowledge.label.region, knowledge.label.revision) == ("US", "2025-12")
    assert {r.label for r in knowledge.regimens_by_id.values()} == {knowledge.label}


def test_load_knowledge_premedication_rules_built_per_age_group(knowledge: Knowledge) -> None:
    rules = knowledge.regimen("relapsed-refractory").premedication

    assert [(r.age_group, r.cycles) for r in rules] == [
        (AgeGroup.ADULT, None),
        (AgeGroup.PEDIATRIC, (1,)),
    ]


# --- malformed files ---------------------------------------------------------------------


@dataclass(frozen=True)
class Edit:
    """Replace the first occurrence of ``old`` (which must exist) in ``file``."""

    file: str
    old: str
    new: str


@dataclass(frozen=True)
class Malformed:
    edits: tuple[Edit, ...]
    file: str
    key_path: str
    problem: str  # a phrase the message must contain


def _regimens(old: str, new: str) -> Edit:
    return Edit("regimens.toml", old, new)


# Anchors in regimens.toml. An edit changes the first occurrence, and the R/R regimen
# comes first, so INDUCTION_PHASE and CONSOLIDATION_PHASE + "3" edit the R/R phases.
RR_C1 = 'first_cycle = 1\n  last_cycle = 1\n  phase = "induction"\n  infusion_days = 28\n'
DOSE_C1_D1_7 = "cap_mcg_per_day = 9\n    source = "
INDUCTION_PHASE = 'name = "induction"\n  max_cycles = '
CONSOLIDATION_PHASE = 'name = "consolidation"\n  max_cycles = '
CONSOLIDATION_C3_4 = (
    "  infusion_days = 28\n  length_days = 42\n  inpatient_days = 0\n"
    '  inpatient_source = "label-1.4-consolidation-hospital"'
)

MALFORMED = {
    "toml-syntax-error": Malformed(
        (_regimens("[label]", "[label"),), "regimens.toml", "(syntax)", "(at line "
    ),
    "missing-field": Malformed(
        (_regimens('name = "Relapsed or refractory B-ALL"\n', ""),),
        "regimens.toml",
        "regimens[0].name",
        "Field required",
    ),
    "wrong-type": Malformed(
        (_regimens(INDUCTION_PHASE + "2", INDUCTION_PHASE + '"two"'),),
        "regimens.toml",
        "regimens[0].phases[0].max_cycles",
        "valid integer",
    ),
    "wrong-type-decimal": Malformed(
        (_regimens("fixed_mcg_per_day = 9\n", 'fixed_mcg_per_day = "nine"\n'),),
        "regimens.toml",
        "regimens[0].cycle_groups[0].doses[0].fixed_mcg_per_day",
        "decimal",
    ),
    "unknown-field": Malformed(
        (_regimens('evidence = "label"\n', 'evidence = "label"\ncolour = "red"\n'),),
        "regimens.toml",
        "regimens[0].colour",
        "Extra inputs are not permitted",
    ),
    "unknown-source-id": Malformed(
        (_regimens('min_weight_source = "ashp-2025', 'min_weight_source = "ashp-2024'),),
        "regimens.toml",
        "bags[2].min_weight_source",
        "source 'ashp-2024-preservative-weight' is not in sources.toml",
    ),
    "unknown-source-id-nested": Malformed(
        (_regimens(DOSE_C1_D1_7 + '"label-1.2-rr"', DOSE_C1_D1_7 + '"label-9.9"'),),
        "regimens.toml",
        "regimens[0].cycle_groups[0].doses[0].source",
        "source 'label-9.9' is not in sources.toml",
    ),
    "missing-source": Malformed(
        (_regimens(DOSE_C1_D1_7 + '"label-1.2-rr"\n', "cap_mcg_per_day = 9\n"),),
        "regimens.toml",
        "regimens[0].cycle_groups[0].doses[0].source",
        "Field required",
    ),
    "doses-leave-a-gap": Malformed(
        (_regimens("first_day = 8\n", "first_day = 9\n"),),
        "regimens.toml",
        "regimens[0].cycle_groups[0].doses[1]",
        "doses must follow on from day 8",
    ),
    "dose-ends-before-it-starts": Malformed(
        (_regimens("first_day = 8\n    last_day = 28\n", "first_day = 8\n    last_day = 7\n"),),
        "regimens.toml",
        "regimens[0].cycle_groups[0].doses[1]",
        "doses must follow on from day 8",
    ),
    "doses-stop-short": Malformed(
        (_regimens("first_day = 8\n    last_day = 28\n", "first_day = 8\n    last_day = 27\n"),),
        "regimens.toml",
        "regimens[0].cycle_groups[0].doses",
        "doses must cover days 1 to 28",
    ),
    "fixed-dose-above-cap": Malformed(
        (_regimens("fixed_mcg_per_day = 9\n", "fixed_mcg_per_day = 10\n"),),
        "regimens.toml",
        "regimens[0].cycle_groups[0].doses[0]",
        "fixed_mcg_per_day must not exceed cap_mcg_per_day",
    ),
    "cycle-groups-out-of-order": Malformed(
        (_regimens("first_cycle = 3\n  last_cycle = 5\n", "first_cycle = 4\n  last_cycle = 5\n"),),
        "regimens.toml",
        "regimens[0].cycle_groups[2]",
        "cycles must follow on from cycle 3",
    ),
    "cycle-group-ends-before-it-starts": Malformed(
        (_regimens("first_cycle = 3\n  last_cycle = 5\n", "first_cycle = 3\n  last_cycle = 2\n"),),
        "regimens.toml",
        "regimens[0].cycle_groups[2]",
        "last_cycle >= first_cycle",
    ),
    "infusion-longer-than-cycle": Malformed(
        (_regimens(RR_C1 + "  length_days = 42\n", RR_C1 + "  length_days = 27\n"),),
        "regimens.toml",
        "regimens[0].cycle_groups[0]",
        "must fit within length_days",
    ),
    "hospital-longer-than-cycle": Malformed(
        (_regimens("inpatient_days = 9\n", "inpatient_days = 43\n"),),
        "regimens.toml",
        "regimens[0].cycle_groups[0]",
        "must fit within length_days",
    ),
    "phase-max-cycles-mismatch": Malformed(
        (_regimens(CONSOLIDATION_PHASE + "3", CONSOLIDATION_PHASE + "4"),),
        "regimens.toml",
        "regimens[0].phases[1]",
        "max_cycles 4 but 3 cycles name this phase",
    ),
    "phase-not-declared": Malformed(
        (
            _regimens(CONSOLIDATION_PHASE + "4", CONSOLIDATION_PHASE + "2"),
            _regimens(
                'phase = "consolidation"\n' + CONSOLIDATION_C3_4,
                'phase = "maintenance"\n' + CONSOLIDATION_C3_4,
            ),
        ),
        "regimens.toml",
        "regimens[2].cycle_groups",
        "phase 'maintenance' is not in phases",
    ),
    "duplicated-regimen-id": Malformed(
        (_regimens('id = "mrd-positive"', 'id = "relapsed-refractory"'),),
        "regimens.toml",
        "regimens[1].id",
        "regimen id 'relapsed-refractory' appears twice",
    ),
    "premedication-both-doses": Malformed(
        (_regimens("dose_mg_per_m2 = 5\n", "dose_mg_per_m2 = 5\n  dose_mg = 5\n"),),
        "regimens.toml",
        "regimens[0].premedication[1]",
        "give exactly one of dose_mg and dose_mg_per_m2",
    ),
    "premedication-no-dose": Malformed(
        (_regimens("dose_mg = 20\n", ""),),
        "regimens.toml",
        "regimens[0].premedication[0]",
        "give exactly one of dose_mg and dose_mg_per_m2",
    ),
    "premedication-max-on-fixed-dose": Malformed(
        (_regimens("dose_mg = 20\n", "dose_mg = 20\n  max_dose_mg = 30\n"),),
        "regimens.toml",
        "regimens[0].premedication[0].max_dose_mg",
        "max_dose_mg applies only to dose_mg_per_m2",
    ),
    "body-unknown-source-id": Malformed(
        (Edit("body.toml", 'source = "mosteller-1987"', 'source = "dubois-1916"'),),
        "body.toml",
        "bsa.source",
        "source 'dubois-1916' is not in sources.toml",
    ),
    "body-wrong-type": Malformed(
        (Edit("body.toml", "quantum_m2 = 0.01", "quantum_m2 = 0"),),
        "body.toml",
        "bsa.quantum_m2",
        "greater than 0",
    ),
    "body-missing-table": Malformed(
        (
            Edit(
                "body.toml",
                "[height_cm]\nlow = 30\nhigh = 250\n",
                "[height]\nlow = 30\nhigh = 250\n",
            ),
        ),
        "body.toml",
        "height_cm",
        "Field required",
    ),
    "sources-syntax-error": Malformed(
        (Edit("sources.toml", 'kind = "label"', "kind = label"),),
        "sources.toml",
        "(syntax)",
        "(at line ",
    ),
    "sources-wrong-kind": Malformed(
        (Edit("sources.toml", 'kind = "formula"', 'kind = "blog"'),),
        "sources.toml",
        "mosteller-1987.kind",
        "Input should be",
    ),
    "sources-entry-not-a-table": Malformed(
        (
            Edit(
                "sources.toml",
                '["label-1.1-indications"]\n',
                'stray = "text"\n\n["label-1.1-indications"]\n',
            ),
        ),
        "sources.toml",
        "stray",
        "valid dictionary",
    ),
}


def _copy_and_edit(tmp_path: Path, edits: tuple[Edit, ...]) -> Path:
    directory = shutil.copytree(
        KNOWLEDGE_DIR, tmp_path / "knowledge", ignore=shutil.ignore_patterns("*.py", "__pycache__")
    )
    for edit in edits:
        path = directory / edit.file
        text = path.read_text(encoding="utf-8")
        assert edit.old in text, f"test data out of date: {edit.old!r} not in {edit.file}"
        path.write_text(text.replace(edit.old, edit.new, 1), encoding="utf-8")
    return directory


@pytest.mark.parametrize("case", MALFORMED.values(), ids=MALFORMED.keys())
def test_load_knowledge_from_malformed_file_names_file_and_key_path(
    tmp_path: Path, case: Malformed
) -> None:
    directory = _copy_and_edit(tmp_path, case.edits)

    with pytest.raises(KnowledgeError) as caught:
        load_knowledge_from(directory)
    assert (caught.value.file, caught.value.key_path) == (case.file, case.key_path)
    assert case.problem in caught.value.problem
    assert str(caught.value).startswith(f"{case.file}: {case.key_path}: ")


def test_load_knowledge_from_missing_file_is_not_swallowed(tmp_path: Path) -> None:
    directory = _copy_and_edit(tmp_path, ())
    (directory / "body.toml").unlink()

    with pytest.raises(FileNotFoundError):
        load_knowledge_from(directory)


@pytest.mark.parametrize("file", ["sources.toml", "body.toml", "regimens.toml"])
def test_load_knowledge_from_toml_syntax_error_names_the_line(tmp_path: Path, file: str) -> None:
    text = (KNOWLEDGE_DIR / file).read_text(encoding="utf-8")
    first_key = next(line for line in text.splitlines() if " = " in line and line[0] != "#")
    line_number = text.splitlines().index(first_key) + 1
    directory = _copy_and_edit(tmp_path, (Edit(file, first_key, first_key + " ="),))

    with pytest.raises(KnowledgeError) as caught:
        load_knowledge_from(directory)
    assert (caught.value.file, caught.value.key_path) == (file, "(syntax)")
    assert f"(at line {line_number}, column " in caught.value.problem


SECOND_SOURCES = """
["pk-2020-poppk"]
kind = "label"
reference = "pkpd.md"
documents = "Clin Pharmacokinet 2020"
says = "CL 2.22 L/h."
"""


def test_load_knowledge_from_merges_every_sources_file(tmp_path: Path) -> None:
    directory = _copy_and_edit(tmp_path, ())
    (directory / "sources_pk.toml").write_text(SECOND_SOURCES, encoding="utf-8")

    knowledge = load_knowledge_from(directory)

    assert knowledge.sources["pk-2020-poppk"].says == "CL 2.22 L/h."
    assert "mosteller-1987" in knowledge.sources


def test_load_knowledge_from_source_id_in_two_files_names_the_second(tmp_path: Path) -> None:
    directory = _copy_and_edit(tmp_path, ())
    duplicate = SECOND_SOURCES.replace("pk-2020-poppk", "mosteller-1987")
    (directory / "sources_pk.toml").write_text(duplicate, encoding="utf-8")

    with pytest.raises(KnowledgeError) as caught:
        load_knowledge_from(directory)
    assert (caught.value.file, caught.value.key_path) == ("sources_pk.toml", "mosteller-1987")
    assert "already defined in another sources file" in caught.value.problem
