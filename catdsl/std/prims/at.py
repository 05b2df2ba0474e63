"""`at(table)` of `std.lists`: the element of a list at a position, `table[i]`.

`at(table) : i -> a` for a list `table : List[a]` (a `data` point or a `param`) and a single
position `i` (a `Nat`, or an `Index` such as a token id): it relabels positions with the
table's elements (token id 2 ↦ `"Rust"`). A position outside the table is R0423, naming it
and the table's length. A real table gets the cotangent of each element it gave.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from catdsl.errors import CatRuntimeError
from catdsl.semantics.kernel import Cotangents, Forward, Kernel
from catdsl.std.signatures import position_lookup
from catdsl.typesys.primitives import PrimSpec


class At(Kernel):
    """`at(table)`: `table[i]` for every position i (a batch of positions gives a batch)."""

    name = "at"
    n_in = 2
    differentiable = (False, True)

    def forward(self, i: np.ndarray, table: np.ndarray) -> Forward:
        i, table = np.asarray(i), np.asarray(table)
        n = table.shape[0]
        if i.size and (int(i.min()) < 0 or int(i.max()) >= n):
            bad = int(i.min()) if int(i.min()) < 0 else int(i.max())
            raise CatRuntimeError(
                "R0423",
                f"`at` of the position {bad} in a list of {n} elements",
                help=f"positions run from 0 to {n - 1}",
            )
        return (np.take(table, i, axis=0),), (i, table.shape, table.dtype)

    def vjp(self, residual: Any, dy: Any) -> Cotangents:
        i, shape, dtype = residual
        if dy is None or not np.issubdtype(dtype, np.floating):
            return (None, None)
        grad = np.zeros(shape, dtype=dtype)
        np.add.at(grad, i, dy)
        return (None, grad)


SPEC = PrimSpec(
    "at",
    "std.lists",
    ("table",),
    (),
    position_lookup,
    "`table[i]`, the element at position i",
    kernel=At,
)
