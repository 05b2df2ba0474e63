"""What the list primitives share: where a list's axis is in the arrays a kernel sees.

A list whose element is one wire is one array: its list axis is the first of the last `rank`
axes (`rank` = the list's element rank plus one), and any axes in front are batch axes (an
enclosing `List(f)`). A list of a product is one array per component, each with the list axis
first; such a list is taken unbatched (axis 0). This module holds no primitive (no `SPEC`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from catdsl.errors import CatRuntimeError


def list_axis(columns: Sequence[np.ndarray], rank: int) -> int:
    """The list axis of a list given as its columns; `rank` is the kernel's input rank."""
    if len(columns) != 1:
        return 0
    (column,) = columns
    if column.ndim < rank:
        raise CatRuntimeError(
            "R0306", f"a list of rank {rank} was expected, found the shape {column.shape}"
        )
    return column.ndim - rank


def length(columns: Sequence[np.ndarray], axis: int) -> int:
    """The number of elements of a list given as its columns."""
    return int(columns[0].shape[axis])


def element(columns: Sequence[np.ndarray], axis: int, index: int) -> object:
    """The value of the element at `index`: one array, or the tuple of its components."""
    parts = tuple(np.take(c, index, axis=axis) for c in columns)
    return parts[0] if len(parts) == 1 else parts


def unbatched(name: str, columns: Sequence[np.ndarray], axis: int) -> None:
    """An `Option` result for a batch of empty lists (an enclosing `List(f)`) would be a list
    of `none`s, which has no run-time form (a batch's lists all have one length, so either
    every one has an element or none has): such a call is refused."""
    if axis > 0 and columns[0].shape[axis] == 0 and columns[0].size == 0:
        raise CatRuntimeError(
            "R0420",
            f"`{name}` of a batch of empty lists (shape {columns[0].shape}) would give a list "
            "of `none`s, which has no run-time form",
            help=f"apply `{name}` to one list at a time",
        )


def placed(columns: Sequence[np.ndarray], axis: int, index: int, dy: object) -> tuple:
    """The cotangent of a list from the cotangent `dy` of its element at `index`."""
    parts = dy if isinstance(dy, tuple) else (dy,)
    grads: list[np.ndarray | None] = []
    for column, d in zip(columns, parts, strict=True):
        if d is None or not np.issubdtype(column.dtype, np.floating):
            grads.append(None)
            continue
        grad = np.zeros_like(column)
        index_at: list[slice | int] = [slice(None)] * column.ndim
        index_at[axis] = index
        grad[tuple(index_at)] = d
        grads.append(grad)
    return tuple(grads)


def pick(name: str, in_ranks: tuple[int, ...], columns: Sequence, index_of: Callable) -> tuple:
    """The outputs and residual of `first` / `last`: the element at `index_of(length)`, or
    None for the empty list; the residual keeps what the VJP needs (None for `none`)."""
    arrays = tuple(np.asarray(c) for c in columns)
    axis = list_axis(arrays, in_ranks[0] if in_ranks else 1)
    n = length(arrays, axis)
    if n == 0:
        unbatched(name, arrays, axis)
        return (None,), None
    index = index_of(n)
    return (element(arrays, axis, index),), (arrays, axis, index)


def pull(residual: object, dy: object) -> tuple:
    """The VJP of `first` / `last`: the element's cotangent put back at its position."""
    if residual is None or dy is None:
        return (None,)
    assert isinstance(residual, tuple), "the forward pass keeps the columns, axis and index"
    columns, axis, index = residual
    return placed(columns, axis, index, dy)
