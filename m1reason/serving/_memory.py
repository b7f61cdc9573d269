"""Handing freed memory back to the operating system when a server goes idle.

A burst of requests runs on hundreds of worker threads; glibc's allocator gives busy threads their own arenas
and keeps the pages they free for reuse, so after the burst the process stays at its high-water mark though the
memory is free. ``malloc_trim(0)`` returns those free pages (from every arena) to the system, and a server that
caps the number of arenas and fixes the size from which blocks get their own mapping (``steady_allocator``,
before it starts threads) leaves fewer half-used pages to trim. Both are glibc calls: on other C libraries there
is nothing to call and the process keeps its pages.
"""

from __future__ import annotations

import ctypes
import ctypes.util

__all__ = ["release_free_memory", "steady_allocator"]


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
_M_MMAP_THRESHOLD, _M_ARENA_MAX = -3, -8  # glibc's malloc.h


def steady_allocator(arenas: int = 2, mmap_threshold: int = 4 << 20) -> bool:
    """Set glibc's allocator for a long-running server whose bursts come and go; False where the C library has
    no ``mallopt`` or refuses. ``arenas``: at most this many malloc arenas (``MALLOC_ARENA_MAX``): by default
    glibc makes up to 8 per core as threads contend, each keeping the half-used pages of the threads that used it.
    ``mmap_threshold``: blocks of this many bytes or more get their own mapping, given back when freed; glibc's
    default threshold rises to 32 MiB as large blocks are freed, after which a burst's large tensors are carved
    from the heap and leave it fragmented. Small blocks (a decode step's tensors on a CPU) stay on the heap, where
    a fresh mapping for each would cost page faults. Call it before the threads start (a server's start-up).

    >>> isinstance(steady_allocator(), bool)
    True
    """
    if arenas < 1 or mmap_threshold < 1:
        raise ValueError(f"arenas and mmap_threshold must be >= 1, got {arenas} and {mmap_threshold}")
    if _MALLOPT is None:
        return False
    return _MALLOPT(_M_ARENA_MAX, arenas) == 1 and _MALLOPT(_M_MMAP_THRESHOLD, mmap_threshold) == 1


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
