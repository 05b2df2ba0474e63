"""`matmul` of `std.ml`: the matrix product of two wires, batched,
`Real[*s, m, k] * Real[*s, k, n] -> Real[*s, m, n]` (the inner dims unified symbolically).

Leading axes broadcast as in numpy and PyTorch at run time: a batch of matrices times one
matrix (a `List(f)` whose second operand is a port, say) multiplies each; the VJP sums the
cotangent over the axes a side was broadcast along. For a matrix param use `linear(W)`, for a
vector `dot(v)`. Inner dims that differ at run time are R0434 (see `concatenate`).
The same signature types it on `Int` arrays (one kind for all three wires), where the product
is exact in 64-bit integers and no cotangent flows (whole numbers are not differentiated).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from catdsl.semantics.kernel import Cotangents, Forward, Kernel, unbroadcast
from catdsl.std.prims.concatenate import check_axis, shape_error
from catdsl.std.signatures import matmul
from catdsl.typesys.primitives import PrimSpec


class Matmul(Kernel):
    """`matmul`: a @ b over the last two axes, leading axes broadcast."""

    name = "matmul"
    n_in = 2
    differentiable = (True, True)

    def forward(self, a: np.ndarray, b: np.ndarray) -> Forward:
        a, b = np.asarray(a), np.asarray(b)
        check_axis(self.name, a, -2)
        check_axis(self.name, b, -2)
        if a.shape[-1] != b.shape[-2]:
            raise shape_error(
                self.name, f"{a.shape} @ {b.shape}: {a.shape[-1]} columns, {b.shape[-2]} rows"
            )
        try:
            np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
        except ValueError:
            raise shape_error(
                self.name, f"the batch axes of {a.shape} and {b.shape} do not broadcast"
            ) from None
        return (a @ b,), (a, b)

    def vjp(self, residual: Any, dy: np.ndarray) -> Cotangents:
        a, b = residual
        da = dy @ np.swapaxes(b, -1, -2)
        db = np.swapaxes(a, -1, -2) @ dy
        return unbroadcast(da, a.shape), unbroadcast(db, b.shape)


SPEC = PrimSpec(
    "matmul",
    "std.ml",
    (),
    (),
    matmul,
    "matrix product `a·b`, batched; exact on `Int`",
    kernel=Matmul,
)
