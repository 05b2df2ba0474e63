"""The type checker: AST declarations to typed terms, collecting every diagnostic in one pass.

Definitions are checked lazily by name (so order does not matter and cycles are reported); a
definition that fails is remembered as failed, so its uses do not repeat the error. This
module only wires the parts together: the environment of names, and one checker per kind of
declaration or expression, each given the collaborators it uses.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from catdsl.errors import Span
from catdsl.files import ReadScope
from catdsl.syntax import ast
from catdsl.typesys import messages as M
from catdsl.typesys import terms as T
from catdsl.typesys.boundary import BoundaryChecker
from catdsl.typesys.categories import Categories
from catdsl.typesys.definitions import DefinitionChecker
from catdsl.typesys.environment import Entry, Environment, Resolved
from catdsl.typesys.expressions import ExpressionChecker
from catdsl.typesys.families import FamilyChecker
from catdsl.typesys.family_spec import Families
from catdsl.typesys.generated_laws import LawGenerator
from catdsl.typesys.laws import LawChecker
from catdsl.typesys.literals import LiteralReader
from catdsl.typesys.objects import ObjectChecker
from catdsl.typesys.primitives import PrimSpec
from catdsl.typesys.program import CheckedProgram, Definition, ParamInfo, Structure
from catdsl.typesys.reporting import Failed, Reporter
from catdsl.typesys.structures import StructureChecker
from catdsl.typesys.type_reader import TypeReader
from catdsl.typesys.types import Obj, Prod
from catdsl.typesys.unify import Subst
from catdsl.typesys.values import ValueChecker
from catdsl.typesys.wiring import WiringChecker


class Checker:
    """Checks the merged declarations of a program and its imports.

    `primitives` is the table of standard-library primitives; `families` the registry of
    training families; `imported_std` the modules the program imports, whose primitives are
    visible; `reads` the directories `load("…")` may read from (by default the directory of
    `file`)."""

    def __init__(
        self,
        file: str,
        items: Sequence[ast.Item],
        sources: dict[str, str],
        *,
        primitives: Mapping[str, PrimSpec],
        families: Families,
        imported_std: set[str],
        reads: ReadScope | None = None,
    ) -> None:
        self.file = file
        self.sources = sources
        self.reporter = Reporter()
        self.env = Environment(
            self.reporter, primitives, families, imported_std, define=self._define
        )
        literals = LiteralReader(self.reporter, reads or ReadScope.around(file))
        self.literals = literals
        self.types = TypeReader(
            self.reporter,
            dim_value=self.env.dim_value,
            named_type=self.env.named_type,
            call_type=self._state_type,
            known_names=self.env.names,
            applied_type=self._functor_type,
            settled_dim=self.env.settled_dim,
        )
        self.categories = Categories(items)
        self.expressions = ExpressionChecker(
            self.env,
            self.reporter,
            self.types,
            literals,
            primitives,
            sources,
            family=self._family,
            functor=self._functor_map,
            categories=self.categories,
        )
        self.families = FamilyChecker(self.env, self.reporter, literals, self.expressions)
        boundary = BoundaryChecker(self.reporter, sources)
        self.objects = ObjectChecker(self.reporter, self.types, self._members)
        self.values = ValueChecker(
            self.env, self.reporter, self.types, literals, self.expressions, boundary
        )
        self.definitions = DefinitionChecker(
            self.reporter, self.types, self.expressions, boundary, env=self.env
        )
        self.structures = StructureChecker(
            self.env, self.reporter, self.types, self.expressions, boundary
        )
        self.wiring = WiringChecker(
            self.env, self.reporter, self.types, self.expressions, primitives
        )
        self.laws = LawChecker(self.reporter, self.expressions)
        self.generated = LawGenerator(
            self.env, self.reporter, self.laws, self.sources, self.structures.natural_at
        )
        self._parts: dict[type, Callable[[Any], Resolved]] = {
            ast.DimDecl: self.objects.dim,
            ast.ObjectDecl: self.objects.object,
            ast.TypeDecl: self.objects.alias,
            ast.ParamDecl: self.values.param,
            ast.DataDecl: self.values.data,
            ast.MorphismDecl: self.definitions.morphism,
            ast.LetDecl: self.definitions.let,
            ast.WiringDecl: self.wiring.check,
            ast.FunctorDecl: self.structures.functor,
            ast.NaturalDecl: self.structures.natural,
            ast.StructureDecl: self.structures.structure,
        }
        """The part that checks each class of declaration."""
        self.law_decls = self.env.declare(items)

    # The parts below are mutually recursive (an expression names a definition, a type calls
    # `Params(loss)`); these methods close the loops once every part exists.
    def _family(self, name: str, e: ast.Call, subst: Subst) -> T.Term:
        return self.families.check(name, e, subst)

    def _state_type(self, expr: ast.TCall) -> Prod:
        return self.families.state_type(expr)

    def _functor_type(self, expr: ast.TApply) -> Prod | None:
        return self.structures.apply_type(expr)

    def _functor_map(self, name: str, e: ast.Call, subst: Subst) -> T.Term | None:
        return self.structures.apply(name, e, subst)

    def _members(self, name: str, span: Span) -> tuple[object, ...]:
        """The entries of the data point `name`, written as a list literal, for an object's
        `where value in name`; the data point is checked first."""
        entry = self.env.entries.get(name)
        decl = entry.decl if entry is not None else None
        if not isinstance(decl, ast.DataDecl) or not isinstance(decl.value, ast.ListLiteral):
            problem = f"`{name}` is not a `data` point written as a list"
            raise self.reporter.fail(M.member_set(name, problem), span)
        self.env.resolve(name)
        values = self.literals.literal(decl.value, strings=True)
        assert isinstance(values, tuple)
        if any(not isinstance(v, int | str) or isinstance(v, bool) for v in values):
            problem = f"`{name}` must list single whole numbers or strings"
            raise self.reporter.fail(M.member_set(name, problem), span)
        return values

    def _define(self, entry: Entry) -> Resolved:
        """Check one declaration with the part that knows its kind (found by its class in one
        dict look-up; a subclass of a declaration by the first class it is an instance of)."""
        decl = entry.decl
        part = self._parts.get(type(decl))
        if part is None:
            part = next((p for cls, p in self._parts.items() if isinstance(decl, cls)), None)
            if part is None:
                raise AssertionError(f"not a declaration: {decl!r}")
        return part(decl)

    def run(self) -> CheckedProgram:
        """Check every declaration and law; the diagnostics come sorted by position."""
        program = CheckedProgram(self.file, sources=self.sources)
        for name in self.env.dependency_order():
            try:
                self.env.resolve(name)
            except Failed:
                continue
        for name, result in self.env.results():
            if isinstance(result, Definition):
                program.definitions[name] = result
            elif isinstance(result, Obj):
                program.objects[name] = result
            elif isinstance(result, Prod):
                program.aliases[name] = result
            elif isinstance(result, ParamInfo):
                program.params[name] = result
            elif isinstance(result, Structure):
                program.structures[name] = result
            else:
                program.dims[name] = result.value
        for decl in self.law_decls:
            law = self.laws.check(decl)
            if law is not None:
                program.laws[decl.name] = law
        self.generated.generate(program)
        self.categories.check(self.env, self.reporter)
        program.diagnostics = sorted(
            self.reporter.diagnostics,
            key=lambda d: (d.span.file, d.span.line, d.span.column) if d.span else ("", 0, 0),
        )
        return program
