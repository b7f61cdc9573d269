"""The eval command's --ray/--seed plumbing, and seeds that follow problem ids; none of this needs Ray."""

import io
import json
import subprocess
import sys

import strategies
from m1reason.__main__ import main
from m1reason.evaluation import _solver, run_eval
from m1reason.generator.fake import FakeGenerator


def _seeds_by_problem(rows, out):
    seen = {}
    fake = FakeGenerator(lambda request, i: (seen.setdefault(request.prompt, request.sampling.seed), "</think> 1")[1])
    run_eval(rows, _solver(strategies.SelfConsistency(n=1), fake), out, budgets=[None], seed=3, progress=io.StringIO())
    return seen


def test_seeds_follow_problem_ids_not_their_order(tmp_path):
    rows = [{"id": f"q{i}", "problem": f"What is {i} + 1?", "answer": str(i + 1)} for i in range(4)]
    forward = _seeds_by_problem(rows, tmp_path / "a.jsonl")
    backward = _seeds_by_problem(rows[::-1], tmp_path / "b.jsonl")
    assert forward == backward and len(set(forward.values())) == 4


def test_eval_with_ray_resumes_a_finished_run_without_starting_ray(tmp_path, capsys):
    data, out = tmp_path / "data.jsonl", tmp_path / "out.jsonl"
    data.write_text(json.dumps({"id": "q1", "problem": "1 + 1?", "answer": "2"}) + "\n")
    fake = FakeGenerator(lambda request, i: "</think> $\\boxed{2}$")
    run_eval([json.loads(data.read_text())], _solver("sc", fake), out, budgets=[None], progress=io.StringIO())
    assert main(["eval", str(data), "--out", str(out), "--ray", "--ray-workers", "2", "--seed", "0"]) == 0
    assert "1.000" in capsys.readouterr().out


def test_the_single_process_path_never_imports_ray():
    code = ("import sys, m1reason.__main__, m1reason.evaluation, m1reason.distributed; "
            "sys.exit('ray' in sys.modules)")
    assert subprocess.run([sys.executable, "-c", code], timeout=120).returncode == 0
