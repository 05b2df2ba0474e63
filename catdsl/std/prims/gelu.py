"""`gelu`, the Gaussian error linear unit of `std.ml`: x·Φ(x), with Φ the standard normal CDF.

This is the exact form (PyTorch's `nn.GELU()` default, not its tanh approximation):
gelu(x) = x·(1 + erf(x/√2))/2, whose derivative is Φ(x) + x·φ(x), φ the normal density.
numpy has no vectorised erf, so the forward pass maps `math.erf` over the entries.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from catdsl.semantics.kernel import Cotangents, Forward, Kernel
from catdsl.std.signatures import elementwise
from catdsl.typesys.primitives import PrimSpec

_erf = np.frompyfunc(math.erf, 1, 1)
_INV_SQRT2 = 1 / math.sqrt(2)
_INV_SQRT_2PI = 1 / math.sqrt(2 * math.pi)


class Gelu(Kernel):
    """`gelu`: x·Φ(x) entry by entry; the residual keeps x and Φ(x) for the VJP."""

    name = "gelu"

    def forward(self, x: np.ndarray) -> Forward:
        x = np.asarray(x)
        cdf = 0.5 * (1 + np.asarray(_erf(x * _INV_SQRT2), dtype=x.dtype))
        return (x * cdf,), (x, cdf)

    def vjp(self, residual: Any, dy: np.ndarray) -> Cotangents:
        x, cdf = residual
        density = _INV_SQRT_2PI * np.exp(-0.5 * x * x)
        return (dy * (cdf + x * density),)


SPEC = PrimSpec(
    "gelu",
    "std.ml",
    (),
    (),
    elementwise,
    "`x·Φ(x)`, Φ the normal CDF",
    kernel=Gelu,
)
