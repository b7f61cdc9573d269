"""The REPL survives what a user can type or pipe into it: a model that will not load, bytes that are not UTF-8,
a budget that is not a finite positive number, a problem whose solving raises."""

import io
import json
import subprocess
import sys

import pytest

from m1reason.generator.fake import FakeGenerator
from m1reason.repl import Repl


def handler(request, i):
    if "explode" in request.prompt:
        raise RuntimeError("a bug in the generator")
    return "so </think> $\\boxed{2}$"


def run_repl(lines: str) -> tuple[Repl, list[str]]:
    out = io.StringIO()
    repl = Repl(generator=FakeGenerator(handler), strategy="sc", budget_s=None, stdout=out, live=False)
    assert repl.run(io.StringIO(lines)) == 0
    return repl, out.getvalue().splitlines()


def corrupt_checkpoints(root):
    """A folder with a config that is not JSON, one whose weights are garbage, and one that does not exist."""
    from m1reason.defaults import EMBEDDED_MODEL

    bad_json = root / "bad_json"
    bad_json.mkdir()
    (bad_json / "config.json").write_text('{"model_type": ')
    bad_weights = root / "bad_weights"
    bad_weights.mkdir()
    for path in EMBEDDED_MODEL.iterdir():
        if path.is_file():
            (bad_weights / path.name).write_bytes(path.read_bytes())
    for weights in bad_weights.glob("*.safetensors"):
        weights.write_bytes(b"\x08\x00\x00\x00\x00\x00\x00\x00{garbage")
    return [bad_json, bad_weights, root / "missing"]


def test_a_model_that_does_not_load_keeps_the_one_in_use(tmp_path):
    folders = corrupt_checkpoints(tmp_path)
    script = "".join(f":model {folder}\n1 + 1?\n" for folder in folders) + ":quit\n"
    repl, lines = run_repl(script)
    errors = [line for line in lines if line.startswith("error: cannot load model")]
    assert len(errors) == 3 and all(line.endswith("; keeping the model in use") for line in errors)
    assert all(f"'{folder}'" in line for folder, line in zip(folders, errors))
    assert sum(line.startswith("answer: 2 ") for line in lines) == 3  # each next problem still solves
    assert repl.model is None and isinstance(repl.generator, FakeGenerator)


def test_a_loader_that_raises_anything_keeps_the_model_in_use(monkeypatch):
    import m1reason.solving

    def out_of_memory(model):
        raise RuntimeError("CUDA out of memory")  # not an M1Error: loading can fail in ways m1reason never named

    monkeypatch.setattr(m1reason.solving, "shared_generator", out_of_memory)
    _, lines = run_repl(":model big/model\n1 + 1?\n:quit\n")
    assert "error: cannot load model 'big/model': RuntimeError: CUDA out of memory; keeping the model in use" in lines
    assert lines[-1].startswith("answer: 2 ")


@pytest.mark.parametrize("value", ["inf", "-inf", "nan", "0", "-3", "soon"])
def test_budget_takes_only_a_finite_positive_number(value):
    repl, lines = run_repl(f":budget 5\n:budget {value}\n:quit\n")
    assert lines[-1] == f"error: :budget needs a finite number of seconds > 0 or 'none', got '{value}'"
    assert repl.budget_s == 5.0


def test_a_problem_whose_solving_raises_is_reported_and_the_repl_goes_on():
    _, lines = run_repl("please explode\n1 + 1?\n:quit\n")
    assert any(line.startswith("error: RuntimeError: a bug in the generator") for line in lines)
    assert lines[-1].startswith("answer: 2 ")


PIPED = """
from m1reason.generator.fake import FakeGenerator
from m1reason.repl import Repl
Repl(generator=FakeGenerator(lambda request, i: "so </think> $\\\\boxed{2}$"), strategy="sc", live=False).run()
"""


def test_bytes_that_are_not_utf8_on_a_pipe_do_not_end_the_repl():
    piped = b"\xff\xfe 1 + 1? \xc3\n1 + 1?\n:json\n:quit\n"
    done = subprocess.run([sys.executable, "-c", PIPED], input=piped, capture_output=True, timeout=120)
    assert done.returncode == 0, done.stderr.decode(errors="replace")
    out = done.stdout.decode("utf-8")
    assert "note: this line had bytes that are not UTF-8; they read as \ufffd" in out
    assert out.count("answer: 2 ") == 2
    assert json.loads(out[out.index("\n{") + 1:out.rindex("}") + 1])["answer"] == "2"  # the reasoning has braces


@pytest.mark.parametrize("word", ["help", "?", "HELP"])
def test_bare_help_is_a_command_not_a_problem(word):
    repl, lines = run_repl(f"{word}\n:quit\n")
    assert "commands:" in lines and repl.last is None


@pytest.mark.parametrize("word", ["quit", "exit", "Quit"])
def test_bare_quit_and_exit_leave(word):
    repl, lines = run_repl(f"{word}\n1 + 1?\n")
    assert repl.last is None and not any(line.startswith("answer") for line in lines)


def test_an_unknown_command_says_so_instead_of_printing_help():
    _, lines = run_repl(":foo bar\n:quit\n")
    assert lines[-1] == "unknown command :foo (type :help)" and "commands:" not in lines


@pytest.mark.parametrize("options, error, message", [
    ({"strategy": "magic"}, "ConfigError", "unknown strategy 'magic'"),
    ({"budget_s": 0.0}, "BudgetError", "budget_s must be a finite number"),  # as from solve and AsyncSolver
    ({"budget_s": float("nan")}, "BudgetError", "budget_s must be a finite number"),
])
def test_bad_options_are_rejected_before_any_model_loads(options, error, message):
    from m1reason import errors

    with pytest.raises(getattr(errors, error), match=message):
        Repl(**options)  # no generator: accepting the options would load the model at the first problem


def test_the_first_samples_reasoning_is_printed_as_it_is_written():
    _, lines = run_repl("1 + 1?\n:quit\n")
    start = next(i for i, line in enumerate(lines) if line.startswith("[reasoning of sample "))
    assert lines[start + 1] == "so </think> $\\boxed{2}$" and lines[start + 2].startswith("[sample ")
    assert lines[start + 3].startswith("answer: 2 ") and sum(line.startswith("[reasoning") for line in lines) == 1


def test_stream_off_prints_only_the_answer():
    _, lines = run_repl(":stream off\n1 + 1?\n:quit\n")
    assert lines[-1].startswith("answer: 2 ") and not any("boxed" in line for line in lines)


def test_reasoning_lines_and_the_status_line_do_not_mix():
    """Each reasoning line clears the rewritten status line first; a long line wraps at a space."""
    out = io.StringIO()
    long_text = "step " * 60 + "</think> $\\boxed{2}$"
    repl = Repl(generator=FakeGenerator(lambda request, i: long_text), strategy="sc", budget_s=None, stdout=out)
    repl.run(io.StringIO("1 + 1?\n:quit\n"))
    shown = [line.split("\r")[-1] for line in out.getvalue().split("\n")]  # what a terminal leaves on each line
    reasoning = shown[shown.index(next(s for s in shown if s.startswith("[reasoning"))) + 1:]
    reasoning = reasoning[:next(i for i, s in enumerate(reasoning) if s.startswith("[sample "))]
    assert " ".join(reasoning) == long_text.strip() and len(reasoning) > 1
    assert all("running |" not in line for line in reasoning)
    assert any(s.startswith("answer: 2 ") for s in shown)


def test_a_problem_out_of_scope_says_so_in_one_line():
    from m1reason.scope import EMBEDDED_SCOPE

    out = io.StringIO()
    repl = Repl(generator=FakeGenerator(handler, scope=EMBEDDED_SCOPE), strategy="sc", budget_s=None, stdout=out,
                live=False)
    assert repl.run(io.StringIO("Integrate 2x.\n:quit\n")) == 0
    lines = out.getvalue().splitlines()
    assert ("out of the embedded model's scope: calculus ('integrate')   (no samples drawn; :model names another "
            "model)") in lines
    assert repl.last.status == "out_of_scope" and not any(line.startswith("[reasoning") for line in lines)
