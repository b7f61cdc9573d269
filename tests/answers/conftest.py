"""The labelled pairs built from the gold answers in ../shared/data (MATH500, AIME24, AMC)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from m1reason.answers._variants import build_pairs

DATA_DIR = Path(os.environ.get("M1REASON_DATA", Path(__file__).resolve().parents[3] / "shared" / "data"))


@pytest.fixture(scope="session")
def gold_pairs():
    """Every pair built from the data; skipped where the shared data is not laid beside the repo."""
    if not (DATA_DIR / "math500.jsonl").exists():
        pytest.skip(f"no evaluation data in {DATA_DIR} (set M1REASON_DATA)")
    return build_pairs(DATA_DIR)
