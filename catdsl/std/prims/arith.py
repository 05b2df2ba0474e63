"""Arithmetic of `std.ml` beyond `add` and `mul`: `sub`, `min`, `max` on reals and whole
numbers, and `ceil_div` on whole numbers.

Each is typed on several carrier kinds by its signature (`a * a -> a` with `a` a `Real`, `Nat`
or `Int` carrier) and told which one a use has (the static `kind`): `sub` refuses a result
below zero on `Nat` (R0421, naming both values), `ceil_div` refuses a zero divisor (R0422).
On reals `sub`, `min` and `max` have VJPs (`min` and `max` send the cotangent to the operand
they chose, the first on a tie); whole numbers carry no cotangent.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from catdsl.errors import CatRuntimeError
from catdsl.semantics.kernel import Cotangents, Forward
from catdsl.std.kernels import Binary
from catdsl.std.signatures import numeric_binary, whole_binary
from catdsl.typesys.primitives import NoGradient, PrimSpec


class _Typed(Binary):
    """An elementwise binary kernel told the carrier kind of its operands."""

    def __init__(self, in_ranks: tuple[int, ...] = (), *, kind: str = "Real") -> None:
        super().__init__(in_ranks)
        self.kind = kind


class Sub(_Typed):
    """`sub`: a − b; on `Nat`, a result below zero is an error naming the operands."""

    name = "sub"

    def forward(self, a: np.ndarray, b: np.ndarray) -> Forward:
        la, lb = self.aligned(a, b)
        out = la - lb
        if self.kind == "Nat" and np.size(out) and (out < 0).any():
            at = np.unravel_index(int(np.argmin(out)), np.shape(out))
            x, y = np.broadcast_to(la, np.shape(out))[at], np.broadcast_to(lb, np.shape(out))[at]
            raise CatRuntimeError(
                "R0421",
                f"`sub` of the natural numbers {x} and {y} would be {x - y}, below zero",
                help="subtract a smaller number, or compute on `Int`",
            )
        return (out,), (a, b, la, lb)

    def vjp(self, residual: Any, dy: np.ndarray) -> Cotangents:
        a, b, la, lb = residual
        return self.reduce(dy, a, la), self.reduce(-dy, b, lb)


class _Choice(_Typed):
    """`min` / `max`: the chosen operand entry by entry; its cotangent goes where it came from."""

    pick_first: Any = None  # a ≤ b for min, a ≥ b for max: where the first operand is chosen

    def forward(self, a: np.ndarray, b: np.ndarray) -> Forward:
        la, lb = self.aligned(a, b)
        first = type(self).pick_first(la, lb)
        return (np.where(first, la, lb),), (a, b, la, lb, first)

    def vjp(self, residual: Any, dy: np.ndarray) -> Cotangents:
        a, b, la, lb, first = residual
        zero = np.zeros_like(dy)
        da = np.broadcast_to(np.where(first, dy, zero), np.broadcast_shapes(la.shape, dy.shape))
        db = np.broadcast_to(np.where(first, zero, dy), np.broadcast_shapes(lb.shape, dy.shape))
        return self.reduce(da, a, la), self.reduce(db, b, lb)


class Min(_Choice):
    """`min`: the smaller operand, the first on a tie."""

    name = "min"
    pick_first = staticmethod(np.less_equal)


class Max(_Choice):
    """`max`: the larger operand, the first on a tie."""

    name = "max"
    pick_first = staticmethod(np.greater_equal)


class CeilDiv(_Typed):
    """`ceil_div`: ⌈a / b⌉ in whole numbers, exactly (no floating point); b = 0 is an error."""

    name = "ceil_div"
    differentiable = (False, False)

    def forward(self, a: np.ndarray, b: np.ndarray) -> Forward:
        la, lb = self.aligned(a, b)
        if np.size(lb) and (np.asarray(lb) == 0).any():
            raise CatRuntimeError(
                "R0422",
                f"`ceil_div` of {_first_zero(la, lb)} by 0",
                help="divide by a positive number (a `where value > 0` object ensures it)",
            )
        return (-np.floor_divide(-la, lb),), None

    def vjp(self, residual: Any, dy: np.ndarray) -> Cotangents:
        return (None, None)


def _first_zero(a: np.ndarray, b: np.ndarray) -> object:
    """The dividend of the first division by zero."""
    shape = np.broadcast_shapes(np.shape(a), np.shape(b))
    at = np.unravel_index(int(np.argmax(np.broadcast_to(b, shape) == 0)), shape)
    return np.broadcast_to(a, shape)[at]


SPECS = (
    PrimSpec(
        "sub",
        "std.ml",
        (),
        (),
        numeric_binary,
        "`a − b`, elementwise; below zero on `Nat` is an error",
        kernel=Sub,
        typed_by_kind=True,
    ),
    PrimSpec(
        "min",
        "std.ml",
        (),
        (),
        numeric_binary,
        "the smaller, elementwise",
        kernel=Min,
        typed_by_kind=True,
    ),
    PrimSpec(
        "max",
        "std.ml",
        (),
        (),
        numeric_binary,
        "the larger, elementwise",
        kernel=Max,
        typed_by_kind=True,
    ),
    PrimSpec(
        "ceil_div",
        "std.ml",
        (),
        (),
        whole_binary,
        "`⌈a / b⌉` of whole numbers; b = 0 is an error",
        kernel=CeilDiv,
        typed_by_kind=True,
        no_gradient=NoGradient.DISCRETE,
    ),
)
