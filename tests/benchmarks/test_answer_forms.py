"""benchmarks.answer_forms: the hand-written cases are well formed (every class has forms to accept and near
misses, no duplicates), and the per-class table counts agreement and wrong accepts per checker."""

import json

import pytest

from benchmarks.answer_forms import CLASSES, DEFAULT_DATA, load_cases, render, speed, tabulate
from m1reason.answers._variants import Pair


def test_every_class_has_accepts_and_near_misses_and_no_duplicates():
    pairs = load_cases(DEFAULT_DATA)
    assert {p.category for p in pairs} == set(CLASSES)
    for cls in CLASSES:
        assert sum(p.expected for p in pairs if p.category == cls) >= 8, cls
        assert sum(not p.expected for p in pairs if p.category == cls) >= 8, cls
    keys = [(p.candidate, p.gold) for p in pairs]
    assert len(keys) == len(set(keys))


def test_an_unknown_class_is_refused(tmp_path):
    path = tmp_path / "cases.jsonl"
    path.write_text(json.dumps({"class": "typo", "candidate": "1", "gold": "1", "expected": True}) + "\n")
    with pytest.raises(ValueError, match="typo"):
        load_cases(path)


def test_the_table_counts_agreement_and_wrong_accepts_per_class():
    pairs = [Pair("relations", "x<=1", r"x \le 1", True, "t", "accept"),
             Pair("relations", "x<1", r"x \le 1", False, "t", "near_miss"),
             Pair("bare_forms", "185\\", "185", True, "t", "accept")]
    results = {"m1reason": [(True, 0.001), (False, 0.001), (True, 0.002)],
               "math-verify": [(False, 0.01), (True, 0.01), (True, 3.0)]}
    rows = {r["class"]: r for r in tabulate(pairs, results)}
    assert set(rows) == {"relations", "bare_forms", "all"}
    assert rows["relations"]["cases (accept / near miss)"] == "1 / 1"
    assert rows["relations"]["m1reason"] == "100.0% (0 wrong accepts)"
    assert rows["relations"]["math-verify"] == "0.0% (1 wrong accepts)"
    assert rows["all"]["math-verify"] == "33.3% (1 wrong accepts)"
    assert speed(results["math-verify"])["pairs > 2 s"] == 1
    body = render(pairs, results, "0.0")
    assert "| relations | 1 / 1 | 100.0% (0 wrong accepts) | 0.0% (1 wrong accepts) |" in body
