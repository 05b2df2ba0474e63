"""Declarations that carry laws: functors, natural transformations, monoids and preorders.

Each is checked once, generically where it is a family (a functor's morphism map for an
arbitrary `f : A -> A'`, a natural transformation's component at an arbitrary `A`), with the
parameters standing for rigid objects (typesys/generics.py). The laws they carry are made by
typesys/generated_laws.py from what is checked here.
"""

from __future__ import annotations

from dataclasses import replace

from catdsl.errors import Span
from catdsl.syntax import ast
from catdsl.typesys import messages as M
from catdsl.typesys import terms as T
from catdsl.typesys.boundary import BoundaryChecker, finish
from catdsl.typesys.environment import Environment
from catdsl.typesys.expressions import ExpressionChecker
from catdsl.typesys.generics import rigid
from catdsl.typesys.program import Definition, Structure
from catdsl.typesys.reporting import Failed, Reporter
from catdsl.typesys.reserved import FUNCTORS
from catdsl.typesys.type_reader import TypeReader
from catdsl.typesys.types import UNIT, Carrier, Prod, prod
from catdsl.typesys.unify import Mismatch, Subst

FIELDS = {"monoid": ("unit", "op"), "preorder": ("le",)}
"""The parts each algebraic declaration is given by, in the order its laws use them."""


class StructureChecker:
    """Checks `functor`, `natural`, `monoid` and `preorder` declarations, and applies the
    declared functors to objects (`Dist[Nat]`) and morphisms (`Dist(f)`)."""

    def __init__(
        self,
        env: Environment,
        reporter: Reporter,
        types: TypeReader,
        expressions: ExpressionChecker,
        boundary: BoundaryChecker,
    ) -> None:
        self.env = env
        self.reporter = reporter
        self.types = types
        self.expressions = expressions
        self.boundary = boundary
        self.natural_at: dict[str, Prod] = {}
        """The object each natural transformation declared at one object is defined at."""

    # ---------------------------------------------------------------- functors
    def functor(self, decl: ast.FunctorDecl) -> Structure:
        """A functor's maps, checked for an arbitrary `f : A -> A'`."""
        maps = decl.maps
        if maps is None:
            if decl.name not in FUNCTORS:
                raise self.reporter.fail(M.functor_without_maps(decl.name), decl.name_span)
            return Structure("functor", decl.name, decl=decl, span=decl.span)
        self._fresh_name(maps.obj_var, decl.name, decl.name_span)
        a, b = Prod((rigid(maps.obj_var),)), Prod((rigid(maps.obj_var + "'"),))
        fa, fb = self.object_map(maps, a), self.object_map(maps, b)
        f = T.Ref(a, b, decl.span, name=maps.mor_var, body=None)
        subst = Subst()
        with self.env.scope({}, {maps.mor_var: f}):
            mapped = self.expressions.check(maps.mor_map, subst)
        try:
            subst.unify_prod(mapped.dom, fa)
            subst.unify_prod(fb, mapped.cod)
        except Mismatch:
            found = f"{subst.prod(mapped.dom)} -> {subst.prod(mapped.cod)}"
            message = M.functor_map(decl.name, maps.mor_var, str(a), str(b), f"{fa} -> {fb}", found)
            raise self.reporter.fail(message, maps.mor_map.span) from None
        return Structure("functor", decl.name, decl=decl, span=decl.span)

    def object_map(self, maps: ast.FunctorMaps, arg: Prod) -> Prod:
        """A declared functor's object map at `arg`."""
        with self.env.scope({maps.obj_var: arg}):
            return self.types.type(maps.obj_map)

    def apply_type(self, expr: ast.TApply) -> Prod | None:
        """`F[X]` for a declared functor F, or None when `F` is not one."""
        maps = self._maps(expr.name)
        if maps is None:
            return None
        if len(expr.args) != 1:
            message = M.generic_arity(expr.name, (maps.obj_var,), len(expr.args))
            raise self.reporter.fail(message, expr.span)
        return self.object_map(maps, self.types.type(expr.args[0]))

    def apply(self, name: str, e: ast.Call, subst: Subst) -> T.Term | None:
        """`F(f)` for a declared functor F (its morphism map at the term of f), or None when
        `name` is not one."""
        maps = self._maps(name)
        if maps is None:
            return None
        if len(e.args) != 1 or e.args[0].name is not None:
            raise self.reporter.fail(M.functor_takes_one(name), e.span)
        inner = self.expressions.check(e.args[0].value, subst)
        with self.env.scope({}, {maps.mor_var: inner}):
            mapped = self.expressions.check(maps.mor_map, subst)
        label = f"{name}({self.expressions.text(e.args[0].value)})"
        return T.Ref(
            mapped.dom,
            mapped.cod,
            e.span,
            name=label,
            body=mapped,
            kind="let",
            instance=True,
            ports=mapped.ports,
        )

    def object_of(self, functor: str, arg: Prod) -> Prod:
        """Any functor's object map at `arg`: `List[X]`, `Option[X]`, or a declared one."""
        if functor in FUNCTORS:
            return Prod((Carrier(functor, elem=arg),))
        maps = self._maps(functor)
        assert maps is not None, "only functors are applied"
        return self.object_map(maps, arg)

    def is_functor(self, name: str) -> bool:
        return name in FUNCTORS or self.env.kind(name) == "functor"

    def _maps(self, name: str) -> ast.FunctorMaps | None:
        entry = self.env.lookup(name)
        if entry is None or entry.kind != "functor" or name in FUNCTORS:
            return None
        self.env.resolve(name)  # checked once, before any use
        assert isinstance(entry.decl, ast.FunctorDecl)
        return entry.decl.maps

    # ---------------------------------------------------------------- natural transformations
    def natural(self, decl: ast.NaturalDecl) -> Definition:
        """A natural transformation `F ⇒ G`: its component `F[A] -> G[A]` for a rigid `A`, a
        generic definition with the one parameter `A`; or, declared at one object `X`
        (`natural t[X] : ...`), its one component `F[X] -> G[X]`."""
        for functor, span in ((decl.source, decl.source_span), (decl.target, decl.target_span)):
            if not self.is_functor(functor):
                known = [*FUNCTORS, *(n for n in self.env.names() if self.env.kind(n) == "functor")]
                message = M.not_a_functor(functor, decl.name, known)
                raise self.reporter.fail(message, span)
        a = Prod((rigid("A"),)) if decl.at is None else self.types.type(decl.at)
        if decl.at is not None:
            self.natural_at[decl.name] = a
        dom, cod = self.object_of(decl.source, a), self.object_of(decl.target, a)
        subst = Subst()
        body = self.expressions.check(decl.body, subst, expected=(dom, cod))
        self.boundary.check(
            body, dom, cod, subst, decl.name, decl.body.span, nominal_entry=decl.at is not None
        )
        term = T.Ref(dom, cod, decl.span, name=decl.name, body=body, kind="let", ports=body.ports)
        finished = finish(term, subst)
        params = ("A",) if decl.at is None else ()
        return Definition(decl.name, "natural", finished, decl.span, decl.span.file, params=params)

    # ---------------------------------------------------------------- monoids and preorders
    def structure(self, decl: ast.StructureDecl) -> Structure:
        """A monoid (unit, op) or a preorder (le) on a carrier, each part of its type."""
        if decl.kind == "preorder" and "std.logic" not in self.env.imported_std:
            raise self.reporter.fail(M.preorder_needs_logic(decl.name), decl.name_span)
        carrier = self.types.type(decl.carrier)
        given = self._fields(decl)
        wanted = {
            "unit": (UNIT, carrier),
            "op": (prod(carrier, carrier), carrier),
            "le": (prod(carrier, carrier), Prod((Carrier("Bool"),))),
        }
        maps: list[tuple[str, T.Term]] = []
        failed = False
        for name in FIELDS[decl.kind]:
            field = given[name]
            try:
                maps.append((name, self._part(decl, field, *wanted[name])))
            except Failed:
                failed = True
        if failed:
            raise Failed
        return Structure(decl.kind, decl.name, carrier, tuple(maps), decl, decl.span)

    def _fields(self, decl: ast.StructureDecl) -> dict[str, ast.StructureField]:
        wanted = FIELDS[decl.kind]
        given: dict[str, ast.StructureField] = {}
        for field in decl.fields:
            if field.name not in wanted:
                message = M.structure_field_unknown(decl.kind, decl.name, field.name, wanted)
                raise self.reporter.fail(message, field.name_span)
            if field.name in given:
                message = M.structure_field_twice(decl.kind, decl.name, field.name)
                raise self.reporter.fail(message, field.name_span)
            given[field.name] = field
        for name in wanted:
            if name not in given:
                message = M.structure_field_missing(decl.kind, decl.name, name, wanted)
                raise self.reporter.fail(message, decl.name_span)
        return given

    def _part(
        self, decl: ast.StructureDecl, field: ast.StructureField, dom: Prod, cod: Prod
    ) -> T.Term:
        subst = Subst()
        term = self.expressions.check(field.value, subst)
        try:
            subst.unify_prod(term.dom, dom)
            subst.unify_prod(cod, term.cod)
        except Mismatch:
            subst.default_rests(term.dom)
            subst.default_rests(term.cod)
            found = f"{subst.prod(term.dom)} -> {subst.prod(term.cod)}"
            message = M.structure_map(decl.kind, decl.name, field.name, f"{dom} -> {cod}", found)
            if isinstance(field.value, ast.ListLiteral) and not field.value.items:
                message = replace(message, help=M.empty_list_unit(str(cod)))
            raise self.reporter.fail(message, field.value.span) from None
        return finish(term, subst)

    # ---------------------------------------------------------------- names
    def _fresh_name(self, param: str, owner: str, span: Span) -> None:
        """A parameter must not be a declared name (it would hide it)."""
        if self.env.lookup(param) is not None:
            raise self.reporter.fail(M.type_parameter_taken(param, owner), span)
