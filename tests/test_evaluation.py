"""The eval estimators against brute-force enumeration, dataset reading, and grading."""

import itertools
import json
from fractions import Fraction
from pathlib import Path

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
    rows = load_dataset(Path(__file__).resolve().parents[2] / "shared" / "data" / "aime24.jsonl")
    assert len(rows) == 30 and all(r["problem"] and r["answer"] for r in rows)


def test_summary_per_budget():
    record = {"correct": True, "clusters": [1, 1], "correct_cluster": 0, "unanswered": 0,
              "samples_correct": [True, False], "time_s": 4.0, "num_tokens": 400}
    table = summarize([{**record, "budget_s": 5.0}, {**record, "budget_s": 5.0, "correct": False},
                       {**record, "budget_s": 10.0}])
    assert [(r["budget_s"], r["problems"], r["accuracy"]) for r in table] == [(5.0, 2, 0.5), (10.0, 1, 1.0)]
    assert table[0]["maj@2"] == 0.5 and table[0]["accuracy_per_s"] == 0.125
    assert json.dumps(table)


def test_wilson_interval_against_known_values():
    from m1reason.eval_plot import wilson_interval

    assert wilson_interval(8, 10) == pytest.approx((0.4902, 0.9433), abs=1e-4)
    low, high = wilson_interval(10, 10)
    assert high == 1.0 and low == pytest.approx(0.7225, abs=1e-4)  # not empty at 100%, as the normal one is


def test_plot_has_title_error_bars_and_a_table(tmp_path):
    import matplotlib.pyplot as plt
    from matplotlib.container import ErrorbarContainer

    from m1reason.eval_plot import accuracy_figure, plot_accuracy

    table = [{"budget_s": 5.0, "problems": 40, "accuracy": 0.5, "mean_s": 4.0},
             {"budget_s": 10.0, "problems": 40, "accuracy": 0.75, "mean_s": 8.0}]
    fig = accuracy_figure(table, model="m1/tiny", strategy="budget", samples=12.5)
    try:
        assert fig.get_suptitle() == ("budget on m1/tiny: accuracy vs budget (n = 40 problems per budget, "
                                      "12.5 samples per problem)")
        bars = [c for c in fig.axes[0].containers if isinstance(c, ErrorbarContainer)]
        assert len(bars) == 1 and bars[0].has_yerr
        (table_artist,) = fig.axes[1].tables
        texts = [cell.get_text().get_text() for cell in table_artist.get_celld().values()]
        assert "95% interval" in texts and "0.750" in texts and "0.60-0.86" in texts
    finally:
        plt.close(fig)
    assert plot_accuracy(table, tmp_path / "acc.png").stat().st_size > 1000


def test_a_problem_out_of_scope_is_recorded_with_its_status_and_counts_as_wrong(tmp_path):
    import io

    import strategies
    from m1reason.evaluation import _solver, run_eval
    from m1reason.generator.fake import FakeGenerator
    from m1reason.scope import EMBEDDED_SCOPE

    fake = FakeGenerator(lambda request, i: "so </think> $\\boxed{2}$", scope=EMBEDDED_SCOPE)
    rows = [{"id": "in", "problem": "What is 1 + 1?", "answer": "2"},
            {"id": "out", "problem": "Differentiate 2x.", "answer": "2"}]
    records = run_eval(rows, _solver(strategies.SelfConsistency(n=2), fake), tmp_path / "out.jsonl",
                       budgets=[None], progress=io.StringIO())
    assert [(r["status"], r["solution_status"], r["correct"]) for r in records] == [
        ("done", "answered", True), ("done", "out_of_scope", False)]
    assert records[1]["status_reason"] == "out of the embedded model's scope: calculus ('differentiate')"
    assert records[1]["n"] == 0 and records[1]["samples_correct"] == [] and records[1]["stopped"] == "not run"
    [row] = summarize(records)
    assert (row["accuracy"], row["pass@1"], row["maj@2"], row["out_of_scope"], row["failed"]) == (0.5, 0.5, 0.5, 1, 0)
