"""Throughput models: how long a decode step and a prefill take for one model on one device, measured.

A generator measures step times over a small grid of (batch, context) and prefill lengths once, fits
``step_s = a + b * batch + c * batch * context`` (weights read once per step; Mamba state per sequence;
attention KV per token of context) and ``prefill_s = d + e * tokens``, and caches the fit on disk keyed by
model, revision, dtype, device and engine shape, so the next process starts calibrated. BudgetAware plans
sample counts and lengths from it.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

__all__ = ["Calibration", "FittedThroughput", "cache_dir", "load_or_calibrate"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Calibration:
    """Raw measurements: decode rows (batch, context, seconds) and prefill rows (tokens, seconds)."""

    decode: list[tuple[int, float, float]]
    prefill: list[tuple[int, float]]


class FittedThroughput:
    """A ThroughputModel fitted to measurements (non-negative least squares on the cost terms above).

    >>> rows = [(b, c, 0.01 + 0.001 * b + 1e-6 * b * c) for b in (1, 8, 32) for c in (100, 1000)]
    >>> model = FittedThroughput(Calibration(decode=rows, prefill=[(100, 0.02), (1000, 0.11)]))
    >>> round(model.decode_step_s(16, 500), 4), round(model.prefill_s(550), 3)
    (0.034, 0.065)
    >>> round(model.tokens_per_s(16, 500))
    471
    """

    def __init__(self, calibration: Calibration, occupancy: Callable[[], int] = lambda: 0):
        self.calibration = calibration
        self._occupancy = occupancy
        b, c, s = (np.array(col, dtype=float) for col in zip(*calibration.decode))
        self.decode_coef = _nonnegative_fit(np.stack([np.ones_like(b), b, b * c], 1), s)
        t, s = (np.array(col, dtype=float) for col in zip(*calibration.prefill))
        self.prefill_coef = _nonnegative_fit(np.stack([np.ones_like(t), t], 1), s)

    def decode_step_s(self, batch: int, context: int) -> float:
        a, b, c = self.decode_coef
        return float(a + b * batch + c * batch * context)

    def prefill_s(self, tokens: int) -> float:
        d, e = self.prefill_coef
        return float(d + e * tokens)

    def occupancy(self) -> int:
        return self._occupancy()

    def tokens_per_s(self, batch: int, context: int) -> float:
        """Generated tokens per second across a batch at this mean context."""
        return batch / self.decode_step_s(batch, context)


def _nonnegative_fit(features: np.ndarray, target: np.ndarray) -> tuple[float, ...]:
    """Least squares, dropping terms that come out negative (noise must not predict negative time)."""
    active = list(range(features.shape[1]))
    while True:
        coef, *_ = np.linalg.lstsq(features[:, active], target, rcond=None)
        if (coef >= 0).all() or len(active) == 1:
            full = np.zeros(features.shape[1])
            full[active] = np.maximum(coef, 0)
            return tuple(float(x) for x in full)
        active.pop(int(np.argmin(coef)))


def cache_dir() -> Path:
    """Where calibrations live: $M1REASON_CACHE, else ~/.cache/m1reason."""
    return Path(os.environ.get("M1REASON_CACHE", Path.home() / ".cache" / "m1reason")) / "throughput"


def load_or_calibrate(key: dict, measure: Callable[[], Calibration], occupancy: Callable[[], int] = lambda: 0,
                      *, refresh: bool = False) -> FittedThroughput:
    """The fit for ``key`` (model, revision, dtype, device, engine shape, versions): read from disk, or measured
    now and saved. A corrupt or unreadable cache file is measured again, not trusted.

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
            return FittedThroughput(calibration, occupancy)
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
    return FittedThroughput(calibration, occupancy)
