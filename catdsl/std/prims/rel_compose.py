"""`rel_compose` of `std.logic`: relations composed through a middle, the OR-AND product.

A relation between finite sets of n and m elements is an n × m matrix of truth values (row i,
column j: is i related to j). `rel_compose : Bool[*s, n, k] * Bool[*s, k, m] -> Bool[*s, n, m]`
relates i to j when some middle element relates to both, `∃ l. R[i, l] ∧ S[l, j]`: the
matrix product with `or` for + and `and` for ·, leading axes broadcast. A set of elements is
a row of truth values, so closing the second operand over a relation's matrix,
`Set * R >> rel_compose`, is the relation as a morphism from sets to sets, and `>>` of two
such morphisms is the composite relation. No gradient flows through truth values.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from catdsl.semantics.kernel import Cotangents, Forward, Kernel
from catdsl.std.prims.concatenate import check_axis, shape_error
from catdsl.std.signatures import Static
from catdsl.typesys.primitives import FreshVars, NoGradient, PrimSig, PrimSpec
from catdsl.typesys.types import Carrier, Prod, Shape


def relation_product(_static: Static) -> PrimSig:
    """`Bool[*s, n, k] * Bool[*s, k, m] -> Bool[*s, n, m]`."""
    v = FreshVars()
    s = v.rest()

    def rel(a: Any, b: Any) -> Carrier:
        return Carrier("Bool", Shape((a, b), s))

    return PrimSig((), Prod((rel(v.n, v.k), rel(v.k, v.m))), Prod((rel(v.n, v.m),)))


class RelCompose(Kernel):
    """`rel_compose`: (R ; S)[i, j] = any over l of R[i, l] and S[l, j]."""

    name = "rel_compose"
    n_in = 2
    differentiable = (False, False)

    def forward(self, r: np.ndarray, s: np.ndarray) -> Forward:
        r, s = np.asarray(r, dtype=bool), np.asarray(s, dtype=bool)
        check_axis(self.name, r, -2)
        check_axis(self.name, s, -2)
        if r.shape[-1] != s.shape[-2]:
            raise shape_error(
                self.name, f"{r.shape} ; {s.shape}: {r.shape[-1]} columns, {s.shape[-2]} rows"
            )
        try:
            np.broadcast_shapes(r.shape[:-2], s.shape[:-2])
        except ValueError:
            raise shape_error(
                self.name, f"the batch axes of {r.shape} and {s.shape} do not broadcast"
            ) from None
        # Counting the middles through an integer product is exact (no rounding).
        return ((r.astype(np.int64) @ s.astype(np.int64)) > 0,), None

    def vjp(self, residual: Any, dy: Any) -> Cotangents:
        return (None, None)


SPEC = PrimSpec(
    "rel_compose",
    "std.logic",
    (),
    (),
    relation_product,
    "`∃ l. R[i, l] ∧ S[l, j]`, relations composed through a middle",
    kernel=RelCompose,
    no_gradient=NoGradient.DISCRETE,
)
