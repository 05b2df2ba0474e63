"""`concatenate(n, axis)` of `std.ml`: n arrays joined along one axis, in order.

The axis is counted from the end of the values (`axis = -1`, the default, is the last; −2 the
one before), so the signature holds for every batch prefix: `Real[*s, w0, t…] * … ->
Real[*s, w0 + … + w(n−1), t…]`, the widths adding up symbolically and the axes after `axis`
unified across the inputs. The VJP cuts the cotangent back into the inputs' widths.
`concat_heads(n)` of `std.attention` is the case `axis = -1`. Inputs whose other axes differ at
run time are R0434.

| code  | raised when |
| ----- | ----------- |
| R0434 | operands of `concatenate`, `split`, `transpose` or `matmul` do not fit along their axes |
"""

from __future__ import annotations

from typing import Any

import numpy as np

from catdsl.errors import CatRuntimeError
from catdsl.semantics.kernel import Cotangents, Forward, Kernel
from catdsl.std import statics
from catdsl.std.kernels import positive_int
from catdsl.std.signatures import concat_axis
from catdsl.typesys.primitives import PrimSpec

VALIDATE = statics.axis("axis")


def shape_error(kernel: str, detail: str) -> CatRuntimeError:
    """R0434: operands that do not fit along their axes."""
    return CatRuntimeError("R0434", f"shape mismatch in `{kernel}`: {detail}")


def check_axis(kernel: str, x: np.ndarray, axis: int) -> None:
    """Raise R0306 unless `x` has the axis `axis` (counted from the end)."""
    if x.ndim < -axis:
        raise CatRuntimeError(
            "R0306", f"`{kernel}` works on axis {axis}, but its input has shape {x.shape}"
        )


class Concat(Kernel):
    """`concatenate(n, axis)`: `np.concatenate` along `axis`; the residual keeps the widths."""

    name = "concatenate"

    def __init__(self, in_ranks: tuple[int, ...] = (), *, n: int, axis: int) -> None:
        super().__init__(in_ranks)
        statics.enforce(self.name, VALIDATE, axis=axis)
        self.n_in = positive_int(self.name, "n", n)
        self.differentiable = (True,) * self.n_in
        self.axis = int(axis)

    def forward(self, *xs: np.ndarray) -> Forward:
        for x in xs:
            check_axis(self.name, x, self.axis)
        others = {x.shape[: x.ndim + self.axis] + x.shape[x.ndim + self.axis + 1 :] for x in xs}
        if len({x.ndim for x in xs}) != 1 or len(others) != 1:
            shapes = ", ".join(str(x.shape) for x in xs)
            raise shape_error(self.name, f"inputs of shapes {shapes} differ off axis {self.axis}")
        widths = [x.shape[self.axis] for x in xs]
        return (np.concatenate(xs, axis=self.axis),), widths

    def vjp(self, residual: Any, dy: np.ndarray) -> Cotangents:
        return tuple(np.split(dy, np.cumsum(residual)[:-1], axis=self.axis))


SPEC = PrimSpec(
    "concatenate",
    "std.ml",
    (),
    ("n", "axis"),
    concat_axis,
    "n arrays joined along `axis` (from the end)",
    defaults={"n": 2, "axis": -1},
    count="n",
    kernel=Concat,
    validate=VALIDATE,
    axis_names=("axis",),
)
