"""benchmarks.attention_first_call: both attention paths, both shapes, first and repeated calls timed."""

from benchmarks.attention_first_call import measure, table


def test_both_ways_and_both_shapes_are_timed_at_every_length():
    rows = measure("cpu", heads=2, head_dim=8, lengths=range(5, 8))
    assert [(r["attention"], r["shape"]) for r in rows] == [
        ("torch default", "causal prompt"), ("torch default", "masked append"),
        ("m1reason sdpa", "causal prompt"), ("m1reason sdpa", "masked append")]
    assert all(r["lengths"] == 3 and len(r["first"]) == 3 and r["first call ms (max)"] >= r["first call ms (median)"]
               > 0 and r["again ms (median)"] > 0 for r in rows)
    assert "| m1reason sdpa | masked append | 3 |" in table(rows)
