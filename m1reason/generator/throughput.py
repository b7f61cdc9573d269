"""Throughput models: how long a decode step and a prefill take for one model on one device, measured.

A generator measures step times over a small grid of (batch, context) and prefill lengths once, fits
``step_s = a + b * batch + c * batch * context`` (weights read once per step; Mamba state per sequence;
attention KV per token of context) and ``prefill_s = d + e * tokens``, and caches the fit on disk keyed by
model, revision, dtype, device and engine shape, so the next process starts calibrated. BudgetAware plans
sample counts and lengths from it.

An idle M1Generator calibrates by serving scratch requests (``m1reason.generator.served``), so the rows hold its
graphs, host syncs, sampling and host work; a busy one times ``model.step`` eagerly on a scratch cache. Under load
a request waits for more per token than either (prefills of other arrivals sharing the step, the threads of other
requests taking turns), and that is most of it: on the H200 (2026-12-02), 32 problems of the tiny embedded model
at once saw several times the calibrated step, and BudgetAware, trusting the calibration, planned 64 samples per problem
where one did best. So the generator also keeps a ``PaceMeter`` of the steps as served (start of one engine step
to the start of the next, while it had work throughout), and the model refits on those rows with the
calibration's: the served pace dominates where it has been seen, the calibration anchors the rest.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

__all__ = ["Calibration", "FittedThroughput", "PaceMeter", "cache_dir", "load_or_calibrate"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Calibration:
    """Raw measurements: decode rows (batch, context, seconds) and prefill rows (tokens, seconds)."""

    decode: list[tuple[int, float, float]]
    prefill: list[tuple[int, float]]


class PaceMeter:
    """Decode steps as requests were served: for each engine step, the time from its start to the next step's
    start (while the engine had work throughout) per token it gave each sequence, as rows (batch, context,
    seconds) like the calibration's. Thread-safe; keeps the latest ``keep`` rows.

    >>> pace = PaceMeter()
    >>> pace.step(started=10.0, batch=32, context=100.0, tokens_per_seq=4, busy=True)
    >>> pace.step(started=10.02, batch=32, context=104.0, tokens_per_seq=4, busy=False)
    >>> pace.step(started=99.0, batch=32, context=9.0, tokens_per_seq=1, busy=True)  # after idling: not a row
    >>> pace.rows(), pace.count
    ([(32, 100.0, 0.005)], 1)
    """

    BLOCK = 64  # rows summed together: a refit adds up keep / BLOCK sums, and a step only adds one row to one

    def __init__(self, keep: int = 512, max_gap_s: float = 1.0):
        self._rows: deque = deque(maxlen=keep)
        # The normal equations of the latest rows, in blocks: the step (the engine's hot path) adds its row to the
        # block being filled, whole blocks fall out as new ones fill, and a refit sums them, never a pass over the
        # rows. No row is ever subtracted, so no rounding accumulates.
        self._blocks: deque = deque(maxlen=max(1, keep // self.BLOCK))
        self._filling = _NormalEquations()
        self._last: tuple | None = None
        self._lock = threading.Lock()
        self.max_gap_s = max_gap_s
        self.count = 0  # rows ever recorded (refits key on it)

    def step(self, *, started: float, batch: int, context: float, tokens_per_seq: float, busy: bool,
             decoded: bool = True) -> None:
        """Record an engine step that started at ``started`` (monotonic seconds); ``busy``: work remains after it;
        ``decoded``: it ran decode steps. A step that only prefilled (new prompts, nothing else decoding) is no
        row: the prefill is the throughput model's other term, and a request planning its own time counts its
        own prefill there once. A prefill in a step that also decodes others stays in that row: those others
        wait for it."""
        with self._lock:
            last = self._last
            if last is not None and 0 < started - last[0] <= self.max_gap_s:
                row = (last[1], last[2], round((started - last[0]) / last[3], 9))
                self._rows.append(row)
                self._filling.add(*row)
                self.count += 1
                if self.count % self.BLOCK == 0:
                    self._blocks.append(self._filling)
                    self._filling = _NormalEquations()
            starts_row = busy and decoded and batch and tokens_per_seq
            self._last = (started, batch, context, tokens_per_seq) if starts_row else None

    def rows(self) -> list[tuple[int, float, float]]:
        with self._lock:
            return list(self._rows)

    def sums(self) -> _NormalEquations:
        """The normal equations of the latest ``keep // BLOCK`` whole blocks of rows and the block being filled
        (about the latest ``keep`` rows)."""
        with self._lock:
            return sum(self._blocks, self._filling)


class FittedThroughput:
    """A ThroughputModel fitted to measurements (non-negative least squares on the cost terms above), refitted
    with the served steps of ``pace`` once it holds ``min_paced`` rows (and every ``refit_every`` more).
    ``occupancy``, ``peers`` and ``capacity`` are the generator's live load: sequences running or waiting, other
    requests in flight, and the most sequences it decodes at once (None: no fixed limit).

    >>> rows = [(b, c, 0.01 + 0.001 * b + 1e-6 * b * c) for b in (1, 8, 32) for c in (100, 1000)]
    >>> model = FittedThroughput(Calibration(decode=rows, prefill=[(100, 0.02), (1000, 0.11)]))
    >>> round(model.decode_step_s(16, 500), 4), round(model.prefill_s(550), 3)
    (0.034, 0.065)
    >>> round(model.tokens_per_s(16, 500))
    471

    Served steps three times slower than calibrated, at two batch sizes, move the prediction towards them:

    >>> pace, now = PaceMeter(), 0.0
    >>> for i in range(65):
    ...     batch = 8 if i % 2 else 32
    ...     pace.step(started=now, batch=batch, context=500.0, tokens_per_seq=1, busy=True)
    ...     now += 3 * (0.01 + 0.001 * batch + 1e-6 * batch * 500)
    >>> served = FittedThroughput(Calibration(decode=rows, prefill=[(100, 0.02), (1000, 0.11)]), pace=pace)
    >>> round(served.decode_step_s(16, 500) / model.decode_step_s(16, 500), 1)
    2.9
    """

    def __init__(self, calibration: Calibration, occupancy: Callable[[], int] = lambda: 0, *,
                 pace: PaceMeter | None = None, min_paced: int = 32, refit_every: int = 16, fed_appends: int = 0,
                 peers: Callable[[], int] = lambda: 0, capacity: Callable[[], int | None] = lambda: None):
        self.calibration = calibration
        self.fed_appends = fed_appends  # the generator feeds appends of at most this many tokens through decode
        self._occupancy, self._peers, self._capacity = occupancy, peers, capacity
        self._calibration_sums = _NormalEquations.of(calibration.decode)
        self.decode_coef = self._calibration_sums.solve()
        t, s = (np.array(col, dtype=float) for col in zip(*calibration.prefill))
        self.prefill_coef = _nonnegative_fit(np.stack([np.ones_like(t), t], 1), s)
        self.pace, self.min_paced, self.refit_every = pace, min_paced, refit_every
        self._paced_coef: tuple[float, ...] | None = None
        self._paced_at = 0

    def decode_step_s(self, batch: int, context: int) -> float:
        a, b, c = self._coef()
        return float(a + b * batch + c * batch * context)

    def _coef(self) -> tuple[float, ...]:
        """The calibration's fit, or (with enough served steps) the fit of calibration and served rows together.
        A refit lands inside whichever request plans next, so it must be cheap: it solves the summed normal
        equations (microseconds) instead of a least-squares pass over ~500 rows, which made the first plan after
        a request cost 0.39 ms on a CPU instead of ~0.14 (BudgetAware's samples wait for the plan)."""
        pace = self.pace
        if pace is None or pace.count < self.min_paced:
            return self.decode_coef
        if self._paced_coef is None or pace.count - self._paced_at >= self.refit_every:
            self._paced_at = pace.count
            self._paced_coef = (self._calibration_sums + pace.sums()).solve()
        return self._paced_coef

    def prefill_s(self, tokens: int) -> float:
        d, e = self.prefill_coef
        return float(d + e * tokens)

    def append_s(self, tokens: int, batch: int, context: int) -> float:
        """Seconds until a sample decoding in a batch of ``batch`` at mean ``context`` has taken ``tokens``
        appended tokens in: one decode step each where the generator feeds appends that short through its decode
        steps (``fed_appends``, M1Generator's ``feed_appends``), else a prefill of them.

        >>> fit = FittedThroughput(Calibration(decode=[(1, 8, 0.001), (2, 8, 0.001), (2, 64, 0.001)],
        ...                                    prefill=[(8, 0.012), (64, 0.013)]), fed_appends=32)
        >>> round(fit.append_s(13, 1, 100), 4), round(fit.append_s(40, 1, 100), 4)
        (0.013, 0.0126)
        """
        if 0 < tokens <= self.fed_appends:
            return tokens * self.decode_step_s(batch, context)
        return self.prefill_s(tokens)

    def occupancy(self) -> int:
        return self._occupancy()

    def peers(self) -> int:
        """Other requests in flight now (their samples, planned or running, share the batch with a new one's)."""
        return self._peers()

    def capacity(self) -> int | None:
        """The most sequences decoded at once (the engine's slots); more wait for a turn. None: no fixed limit.

        >>> FittedThroughput(Calibration(decode=[(1, 8, 0.01), (2, 8, 0.02)], prefill=[(8, 0.01), (64, 0.03)]),
        ...                  capacity=lambda: 32).capacity()
        32
        """
        return self._capacity()

    def tokens_per_s(self, batch: int, context: int) -> float:
        """Generated tokens per second across a batch at this mean context."""
        return batch / self.decode_step_s(batch, context)


class _NormalEquations:
    """X'X and X'y of decode rows (batch, context, seconds) under the step model: features (1, batch,
    batch * context), target seconds. A row adds in O(1), sums of two sets add, and a solve is a 3x3 elimination
    in plain Python (a few microseconds; numpy's lstsq took 200 us cold, right after a request's torch work, and
    the solve runs inside the next request's budget).

    >>> rows = [(b, c, 0.01 + 0.001 * b + 1e-6 * b * c) for b in (1, 8, 32) for c in (100, 1000)]
    >>> [round(x, 6) for x in _NormalEquations.of(rows).solve()]
    [0.01, 0.001, 1e-06]
    """

    def __init__(self, sums: tuple[float, ...] = (0.0,) * 9):
        # the six distinct entries of the symmetric X'X, then X'y
        (self.n, self.b, self.bc, self.bb, self.bbc, self.bcbc, self.s, self.sb, self.sbc) = sums

    @classmethod
    def of(cls, rows) -> _NormalEquations:
        sums = cls()
        for row in rows:
            sums.add(*row)
        return sums

    def add(self, batch: float, context: float, seconds: float) -> None:
        b = float(batch)
        bc = b * context
        self.n += 1.0
        self.b += b
        self.bc += bc
        self.bb += b * b
        self.bbc += b * bc
        self.bcbc += bc * bc
        self.s += seconds
        self.sb += seconds * b
        self.sbc += seconds * bc

    def _sums(self) -> tuple[float, ...]:
        return (self.n, self.b, self.bc, self.bb, self.bbc, self.bcbc, self.s, self.sb, self.sbc)

    def __add__(self, other: _NormalEquations) -> _NormalEquations:
        return _NormalEquations(tuple(x + y for x, y in zip(self._sums(), other._sums())))

    def solve(self) -> tuple[float, ...]:
        gram = [[self.n, self.b, self.bc], [self.b, self.bb, self.bbc], [self.bc, self.bbc, self.bcbc]]
        return _nonnegative_solve(gram, [self.s, self.sb, self.sbc])


def _nonnegative_fit(features: np.ndarray, target: np.ndarray) -> tuple[float, ...]:
    """Least squares, dropping terms that come out negative (noise must not predict negative time)."""
    return _nonnegative_solve((features.T @ features).tolist(), (features.T @ target).tolist())


def _nonnegative_solve(gram: list[list[float]], moment: list[float]) -> tuple[float, ...]:
    """The least-squares coefficients from the normal equations, dropping the most negative term until none is
    negative (noise must not predict negative time).

    >>> _nonnegative_solve([[2.0, 3.0], [3.0, 5.0]], [-1.0, -1.0])  # both terms would be negative
    (0.0, 0.0)
    """
    active = [j for j in range(len(moment)) if gram[j][j] > 0]
    while active:
        coef = _least_squares(gram, moment, active)
        if all(c >= 0 for c in coef.values()) or len(active) == 1:
            return tuple(max(coef.get(j, 0.0), 0.0) for j in range(len(moment)))
        active.remove(min(active, key=coef.__getitem__))
    return (0.0,) * len(moment)


def _least_squares(gram: list[list[float]], moment: list[float], active: list[int]) -> dict[int, float]:
    """Solve the normal equations restricted to ``active`` terms by Gauss-Jordan elimination on the diagonal
    (the matrix is positive semi-definite). Columns are scaled to a unit diagonal first: batch * context reaches
    1e7, and unscaled its square would swamp the constant term's. A term collinear with those before it (all
    rows at one batch size, say) gets no weight of its own."""
    scale = [gram[j][j] ** 0.5 for j in active]
    n = len(active)
    rows = [[gram[i][j] / (scale[a] * scale[b]) for b, j in enumerate(active)] + [moment[i] / scale[a]]
            for a, i in enumerate(active)]
    solved = []
    for k in range(n):
        if rows[k][k] < 1e-9:
            continue
        solved.append(k)
        for r in range(n):
            if r != k and rows[r][k]:
                factor = rows[r][k] / rows[k][k]
                rows[r] = [x - factor * y for x, y in zip(rows[r], rows[k])]
    return {active[k]: (rows[k][n] / rows[k][k] / scale[k] if k in solved else 0.0) for k in range(n)}


def cache_dir() -> Path:
    """Where calibrations live: $M1REASON_CACHE, else ~/.cache/m1reason."""
    return Path(os.environ.get("M1REASON_CACHE", Path.home() / ".cache" / "m1reason")) / "throughput"


def load_or_calibrate(key: dict, measure: Callable[[], Calibration], occupancy: Callable[[], int] = lambda: 0,
                      *, refresh: bool = False, pace: PaceMeter | None = None, **load) -> FittedThroughput:
    """The fit for ``key`` (model, revision, dtype, device, engine shape, versions): read from disk, or measured
    now and saved. A corrupt or unreadable cache file is measured again, not trusted. ``pace``: the generator's
    served steps, refitted in as they come (never saved: they describe this process's load); ``load``: the
    generator's ``peers`` and ``capacity`` (see FittedThroughput).

    >>> import tempfile; os.environ["M1REASON_CACHE"] = tempfile.mkdtemp()
    >>> calls = []
    >>> def measure():
    ...     calls.append(1)
    ...     return Calibration(decode=[(1, 10, 0.01), (4, 10, 0.02), (4, 100, 0.03)], prefill=[(8, 0.01), (64, 0.02)])
    >>> first = load_or_calibrate({"model": "toy"}, measure); second = load_or_calibrate({"model": "toy"}, measure)
    >>> len(calls), second.decode_coef == first.decode_coef
    (1, True)
    """
    digest = hashlib.sha256(json.dumps(key, sort_keys=True, default=str).encode()).hexdigest()[:16]
    path = cache_dir() / f"{digest}.json"
    if path.exists() and not refresh:
        try:
            saved = json.loads(path.read_text())
            calibration = Calibration(decode=[tuple(r) for r in saved["decode"]],
                                      prefill=[tuple(r) for r in saved["prefill"]])
            return FittedThroughput(calibration, occupancy, pace=pace, **load)
        except (OSError, ValueError, KeyError, TypeError) as err:
            log.warning("ignoring unreadable throughput cache %s (%s); calibrating again", path, err)
    calibration = measure()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps({"key": key, **asdict(calibration)}, indent=1, default=str))
        tmp.replace(path)
    except OSError as err:  # a read-only home must not stop generation
        log.warning("could not save throughput calibration to %s: %s", path, err)
    return FittedThroughput(calibration, occupancy, pace=pace, **load)
