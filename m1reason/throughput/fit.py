"""The throughput model: how long a decode step and a prefill take for one model on one device, fitted to
measurements.

``step_s = a + b * batch + c * batch * context`` (weights read once per step; Mamba state per sequence; attention
KV per token of context) and ``prefill_s = d + e * tokens``, fitted by non-negative least squares (noise must not
predict negative time). BudgetAware plans sample counts and lengths from it. Measuring lives in
``m1reason.throughput.measure`` (and ``m1reason.generator.served``), the disk cache in ``m1reason.throughput.store``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from m1reason.throughput.pace import PaceMeter

__all__ = ["Calibration", "FittedThroughput", "NormalEquations"]


@dataclass(frozen=True)
class Calibration:
    """Raw measurements: decode rows (batch, context, seconds) and prefill rows (tokens, seconds)."""

    decode: list[tuple[int, float, float]]
    prefill: list[tuple[int, float]]


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

    >>> from m1reason.throughput.pace import PaceMeter
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
        self._calibration_sums = NormalEquations.of(calibration.decode)
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
        A refit lands inside whichever request plans next, and that request's samples wait for its plan, so it
        must be cheap: it solves the summed normal equations instead of a least-squares pass over the rows."""
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


class NormalEquations:
    """X'X and X'y of decode rows (batch, context, seconds) under the step model: features (1, batch,
    batch * context), target seconds. A row adds in O(1), sums of two sets add, and a solve is a 3x3 elimination
    in plain Python: the solve runs inside the next request's budget, where a cold numpy call costs more than
    the whole elimination.

    >>> rows = [(b, c, 0.01 + 0.001 * b + 1e-6 * b * c) for b in (1, 8, 32) for c in (100, 1000)]
    >>> [round(x, 6) for x in NormalEquations.of(rows).solve()]
    [0.01, 0.001, 1e-06]
    """

    def __init__(self, sums: tuple[float, ...] = (0.0,) * 9):
        # the six distinct entries of the symmetric X'X, then X'y
        (self.n, self.b, self.bc, self.bb, self.bbc, self.bcbc, self.s, self.sb, self.sbc) = sums

    @classmethod
    def of(cls, rows) -> NormalEquations:
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

    def __add__(self, other: NormalEquations) -> NormalEquations:
        return NormalEquations(tuple(x + y for x, y in zip(self._sums(), other._sums())))

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
