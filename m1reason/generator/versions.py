"""Package versions for reproducibility records and benchmark reports."""

from __future__ import annotations

import contextlib
import functools
import platform
from importlib import metadata

__all__ = ["package_versions"]

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
