"""`select` of `std.lists`: the elements of a list whose flag is true, in order.

`select : List[a] * List[Bool] -> List[a]` keeps element i when flag i is true (a filter by a
mask computed from the list, e.g. `<List[Real], List(Real * zero >> gt)> >> select` keeps the
positive entries). The two lists must have one length (R0424 otherwise). In a batch of lists
(an enclosing `List(f)`) every list must keep as many elements, or the result has no
rectangular form (R0424). The VJP puts each kept element's cotangent back at its position.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from catdsl.errors import CatRuntimeError
from catdsl.semantics.kernel import Cotangents, Forward, Kernel
from catdsl.std.prims import _lists
from catdsl.std.signatures import list_select
from catdsl.typesys.primitives import PrimSpec


class Select(Kernel):
    """`select`: the list's columns at the positions where the flags are true."""

    name = "select"
    n_in = 2
    differentiable = (True, False)

    def forward(self, *xs: np.ndarray) -> Forward:
        *columns, flags = (np.asarray(x) for x in xs)
        axis = _lists.list_axis(columns, self.in_ranks[0] if self.in_ranks else 1)
        n = _lists.length(columns, axis)
        if flags.shape[-1] != n:
            raise CatRuntimeError(
                "R0424",
                f"`select` of a list of {n} elements with {flags.shape[-1]} flags",
                help="give one flag per element",
            )
        flags = flags.astype(bool)
        if n == 0:  # nothing to select from: the empty list itself
            return tuple(columns), (columns, flags, axis, 0)
        rows = flags.reshape(-1, n)
        counts = set(rows.sum(axis=1).tolist())
        if len(counts) > 1:
            raise CatRuntimeError(
                "R0424",
                f"`select` in a batch of lists keeps {sorted(counts)} elements: the lists of a "
                "batch have one length",
                help="select in one list at a time",
            )
        keep = int(counts.pop()) if counts else 0
        outs = tuple(_pick(c, flags, axis, keep) for c in columns)
        return outs, (columns, flags, axis, keep)

    def vjp(self, residual: Any, *dys: Any) -> Cotangents:
        columns, flags, axis, keep = residual
        grads: list[np.ndarray | None] = []
        for c, dy in zip(columns, dys, strict=True):
            if dy is None or not np.issubdtype(c.dtype, np.floating) or c.size == 0:
                grads.append(None)
                continue
            grad = np.zeros_like(c)
            if keep:
                _place(grad, flags, axis, np.asarray(dy))
            grads.append(grad)
        return (*grads, None)


def _pick(column: np.ndarray, flags: np.ndarray, axis: int, keep: int) -> np.ndarray:
    """The kept elements of one column: its list axis cut to the flagged positions."""
    batch = column.shape[:axis]
    rows = column.reshape((-1, *column.shape[axis:]))
    masks = flags.reshape(-1, flags.shape[-1])
    picked = [row[mask] for row, mask in zip(rows, masks, strict=True)]
    if not picked:
        return np.zeros((*batch, keep, *column.shape[axis + 1 :]), dtype=column.dtype)
    return np.stack(picked).reshape((*batch, keep, *column.shape[axis + 1 :]))


def _place(grad: np.ndarray, flags: np.ndarray, axis: int, dy: np.ndarray) -> None:
    """Add the kept elements' cotangents back at their positions."""
    rows = grad.reshape((-1, *grad.shape[axis:]))
    masks = flags.reshape(-1, flags.shape[-1])
    parts = dy.reshape((rows.shape[0], -1, *grad.shape[axis + 1 :]))
    for row, mask, part in zip(rows, masks, parts, strict=True):
        row[mask] += part


SPEC = PrimSpec(
    "select",
    "std.lists",
    (),
    (),
    list_select,
    "the elements whose flag is true, in order",
    kernel=Select,
)
