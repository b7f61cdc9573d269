"""The hand-written problem sets are well formed: unique ids and problems, every kind the default-model issue
names, exact numeric answers in scope and none out of scope, and no problem that the training generator makes."""

import json
from fractions import Fraction
from pathlib import Path

from m1reason.train.data import heldout_problems

DATA = Path(__file__).resolve().parents[2] / "benchmarks" / "data"
KINDS = {"add", "sub", "mul", "div", "order", "neg", "frac", "mixed", "dec", "pct", "ratio", "unit", "eq", "sys",
         "geom", "avg", "word"}


def rows(name: str) -> list[dict]:
    return [json.loads(line) for line in (DATA / name).read_text().splitlines()]


def test_the_natural_set_has_300_problems_over_every_kind_with_exact_answers():
    problems = rows("natural_math.jsonl")
    assert len(problems) >= 300
    assert len({p["id"] for p in problems}) == len({p["problem"] for p in problems}) == len(problems)
    assert {p["kind"] for p in problems} == KINDS
    for p in problems:
        assert p["id"].startswith(p["kind"] + "-") and p["problem"].strip() == p["problem"]
        Fraction(p["answer"])  # a plain integer, decimal or fraction: nothing for a checker to be lenient about


def test_the_out_of_scope_set_has_no_answers_and_every_kind():
    problems = rows("out_of_scope.jsonl")
    assert len(problems) >= 80 and all(p["answer"] is None for p in problems)
    assert len({p["id"] for p in problems}) == len({p["problem"] for p in problems}) == len(problems)
    assert {p["kind"] for p in problems} == {"calculus", "proof", "language", "symbols", "advanced", "nonmath"}


def test_no_problem_comes_from_the_training_generator():
    # The generator can draw a short problem exactly as a person writes it ("What is 1/2 plus 1/3?"); one found in
    # the held-out draw is one training never sees. A set copied from the generator would share long problems.
    generated = {p.problem for p in heldout_problems(2000)}
    shared = generated & {p["problem"] for p in rows("natural_math.jsonl")}
    assert len(shared) <= 2 and all(len(problem) <= 25 for problem in shared), shared


def test_the_benchmark_scores_per_kind_and_counts_confident_winners():
    from benchmarks.natural_math import by_kind, calibration, load_problems, winner_share

    problems = load_problems("natural_math.jsonl")[:3]
    rows = by_kind(problems, greedy=[1.0, 0.0, 1.0], vote=[1.0, 1.0, 0.0])
    assert rows[-1] == {"kind": "all", "problems": 3, "greedy": "66.7 ± 65.3", "vote": "66.7 ± 65.3"}
    assert winner_share(["1/2", "0.5", None, "3"]) == 0.5 and winner_share([None, None]) == 0.0
    records = [{"answers": ["4"] * 9 + ["5"]}, {"answers": ["4", "5"]}, {"answers": ["7"] * 10}]
    assert calibration(records, vote=[1.0, 1.0, 0.0]) == {"threshold": 0.9, "confident": 2, "confident_right": 0.5}
