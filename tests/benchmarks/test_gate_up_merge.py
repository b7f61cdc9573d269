"""benchmarks.gate_up_merge: both ways timed at every batch size, the class setting left as it was."""

from benchmarks.gate_up_merge import measure, table
from m1reason.model.layers import GatedMLP


def test_both_ways_are_timed_at_every_batch_size_and_the_setting_is_restored():
    limit = GatedMLP.merged_gemm_max_rows
    rows = measure("cpu", rows=[1, limit + 1], hidden=16, intermediate=24, layers=2, repeats=3)
    assert [r["rows"] for r in rows] == [1, limit + 1]
    assert all(r["separate ms"] > 0 and r["merged ms"] > 0 for r in rows)
    assert [r["merged by default"] for r in rows] == [True, False]
    assert GatedMLP.merged_gemm_max_rows == limit
    assert "| 1 |" in table(rows)
