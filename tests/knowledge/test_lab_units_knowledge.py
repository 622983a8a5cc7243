"""toxicity.toml's lab measurands (issue 15, item 10): the unit table row by row against
its sources (the conversion table's factors, and every pair of figures the reference
prints in two units), the hypocalcemia terms and the TLS restatements against the
reference, and every malformed measurand named by file and key path."""

import re
import shutil
import tomllib
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from tests import shared

from blina.domain.errors import KnowledgeError
from blina.domain.toxicity import Relative
from blina.domain.toxicity.lab_units import Measurand, plain
from blina.domain.toxicity.tls import Analyte
from blina.knowledge import KNOWLEDGE_DIR, Knowledge
from blina.knowledge._loader import load_sources
from blina.knowledge._toxicity import ToxicityKnowledge, load_toxicity

REFERENCE = (shared.REFERENCE / "toxicity-and-triage.md").read_text(encoding="utf-8")

# The unit table as its sources state it: 1 <unit> = <factor> <canonical>.
# ctcae-v5.0: the reference's CTCAE table prints each cut-point in both units.
# si-units-conversion: the SI conversion table (conventional unit x factor = SI unit).
GOLDEN = [
    ("neutrophils", "10^9/L", "cells/mm3", "1000", "ctcae-v5.0"),
    ("platelets", "10^9/L", "cells/mm3", "1000", "ctcae-v5.0"),
    ("hemoglobin", "g/L", "g/dL", "0.1", "ctcae-v5.0"),
    ("potassium", "mEq/L", "mmol/L", "1", "si-units-conversion"),
    ("calcium-total", "mg/dL", "mmol/L", "0.2495", "si-units-conversion"),
    ("calcium-ionized", "mg/dL", "mmol/L", "0.2495", "si-units-conversion"),
    ("uric-acid", "mg/dL", "umol/L", "59.48", "si-units-conversion"),
    ("phosphate", "mg/dL", "mmol/L", "0.3229", "si-units-conversion"),
    ("creatinine", "mg/dL", "umol/L", "88.4", "si-units-conversion"),
]
# How the SI table names each analyte.
SI_NAMES = {
    "potassium": "potassium",
    "calcium-total": "calcium",
    "calcium-ionized": "calcium",
    "uric-acid": "uric acid",
    "phosphate": "phosphorus (inorganic)",
    "creatinine": "creatinine",
}


@pytest.fixture(scope="module")
def toxicity(knowledge: Knowledge) -> ToxicityKnowledge:
    return knowledge.toxicity


def _raw() -> dict[str, Any]:
    with (KNOWLEDGE_DIR / "toxicity.toml").open("rb") as handle:
        return tomllib.load(handle, parse_float=Decimal)


def _sources() -> dict[str, Any]:
    with (KNOWLEDGE_DIR / "sources_toxicity.toml").open("rb") as handle:
        return tomllib.load(handle)


def _row(title: str) -> list[str]:
    line = next(line for line in REFERENCE.splitlines() if line.startswith(f"| {title} |"))
    return [cell.strip() for cell in line.strip("|").split("|")][1:]


def _number(text: str) -> Decimal:
    return Decimal(text.replace(",", ""))


def _half_unit(printed: str) -> Decimal:
    """Half a unit of the last digit printed: the rounding a printed figure allows."""
    return Decimal(1).scaleb(Decimal(printed).as_tuple().exponent) / 2  # type: ignore[operator]


# --- golden: the unit table against its sources ------------------------------------------------


def test_golden_every_other_unit_is_in_the_table_and_nothing_else(
    toxicity: ToxicityKnowledge,
) -> None:
    loaded = [
        (m.id, u.code, m.canonical, u.factor)
        for m in toxicity.measurands.values()
        for u in m.units[1:]
    ]
    raw = _raw()["measurands"]
    cited = [(key, u["unit"], u["source"]) for key, m in raw.items() for u in m.get("units", [])]

    assert sorted(loaded) == sorted((m, u, c, Decimal(f)) for m, u, c, f, _ in GOLDEN)
    assert sorted(cited) == sorted((m, u, s) for m, u, _, _, s in GOLDEN)


@pytest.mark.parametrize(
    ("measurand", "unit", "canonical", "factor"),
    [row[:4] for row in GOLDEN if row[4] == "si-units-conversion"],
    ids=[row[0] for row in GOLDEN if row[4] == "si-units-conversion"],
)
def test_golden_each_si_factor_is_the_one_its_source_entry_records(
    measurand: str, unit: str, canonical: str, factor: str
) -> None:
    says = _sources()["si-units-conversion"]["says"]

    assert f"{SI_NAMES[measurand]} {unit} x {plain(Decimal(factor))} = {canonical}" in says


@pytest.mark.parametrize("title", ["Neutrophil count decreased", "Platelet count decreased"])
def test_golden_counts_per_mm3_are_the_reference_s_10_9_per_l_times_1000(
    toxicity: ToxicityKnowledge, title: str
) -> None:
    measurand = toxicity.measurands["neutrophils" if "Neutrophil" in title else "platelets"]
    unit = measurand.unit("unit", "10^9/L")
    pairs = re.findall(r"([\d,]+)/mm³ \(<LLN\u2013([\d.]+)\u00d710⁹/L\)", _row(title)[0])

    assert pairs
    for per_mm3, per_litre in pairs:
        assert measurand.to_canonical(Decimal(per_litre), unit) == _number(per_mm3)


def test_golden_haemoglobin_g_per_dl_is_the_reference_s_g_per_l_times_0_1(
    toxicity: ToxicityKnowledge,
) -> None:
    hb = toxicity.measurands["hemoglobin"]
    pairs = [
        pair
        for cell in _row("Anemia (Hgb)")
        for pair in re.findall(r"([\d.]+) g/dL \(.*?([\d.]+) g/L\)", cell)
    ]

    assert pairs == [("10.0", "100"), ("8.0", "80"), ("8.0", "80")]
    for per_dl, per_litre in pairs:
        assert hb.to_canonical(Decimal(per_litre), hb.unit("unit", "g/L")) == Decimal(per_dl)


def _agrees(measurand: Measurand, conventional: str, si: str) -> bool:
    """The exact conversion of the reference's mg/dL figure rounds to its SI figure."""
    exact = measurand.to_canonical(Decimal(conventional), measurand.unit("unit", "mg/dL"))
    return abs(exact - Decimal(si)) <= _half_unit(si)


def test_golden_calcium_factor_agrees_with_every_ctcae_pair(toxicity: ToxicityKnowledge) -> None:
    cells = _row("Hypocalcemia (corrected Ca; ionised Ca)")
    pairs = {
        pair
        for cell in cells
        for pair in re.findall(r"([\d.]+) mg/dL \(<(?:LLN\u2013)?(?:[\d.]+\u2013)?([\d.]+)", cell)
    }

    assert pairs == {("8.0", "2.0"), ("7.0", "1.75"), ("6.0", "1.5")}
    for conventional, si in pairs:
        assert _agrees(toxicity.measurands["calcium-total"], conventional, si)


TLS_ROWS = {"Uric acid": "uric-acid", "Phosphorus": "phosphate", "Calcium": "calcium-total"}


@pytest.mark.parametrize("title", TLS_ROWS)
def test_golden_factors_agree_with_every_cairo_bishop_pair(
    toxicity: ToxicityKnowledge, title: str
) -> None:
    pairs = re.findall(r"[≥≤]([\d.]+) (?:µmol/L|mmol/L) \([≥≤]([\d.]+) mg/dL\)", _row(title)[0])

    assert pairs
    for si, conventional in pairs:
        assert _agrees(toxicity.measurands[TLS_ROWS[title]], conventional, si)


def test_golden_tls_restatements_are_the_reference_s_mg_per_dl_figures(
    toxicity: ToxicityKnowledge,
) -> None:
    analytes = toxicity.tls.analytes
    figures = {
        analyte: (r.restated.adult_threshold, r.restated.child_threshold)
        for analyte, r in analytes.items()
        if r.restated is not None and r.restated.unit == "mg/dL"
    }
    printed = {title: re.findall(r"\(([≥≤])([\d.]+) mg/dL\)", _row(title)[0]) for title in TLS_ROWS}

    assert figures == {
        Analyte.URIC_ACID: (Decimal("8.0"), Decimal("8.0")),
        Analyte.PHOSPHATE: (Decimal("4.5"), Decimal("6.5")),
        Analyte.CALCIUM: (Decimal("7.0"), Decimal("7.0")),
    }
    assert printed == {
        "Uric acid": [("≥", "8.0")],
        "Phosphorus": [("≥", "6.5"), ("≥", "4.5")],
        "Calcium": [("≤", "7.0")],
    }
    assert Analyte.POTASSIUM not in figures


@pytest.mark.parametrize(
    ("term", "pattern", "expected"),
    [
        (
            "hypocalcemia",
            r"\(<(?:LLN\u2013)?(?:[\d.]+\u2013)?([\d.]+)(?: mmol/L)?\)",
            ["2.0", "1.75", "1.5"],
        ),
        (
            "hypocalcemia-ionized",
            r"ionised <(?:LLN\u2013)?(?:[\d.]+\u2013)?([\d.]+)",
            ["1.0", "0.9", "0.8"],
        ),
    ],
)
def test_golden_hypocalcemia_bands_are_the_reference_s_mmol_per_l_column(
    toxicity: ToxicityKnowledge, term: str, pattern: str, expected: list[str]
) -> None:
    cells = _row("Hypocalcemia (corrected Ca; ionised Ca)")
    printed = [re.findall(pattern, cell)[0] for cell in cells]
    bands = toxicity.ctcae.terms[term].bands

    assert printed == [*expected, expected[-1]]
    assert [(b.grade, b.relative) for b in bands] == [
        (1, Relative.LLN),
        (2, Relative.ABSOLUTE),
        (3, Relative.ABSOLUTE),
        (4, Relative.ABSOLUTE),
    ]
    assert [b.threshold for b in bands[1:]] == [Decimal(x) for x in expected]
    assert bands[0].threshold == 1


def test_every_measurand_has_a_wide_range_from_the_plausibility_policy(
    toxicity: ToxicityKnowledge,
) -> None:
    ranges = _raw()["plausibility"]["labs"]

    assert set(ranges) == set(toxicity.measurands)
    assert {r["source"] for r in ranges.values()} == {"blina-lab-plausibility"}
    says = _sources()["blina-lab-plausibility"]["says"]
    for key, bound in ranges.items():
        plausible = toxicity.measurands[key].plausible
        assert (plausible.low, plausible.high) == (bound["low"], bound["high"])
        assert f"{plausible.low:,}-{plausible.high:,} {bound['canonical']}" in says, key


def test_the_terms_and_analytes_name_their_measurands(toxicity: ToxicityKnowledge) -> None:
    terms = toxicity.ctcae.terms
    names = {t.id: t.measurand.id for t in terms.values() if t.measurand is not None}

    assert names == {
        "neutrophils": "neutrophils",
        "platelets": "platelets",
        "hemoglobin": "hemoglobin",
        "alt": "alt",
        "ast": "ast",
        "bilirubin": "bilirubin",
        "lipase": "lipase",
        "amylase": "amylase",
        "hypokalemia": "potassium",
        "hyperkalemia": "potassium",
        "febrile-neutropenia": "neutrophils",
        "hypocalcemia": "calcium-total",
        "hypocalcemia-ionized": "calcium-ionized",
    }
    assert {a: r.measurand.id for a, r in toxicity.tls.analytes.items()} == {
        Analyte.URIC_ACID: "uric-acid",
        Analyte.POTASSIUM: "potassium",
        Analyte.PHOSPHATE: "phosphate",
        Analyte.CALCIUM: "calcium-total",
    }
    assert toxicity.tls.creatinine_measurand.id == "creatinine"


# --- malformed files: KnowledgeError names the file and key path --------------------------------


def _load_edited(tmp_path: Path, old: str, new: str) -> ToxicityKnowledge:
    for path in KNOWLEDGE_DIR.glob("*.toml"):
        shutil.copy(path, tmp_path / path.name)
    target = tmp_path / "toxicity.toml"
    text = target.read_text(encoding="utf-8")
    assert old in text, old
    target.write_text(text.replace(old, new, 1), encoding="utf-8")
    return load_toxicity(target, load_sources(tmp_path))


CREATININE_RANGE = (
    '[plausibility.labs.creatinine]\ncanonical = "umol/L"\nlow = 5\nhigh = 3000\n'
    'source = "blina-lab-plausibility"\n'
)
URIC_ACID = '[measurands.uric-acid]\nname = "uric acid"\ncanonical = "umol/L"\n'

MALFORMED = [
    (CREATININE_RANGE, "", "plausibility.labs", "no plausible range for 'creatinine'", "no-range"),
    (
        '[plausibility.labs.hemoglobin]\ncanonical = "g/dL"',
        '[plausibility.labs.hemoglobin]\ncanonical = "g/L"',
        "plausibility.labs.hemoglobin.canonical",
        "canonical unit of 'hemoglobin', g/dL",
        "range-in-another-unit",
    ),
    (
        URIC_ACID + 'canonical_aliases = ["µmol/L", "μmol/L"]',
        URIC_ACID + 'canonical_aliases = ["µmol/L", "mg/dL"]',
        "measurands.uric-acid.units",
        "once",
        "alias-is-another-unit",
    ),
    (
        CREATININE_RANGE,
        CREATININE_RANGE + '\n[plausibility.labs.sodium]\ncanonical = "mmol/L"\nlow = 100\n'
        'high = 200\nsource = "blina-lab-plausibility"\n',
        "plausibility.labs.sodium",
        "not in measurands",
        "range-for-nothing",
    ),
    (
        'measurand = "hemoglobin"',
        'measurand = "haemoglobin"',
        "ctcae.terms[2].measurand",
        "'haemoglobin' is not in measurands",
        "unknown-measurand",
    ),
    (
        'unit = "g/dL"\n',
        'unit = "g/L"\n',
        "ctcae.terms[2].unit",
        "the canonical unit of measurand 'hemoglobin', g/dL",
        "term-unit-not-canonical",
    ),
    (
        '  measurand = "hemoglobin"\n',
        "",
        "ctcae.terms[2].measurand",
        "needs its measurand",
        "lab-term-without-measurand",
    ),
    (
        '  measurand = "phosphate"\n  unit = "mmol/L"',
        '  measurand = "phosphorus"\n  unit = "mmol/L"',
        "tls.analytes[2].measurand",
        "not in measurands",
        "analyte-unknown-measurand",
    ),
    (
        'creatinine_measurand = "creatinine"',
        'creatinine_measurand = "potassium"',
        "tls.creatinine_unit",
        "mmol/L",
        "creatinine-measurand-unit",
    ),
    (
        "  restated_child_threshold = 8.0\n",
        "",
        "tls.analytes[0]",
        "given together",
        "restatement-incomplete",
    ),
    (
        'restated_unit = "mg/dL"\n  restated_adult_threshold = 8.0',
        'restated_unit = "µmol/L"\n  restated_adult_threshold = 8.0',
        "tls.analytes[0].restated_unit",
        "another unit of 'uric-acid': mg/dL",
        "restated-in-the-canonical-unit",
    ),
    (
        'restated_unit = "mg/dL"\n  restated_adult_threshold = 8.0',
        'restated_unit = "mg/L"\n  restated_adult_threshold = 8.0',
        "tls.analytes[0].restated_unit",
        "another unit",
        "restated-in-an-unknown-unit",
    ),
]


@pytest.mark.parametrize(
    ("old", "new", "key_path", "problem"), [m[:4] for m in MALFORMED], ids=[m[4] for m in MALFORMED]
)
def test_a_malformed_measurand_names_file_and_key_path(
    tmp_path: Path, old: str, new: str, key_path: str, problem: str
) -> None:
    with pytest.raises(KnowledgeError) as raised:
        _load_edited(tmp_path, old, new)

    assert raised.value.file == "toxicity.toml"
    assert raised.value.key_path == key_path
    assert problem in raised.value.problem


def test_a_restatement_in_any_other_unit_of_its_measurand_loads(tmp_path: Path) -> None:
    potassium = '  analyte = "potassium"\n  measurand = "potassium"\n  unit = "mmol/L"\n'
    restated = (
        '  restated_unit = "mEq/L"\n  restated_adult_threshold = 6\n'
        "  restated_child_threshold = 6\n"
    )

    loaded = _load_edited(tmp_path, potassium, potassium + restated)

    rule = loaded.tls.analytes[Analyte.POTASSIUM].restated
    assert rule is not None
    assert (rule.unit, rule.adult_threshold) == ("mEq/L", 6)
