"""The hand-written problem sets (benchmarks/data) as the readers of a problem's own value are tested on them."""

from __future__ import annotations

import json
from pathlib import Path

DATA = Path(__file__).resolve().parents[2] / "benchmarks" / "data"
IN_SCOPE = ("natural_dev", "natural_math")
OUT_OF_SCOPE = ("out_of_scope", "out_of_scope_dev")


def rows(*names: str) -> list[dict]:
    """The problems of the named sets (file stems in benchmarks/data), in order."""
    return [json.loads(line) for name in names for line in (DATA / f"{name}.jsonl").read_text().splitlines()]


def agreeing_reads(reader) -> int:
    """How many in-scope hand-written problems ``reader`` reads, after asserting that each read value is the
    written answer and that it reads no out-of-scope problem."""
    read = [(row, found) for row in rows(*IN_SCOPE) if (found := reader(row["problem"])) is not None]
    wrong = [(row, found) for row, found in read if not found.holds_for(row["answer"])]
    assert not wrong, wrong[:3]
    assert not [row for row in rows(*OUT_OF_SCOPE) if reader(row["problem"]) is not None]
    return len(read)
