"""The ranges numbers must fit in, and the memory budget of the values a program holds.

A dim, a power, a count or a seed written in a program is a Python int and could be any size;
numpy holds them in 64-bit integers and allocates arrays of `prod(dims)` entries. The checker
refuses what numpy could not hold (E0418) or what would not fit in memory (E0419), and the run
refuses an allocation of a size only known then (R0417), rather than crashing.

The budget is `CATDSL_MEMORY_BUDGET` (bytes, or with a suffix: `512M`, `2G`, `1.5GiB`), 2 GiB
by default; docs/running.md documents it.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Iterable

MAX_DIM = 2**63 - 1
"""The largest size of a dim or an axis: numpy's index type."""
MAX_POWER = 2**63 - 1
"""The largest exponent of `f ^ n`: a step count in a 64-bit integer."""
MAX_SEED = 2**32 - 1
"""Seeds run from 0 to this (numpy's generators take any; `course_init` multiplies it)."""
BYTES_PER_NUMBER = 8

MEMORY_BUDGET_ENV = "CATDSL_MEMORY_BUDGET"
DEFAULT_MEMORY_BUDGET = 2 * 1024**3

_UNITS = {
    "": 1,
    "b": 1,
    "k": 1000,
    "kb": 1000,
    "kib": 1024,
    "m": 1000**2,
    "mb": 1000**2,
    "mib": 1024**2,
    "g": 1000**3,
    "gb": 1000**3,
    "gib": 1024**3,
    "t": 1000**4,
    "tb": 1000**4,
    "tib": 1024**4,
}
_SIZE = re.compile(r"^\s*([0-9]+(?:\.[0-9]+)?)\s*([A-Za-z]*)\s*$")


class BudgetSettingError(ValueError):
    """`CATDSL_MEMORY_BUDGET` is set to something that is not a size."""


def parse_size(text: str) -> int:
    """Bytes from `2000000000`, `512M`, `2G`, `1.5GiB` (k/M/G/T are powers of 1000, KiB/MiB/
    GiB/TiB of 1024); `BudgetSettingError` for anything else or for 0."""
    match = _SIZE.match(text)
    unit = _UNITS.get(match.group(2).lower()) if match else None
    if match is None or unit is None or len(match.group(1)) > 30:
        raise BudgetSettingError(
            f"{MEMORY_BUDGET_ENV} must be a size in bytes such as 2G, 512MiB or 1000000000, "
            f"not `{text[:40]}`"
        )
    value = int(float(match.group(1)) * unit)
    if value <= 0:
        raise BudgetSettingError(f"{MEMORY_BUDGET_ENV} must be more than 0 bytes, not `{text}`")
    return value


def memory_budget() -> int:
    """The memory budget in bytes: `CATDSL_MEMORY_BUDGET`, or 2 GiB."""
    text = os.environ.get(MEMORY_BUDGET_ENV)
    if text is None or not text.strip():
        return DEFAULT_MEMORY_BUDGET
    return parse_size(text)


def nbytes(shape: Iterable[int]) -> int:
    """The bytes an array of `shape` takes at 8 bytes a number (exact, never overflowing)."""
    return math.prod(shape) * BYTES_PER_NUMBER


def human_bytes(n: int) -> str:
    """`2 GiB`, `1.5 MiB`, `800 B`; absurd sizes in powers of ten (`8e+20 B`)."""
    for unit, size in (
        ("EiB", 1024**6),
        ("PiB", 1024**5),
        ("TiB", 1024**4),
        ("GiB", 1024**3),
        ("MiB", 1024**2),
        ("KiB", 1024),
    ):
        if n >= size:
            if n >= 1024 * 1024**6:
                return f"{float(n):.3g} B"
            return f"{n / size:.3g} {unit}"
    return f"{n} B"
