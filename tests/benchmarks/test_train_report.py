"""benchmarks.train_report: the problem sets it scores stages on, and its refusal of a set it does not know."""

import subprocess
import sys

from benchmarks.natural_math import load_problems
from benchmarks.train_report import SETS, report_body


def test_dev_set_is_the_hand_written_development_set_not_the_test_set():
    dev = SETS["dev"](1000)
    test = {p.problem for p in load_problems("natural_math.jsonl")}
    assert len(dev) == 340 and not test & {p.problem for p in dev}
    assert [p.problem for p in SETS["dev"](5)] == [p.problem for p in dev[:5]]


def test_generator_sets_respect_the_limit_and_kind():
    assert len(SETS["mixed"](7)) == 7
    assert {p.kind for p in SETS["arithmetic"](20)} == {"arithmetic"}


def test_gain_over_the_shipped_model_is_reported_per_set():
    col = lambda p: {"greedy": p, "pass@1 (T=0.7)": p, "maj@8": p}  # noqa: E731
    rows = [{"stage": "sft", "set": "dev", "problems": 2, "samples": 8, "greedy": (0.5, 0.1),
             "columns": col([1.0, 0.0])},
            {"stage": "embedded", "set": "dev", "problems": 2, "samples": 8, "greedy": (0.0, 0.0),
             "columns": col([0.0, 0.0])}]
    body = report_body(rows, kinds=[])
    assert "greedy vs shipped" in body and "+50.0 ± 98.0" in body


def test_unknown_set_is_refused_by_name():
    done = subprocess.run([sys.executable, "-m", "benchmarks.train_report", "--sets", "mixed,exam", "--no-write"],
                          capture_output=True, text=True)
    assert done.returncode == 2 and "unknown set(s) exam" in done.stderr


def test_a_report_is_rebuilt_from_saved_records_without_scoring(monkeypatch, tmp_path):
    import json

    from benchmarks import report, train_report

    col = lambda p: {"greedy": p, "pass@1 (T=0.7)": [x / 2 for x in p], "maj@8": p}  # noqa: E731
    rows = [{"stage": "grpo", "set": "dev", "problems": 2, "samples": 8, "greedy": [1.0, 0.0],
             "columns": col([1.0, 1.0])},
            {"stage": "embedded", "set": "dev", "problems": 2, "samples": 8, "greedy": [0.0, 0.0],
             "columns": col([0.0, 0.0])}]
    saved = tmp_path / "rows.json"
    saved.write_text(json.dumps(rows))
    monkeypatch.setattr(report, "BENCHMARKS_MD", tmp_path / "BENCHMARKS.md")
    monkeypatch.setattr(train_report, "evaluate_stage", lambda *a, **k: (_ for _ in ()).throw(AssertionError))
    monkeypatch.setattr(sys, "argv", ["train_report", "--from-json", str(saved), "--section", "t", "--note", "why"])
    train_report.main()
    text = (tmp_path / "BENCHMARKS.md").read_text()
    gains = next(line for line in text.splitlines() if line.startswith("| grpo | dev | +"))
    assert gains.endswith("| +100.0 ± 0.0 | +50.0 ± 0.0 |")  # greedy and pass@1 over the shipped model
    assert "\nwhy\n" in text
