"""The throughput model: how long a decode step and a prefill take for one model on one device.

``fit``: the measurements (Calibration) and the model fitted to them (FittedThroughput); ``pace``: the steps as
really served (PaceMeter), refitted in; ``store``: the disk cache; ``measure``: timing ``model.step`` on a scratch
cache. It sits above the engine (``measure`` times the engine's cache) and below the generators, which own one.

>>> from m1reason.throughput import Calibration, FittedThroughput
>>> fit = FittedThroughput(Calibration(decode=[(1, 8, 0.01), (2, 8, 0.02)], prefill=[(8, 0.01), (64, 0.03)]))
>>> round(fit.decode_step_s(2, 8), 3)
0.02
"""

from m1reason.throughput.fit import Calibration, FittedThroughput
from m1reason.throughput.pace import PaceMeter
from m1reason.throughput.store import cache_dir, load_or_calibrate

__all__ = ["Calibration", "FittedThroughput", "PaceMeter", "cache_dir", "load_or_calibrate"]
