"""`log` of `std.ml`: the natural logarithm entry by entry, defined for positive entries only.

An entry ≤ 0 (−∞ included) is refused at run time with R0430, naming the primitive and the
entry, at the box in the source: the logarithm has no real value there, and returning −∞ or
NaN would only surface later, far from its cause. A NaN entry passes through as NaN, as in
every kernel (a checked run names the box that made it). The derivative is 1/x.

| code  | raised when |
| ----- | ----------- |
| R0430 | an entry lies outside the primitive's domain (`log` and `sqrt` of an entry ≤ 0) |
"""

from __future__ import annotations

from typing import Any

import numpy as np

from catdsl.errors import CatRuntimeError
from catdsl.semantics.kernel import Cotangents, Forward, Kernel
from catdsl.std.signatures import elementwise
from catdsl.typesys.primitives import PrimSpec


def check_positive(kernel: str, x: np.ndarray, remedy: str) -> None:
    """Raise R0430 at the first entry of `x` that is ≤ 0."""
    bad = x <= 0
    if bad.any():
        where = np.unravel_index(int(np.argmax(bad)), np.shape(x))
        value = float(np.asarray(x)[where])
        at = f"the entry at [{', '.join(map(str, where))}]" if where else "the input"
        raise CatRuntimeError(
            "R0430",
            f"`{kernel}` is defined for positive entries only, but {at} is {value:.6g}",
            help=remedy,
        )


class Log(Kernel):
    """`log`: ln x for x > 0; the residual is x, for the derivative 1/x."""

    name = "log"

    def forward(self, x: np.ndarray) -> Forward:
        x = np.asarray(x)
        check_positive(
            self.name,
            x,
            "keep its input positive: e.g. `softplus` or `exp` before `log`, or "
            "`clip(lo = 1e-12)` for values that may reach 0",
        )
        return (np.log(x),), x

    def vjp(self, residual: Any, dy: np.ndarray) -> Cotangents:
        return (dy / residual,)


SPEC = PrimSpec(
    "log", "std.ml", (), (), elementwise, "`ln x`, for x > 0 (R0430 otherwise)", kernel=Log
)
