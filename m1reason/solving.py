"""``solve(problem)``: one call from a math problem to a Solution, with a generator made once per process.

It picks the strategy ("auto" = BudgetAware under a budget, else SelfConsistency), creates the module-level
generator on first use (the argument, $M1REASON_MODEL, or the embedded default), warms it up, and reports both as
cold-start costs in ``Solution.timings``, apart from the budget. It is the one path from a problem to a Solution:
the REPL, AsyncSolver's workers and eval all call it. The strategies themselves live in the top-level
``strategies`` package, imported lazily here because it imports m1reason's submodules.
"""

from __future__ import annotations

import inspect
import threading
import time
from collections.abc import Callable

from m1reason.checks import check_budget, check_request
from m1reason.errors import ConfigError
from m1reason.generator.protocol import as_generator

__all__ = ["STRATEGY_NAMES", "check_request", "make_strategy", "shared_generator", "solve"]

STRATEGY_NAMES = {"auto": "auto", "budget": "BudgetAware", "budgetaware": "BudgetAware", "budget-aware": "BudgetAware",
                  "sc": "SelfConsistency", "selfconsistency": "SelfConsistency",
                  "self-consistency": "SelfConsistency", "long": "LongCoT", "longcot": "LongCoT",
                  "long-cot": "LongCoT"}

_generators: dict[str | None, object] = {}
_lock = threading.Lock()


def solve(problem: str, *, budget_s: float | None = 30.0, strategy="auto", generator=None, model: str | None = None,
          on_progress: Callable | None = None):
    """Solve ``problem`` within ``budget_s`` seconds (None: no budget) and return a ``strategies.Solution``.

    ``strategy``: "auto", "budget", "sc", "long" (or the class names), or a strategy object such as
    ``strategies.SelfConsistency(n=16)``. ``generator``: any Generator; without one, a module-level M1Generator for
    ``model`` is created and warmed up once and reused; the budget starts after that (its cost shows as
    ``timings["load_s"]`` and ``timings["warm_s"]`` on the call that paid it). ``on_progress``: called with a
    ``strategies.Progress`` (samples finished and running, tokens, the tally, time used) as the samples come in,
    for a live display; a strategy object whose ``run`` takes no ``on_progress`` runs without it.

    >>> from m1reason.generator.fake import FakeGenerator
    >>> fake = FakeGenerator(lambda request, i: "2^100 = 2 (mod 7) </think> $\\\\boxed{2}$")
    >>> seen = []
    >>> sol = solve("What is the remainder when 2^100 is divided by 7?", budget_s=5, generator=fake,
    ...             on_progress=seen.append)
    >>> sol.answer, sol.plan.strategy, sol.confidence, seen[-1].tally
    ('2', 'BudgetAware', 1.0, [('2', 1)])
    >>> solve("  ", generator=fake)
    Traceback (most recent call last):
    ...
    ValueError: problem must be a non-empty string
    """
    check_request(problem, budget_s)
    chosen = make_strategy(strategy, budget_s, generator)  # a bad name fails before any model loads
    cold = {}
    if generator is None:
        generator, cold = shared_generator(model)
        chosen = make_strategy(strategy, budget_s, generator)
    options = {"budget_s": budget_s}
    if on_progress is not None and "on_progress" in inspect.signature(chosen.run).parameters:
        options["on_progress"] = on_progress
    solution = chosen.run(problem, generator, **options)
    if cold:
        solution = solution.model_copy(update={"timings": {**solution.timings, **cold}})
    return solution


def make_strategy(strategy, budget_s: float | None, generator=None):
    """The strategy object for ``strategy`` (a name from STRATEGY_NAMES, or an object with ``run``): the one
    place a name becomes a strategy, for solve, the REPL, AsyncSolver, eval and the command line.

    "auto" is BudgetAware under a budget, else SelfConsistency. A strategy made from a name takes the
    generator's ``strategy_defaults`` (a dict of field values, e.g. the embedded model's short answer lengths)
    for the fields it has; an object is used as given. A bad name is a ConfigError (a ValueError), a bad budget
    a BudgetError, both before anything loads.

    >>> make_strategy("auto", 10).__class__.__name__, make_strategy("sc", None).n
    ('BudgetAware', 8)
    >>> class Short:
    ...     strategy_defaults = {"max_new_tokens": 160, "needed_tokens": 64}
    >>> make_strategy("sc", None, Short()).max_new_tokens
    160
    >>> make_strategy("majority", None)
    Traceback (most recent call last):
    ...
    m1reason.errors.ConfigError: unknown strategy 'majority'; choose auto, budget, sc or long
    """
    import strategies

    check_budget(budget_s)
    if not isinstance(strategy, str):
        if not callable(getattr(strategy, "run", None)):  # a caller's object: is it a strategy at all?
            raise ConfigError(f"strategy must be a name or an object with run(); got {type(strategy).__name__}")
        return strategy
    name = STRATEGY_NAMES.get(strategy.strip().lower())
    if name is None:
        raise ConfigError(f"unknown strategy {strategy!r}; choose auto, budget, sc or long")
    if name == "auto":
        name = "BudgetAware" if budget_s is not None else "SelfConsistency"
    cls = getattr(strategies, name)
    defaults = {} if generator is None else as_generator(generator).strategy_defaults or {}
    return cls(**{k: v for k, v in defaults.items() if k in cls.model_fields})


def shared_generator(model: str | None = None):
    """The process-wide generator for ``model`` (None: $M1REASON_MODEL or the embedded default), loaded and warmed
    up on first use, and the cold-start timings of this call: ``{"load_s": ..., "warm_s": ...}`` on the call that
    created it, ``{}`` after. Warming up (``M1Generator.warm_up``: calibration, decode graphs, first compiles)
    here keeps those one-off costs out of the first request's budget.

    >>> gen, cold = shared_generator(); again, warm = shared_generator()
    >>> again is gen, sorted(cold), warm
    (True, ['load_s', 'warm_s'], {})
    """
    from m1reason.defaults import default_generator

    with _lock:
        if model in _generators:
            return _generators[model], {}
        started = time.monotonic()
        generator = default_generator(model)
        loaded = time.monotonic()
        generator.warm_up()
        _generators[model] = generator
        return generator, {"load_s": loaded - started, "warm_s": time.monotonic() - loaded}
