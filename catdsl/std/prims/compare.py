"""The comparisons of `std.logic`: `le`, `lt`, `ge`, `gt` of two ordered values (reals,
whole numbers, indices: the elements of a finite ordered object compare by their position)
and `eq` (those and truth values and symbols), each a `Bool`; `join` and `meet`, the larger
and the smaller of two ordered values, keep the values' object (`join(Feature, Decision)`
is a `Level`).

Comparisons are discrete: no cotangent flows back through them to a real input, and training
through one is refused by the checker.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from catdsl.semantics.kernel import Cotangents, Forward, Kernel
from catdsl.std.signatures import comparison, equality, lattice
from catdsl.typesys.primitives import NoGradient, PrimSpec


class _Compare(Kernel):
    """`op(a, b)` of two single values, a truth value; no cotangent."""

    n_in = 2
    differentiable = (False, False)
    op: Callable[..., Any] = staticmethod(np.less_equal)

    def forward(self, a: np.ndarray, b: np.ndarray) -> Forward:
        return (np.asarray(type(self).op(np.asarray(a), np.asarray(b))),), None

    def vjp(self, residual: Any, dy: Any) -> Cotangents:
        return (None, None)


class Le(_Compare):
    name = "le"
    op = staticmethod(np.less_equal)


class Lt(_Compare):
    name = "lt"
    op = staticmethod(np.less)


class Ge(_Compare):
    name = "ge"
    op = staticmethod(np.greater_equal)


class Gt(_Compare):
    name = "gt"
    op = staticmethod(np.greater)


class Eq(_Compare):
    name = "eq"
    op = staticmethod(np.equal)


class _Lattice(Kernel):
    """The larger (`join`) or smaller (`meet`) of two ordered values; a real one passes its
    cotangent to the operand it chose (the first on a tie)."""

    n_in = 2
    differentiable = (True, True)
    first: Callable[..., Any] = staticmethod(np.greater_equal)

    def forward(self, a: np.ndarray, b: np.ndarray) -> Forward:
        a, b = np.asarray(a), np.asarray(b)
        chosen = np.asarray(type(self).first(a, b))
        return (np.where(chosen, a, b),), chosen

    def vjp(self, residual: Any, dy: Any) -> Cotangents:
        if dy is None:
            return (None, None)
        zero = np.zeros_like(dy)
        return np.where(residual, dy, zero), np.where(residual, zero, dy)


class Join(_Lattice):
    name = "join"
    first = staticmethod(np.greater_equal)


class Meet(_Lattice):
    name = "meet"
    first = staticmethod(np.less_equal)


def _spec(name: str, build: Callable, doc: str, kernel: type[Kernel], discrete: bool) -> PrimSpec:
    no_gradient = NoGradient.DISCRETE if discrete else None
    return PrimSpec(name, "std.logic", (), (), build, doc, kernel=kernel, no_gradient=no_gradient)


SPECS = (
    _spec("le", comparison, "`a ≤ b`", Le, True),
    _spec("lt", comparison, "`a < b`", Lt, True),
    _spec("ge", comparison, "`a ≥ b`", Ge, True),
    _spec("gt", comparison, "`a > b`", Gt, True),
    _spec("eq", equality, "`a = b` (reals exactly)", Eq, True),
    _spec("join", lattice, "the larger, `a ∨ b` of an order", Join, False),
    _spec("meet", lattice, "the smaller, `a ∧ b` of an order", Meet, False),
)
