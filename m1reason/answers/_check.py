"""The public checks: ``is_equivalent`` and ``group_equivalent``, with their cache and input guards.

Owns turning raw model output into an answer, the size and junk guards, the per-check deadline, the
pair cache (timeouts are never cached), and clustering answers for majority voting.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Sequence

from m1reason.answers._extract import extract_answer
from m1reason.answers._normalize import answer_key, clean
from m1reason.answers._structures import struct_equal, structure
from m1reason.answers._symbolic import WorkerTimeout

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


def _answer_of(text) -> str | None:
    """The answer in ``text``: extracted when it looks like model output, else the text itself."""
    if not isinstance(text, str):
        return None
    if _ANNOUNCED.search(text):
        found = extract_answer(text)
        if found is not None or "\\boxed" in text or "</think>" in text:
            return found
    text = text.strip()
    return text if 0 < len(text) <= MAX_ANSWER_CHARS else None


def _usable(answer: str) -> bool:
    return len(answer) <= MAX_ANSWER_CHARS and answer.isprintable()


def _key(answer: str) -> str | None:
    return answer_key(answer) if _usable(answer) else None


def _pair(cand: str, gold: str, timeout_s: float) -> bool:
    """Cached comparison of two extracted answers."""
    hit = _PAIRS.get((cand, gold))
    if hit is not None:
        return hit
    if not (_usable(cand) and _usable(gold)):
        return False
    if answer_key(cand) == answer_key(gold):
        result = True
    else:
        deadline = time.monotonic() + timeout_s
        try:
            result = struct_equal(structure(clean(cand)), structure(clean(gold)), deadline)
        except WorkerTimeout:
            logger.debug("answer check timed out after %.2f s", timeout_s)
            return False
        except (RecursionError, ValueError, ArithmeticError, TypeError, IndexError, KeyError):
            logger.debug("answer check failed", exc_info=True)
            result = False
    _PAIRS.put((cand, gold), result)
    return result


def is_equivalent(candidate, gold, *, timeout: float = DEFAULT_TIMEOUT_S) -> bool:
    r"""Does ``candidate`` (raw model output or an extracted answer) give the answer ``gold``?

    Never raises on junk: anything unreadable is simply not equivalent. ``timeout`` bounds the
    symbolic part of the check (plus a worker's start-up the first time, and queueing for a worker
    when many threads check at once). Safe from any thread and inside asyncio: no signals.

    >>> is_equivalent("8.7e8", "870,000,000"), is_equivalent(r"8.7\times 10^{8}", "8.7e8")
    (True, True)
    >>> is_equivalent(r"\frac{1}{2}", r"\frac{1}{3}"), is_equivalent(r"The answer is $\boxed{0.5}$", r"\frac12")
    (False, True)
    >>> is_equivalent("[1,2)", "[1,2]"), is_equivalent(r"\{3,1,2\}", r"\{1,2,3\}")
    (False, True)
    """
    try:
        cand, ans = _answer_of(candidate), _answer_of(gold)
        if not cand or not ans:
            return False
        return _pair(cand, ans, timeout)
    except Exception:
        # A checker used by graders and voting must not take them down on a bad answer.
        logger.warning("answer check raised; treating as not equivalent", exc_info=True)
        return False


def group_equivalent(answers: Sequence[str | None], *, timeout: float = DEFAULT_TIMEOUT_S) -> list[list[int]]:
    r"""Cluster answers for majority voting: lists of indices, largest cluster first.

    Equal normalized keys join without any check; distinct keys are checked (both ways) against each
    cluster's first answer only, and every check is cached. Answers that are None or unreadable each
    form their own cluster, after the others.

    >>> group_equivalent(["1/2", r"\frac{1}{2}", "0.5", "3", None, r"\boxed{3}", "2"])
    [[0, 1, 2], [3, 5], [6], [4]]
    """
    clusters: list[tuple[str, list[int]]] = []
    by_key: dict[str, int] = {}
    loners: list[list[int]] = []
    for i, raw in enumerate(answers):
        answer = _answer_of(raw)
        key = _key(answer) if answer else None
        if key is None:
            loners.append([i])
            continue
        if key in by_key:
            clusters[by_key[key]][1].append(i)
            continue
        for ci, (rep, members) in enumerate(clusters):
            if is_equivalent(answer, rep, timeout=timeout) or is_equivalent(rep, answer, timeout=timeout):
                members.append(i)
                by_key[key] = ci
                break
        else:
            by_key[key] = len(clusters)
            clusters.append((answer, [i]))
    ordered = sorted((members for _, members in clusters), key=lambda m: (-len(m), m[0]))
    return ordered + loners
