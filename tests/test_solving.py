"""solve is the one path from a problem to a Solution: its progress callback, who calls it, one validator."""

import ast
import asyncio
import io
from pathlib import Path

import pytest

import m1reason.solving
import strategies
from m1reason.__main__ import main
from m1reason.errors import BudgetError, ConfigError
from m1reason.evaluation import _solver
from m1reason.generator.fake import FakeCompletion, FakeGenerator
from m1reason.repl import Repl
from m1reason.serving import AsyncSolver
from m1reason.solving import solve

BOXED = "thinking </think> so $\\boxed{4}$"


def fake():
    return FakeGenerator(lambda request, i: FakeCompletion(BOXED, steps=2 + i))


def test_on_progress_sees_the_samples_come_in():
    seen = []
    sol = solve("2 + 2?", budget_s=None, strategy=strategies.SelfConsistency(n=3, early_stop="none"),
                generator=fake(), on_progress=seen.append)
    assert sol.answer == "4" and seen
    assert all(isinstance(p, strategies.Progress) for p in seen)
    assert [p.finished for p in seen] == sorted(p.finished for p in seen)  # in the order they happen
    assert (seen[-1].finished, seen[-1].running, seen[-1].tally) == (3, 0, [("4", 3)])
    assert seen[-1].tokens == sol.num_tokens


def test_a_strategy_whose_run_takes_no_on_progress_runs_without_it():
    class Plain:
        def run(self, problem, generator, *, budget_s=None):
            return strategies.LongCoT(max_new_tokens=64).run(problem, generator, budget_s=budget_s)

    seen = []
    assert solve("2 + 2?", strategy=Plain(), generator=fake(), on_progress=seen.append).answer == "4"
    assert seen == []


def test_the_repl_asyncsolver_and_eval_all_go_through_solve(monkeypatch):
    calls, real = [], m1reason.solving.solve

    def spied(problem, **options):
        calls.append((problem, options.get("on_progress") is not None))
        return real(problem, **options)

    monkeypatch.setattr(m1reason.solving, "solve", spied)
    gen = fake()
    Repl(generator=gen, stdout=io.StringIO(), live=True, strategy="sc").run(io.StringIO("1 + 3?\n:quit\n"))

    async def served():
        async with AsyncSolver(gen) as solver:
            answered = await solver.solve("2 + 2?", budget_s=5.0, strategy="sc")
            streamed = [event async for event in solver.stream("3 + 1?", budget_s=5.0, strategy="sc")]
            return answered, streamed[-1]

    answered, streamed = asyncio.run(served())
    graded = _solver("sc", gen)("0 + 4?", None, seed=1)
    assert [answered.answer, streamed.answer, graded.answer] == ["4", "4", "4"]
    # the REPL and a stream show progress, a plain await and eval do not ask for it
    assert calls == [("1 + 3?", True), ("2 + 2?", False), ("3 + 1?", True), ("0 + 4?", False)]


BAD_BUDGET = "budget_s must be a finite number of seconds > 0 (or None), got -1.5"


def test_a_bad_budget_gets_one_error_and_one_message_everywhere(capsys):
    messages = []
    with pytest.raises(BudgetError) as from_solve:
        solve("2 + 2?", budget_s=-1.5, generator=fake())
    messages.append(str(from_solve.value))

    async def served():
        async with AsyncSolver(fake()) as solver:
            await solver.solve("2 + 2?", budget_s=-1.5)

    with pytest.raises(BudgetError) as from_solver:
        asyncio.run(served())
    messages.append(str(from_solver.value))
    with pytest.raises(BudgetError) as from_strategy:
        strategies.BudgetAware().run("2 + 2?", fake(), budget_s=-1.5)
    messages.append(str(from_strategy.value))
    with pytest.raises(BudgetError) as from_repl:
        Repl(budget_s=-1.5)
    messages.append(str(from_repl.value))
    assert messages == [BAD_BUDGET] * 4
    with pytest.raises(SystemExit):
        main(["solve", "2 + 2?", "--budget-s", "-1.5"])
    assert f"--budget-s: {BAD_BUDGET}\n" in capsys.readouterr().err


def test_an_unknown_strategy_gets_one_message_everywhere(capsys):
    expected = "unknown strategy 'magic'; choose auto, budget, sc or long"
    with pytest.raises(ConfigError, match=expected):
        solve("2 + 2?", strategy="magic", generator=fake())
    with pytest.raises(ConfigError, match=expected):
        Repl(strategy="magic")
    out = io.StringIO()
    Repl(generator=fake(), stdout=out, live=False).run(io.StringIO(":strategy magic\n:quit\n"))
    assert f"error: {expected}" in out.getvalue().splitlines()
    assert main(["solve", "2 + 2?", "--strategy", "magic"]) == 2
    assert capsys.readouterr().err == f"error: {expected}\n"


def test_strategies_import_m1reason_submodules_never_the_package():
    # the package imports solving, which imports strategies: importing the package back closes a cycle
    for path in sorted(Path(strategies.__file__).parent.glob("*.py")):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                assert node.module != "m1reason", f"{path.name}:{node.lineno} imports from m1reason"
            elif isinstance(node, ast.Import):
                assert all(alias.name != "m1reason" for alias in node.names), f"{path.name}:{node.lineno}"
