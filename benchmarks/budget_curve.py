"""Accuracy against wall-clock budget (the paper's Figure 3 at toy scale): BudgetAware's own plan beside every
fixed (n, max_new_tokens) of a grid, on held-out problems, for one or more models.

For each model and budget, every configuration solves the same problems with the same per-problem seeds; a
configuration that cannot finish a sample in time has its answer forced out at the deadline (the strategies' usual
fallback). The question the table answers, per model: does BudgetAware land within the best grid point's 95%
interval, without being told the grid?

``--concurrency P`` solves up to P problems at once, each under its own budget, through one SharedGenerator: the
model's M1Generator gets its background driver, so every live sample of every problem advances in one continuous
batch, as when the serving front runs many students on one GPU. The engine is sized so that P problems at the
largest n of any configuration never queue for a slot. Under a per-problem deadline accuracy depends on P (the
other problems' samples share every decode step), so P is recorded with every number. P = 1 (the default) is one
problem at a time on the bare generator, as ``solve`` runs them, every configuration on a problem before the next
problem (so that the machine's drift over the run falls on all configurations alike).

    python -m benchmarks.budget_curve [--models FOLDER ...] [--count 50] [--budgets 0.1 0.2 0.4 0.8]
                                      [--concurrency 1] [--strategy-defaults auto|embedded|model]
                                      [--device cuda] [--prefill-delay 0] [--feed-appends 0] [--overlap false]
                                      [--seed 0] [--mixed] [--out DIR]
                                      [--no-write]
    python -m benchmarks.budget_curve --from-records DIR --section NAME   # redraw a run's section, run nothing

The GPU run (Figure 3 with >= 500 problems, the tiny hybrid beside its same-size transformer teacher):

    python -m benchmarks.budget_curve --device cuda --models m1reason/embedded runs/gpu2/teacher --count 500 \\
        --concurrency 32 --budgets 0.05 0.1 0.2 0.4

(A first try of this on the H100, 2026-11-25, ran out of its 470 s: problems took up to 13 s on a 0.4 s budget,
because the driver kept the generator's lock from the problems' threads and their forced answers queued behind
one another. m1reason.generator.turns and SharedGenerator's lock-free appends fixed that on CPU; not yet re-run
on a GPU.)

P = 32 rather than 500: the engine's host work is ~6-10 us per sequence per decode step (benchmarks/host_overhead.py),
so 500 problems x 16 samples would spend ~50-80 ms a step on the host alone and starve every configuration at these
budgets; 32 x 16 = 512 sequences keep a step at a few ms. Each model is warmed up first (throughput calibration,
every CUDA graph captured, one untimed pass of every configuration), so none of that lands in a timed cell.
``--model FOLDER`` is the same as ``--models FOLDER``.

Defaults are sized for 2 CPU cores and the embedded model (~8 minutes). Run it on an idle machine: the budgets are
wall-clock, so anything else running on the cores moves the numbers.
"""

from __future__ import annotations

import argparse
import collections
import itertools
import json
import os
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.report import environment, markdown_table, true_or_false, write_section

GRID_N = (1, 4, 16)
GRID_TOKENS = (48, 160)
BLOCK = 16  # the engine's KV block size: max_len is rounded up to it


# ---- the configurations ------------------------------------------------------------------------------------------
def configurations(defaults: dict) -> dict:
    """Name -> strategy factory ``seed -> strategy``: BudgetAware, then the fixed grid."""
    import strategies

    configs = {"BudgetAware": lambda seed: strategies.BudgetAware(**defaults, seed=seed)}
    for n, tokens in itertools.product(GRID_N, GRID_TOKENS):
        configs[f"n={n}, {tokens} tok"] = (
            lambda seed, n=n, tokens=tokens: strategies.SelfConsistency(
                n=n, max_new_tokens=tokens, early_stop="none", force_tokens=defaults.get("force_tokens", 32),
                seed=seed))
    return configs


def strategy_defaults(mode: str, own: dict | None) -> dict:
    """The strategies' field defaults for one model: "auto"/"model": the generator's own ``strategy_defaults``
    (m1reason.defaults gives the short ones to the embedded model and to any folder made by
    ``python -m m1reason.train``; others get the strategies' M1-3B defaults, thousands of tokens per sample);
    "embedded": the embedded model's short-solution defaults, whatever the model.

    >>> from m1reason.defaults import EMBEDDED_STRATEGY_DEFAULTS as short
    >>> strategy_defaults("auto", short) == short, strategy_defaults("model", None), strategy_defaults("embedded", None)
    (True, {}, {'max_new_tokens': 320, 'needed_tokens': 145, 'force_tokens': 8, 'repair_steps': 2})
    """
    from m1reason.defaults import EMBEDDED_STRATEGY_DEFAULTS

    return dict(EMBEDDED_STRATEGY_DEFAULTS if mode == "embedded" else own or {})


# ---- the engine's size -------------------------------------------------------------------------------------------
def engine_options(concurrency: int, configs: dict, longest_prompt: int) -> dict:
    """Engine options for ``concurrency`` problems at once: a slot for every sample of P problems at the largest n
    of any configuration (BudgetAware's cap included), so no sample waits for a slot and eats its budget in a
    queue; and ``max_len`` just long enough for the longest prompt, the longest answer and budget forcing's
    appended text. The loader's own shape for a folder (max_len 32768) would do for speed, but the throughput
    calibration measures decode steps at contexts up to max_len and fits them linearly: for the tiny models on a
    CPU that fit predicted 7.6-10.6 ms per short-context step against ~5.5 measured, and BudgetAware, trusting it,
    planned one short sample where two fit (72% at 0.4 s; the same model loaded as ``solve()`` loads it, max_len
    512, was predicted at 5.2 ms).

    >>> configs = configurations({"max_new_tokens": 160, "needed_tokens": 96, "force_tokens": 16})
    >>> engine_options(1, configs, 60), engine_options(8, configs, 60)
    ({'max_slots': 64, 'max_len': 288}, {'max_slots': 512, 'max_len': 288})
    """
    settings = [make(seed=0) for make in configs.values()]
    widest_n = max(s.n for s in settings)
    longest = max(s.max_new_tokens + forcing_allowance(s) for s in settings)
    return {"max_slots": concurrency * widest_n, "max_len": -(-(longest_prompt + longest + 1) // BLOCK) * BLOCK}


def forcing_allowance(settings) -> int:
    """Tokens budget forcing may add past max_new_tokens: the appended text (its length in bytes bounds its token
    count, as the strategies' own limit does) and ``force_tokens`` more."""
    from strategies._runner import forcing_text

    return len(forcing_text("", settings.answer_prefix).encode()) + settings.force_tokens


def longest_prompt_tokens(folder: Path, problems) -> int:
    """Tokens of the longest prompt as the generator will build it (chat template, BOS included)."""
    from m1reason import build_prompt, load_tokenizer

    tokenizer = load_tokenizer(str(folder))
    return max(len(tokenizer(build_prompt(p.problem, tokenizer), add_special_tokens=True)["input_ids"])
               for p in problems)


# ---- the models --------------------------------------------------------------------------------------------------
@dataclass
class ModelUnderTest:
    """One loaded model and what the records say about it."""

    generator: object
    name: str  # the folder's name, e.g. "grpo" or "teacher"
    architecture: str  # "hybrid", "transformer" or "mamba"
    layers: str  # e.g. "4 Mamba + 2 attention"
    defaults: dict  # the strategies' field defaults
    info: dict = field(default_factory=dict)  # source, device, dtype, engine options: for the JSON

    def labels(self) -> dict:
        return {"model": self.name, "architecture": self.architecture, "layers": self.layers}


def architecture(config) -> tuple[str, str]:
    """("hybrid" | "transformer" | "mamba", "<m> Mamba + <a> attention") from a ModelConfig.

    >>> from m1reason.model import ModelConfig
    >>> architecture(ModelConfig.tiny(num_layers=6, attn_layers=(2, 5)))
    ('hybrid', '4 Mamba + 2 attention')
    """
    mamba, attn = len(config.mamba_layers), len(config.attn_layers)
    kind = "hybrid" if mamba and attn else "transformer" if attn else "mamba"
    return kind, f"{mamba} Mamba + {attn} attention"


def model_folder(spec: str | None) -> Path:
    """The folder ``default_generator(spec)`` loads: the argument, else $M1REASON_MODEL, else the embedded model."""
    from m1reason.defaults import EMBEDDED_MODEL, MODEL_ENV

    return Path(spec or os.environ.get(MODEL_ENV) or EMBEDDED_MODEL)


def shown_path(path: Path) -> str:
    """``path`` as the records show it: relative to the working directory when inside it (a checkout's absolute
    path means nothing on another machine), else as given.

    >>> shown_path(Path.cwd() / "m1reason" / "embedded"), shown_path(Path("/elsewhere/model"))
    ('m1reason/embedded', '/elsewhere/model')
    """
    try:
        return str(Path(path).resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def unique_name(name: str, taken: list[str]) -> str:
    """``name``, or ``name #2``, ``#3``... when an earlier model already has it.

    >>> unique_name("embedded", []), unique_name("embedded", ["embedded"])
    ('embedded', 'embedded #2')
    """
    if name not in taken:
        return name
    return next(f"{name} #{i}" for i in itertools.count(2) if f"{name} #{i}" not in taken)


def load(spec: str | None, *, device: str | None, concurrency: int, problems, mode: str,
         taken: list[str], prefill_delay: float | None = None, feed_appends: int | None = None,
         overlap: bool | None = None) -> ModelUnderTest:
    """Load ``spec`` through the public loader, its engine sized for ``concurrency``."""
    from m1reason.defaults import EMBEDDED_STRATEGY_DEFAULTS, default_generator, trained_by_recipe

    folder = model_folder(spec)
    # The engine is sized before loading, from the strategies that will run, so the generator's own defaults are
    # foreseen: m1reason.defaults gives the short ones to every recipe-trained folder, the embedded one included.
    own_guess = EMBEDDED_STRATEGY_DEFAULTS if trained_by_recipe(folder) else None
    options = engine_options(concurrency, configurations(strategy_defaults(mode, own_guess)),
                             longest_prompt_tokens(folder, problems))
    if prefill_delay is not None:
        options["prefill_delay"] = prefill_delay
    if feed_appends is not None:
        options["feed_appends"] = feed_appends
    if overlap is not None:
        options["overlap"] = overlap
    generator = default_generator(spec, device=device, **options)
    if getattr(generator.tokenizer, "chat_template", None) is None:  # build_prompt then sends the bare question
        print(f"warning: {folder} has no chat template (chat_template.jinja): its prompts will not be in the chat "
              "format a model trained by m1reason.train expects", file=sys.stderr)
    defaults = strategy_defaults(mode, getattr(generator, "strategy_defaults", None))
    kind, layers = architecture(generator.model.config)
    engine = generator.engine  # what ran, defaults included, not only what was asked for
    ran = {"decode_steps": engine.decode_steps, "feed_appends": engine.feed_appends, "overlap": engine.overlap,
           "prefill_delay": engine.prefill_delay, "cuda_graphs": engine.graphs is not None}
    info = {"source": generator.source, "folder": shown_path(folder), "device": str(generator.model.device),
            "dtype": str(generator.model.dtype), "engine": {**options, **ran}, "strategy_defaults": defaults}
    name = unique_name(Path(str(generator.source.get("model_id") or folder)).name, taken)
    return ModelUnderTest(generator, name, kind, layers, defaults, info)


# ---- warming up --------------------------------------------------------------------------------------------------
def warm_generator(generator) -> None:
    """The generator's own ``warm_up`` with the strategies' sampling (calibration, every decode graph, the
    prefill, fork and append paths compiled, then the heap frozen), so none of it lands inside a timed cell.
    Call it before any request is in flight."""
    from m1reason import SamplingParams
    from strategies._settings import StrategySettings

    settings = StrategySettings()
    generator.warm_up(SamplingParams(temperature=settings.temperature, top_p=settings.top_p))


def load_warm(model: str, device: str, **options) -> tuple:
    """``(generator, strategy defaults)`` for the one-model forcing benchmarks: an M1Generator for ``model``
    (a recipe-trained folder gets the short engine and the embedded model's short-solution defaults), warmed up
    (``warm_generator``), so no cold-start cost lands inside a timed solve. One torch thread, as measured."""
    import torch

    from m1reason import M1Generator
    from m1reason.defaults import EMBEDDED_STRATEGY_DEFAULTS, SHORT_ENGINE, trained_by_recipe

    torch.set_num_threads(1)
    short = trained_by_recipe(Path(model))  # a tiny recipe model: short solutions, a short engine
    generator = M1Generator.from_pretrained(model, device=device, **{**(SHORT_ENGINE if short else {}), **options})
    warm_generator(generator)  # calibration, graphs, compiles: cold-start costs, outside every budget
    return generator, dict(EMBEDDED_STRATEGY_DEFAULTS) if short else {}


def warm_up(model: ModelUnderTest, problems, budget: float, concurrency: int) -> float:
    """Warm the generator up, then solve the first ``concurrency`` problems once with every configuration at
    ``budget`` through the same path as the timed cells (batched prefill, forcing); seconds."""
    from m1reason.generator.warm import freeze_long_lived

    started = time.monotonic()
    warm_generator(model.generator)
    run(model.generator, problems[:concurrency], [budget], model.defaults, concurrency=concurrency, echo=False)
    freeze_long_lived()  # what the first solves left (the strategies' own first-use objects) joins the frozen heap
    return time.monotonic() - started


# ---- solving -----------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Outcome:
    """One problem solved by one configuration."""

    correct: bool
    wall_s: float
    samples: int
    answered: bool  # any answer at all: a wrong one and none fail for different reasons
    stopped: str  # Solution.stopped: "finished", "settled", "forced", "deadline"
    planned_tokens: int  # the plan's max_new_tokens per sample
    first_token_s: float | None = None  # the request's wait for its turn (None: no token at all)
    tokens_per_sample: float = 0.0  # tokens decoded per sample (forced answers included)


def solve_one(generator, problem, seed: int, make: Callable, budget: float) -> Outcome:
    """One problem with one configuration under ``budget`` seconds; problem i always gets seed i, so
    configurations face the same draws."""
    from m1reason.answers import is_equivalent

    started = time.monotonic()
    solution = make(seed=seed).run(problem.problem, generator, budget_s=budget)
    wall = time.monotonic() - started
    correct = solution.answer is not None and is_equivalent(solution.answer, problem.answer)
    return Outcome(correct, wall, len(solution.samples), solution.answer is not None, solution.stopped,
                   solution.plan.max_new_tokens, solution.timings.get("first_token_s"),
                   solution.num_tokens / max(1, len(solution.samples)))


def solve_interleaved(generator, problems, configs: dict, budget: float,
                      seed: int = 0) -> dict[str, tuple[list[Outcome], float]]:
    """One problem at a time, every configuration on it before the next problem: name -> (outcomes in problem
    order, the configuration's summed wall seconds). Interleaved because the budgets are wall-clock: run cell
    after cell, a machine's drift over minutes lands on some configurations and not others (on the shared 2-core
    machine one sample of up to 160 tokens scored 76% in one cell while BudgetAware, minutes later, scored 57%;
    interleaved on the same problems, 79.5% and 78.5%: benchmarks/forcing_ab.py, 2026-12-02). The configurations
    take turns going first (problem i starts at configuration i mod k): the one that follows the heaviest of the
    last problem may pay for what that left behind (a group still on the device, slots being freed), and in a fixed
    order the same configuration, BudgetAware, would pay it on every problem."""
    outcomes: dict[str, list[Outcome]] = {name: [] for name in configs}
    for i, problem in enumerate(problems):
        for name in taking_turns(configs, i):
            outcomes[name].append(solve_one(generator, problem, seed + i, configs[name], budget))
    return {name: (found, sum(o.wall_s for o in found)) for name, found in outcomes.items()}


def taking_turns(names, turn: int) -> list:
    """``names`` in order, starting from the ``turn``-th (mod their count): who goes first changes every turn.

    >>> taking_turns({"a": 1, "b": 2, "c": 3}, 4)
    ['b', 'c', 'a']
    """
    names = list(names)
    return names[turn % len(names):] + names[:turn % len(names)]


def solve_concurrently(generator, problems, configs: dict, budget: float, concurrency: int,
                       seed: int = 0) -> dict[str, tuple[list[Outcome], float]]:
    """Every (problem, configuration) pair in one shuffled stream, ``concurrency`` at a time (each worker takes
    the next pair as soon as its last one returns). With one configuration it is that configuration's cell; with
    all of them (``--mixed``) every configuration meets the same load and the same drift of the machine, where
    cells run one after another meet different ones (on 2 CPU cores BudgetAware's paired difference at one budget
    swung from +7.0 to -10.9 points between two sequential runs of the same seeds); the load is then a mix of all
    configurations, not many copies of one. Returns name -> (outcomes in problem order, the stream's wall seconds).

    >>> from m1reason.generator.fake import FakeGenerator
    >>> from m1reason.train.data import heldout_problems
    >>> import strategies
    >>> # the fake answers 1 to everything: no check of the answer against a problem's own value
    >>> configs = {"one": lambda seed: strategies.SelfConsistency(n=1, max_new_tokens=64, seed=seed,
    ...                                                           check_answers=False)}
    >>> from m1reason.serving.shared import SharedGenerator
    >>> fake = SharedGenerator(FakeGenerator(lambda request, i: "</think> \\\\boxed{1}"))
    >>> cells = solve_concurrently(fake, heldout_problems(3), configs, 5.0, concurrency=2)
    >>> [o.answered for o in cells["one"][0]]
    [True, True, True]
    """
    import random

    tasks = [(i, name) for i in range(len(problems)) for name in configs]
    random.Random(seed).shuffle(tasks)
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="problem") as pool:
        done = list(pool.map(lambda task: solve_one(generator, problems[task[0]], seed + task[0], configs[task[1]],
                                                    budget), tasks))
    wall = time.monotonic() - started
    found = {name: {} for name in configs}
    for (i, name), outcome in zip(tasks, done):
        found[name][i] = outcome
    return {name: ([by_problem[i] for i in range(len(problems))], wall) for name, by_problem in found.items()}


def run(generator, problems, budgets: list[float], defaults: dict, *, concurrency: int = 1,
        labels: dict | None = None, echo: bool = True, seed: int = 0, mixed: bool = False) -> list[dict]:
    """One record per (budget, configuration): accuracy with its 95% interval, per-problem mean and max wall
    seconds, the configuration's wall seconds at this budget (``cell_wall_s``), mean samples, the share of
    problems answered at all, how the samples stopped, the planned length. ``labels`` (e.g. the model) go into
    every record. Problem i samples with seed ``seed + i`` in every configuration.

    One problem at a time, configurations are interleaved problem by problem (``solve_interleaved``). Above
    concurrency 1 each configuration runs as a cell of its own, through a SharedGenerator (an M1Generator then
    runs its background driver, stopped again on return), so the problems in flight share every decode step; at
    each budget another configuration runs its cell first (the first cell follows the last budget's heaviest).
    ``mixed``: above concurrency 1, all configurations' problems in one shuffled stream instead; the engine's work
    is then the stream's, not a configuration's."""
    from m1reason.serving.shared import SharedGenerator
    from m1reason.train.evaluate import mean_ci

    solver = generator if concurrency == 1 else SharedGenerator(generator)
    configs = configurations(defaults)
    records = []
    try:
        for turn, budget in enumerate(budgets):
            cells, work = {}, {}
            if concurrency == 1:
                cells = solve_interleaved(solver, problems, configs, budget, seed)
            elif mixed:
                mark = engine_mark(generator)
                cells = solve_concurrently(solver, problems, configs, budget, concurrency, seed)
                work = dict.fromkeys(configs, engine_work(generator, mark))
            else:
                for name in taking_turns(configs, turn):  # at each budget another configuration's cell first
                    mark = engine_mark(generator)
                    cells |= solve_concurrently(solver, problems, {name: configs[name]}, budget, concurrency, seed)
                    work[name] = engine_work(generator, mark)
            for name in configs:
                outcomes, cell_wall = cells[name]
                accuracy, half = mean_ci([float(o.correct) for o in outcomes])
                walls = [o.wall_s for o in outcomes]
                records.append({**(labels or {}), "concurrency": concurrency, "budget_s": budget, "config": name,
                                "accuracy": accuracy, "ci95": half, "mean_wall_s": sum(walls) / len(walls),
                                "max_wall_s": max(walls), "cell_wall_s": cell_wall,
                                "mean_samples": sum(o.samples for o in outcomes) / len(outcomes),
                                "answered": sum(o.answered for o in outcomes) / len(outcomes),
                                "stopped": dict(collections.Counter(o.stopped for o in outcomes)),
                                "mean_planned_tokens": sum(o.planned_tokens for o in outcomes) / len(outcomes),
                                **timeline(outcomes), **work.get(name, {}),
                                "problems": len(problems), "correct": [int(o.correct) for o in outcomes]})
                if echo:
                    print(json.dumps(records[-1]), flush=True)
    finally:
        if solver is not generator and solver.self_driven:
            solver.generator.close()  # stop the background driver: the next caller may drive it from its own thread
    return records


def timeline(outcomes: list[Outcome]) -> dict:
    """Where a cell's time went, for a load that starves it: the median and slowest wait for a first token (a
    request's turn: admission and prefill) and the mean tokens decoded per sample (the decode rate it got).

    >>> o = lambda wait, tokens: Outcome(True, 0.1, 1, True, "finished", 160, wait, tokens)
    >>> timeline([o(0.01, 40), o(0.03, 60), o(None, 0)])
    {'median_first_token_s': 0.03, 'max_first_token_s': 0.03, 'no_token': 1, 'mean_tokens_per_sample': 33.3}
    """
    waits = sorted(o.first_token_s for o in outcomes if o.first_token_s is not None)
    return {"median_first_token_s": round(waits[len(waits) // 2], 4) if waits else None,
            "max_first_token_s": round(waits[-1], 4) if waits else None,
            "no_token": len(outcomes) - len(waits),
            "mean_tokens_per_sample": round(sum(o.tokens_per_sample for o in outcomes) / len(outcomes), 1)}


def engine_mark(generator) -> tuple | None:
    """Marks in the engine's step records and the driver's turns (None: no engine to read): ``engine_work`` reads
    every record after them, however many, and the records are bounded again once it has."""
    timings = getattr(getattr(generator, "engine", None), "timings", None)
    if timings is None:
        return None
    return timings.decode.mark(), timings.prefill.mark(), generator.driver_turns.mark()


def engine_work(generator, mark: tuple | None) -> dict:
    """The engine's work since ``mark``: prefill calls and decode steps, their seconds and the mean decode batch;
    and the background driver's turns, split into waiting for the lock, idle, the engine's step, delivering its
    tokens and handing the lock over. Under a load that starves the problems this says where the time went."""
    if mark is None:
        return {}
    timings = generator.engine.timings
    decode, prefill = timings.decode.since(mark[0]), timings.prefill.since(mark[1])
    return {"prefill_calls": len(prefill), "prefill_s": round(sum(s for _, s in prefill), 3),
            "prefill_tokens": sum(t for t, _ in prefill), "decode_steps": len(decode),
            "decode_s": round(sum(s for _, _, s in decode), 3),
            "mean_decode_batch": round(sum(b for b, _, _ in decode) / len(decode), 1) if decode else 0.0,
            "driver": generator.driver_turns.totals_since(mark[2])}


# ---- reporting ---------------------------------------------------------------------------------------------------
def summary(records: list[dict]) -> list[dict]:
    """Per model and budget: BudgetAware, the best grid point, whether BudgetAware is inside its interval, and
    their paired difference on the same problems (records with per-problem ``correct``; older ones have none); and
    BudgetAware's paired difference from the best one-sample grid point (whether its samples paid at that budget).

    The best grid point is the highest of six noisy estimates, so it is biased upward (by about one interval
    half-width where several points are close); the paired difference's interval says how far apart the two
    really are on these problems."""
    rows = []
    for model in dict.fromkeys(r.get("model") for r in records):
        mine = [r for r in records if r.get("model") == model]
        for budget in sorted({r["budget_s"] for r in mine}):
            here = [r for r in mine if r["budget_s"] == budget]
            ours = next(r for r in here if r["config"] == "BudgetAware")
            best = max((r for r in here if r["config"] != "BudgetAware"), key=lambda r: r["accuracy"])
            rows.append({"model": model, "budget s": budget, "BudgetAware %": _pct(ours),
                         "its samples": round(ours["mean_samples"], 1), "its max wall s": round(ours["max_wall_s"], 3),
                         "best grid point": best["config"], "best grid %": _pct(best),
                         "within the best's CI": ours["accuracy"] >= best["accuracy"] - best["ci95"],
                         "paired: BudgetAware - best": _paired(ours, best),
                         "paired: BudgetAware - one sample": _paired(ours, _best_single(here)), **_waits(ours, best)})
    return rows


def _best_single(cell: list[dict]) -> dict:
    """The most accurate one-sample grid point of a budget's records (n=1 at its best length).

    >>> _best_single([{"config": "n=1, 48 tok", "accuracy": 0.2}, {"config": "n=1, 160 tok", "accuracy": 0.6},
    ...               {"config": "n=4, 160 tok", "accuracy": 0.7}])["config"]
    'n=1, 160 tok'
    """
    return max((r for r in cell if r["config"].startswith("n=1,")), key=lambda r: r["accuracy"])


def _waits(ours: dict, best: dict) -> dict:
    """Each side's median wait for a first token and tokens per sample, where the records have them."""
    if "median_first_token_s" not in ours or "median_first_token_s" not in best:
        return {}
    row = {}
    for side, record in (("its", ours), ("best's", best)):
        row[f"{side} first token s (median)"] = record["median_first_token_s"]
        row[f"{side} tokens/sample"] = record["mean_tokens_per_sample"]
    return row


def _paired(ours: dict, best: dict) -> str:
    from m1reason.train.evaluate import paired_gain

    if "correct" not in ours or "correct" not in best:
        return ""
    gain, half = paired_gain([float(c) for c in ours["correct"]], [float(c) for c in best["correct"]])
    return f"{100 * gain:+.1f} ± {100 * half:.1f}"


def _pct(record: dict) -> str:
    return f"{100 * record['accuracy']:.1f} ± {100 * record['ci95']:.1f}"


def tables(rows: list[dict], models: list[ModelUnderTest], concurrency: int) -> str:
    """One markdown table per model, headed by its name, architecture, folder and the concurrency."""
    at_once = "one problem at a time" if concurrency == 1 else f"{concurrency} problems at a time"
    parts = []
    for model in models:
        mine = [r for r in rows if r["model"] == model.name]
        parts.append(f"**{model.name}**: {model.architecture} ({model.layers} layers), `{model.info['folder']}`, "
                     f"{at_once}\n\n" + markdown_table(mine, [c for c in mine[0] if c != "model"]))
    return "\n\n".join(parts)


WORK_NOTE = ("Where each cell's wall time went (s): the engine's prefill and decode records, and the background "
             "driver's turns (waiting for the lock, idle, inside the engine's step, delivering tokens, handing the "
             "lock to queued threads); the last column is wall time outside every turn (before the driver's first "
             "or after its last).\n\n")


def work_table(records: list[dict], mixed: bool) -> str:
    """Where each loaded cell's wall time went (records of runs above concurrency 1): the engine's prefill and
    decode records, and the background driver's turns split into waiting for the lock, idle, the engine's step,
    delivering tokens and handing the lock over. A --mixed stream is one cell per budget.

    >>> driver = {"turns": 9, "lock_wait_s": 0.5, "idle_s": 0.0, "engine_s": 1.2, "deliver_s": 0.1, "handover_s": 0.2}
    >>> r = {"budget_s": 0.4, "config": "n=1, 48 tok", "cell_wall_s": 2.0, "prefill_calls": 3, "prefill_s": 0.2,
    ...      "decode_steps": 6, "decode_s": 1.0, "mean_decode_batch": 9.5, "driver": driver}
    >>> print(work_table([r], mixed=False).splitlines()[2])
    | 0.4 | n=1, 48 tok | 2 | 3 | 0.2 | 6 | 1 | 9.5 | 9 | 0.5 | 0 | 1.2 | 0.1 | 0.2 | 0 |
    """
    rows = []
    for r in records:
        if "driver" not in r or (mixed and rows and rows[-1]["budget s"] == r["budget_s"]):
            continue
        driver = r["driver"]
        shares = sum(v for k, v in driver.items() if k != "turns")
        rows.append({"budget s": r["budget_s"], "cell": "all (mixed)" if mixed else r["config"],
                     "cell wall s": r["cell_wall_s"], "prefill calls": r["prefill_calls"], "prefill s": r["prefill_s"],
                     "decode steps": r["decode_steps"], "decode s": r["decode_s"],
                     "mean batch": r["mean_decode_batch"], "driver turns": driver["turns"],
                     **{f"{k.removesuffix('_s').replace('_', ' ')} s": round(v, 3)
                        for k, v in driver.items() if k != "turns"},
                     "outside the driver s": round(max(0.0, r["cell_wall_s"] - shares), 3)})
    return markdown_table(rows, list(rows[0])) if rows else ""


def plot(records: list[dict], path: Path) -> None:
    """A panel per model: accuracy against budget, one line per configuration, BudgetAware in bold."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    models = list(dict.fromkeys(r.get("model") for r in records))
    fig, axes = plt.subplots(1, len(models), figsize=(6.4 * len(models), 4.2), sharey=True, squeeze=False)
    for ax, model in zip(axes[0], models):
        mine = [r for r in records if r.get("model") == model]
        for name in dict.fromkeys(r["config"] for r in mine):
            points = sorted((r["budget_s"], r["accuracy"]) for r in mine if r["config"] == name)
            style = {"linewidth": 2.5, "color": "black"} if name == "BudgetAware" else {"linewidth": 1, "alpha": 0.6}
            ax.plot(*zip(*points), marker="o", label=name, **style)
        ax.set_xscale("log")
        budgets = sorted({r["budget_s"] for r in mine})
        ax.set_xticks(budgets, [f"{b:g}" for b in budgets])
        ax.minorticks_off()
        ax.set_xlabel("wall-clock budget per problem (s)")
        ax.set_title(f"{model or 'model'} ({mine[0].get('architecture', '?')}), {mine[0]['concurrency']} at a time",
                     fontsize=9)
    axes[0][0].set_ylabel("held-out accuracy")
    axes[0][0].legend(fontsize=7)
    fig.suptitle("accuracy vs budget: BudgetAware and fixed (n, length)")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def section_body(args, models: list[ModelUnderTest], concurrency: int, table: str) -> str:
    if concurrency == 1:
        how = "one problem at a time, every configuration on a problem before the next problem"
    else:
        how = (f"{concurrency} problems at a time, each with its own budget, through one SharedGenerator (every live "
               "sample of every problem advances in one continuous decode batch; engine slots for "
               f"{concurrency} problems at the largest n of any configuration), so accuracy here is under that load")
        if args.mixed:
            how += ("; all configurations' problems in one shuffled stream (--mixed), so every configuration met the "
                    "same load, a mix of all of them")
    described = "; ".join(f"{m.name} ({m.architecture}, {m.info['dtype'].removeprefix('torch.')} on "
                          f"{m.info['device']})" for m in models)
    return (f"{args.count} held-out problems (mixed kinds), {how}. Models: {described}. Every configuration uses the "
            "same per-problem seeds; each model was warmed up (calibration, CUDA graphs, one untimed pass) before "
            "timing. Accuracy in % ± the 95% interval half-width. Grid: SelfConsistency with n in "
            f"{list(GRID_N)} and max_new_tokens in {list(GRID_TOKENS)}, no early stop, answers forced out at the "
            "deadline. The best grid point is the highest of six noisy estimates, so it is biased upward; the "
            "first paired column is BudgetAware's per-problem difference from it on the same problems and seeds, "
            "with its 95% interval; the second, from the best one-sample point (does the vote pay at that budget). "
            "All records (with mean, max and whole-cell wall seconds, and per-problem results): "
            f"`{args.out / 'budget_curve.json'}`, plot `{args.out / 'budget_curve.png'}`.\n\n" + table)


def rewrite_section(folder: Path, section: str) -> int:
    """Write ``section`` from an earlier run's records (``folder/budget_curve.json``): the tables as this version
    draws them, under the run's own command, device, versions and date."""
    saved = json.loads((folder / "budget_curve.json").read_text())
    models = [ModelUnderTest(generator=None, name=m["model"], architecture=m["architecture"], layers=m["layers"],
                             defaults={}, info=m) for m in saved["models"]]
    records, concurrency = saved["records"], saved["concurrency"]
    mixed = saved.get("mixed", "--mixed" in saved["env"]["command"])  # records before the field: the command
    table = tables(summary(records), models, concurrency)
    work = work_table(records, mixed)
    if work:
        table += "\n\n" + WORK_NOTE + work
    print(table)
    run_args = argparse.Namespace(count=saved["count"], mixed=mixed, out=folder)
    write_section(section, "Accuracy against wall-clock budget: BudgetAware vs a fixed grid",
                  section_body(run_args, models, concurrency, table), saved["env"])
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=None, metavar="FOLDER",
                        help="folders or hub ids, each run through the whole grid (default: the embedded model)")
    parser.add_argument("--model", default=None, help="one model: the same as --models FOLDER")
    parser.add_argument("--count", type=int, default=50, help="held-out problems (mixed kinds)")
    parser.add_argument("--budgets", type=float, nargs="+", default=[0.1, 0.2, 0.4, 0.8])
    parser.add_argument("--concurrency", type=int, default=1, metavar="P",
                        help="problems solved at once through one shared generator (default 1: one at a time)")
    parser.add_argument("--strategy-defaults", choices=("auto", "embedded", "model"), default="auto",
                        help="auto: the embedded model's short-solution defaults for it and for folders trained by "
                             "m1reason.train, the model's own otherwise")
    parser.add_argument("--device", default=None)
    parser.add_argument("--seed", type=int, default=0,
                        help="problem i samples with seed SEED + i (a second run with another seed is independent)")
    parser.add_argument("--mixed", action="store_true",
                        help="above concurrency 1: every configuration's problems in one shuffled stream (the same "
                             "load and drift for all), instead of one cell per configuration")
    parser.add_argument("--prefill-delay", type=float, default=None,
                        help="the engine's prefill_delay (docs/generation.md; default: its own, 1 on a GPU with CUDA "
                             "graphs, else 0); 0 prefills at once")
    parser.add_argument("--feed-appends", type=int, default=None,
                        help="M1Generator's feed_appends (docs/generation.md; default: its own, 32 on a GPU with "
                             "CUDA graphs, else 0); 0 prefills every append")
    parser.add_argument("--overlap", type=true_or_false, default=None,
                        help="true/false: M1Generator's overlap (docs/generation.md; default: its own, on with CUDA "
                             "graphs)")
    parser.add_argument("--out", type=Path, default=None,
                        help="records and plot go here (default: benchmarks/results; with --no-write, nowhere)")
    parser.add_argument("--no-write", action="store_true",
                        help="print only: leave BENCHMARKS.md and benchmarks/results alone (unless --out)")
    parser.add_argument("--section", default="budget_curve",
                        help="the BENCHMARKS.md section written (runs under different loads keep their own)")
    parser.add_argument("--from-records", type=Path, default=None, metavar="FOLDER",
                        help="run nothing: rewrite --section from FOLDER/budget_curve.json (an earlier run's "
                             "records, its command, device and date), with this version's tables")
    args = parser.parse_args(argv)
    if args.from_records is not None:
        return rewrite_section(args.from_records, args.section)
    if args.model is not None and args.models is not None:
        parser.error("give --models or --model, not both")
    if args.concurrency < 1 or args.count < 1:
        parser.error("--concurrency and --count must be >= 1")
    import torch

    from m1reason.train.data import heldout_problems

    started = time.monotonic()
    torch.set_num_threads(1)
    problems = heldout_problems(args.count)
    concurrency = min(args.concurrency, len(problems))  # more workers than problems would only idle
    models, records = [], []
    for spec in args.models or [args.model]:
        model = load(spec, device=args.device, concurrency=concurrency, problems=problems,
                     prefill_delay=args.prefill_delay, feed_appends=args.feed_appends, overlap=args.overlap,
                     mode=args.strategy_defaults, taken=[m.name for m in models])
        model.info["warm_up_s"] = warm_up(model, problems, min(args.budgets), concurrency)
        print(json.dumps({"model": model.name, **model.info}, default=str), flush=True)
        records += run(model.generator, problems, args.budgets, model.defaults, concurrency=concurrency,
                       labels=model.labels(), seed=args.seed, mixed=args.mixed)
        models.append(model)
    table = tables(summary(records), models, concurrency)
    work = work_table(records, args.mixed)
    if work:
        table += "\n\n" + WORK_NOTE + work
    print(table)
    print(f"total wall s: {time.monotonic() - started:.1f}")
    env = environment()
    if args.out is None and not args.no_write:
        args.out = Path("benchmarks/results")
    if args.out is not None:  # a --no-write run leaves the repository's records alone unless told where
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "budget_curve.json").write_text(json.dumps(
            {"env": env, "concurrency": concurrency, "count": args.count, "seed": args.seed, "mixed": args.mixed,
             "models": [{**m.labels(), **m.info} for m in models], "records": records},
            indent=1, default=str))
        plot(records, args.out / "budget_curve.png")
    if not args.no_write:
        write_section(args.section, "Accuracy against wall-clock budget: BudgetAware vs a fixed grid",
                      section_body(args, models, concurrency, table), env)
    return 0


if __name__ == "__main__":
    sys.exit(main())
