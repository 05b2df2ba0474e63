"""`length` of `std.lists`: how many elements a list has, a `Nat`.

`length : List[a] -> Nat` counts along the list axis (a batch of lists gives one count per
list). A count is discrete: no cotangent flows back through it, and training through it is
refused.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from catdsl.semantics.kernel import Cotangents, Forward, Kernel
from catdsl.std.prims import _lists
from catdsl.std.signatures import list_length
from catdsl.typesys.primitives import NoGradient, PrimSpec


class Length(Kernel):
    """`length`: the size of the list axis, as a 64-bit integer (one per batched list)."""

    name = "length"
    differentiable = (False,)

    def forward(self, *columns: np.ndarray) -> Forward:
        arrays = [np.asarray(c) for c in columns]
        axis = _lists.list_axis(arrays, self.in_ranks[0] if self.in_ranks else 1)
        n = _lists.length(arrays, axis)
        return (np.full(arrays[0].shape[:axis], n, dtype=np.int64),), len(arrays)

    def vjp(self, residual: Any, dy: Any) -> Cotangents:
        return (None,) * residual


SPEC = PrimSpec(
    "length",
    "std.lists",
    (),
    (),
    list_length,
    "the number of elements, a `Nat`",
    kernel=Length,
    no_gradient=NoGradient.DISCRETE,
)
