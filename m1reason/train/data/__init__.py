"""Synthetic tutor-style math problems with step-by-step solutions, for training and evaluating tiny models.

Owns the problem kinds (a curriculum from mental arithmetic and written whole-number methods through signed
numbers, order of operations, fractions, decimals, percentages, ratios, units and equations to word problems), their
R1-style
solutions (``<think>`` steps ``</think>`` then ``\\boxed{answer}``) and the seeded split: the held-out set is
drawn from its own seed and every training problem whose text is in it is skipped, so the two never overlap.
Nothing here tokenizes or knows about models.

Every arithmetic fact in a step is a checkable claim ``<numbers and + - * / ( )> = <number>``; words around the
claims explain them. Many steps can be written more than one valid way (``57 + 68 = 125`` directly, or
``57 + 60 = 117`` then ``117 + 8 = 125``; a common denominator that is the least or the product; ...). Real
reasoning data has many paths to one answer, and self-consistency needs them: a model that learned a single path
makes the same mistake in every sample. The choice is a function of the problem's text (``solution_paths``), not
of the draw, so it never changes which problems are drawn, or the held-out split.

Modules: ``problem`` (the record, the reply, number spellings), ``phrasing`` (wordings and notation),
``written`` (column and long methods), and one module per family of kinds.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator

from m1reason.train.data.algebra import equation, system
from m1reason.train.data.decimals import decimal
from m1reason.train.data.fraction import fraction, mixed_number
from m1reason.train.data.measure import average, geometry
from m1reason.train.data.order import order
from m1reason.train.data.percent import percent
from m1reason.train.data.problem import Problem, render_solution
from m1reason.train.data.rates import ratio, unit
from m1reason.train.data.signed import integers
from m1reason.train.data.whole import addition, arithmetic, division, multiplication, subtraction
from m1reason.train.data.word import word
from m1reason.train.data.written import SPLIT_PROBABILITY, operation_steps

__all__ = ["HELDOUT_SEED", "KINDS", "Problem", "SPLIT_PROBABILITY", "heldout_problems", "make_problem",
           "operation_steps", "render_solution", "training_problems"]

_MAKERS: dict[str, Callable[[random.Random], Problem]] = {
    "arithmetic": arithmetic, "addition": addition, "subtraction": subtraction, "multiplication": multiplication,
    "division": division, "order": order, "integers": integers, "word": word, "fraction": fraction,
    "mixed_number": mixed_number, "decimal": decimal, "percent": percent, "ratio": ratio, "unit": unit,
    "equation": equation, "system": system, "geometry": geometry, "average": average}
KINDS = tuple(_MAKERS)
HELDOUT_SEED = 20250417
# Whole-number work (mental and written arithmetic, order of operations: 42%) and word problems (16%) make up
# most of the mix: they are what the other kinds are built from and what users ask most. Every other kind keeps
# 3-5%, enough to be learnt and to show in a 500-problem held-out set (about 15-25 problems each).
_DEFAULT_WEIGHTS = {"arithmetic": 0.06, "addition": 0.06, "subtraction": 0.06, "multiplication": 0.08,
                    "division": 0.08, "order": 0.08, "integers": 0.04, "word": 0.16, "fraction": 0.05,
                    "mixed_number": 0.03, "decimal": 0.05, "percent": 0.05, "ratio": 0.04, "unit": 0.03,
                    "equation": 0.05, "system": 0.03, "geometry": 0.03, "average": 0.02}


def make_problem(rng: random.Random, kind: str | None = None, weights: dict[str, float] | None = None) -> Problem:
    """One problem of ``kind`` (drawn by ``weights`` when None; the default mix otherwise).

    >>> make_problem(random.Random(3), "equation").problem
    'A number is divided by 5 and then 30 is added. The result is 40. Find the number.'
    >>> make_problem(random.Random(3), weights={"percent": 1.0}).kind
    'percent'
    """
    if kind is None:
        w = weights or _DEFAULT_WEIGHTS
        kind = rng.choices(list(w), weights=list(w.values()))[0]
    if kind not in _MAKERS:
        raise ValueError(f"unknown problem kind {kind!r}; choose from {', '.join(KINDS)}")
    return _MAKERS[kind](rng)


VOCABULARY_DRAWS = 20_000  # problems of the default mix read for the vocabulary; a draw of 20,000 more adds ~1%


def vocabulary(draws: int = VOCABULARY_DRAWS, seed: int = 0) -> list[str]:
    """The sorted words (``m1reason.scope.words_of``) of ``draws`` problems of the default training mix: what a
    model trained on this curriculum has read, for its scope's vocabulary rule (shipped as vocabulary.json).

    >>> words = vocabulary(300); "how" in words and "integral" not in words
    True
    """
    from m1reason.scope import words_of

    rng, seen = random.Random(seed), set()
    for _ in range(draws):
        seen.update(words_of(make_problem(rng).problem))
    return sorted(seen)


def heldout_problems(count: int = 1000, *, kind: str | None = None) -> list[Problem]:
    """The fixed held-out set: the first ``count`` distinct problems drawn from ``HELDOUT_SEED``.

    >>> a, b = heldout_problems(3), heldout_problems(3)
    >>> a == b, len({p.problem for p in heldout_problems(200)})
    (True, 200)
    """
    rng = random.Random(HELDOUT_SEED if kind is None else f"{HELDOUT_SEED}-{kind}")
    seen: dict[str, Problem] = {}
    while len(seen) < count:
        p = make_problem(rng, kind)
        seen.setdefault(p.problem, p)
    return list(seen.values())


def training_problems(seed: int, *, weights: dict[str, float] | None = None,
                      exclude: int = 2000) -> Iterator[Problem]:
    """An endless seeded stream of training problems, never one of the first ``exclude`` held-out problems
    (of the mixed set or of any single kind).

    >>> first = next(training_problems(0)); first == next(training_problems(0))
    True
    """
    held = {p.problem for p in heldout_problems(exclude)}
    for k in KINDS:
        held |= {p.problem for p in heldout_problems(min(exclude, 500), kind=k)}
    rng = random.Random(seed)
    while True:
        p = make_problem(rng, None, weights)
        if p.problem not in held:
            yield p
