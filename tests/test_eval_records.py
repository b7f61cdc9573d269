"""The eval records file: problems that cannot run become failed records and the run goes on; resume skips them;
a torn last line is cut, any other bad line is a one-line error naming it; one run at a time holds the file."""

import io
import json
import logging

import pytest

import strategies
from m1reason.distributed.eval import EvalWorker, run_eval_ray
from m1reason.errors import CapacityError, ConfigError, M1Error, PromptTooLong
from m1reason.evaluation import _records_file, _solver, load_dataset, run_eval, summarize
from m1reason.generator.fake import FakeGenerator

ROWS = [{"id": "p1", "problem": "What is 1+1?", "answer": "2"},
        {"id": "p2", "problem": "A problem far too long for the model", "answer": "7"},
        {"id": "p3", "problem": "   ", "answer": "3"},
        {"id": "p4", "problem": "What is 2+2?", "answer": ""},
        {"id": "p5", "problem": "Sam has 2 apples and gets 3 more. How many?", "answer": "5"}]


def fake_generator(calls):
    """Answers 2 to everything, and refuses a prompt with 'too long' in it the way M1Generator does."""
    def handler(request, i):
        calls.append(request.prompt)
        if "too long" in request.prompt:
            raise PromptTooLong(f"request {request.request_id}: prompt of 691 tokens does not fit max_len 512")
        return "so </think> $\\boxed{2}$"
    return FakeGenerator(handler)


def fake_solver(calls):
    return _solver(strategies.SelfConsistency(n=2), fake_generator(calls))


def evaluate(rows, out, solve_one, budgets=(None,)):
    return run_eval(rows, solve_one, out, budgets=list(budgets), progress=io.StringIO())


def test_a_problem_that_cannot_run_is_a_failed_record_and_the_run_goes_on(tmp_path):
    calls, out = [], tmp_path / "out.jsonl"
    records = evaluate(ROWS, out, fake_solver(calls))
    assert [r["status"] for r in records] == ["done", "failed", "failed", "failed", "done"]
    assert [r["error"] for r in records] == [None, "prompt of 691 tokens does not fit max_len 512", "empty problem",
                                             "empty gold answer: nothing to grade against", None]
    assert [r["correct"] for r in records] == [True, False, False, False, False]  # p5: 5 answered as 2
    assert [json.loads(line) for line in out.read_text().splitlines()] == records
    failed = records[1]
    assert failed["answer"] is None and failed["samples_correct"] == [] and failed["clusters"] == []
    row = summarize(records)[0]
    assert row["problems"] == 5 and row["failed"] == 3 and row["accuracy"] == 0.2 and row["pass@1"] == 0.2
    # Resume: failed records are skipped like done ones (the same model would fail them again).
    before = len(calls)
    assert evaluate(ROWS, out, fake_solver(calls)) == records and len(calls) == before


def test_errors_that_are_not_the_problems_fault_stop_the_run(tmp_path):
    def raising(error):
        def solve_one(problem, budget):
            raise error
        return solve_one

    with pytest.raises(CapacityError, match="queue full"):
        evaluate(ROWS[:1], tmp_path / "a.jsonl", raising(CapacityError("queue full", retry_after_s=1.0)))
    with pytest.raises(CapacityError, match="exceed"):  # the strategy's n: every problem would fail alike
        evaluate(ROWS[:1], tmp_path / "b.jsonl", raising(CapacityError("n=64 samples exceed the engine's 32 slots")))
    with pytest.raises(M1Error, match="engine failed"):
        evaluate(ROWS[:1], tmp_path / "c.jsonl", raising(M1Error("the engine failed")))
    assert all((tmp_path / name).read_text() == "" for name in ("a.jsonl", "b.jsonl", "c.jsonl"))


def test_the_embedded_model_records_a_prompt_too_long_and_goes_on(tmp_path):
    from m1reason.defaults import default_generator

    rows = [{"id": "long", "problem": "What is 1 + 1? " * 200, "answer": "2"},
            {"id": "short", "problem": "What is 3 + 4?", "answer": "7"}]
    solve_one = _solver(strategies.SelfConsistency(n=1, max_new_tokens=4), default_generator())
    records = evaluate(rows, tmp_path / "out.jsonl", solve_one)
    assert [r["status"] for r in records] == ["failed", "done"]
    assert "does not fit max_len" in records[0]["error"] and not records[0]["error"].startswith("request ")
    assert records[1]["n"] == 1


def done_record(problem_id, budget=None):
    return {"id": problem_id, "budget_s": budget, "gold": "2", "status": "done", "error": None, "answer": "2",
            "correct": True, "clusters": [1], "correct_cluster": 0, "unanswered": 0, "samples_correct": [True],
            "n": 1, "num_tokens": 5, "stopped": "finished", "time_s": 0.1}


@pytest.mark.parametrize("tail", [b'{"id": "p5", "budget_s": nu', b'{"id": "p5", "bu\xc3', b"\x00\x00\x00",
                                  b"not json\n"])
def test_a_torn_last_line_is_cut_with_a_warning(tmp_path, caplog, tail):
    out, calls = tmp_path / "out.jsonl", []
    out.write_bytes((json.dumps(done_record("p1")) + "\n").encode() + tail)
    with caplog.at_level(logging.WARNING, logger="m1reason.evaluation"):
        records = evaluate([ROWS[0], ROWS[4]], out, fake_solver(calls))
    assert "line 2 is torn" in caplog.text
    assert [r["id"] for r in records] == ["p1", "p5"] and len(calls) == 2  # p1 resumed, p5 solved (n=2)
    assert [json.loads(line)["id"] for line in out.read_text().splitlines()] == ["p1", "p5"]


def test_a_complete_last_record_without_its_newline_is_kept(tmp_path):
    out, calls = tmp_path / "out.jsonl", []
    out.write_text(json.dumps(done_record("p1")))
    records = evaluate([ROWS[0], ROWS[4]], out, fake_solver(calls))
    assert [r["id"] for r in records] == ["p1", "p5"] and len(calls) == 2
    assert [json.loads(line)["id"] for line in out.read_text().splitlines()] == ["p1", "p5"]


@pytest.mark.parametrize("line, message", [
    ("{}", "line 2: not an eval record (missing id, budget_s, correct"),
    ("[1, 2, 3]", "line 2: a record must be a JSON object, not an array"),
    ('"text"', "line 2: a record must be a JSON object, not a string"),
    ("not json", "line 2: not JSON"),
    (json.dumps({**done_record("x"), "id": [1]}), "line 2: id must be a string"),
    (json.dumps(done_record("p1")), "line 2: a second record of problem 'p1' at budget_s None (the first is line 1)"),
])
def test_a_bad_record_before_the_last_line_is_a_one_line_error(tmp_path, line, message):
    out = tmp_path / "out.jsonl"
    content = json.dumps(done_record("p1")) + "\n" + line + "\n" + json.dumps(done_record("p9")) + "\n"
    out.write_text(content)
    with pytest.raises(ConfigError) as error:
        evaluate(ROWS[:1], out, fake_solver([]))
    assert str(error.value).startswith(f"{out} {message}") and "\n" not in str(error.value)
    assert out.read_text() == content  # nothing repaired or appended


@pytest.mark.parametrize("line", ["{}", "[1,2,3]"])
def test_a_complete_but_bad_last_line_is_an_error_not_a_torn_one(tmp_path, line):
    out = tmp_path / "out.jsonl"
    out.write_text(line)
    with pytest.raises(ConfigError, match=f"{out} line 1: "):
        evaluate(ROWS[:1], out, fake_solver([]))


def test_a_second_run_on_the_same_records_is_refused(tmp_path):
    out, calls = tmp_path / "out.jsonl", []
    with _records_file(out):
        with pytest.raises(ConfigError, match=f"another eval is writing {out}"):
            evaluate(ROWS[:1], out, fake_solver(calls))
        with pytest.raises(ConfigError, match="another eval is writing"):
            run_eval_ray(ROWS[:1], out, budgets=[None])  # refused before any cluster starts
    assert calls == [] and out.read_text() == ""
    assert [r["id"] for r in evaluate(ROWS[:1], out, fake_solver(calls))] == ["p1"]  # free again once released


def test_records_in_a_missing_folder_are_a_clear_error(tmp_path):
    with pytest.raises(ConfigError, match="cannot write records to .*: No such file or directory"):
        evaluate(ROWS[:1], tmp_path / "no" / "out.jsonl", fake_solver([]))


def test_the_distributed_worker_writes_the_same_records(tmp_path):
    worker = EvalWorker(strategy=strategies.SelfConsistency(n=2), generator=fake_generator([]))
    alone = evaluate(ROWS, tmp_path / "out.jsonl", fake_solver([]))
    spread = [worker.solve({**row, "budget_s": None, "seed": None}) for row in ROWS]
    assert [{**r, "time_s": 0} for r in spread] == [{**r, "time_s": 0} for r in alone]


def test_dataset_rows_with_repeated_ids_or_null_fields(tmp_path):
    path = tmp_path / "d.jsonl"
    path.write_text('{"id": 1, "problem": null, "answer": "2"}\n{"id": 2, "problem": "x", "answer": null}\n'
                    '{"id": 1, "problem": "again", "answer": "3"}\n')
    with pytest.raises(ConfigError, match="line 3: id '1' repeats line 1"):
        load_dataset(path)
    rows = load_dataset(path, limit=2)
    assert rows == [{"id": "1", "problem": "", "answer": "2"}, {"id": "2", "problem": "x", "answer": ""}]
    with pytest.raises(ValueError, match="problem id 'p1' appears twice"):
        evaluate([ROWS[0], ROWS[0]], tmp_path / "out.jsonl", fake_solver([]))
