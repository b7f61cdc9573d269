"""Handing freed memory back to the operating system when a server goes idle.

A burst of requests runs on hundreds of worker threads; glibc's allocator gives busy threads their own arenas
and keeps the pages they free for reuse, so after the burst the process stays at its high-water mark though the
memory is free. ``malloc_trim(0)`` returns those free pages (from every arena) to the system. It is a glibc call:
on other C libraries there is nothing to call and the process keeps its pages.
"""

from __future__ import annotations

import ctypes
import ctypes.util

__all__ = ["release_free_memory"]


def _find_malloc_trim():
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    try:
        return getattr(ctypes.CDLL(name), "malloc_trim", None)
    except OSError:
        return None


_MALLOC_TRIM = _find_malloc_trim()


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
