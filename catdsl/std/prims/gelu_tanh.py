"""`gelu_tanh`, the tanh approximation of `gelu` (PyTorch's `gelu(approximate="tanh")`).

gelu_tanh(x) = x·(1 + tanh(u))/2 with u = √(2/π)·(x + 0.044715·x³); its derivative is
(1 + t)/2 + x·(1 − t²)·√(2/π)·(1 + 3·0.044715·x²)/2 with t = tanh(u). The exact form is `gelu`.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from catdsl.semantics.kernel import Cotangents, Forward, Kernel
from catdsl.std.signatures import elementwise
from catdsl.typesys.primitives import PrimSpec

_C = math.sqrt(2 / math.pi)
_K = 0.044715


class GeluTanh(Kernel):
    """`gelu_tanh`: the tanh-approximated GELU; the residual keeps x and tanh(u)."""

    name = "gelu_tanh"

    def forward(self, x: np.ndarray) -> Forward:
        x = np.asarray(x)
        t = np.tanh(_C * (x + _K * x * x * x))
        return (0.5 * x * (1 + t),), (x, t)

    def vjp(self, residual: Any, dy: np.ndarray) -> Cotangents:
        x, t = residual
        du = _C * (1 + 3 * _K * x * x)
        return (dy * (0.5 * (1 + t) + 0.5 * x * (1 - t * t) * du),)


SPEC = PrimSpec(
    "gelu_tanh",
    "std.ml",
    (),
    (),
    elementwise,
    "`gelu`'s tanh approximation `x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))/2`",
    kernel=GeluTanh,
)
