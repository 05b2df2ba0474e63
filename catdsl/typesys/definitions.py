"""Named morphisms: `morphism` declarations (with their ports) and `let` definitions."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace

from catdsl.errors import Span
from catdsl.syntax import ast
from catdsl.typesys import messages as M
from catdsl.typesys import terms as T
from catdsl.typesys.boundary import BoundaryChecker, finish
from catdsl.typesys.environment import Environment
from catdsl.typesys.expressions import ExpressionChecker
from catdsl.typesys.generics import rigid
from catdsl.typesys.program import Definition
from catdsl.typesys.reporting import Reporter
from catdsl.typesys.type_reader import TypeReader
from catdsl.typesys.types import UNIT, Port, Prod
from catdsl.typesys.unify import Mismatch, Subst


class DefinitionChecker:
    """Checks `morphism` and `let` declarations against the signatures they declare."""

    def __init__(
        self,
        reporter: Reporter,
        types: TypeReader,
        expressions: ExpressionChecker,
        boundary: BoundaryChecker,
        env: Environment | None = None,
    ) -> None:
        self.reporter = reporter
        self.types = types
        self.expressions = expressions
        self.boundary = boundary
        self.env = env

    def morphism(self, decl: ast.MorphismDecl) -> Definition:
        if decl.type_params:
            with self._generic(decl.name, decl.type_params, decl.name_span):
                return replace(self._morphism(decl), params=decl.type_params)
        return self._morphism(decl)

    def let(self, decl: ast.LetDecl) -> Definition:
        if decl.type_params:
            with self._generic(decl.name, decl.type_params, decl.name_span):
                return replace(self._let(decl), params=decl.type_params)
        return self._let(decl)

    @contextmanager
    def _generic(self, owner: str, params: tuple[str, ...], span: Span) -> Iterator[None]:
        """Check a generic definition once, each parameter a rigid object."""
        assert self.env is not None, "generic definitions need the environment"
        for i, name in enumerate(params):
            if name in params[:i]:
                raise self.reporter.fail(M.type_parameter_twice(name, owner), span)
            if self.env.lookup(name) is not None or name == "Unit":
                raise self.reporter.fail(M.type_parameter_taken(name, owner), span)
        with self.env.scope({p: Prod((rigid(p),)) for p in params}):
            yield

    def _morphism(self, decl: ast.MorphismDecl) -> Definition:
        dom, cod = self.types.type(decl.dom), self.types.type(decl.cod)
        ports = []
        for port in decl.ports:
            pt = self.types.type(port.type)
            if len(pt) != 1:
                raise self.reporter.fail(M.port_several_objects(port.name, pt), port.span)
            ports.append(Port(port.name, pt.atoms[0], "port"))
        if decl.body is None:
            term = T.Ref(dom, cod, decl.span, name=decl.name, body=None, ports=tuple(ports))
            return Definition(decl.name, "morphism", term, decl.span, decl.span.file)
        subst = Subst()
        body = self.expressions.check(decl.body, subst, expected=(dom, cod))
        body = self._attach_ports(body, dom, tuple(ports), subst, decl, decl.body)
        self.boundary.check(body, dom, cod, subst, decl.name, decl.body.span, nominal_entry=True)
        term = T.Ref(dom, cod, decl.span, name=decl.name, body=body, ports=body.ports)
        return Definition(decl.name, "morphism", finish(term, subst), decl.span, decl.span.file)

    def _attach_ports(
        self,
        body: T.Term,
        dom: Prod,
        ports: tuple[Port, ...],
        subst: Subst,
        decl: ast.MorphismDecl,
        body_expr: ast.Expr,
    ) -> T.Term:
        """Declared ports that the body does not use feed its extra inputs, after the domain
        wires: `morphism CrossEntropy[target: TokenId] : Distribution -> Loss = nll`."""
        used = {p.name for p in body.ports}
        missing = tuple(p for p in ports if p.name not in used)
        if not missing:
            return body
        if len(body.dom) != len(dom) + len(missing):
            subst.default_rests(subst.prod(body.dom))  # no `*s` in the message
            names = [p.name for p in missing]
            message = M.port_unfed(decl.name, names, subst.prod(body.dom))
            raise self.reporter.fail(message, body_expr.span)
        wires = Prod(tuple(p.atom for p in missing))
        feeds = tuple(
            T.PortWire(UNIT, Prod((p.atom,)), decl.span, name=p.name, ports=(p,)) for p in missing
        )
        feed = T.Par(
            dom,
            dom + wires,
            decl.span,
            parts=(T.Struct(dom, dom, decl.span, kind="id"), *feeds),
            ports=missing,
        )
        try:
            subst.unify_prod(body.dom, feed.cod)
        except Mismatch as err:
            inferred = subst.prod(body.dom)
            raise self.boundary.mismatch(
                decl.name, "domain", dom + wires, inferred, err, body_expr.span
            ) from None
        all_ports = missing + tuple(
            p for p in body.ports if p.name not in {m.name for m in missing}
        )
        return T.Seq(dom, body.cod, body_expr.span, parts=(feed, body), ports=all_ports)

    def _let(self, decl: ast.LetDecl) -> Definition:
        subst = Subst()
        if decl.dom is not None and decl.cod is not None:
            dom, cod = self.types.type(decl.dom), self.types.type(decl.cod)
            body = self.expressions.check(decl.body, subst, expected=(dom, cod))
            self.boundary.check(body, dom, cod, subst, decl.name, decl.body.span)
        else:
            body = self.expressions.check(decl.body, subst)
            dom, cod = body.dom, body.cod
        term = T.Ref(dom, cod, decl.span, name=decl.name, body=body, kind="let", ports=body.ports)
        return Definition(decl.name, "let", finish(term, subst), decl.span, decl.span.file)
