"""Wiring blocks: named wires, desugared to copies, discards and pairings."""

from __future__ import annotations

from catdsl.std.signatures import PRIMITIVES
from catdsl.syntax import ast
from catdsl.typesys import terms as T
from catdsl.typesys.check_base import (
    FAMILIES,
    FUNCTORS,
    Failed,
    carrier_notes,
    expr_text,
)
from catdsl.typesys.hints import did_you_mean
from catdsl.typesys.program import Definition
from catdsl.typesys.types import (
    Port,
    Prod,
    prod,
)
from catdsl.typesys.unify import Mismatch, Subst


class WiringMixin:
    """Wiring blocks: named wires, desugared to copies, discards and pairings."""

    # ================================================================ wiring blocks
    def _decl_wiring(self, decl: ast.WiringDecl) -> Definition:
        subst = Subst()
        env: dict[str, Prod] = {}
        for inp in decl.inputs:
            if inp.name in env:
                self.error("E0002", f"input `{inp.name}` is named twice", inp.span)
                raise Failed
            env[inp.name] = self.reader.type(inp.type)
        cod = self.reader.type(decl.cod)
        steps: list = []
        ports: list[Port] = []
        counter = [0]

        def wire(expr: ast.Expr, target: str | None) -> tuple[str, ...]:
            if isinstance(expr, ast.Name) and expr.name in env:
                return (expr.name,)
            if isinstance(expr, ast.Pairing):
                return tuple(n for part in expr.parts for n in wire(part, None))
            if isinstance(expr, ast.Call) and self._applies_to_wires(expr, env):
                args = tuple(n for a in expr.args for n in wire(a.value, None))
                fn = self.expr(expr.func, subst)
                found = prod(*(env[a] for a in args))
                try:
                    subst.unify_prod(fn.dom, found)
                except Mismatch as err:
                    self._mismatch_call(fn, found, err, expr, args)
                self._merge_ports(ports, fn.ports, expr.span)
                name = target or f"_w{counter[0]}"
                counter[0] += 1
                env[name] = fn.cod
                steps.append(((name,), fn, args))
                return (name,)
            if isinstance(expr, ast.Name) and self._is_morphism_name(expr.name):
                self.error(
                    "E0302",
                    f"`{expr.name}` is a morphism: inside a wiring block, apply it to wires",
                    expr.span,
                    help=f"write `{expr.name}(x)`",
                )
                raise Failed
            if isinstance(expr, ast.Name):
                self.error(
                    "E0301",
                    f"unknown wire `{expr.name}`",
                    expr.span,
                    help=did_you_mean(expr.name, env)
                    or "wires are the block's inputs and the names bound with `name = ...` above",
                )
                raise Failed
            # A closed morphism expression used as a value: a point (`Unit -> A`).
            fn = self.expr(expr, subst)
            if fn.dom.atoms:
                self.error(
                    "E0302",
                    "inside a wiring block, apply a morphism to wires: `f(x)`",
                    expr.span,
                    help="write `f(x)` instead of a bare morphism",
                )
                raise Failed
            name = target or f"_w{counter[0]}"
            counter[0] += 1
            env[name] = fn.cod
            self._merge_ports(ports, fn.ports, expr.span)
            steps.append(((name,), fn, ()))
            return (name,)

        for stmt in decl.statements:
            if stmt.name in env:
                self.error(
                    "E0002",
                    f"wire `{stmt.name}` is bound twice",
                    stmt.span,
                    help="each name in a wiring block is bound once",
                )
                raise Failed
            wire(stmt.value, stmt.name)
        result = wire(decl.result, None)
        found = prod(*(env[n] for n in result))
        dom = prod(*(env[i.name] for i in decl.inputs))
        try:
            subst.unify_prod(cod, found, nominal_entry=True)
        except Mismatch as err:
            self.error(
                "E0205",
                f"`{decl.name}` is declared to return `{cod}`, but returns `{found}`",
                decl.result.span,
                notes=carrier_notes(err),
            )
            raise Failed from None
        body = T.Wiring(
            dom,
            cod,
            decl.span,
            inputs=tuple(i.name for i in decl.inputs),
            steps=tuple(steps),
            result=result,
            ports=tuple(ports),
        )
        term = T.Ref(
            dom, cod, decl.span, name=decl.name, body=body, kind="wiring", ports=body.ports
        )
        return Definition(decl.name, "wiring", self._finish(term, subst), decl.span, decl.span.file)

    def _applies_to_wires(self, call: ast.Call, env: dict) -> bool:
        """`f(x, y)` applies f to wires, unless f is a family, a functor, or a primitive given
        its own arguments (`affine(W, b)` is a morphism; `relu(x)` is relu applied to x)."""
        func = call.func
        if not isinstance(func, ast.Name) or func.name in self.entries:
            return True
        if func.name in (*FAMILIES, *FUNCTORS):
            return False
        if func.name in PRIMITIVES:
            return all(
                a.name is None
                and isinstance(a.value, ast.Name | ast.Call | ast.Pairing)
                and not (isinstance(a.value, ast.Name) and a.value.name not in env)
                for a in call.args
            )
        return True

    def _is_morphism_name(self, name: str) -> bool:
        entry = self.entries.get(name)
        return (entry is not None and entry.kind in ("morphism", "let", "wiring")) or (
            name in PRIMITIVES and name not in self.entries
        )

    def _mismatch_call(self, fn: T.Term, found: Prod, err: Mismatch, expr: ast.Call, args) -> None:
        name = expr_text(expr.func, self.sources)
        self.error(
            "E0201",
            f"`{name}` takes `{fn.dom}`, but is applied to `{found}`",
            expr.span,
            notes=carrier_notes(err),
        )
        raise Failed
