"""Committed copies of the shared clinical reference and seed documents that the golden
tests read, so a clean clone checks the knowledge without ``../shared``. The folders
mirror ``../shared``; ``test_snapshots.py`` fails when an original has changed."""

from pathlib import Path

HERE = Path(__file__).parent
REFERENCE = HERE / "reference"
SEEDS = HERE / "seeds"
SHARED = HERE.parents[2] / "shared"  # ../shared beside the clone, when present
