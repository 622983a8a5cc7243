"""The shipped PK model against the reference's table (pkpd.md §2.2, its snapshot), and
a malformed pk.toml named by its key path."""

import re
import shutil
from decimal import Decimal
from pathlib import Path

import pytest
from tests import shared

from blina.domain.errors import KnowledgeError
from blina.knowledge import KNOWLEDGE_DIR, Knowledge, load_knowledge_from

SNAPSHOT = shared.REFERENCE / "pkpd.md"


def _row(label: str) -> str:
    text = SNAPSHOT.read_text(encoding="utf-8")
    section = text[text.index("### 2.2 Population PK model") : text.index("### 2.3")]
    match = re.search(rf"^\| {re.escape(label)} \|.*$", section, re.M)
    assert match is not None, f"§2.2 has no row {label!r}"
    return match.group(0)


@pytest.mark.parametrize(
    ("label", "text", "field", "value"),
    [
        ("CL (typical, BSA 1.876 m2)", "2.22 L/h", "clearance_l_per_h", "2.22"),
        ("CL (typical, BSA 1.876 m2)", "BSA 1.876 m2", "reference_bsa_m2", "1.876"),
        ("V", "5.98 L", "volume_l", "5.98"),
        ("BSA on CL", "(BSA/1.876)^0.620", "bsa_exponent", "0.620"),
        ("IIV on CL", "47.6 %CV", "clearance_cv", "0.476"),
        ("residual error", "SD 0.559", "residual_log_sd", "0.559"),
        ("IIV on residual magnitude", "64.3 %CV", "residual_magnitude_cv", "0.643"),
    ],
    ids=lambda value: str(value)[:24],
)
def test_pk_model_equals_the_reference_table(
    knowledge: Knowledge, label: str, text: str, field: str, value: str
) -> None:
    assert text in _row(label)

    assert getattr(knowledge.pk, field) == Decimal(value)


def test_pk_model_has_one_compartment_and_a_source_for_every_group(knowledge: Knowledge) -> None:
    model = knowledge.pk

    assert model.compartments == 1
    assert model.peripheral_volume_l is None  # NOT RETRIEVED: no two-compartment model
    assert set(model.sources) == {
        "structure",
        "clearance",
        "volume",
        "variability",
        "residual",
        "peripheral",
    }
    assert all(source in knowledge.sources for source in model.sources.values())


def test_pk_toml_transfer_clearance_other_than_zero_is_refused(tmp_path: Path) -> None:
    copy = shutil.copytree(KNOWLEDGE_DIR, tmp_path / "knowledge")
    path = copy / "pk.toml"
    path.write_text(
        path.read_text(encoding="utf-8").replace(
            "intercompartmental_l_per_h = 0", "intercompartmental_l_per_h = 1.5"
        ),
        encoding="utf-8",
    )

    with pytest.raises(KnowledgeError) as caught:
        load_knowledge_from(copy)
    assert (caught.value.file, caught.value.key_path) == (
        "pk.toml",
        "peripheral.intercompartmental_l_per_h",
    )


def test_pk_toml_discrepancy_tolerance_must_be_a_fraction(tmp_path: Path) -> None:
    copy = shutil.copytree(KNOWLEDGE_DIR, tmp_path / "knowledge")
    path = copy / "pk.toml"
    text = path.read_text(encoding="utf-8")
    assert "tolerance = 0.20" in text
    path.write_text(text.replace("tolerance = 0.20", "tolerance = 20", 1), encoding="utf-8")

    with pytest.raises(KnowledgeError) as caught:
        load_knowledge_from(copy)
    assert (caught.value.file, caught.value.key_path) == ("pk.toml", "discrepancy[0].tolerance")


def test_pk_discrepancies_each_cite_a_known_source(knowledge: Knowledge) -> None:
    noted = knowledge.pk.discrepancies

    assert noted  # the golden tests say which (tests/domain/test_pk_golden.py)
    assert all(entry.source in knowledge.sources for entry in noted)
