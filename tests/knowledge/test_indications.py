"""indications.toml: each therapy's labelled ages, row by row against the reference, and
the loader's refusals (a therapy without its ages, ages for no therapy, an empty range).

The reference is the committed snapshot of other-immunotherapies.md; each row names the
line it reads by an anchor and the words that give its bounds there."""

import shutil
from decimal import Decimal
from pathlib import Path

import pytest
from tests import shared

from blina.domain.errors import KnowledgeError
from blina.knowledge import KNOWLEDGE_DIR, Knowledge, load_knowledge_from

LINES = (shared.REFERENCE / "other-immunotherapies.md").read_text(encoding="utf-8").splitlines()
ADULT = Decimal(18)  # blina's adult age (body.toml) where a label says "adults"


def _line(anchor: str) -> str:
    found = [line for line in LINES if anchor in line]
    assert len(found) == 1, f"{anchor!r} is on {len(found)} reference lines"
    return found[0]


# therapy, reference anchor, words on that line, from_years, under_years
ROWS = [
    ("inotuzumab", "  1 year and older** (DailyMed", "1 year and older", Decimal(1), None),
    ("rituximab", "**≥ 6 months to < 18 years**", "≥ 6 months to < 18 years", Decimal("0.5"), 18),
    ("gemtuzumab", "Adult, newly diagnosed de novo, combination", "Adult", ADULT, None),
    ("tisagenlecleucel", "- US: patients **up to 25 years of age**", "up to 25 years", None, 25),
    ("brexucabtagene", "- US: **adults** (≥ 18 y) with relapsed", "(≥ 18 y)", Decimal(18), None),
    ("obecabtagene", "- US: **adults** with relapsed or refractory B-cell", "adults", ADULT, None),
]


@pytest.mark.parametrize(("therapy", "anchor", "words", "low", "under"), ROWS)
def test_each_therapys_ages_are_the_references(
    knowledge: Knowledge,
    therapy: str,
    anchor: str,
    words: str,
    low: Decimal | None,
    under: int | None,
) -> None:
    assert words in _line(anchor)
    ages = knowledge.age_indications[therapy]
    assert ages.from_years == low
    assert ages.under_years == (None if under is None else Decimal(under))


def test_every_therapy_planned_has_its_ages_and_nothing_else(knowledge: Knowledge) -> None:
    planned = {*knowledge.therapies, *knowledge.car_t.products}
    assert set(knowledge.age_indications) == planned == {row[0] for row in ROWS}


def _edited(tmp_path: Path, old: str, new: str) -> Path:
    directory = shutil.copytree(
        KNOWLEDGE_DIR, tmp_path / "k", ignore=shutil.ignore_patterns("*.py", "__pycache__")
    )
    path = directory / "indications.toml"
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return directory


@pytest.mark.parametrize(
    ("old", "new", "key", "says"),
    [
        ("[obecabtagene]", "[obecabtagene-x]", "obecabtagene", "missing"),
        (
            "[inotuzumab]\n",
            '[dasatinib]\nfrom_years = 1\ntext = "x"\nsource = '
            '"inotuzumab-label-version"\n\n[inotuzumab]\n',
            "dasatinib",
            "no therapy",
        ),
        (
            "from_years = 0.5\nunder_years = 18",
            "from_years = 18\nunder_years = 18",
            "rituximab",
            "below",
        ),
        ("under_years = 25\n", "", "tisagenlecleucel", "needs"),
        ("from_years = 1\n", "from_years = -1\n", "inotuzumab.from_years", "greater than"),
        (
            'source = "obecabtagene-indication"',
            'source = "nowhere"',
            "obecabtagene.source",
            "not in sources",
        ),
    ],
)
def test_a_broken_file_is_refused_naming_the_key(
    tmp_path: Path, old: str, new: str, key: str, says: str
) -> None:
    with pytest.raises(KnowledgeError) as raised:
        load_knowledge_from(_edited(tmp_path, old, new))

    assert raised.value.file == "indications.toml"
    assert raised.value.key_path.startswith(key)
    assert says in str(raised.value)
