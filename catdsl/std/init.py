"""Initialisers of learnable parameters: `f(shape, dtype, **kwargs) -> np.ndarray`.

Every initialiser is deterministic: the random ones take a `seed` (numpy's `default_rng`), and
`course_init` is the course's closed formula. A bad argument raises R0404.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable

import numpy as np
from numpy.typing import DTypeLike

from catdsl.errors import CatRuntimeError

Shape = tuple[int, ...]


def _check(condition: bool, message: str) -> None:
    """Raise the invalid-argument error R0404 with `message` unless `condition` holds."""
    if not condition:
        raise CatRuntimeError("R0404", message)


def zeros(shape: Shape, dtype: DTypeLike = np.float64) -> np.ndarray:
    """All entries 0 (the usual bias initialiser)."""
    return np.zeros(shape, dtype=dtype)


def ones(shape: Shape, dtype: DTypeLike = np.float64) -> np.ndarray:
    """All entries 1 (e.g. a layer-norm scale)."""
    return np.ones(shape, dtype=dtype)


def normal(
    shape: Shape, dtype: DTypeLike = np.float64, mean: float = 0.0, std: float = 1.0, seed: int = 0
) -> np.ndarray:
    """Independent draws from N(mean, std²), reproducible from `seed`."""
    _check(math.isfinite(mean) and math.isfinite(std), "`normal` needs finite `mean` and `std`")
    _check(std >= 0, f"`normal` needs a non-negative `std`, found {std}")
    return np.random.default_rng(seed).normal(mean, std, shape).astype(dtype)


def uniform(
    shape: Shape, dtype: DTypeLike = np.float64, low: float = -1.0, high: float = 1.0, seed: int = 0
) -> np.ndarray:
    """Independent draws from U[low, high), reproducible from `seed`."""
    _check(math.isfinite(low) and math.isfinite(high), "`uniform` needs finite `low` and `high`")
    _check(low <= high, f"`uniform` needs `low` <= `high`, found {low} > {high}")
    return np.random.default_rng(seed).uniform(low, high, shape).astype(dtype)


def course_init(
    shape: Shape, dtype: DTypeLike = np.float64, seed: int = 0, scale: float = 1.0
) -> np.ndarray:
    """The course's formula ((((r·cols + c)·37 + seed·101) mod 1000)/1000 − 0.5)·scale.

    cols is the last axis (1 for a scalar) and r runs over all other axes, so a vector is one
    row; r·cols + c is then the row-major position of the entry.
    """
    if not isinstance(seed, _INTEGERS):  # (a message is formatted only when it is raised)
        raise CatRuntimeError("R0404", f"`course_init` needs an integer seed, found {seed}")
    if not math.isfinite(scale):
        raise CatRuntimeError("R0404", f"`course_init` needs a finite `scale`, found {scale}")
    # _FRACTIONS[k] is k / 1000 - 0.5 worked out as the formula does, so reading it gives the
    # same numbers bit for bit with two array operations fewer per param
    values = _FRACTIONS[(_positions37(math.prod(shape)) + int(seed) * 101) % 1000] * scale
    return values.reshape(shape).astype(dtype, copy=False)  # (`values` is a new array)


_INTEGERS = (int, np.integer)
_FRACTIONS = np.arange(1000, dtype=np.int64) / 1000 - 0.5
_FRACTIONS.flags.writeable = False


@functools.lru_cache(maxsize=64)
def _positions37(size: int) -> np.ndarray:
    """0, 37, 74, ...: the positions of `size` entries times 37, shared by the params of one
    size (a program of a thousand layers initialises a thousand alike); read-only."""
    positions = np.arange(size, dtype=np.int64) * 37
    positions.flags.writeable = False
    return positions


INITIALISERS: dict[str, Callable[..., np.ndarray]] = {
    "zeros": zeros,
    "ones": ones,
    "normal": normal,
    "uniform": uniform,
    "course_init": course_init,
}
"""Initialiser name (as written in `param x : T = name(...)`) -> function."""
