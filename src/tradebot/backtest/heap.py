"""Hand the C heap's free pages back to the operating system.

numpy's large temporaries (computing indicators over two million bars makes a dozen of
16 MB at once) come from the C heap, and glibc keeps what they freed: the process's
resident memory stays at the high-water mark of a phase that is over, and the next phase
(the backtest loop's orders and records, a forked optimisation worker's own allocations)
grows on top of it. ``malloc_trim`` returns the free pages.
"""

from __future__ import annotations

import ctypes
import sys


def release_free_heap() -> None:
    """Return the C heap's free pages to the system (glibc's ``malloc_trim``); elsewhere
    than glibc on Linux this does nothing."""
    if not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return
    libc.malloc_trim(0)
