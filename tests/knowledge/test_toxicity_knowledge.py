"""toxicity.toml: the label's modification table row by row against the reference, the
grading criteria as loaded, and every malformed file named by file and key path."""

import re
import shutil
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from tests import shared

from blina.domain.errors import KnowledgeError
from blina.domain.modifications import (
    ActionKind,
    AdverseReaction,
    ModificationRow,
    Rule,
    WeightBand,
)
from blina.domain.toxicity.crs import Hypotension, OxygenSupport
from blina.domain.units import McgPerDay, McgPerM2PerDay, Mg, MgPerM2
from blina.knowledge import KNOWLEDGE_DIR, Knowledge
from blina.knowledge._loader import load_sources
from blina.knowledge._toxicity import ToxicityKnowledge, load_toxicity

REFERENCE = shared.REFERENCE / "blinatumomab-label.md"
NUMBER = re.compile(r"\d+(?:\.\d+)?")


def _section(title: str) -> list[list[str]]:
    """The table rows (cells) of the reference section starting with ``title``."""
    text = REFERENCE.read_text(encoding="utf-8")
    body = text.split(title, 1)[1].split("\n### ", 1)[0]
    rows = [line for line in body.splitlines() if line.startswith("|")]
    return [[cell.strip() for cell in row.strip("|").split("|")] for row in rows[2:]]


TABLE_5_1 = _section("### 5.1")
TABLE_5_2 = _section("### 5.2")


@pytest.fixture(scope="module")
def toxicity(knowledge: Knowledge) -> ToxicityKnowledge:
    return knowledge.toxicity


def _row(toxicity: ToxicityKnowledge, row_id: str) -> ModificationRow:
    return next(row for row in toxicity.modifications.rows if row.id == row_id)


def _cell(table: list[list[str]], reaction: str, grade: str, column: int) -> str:
    row = next(r for r in table if r[0] == reaction and r[1] == grade)
    return row[column] if row[column] != "same" else row[column - 1]


def _numbers(text: str) -> set[str]:
    return {str(Decimal(n).normalize()) for n in NUMBER.findall(text)}


def _rule_text(rule: Rule) -> str:
    steroid = "" if rule.corticosteroid is None else rule.corticosteroid.text
    return f"{rule.text} {steroid}"


# --- golden: the current table (5.1), cell by cell ---------------------------------------------

# (reference reaction, grade, column 2 = >= 45 kg / 3 = < 45 kg, row id)
GOLDEN_5_1 = [
    ("CRS", "3", 2, "crs-3-at-or-above-45kg", "5.1-crs-3-ge45kg"),
    ("CRS", "3", 3, "crs-3-below-45kg", "5.1-crs-3-lt45kg"),
    ("CRS", "4", 2, "crs-4-at-or-above-45kg", "5.1-crs-4-ge45kg"),
    ("CRS", "4", 3, "crs-4-below-45kg", "5.1-crs-4-lt45kg"),
    ("Neurological toxicity", "Seizure", 2, "seizure", "5.1-neuro-seizure"),
    ("Neurological toxicity", "3", 2, "neurological-3-at-or-above-45kg", "5.1-neuro-3-ge45kg"),
    (
        "Neurological toxicity",
        "3",
        3,
        "neurological-3-below-45kg",
        "5.1-neuro-3-lt45kg-not-retrieved",
    ),
    ("Neurological toxicity", "4", 2, "neurological-4", "5.1-neuro-4-not-retrieved"),
    (
        "Other clinically relevant AR",
        "3 / 4",
        2,
        "other-3-at-or-above-45kg",
        "5.1-other-3-not-retrieved",
    ),
    (
        "Other clinically relevant AR",
        "3 / 4",
        3,
        "other-3-below-45kg",
        "5.1-other-3-lt45kg-not-retrieved",
    ),
    ("Other clinically relevant AR", "3 / 4", 2, "other-4", "5.1-other-4-not-retrieved"),
]


@pytest.mark.parametrize(
    ("reaction", "grade", "column", "row_id"),
    [g[:4] for g in GOLDEN_5_1],
    ids=[g[4] for g in GOLDEN_5_1],
)
def test_golden_5_1_each_cell_is_the_current_rule_or_a_marked_gap(
    toxicity: ToxicityKnowledge, reaction: str, grade: str, column: int, row_id: str
) -> None:
    cell = _cell(TABLE_5_1, reaction, grade, column)
    row = _row(toxicity, row_id)

    if cell.startswith("**NOT RETRIEVED**"):
        assert row.current is None
        assert row.current_gap is not None
        assert "NOT RETRIEVED" in row.current_gap
        assert row.older is not None
        return
    assert row.current is not None
    assert row.current.source.startswith("label-5.1-")
    if "NOT RETRIEVED" in cell:
        assert row.current.gaps
    numbers = _numbers(cell.split("**NOT RETRIEVED**")[0])
    if "as for grade 3" in cell:
        numbers |= _numbers(_cell(TABLE_5_1, reaction, "3", column))
        numbers -= {"9", "28", "5", "15", "7"}  # restart doses: grade 3 only
    assert numbers <= _numbers(_rule_text(row.current))


def test_golden_5_1_every_reference_row_is_encoded() -> None:
    covered = {(g[0], g[1]) for g in GOLDEN_5_1}

    assert {(r[0], r[1]) for r in TABLE_5_1} == covered


# --- golden: the older US-2014 table (5.2), shown beside ---------------------------------------

GOLDEN_5_2 = [
    ("CRS", "3", "crs-3-at-or-above-45kg", "5.2-crs-3"),
    ("CRS", "4", "crs-4-at-or-above-45kg", "5.2-crs-4"),
    ("Neurologic", "Seizure", "seizure", "5.2-neuro-seizure"),
    ("Neurologic", "3", "neurological-3-at-or-above-45kg", "5.2-neuro-3"),
    ("Neurologic", "4", "neurological-4", "5.2-neuro-4"),
    ("Other clinically relevant", "3", "other-3-at-or-above-45kg", "5.2-other-3"),
    ("Other clinically relevant", "4", "other-4", "5.2-other-4"),
]


@pytest.mark.parametrize(
    ("reaction", "grade", "row_id"), [g[:3] for g in GOLDEN_5_2], ids=[g[3] for g in GOLDEN_5_2]
)
def test_golden_5_2_each_row_is_the_older_rule_beside(
    toxicity: ToxicityKnowledge, reaction: str, grade: str, row_id: str
) -> None:
    cell = _cell(TABLE_5_2, reaction, grade, 2)
    older = _row(toxicity, row_id).older

    assert older is not None
    assert older.edition == "US label 2014"
    assert older.source.startswith("us-2014-5.2-")
    assert _numbers(cell) <= _numbers(older.text)


def test_golden_5_2_premedication_on_restart_row(toxicity: ToxicityKnowledge) -> None:
    cell = _cell(TABLE_5_2, "Premedication on restart", "—", 2)
    interruptions = toxicity.modifications.interruptions

    assert _numbers(cell) <= _numbers(interruptions.older_restart_premedication)
    assert interruptions.older_restart_premedication_source == "us-2014-5.2-premed"


def test_golden_5_2_every_reference_row_is_encoded() -> None:
    covered = {(g[0], g[1]) for g in GOLDEN_5_2} | {("Premedication on restart", "—")}

    assert {(r[0], r[1]) for r in TABLE_5_2} == covered


@pytest.mark.parametrize(
    "row_id", ["neurological-3-below-45kg", "other-3-below-45kg"], ids=["neuro-3", "other-3"]
)
def test_golden_5_2_below_45kg_older_rule_has_no_dose_and_says_why(
    toxicity: ToxicityKnowledge, row_id: str
) -> None:
    older = _row(toxicity, row_id).older

    assert older is not None
    assert older.restart is None
    assert "(source us-2014-fixed-dosing)" in older.text
    assert older.gaps


# --- the rows as structured data, transcribed from the reference --------------------------------


def _mcg(value: str) -> McgPerDay:
    return McgPerDay(Decimal(value))


# (row id, kind, restart (fixed or per m2, cap), step-up, steroid dose, recovery, resolution)
STRUCTURED = [
    (
        "crs-3-at-or-above-45kg",
        ActionKind.INTERRUPT,
        (_mcg("9"), None, None),
        (7, _mcg("28"), None, None),
        (Mg(Decimal("8")), None, None),
        None,
        None,
    ),
    (
        "crs-3-below-45kg",
        ActionKind.INTERRUPT,
        (None, McgPerM2PerDay(Decimal("5")), _mcg("9")),
        (7, None, McgPerM2PerDay(Decimal("15")), _mcg("28")),
        (None, MgPerM2(Decimal("5")), Mg(Decimal("8"))),
        None,
        None,
    ),
    (
        "crs-4-at-or-above-45kg",
        ActionKind.DISCONTINUE,
        None,
        None,
        (Mg(Decimal("8")), None, None),
        None,
        None,
    ),
    (
        "crs-4-below-45kg",
        ActionKind.DISCONTINUE,
        None,
        None,
        (None, MgPerM2(Decimal("5")), Mg(Decimal("8"))),
        None,
        None,
    ),
    (
        "neurological-3-at-or-above-45kg",
        ActionKind.INTERRUPT,
        (_mcg("9"), None, None),
        (7, _mcg("28"), None, None),
        None,
        3,
        None,
    ),
    ("neurological-3-below-45kg", ActionKind.INTERRUPT, None, None, None, 3, 7),
    ("neurological-4", ActionKind.DISCONTINUE, None, None, None, None, None),
    (
        "other-3-at-or-above-45kg",
        ActionKind.INTERRUPT,
        (_mcg("9"), None, None),
        (7, _mcg("28"), None, None),
        None,
        3,
        14,
    ),
    ("other-3-below-45kg", ActionKind.INTERRUPT, None, None, None, 3, 14),
    ("other-4", ActionKind.CONSIDER_DISCONTINUATION, None, None, None, None, None),
    ("liver", ActionKind.INTERRUPT, None, None, None, None, None),
    ("neutropenia", ActionKind.INTERRUPT, None, None, None, None, None),
    (
        "pancreatitis-3-at-or-above-45kg",
        ActionKind.INTERRUPT,
        (_mcg("9"), None, None),
        (7, _mcg("28"), None, None),
        None,
        None,
        None,
    ),
    ("pancreatitis-3-below-45kg", ActionKind.INTERRUPT, None, None, None, None, None),
    ("overdose", ActionKind.INTERRUPT, None, None, None, None, None),
]


@pytest.mark.parametrize(
    ("row_id", "kind", "restart", "step_up", "steroid", "recovery", "resolution"),
    STRUCTURED,
    ids=[s[0] for s in STRUCTURED],
)
def test_modification_row_acting_rule_as_transcribed(
    toxicity: ToxicityKnowledge,
    row_id: str,
    kind: ActionKind,
    restart: tuple[object, ...] | None,
    step_up: tuple[object, ...] | None,
    steroid: tuple[object, ...] | None,
    recovery: int | None,
    resolution: int | None,
) -> None:
    rule = _row(toxicity, row_id).acting

    assert rule.kind is kind
    got_restart = (
        None
        if rule.restart is None
        else (rule.restart.fixed, rule.restart.per_m2, rule.restart.cap)
    )
    assert got_restart == restart
    got_step = (
        None
        if rule.step_up is None
        else (rule.step_up_after_days, rule.step_up.fixed, rule.step_up.per_m2, rule.step_up.cap)
    )
    assert got_step == step_up
    cs = rule.corticosteroid
    assert (None if cs is None else (cs.dose, cs.dose_per_m2, cs.max_dose)) == steroid
    if cs is not None:
        assert (cs.drug, cs.every_hours, cs.max_days, cs.taper_days) == ("dexamethasone", 8, 3, 4)
    assert (rule.min_recovery_days, rule.max_resolution_days) == (recovery, resolution)


def test_modification_rows_cover_each_reaction_grade_and_band_once(
    toxicity: ToxicityKnowledge,
) -> None:
    seen: set[tuple[AdverseReaction, int, WeightBand]] = set()
    for row in toxicity.modifications.rows:
        bands = (
            [WeightBand.AT_OR_ABOVE, WeightBand.BELOW]
            if row.weight_band is WeightBand.ANY
            else [row.weight_band]
        )
        for grade in row.grades:
            for band in bands:
                assert (row.reaction, grade, band) not in seen
                seen.add((row.reaction, grade, band))
    assert (AdverseReaction.CRS, 3, WeightBand.BELOW) in seen


def test_seizure_rows_allow_one_seizure(toxicity: ToxicityKnowledge) -> None:
    row = _row(toxicity, "seizure")

    assert row.current is not None
    assert row.older is not None
    assert (row.current.max_seizures, row.older.max_seizures) == (1, 1)


def test_interruption_rules_as_in_the_reference(toxicity: ToxicityKnowledge) -> None:
    rules = toxicity.modifications.interruptions

    assert (rules.same_cycle_max_days, rules.restart_care_min_hours) == (7, 4)
    assert _row(toxicity, "overdose").acting.min_restart_hours == 12


# --- grading criteria as loaded ---------------------------------------------------------------


def test_crs_criteria_thresholds_and_levels(toxicity: ToxicityKnowledge) -> None:
    crs = toxicity.crs

    assert (crs.fever_min_c, crs.low_flow_max_l_per_min) == (Decimal("38.0"), Decimal("6"))
    assert [crs.hypotension[h].grade for h in Hypotension] == [0, 2, 3, 4]
    assert [crs.oxygen[o].grade for o in OxygenSupport] == [0, 2, 3, 4]
    assert crs.temperature_c.describe() == ">= 30 and <= 45"


def test_icans_criteria_ice_bands_and_ages(toxicity: ToxicityKnowledge) -> None:
    icans = toxicity.icans

    assert [(b.low, b.high, b.grade) for b in icans.ice_bands] == [
        (10, 10, 0),
        (7, 9, 1),
        (3, 6, 2),
        (0, 2, 3),
    ]
    assert icans.capd_below_age_years == 12
    assert [i.reverse for i in icans.capd_items] == [True] * 4 + [False] * 4


def test_tls_criteria_thresholds(toxicity: ToxicityKnowledge) -> None:
    tls = toxicity.tls

    assert (tls.min_abnormal, tls.window_before, tls.window_after) == (
        2,
        timedelta(days=3),
        timedelta(days=7),
    )
    assert [b.grade for b in tls.creatinine_bands] == [1, 2, 3, 4]


def test_corticosteroid_without_taper_reads_without_it(tmp_path: Path) -> None:
    loaded = _load_edited(tmp_path, "    taper_days = 4\n", "")

    steroid = next(
        r.current for r in loaded.modifications.rows if r.current and r.current.corticosteroid
    )
    assert steroid is not None
    assert steroid.corticosteroid is not None
    assert "taper" not in steroid.corticosteroid.text


# --- malformed files: KnowledgeError names the file and key path --------------------------------


def _load_edited(tmp_path: Path, old: str, new: str) -> ToxicityKnowledge:
    for path in KNOWLEDGE_DIR.glob("*.toml"):
        shutil.copy(path, tmp_path / path.name)
    target = tmp_path / "toxicity.toml"
    text = target.read_text(encoding="utf-8")
    assert old in text, old
    target.write_text(text.replace(old, new, 1), encoding="utf-8")
    return load_toxicity(target, load_sources(tmp_path))


def _drop(block_marker: str) -> tuple[str, str]:
    """The text of the array-of-tables entry whose body starts with ``block_marker``."""
    text = (KNOWLEDGE_DIR / "toxicity.toml").read_text(encoding="utf-8")
    start = text.index(block_marker)
    start = text.rindex("[[", 0, start)
    start = text.rindex("\n", 0, start) + 1
    end = text.index("\n\n", start) + 2
    return text[start:end], ""


NEW_ROW = (
    '\n[[modifications.rows]]\nid = "x"\nreaction = "infection"\ngrades = [3]\n'
    'weight_band = "any"\n'
)
EMPTY_TERM = (
    '  [[ctcae.terms]]\n  id = "empty"\n  term = "Empty"\n  source = "ctcae-v5.0"\n\n# --- TLS'
)

MALFORMED = [
    (
        'level = "fluids"',
        'level = "none"',
        "crs.hypotension[1].level",
        "appears twice",
        "duplicate-level",
    ),
    (
        *_drop('level = "multiple-vasopressors"'),
        "crs.hypotension",
        "missing levels",
        "missing-level",
    ),
    (
        "low = 7\n  high = 9",
        "low = 8\n  high = 9",
        "icans.ice_bands",
        "without gaps",
        "ice-band-gap",
    ),
    (
        "low = 10\n  high = 10",
        "low = 10\n  high = 11",
        "icans.ice_bands",
        "0 to 10",
        "ice-band-past-max",
    ),
    ('id = "naming"', 'id = "orientation"', "icans.ice_items", "unique", "duplicate-ice-item"),
    (
        'id = "platelets"',
        'id = "neutrophils"',
        "ctcae.terms[1].id",
        "appears twice",
        "duplicate-term",
    ),
    ("# --- TLS", EMPTY_TERM, "ctcae.terms[19]", "bands, findings", "term-with-nothing"),
    ('unit = "g/dL"\n', "", "ctcae.terms[2].unit", "needs its unit", "lab-term-without-unit"),
    (
        'id = "responds-promptly"',
        'id = "mild"',
        "ctcae.terms[16].findings",
        "unique",
        "duplicate-finding",
    ),
    (
        'analyte = "potassium"',
        'analyte = "uric-acid"',
        "tls.analytes[1].analyte",
        "appears twice",
        "duplicate-analyte",
    ),
    (*_drop('analyte = "calcium"'), "tls.analytes", "missing analytes: calcium", "missing-analyte"),
    (
        'relative = "uln"\n  text = "grade 1: 1.5 x ULN"',
        'relative = "absolute"\n  text = "g1"',
        "tls.creatinine_bands",
        "multiples of the ULN",
        "creatinine-absolute",
    ),
    (
        "restart_mcg_per_m2_per_day = 5\n",
        "",
        "modifications.rows[1].current.restart",
        "needs a dose per m2",
        "cap-without-dose",
    ),
    (
        "restart_mcg_per_day = 9\n  step_up_after_days = 7",
        "restart_mcg_per_day = 9\n  restart_cap_mcg_per_day = 9\n  step_up_after_days = 7",
        "modifications.rows[0].current.restart",
        "only to a dose per m2",
        "cap-on-fixed-dose",
    ),
    (
        'restart_cap_mcg_per_day = 9\n  restart_cap_source = "label-1.1-restart-cap"\n',
        "",
        "modifications.rows[1].current.restart",
        "needs its cap",
        "per-m2-without-cap",
    ),
    (
        "    dose_mg = 8\n",
        "    dose_mg = 8\n    dose_mg_per_m2 = 5\n",
        "modifications.rows[0].current.corticosteroid",
        "exactly one of",
        "steroid-two-doses",
    ),
    (
        "    dose_mg = 8\n",
        "    dose_mg = 8\n    max_dose_mg = 8\n",
        "modifications.rows[0].current.corticosteroid.max_dose_mg",
        "only to dose_mg_per_m2",
        "steroid-max-on-fixed",
    ),
    (
        '  step_up_after_days = 7\n  step_up_mcg_per_day = 28\n  source = "label-5.1-crs"',
        '  step_up_mcg_per_day = 28\n  source = "label-5.1-crs"',
        "modifications.rows[0].current",
        "step_up_after_days",
        "step-up-without-days",
    ),
    (
        "  restart_mcg_per_day = 9\n  step_up_after_days = 7\n  step_up_mcg_per_day = 28\n"
        '  source = "uk-dhpc',
        '  step_up_after_days = 7\n  step_up_mcg_per_day = 28\n  source = "uk-dhpc',
        "modifications.rows[13].current",
        "restart dose to step up from",
        "step-up-without-restart",
    ),
    (
        'id = "crs-4-below-45kg"',
        'id = "crs-4-at-or-above-45kg"',
        "modifications.rows[3].id",
        "appears twice",
        "duplicate-row-id",
    ),
    (
        'grades = [3, 4]\nweight_band = "any"\n',
        'grades = [3, 4]\nweight_band = "any"\ncurrent_gap = "x"\n',
        "modifications.rows[11].current_gap",
        "exactly when",
        "gap-beside-a-current-rule",
    ),
    (
        "grades = [3, 4]",
        "grades = [3, 5]",
        "modifications.rows[11].grades",
        "1 to 4",
        "grade-5-row",
    ),
    (
        'id = "overdose"\nreaction = "overdose"',
        'id = "overdose"\nreaction = "liver"',
        "modifications.rows[15]",
        "already in row 'liver'",
        "two-rows-one-case",
    ),
    (
        'source = "astct-2019-crs"',
        'source = "nowhere"',
        "crs.source",
        "not in sources.toml",
        "unknown-source",
    ),
    ("fever_min_c = 38.0", 'fever_min_c = "hot"', "crs.fever_min_c", "", "not-a-number"),
    (
        'child_step_row = "crs-3-below-45kg"',
        'child_step_row = "nowhere"',
        "modifications.interruptions.child_step_row",
        "must name a row whose current rule has a restart dose",
        "child-step-unknown-row",
    ),
    (
        'child_step_row = "crs-3-below-45kg"',
        'child_step_row = "crs-3-at-or-above-45kg"',
        "modifications.interruptions.child_step_row",
        "the child's step is a restart and a step-up per m2",
        "child-step-fixed-dose",
    ),
]


@pytest.mark.parametrize(
    ("old", "new", "key_path", "problem"), [m[:4] for m in MALFORMED], ids=[m[4] for m in MALFORMED]
)
def test_load_toxicity_malformed_names_file_and_key_path(
    tmp_path: Path, old: str, new: str, key_path: str, problem: str
) -> None:
    with pytest.raises(KnowledgeError) as raised:
        _load_edited(tmp_path, old, new)

    assert raised.value.file == "toxicity.toml"
    assert raised.value.key_path.startswith(key_path)
    assert problem in raised.value.problem


def test_load_toxicity_row_with_neither_rule_is_refused(tmp_path: Path) -> None:
    text = (KNOWLEDGE_DIR / "toxicity.toml").read_text(encoding="utf-8")
    with pytest.raises(KnowledgeError) as raised:
        _load_edited(tmp_path, text[-40:], text[-40:] + NEW_ROW)

    assert raised.value.key_path == "modifications.rows[16]"
    assert raised.value.problem == "a row needs a current rule, an older rule or both"
