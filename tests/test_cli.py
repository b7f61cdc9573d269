"""python -m m1reason: solve, eval (resumable), bench, bad input as one line, and the REPL in a real terminal."""

import json
import os
import pty
import select
import signal
import subprocess
import sys
import time

import pytest

import m1reason.defaults
from m1reason.__main__ import main
from m1reason.generator.fake import FakeCompletion, FakeGenerator
from m1reason.solving import solve

GOLD = {"What is 1+1?": "2", "What is 2+3?": "5", "What is 10/4 as a fraction?": "5/2"}
SAID = {"What is 1+1?": "2", "What is 2+3?": "5.0", "What is 10/4 as a fraction?": "3"}  # the last one is wrong


@pytest.fixture
def scripted(monkeypatch):
    """The model every command loads becomes a FakeGenerator that answers right except for 10/4."""
    calls = []

    def handler(request, i):
        calls.append(request.prompt)
        answer = next((a for p, a in SAID.items() if p in request.prompt), "?")
        return FakeCompletion(f"thinking </think> $\\boxed{{{answer}}}$")

    monkeypatch.setattr(m1reason.defaults, "default_generator", lambda *a, **k: FakeGenerator(handler))
    import m1reason.solving as solve_module

    monkeypatch.setattr(solve_module, "_generators", {})
    return calls


def test_solve_json(scripted, capsys):
    assert main(["solve", "What is 1+1?", "--budget-s", "5", "--json"]) == 0
    solution = json.loads(capsys.readouterr().out)
    assert solution["answer"] == "2" and solution["plan"]["strategy"] == "BudgetAware"
    assert "load_s" in solution["timings"]  # the first call loads: a cold start, reported apart


def test_solve_api_reuses_the_module_generator(scripted):
    first = solve("What is 1+1?", budget_s=None)
    second = solve("What is 1+1?", budget_s=None, strategy="long")
    assert first.plan.strategy == "SelfConsistency" and second.plan.strategy == "LongCoT"
    assert "load_s" in first.timings and "load_s" not in second.timings
    assert "warm_s" in first.timings and "warm_s" not in second.timings  # warmed up outside the budget


def test_the_first_solve_warms_the_model_up_outside_its_budget(monkeypatch):
    import time

    import m1reason.solving as solve_module

    class SlowToWarm(FakeGenerator):
        warmed = 0

        def warm_up(self):
            time.sleep(0.5)  # longer than the budget below
            SlowToWarm.warmed += 1

    monkeypatch.setattr(m1reason.defaults, "default_generator",
                        lambda *a, **k: SlowToWarm(lambda request, i: "</think> $\\boxed{2}$"))
    monkeypatch.setattr(solve_module, "_generators", {})
    first = solve("What is 1+1?", budget_s=0.3)
    assert first.answer == "2" and SlowToWarm.warmed == 1
    assert first.timings["warm_s"] >= 0.5 and first.timings["total_s"] < 0.3
    solve("What is 1+1?", budget_s=0.3)
    assert SlowToWarm.warmed == 1  # once per process


@pytest.mark.parametrize("argv, message", [
    (["solve", "   "], "problem must be a non-empty string"),
    (["solve", "x", "--strategy", "magic"], "unknown strategy 'magic'"),
    (["solve", "x", "--n", "0", "--strategy", "sc"], "n: Input should be greater than or equal to 1"),
    (["eval", "/no/such.jsonl"], "cannot read dataset /no/such.jsonl"),
])
def test_bad_input_is_one_line_not_a_traceback(argv, message, capsys, scripted):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err and "Traceback" not in err and err.count("\n") == 1


def test_bad_budget_is_rejected_by_the_parser(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["solve", "x", "--budget-s", "0"])
    assert exit_info.value.code == 2 and "budget_s must be a finite number of seconds > 0" in capsys.readouterr().err


def test_eval_grades_summarizes_resumes_and_plots(scripted, tmp_path, capsys):
    data = tmp_path / "tiny.jsonl"
    data.write_text("".join(json.dumps({"id": f"p{i}", "problem": p, "answer": a}) + "\n"
                            for i, (p, a) in enumerate(GOLD.items())))
    out, plot = tmp_path / "out.jsonl", tmp_path / "acc.png"
    argv = ["eval", str(data), "--strategy", "sc", "--n", "3", "--budget-s", "5,10", "--out", str(out),
            "--plot", str(plot)]
    assert main(argv) == 0
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(records) == 6 and {r["budget_s"] for r in records} == {5.0, 10.0}
    assert [r["correct"] for r in records[:3]] == [True, True, False]
    # 2 agreeing votes of 3 cannot be overtaken: the third sample is cancelled, so k = 2
    assert records[0]["samples_correct"] == [True, True] and records[2]["correct_cluster"] is None
    table = capsys.readouterr().out
    assert "0.667" in table and "maj@2 0.667" in table and plot.stat().st_size > 1000
    calls = len(scripted)
    assert main(argv + ["--limit", "2"]) == 0  # resumed: everything is in --out already
    assert len(scripted) == calls and len(out.read_text().splitlines()) == 6


@pytest.mark.parametrize("argv, message", [
    (["eval", "data.jsonl", "--limit", "0"], "--limit: expected a whole number >= 1, got '0'"),
    (["eval", "data.jsonl", "--limit", "-1"], "--limit: expected a whole number >= 1, got '-1'"),
    (["eval", "data.jsonl", "--k", "0"], "--k: expected a whole number >= 1, got '0'"),
    (["eval", "data.jsonl", "--budget-s", "5,inf"], "--budget-s: budget_s must be a finite number of seconds > 0"),
    (["solve", "x", "--budget-s", "nan"], "--budget-s: budget_s must be a finite number of seconds > 0"),
])
def test_bad_counts_and_budgets_are_rejected_by_the_parser(argv, message, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2 and message in capsys.readouterr().err


def test_eval_records_a_problem_that_cannot_run_and_goes_on(scripted, tmp_path, capsys):
    data, out = tmp_path / "tiny.jsonl", tmp_path / "out.jsonl"
    rows = [{"id": "empty", "problem": " ", "answer": "1"}] + [
        {"id": f"p{i}", "problem": p, "answer": a} for i, (p, a) in enumerate(GOLD.items())]
    data.write_text("".join(json.dumps(row) + "\n" for row in rows))
    assert main(["eval", str(data), "--strategy", "sc", "--n", "2", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "failed: 1 of 4 records could not run (counted as wrong):" in printed and "  empty: empty problem" in printed
    assert " 4    0.500 " in printed  # 4 problems, accuracy 2/4: the failed one counts as wrong
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["status"] for r in records] == ["failed", "done", "done", "done"]


def test_a_second_eval_on_the_same_out_is_refused(scripted, tmp_path, capsys):
    from m1reason.evaluation import _records_file

    data, out = tmp_path / "tiny.jsonl", tmp_path / "out.jsonl"
    data.write_text(json.dumps({"id": "p1", "problem": "What is 1+1?", "answer": "2"}) + "\n")
    with _records_file(out):  # what a first eval holds while it runs
        assert main(["eval", str(data), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: another eval is writing {out}") and err.count("\n") == 1
    assert scripted == [] and out.read_text() == ""


def test_bench_prints_records_and_a_table(capsys, monkeypatch, tmp_path):
    assert main(["bench", "--batch", "1,2", "--tokens", "4", "--prompt", "4"]) == 0
    lines = capsys.readouterr().out.splitlines()
    records = [json.loads(line) for line in lines[:2]]
    assert [r["batch"] for r in records] == [1, 2] and all(r["tokens_per_s"] > 0 for r in records)
    assert lines[2].split()[:3] == ["batch", "tok/s", "ms/step"]


def read_until(fd, text, timeout=10.0):
    seen, end = b"", time.monotonic() + timeout
    while text.encode() not in seen:
        if time.monotonic() > end:
            raise AssertionError(f"never saw {text!r}; got {seen.decode(errors='replace')!r}")
        if select.select([fd], [], [], 0.1)[0]:
            try:
                seen += os.read(fd, 4096)
            except OSError:
                break
    return seen.decode(errors="replace")


REPL_SCRIPT = """
from m1reason.generator.fake import FakeCompletion, FakeGenerator
from m1reason.repl import Repl
def handler(request, i):
    if "slow" in request.prompt:
        return FakeCompletion("hmm " * 10000, after_append="1}$")
    return FakeCompletion("so </think> $\\\\boxed{4}$", steps=20 + i)
Repl(generator=FakeGenerator(handler, real_time=True, step_s=0.01)).run()
"""


def test_repl_in_a_pseudo_terminal(tmp_path):
    """Live line, answer, :show/:json, Ctrl-C cancels the problem but keeps the REPL, history is written."""
    env = {**os.environ, "M1REASON_HISTORY": str(tmp_path / "history")}
    pid, leader = pty.fork()  # the child gets the terminal as its controlling tty, so ^C becomes SIGINT
    if pid == 0:
        # A Python that starts with SIGINT ignored never turns ^C into KeyboardInterrupt, and an ignored signal
        # survives exec: give the REPL the default disposition whatever pytest's process holds at this moment.
        # (Once, in a full run of the suite beside a CPU benchmark, ^C went unanswered for 10 s; whether this was
        # the cause is not established: it did not happen again in 7 runs of this test under load.)
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        os.execve(sys.executable, [sys.executable, "-c", REPL_SCRIPT], env)
    try:
        read_until(leader, "m1> ")
        os.write(leader, b":strategy sc\r")
        read_until(leader, "m1> ")
        os.write(leader, b"What is 2+2?\r")
        out = read_until(leader, "m1> ")
        assert "running | " in out and "votes 4x" in out and "answer: 4" in out
        os.write(leader, b":json\r")
        assert '"answer": "4"' in read_until(leader, "m1> ")
        os.write(leader, b"a slow one\r")
        read_until(leader, "running")
        os.write(leader, b"\x03")  # Ctrl-C
        assert "cancelled" in read_until(leader, "m1> ")
        os.write(leader, b":quit\r")
        read_until(leader, "\n", timeout=2)
        assert _wait(pid, 10) == 0
    finally:
        if _wait(pid, 0) is None:
            os.kill(pid, 9)
            os.waitpid(pid, 0)
        os.close(leader)
    assert "What is 2+2?" in (tmp_path / "history").read_text()


def _wait(pid, timeout):
    """The child's exit code, or None if it is still running after ``timeout`` seconds."""
    end = time.monotonic() + timeout
    while True:
        try:
            done, status = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            return 0
        if done:
            return os.waitstatus_to_exitcode(status)
        if time.monotonic() >= end:
            return None
        time.sleep(0.05)


@pytest.mark.slow
def test_cli_solve_with_the_default_tiny_model(tmp_path):
    env = {**os.environ, "M1REASON_CACHE": str(tmp_path)}
    env.pop("M1REASON_MODEL", None)
    done = subprocess.run([sys.executable, "-m", "m1reason", "solve", "What is 33 + 37?", "--budget-s", "3", "--json"],
                          capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    solution = json.loads(done.stdout)
    assert solution["reproducibility"]["model_id"] == "m1reason/embedded"
    assert solution["answer"] and solution["answer"].isdigit()  # the trained format: a boxed number
    # What BudgetAware guarantees whatever the machine's speed: a plan within its caps whose prediction fits the
    # budget whenever it asks for more than one sample (how many fit is the machine's business, not the test's),
    # and a return by the budget plus the vote's margin.
    plan = solution["plan"]
    cap = m1reason.defaults.EMBEDDED_STRATEGY_DEFAULTS["max_new_tokens"]
    assert plan["strategy"] == "BudgetAware" and 1 <= plan["n"] <= 64 and 1 <= plan["max_new_tokens"] <= cap
    assert plan["n"] == 1 or plan["predicted_s"] <= 3 * 0.9, plan
    assert solution["timings"]["total_s"] < 3 + 1
    assert solution["timings"]["load_s"] > 0 and "calibration_s" in solution["timings"]


@pytest.mark.slow
def test_cli_demo_checks_decoding_and_solves_heldout_problems(tmp_path):
    env = {**os.environ, "M1REASON_CACHE": str(tmp_path)}
    done = subprocess.run([sys.executable, "-m", "m1reason", "demo", "--problems", "2", "--budget-s", "1"],
                          capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "equal the parallel forward's argmax: True" in done.stdout
    assert done.stdout.count(" -> ") == 2 and "embedded tiny M1" in done.stdout


def test_solve_without_an_answer_says_why_instead_of_printing_none(monkeypatch, capsys):
    monkeypatch.setattr(m1reason.defaults, "default_generator",
                        lambda *a, **k: FakeGenerator(lambda request, i: FakeCompletion("thinking, no box")))
    import m1reason.solving as solve_module

    monkeypatch.setattr(solve_module, "_generators", {})
    assert main(["solve", "What is 1+1?", "--strategy", "sc", "--n", "2"]) == 0
    first = capsys.readouterr().out.splitlines()[0]
    assert first.startswith("no answer: ") and "None" not in first


@pytest.mark.parametrize("argv", [["-v", "info"], ["info", "-v"], ["solve", "x", "--verbose"], ["--verbose"]])
def test_verbose_before_or_after_the_subcommand(argv):
    from m1reason.__main__ import build_parser

    assert build_parser().parse_args(argv).verbose is True
    assert getattr(build_parser().parse_args([a for a in argv if a not in ("-v", "--verbose")]), "verbose",
                   False) is False


def test_version(capsys):
    from m1reason import __version__

    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0 and capsys.readouterr().out.strip() == f"m1reason {__version__}"


def test_every_option_has_help_text():
    import argparse

    from m1reason.__main__ import build_parser

    parser = build_parser()
    commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction)).choices
    missing = [f"{name} {action.dest}" for name, p in [("m1reason", parser), *commands.items()]
               for action in p._actions if not isinstance(action, argparse._SubParsersAction) and not action.help]
    assert missing == []


def test_a_reader_that_leaves_early_gets_no_traceback():
    """``m1reason info | head -1``: the pipe is closed before info writes; Python ignores SIGPIPE, so the write
    raises BrokenPipeError, which must end the process quietly."""
    child = subprocess.Popen([sys.executable, "-m", "m1reason", "info"], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE)
    child.stdout.close()
    err = child.stderr.read().decode()
    assert child.wait(timeout=120) == 141 and "Traceback" not in err and "BrokenPipe" not in err, err


def test_an_unknown_strategy_is_rejected_before_the_model_loads(monkeypatch, capsys):
    def no_loading(*args, **kwargs):
        raise AssertionError("the model must not load for a bad option")

    monkeypatch.setattr(m1reason.defaults, "default_generator", no_loading)
    for argv in (["--strategy", "magic"], ["solve", "x", "--strategy", "magic"], ["eval", "d.jsonl", "--strategy",
                                                                                    "magic"]):
        assert main(argv) == 2
        assert capsys.readouterr().err == "error: unknown strategy 'magic'; choose auto, budget, sc or long\n"


def test_solve_explains_the_plan_in_words(scripted, capsys):
    assert main(["solve", "What is 1+1?", "--budget-s", "5"]) == 0
    lines = capsys.readouterr().out.splitlines()
    plan = next(line for line in lines if line.startswith("plan ("))
    assert lines[1].startswith("vote share ") and lines[2].startswith("confidence ")  # and what it rests on
    assert plan.startswith("plan (BudgetAware): ") and " of up to " in plan and "halved" not in plan
    assert "4.5 s on this machine (nothing else running)" in plan  # the budget less the safety margin


def test_eval_plot_has_a_title_and_intervals(scripted, tmp_path, monkeypatch):
    import m1reason.eval_plot

    figures = []
    draw = m1reason.eval_plot.accuracy_figure
    monkeypatch.setattr(m1reason.eval_plot, "accuracy_figure", lambda *a, **k: figures.append(draw(*a, **k)) or
                        figures[-1])
    data, plot = tmp_path / "tiny.jsonl", tmp_path / "acc.png"
    data.write_text("".join(json.dumps({"id": f"p{i}", "problem": p, "answer": a}) + "\n"
                            for i, (p, a) in enumerate(GOLD.items())))
    assert main(["eval", str(data), "--strategy", "sc", "--n", "3", "--budget-s", "5,10", "--out",
                 str(tmp_path / "out.jsonl"), "--plot", str(plot), "--model", "tiny/model"]) == 0
    assert plot.stat().st_size > 1000
    title = figures[0].get_suptitle()
    assert "sc on tiny/model" in title and "n = 3 problems" in title and "samples per problem" in title


def test_eval_lenient_grades_unboxed_answers_and_excludes_strict(monkeypatch, tmp_path, capsys):
    monkeypatch.setattr(m1reason.defaults, "default_generator", lambda *a, **k: FakeGenerator(
        lambda request, i: FakeCompletion("We add them. </think> Adding the two gives $9$.")))
    import m1reason.solving as solve_module

    monkeypatch.setattr(solve_module, "_generators", {})
    data = tmp_path / "d.jsonl"
    data.write_text(json.dumps({"id": "a", "problem": "4 + 5?", "answer": "9"}) + "\n")
    graded = {}
    for mode in ("", "--lenient"):
        out = tmp_path / f"out{mode}.jsonl"
        assert main(["eval", str(data), "--strategy", "sc", "--n", "2", "--out", str(out), *filter(None, [mode])]) == 0
        graded[mode] = json.loads(out.read_text())["correct"]
    assert graded == {"": False, "--lenient": True}
    with pytest.raises(SystemExit) as exit_info:
        main(["eval", str(data), "--strict", "--lenient"])
    assert exit_info.value.code == 2 and "not allowed with" in capsys.readouterr().err


def test_solve_and_eval_say_a_problem_is_out_of_scope(monkeypatch, capsys, tmp_path):
    from m1reason.scope import EMBEDDED_SCOPE

    monkeypatch.setattr(m1reason.defaults, "default_generator", lambda *a, **k: FakeGenerator(
        lambda request, i: "so </think> $\\boxed{2}$", scope=EMBEDDED_SCOPE))
    import m1reason.solving as solve_module

    monkeypatch.setattr(solve_module, "_generators", {})
    assert main(["solve", "What is the integral of 2x?"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "out of the embedded model's scope: calculus ('integral')"
    assert lines[1].startswith("no samples drawn") and len(lines) == 2
    data = tmp_path / "mixed.jsonl"
    data.write_text('{"id": "a", "problem": "What is 1+1?", "answer": "2"}\n'
                    '{"id": "b", "problem": "Prove that 2 is even.", "answer": "yes"}\n')
    assert main(["eval", str(data), "--out", str(tmp_path / "r.jsonl"), "--strategy", "sc", "--n", "2"]) == 0
    out = capsys.readouterr().out
    assert "out of scope: 1 of 2 records, no samples drawn (counted as wrong):" in out
    assert "  b: out of the embedded model's scope: proofs ('prove')" in out
