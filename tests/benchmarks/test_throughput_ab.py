"""benchmarks.throughput_ab: the side-by-side table of two trees' rounds (the GPU part runs on the device)."""

import json

import pytest

from benchmarks import throughput_ab


def _record(label: str, round_: int, batch: int, tok_s: float) -> dict:
    return {"label": label, "round": round_, "batch": batch, "new": 1024, "tokens_per_s": tok_s, "step_ms": 1.0}


def test_rows_pair_each_point_and_read_the_ratio_of_means():
    report = {"labels": ["old", "new"], "rounds": 2, "records": [
        _record("old", 0, 1, 100.0), _record("new", 0, 1, 110.0), _record("old", 1, 1, 300.0),
        _record("new", 1, 1, 290.0), _record("old", 0, 512, 40_000.0), _record("new", 0, 512, 44_000.0)]}
    rows = {row["batch"]: row for row in throughput_ab.summarize(report)}
    assert rows[1]["after / before"] == pytest.approx(200 / 200)
    assert rows[1]["old spread %"] == pytest.approx(100.0)
    assert rows[1]["new tok/s (rounds)"] == "110.0 / 290.0"
    assert rows[512]["after / before"] == pytest.approx(1.1)


def test_running_needs_both_trees_and_labels(capsys):
    with pytest.raises(SystemExit):
        throughput_ab.main(["--labels", "a", "b"])
    assert "--trees and --labels are required" in capsys.readouterr().err


def test_report_writes_the_gpu_runs_environment(tmp_path, monkeypatch):
    written = {}
    monkeypatch.setattr(throughput_ab, "write_section", lambda name, title, body, env: written.update(env=env))
    env = {"command": "python -m benchmarks.throughput_ab ...", "device": "NVIDIA H100 80GB HBM3", "cpu_threads": 16,
           "versions": {}, "date": "2026-12-06 18:00 UTC"}
    path = tmp_path / "ab.json"
    path.write_text(json.dumps({"labels": ["a", "b"], "rounds": 1, "env": env,
                                "records": [_record("a", 0, 1, 1.0), _record("b", 0, 1, 2.0)]}))
    assert throughput_ab.main(["--report", str(path)]) == 0
    assert written["env"]["device"] == "NVIDIA H100 80GB HBM3"


def test_a_tree_run_returns_its_records_and_leaves_its_benchmarks_file_as_it_was(tmp_path):
    tree = tmp_path / "tree"
    (tree / "benchmarks").mkdir(parents=True)
    (tree / "benchmarks" / "__init__.py").write_text("")
    # a stand-in for benchmarks.throughput: a record per batch, and BENCHMARKS.md rewritten as the real one does
    (tree / "benchmarks" / "throughput.py").write_text(
        "import json, sys\n"
        "args = sys.argv[1:]\n"
        "results = args[args.index('--results') + 1]\n"
        "batches = args[args.index('--batches') + 1:args.index('--new')]\n"
        "with open(results, 'a') as f:\n"
        "    for b in batches:\n"
        "        f.write(json.dumps({'batch': int(b), 'new': 8, 'tokens_per_s': 1.0, 'step_ms': 1.0}) + '\\n')\n"
        "open('BENCHMARKS.md', 'w').write('overwritten')\n")
    (tree / "BENCHMARKS.md").write_text("the project's numbers")
    records = throughput_ab.run_tree(tree, tmp_path / "r.jsonl", [1, 4], [8])
    assert [r["batch"] for r in records] == [1, 4]
    assert (tree / "BENCHMARKS.md").read_text() == "the project's numbers"
