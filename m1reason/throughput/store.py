"""The throughput model's disk cache: a calibration is measured once per model, revision, dtype, device and engine
shape, and saved, so that the next process starts calibrated. A corrupt or unreadable file is measured again.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path

from m1reason.throughput.fit import Calibration, FittedThroughput
from m1reason.throughput.pace import PaceMeter

__all__ = ["cache_dir", "load_or_calibrate"]

log = logging.getLogger(__name__)


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
