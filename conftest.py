"""Test-run settings for everything pytest collects (tests/, doctests in m1reason/, strategies/ and docs/)."""

import importlib.util
import os

import torch

# Without a GPU, Triton's kernels run through its interpreter (numpy, on the CPU), so the tests check their logic
# on every machine (tests/kernels/test_triton_kernels.py). Set before triton loads: kernels are wrapped for the
# interpreter when their modules are imported.
if not torch.cuda.is_available():
    os.environ.setdefault("TRITON_INTERPRET", "1")

# Triton kernel modules import triton at the top: skip collecting them where it is not installed.
collect_ignore_glob = [] if importlib.util.find_spec("triton") else ["m1reason/kernels/triton_*.py"]

# Tiny models gain nothing from intra-op threads, and on a shared 2-core machine they oversubscribe it
# (a 64-wide matmul then takes 10x longer).
torch.set_num_threads(1)
