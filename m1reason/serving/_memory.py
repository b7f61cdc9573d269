"""Handing freed memory back to the operating system when a server goes idle.

A burst of requests runs on hundreds of worker threads; glibc's allocator gives busy threads their own arenas
and keeps the pages they free for reuse, so after the burst the process stays at its high-water mark though the
memory is free. ``malloc_trim(0)`` returns those free pages (from every arena) to the system, and a server that
caps the number of arenas (``limit_arenas``, before it starts threads) leaves fewer half-used pages to trim. Both
are glibc calls: on other C libraries there is nothing to call and the process keeps its pages.
"""

from __future__ import annotations

import ctypes
import ctypes.util

__all__ = ["limit_arenas", "release_free_memory"]


def _find_libc_call(symbol: str):
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    try:
        return getattr(ctypes.CDLL(name), symbol, None)
    except OSError:
        return None


_MALLOC_TRIM = _find_libc_call("malloc_trim")
_MALLOPT = _find_libc_call("mallopt")
_M_ARENA_MAX = -8  # glibc's malloc.h


def limit_arenas(count: int = 2) -> bool:
    """Cap glibc's malloc arenas at ``count`` (``MALLOC_ARENA_MAX`` from inside the process); False where the C
    library has no ``mallopt`` or refuses. By default glibc makes up to 8 per core as threads contend, and each
    keeps the pages its threads freed: a server of hundreds of short-lived solve threads ends a burst well above
    where it began. Call it before the threads start (a server's start-up); arenas already made stay.

    >>> isinstance(limit_arenas(2), bool)
    True
    """
    if count < 1:
        raise ValueError(f"count must be >= 1, got {count}")
    return _MALLOPT is not None and _MALLOPT(_M_ARENA_MAX, count) == 1


def release_free_memory() -> bool:
    """Return the allocator's free pages to the OS; False where the C library has no ``malloc_trim``. ctypes lets
    go of the GIL during the call, so other threads run while it walks the heap.

    >>> isinstance(release_free_memory(), bool)
    True
    """
    if _MALLOC_TRIM is None:
        return False
    _MALLOC_TRIM(0)
    return True
