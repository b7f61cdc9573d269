"""Doctest collection: Triton kernel modules import triton at the top, so skip them where it is not installed."""

import importlib.util

collect_ignore_glob = [] if importlib.util.find_spec("triton") else ["m1reason/kernels/triton_*.py"]
