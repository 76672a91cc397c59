"""Fewer glibc malloc arenas for the CLI's process: memory that stays bounded as a sync goes on.

glibc gives each thread that allocates at once its own malloc arena (up to eight per core). A
sync's threads (fetch workers, converters) parse pages with lxml and build bs4 trees; the memory
freed in one arena is not reused by another, so the process's peak grows with the number of
pages: on the fixture site a cold sync of 2,125 statements peaked at 155 MB (VmHWM), 118 MB with
two arenas. :func:`fewer_arenas` asks glibc for ``ARENAS`` (``mallopt(M_ARENA_MAX)``), before any
thread starts; ``MALLOC_ARENA_MAX`` in the environment, another C library or another system
leave it as it is.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import sys

#: Two arenas: the two converter threads do the allocating work at once; the GIL orders the rest.
ARENAS = 2
_M_ARENA_MAX = -8  # glibc's malloc.h


def fewer_arenas(arenas: int = ARENAS) -> bool:
    """Ask glibc for at most ``arenas`` malloc arenas; whether it was asked (and agreed)."""
    if not sys.platform.startswith("linux") or "MALLOC_ARENA_MAX" in os.environ:
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # not glibc (musl has no mallopt)
        return False
    return bool(mallopt(_M_ARENA_MAX, arenas))
