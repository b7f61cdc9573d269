"""Hostile input returns False within the bound and leaves the process healthy; the checks work from
threads and inside asyncio (no signals anywhere); a runaway sympy worker is killed and replaced."""

from __future__ import annotations

import asyncio
import gc
import resource
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from m1reason.answers import group_equivalent, is_equivalent, shutdown_workers, warm_up
from m1reason.answers._symbolic import pool
from m1reason.answers._variants import HOSTILE

BOUND_S = 2.0
# These reach the sympy worker and hang it: each check costs the full timeout and a kill.
RUNAWAY = tuple(h for h in HOSTILE if h.startswith((r"\prod", r"\int", r"\sum")))
IN_PROCESS = tuple(h for h in HOSTILE if h not in RUNAWAY)
# Answers only the worker understands (sympy), with the gold they equal.
WORKER_PAIRS = [(r"\sum_{k=1}^{10} k", "55"), (r"\sum_{k=1}^{4} k^2", "30")]
MIXED = [
    ("8.7e8", "870,000,000", True), (r"\frac{1}{2}", r"\frac{1}{3}", False), ("[1,2)", "[1,2]", False),
    (r"\{3,1,2\}", "1,2,3", True), (r"2\sqrt{2}", r"\sqrt8", True), *[(c, g, True) for c, g in WORKER_PAIRS],
]


@pytest.fixture(scope="module", autouse=True)
def _warm_workers():
    warm_up()


def _timed(candidate, gold, **kw) -> tuple[bool, float]:
    start = time.perf_counter()
    verdict = is_equivalent(candidate, gold, **kw)
    return verdict, time.perf_counter() - start


@pytest.mark.parametrize("hostile", IN_PROCESS, ids=lambda h: repr(h[:24]))
@pytest.mark.parametrize("gold", ["5", r"\frac{1}{2}"])
def test_hostile_is_false_within_the_bound(hostile, gold):
    for candidate in (hostile, rf"\boxed{{{hostile}}}"):
        verdict, seconds = _timed(candidate, gold)
        assert verdict is False and seconds < BOUND_S, (seconds, candidate[:40])
        verdict, seconds = _timed(gold, candidate)
        assert verdict is False and seconds < BOUND_S, (seconds, candidate[:40])


def test_runaway_worker_is_killed_and_replaced():
    kills = pool().kills
    verdict, seconds = _timed(RUNAWAY[0], "5")
    assert verdict is False and seconds < BOUND_S
    assert pool().kills == kills + 1
    # The replacement answers the next symbolic check.
    for candidate, gold in WORKER_PAIRS:
        assert is_equivalent(candidate, gold)


@pytest.mark.slow
@pytest.mark.parametrize("hostile", RUNAWAY, ids=lambda h: repr(h[:24]))
def test_every_runaway_is_bounded(hostile):
    for candidate, gold in ((hostile, "5"), (rf"\boxed{{{hostile}}}", r"\frac{1}{2}"), ("5", hostile)):
        verdict, seconds = _timed(candidate, gold)
        assert verdict is False and seconds < BOUND_S, (seconds, candidate)
    assert is_equivalent(*WORKER_PAIRS[0])


def test_timeout_argument_bounds_the_check():
    verdict, seconds = _timed(RUNAWAY[1], "5", timeout=0.2)
    assert verdict is False and seconds < 0.8


def test_process_stays_healthy_after_hostile_input():
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    threads_before = threading.active_count()
    for hostile in IN_PROCESS:
        for gold in ("5", "x", r"\sqrt{2}"):
            assert is_equivalent(hostile, gold) is False
        assert len(group_equivalent([hostile, "5", hostile[:-1], "5.0"])) >= 2
    gc.collect()
    grown_mib = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_before) / 1024
    assert grown_mib < 200, grown_mib
    assert threading.active_count() <= threads_before
    assert all(is_equivalent(c, g) == e for c, g, e in MIXED)
    assert len(pool().pids()) <= pool().size


def test_checks_from_many_threads_agree():
    jobs = MIXED * 6 + [(RUNAWAY[2], "5", False)]
    with ThreadPoolExecutor(max_workers=8) as ex:
        verdicts = list(ex.map(lambda job: is_equivalent(job[0], job[1]), jobs))
    assert verdicts == [e for _, _, e in jobs]


def test_runaways_in_threads_do_not_starve_real_checks():
    """Runaways hold both workers for their full timeout; symbolic checks queued behind them still answer."""
    fresh = [(rf"\sum_{{k=1}}^{{{n}}} k", str(n * (n + 1) // 2), True) for n in range(11, 17)]
    jobs = [(RUNAWAY[0], str(g), False) for g in range(4)] + fresh
    with ThreadPoolExecutor(max_workers=len(jobs)) as ex:
        verdicts = list(ex.map(lambda job: is_equivalent(job[0], job[1]), jobs))
    assert verdicts == [e for _, _, e in jobs]


def test_checks_inside_asyncio():
    async def main():
        # Blocking call straight in a coroutine (no signals, so it works off the main thread's handlers) ...
        direct = [is_equivalent(c, g) for c, g, _ in MIXED]
        # ... and the non-blocking way, several at once.
        threaded = await asyncio.gather(*(asyncio.to_thread(is_equivalent, c, g) for c, g, _ in MIXED))
        return direct, list(threaded)

    direct, threaded = asyncio.run(main())
    assert direct == threaded == [e for _, _, e in MIXED]


def test_checks_from_a_thread_with_its_own_event_loop():
    out = {}

    def run():
        out["v"] = asyncio.run(asyncio.to_thread(group_equivalent, ["55", r"\sum_{k=1}^{10} k", "56"]))

    t = threading.Thread(target=run)
    t.start()
    t.join(timeout=30)
    assert out["v"] == [[0, 1], [2]]


def test_shutdown_then_checks_restart_the_workers():
    shutdown_workers()
    assert is_equivalent(*WORKER_PAIRS[1])
    warm_up()


_TOKENS = [r"\underbrace{", "}", "{", "(", ")", "[", "]", "a", "ab ", "1", "12,", ",", ".", " ", r"\text{",
           r"\text{ cm}", "x", "=", "<", r"\leq ", r"\in ", "^", "_", r"\frac", r"\sqrt", r"\pm", "-", "+", r"\cup",
           "\\{", "\\}", r"\,", "e", "10", r"\times", "%", r"^\circ", "&", "\\\\", r"\begin{pmatrix}",
           r"\end{pmatrix}", "!", "|", "$", r"\boxed{", "answer is ", "</think>", "or ", "x=", "\\", r"\overline{3}"]


@pytest.mark.slow
def test_random_token_soup_is_bounded():
    """Repeated and random LaTeX fragments up to 1,000 characters: no regex or recursion blows up."""
    import random

    rng = random.Random(0)
    for _ in range(300):
        unit = "".join(rng.choice(_TOKENS) for _ in range(rng.randint(1, 3)))
        text = (unit * (1000 // len(unit) + 1))[: rng.choice([200, 999, 1000])]
        if rng.random() < 0.3:
            text = "".join(rng.choice(_TOKENS) for _ in range(rng.randint(5, 300)))
        for candidate, gold in ((text, "5"), ("5", text), (text, text[:-1])):
            verdict, seconds = _timed(candidate, gold)
            assert isinstance(verdict, bool) and seconds < BOUND_S, (seconds, text[:60])
