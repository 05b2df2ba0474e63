"""`concat` of `std.lists`: one list after the other, `xs ++ ys`.

`concat : List[a] * List[a] -> List[a]` is the product of the free monoid on `a`, whose unit is
`[]`. A list of a product arrives as its columns, the first list's then the second's; each
column is joined with its partner along the list axis. The VJP splits the cotangent there.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from catdsl.semantics.kernel import Cotangents, Forward, Kernel
from catdsl.std.prims import _lists
from catdsl.std.signatures import list_concat
from catdsl.typesys.primitives import PrimSpec


class Concat(Kernel):
    """`concat`: the columns of the first list followed by those of the second."""

    name = "concat"
    n_in, n_out = 2, 1  # for lists of one wire; a list of a product brings its columns
    differentiable = (True, True)

    def forward(self, *columns: np.ndarray) -> Forward:
        arrays = [np.asarray(c) for c in columns]
        half = len(arrays) // 2
        left, right = arrays[:half], arrays[half:]
        axis = _lists.list_axis(left, self.in_ranks[0] if self.in_ranks else 1)
        outs = []
        for a, b in zip(left, right, strict=True):
            dtype = np.result_type(a, b)
            if a.shape[:axis] + a.shape[axis + 1 :] != b.shape[:axis] + b.shape[axis + 1 :]:
                a, b = _fit_empty(a, b, axis)
            outs.append(np.concatenate([a.astype(dtype), b.astype(dtype)], axis=axis))
        return tuple(outs), (axis, [_lists.length([a], axis) for a in left])

    def vjp(self, residual: Any, *dys: Any) -> Cotangents:
        axis, lengths = residual
        firsts: list[np.ndarray | None] = []
        seconds: list[np.ndarray | None] = []
        for dy, n in zip(dys, lengths, strict=True):
            if dy is None:
                firsts.append(None)
                seconds.append(None)
                continue
            head, tail = np.split(dy, [n], axis=axis)
            firsts.append(head)
            seconds.append(tail)
        return (*firsts, *seconds)


def _fit_empty(a: np.ndarray, b: np.ndarray, axis: int) -> tuple[np.ndarray, np.ndarray]:
    """An empty list whose element sizes were unknown (0) takes the other list's sizes."""
    if a.shape[axis] == 0:
        shape = list(b.shape)
        shape[axis] = 0
        return np.zeros(shape, dtype=a.dtype), b
    if b.shape[axis] == 0:
        shape = list(a.shape)
        shape[axis] = 0
        return a, np.zeros(shape, dtype=b.dtype)
    return a, b


SPEC = PrimSpec(
    "concat",
    "std.lists",
    (),
    (),
    list_concat,
    "`xs ++ ys`, one list after the other",
    kernel=Concat,
)
