"""Wiring blocks: named wires, desugared to copies, discards and pairings."""

from __future__ import annotations

from collections.abc import Mapping

from catdsl.syntax import ast
from catdsl.typesys import messages as M
from catdsl.typesys import terms as T
from catdsl.typesys.boundary import finish
from catdsl.typesys.environment import MORPHISM_KINDS, Environment
from catdsl.typesys.expressions import ExpressionChecker
from catdsl.typesys.hints import did_you_mean
from catdsl.typesys.primitives import PrimSpec
from catdsl.typesys.program import Definition
from catdsl.typesys.reporting import Reporter
from catdsl.typesys.reserved import FUNCTORS
from catdsl.typesys.type_reader import TypeReader
from catdsl.typesys.types import Port, Prod, prod
from catdsl.typesys.unify import Mismatch, Subst

Step = tuple[tuple[str, ...], T.Term, tuple[str, ...]]
"""One step of a block: the wires it binds, the morphism, the wires it is applied to."""


class WiringChecker:
    """Checks `let f(x: A, y: B) -> C = { ... }` blocks."""

    def __init__(
        self,
        env: Environment,
        reporter: Reporter,
        types: TypeReader,
        expressions: ExpressionChecker,
        primitives: Mapping[str, PrimSpec],
    ) -> None:
        self.env = env
        self.reporter = reporter
        self.types = types
        self.expressions = expressions
        self.primitives = primitives

    def check(self, decl: ast.WiringDecl) -> Definition:
        block = _Block(self, Subst())
        for inp in decl.inputs:
            if inp.name in block.wires:
                raise self.reporter.fail(M.input_named_twice(inp.name), inp.span)
            block.wires[inp.name] = self.types.type(inp.type)
        cod = self.types.type(decl.cod)
        for stmt in decl.statements:
            if stmt.name in block.wires:
                raise self.reporter.fail(M.wire_bound_twice(stmt.name), stmt.span)
            block.wire(stmt.value, stmt.name)
        result = block.wire(decl.result, None)
        found = prod(*(block.wires[n] for n in result))
        dom = prod(*(block.wires[i.name] for i in decl.inputs))
        subst = block.subst
        try:
            subst.unify_prod(cod, found, nominal_entry=True)
        except Mismatch as err:
            message = M.wiring_returns(decl.name, cod, found, err)
            raise self.reporter.fail(message, decl.result.span) from None
        body = T.Wiring(
            dom,
            cod,
            decl.span,
            inputs=tuple(i.name for i in decl.inputs),
            steps=tuple(block.steps),
            result=result,
            ports=tuple(block.ports),
        )
        term = T.Ref(
            dom, cod, decl.span, name=decl.name, body=body, kind="wiring", ports=body.ports
        )
        return Definition(decl.name, "wiring", finish(term, subst), decl.span, decl.span.file)

    def applies_to_wires(self, call: ast.Call, wires: Mapping[str, Prod]) -> bool:
        """`f(x, y)` applies f to wires, unless f is a family, a functor, or a primitive given
        its own arguments (`affine(W, b)` is a morphism; `relu(x)` is relu applied to x)."""
        func = call.func
        if not isinstance(func, ast.Name) or self.env.lookup(func.name) is not None:
            return True
        if func.name in self.env.families or func.name in FUNCTORS:
            return False
        if func.name in self.primitives:
            return all(
                a.name is None
                and isinstance(a.value, ast.Name | ast.Call | ast.Pairing)
                and not (
                    isinstance(a.value, ast.Name)
                    and a.value.name not in wires
                    and self.env.lookup(a.value.name) is not None  # (unknown: a misspelt wire)
                    and not self.is_point(a.value.name)
                )
                for a in call.args
            )
        return True

    def is_point(self, name: str) -> bool:
        """Whether `name` is a closed point (a `data` declaration), usable as a value."""
        return self.env.kind(name) == "data"

    def is_morphism_name(self, name: str) -> bool:
        kind = self.env.kind(name)
        return kind in MORPHISM_KINDS or (name in self.primitives and kind is None)


class _Block:
    """The wires of one block being checked, and the steps that bind them."""

    def __init__(self, checker: WiringChecker, subst: Subst) -> None:
        self.checker = checker
        self.reporter = checker.reporter
        self.expressions = checker.expressions
        self.subst = subst
        self.wires: dict[str, Prod] = {}
        self.steps: list[Step] = []
        self.ports: list[Port] = []
        self.counter = 0

    def _bind(self, target: str | None, term: T.Term, args: tuple[str, ...]) -> tuple[str, ...]:
        name = target or f"_w{self.counter}"
        self.counter += 1
        self.wires[name] = term.cod
        self.steps.append(((name,), term, args))
        return (name,)

    def wire(self, expr: ast.Expr, target: str | None) -> tuple[str, ...]:
        """The wires an expression of the block gives, binding a new one to `target`."""
        if isinstance(expr, ast.Name) and expr.name in self.wires:
            return (expr.name,)
        if isinstance(expr, ast.Pairing):
            return tuple(n for part in expr.parts for n in self.wire(part, None))
        if isinstance(expr, ast.Call) and self.checker.applies_to_wires(expr, self.wires):
            args = tuple(n for a in expr.args for n in self.wire(a.value, None))
            fn = self.expressions.check(expr.func, self.subst)
            found = prod(*(self.wires[a] for a in args))
            try:
                self.subst.unify_prod(fn.dom, found)
            except Mismatch as err:
                name = self.expressions.text(expr.func)
                message = M.applied_to_wrong_wires(name, fn.dom, found, err)
                raise self.reporter.fail(message, expr.span) from None
            self.expressions.merge_ports(self.ports, fn.ports, expr.span)
            return self._bind(target, fn, args)
        if isinstance(expr, ast.Name) and self.checker.is_point(expr.name):
            return self._point(expr, target)
        if isinstance(expr, ast.Name) and self.checker.is_morphism_name(expr.name):
            raise self.reporter.fail(M.bare_morphism_in_wiring(expr.name), expr.span)
        if isinstance(expr, ast.Name):
            hint = did_you_mean(expr.name, self.wires)
            raise self.reporter.fail(M.unknown_wire(expr.name, hint), expr.span)
        return self._point(expr, target)

    def _point(self, expr: ast.Expr, target: str | None) -> tuple[str, ...]:
        """A closed morphism expression used as a value (a `data` point, `bias >> f`): a
        point `Unit -> A`."""
        fn = self.expressions.check(expr, self.subst)
        if fn.dom.atoms:
            raise self.reporter.fail(M.morphism_as_value(), expr.span)
        self.expressions.merge_ports(self.ports, fn.ports, expr.span)
        return self._bind(target, fn, ())
