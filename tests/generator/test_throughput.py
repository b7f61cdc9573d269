"""The throughput fit: the running normal equations give numpy's least squares, under any history of rows."""

import numpy as np
import pytest

from m1reason.throughput import Calibration, FittedThroughput, PaceMeter
from m1reason.throughput.fit import NormalEquations as _NormalEquations


def served(pace: PaceMeter, rows: list[tuple[int, float, float]]) -> None:
    """Feed ``rows`` (batch, context, seconds per step) to ``pace`` as back-to-back busy steps."""
    now = 100.0
    for batch, context, seconds in rows:
        pace.step(started=now, batch=batch, context=context, tokens_per_seq=1, busy=True)
        now += seconds
    pace.step(started=now, batch=1, context=1.0, tokens_per_seq=1, busy=False)


def lstsq(rows) -> np.ndarray:
    b, c, s = (np.array(col, dtype=float) for col in zip(*rows))
    return np.linalg.lstsq(np.stack([np.ones_like(b), b, b * c], 1), s, rcond=None)[0]


def test_the_running_sums_are_those_of_the_rows_kept_after_rows_fall_out():
    rng = np.random.default_rng(0)
    rows = [(int(rng.integers(1, 512)), float(rng.integers(64, 32768)), 1e-3 + 1e-4 * rng.random())
            for _ in range(3008)]  # a whole number of blocks, so the sums cover exactly the rows kept
    pace = PaceMeter(keep=128)
    served(pace, rows)
    kept = pace.rows()
    assert len(kept) == 128 and pace.count == 3008
    fresh = _NormalEquations.of(kept)
    np.testing.assert_allclose(pace.sums()._sums(), fresh._sums(), rtol=1e-9)
    np.testing.assert_allclose(pace.sums().solve(), fresh.solve(), rtol=1e-9)


def test_the_fit_is_least_squares_on_calibration_and_served_rows_together():
    rng = np.random.default_rng(1)
    truth = lambda b, c: 4e-4 + 2e-6 * b + 3e-9 * b * c  # noqa: E731
    calibration = [(b, c, truth(b, c) * (1 + 0.05 * rng.standard_normal())) for b in (1, 8, 64, 512)
                   for c in (128, 4096, 32768)]
    slower = [(b, c, 3 * truth(b, c)) for b, c in zip(rng.integers(1, 64, 200), rng.integers(64, 2048, 200))]
    pace = PaceMeter()
    served(pace, slower)
    fit = FittedThroughput(Calibration(decode=calibration, prefill=[(8, 0.01), (64, 0.02)]), pace=pace)
    expected = lstsq(calibration + pace.rows())
    assert (expected > 0).all()  # so the non-negative fit is the plain one
    np.testing.assert_allclose(fit._coef(), expected, rtol=1e-6)


@pytest.mark.parametrize("batch", [1, 32])
def test_rows_at_one_batch_size_still_fit_without_a_singular_matrix_error(batch):
    rows = [(batch, c, 1e-3 + 1e-7 * c) for c in (100, 200, 400, 800)]
    model = FittedThroughput(Calibration(decode=rows, prefill=[(8, 0.01), (64, 0.02)]))
    for _, c, seconds in rows:
        assert model.decode_step_s(batch, c) == pytest.approx(seconds, rel=1e-6)


def test_a_term_that_would_come_out_negative_is_dropped_and_the_rest_refitted():
    # seconds fall with batch here: the batch term would be negative, so the fit is redone without it (clipping
    # it to zero and keeping the others would leave them fitted to a model with the term)
    rows = [(b, c, 0.01 - 1e-5 * b + 1e-8 * b * c) for b in (1, 2, 4, 8) for c in (100.0, 900.0)]
    assert lstsq(rows)[1] < 0
    a, b, c = FittedThroughput(Calibration(decode=rows, prefill=[(8, 0.01), (64, 0.02)])).decode_coef
    bs, cs, secs = (np.array(col) for col in zip(*rows))
    without = np.linalg.lstsq(np.stack([np.ones_like(bs), bs * cs], 1), secs, rcond=None)[0]
    assert b == 0
    np.testing.assert_allclose((a, c), without, rtol=1e-6)
