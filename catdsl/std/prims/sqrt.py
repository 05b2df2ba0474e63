"""`sqrt` of `std.ml`: the square root entry by entry, for positive entries only.

An entry ≤ 0 is refused at run time with R0430 (see `log`): below 0 there is no real root, and
at 0 the derivative 1/(2√x) is infinite, so a 0 reaching `sqrt` would turn the next training
step's gradient into infinities. Add a small constant first (`√(x + ε)`) where 0 can occur.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from catdsl.semantics.kernel import Cotangents, Forward, Kernel
from catdsl.std.prims.log import check_positive
from catdsl.std.signatures import elementwise
from catdsl.typesys.primitives import PrimSpec


class Sqrt(Kernel):
    """`sqrt`: √x for x > 0; the residual is the root, for the derivative 1/(2√x)."""

    name = "sqrt"

    def forward(self, x: np.ndarray) -> Forward:
        x = np.asarray(x)
        check_positive(
            self.name,
            x,
            "keep its input positive: add a small constant where it can be 0 (its derivative "
            "is infinite there), or put `softplus` or `exp` before it",
        )
        y = np.sqrt(x)
        return (y,), y

    def vjp(self, residual: Any, dy: np.ndarray) -> Cotangents:
        return (dy / (2 * residual),)


SPEC = PrimSpec(
    "sqrt", "std.ml", (), (), elementwise, "`√x`, for x > 0 (R0430 otherwise)", kernel=Sqrt
)
