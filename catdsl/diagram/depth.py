"""Deep programs: the one controlled place that raises Python's recursion limit.

Lowering, scheduling, binding and drawing walk a definition's body and, through each use of
another definition, that definition's body: the Python stack grows with the depth of the chain
of definitions (a `let` using the previous `let`, a thousand times over), a few frames per
level. `deep(what)` raises the recursion limit to `RECURSION_LIMIT` for the walk (Python 3.11
runs Python-to-Python calls without the C stack, so this is safe) and turns a `RecursionError`
beyond it into R0105, naming the phase, instead of an internal error. It also pauses the cyclic
garbage collector: these walks allocate many small objects that all stay alive (boxes, steps,
instructions), and collections would otherwise cost a third of the time on large programs.

| code  | raised when |
| ----- | ----------- |
| R0105 | definitions nest deeper than the walk's recursion limit |
"""

from __future__ import annotations

import gc
import sys
from collections.abc import Iterator
from contextlib import contextmanager

from catdsl.errors import CatRuntimeError

RECURSION_LIMIT = 40_000
"""The recursion limit while a program is lowered, scheduled, bound or drawn: about 5,000
nested definitions (a few frames each)."""


@contextmanager
def deep(what: str) -> Iterator[None]:
    """Run a walk of nested definitions with room for deep chains (see the module docstring);
    `what` names the phase for R0105 ("lowering", "drawing", ...)."""
    old, collecting = sys.getrecursionlimit(), gc.isenabled()
    if old < RECURSION_LIMIT:
        sys.setrecursionlimit(RECURSION_LIMIT)
    gc.disable()
    try:
        yield
    except RecursionError:
        raise CatRuntimeError(
            "R0105",
            f"definitions nest too deeply for {what} (more than about "
            f"{RECURSION_LIMIT // 8:,} levels of definitions using definitions)",
            help="flatten the chain: compose several steps in one definition",
        ) from None
    finally:
        sys.setrecursionlimit(old)
        if collecting:
            resume_collector()


def resume_collector() -> None:
    """Enable the cyclic garbage collector after a pause during which everything allocated
    stays alive (a program's AST, terms, diagram, plan), moving those objects to the oldest
    generation without a scan (`gc.freeze` then `gc.unfreeze`), where two collections would
    move them anyway; left in the youngest, the first collection would scan every one of them.
    Nothing is moved while someone else has frozen objects (their freeze is kept)."""
    if not gc.get_freeze_count():
        gc.freeze()
        gc.unfreeze()
    gc.enable()
