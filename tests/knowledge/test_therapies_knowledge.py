"""Loading therapy_*.toml: the registry by key, each file's kind picking its facts, and a
file whose numbers do not add up refused at load, naming the file and key path."""

import shutil
from decimal import Decimal
from pathlib import Path

import pytest

from blina.domain.errors import KnowledgeError
from blina.domain.therapies.cycle_doses import CycleDoseFacts
from blina.domain.therapies.facts import When
from blina.domain.therapies.hosted_doses import HostedDoseFacts
from blina.domain.therapies.model import TherapyKind
from blina.knowledge import KNOWLEDGE_DIR, Knowledge, load_knowledge_from

INO = "therapy_inotuzumab.toml"
RITUX = "therapy_rituximab.toml"
GEMTU = "therapy_gemtuzumab.toml"


def test_registry_holds_the_three_therapies_by_kind(knowledge: Knowledge) -> None:
    kinds = {key: facts.kind for key, facts in knowledge.therapies.items()}

    assert kinds == {
        "gemtuzumab": TherapyKind.HOSTED_DOSES,
        "inotuzumab": TherapyKind.CYCLE_DOSES,
        "rituximab": TherapyKind.HOSTED_DOSES,
    }
    assert isinstance(knowledge.therapies["inotuzumab"], CycleDoseFacts)
    assert isinstance(knowledge.therapies["rituximab"], HostedDoseFacts)


def test_registry_is_read_only(knowledge: Knowledge) -> None:
    with pytest.raises(TypeError):
        knowledge.therapies["x"] = knowledge.therapies["rituximab"]  # type: ignore[index]


def test_numbers_load_as_decimals(knowledge: Knowledge) -> None:
    gemtuzumab = knowledge.therapies["gemtuzumab"]
    assert isinstance(gemtuzumab, HostedDoseFacts)

    assert gemtuzumab.cap_mg is not None
    assert gemtuzumab.cap_mg.as_tuple() == Decimal("4.5").as_tuple()
    assert gemtuzumab.host_counts_day_zero is False
    assert gemtuzumab.day_count_source == gemtuzumab.dose_source  # no [day_count]: no day < 1


def test_rituximab_day_count_is_a_policy_source(knowledge: Knowledge) -> None:
    rituximab = knowledge.therapies["rituximab"]
    assert isinstance(rituximab, HostedDoseFacts)

    assert rituximab.day_count_source == "rituximab-host-day-count"
    assert knowledge.sources["rituximab-host-day-count"].kind == "policy"


def test_monitoring_moments_load(knowledge: Knowledge) -> None:
    inotuzumab = knowledge.therapies["inotuzumab"]

    assert {m.when for m in inotuzumab.monitoring} == {When.EACH_DOSE, When.CYCLE_START}


def _copy_and_edit(tmp_path: Path, file: str, old: str, new: str) -> Path:
    directory = shutil.copytree(
        KNOWLEDGE_DIR, tmp_path / "knowledge", ignore=shutil.ignore_patterns("*.py", "__pycache__")
    )
    path = directory / file
    text = path.read_text(encoding="utf-8")
    assert old in text, f"test data out of date: {old!r} not in {file}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return directory


MALFORMED = {
    "day-twice": (INO, "day = 8\n", "day = 1\n", "first_cycle.doses", "must rise"),
    "day-after-end": (INO, "day = 15\n", "day = 22\n", "first_cycle.doses", "after the cycle"),
    "total-not-sum": (
        INO,
        "total_mg_per_m2 = 1.5",
        "total_mg_per_m2 = 1.6",
        "in_response.total_mg_per_m2",
        "not the sum",
    ),
    "limits-order": (INO, "hsct_max_cycles = 3", "hsct_max_cycles = 7", "cycle_limits", "<="),
    "unknown-kind": (INO, 'kind = "cycle-doses"', 'kind = "pills"', "therapy.kind", "Input"),
    "unknown-source": (
        INO,
        'source = "inotuzumab-1.2-infusion"',
        'source = "nowhere"',
        "infusion.source",
        "not in sources.toml",
    ),
    "max-doses": (RITUX, "max_doses = 6", "max_doses = 7", "dose.max_doses", "hold 6 doses"),
    "no-day-count": (
        RITUX,
        '[day_count]\nhost_counts_day_zero = false\nsource = "rituximab-host-day-count"\n',
        "",
        "day_count",
        "a day before day 1",
    ),
    "day-zero": (RITUX, "days = [-2, 1]", "days = [0, 1]", "courses[0].days", "never day 0"),
    "days-not-rising": (GEMTU, "days = [1, 4, 7]", "days = [4, 1]", "courses[0].days", "rise"),
    "no-host": (GEMTU, "host = ", "# host = ", "therapy.host", "names its host"),
    "negative-day-needs-count": (
        GEMTU,
        "days = [1, 4, 7]",
        "days = [-1, 4, 7]",
        "day_count",
        "a day before day 1",
    ),
}


@pytest.mark.parametrize("case", MALFORMED.values(), ids=MALFORMED.keys())
def test_malformed_therapy_file_names_file_and_key_path(
    tmp_path: Path, case: tuple[str, str, str, str, str]
) -> None:
    file, old, new, key_path, problem = case
    directory = _copy_and_edit(tmp_path, file, old, new)

    with pytest.raises(KnowledgeError) as caught:
        load_knowledge_from(directory)
    assert caught.value.file == file
    assert caught.value.key_path.startswith(key_path)
    assert problem in caught.value.problem


def test_same_therapy_key_in_two_files_is_refused(tmp_path: Path) -> None:
    directory = _copy_and_edit(tmp_path, INO, "", "")
    shutil.copy(directory / INO, directory / "therapy_zz_copy.toml")

    with pytest.raises(KnowledgeError) as caught:
        load_knowledge_from(directory)
    assert (caught.value.file, caught.value.key_path) == ("therapy_zz_copy.toml", "therapy.key")
