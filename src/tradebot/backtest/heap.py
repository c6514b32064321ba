"""Hand the C heap's free pages back to the operating system.

numpy's large temporaries (computing indicators over two million bars makes a dozen of
16 MB at once) come from the C heap, and glibc keeps what they freed: the process's
resident memory stays at the high-water mark of a phase that is over, and the next phase
(the backtest loop's orders and records, a forked optimisation worker's own allocations)
grows on top of it. ``malloc_trim`` returns the free pages; ``map_large_blocks`` makes
every large block its own mapping, returned the moment it is freed.
"""

from __future__ import annotations

import ctypes
import sys


def _glibc() -> ctypes.CDLL | None:
    """glibc, on Linux; None elsewhere (what calls it then does nothing)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        return ctypes.CDLL("libc.so.6")
    except OSError:
        return None


def release_free_heap() -> None:
    """Return the C heap's free pages to the system (glibc's ``malloc_trim``); elsewhere
    than glibc on Linux this does nothing."""
    libc = _glibc()
    if libc is not None:
        libc.malloc_trim(0)


_M_MMAP_THRESHOLD = -3  # glibc's mallopt parameter number (malloc.h)
LARGE_BLOCK_BYTES = 1 << 20


def map_large_blocks(threshold_bytes: int = LARGE_BLOCK_BYTES) -> None:
    """Serve every block of ``threshold_bytes`` or more from its own memory mapping, for the
    rest of the process's life (glibc's ``mallopt(M_MMAP_THRESHOLD)``; elsewhere nothing).

    glibc raises its threshold as large blocks are freed (up to 32 MB), so a process that
    computes over two million bars soon takes its 16 MB columns from the heap, and what a
    phase freed stays resident, in holes the next phase fills only partly: an optimisation
    worker held the high-water mark of every trial between trials. Mapped, a freed column
    goes back to the system at once (at the cost of zeroing fresh pages each time).
    """
    libc = _glibc()
    if libc is not None:
        libc.mallopt(_M_MMAP_THRESHOLD, threshold_bytes)
