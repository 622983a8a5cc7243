"""Each committed snapshot is the whole shared document and, when ``../shared`` is
present, byte for byte the same as it."""

from pathlib import Path

import pytest

from tests.shared import REFERENCE, SEEDS, SHARED


@pytest.mark.parametrize(
    "snapshot",
    [*sorted(SEEDS.glob("*.txt")), *sorted(REFERENCE.glob("*.md"))],
    ids=lambda path: path.name,
)
def test_snapshot_equals_the_shared_original_when_present(snapshot: Path) -> None:
    assert snapshot.stat().st_size > 3_000  # the whole document, not a stub
    original = SHARED / snapshot.parent.name / snapshot.name
    if original.exists():
        assert snapshot.read_bytes() == original.read_bytes(), (
            f"{original} changed: review the knowledge and pages that cite it, "
            f"then copy it to {snapshot}"
        )
