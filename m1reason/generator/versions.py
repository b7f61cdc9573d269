"""What a result depends on besides its inputs: package versions and the device, for reproducibility records."""

from __future__ import annotations

import contextlib
import functools
import platform
from importlib import metadata

import torch

__all__ = ["device_name", "package_versions"]

_PACKAGES = ("m1reason", "torch", "transformers", "mamba-ssm", "triton")


@functools.cache
def package_versions() -> dict[str, str]:
    """Python and the installed versions of the packages that change results (absent ones are left out).

    >>> sorted(package_versions())[:2]
    ['m1reason', 'python']
    """
    versions = {"python": platform.python_version()}
    for name in _PACKAGES:
        with contextlib.suppress(metadata.PackageNotFoundError):
            versions[name] = metadata.version(name)
    return versions


def device_name(device: torch.device) -> str:
    """The GPU's model name for CUDA devices (results differ across GPU models), else the device string.

    >>> device_name(torch.device("cpu"))
    'cpu'
    """
    return torch.cuda.get_device_name(device) if device.type == "cuda" else str(device)
