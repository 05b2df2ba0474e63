"""`silu`, the sigmoid linear unit of `std.ml` (also called swish): x·σ(x).

σ is computed from e^−|x| so no exponential overflows; the derivative is σ(x)·(1 + x·(1 − σ(x))).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from catdsl.semantics.kernel import Cotangents, Forward, Kernel
from catdsl.std.signatures import elementwise
from catdsl.typesys.primitives import PrimSpec


def logistic(x: np.ndarray) -> np.ndarray:
    """σ(x) = 1 / (1 + e^−x) without overflow, in the dtype of x."""
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e))


class Silu(Kernel):
    """`silu`: x·σ(x) entry by entry; the residual keeps x and σ(x)."""

    name = "silu"

    def forward(self, x: np.ndarray) -> Forward:
        x = np.asarray(x)
        sig = logistic(x)
        return (x * sig,), (x, sig)

    def vjp(self, residual: Any, dy: np.ndarray) -> Cotangents:
        x, sig = residual
        return (dy * (sig * (1 + x * (1 - sig))),)


SPEC = PrimSpec("silu", "std.ml", (), (), elementwise, "`x·σ(x)` (swish)", kernel=Silu)
