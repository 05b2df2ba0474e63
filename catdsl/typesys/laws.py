"""Laws: two morphism expressions claimed equal, checked to have one type."""

from __future__ import annotations

from dataclasses import replace

from catdsl.syntax import ast
from catdsl.typesys import messages as M
from catdsl.typesys.boundary import finish
from catdsl.typesys.carriers import DtypeClass
from catdsl.typesys.expressions import ExpressionChecker
from catdsl.typesys.program import Law
from catdsl.typesys.reporting import Failed, Reporter
from catdsl.typesys.types import Atom, Carrier, carrier_of
from catdsl.typesys.unify import Mismatch, Subst


class LawChecker:
    """Checks `law name : lhs == rhs` declarations."""

    def __init__(self, reporter: Reporter, expressions: ExpressionChecker) -> None:
        self.reporter = reporter
        self.expressions = expressions

    def check(self, decl: ast.LawDecl) -> Law | None:
        """The typed law, or None when it does not check (the reason is reported)."""
        try:
            subst = Subst()
            lhs = self.expressions.check(decl.lhs, subst)
            rhs = self.expressions.check(decl.rhs, subst)
        except Failed:
            return None
        try:
            subst.unify_prod(lhs.dom, rhs.dom)
            subst.unify_prod(rhs.cod, lhs.cod)
        except Mismatch:
            left = f"{subst.prod(lhs.dom)} -> {subst.prod(lhs.cod)}"
            right = f"{subst.prod(rhs.dom)} -> {subst.prod(rhs.cod)}"
            self.reporter.error(M.law_sides(decl.name, left, right, decl.lhs.span), decl.rhs.span)
            return None
        if decl.tolerance is not None and decl.tolerance < 0:
            self.reporter.error(M.law_tolerance(), decl.span)
            return None
        law = Law(decl.name, finish(lhs, subst), finish(rhs, subst), decl.tolerance, decl.span)
        if decl.over is not None:
            problem = range_problem(law, decl.over)
            if problem is not None:
                self.reporter.error(M.law_range(decl.name, decl.over, problem), decl.span)
                return None
            law = replace(law, over=decl.over)
        return law


MAX_RANGE_INPUTS = 1_000_000
"""A law over a range is checked at every input at once; this many inputs at most."""


def range_problem(law: Law, over: tuple[int, int]) -> str | None:
    """Why `law … over [lo, hi]` cannot be checked at every input, or None."""
    lo, hi = over
    if lo > hi:
        return f"the range is empty ({lo} is above {hi})"
    if law.lhs.ports or law.rhs.ports:
        return "a law with ports has inputs that are not in the range"
    count = 1
    for atom in law.lhs.dom.atoms:
        size = range_size(atom, over)
        if size is None:
            return f"its input `{atom}` is not a whole number, a truth value or an index"
        count *= size
    if count > MAX_RANGE_INPUTS:
        return f"that is {count:,} inputs, more than {MAX_RANGE_INPUTS:,}"
    return None


def range_size(atom: Atom, over: tuple[int, int]) -> int | None:
    """How many values one input takes in a law over `over`: a whole number every value of the
    range, a truth value or an `Index[n]` all of its own; None for any other input."""
    carrier = carrier_of(atom)
    if not isinstance(carrier, Carrier) or carrier.shape.dims or carrier.shape.rest:
        return None
    if carrier.kind == "Bool":
        return 2
    if carrier.kind == "Index" and carrier.bound is not None and carrier.bound.value is not None:
        return carrier.bound.value
    if carrier.spec.dtype is DtypeClass.INTEGER:
        return over[1] - over[0] + 1
    return None
