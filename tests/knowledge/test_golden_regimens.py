"""Golden tests: the shipped regimens, row by row, against the clinical reference.

The §1.2 (R/R) and §1.3 (MRD) dosing tables and the §2.2 bag table are parsed from the
committed snapshot of the reference, tests/knowledge/reference/blinatumomab-label.md,
so a change to either side fails here. Facts the reference states in prose are
transcribed below, each with the section it comes from.
"""

import re
from dataclasses import dataclass
from decimal import Decimal

import pytest
from tests import shared

from blina.domain.body import AgeGroup
from blina.domain.regimens import Evidence, PremedTrigger, Regimen
from blina.knowledge import Knowledge

SNAPSHOT = shared.REFERENCE / "blinatumomab-label.md"
EN_DASH = "\u2013"
EM_DASH = "\u2014"
SQUARED = "\u00b2"
GE = "\u2265"
REGIMEN_TABLE_HEADER = (
    f"| Phase | Cycle(s) | Infusion days | Dose {GE} 45 kg | Dose < 45 kg (cap) "
    "| Off-treatment | Cycle length |"
)
REGIMEN_ROW = re.compile(
    rf"^\| (?P<phase>[A-Z][a-z ]+) "
    rf"\| (?P<first_cycle>\d+)(?:{EN_DASH}(?P<last_cycle>\d+))? "
    rf"\| D(?P<first_day>\d+){EN_DASH}(?P<last_day>\d+) "
    rf"\| (?P<fixed>\d+(?:\.\d+)?) mcg/day "
    rf"\| (?P<per_m2>\d+(?:\.\d+)?) mcg/m{SQUARED}/day \(max (?P<cap>\d+(?:\.\d+)?) mcg/day\) "
    rf"\| (?:{EM_DASH}|D(?P<off_first>\d+){EN_DASH}(?P<off_last>\d+) \((?P<off_days>\d+) d\)) "
    rf"\| (?:{EM_DASH}|(?P<length>\d+) d) \|$"
)
BAG_ROW = re.compile(
    r"^\| (?:(?P<hours>\d+) h|(?P<days>\d+) days) \| [^|]+ \| (?P<preservative>[^|]+) \|"
)


@dataclass(frozen=True)
class RegimenRow:
    """One row of a reference dosing table."""

    regimen_id: str
    id: str
    phase: str
    cycles: tuple[int, ...]
    first_day: int
    last_day: int
    fixed: Decimal
    per_m2: Decimal
    cap: Decimal
    off_treatment: tuple[int, int, int] | None  # first day, last day, number of days
    length_days: int | None


def _table_after(text: str, heading: str) -> list[str]:
    """The lines of the first markdown table after the line starting with ``heading``."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(heading))
    table: list[str] = []
    for line in lines[start + 1 :]:
        if line.startswith("|"):
            table.append(line)
        elif table:
            break
    return table


def _regimen_rows(text: str, heading: str, regimen_id: str, prefix: str) -> list[RegimenRow]:
    header, separator, *body = _table_after(text, heading)
    assert header == REGIMEN_TABLE_HEADER, f"{heading}: the table's columns changed"
    assert set(separator) <= set("|-")
    rows = []
    for line in body:
        match = REGIMEN_ROW.match(line)
        if match is None:
            raise ValueError(f"{heading}: cannot parse reference row {line!r}")
        first_cycle = int(match["first_cycle"])
        last_cycle = int(match["last_cycle"] or first_cycle)
        phase = match["phase"].lower()
        cycles_id = f"c{first_cycle}" + (f"-{last_cycle}" if last_cycle != first_cycle else "")
        off = match["off_first"]
        rows.append(
            RegimenRow(
                regimen_id=regimen_id,
                id=f"{prefix}-{phase.replace(' ', '-')}-{cycles_id}-"
                f"d{match['first_day']}-{match['last_day']}",
                phase=phase,
                cycles=tuple(range(first_cycle, last_cycle + 1)),
                first_day=int(match["first_day"]),
                last_day=int(match["last_day"]),
                fixed=Decimal(match["fixed"]),
                per_m2=Decimal(match["per_m2"]),
                cap=Decimal(match["cap"]),
                off_treatment=None
                if off is None
                else (int(off), int(match["off_last"]), int(match["off_days"])),
                length_days=None if match["length"] is None else int(match["length"]),
            )
        )
    return rows


def _bag_rows(text: str) -> list[tuple[int, bool]]:
    """(hours, preservative) for each row of the §2.2 bag table."""
    rows = []
    for line in _table_after(text, "### 2.2")[2:]:
        match = BAG_ROW.match(line)
        if match is None:
            raise ValueError(f"§2.2: cannot parse reference row {line!r}")
        hours = int(match["hours"]) if match["hours"] else 24 * int(match["days"])
        diluent = match["preservative"].lower()
        assert ("preservative-free" in diluent) != ("with preservative" in diluent), line
        rows.append((hours, "with preservative" in diluent))
    return rows


REFERENCE = SNAPSHOT.read_text(encoding="utf-8")
RR_ROWS = _regimen_rows(REFERENCE, "### 1.2", "relapsed-refractory", "rr")
MRD_ROWS = _regimen_rows(REFERENCE, "### 1.3", "mrd-positive", "mrd")
TABLE_ROWS = RR_ROWS + MRD_ROWS
BAG_ROWS = _bag_rows(REFERENCE)


# --- the dosing tables, row by row --------------------------------------------------------


def test_reference_tables_parse_every_row() -> None:
    assert [row.id for row in RR_ROWS] == [
        "rr-induction-c1-d1-7",
        "rr-induction-c1-d8-28",
        "rr-induction-c2-d1-28",
        "rr-consolidation-c3-5-d1-28",
        "rr-continued-therapy-c6-9-d1-28",
    ]
    assert [row.id for row in MRD_ROWS] == [
        "mrd-induction-c1-d1-28",
        "mrd-consolidation-c2-4-d1-28",
    ]
    assert BAG_ROWS == [(24, False), (48, False), (72, True), (96, True), (168, True)]


@pytest.mark.parametrize("row", TABLE_ROWS, ids=[row.id for row in TABLE_ROWS])
def test_regimen_cycles_match_reference_row(knowledge: Knowledge, row: RegimenRow) -> None:
    regimen = knowledge.regimen(row.regimen_id)

    for number in row.cycles:
        spec = regimen.cycles[number - 1]
        assert spec.number == number
        assert spec.phase == row.phase
        steps = [
            s for s in spec.steps if (s.first_day, s.last_day) == (row.first_day, row.last_day)
        ]
        assert len(steps) == 1, f"C{number}: no dose step D{row.first_day}-{row.last_day}"
        (step,) = steps
        assert step.fixed.value == row.fixed
        assert step.per_m2.value == row.per_m2
        assert step.cap.value == row.cap
        if row.off_treatment is None:
            # "—": the cycle goes on in the next row, so this step is not the last one.
            assert step.last_day < spec.infusion_days
        else:
            off_first, off_last, off_days = row.off_treatment
            assert spec.infusion_days == row.last_day == off_first - 1
            assert spec.length_days == off_last
            assert spec.treatment_free_days == off_days
        if row.length_days is not None:
            assert spec.length_days == row.length_days


@pytest.mark.parametrize("row", TABLE_ROWS, ids=[row.id for row in TABLE_ROWS])
def test_regimen_row_sources_cite_the_reference_section(
    knowledge: Knowledge, row: RegimenRow
) -> None:
    section = "§1.2" if row.regimen_id == "relapsed-refractory" else "§1.3"
    regimen = knowledge.regimen(row.regimen_id)

    for number in row.cycles:
        spec = regimen.cycles[number - 1]
        cited = {spec.source, *(step.source for step in spec.steps)}
        assert all(section in knowledge.sources[source].reference for source in cited)


@pytest.mark.parametrize(
    ("regimen_id", "rows"),
    [("relapsed-refractory", RR_ROWS), ("mrd-positive", MRD_ROWS)],
    ids=["rr", "mrd"],
)
def test_regimen_has_no_dose_step_the_reference_lacks(
    knowledge: Knowledge, regimen_id: str, rows: list[RegimenRow]
) -> None:
    regimen = knowledge.regimen(regimen_id)
    shipped = {(c.number, s.first_day, s.last_day) for c in regimen.cycles for s in c.steps}
    reference = {(n, row.first_day, row.last_day) for row in rows for n in row.cycles}

    assert shipped == reference
    assert regimen.max_cycles == max(n for row in rows for n in row.cycles)
    for phase in regimen.phases:
        assert phase.max_cycles == len(
            {n for row in rows if row.phase == phase.name for n in row.cycles}
        )


# --- facts stated in the reference's prose -----------------------------------------------


@pytest.mark.parametrize(
    ("regimen_id", "max_cycles"),
    [
        ("relapsed-refractory", 9),  # §1.2: 2 induction + 3 consolidation + 4 continued = 9
        ("mrd-positive", 4),  # §1.3: 1 induction + up to 3 consolidation (max 4)
        ("consolidation", 4),  # §1.4, trial context: E1910, 4 cycles
    ],
)
def test_regimen_max_cycles_match_reference(
    knowledge: Knowledge, regimen_id: str, max_cycles: int
) -> None:
    regimen = knowledge.regimen(regimen_id)

    assert regimen.max_cycles == max_cycles
    assert sum(phase.max_cycles for phase in regimen.phases) == max_cycles


@pytest.mark.parametrize(
    ("regimen_id", "hospital_days"),
    [
        # §1.2: first 9 days of cycle 1 and first 2 days of cycle 2.
        ("relapsed-refractory", (9, 2, 0, 0, 0, 0, 0, 0, 0)),
        # §1.3: first 3 days of cycle 1, first 2 days of cycle 2.
        ("mrd-positive", (3, 2, 0, 0)),
        # §1.4 verified items: first 3 days of cycle 1, first 2 days of cycle 2.
        ("consolidation", (3, 2, 0, 0)),
    ],
)
def test_regimen_hospital_days_match_reference(
    knowledge: Knowledge, regimen_id: str, hospital_days: tuple[int, ...]
) -> None:
    regimen = knowledge.regimen(regimen_id)

    assert tuple(spec.inpatient_days for spec in regimen.cycles) == hospital_days
    assert {knowledge.sources[s.inpatient_source].reference for s in regimen.cycles} <= {
        "blinatumomab-label.md §1.2 (hospitalization)",
        "blinatumomab-label.md §1.3 (hospitalization)",
        "blinatumomab-label.md §1.4 (verified items)",
    }


@dataclass(frozen=True)
class Premed:
    drug: str
    dose_mg: Decimal | None
    dose_mg_per_m2: Decimal | None
    max_dose_mg: Decimal | None
    cycles: tuple[int, ...] | None  # None: every cycle
    triggers: frozenset[PremedTrigger]
    minutes_before: int | None  # None: "before", no interval stated


START, STEP, RESTART = PremedTrigger.CYCLE_START, PremedTrigger.STEP_UP, PremedTrigger.RESTART
PEDIATRIC_DEX_C1 = Premed(
    "dexamethasone", None, Decimal(5), Decimal(20), (1,), frozenset({START, RESTART}), None
)

PREMEDICATION = {
    # §1.2 adults: dexamethasone 20 mg, 1 h before the first dose of each cycle, before a
    # step dose, and when restarting after an interruption of >= 4 h.
    ("relapsed-refractory", AgeGroup.ADULT): Premed(
        "dexamethasone", Decimal(20), None, None, None, frozenset({START, STEP, RESTART}), 60
    ),
    # §1.2 pediatric: 5 mg/m2 (max 20 mg) before the first dose, before a step dose, and on
    # restart, in cycle 1.
    ("relapsed-refractory", AgeGroup.PEDIATRIC): Premed(
        "dexamethasone",
        None,
        Decimal(5),
        Decimal(20),
        (1,),
        frozenset({START, STEP, RESTART}),
        None,
    ),
    # §1.3 adults: prednisone 100 mg 1 h before the first dose of each cycle.
    ("mrd-positive", AgeGroup.ADULT): Premed(
        "prednisone", Decimal(100), None, None, None, frozenset({START}), 60
    ),
    # §1.3 pediatric: 5 mg/m2 (max 20 mg) before the first dose in cycle 1, and on restart
    # in cycle 1.
    ("mrd-positive", AgeGroup.PEDIATRIC): PEDIATRIC_DEX_C1,
    # §1.4 adults: dexamethasone 20 mg IV within 1 h before the first dose of each cycle.
    ("consolidation", AgeGroup.ADULT): Premed(
        "dexamethasone", Decimal(20), None, None, None, frozenset({START}), 60
    ),
    # §1.4 pediatric: 5 mg/m2 IV or oral (max 20 mg) before the first dose of cycle 1 and on
    # restart in cycle 1.
    ("consolidation", AgeGroup.PEDIATRIC): PEDIATRIC_DEX_C1,
}


@pytest.mark.parametrize(
    ("regimen_id", "age_group"),
    list(PREMEDICATION),
    ids=[f"{regimen_id}-{group}" for regimen_id, group in PREMEDICATION],
)
def test_regimen_premedication_matches_reference(
    knowledge: Knowledge, regimen_id: str, age_group: AgeGroup
) -> None:
    expected = PREMEDICATION[regimen_id, age_group]
    rules = [r for r in knowledge.regimen(regimen_id).premedication if r.age_group is age_group]

    assert len(rules) == 1
    (rule,) = rules
    assert rule.drug == expected.drug
    assert (None if rule.dose is None else rule.dose.value) == expected.dose_mg
    assert (None if rule.dose_per_m2 is None else rule.dose_per_m2.value) == (
        expected.dose_mg_per_m2
    )
    assert (None if rule.max_dose is None else rule.max_dose.value) == expected.max_dose_mg
    assert rule.cycles == expected.cycles
    assert rule.triggers == expected.triggers
    if expected.minutes_before is not None:
        assert rule.minutes_before == expected.minutes_before
    assert rule.source in knowledge.sources


def test_regimen_mrd_adult_premedication_names_dexamethasone_16mg(knowledge: Knowledge) -> None:
    # §1.3: "prednisone 100 mg IV or an equivalent (example given: dexamethasone 16 mg)".
    (rule,) = [
        r for r in knowledge.regimen("mrd-positive").premedication if r.age_group is AgeGroup.ADULT
    ]

    assert rule.route == "IV"
    assert rule.alternative is not None
    assert "dexamethasone 16 mg" in rule.alternative


@pytest.mark.parametrize("regimen_id", ["relapsed-refractory", "mrd-positive", "consolidation"])
def test_regimen_weight_threshold_is_45kg(knowledge: Knowledge, regimen_id: str) -> None:
    # §1.1: >= 45 kg a fixed dose; < 45 kg per m2, capped at the fixed adult dose.
    regimen = knowledge.regimen(regimen_id)

    assert regimen.weight_threshold.value == 45
    for spec in regimen.cycles:
        assert all(step.cap == step.fixed for step in spec.steps)


def test_regimen_rr_step_up_only_on_cycle_1_day_8(knowledge: Knowledge) -> None:
    # §1.2: "Step-up dose exists only in cycle 1 (day 8)."
    regimen = knowledge.regimen("relapsed-refractory")
    step_ups = [(c.number, s.first_day) for c in regimen.cycles for s in c.steps[1:]]

    assert step_ups == [(1, 8)]


def test_regimen_mrd_has_no_step_up(knowledge: Knowledge) -> None:
    # §1.3: "No step-up dose."
    assert all(len(c.steps) == 1 for c in knowledge.regimen("mrd-positive").cycles)


def test_regimen_consolidation_follows_e1910_and_eu_pediatric_text(knowledge: Knowledge) -> None:
    # §1.4 trial context: E1910, 28 mcg/day x 28 days per cycle, 4 cycles; EU/HK text for
    # < 45 kg: 15 mcg/m2/day, max 28 mcg/day, D1-28. §1.2 (US-2014): at least 2 weeks
    # treatment-free between cycles. The US label's table was NOT RETRIEVED: evidence is trial.
    regimen = knowledge.regimen("consolidation")

    assert regimen.evidence is Evidence.TRIAL
    assert regimen.source == "trial-e1910"
    assert [p.name for p in regimen.phases] == ["consolidation"]
    for spec in regimen.cycles:
        (step,) = spec.steps
        assert (step.first_day, step.last_day) == (1, 28)
        assert (step.fixed.value, step.per_m2.value, step.cap.value) == (28, 15, 28)
        assert spec.infusion_days == 28
        assert spec.treatment_free_days >= 14


@pytest.mark.parametrize(
    ("regimen_id", "evidence"),
    [("relapsed-refractory", Evidence.LABEL), ("mrd-positive", Evidence.LABEL)],
)
def test_regimen_label_regimens_rest_on_the_label(
    knowledge: Knowledge, regimen_id: str, evidence: Evidence
) -> None:
    assert knowledge.regimen(regimen_id).evidence is evidence


@pytest.mark.parametrize(
    ("hours", "preservative"), BAG_ROWS, ids=[f"bag-{h}h" for h, _ in BAG_ROWS]
)
def test_regimen_bag_options_match_reference_row(
    knowledge: Knowledge, hours: int, preservative: bool
) -> None:
    for regimen in knowledge.regimens_by_id.values():
        option = regimen.bag_option(hours)
        assert option is not None
        assert option.preservative is preservative


def test_regimen_bag_options_are_exactly_the_reference_rows(knowledge: Knowledge) -> None:
    for regimen in knowledge.regimens_by_id.values():
        assert [(b.hours, b.preservative) for b in regimen.bag_options] == BAG_ROWS


@pytest.mark.parametrize(
    ("hours", "min_weight_kg", "older_min_weight_kg"),
    [
        (24, None, None),
        (48, None, None),
        # §2.2 weight restrictions: ASHP-2025 (newest) not below 5.4 kg for every
        # preservative bag; older sources: the 7-day bag not below 22 kg.
        (72, Decimal("5.4"), None),
        (96, Decimal("5.4"), None),
        (168, Decimal("5.4"), Decimal("22")),
    ],
)
def test_regimen_bag_weight_floors_match_reference(
    knowledge: Knowledge,
    hours: int,
    min_weight_kg: Decimal | None,
    older_min_weight_kg: Decimal | None,
) -> None:
    option = knowledge.regimen("relapsed-refractory").bag_option(hours)

    assert option is not None
    assert (None if option.min_weight is None else option.min_weight.value) == min_weight_kg
    assert (
        None if option.older_min_weight is None else option.older_min_weight.value
    ) == older_min_weight_kg
    if min_weight_kg is not None:
        assert option.min_weight_source == "ashp-2025-preservative-weight"
    if older_min_weight_kg is not None:
        assert option.older_min_weight_source == "health-canada-2018-7day"


def test_regimen_bag_option_not_allowed_is_none(knowledge: Knowledge) -> None:
    assert knowledge.regimen("relapsed-refractory").bag_option(12) is None


@pytest.mark.parametrize(
    ("kind", "hours"),
    [
        ("contraception", 48),  # §6 embryo-fetal toxicity: at least 48 h after the last dose
        ("no-breastfeeding", 48),  # §6 lactation: 48 h after the last dose
        ("body-fluids", 48),  # §6 caregiver handling: 48 h after the infusion
        ("no-driving", 0),  # §6 driving: while receiving the drug
        ("live-vaccines", None),  # §6 immunization: timing NOT RETRIEVED
    ],
)
def test_regimen_precautions_match_reference(
    knowledge: Knowledge, kind: str, hours: int | None
) -> None:
    for regimen in knowledge.regimens_by_id.values():
        (rule,) = [p for p in regimen.precautions if p.kind == kind]
        assert rule.hours_after_last_infusion == hours


def test_regimen_max_dose_is_28_mcg_per_day(knowledge: Knowledge) -> None:
    # §1.2 / §1.3: the highest fixed dose and cap is 28 mcg/day.
    assert {r.max_dose.value for r in knowledge.regimens_by_id.values()} == {Decimal(28)}


def test_regimen_rr_continued_therapy_cycles_are_84_days(knowledge: Knowledge) -> None:
    regimen: Regimen = knowledge.regimen("relapsed-refractory")

    assert [c.length_days for c in regimen.cycles] == [42] * 5 + [84] * 4
    assert [c.treatment_free_days for c in regimen.cycles] == [14] * 5 + [56] * 4
