"""`zip` of `std.lists`: the pairs of two lists' elements, position by position.

`zip : List[a] * List[b] -> List[a * b]` stops at the shorter list, as zips do. A list of a
product is held as its columns, so zipping is the columns of both lists side by side, each
cut to the shorter length; the VJP pads each cotangent back with zeros.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from catdsl.semantics.kernel import Cotangents, Forward, Kernel
from catdsl.std.prims import _lists
from catdsl.std.signatures import list_zip
from catdsl.typesys.primitives import PrimSpec


class Zip(Kernel):
    """`zip`: every column of both lists cut to the shorter length."""

    name = "zip"
    n_in, n_out = 2, 2  # for lists of one wire; a list of a product brings its columns
    differentiable = (True, True)

    def forward(self, *columns: np.ndarray) -> Forward:
        arrays = [np.asarray(c) for c in columns]
        axis = _lists.list_axis(arrays[:1], self.in_ranks[0] if self.in_ranks else 1)
        if len(arrays) > 2:
            axis = 0  # a list of a product: unbatched, its columns start with the list axis
        n = min(a.shape[axis] for a in arrays)
        outs = tuple(np.take(a, np.arange(n), axis=axis) for a in arrays)
        return outs, (axis, [a.shape for a in arrays], [a.dtype for a in arrays])

    def vjp(self, residual: Any, *dys: Any) -> Cotangents:
        axis, shapes, dtypes = residual
        grads: list[np.ndarray | None] = []
        for dy, shape, dtype in zip(dys, shapes, dtypes, strict=True):
            if dy is None or not np.issubdtype(dtype, np.floating):
                grads.append(None)
                continue
            grad = np.zeros(shape, dtype=dtype)
            index = [slice(None)] * len(shape)
            index[axis] = slice(0, dy.shape[axis])
            grad[tuple(index)] = dy
            grads.append(grad)
        return tuple(grads)


SPEC = PrimSpec(
    "zip",
    "std.lists",
    (),
    (),
    list_zip,
    "the pairs of elements at the same positions, as long as the shorter list",
    kernel=Zip,
)
