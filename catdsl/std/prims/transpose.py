"""`transpose(a, b)` of `std.ml`: two axes of a value swapped, counted from the end.

With the defaults `a = -2`, `b = -1` it is the matrix transpose of every batch element,
`Real[*s, m, n] -> Real[*s, n, m]`; other axes give the signature with those two dims swapped.
The two axes must differ (E0360). The VJP swaps the cotangent's axes back.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from catdsl.semantics.kernel import Cotangents, Forward, Kernel
from catdsl.std import statics
from catdsl.std.prims.concatenate import check_axis
from catdsl.std.signatures import transpose_axes
from catdsl.typesys.primitives import PrimSpec

VALIDATE = statics.every(statics.axis("a"), statics.axis("b"), statics.distinct("a", "b"))


class Transpose(Kernel):
    """`transpose(a, b)`: `np.swapaxes` of the axes a and b (a view)."""

    name = "transpose"

    def __init__(self, in_ranks: tuple[int, ...] = (), *, a: int, b: int) -> None:
        super().__init__(in_ranks)
        statics.enforce(self.name, VALIDATE, a=a, b=b)
        self.a, self.b = int(a), int(b)

    def forward(self, x: np.ndarray) -> Forward:
        x = np.asarray(x)
        check_axis(self.name, x, min(self.a, self.b))
        return (np.swapaxes(x, self.a, self.b),), None

    def vjp(self, residual: Any, dy: np.ndarray) -> Cotangents:
        return (np.swapaxes(dy, self.a, self.b),)


SPEC = PrimSpec(
    "transpose",
    "std.ml",
    (),
    ("a", "b"),
    transpose_axes,
    "the axes a and b (from the end) swapped",
    defaults={"a": -2, "b": -1},
    kernel=Transpose,
    validate=VALIDATE,
)
