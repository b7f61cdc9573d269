"""The public checks: ``is_equivalent`` and ``group_equivalent``, with their cache and input guards.

Owns turning raw model output into an answer, the size and junk guards, the per-check deadline, the
pair cache (an overrun is cached as "not equivalent" for that much time), and clustering answers for
majority voting within a total time bound.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Sequence

from m1reason.answers._clock import clock_verdict
from m1reason.answers._extract import extract_answer
from m1reason.answers._normalize import answer_key, clean
from m1reason.answers._statements import strip_template_tokens
from m1reason.answers._structures import struct_equal, structure
from m1reason.answers._symbolic import TimedOut, WorkerOverrun, WorkerTimeout, waits_until

logger = logging.getLogger(__name__)

DEFAULT_TIMEOUT_S = 1.0
MAX_ANSWER_CHARS = 1000
_CACHE_SIZE = 65536
_ANNOUNCED = re.compile(r"\\boxed|\\fbox|\\framebox|</think>|\banswer\b", re.IGNORECASE)


class _LRU:
    """A small thread-safe LRU map."""

    def __init__(self, size: int):
        self.size = size
        self._data: OrderedDict = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key):
        with self._lock:
            if key in self._data:
                self._data.move_to_end(key)
                return self._data[key]
            return None

    def put(self, key, value) -> None:
        with self._lock:
            self._data[key] = value
            self._data.move_to_end(key)
            if len(self._data) > self.size:
                self._data.popitem(last=False)


_PAIRS = _LRU(_CACHE_SIZE)


def _answer_of(text, lenient: bool = False) -> str | None:
    """The answer in ``text``: extracted when it looks like model output (always when ``lenient``), else the
    text itself."""
    if not isinstance(text, str):
        return None
    if lenient or _ANNOUNCED.search(text):
        found = extract_answer(text, lenient=lenient)
        if found is not None or "\\boxed" in text or "</think>" in text:
            return found
    text = strip_template_tokens(text).strip()
    return text if 0 < len(text) <= MAX_ANSWER_CHARS else None


def _usable(answer: str) -> bool:
    return len(answer) <= MAX_ANSWER_CHARS and answer.isprintable()


def _key(answer: str) -> str | None:
    return answer_key(answer) if _usable(answer) else None


def _known(cand: str, gold: str, timeout_s: float) -> bool | None:
    """The cached verdict on two extracted answers that still holds for a check given ``timeout_s``, or None."""
    hit = _PAIRS.get((cand, gold))
    if isinstance(hit, TimedOut):
        return False if hit.covers(timeout_s) else None
    return hit


def _pair(cand: str, gold: str, timeout_s: float) -> bool:
    """Cached comparison of two extracted answers.

    A check that overran its time is "not equivalent" (an equality that cannot be shown is not accepted,
    and voting never merges on it), and is cached as such: it is not run again with as much time or less.
    """
    known = _known(cand, gold, timeout_s)
    if known is not None:
        return known
    if not (_usable(cand) and _usable(gold)):
        return False
    if answer_key(cand) == answer_key(gold):
        result = True
    elif (clock := clock_verdict(cand, gold)) is not None:
        result = clock
    else:
        deadline = time.monotonic() + timeout_s
        try:
            result = struct_equal(structure(clean(cand)), structure(clean(gold)), deadline)
        except WorkerOverrun:
            logger.debug("answer check overran %.2f s; cached as not equivalent", timeout_s)
            _PAIRS.put((cand, gold), TimedOut(timeout_s))
            return False
        except WorkerTimeout:  # no worker free or started in time: nothing learnt about the pair
            logger.debug("answer check found no worker in time")
            return False
        except (RecursionError, ValueError, ArithmeticError, TypeError, IndexError, KeyError):
            logger.debug("answer check failed", exc_info=True)
            result = False
    _PAIRS.put((cand, gold), result)
    return result


def is_equivalent(candidate, gold, *, timeout: float = DEFAULT_TIMEOUT_S, lenient: bool = False) -> bool:
    r"""Does ``candidate`` (raw model output or an extracted answer) give the answer ``gold``?

    ``lenient=True`` extracts the candidate as ``extract_answer(candidate, lenient=True)`` does (an output with
    neither box nor answer phrase gives its last math span or number); the gold is read as always.

    Never raises on junk: anything unreadable is simply not equivalent. ``timeout`` bounds the
    symbolic part of the check (plus a worker's start-up the first time, and queueing for a worker
    when many threads check at once); a check that overruns it is not equivalent, and that verdict is
    cached like any other (docs/answers.md, "Time"). Safe from any thread and inside asyncio: no signals.

    >>> is_equivalent("8.7e8", "870,000,000"), is_equivalent(r"8.7\times 10^{8}", "8.7e8")
    (True, True)
    >>> is_equivalent(r"\frac{1}{2}", r"\frac{1}{3}"), is_equivalent(r"The answer is $\boxed{0.5}$", r"\frac12")
    (False, True)
    >>> is_equivalent("[1,2)", "[1,2]"), is_equivalent(r"\{3,1,2\}", r"\{1,2,3\}")
    (False, True)
    >>> output = "Therefore $x > 5$."
    >>> is_equivalent(output, r"(5, \infty)"), is_equivalent(output, r"(5, \infty)", lenient=True)
    (False, True)
    """
    try:
        cand, ans = _answer_of(candidate, lenient), _answer_of(gold)
        if not cand or not ans:
            return False
        return _pair(cand, ans, timeout)
    except Exception:
        # A checker used by graders and voting must not take them down on a bad answer.
        logger.warning("answer check raised; treating as not equivalent", exc_info=True)
        return False


def group_equivalent(answers: Sequence[str | None], *, timeout: float = DEFAULT_TIMEOUT_S,
                     time_limit_s: float | None = None) -> list[list[int]]:
    r"""Cluster answers for majority voting: lists of indices, largest cluster first.

    Equal normalized keys join without any check; distinct keys are checked (both ways) against each
    cluster's first answer only, and every check is cached. Answers that are None or unreadable each
    form their own cluster, after the others.

    ``time_limit_s`` bounds the whole call (None: no bound): each check gets at most the time left, and
    waits for a worker end with it, so the call returns within about the limit (at worst the limit plus
    one check's ``timeout``). Once time is up nothing new is checked: the answers left join a cluster only
    on an equal key or a verdict already cached, so answers are left apart, never merged wrongly.

    >>> group_equivalent(["1/2", r"\frac{1}{2}", "0.5", "3", None, r"\boxed{3}", "2"])
    [[0, 1, 2], [3, 5], [6], [4]]
    >>> group_equivalent(["10,080", "10080", "x = 10080"], time_limit_s=0)
    [[0, 1, 2]]
    """
    if time_limit_s is not None and not (isinstance(time_limit_s, (int, float)) and time_limit_s >= 0):
        raise ValueError(f"time_limit_s must be >= 0 seconds or None, got {time_limit_s!r}")
    end = None if time_limit_s is None else time.monotonic() + time_limit_s
    clusters: list[tuple[str | None, list[int]]] = []  # (the answer as the checks see it, members)
    by_key: dict[str, int] = {}
    loners: list[list[int]] = []
    with waits_until(end):
        for i, raw in enumerate(answers):
            answer = _answer_of(raw)
            key = _key(answer) if answer else None
            if key is None:
                loners.append([i])
                continue
            if key not in by_key:
                # The extracted answer is checked as is_equivalent would check it (it extracts again).
                form = _answer_of(answer)
                by_key[key] = next((ci for ci, (rep, _) in enumerate(clusters) if _same(form, rep, timeout, end)),
                                   len(clusters))
                if by_key[key] == len(clusters):
                    clusters.append((form, []))
            clusters[by_key[key]][1].append(i)
    ordered = sorted((members for _, members in clusters), key=lambda m: (-len(m), m[0]))
    return ordered + loners


def _same(a: str | None, b: str | None, timeout_s: float, end: float | None) -> bool:
    """Is ``a`` equivalent to ``b`` or ``b`` to ``a``? Past ``end`` only a verdict already cached counts."""
    if not (a and b):
        return False
    for cand, gold in ((a, b), (b, a)):
        left = timeout_s if end is None else min(timeout_s, end - time.monotonic())
        try:
            if _pair(cand, gold, left) if left > 0 else _known(cand, gold, timeout_s):
                return True
        except Exception:
            logger.warning("answer check raised; treating as not equivalent", exc_info=True)
    return False
