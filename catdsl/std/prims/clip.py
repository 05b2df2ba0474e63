"""`clip(lo, hi)` of `std.ml`: each entry clamped to the interval [lo, hi].

The bounds are static numbers (either may be left out: `clip(lo = 0)` only clamps from below),
checked by the checker (E0360: `lo` must not exceed `hi`). The cotangent passes where
lo ≤ x ≤ hi, bounds included as in PyTorch's `clamp`, and is zero outside.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from catdsl.semantics.kernel import Cotangents, Forward, Kernel
from catdsl.std import statics
from catdsl.std.signatures import elementwise
from catdsl.typesys.primitives import PrimSpec

VALIDATE = statics.every(statics.real("lo"), statics.real("hi"), statics.ordered("lo", "hi"))


class Clip(Kernel):
    """`clip(lo, hi)`: min(max(x, lo), hi); the residual is where the cotangent passes."""

    name = "clip"

    def __init__(self, in_ranks: tuple[int, ...] = (), *, lo: float, hi: float) -> None:
        super().__init__(in_ranks)
        statics.enforce(self.name, VALIDATE, lo=lo, hi=hi)
        self.lo, self.hi = float(lo), float(hi)

    def forward(self, x: np.ndarray) -> Forward:
        x = np.asarray(x)
        y = np.clip(x, np.asarray(self.lo, x.dtype), np.asarray(self.hi, x.dtype))
        return (y,), (x >= self.lo) & (x <= self.hi)

    def vjp(self, residual: Any, dy: np.ndarray) -> Cotangents:
        return (np.where(residual, dy, 0),)


SPEC = PrimSpec(
    "clip",
    "std.ml",
    (),
    ("lo", "hi"),
    elementwise,
    "each entry clamped to [lo, hi]",
    defaults={"lo": -math.inf, "hi": math.inf},
    kernel=Clip,
    validate=VALIDATE,
)
