"""`softplus` of `std.ml`: ln(1 + e^x), a smooth relu.

Computed as max(x, 0) + ln(1 + e^−|x|), which neither overflows for large x (it is x there) nor
loses the tiny positive value for very negative x. The derivative is σ(x). PyTorch's
`F.softplus` switches to x above x = 20 (an error of ~2e-9 there); this is the exact function.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from catdsl.semantics.kernel import Cotangents, Forward, Kernel
from catdsl.std.prims.silu import logistic
from catdsl.std.signatures import elementwise
from catdsl.typesys.primitives import PrimSpec


class Softplus(Kernel):
    """`softplus`: ln(1 + e^x) entry by entry, stable for large |x|."""

    name = "softplus"

    def forward(self, x: np.ndarray) -> Forward:
        x = np.asarray(x)
        return (np.maximum(x, 0) + np.log1p(np.exp(-np.abs(x))),), x

    def vjp(self, residual: Any, dy: np.ndarray) -> Cotangents:
        return (dy * logistic(residual),)


SPEC = PrimSpec(
    "softplus", "std.ml", (), (), elementwise, "`ln(1 + eˣ)`, stable at both ends", kernel=Softplus
)
