"""Work for `test_fuzz_driver.py`'s worker processes, in a module of its own so that a fresh
worker imports only this (not the fuzz driver and catdsl)."""

from __future__ import annotations

import os
import signal
from collections.abc import Sequence

KILLER = 13


def square_or_die(items: Sequence[int]) -> list[tuple[int, int]]:
    """Each item squared; item KILLER kills its own worker, as a crash in native code would."""
    out = []
    for item in items:
        if item == KILLER:
            os.kill(os.getpid(), signal.SIGKILL)
        out.append((item, item * item))
    return out
