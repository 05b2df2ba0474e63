"""`exp` of `std.ml`: e^x entry by entry; its derivative is itself."""

from __future__ import annotations

from typing import Any

import numpy as np

from catdsl.semantics.kernel import Cotangents, Forward, Kernel
from catdsl.std.signatures import elementwise
from catdsl.typesys.primitives import PrimSpec


class Exp(Kernel):
    """`exp`: e^x; the residual is the output, which is also the derivative."""

    name = "exp"

    def forward(self, x: np.ndarray) -> Forward:
        y = np.exp(x)
        return (y,), y

    def vjp(self, residual: Any, dy: np.ndarray) -> Cotangents:
        return (dy * residual,)


SPEC = PrimSpec("exp", "std.ml", (), (), elementwise, "`eˣ`", kernel=Exp)
