"""`fold(op, unit)` of `std.lists`: a list folded from the left by a morphism, from a unit.

`fold(op, unit) : List[a] -> b` for any morphism `op : b * a -> b` and point `unit : Unit -> b`
(both morphism arguments: `and`, `add`, a program's own morphism, `true`, a `data` point, or a
whole number read as the kind `b` needs): `[x1, …, xn]` gives
`op(… op(op(unit, x1), x2) …, xn)`, and `[]` gives `unit`. With `op : a * a -> a` associative
and `unit` its unit, this is the monoid's product of the list (`fold(and, true)` is `all`).

The VJP runs back through the n applications of `op`, each pulled back on its own tape: the
cotangent of the accumulator flows from the last application to the first, and each element
gets the cotangent of its own application. Nothing flows back to `unit` (a morphism argument
has no params). A list inside `List(f)` is folded for every list of the batch at once. The
element `a` and the accumulator `b` are one wire each: a list of pairs (`zip`'s) is mapped
to one wire first (`List(mul) >> fold(add, 0)` for a dot product).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

import numpy as np

from catdsl.semantics.kernel import Cotangents, Forward, Kernel, Morphism
from catdsl.std.prims import _lists
from catdsl.typesys.primitives import FreshVars, PrimSig, PrimSpec
from catdsl.typesys.types import UNIT, Carrier, Prod


def signature(_static: Mapping[str, object]) -> PrimSig:
    """`List[a] -> b`, with `op : b * a -> b` and `unit : Unit -> b`."""
    v = FreshVars()
    a, b = v.atom("a"), v.atom("b")
    return PrimSig(
        (),
        Prod((Carrier("List", elem=Prod((a,))),)),
        Prod((b,)),
        morphisms=((Prod((b, a)), Prod((b,))), (UNIT, Prod((b,)))),
    )


class Fold(Kernel):
    """`fold(op, unit)`: `op` applied along the list axis from `unit`, each application taped."""

    name = "fold"

    def forward(self, *xs: Any) -> Forward:
        op, unit = cast(Morphism, xs[0]), cast(Morphism, xs[1])  # the morphism arguments
        columns = xs[2:]
        arrays = tuple(np.asarray(c) for c in columns)
        axis = _lists.list_axis(arrays, self.in_ranks[0] if self.in_ranks else 1)
        batch = arrays[0].shape[:axis]
        start, _ = unit.forward()
        acc = tuple(np.broadcast_to(u, batch + np.shape(u)) for u in map(np.asarray, start))
        tapes = []
        for i in range(_lists.length(arrays, axis)):
            element = tuple(np.take(c, i, axis=axis) for c in arrays)
            acc, tape = op.forward(*acc, *element)
            tapes.append(tape)
        return tuple(acc), (op, arrays, axis, tapes)

    def vjp(self, residual: Any, *dys: Any) -> Cotangents:
        op, arrays, axis, tapes = residual
        grads = [np.zeros_like(c) if np.issubdtype(c.dtype, np.floating) else None for c in arrays]
        d_acc: tuple = dys
        for i in reversed(range(len(tapes))):
            if all(d is None for d in d_acc):
                break  # nothing flows further back
            cots = op.vjp(tapes[i], *d_acc)
            d_acc = tuple(cots[: len(dys)])
            for grad, d in zip(grads, cots[len(dys) :], strict=True):
                if grad is not None and d is not None:
                    at: list[slice | int] = [slice(None)] * grad.ndim
                    at[axis] = i
                    grad[tuple(at)] = d
        return tuple(grads)


SPEC = PrimSpec(
    "fold",
    "std.lists",
    (),
    (),
    signature,
    "`op` from `unit` along the list, from the left (`unit` for `[]`)",
    kernel=Fold,
    morphism_names=("op", "unit"),
)
