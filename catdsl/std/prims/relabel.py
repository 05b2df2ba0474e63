"""`relabel(keys, labels)` of `std.lists`: a function between finite sets, given by its table.

`relabel(keys, labels) : a -> b` sends the value at position i of the list `keys` to the label
at position i of `labels` (two `data` lists of one length): `relabel(digits, names)` with
`digits = [2, 3]` and `names = ["Rust", "."]` sends 2 to "Rust" and 3 to ".". A value that is
not among the keys has no label (R0511). It is applied entry by entry to any batch axes in
front (an enclosing `List(f)` relabels every element). It only moves labels, so nothing
differentiates through it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from catdsl.errors import CatRuntimeError
from catdsl.semantics.kernel import Cotangents, Forward, Kernel
from catdsl.typesys.primitives import FreshVars, PrimSig, PrimSpec
from catdsl.typesys.types import Carrier, Prod


def relabel_signature(_static: Mapping[str, object]) -> PrimSig:
    """`a -> b` given `keys : List[a]` and `labels : List[b]`."""
    v = FreshVars()
    a, b = v.atom("a"), v.atom("b")
    keys, labels = Carrier("List", elem=Prod((a,))), Carrier("List", elem=Prod((b,)))
    return PrimSig((keys, labels), Prod((a,)), Prod((b,)))


class Relabel(Kernel):
    """`relabel`: each element of `x` (its trailing `in_ranks[0]` axes) looked up in `keys`."""

    name = "relabel"
    n_in = 3
    differentiable = (False, False, False)

    def forward(self, x: Any, keys: Any, labels: Any) -> Forward:
        x, keys, labels = np.asarray(x), np.asarray(keys), np.asarray(labels)
        rank = self.in_ranks[0] if self.in_ranks else 0
        if keys.shape[0] != labels.shape[0]:
            raise CatRuntimeError(
                "R0511",
                f"`relabel` has {keys.shape[0]} keys but {labels.shape[0]} labels",
                help="give one label per key: the two lists are the two columns of the table",
            )
        batch = x.shape[: x.ndim - rank]
        flat_x = x.reshape((-1, *x.shape[x.ndim - rank :]))
        flat_keys = keys.reshape((keys.shape[0], -1))
        rows = []
        for element in flat_x:
            hits = np.flatnonzero(np.all(flat_keys == element.reshape(1, -1), axis=1))
            if hits.size == 0:
                shown = element.tolist()
                raise CatRuntimeError(
                    "R0511",
                    f"`relabel` has no label for {shown!r}: it is not among its keys",
                    help="add the value to the keys, with its label at the same position",
                )
            rows.append(labels[hits[0]])
        out = np.stack(rows) if rows else np.empty((0, *labels.shape[1:]), dtype=labels.dtype)
        return (out.reshape((*batch, *labels.shape[1:])),), None

    def vjp(self, residual: Any, dy: Any) -> Cotangents:
        return (None, None, None)


SPEC = PrimSpec(
    "relabel",
    "std.lists",
    ("keys", "labels"),
    (),
    relabel_signature,
    "the label at the position of the input among `keys`: a function given by its table",
    kernel=Relabel,
)
