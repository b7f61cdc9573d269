"""benchmarks.vote_curve on the embedded model, a few problems: it prints the table and the JSON record at the
planner's temperature, and a dry run writes nothing."""

import json

from benchmarks.vote_curve import main, sample_counts
from m1reason.defaults import EMBEDDED_MODEL
from m1reason.vote_curve import VOTE_CURVE_FILE


def test_a_dry_run_prints_the_curve_and_writes_nothing(capsys):
    shipped = (EMBEDDED_MODEL / VOTE_CURVE_FILE).read_bytes()
    assert main(["--problems", "3", "--samples", "4", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "| samples | maj@k | gain over 1 | useful |" in out and "wrote" not in out
    record = json.loads(next(line for line in out.splitlines() if line.startswith("{")))
    curve = record["curve"]
    assert [p["samples"] for p in curve["points"]] == [1, 2, 4] and curve["problems"] == 3
    assert curve["temperature"] == 0.7 and "natural_dev.jsonl" in curve["source"] and curve["checked"]
    assert (EMBEDDED_MODEL / VOTE_CURVE_FILE).read_bytes() == shipped


def test_the_counts_measured_end_at_the_samples_drawn():
    assert sample_counts(2) == (1, 2) and sample_counts(32) == (1, 2, 4, 8, 16, 32)
