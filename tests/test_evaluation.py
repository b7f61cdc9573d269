"""The eval estimators against brute-force enumeration, dataset reading, and grading."""

import itertools
import json
from fractions import Fraction

import pytest

from m1reason.errors import ConfigError
from m1reason.evaluation import load_dataset, maj_at_k, pass_at_k, summarize


def brute_maj(labels, correct, k):
    """Enumerate every k-subset; None labels do not vote; a t-way tie at the top scores 1/t."""
    total = Fraction(0)
    subsets = list(itertools.combinations(range(len(labels)), k))
    for subset in subsets:
        votes = {}
        for i in subset:
            if labels[i] is not None:
                votes[labels[i]] = votes.get(labels[i], 0) + 1
        if correct in votes and votes[correct] == max(votes.values()):
            total += Fraction(1, sum(v == votes[correct] for v in votes.values()))
    return float(total / len(subsets))


@pytest.mark.parametrize("counts, unanswered", [([3, 2, 1], 0), ([2, 2], 1), ([1, 1, 1, 2], 2), ([4], 2),
                                                 ([2, 3, 1], 1)])
def test_maj_at_k_equals_enumeration(counts, unanswered):
    labels = [c for c, size in enumerate(counts) for _ in range(size)] + [None] * unanswered
    for correct in range(len(counts)):
        for k in range(1, len(labels) + 1):
            assert maj_at_k(counts, correct, k, unanswered) == pytest.approx(brute_maj(labels, correct, k))
    assert maj_at_k(counts, None, 1, unanswered) == 0.0


@pytest.mark.parametrize("n, c", [(5, 0), (5, 2), (6, 6), (7, 3)])
def test_pass_at_k_equals_enumeration(n, c):
    labels = [True] * c + [False] * (n - c)
    for k in range(1, n + 1):
        subsets = list(itertools.combinations(labels, k))
        assert pass_at_k(n, c, k) == pytest.approx(sum(any(s) for s in subsets) / len(subsets))


def test_dataset_errors_name_the_line(tmp_path):
    path = tmp_path / "d.jsonl"
    path.write_text('{"id": 1, "problem": "1+1", "answer": "2"}\n\n{"id": 2, "problem": "x"}\nnot json\n')
    with pytest.raises(ConfigError, match="line 3: missing field"):
        load_dataset(path)
    assert load_dataset(path, limit=1) == [{"id": "1", "problem": "1+1", "answer": "2"}]
    path.write_text('{"id": 1, "problem": "1+1", "answer": "2"}\nnot json\n')
    with pytest.raises(ConfigError, match="line 2: not JSON"):
        load_dataset(path)


def test_bundled_datasets_load():
    rows = load_dataset("/work/shared/data/aime24.jsonl")
    assert len(rows) == 30 and all(r["problem"] and r["answer"] for r in rows)


def test_summary_per_budget():
    record = {"correct": True, "clusters": [1, 1], "correct_cluster": 0, "unanswered": 0,
              "samples_correct": [True, False], "time_s": 4.0, "num_tokens": 400}
    table = summarize([{**record, "budget_s": 5.0}, {**record, "budget_s": 5.0, "correct": False},
                       {**record, "budget_s": 10.0}])
    assert [(r["budget_s"], r["problems"], r["accuracy"]) for r in table] == [(5.0, 2, 0.5), (10.0, 1, 1.0)]
    assert table[0]["maj@2"] == 0.5 and table[0]["accuracy_per_s"] == 0.125
    assert json.dumps(table)
