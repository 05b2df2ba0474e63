"""Laws: two morphism expressions claimed equal, checked to have one type."""

from __future__ import annotations

from catdsl.syntax import ast
from catdsl.typesys import messages as M
from catdsl.typesys.boundary import finish
from catdsl.typesys.expressions import ExpressionChecker
from catdsl.typesys.program import Law
from catdsl.typesys.reporting import Failed, Reporter
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
        return Law(decl.name, finish(lhs, subst), finish(rhs, subst), decl.tolerance, decl.span)
