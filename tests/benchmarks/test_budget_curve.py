"""benchmarks/budget_curve.py's bookkeeping: every (model, budget, configuration) is scored on the same problems,
problems are solved P at a time (or one at a time), and the summary compares BudgetAware with the best grid point
of each budget, per model."""

from __future__ import annotations

import json
import threading
import time

from benchmarks.budget_curve import GRID_N, GRID_TOKENS, main, run, summary
from m1reason.generator.fake import FakeGenerator
from m1reason.train.data import heldout_problems

CONFIGS = 1 + len(GRID_N) * len(GRID_TOKENS)


def test_every_configuration_is_scored_and_the_summary_picks_the_best_grid_point():
    problems = heldout_problems(3, kind="word")  # stories: no expression to check the answers against
    answers = {p.problem: p.answer for p in problems}

    def handler(request, i):  # right on the first sample of each problem only: more samples cannot help a vote
        problem = next(q for q in answers if q in request.prompt)
        return f"</think> \\boxed{{{answers[problem] if i == 0 else '-1'}}}"

    records = run(FakeGenerator(handler), problems, [5.0], {"needed_tokens": 8, "max_new_tokens": 48})
    assert len(records) == CONFIGS
    by_config = {r["config"]: r for r in records}
    assert by_config[f"n=1, {GRID_TOKENS[0]} tok"]["accuracy"] == 1.0
    assert by_config[f"n=4, {GRID_TOKENS[0]} tok"]["accuracy"] == 0.0  # 1 right vs 3 wrong votes
    [row] = summary(records)
    assert row["best grid %"].startswith("100.0") and row["best grid point"].startswith("n=1")
    assert row["within the best's CI"] == (by_config["BudgetAware"]["accuracy"] == 1.0)
    assert by_config[f"n=4, {GRID_TOKENS[0]} tok"]["correct"] == [0, 0, 0]  # per problem, in order
    ours = by_config["BudgetAware"]["correct"]
    assert row["paired: BudgetAware - best"].startswith(f"{100 * (sum(ours) / 3 - 1):+.1f} ± ")
    assert row["paired: BudgetAware - one sample"] == row["paired: BudgetAware - best"]  # the best is one sample


class OverlapCounter:
    """A FakeGenerator behind its own lock that counts the problems (streams) in flight at once. It declares
    ``run_in_background``, as an M1Generator does, so SharedGenerator lets its streams run side by side."""

    def __init__(self, fake: FakeGenerator):
        self.fake, self.lock = fake, threading.RLock()
        self.capabilities, self.tokenizer = fake.capabilities, None
        self.open = self.peak = 0

    def run_in_background(self):
        pass

    def close(self):
        pass

    def stream(self, requests):
        with self.lock:
            self.open += 1
            self.peak = max(self.peak, self.open)
            events = iter(self.fake.stream(requests))
        try:
            time.sleep(0.02)  # keep this problem in flight while the other workers start theirs
            while True:
                with self.lock:
                    event = next(events, None)
                if event is None:
                    return
                yield event
        finally:
            with self.lock:
                self.open -= 1
                events.close()

    def generate(self, requests):
        with self.lock:
            return self.fake.generate(requests)

    def __getattr__(self, name):  # cancel, append, fork, throughput_model: under the lock; data (scope) as is
        method = getattr(self.fake, name)
        if not callable(method):
            return method

        def locked(*args, **kwargs):
            with self.lock:
                return method(*args, **kwargs)
        return locked


def right_on_even_problems(problems):
    """A handler that answers problems 0, 2, 4... right and the others wrong, whichever thread asks."""
    answers = {p.problem: (p.answer if i % 2 == 0 else "-1") for i, p in enumerate(problems)}

    def handler(request, i):
        return f"</think> \\boxed{{{next(a for q, a in answers.items() if q in request.prompt)}}}"
    return handler


def test_concurrency_solves_problems_side_by_side_and_scores_each_against_its_own_answer():
    problems = heldout_problems(8, kind="arithmetic")
    generator = OverlapCounter(FakeGenerator(right_on_even_problems(problems)))
    records = run(generator, problems, [5.0, 10.0], {"needed_tokens": 8, "max_new_tokens": 48}, concurrency=4,
                  labels={"model": "fake"}, echo=False)
    assert [(r["budget_s"], r["config"]) for r in records][:2] == [(5.0, "BudgetAware"), (5.0, "n=1, 48 tok")]
    assert len(records) == 2 * CONFIGS and {r["concurrency"] for r in records} == {4}
    assert all(r["model"] == "fake" and r["accuracy"] == 0.5 and r["problems"] == 8 for r in records)
    assert all(r["max_wall_s"] <= r["cell_wall_s"] for r in records)
    assert generator.peak == 4


def test_concurrency_one_solves_one_problem_at_a_time():
    problems = heldout_problems(4, kind="arithmetic")
    generator = OverlapCounter(FakeGenerator(right_on_even_problems(problems)))
    records = run(generator, problems, [5.0], {"needed_tokens": 8, "max_new_tokens": 48}, echo=False)
    assert generator.peak == 1
    assert len(records) == CONFIGS and all(r["concurrency"] == 1 and r["accuracy"] == 0.5 for r in records)


def test_no_write_without_out_leaves_the_repositorys_records_alone(monkeypatch, capsys):
    import benchmarks.budget_curve as budget_curve

    plotted, sections = [], []
    monkeypatch.setattr(budget_curve, "plot", lambda records, path: plotted.append(path))
    monkeypatch.setattr(budget_curve, "write_section", lambda *args: sections.append(args))
    assert main(["--count", "2", "--budgets", "0.1", "--no-write"]) == 0
    assert plotted == [] and sections == []
    assert "total wall s" in capsys.readouterr().out


def test_two_models_at_concurrency_4_give_a_set_of_records_each(tmp_path, capsys, monkeypatch):
    """The real path: the embedded model loaded twice, its engine sized for 4 problems, solved side by side."""
    out = tmp_path / "out"
    assert main(["--models", "m1reason/embedded", "m1reason/embedded", "--count", "4", "--concurrency", "4",
                 "--budgets", "0.1", "--no-write", "--out", str(out)]) == 0
    saved = json.loads((out / "budget_curve.json").read_text())
    records = saved["records"]
    assert saved["concurrency"] == 4 and (out / "budget_curve.png").exists()
    assert [m["model"] for m in saved["models"]] == ["embedded", "embedded #2"]
    assert all(m["architecture"] == "hybrid" and m["engine"]["max_slots"] == 4 * 64 for m in saved["models"])
    from m1reason.defaults import EMBEDDED_STRATEGY_DEFAULTS

    shipped = EMBEDDED_STRATEGY_DEFAULTS["max_new_tokens"]
    assert all(m["strategy_defaults"]["max_new_tokens"] == shipped for m in saved["models"])  # a trained folder
    for model in ("embedded", "embedded #2"):
        mine = [r for r in records if r["model"] == model]
        assert len(mine) == CONFIGS and all(r["problems"] == 4 and r["concurrency"] == 4 for r in mine)
        assert all(0.0 <= r["accuracy"] <= 1.0 and r["mean_wall_s"] <= r["max_wall_s"] for r in mine)
        # where each cell's time went: every problem prefilled; decode steps of up to 4 x n rows and forced copies
        # (none at all when a 0.1 s budget ran out in the prefill: a slow CI machine does that)
        assert all(r["prefill_tokens"] > 0 and r["prefill_calls"] >= 1 for r in mine)
        assert all((r["decode_steps"] == 0) == (r["mean_decode_batch"] == 0) for r in mine)
        assert all(r["mean_decode_batch"] <= 2 * 4 * r["mean_samples"] for r in mine)  # 2: hedged copies
        assert all(r["no_token"] + (r["median_first_token_s"] is not None) >= 1 for r in mine)
    table = capsys.readouterr().out
    assert "**embedded**: hybrid (4 Mamba + 2 attention layers)" in table and "**embedded #2**" in table
    # the section can be drawn again from the records alone, under the run's own command and date
    import benchmarks.budget_curve as budget_curve

    sections = []
    monkeypatch.setattr(budget_curve, "write_section", lambda *args: sections.append(args))
    assert main(["--from-records", str(out), "--section", "again"]) == 0
    [(name, _, body, env)] = sections
    assert name == "again" and env == saved["env"] and saved["mixed"] is False
    assert "paired: BudgetAware - one sample" in body and "**embedded #2**" in body and "4 problems at a time" in body


def test_configurations_take_turns_going_first_one_problem_at_a_time(monkeypatch):
    """The configuration after the last problem's heaviest may pay for its leftovers: no configuration goes first
    on every problem, and each still meets every problem with the problem's own seed."""
    import benchmarks.budget_curve as budget_curve

    calls = []

    def solve_one(generator, problem, seed, make, budget):
        calls.append((problem, seed, make))
        return budget_curve.Outcome(True, 0.0, 1, True, "finished", 8)

    monkeypatch.setattr(budget_curve, "solve_one", solve_one)
    cells = budget_curve.solve_interleaved(None, ["p0", "p1", "p2", "p3"], {"a": "A", "b": "B", "c": "C"}, 1.0,
                                           seed=10)
    assert [calls[3 * i][2] for i in range(4)] == ["A", "B", "C", "A"]  # who went first on each problem
    assert sorted(calls) == sorted((f"p{i}", 10 + i, m) for i in range(4) for m in "ABC")
    assert all(len(outcomes) == 4 for outcomes, _ in cells.values())


def test_mixed_solves_every_configuration_in_one_stream_and_scores_each_against_its_own_answer():
    problems = heldout_problems(8, kind="arithmetic")
    generator = OverlapCounter(FakeGenerator(right_on_even_problems(problems)))
    records = run(generator, problems, [5.0], {"needed_tokens": 8, "max_new_tokens": 48}, concurrency=4,
                  labels={"model": "fake"}, echo=False, mixed=True)
    assert [r["config"] for r in records][:2] == ["BudgetAware", "n=1, 48 tok"] and len(records) == CONFIGS
    assert all(r["accuracy"] == 0.5 and r["problems"] == 8 for r in records)  # each problem scored once
    assert len({r["cell_wall_s"] for r in records}) == 1  # one stream for all of them
    assert generator.peak == 4


def test_a_cells_engine_work_counts_every_step_and_leaves_the_records_bounded():
    """The engine's step records are bounded: a cell of more steps than the bound still counts them all, and the
    engine's records are bounded again once read."""
    from types import SimpleNamespace

    from benchmarks.budget_curve import engine_mark, engine_work
    from m1reason.engine.engine import StepTimings
    from m1reason.generator.driver_turns import DriverTurn, DriverTurns
    from m1reason.records import MarkedLog

    timings = StepTimings(decode=MarkedLog(maxlen=4), prefill=MarkedLog(maxlen=4))
    timings.decode.append((1, 8.0, 0.5))  # before the mark: not the cell's
    turns = DriverTurns(maxlen=4)
    turns.append(DriverTurn(0.5, 0.0, 0.5, 0.0, 0.0))
    generator = SimpleNamespace(engine=SimpleNamespace(timings=timings), driver_turns=turns)
    mark = engine_mark(generator)
    for _ in range(10):
        timings.decode.append((2, 8.0, 0.001))
        turns.append(DriverTurn(0.002, 0.0, 0.001, 0.0005, 0.0001))
    timings.prefill.append((60, 0.004))
    work = engine_work(generator, mark)
    assert work["decode_steps"] == 10 and work["mean_decode_batch"] == 2 and work["prefill_calls"] == 1
    assert work["prefill_tokens"] == 60 and work["decode_s"] == 0.01
    assert work["driver"] == {"turns": 10, "lock_wait_s": 0.02, "idle_s": 0.0, "engine_s": 0.01, "deliver_s": 0.005,
                              "handover_s": 0.001}
    assert len(timings.decode) == len(turns) == 4 and len(timings.prefill) == 1
    assert engine_work(SimpleNamespace(), engine_mark(SimpleNamespace())) == {}  # no engine: nothing to read
