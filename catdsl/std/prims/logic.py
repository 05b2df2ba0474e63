"""The truth values of `std.logic`: `and`, `or`, `not`, `implies` entry by entry on `Bool`,
and `all` / `any` over a list of them (the folds of `and` from `true` and of `or` from
`false`, so `all` of `[]` is true and `any` of `[]` false).

Truth values are discrete: no cotangent flows through these kernels.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from catdsl.semantics.kernel import Cotangents, Forward, Kernel
from catdsl.std.signatures import logic_binary, logic_unary, quantifier
from catdsl.typesys.primitives import NoGradient, PrimSpec


class _Logic(Kernel):
    """A kernel on truth values: the function `op` of its operands, no cotangent."""

    op: Callable[..., Any] = staticmethod(np.logical_and)
    differentiable: tuple[bool, ...] = (False, False)

    def forward(self, *xs: np.ndarray) -> Forward:
        return (np.asarray(type(self).op(*(np.asarray(x, dtype=bool) for x in xs))),), len(xs)

    def vjp(self, residual: Any, dy: Any) -> Cotangents:
        return (None,) * residual


class And(_Logic):
    name, n_in = "and", 2
    op = staticmethod(np.logical_and)


class Or(_Logic):
    name, n_in = "or", 2
    op = staticmethod(np.logical_or)


class Not(_Logic):
    name, n_in = "not", 1
    differentiable = (False,)
    op = staticmethod(np.logical_not)


class Implies(_Logic):
    name, n_in = "implies", 2
    op = staticmethod(lambda a, b: np.logical_or(np.logical_not(a), b))


class _Quantifier(_Logic):
    """`all` / `any` along the list axis (the last: a list of truth values is a vector)."""

    n_in = 1
    differentiable = (False,)

    def forward(self, *xs: np.ndarray) -> Forward:
        (x,) = xs
        return (np.asarray(type(self).op(np.asarray(x, dtype=bool), axis=-1)),), 1


class All(_Quantifier):
    name = "all"
    op = staticmethod(np.all)


class Any_(_Quantifier):
    name = "any"
    op = staticmethod(np.any)


def _spec(name: str, build: Callable, doc: str, kernel: type[Kernel]) -> PrimSpec:
    return PrimSpec(
        name, "std.logic", (), (), build, doc, kernel=kernel, no_gradient=NoGradient.DISCRETE
    )


SPECS = (
    _spec("and", logic_binary, "`a ∧ b`", And),
    _spec("or", logic_binary, "`a ∨ b`", Or),
    _spec("not", logic_unary, "`¬a`", Not),
    _spec("implies", logic_binary, "`a ⇒ b`, false only for true ⇒ false", Implies),
    _spec("all", quantifier, "every element is true (`all` of `[]` is true)", All),
    _spec("any", quantifier, "some element is true (`any` of `[]` is false)", Any_),
)
