"""Test-run settings for everything pytest collects (tests/, doctests in m1reason/, strategies/ and docs/)."""

import importlib.util

import torch

# Triton kernel modules import triton at the top: skip collecting them where it is not installed.
collect_ignore_glob = [] if importlib.util.find_spec("triton") else ["m1reason/kernels/triton_*.py"]

# Tiny models gain nothing from intra-op threads, and on a shared 2-core machine they oversubscribe it
# (a 64-wide matmul then takes 10x longer).
torch.set_num_threads(1)
