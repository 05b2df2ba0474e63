"""The type checker: AST declarations to typed terms, collecting every diagnostic in one pass.

Definitions are checked lazily by name (so order does not matter and cycles are reported); a
definition that fails is remembered as failed, so its uses do not repeat the error.
"""

from __future__ import annotations

from catdsl.errors import Diagnostic, Label, Span
from catdsl.std.signatures import PRIMITIVES
from catdsl.syntax import ast
from catdsl.typesys import terms as T
from catdsl.typesys.check_base import (
    FAMILIES,
    Entry,
    Failed,
    carrier_notes,
    expr_text,
    origin_notes,
    referenced_names,
)
from catdsl.typesys.check_expressions import ExpressionsMixin
from catdsl.typesys.check_families import FamiliesMixin
from catdsl.typesys.check_values import ValuesMixin
from catdsl.typesys.check_wiring import WiringMixin
from catdsl.typesys.declarations import TypeError_, TypeReader
from catdsl.typesys.dims import Dim, labelled
from catdsl.typesys.program import CheckedProgram, Definition, Law
from catdsl.typesys.resolve import resolve_term
from catdsl.typesys.types import (
    UNIT,
    Carrier,
    Obj,
    Port,
    Predicate,
    Prod,
)
from catdsl.typesys.unify import Mismatch, Subst

RESERVED_TYPES = ("Params", "AdamState", "MomentumState")


class Checker(ValuesMixin, WiringMixin, ExpressionsMixin, FamiliesMixin):
    """Checks the merged declarations of a program and its imports."""

    def __init__(self, file: str, items: list, imported_std: set[str], sources: dict[str, str]):
        self.file = file
        self.sources = sources
        self.imported_std = imported_std
        self.diagnostics: list[Diagnostic] = []
        self.entries: dict[str, Entry] = {}
        self.order: list[str] = []
        self.position: dict[str, int] = {}
        self.laws: list[ast.LawDecl] = []
        self.done: dict[str, object] = {}
        self.failed: set[str] = set()
        self.active: list[str] = []
        self.reader = TypeReader(self._dim_value, self._named_type, self._type_call, self._names)
        self._collect(items)

    # ================================================================ bookkeeping
    def error(
        self,
        code: str,
        message: str,
        span: Span | None,
        help: str | None = None,
        labels: tuple[Label, ...] = (),
        notes: tuple[str, ...] = (),
    ) -> None:
        self.diagnostics.append(Diagnostic(code, message, span, help, labels, notes))

    def _collect(self, items: list) -> None:
        kinds = {
            ast.DimDecl: "dim",
            ast.ObjectDecl: "object",
            ast.TypeDecl: "type",
            ast.ParamDecl: "param",
            ast.MorphismDecl: "morphism",
            ast.LetDecl: "let",
            ast.WiringDecl: "wiring",
            ast.DataDecl: "data",
        }
        for item in items:
            if isinstance(item, ast.LawDecl):
                if any(law.name == item.name for law in self.laws):
                    self.error("E0002", f"law `{item.name}` is declared twice", item.name_span)
                self.laws.append(item)
                continue
            kind = kinds.get(type(item))
            if kind is None:
                continue
            name = item.name
            if name in self.entries:
                first = self.entries[name].decl
                self.error(
                    "E0002",
                    f"`{name}` is declared twice",
                    item.name_span,
                    labels=(Label(first.name_span, "first declared here"),),
                    help="rename one of them",
                )
                continue
            imported = name in PRIMITIVES and PRIMITIVES[name].module in self.imported_std
            if imported or name in FAMILIES or name in RESERVED_TYPES:
                where = f" (from `{PRIMITIVES[name].module}`)" if imported else ""
                self.error(
                    "E0002",
                    f"`{name}` is a standard-library name{where}",
                    item.name_span,
                    help="choose another name",
                )
                continue
            self.entries[name] = Entry(kind, item)
            self.position[name] = len(self.order)
            self.order.append(name)

    def _names(self) -> list[str]:
        return list(self.entries)

    def _resolve(self, name: str):
        """Check a declaration on first use; report cycles; return its result or raise Failed."""
        if name in self.done:
            return self.done[name]
        if name in self.failed:
            raise Failed
        entry = self.entries[name]
        if name in self.active:
            members = self.active[self.active.index(name) :]
            first = min(range(len(members)), key=lambda i: self.position[members[i]])
            members = members[first:] + members[:first]  # start where the source does
            cycle = " -> ".join([*members, members[0]])
            self.error(
                "E0003",
                f"`{members[0]}` is defined in terms of itself ({cycle})",
                self.entries[members[0]].decl.name_span,
                help="a definition cannot use itself; use `^ n` to iterate",
            )
            self.failed.add(name)
            raise Failed
        self.active.append(name)
        try:
            result = getattr(self, f"_decl_{entry.kind}")(entry.decl)
        except Failed:
            self.failed.add(name)
            raise
        except TypeError_ as err:
            self.diagnostics.append(err.diagnostic)
            self.failed.add(name)
            raise Failed from None
        finally:
            self.active.pop()
        self.done[name] = result
        return result

    # ================================================================ dims, objects, aliases
    def _dim_value(self, name: str) -> Dim | None:
        entry = self.entries.get(name)
        if entry is None or entry.kind != "dim":
            return None
        try:
            return self._resolve(name)
        except Failed:
            return Dim.symbol(name)

    def _decl_dim(self, decl: ast.DimDecl) -> Dim:
        if decl.value is None:
            return Dim.symbol(decl.name)
        value = self.reader.dim(decl.value)
        if value.value is not None and value.value <= 0:
            self.error(
                "E0406", f"dim `{decl.name}` must be positive, not {value.value}", decl.value.span
            )
            raise Failed
        return labelled(value, decl.name) if value.value is not None else value

    def _named_type(self, name: str) -> Prod | None:
        entry = self.entries.get(name)
        if entry is None or entry.kind not in ("object", "type"):
            return None
        try:
            result = self._resolve(name)
        except Failed:
            raise Failed from None  # already reported where the declaration failed
        return Prod((result,)) if isinstance(result, Obj) else result

    def _decl_object(self, decl: ast.ObjectDecl) -> Obj:
        carrier = self.reader.carrier(decl.carrier)
        where = tuple(Predicate(p.left, p.op, p.right) for p in decl.where)
        for pred in decl.where:
            if pred.op is None and pred.left not in (
                "finite",
                "nonempty",
                "positive",
                "nonnegative",
            ):
                self.error(
                    "E0407",
                    f"unknown invariant `{pred.left}`",
                    pred.span,
                    help="use `finite`, `nonempty`, `positive`, `nonnegative`, or a "
                    "comparison on `value`, `len` or `sum` such as `value >= 0`",
                )
            for side in (pred.left, pred.right):
                if isinstance(side, str) and pred.op and side not in ("value", "len", "sum"):
                    self.error(
                        "E0407",
                        f"unknown quantity `{side}` in an invariant",
                        pred.span,
                        help="compare `value`, `len` or `sum` with a number",
                    )
            uses_length = "len" in (pred.left, pred.right) or pred.left == "nonempty"
            if uses_length and _is_scalar(carrier):
                self.error(
                    "E0407",
                    f"`{carrier}` is a single number, so it has no length to check",
                    pred.span,
                    help="`len` and `nonempty` are about lists and arrays; for a number, "
                    "compare `value`, e.g. `value >= 0`",
                )
            if pred.op and not any(isinstance(side, str) for side in (pred.left, pred.right)):
                self.error(
                    "E0407",
                    "this invariant compares two numbers, so it says nothing about the value",
                    pred.span,
                    help="compare `value`, `len` or `sum` with a number, e.g. `value >= 0`",
                )
        module = decl.span.file
        return Obj(decl.name, carrier, where, decl.name_span, module)

    def _decl_type(self, decl: ast.TypeDecl) -> Prod:
        return self.reader.type(decl.type)

    def _type_call(self, expr: ast.TCall) -> Prod:
        if expr.name not in ("Params", "AdamState", "MomentumState") or len(expr.args) != 1:
            raise TypeError_(
                Diagnostic(
                    "E0404",
                    f"`{expr.name}(...)` is not a type",
                    expr.span,
                    help="type-level calls are `Params(f)`, `AdamState(f)`, `MomentumState(f)`",
                )
            )
        term = self.expr(expr.args[0].value, Subst())
        argument = expr.args[0].value
        record = self._params_record(
            term, expr_text(argument, self.sources), expr.name, argument.span
        )
        if expr.name == "AdamState":
            record = self._adam_record(record)
        elif expr.name == "MomentumState":
            record = self._momentum_record(record)
        return Prod((record,))

    # ================================================================ morphisms and lets
    def _decl_morphism(self, decl: ast.MorphismDecl) -> Definition:
        dom, cod = self.reader.type(decl.dom), self.reader.type(decl.cod)
        ports = []
        for port in decl.ports:
            pt = self.reader.type(port.type)
            if len(pt) != 1:
                self.error(
                    "E0417", f"port `{port.name}` must carry one object, not `{pt}`", port.span
                )
                raise Failed
            ports.append(Port(port.name, pt.atoms[0], "port"))
        if decl.body is None:
            term = T.Ref(dom, cod, decl.span, name=decl.name, body=None, ports=tuple(ports))
            return Definition(decl.name, "morphism", term, decl.span, decl.span.file)
        subst = Subst()
        body = self.expr(decl.body, subst, expected=(dom, cod))
        body = self._attach_ports(body, dom, tuple(ports), subst, decl)
        self._boundary(body, dom, cod, subst, decl.name, decl.body.span, nominal_entry=True)
        term = T.Ref(dom, cod, decl.span, name=decl.name, body=body, ports=body.ports)
        return Definition(
            decl.name, "morphism", self._finish(term, subst), decl.span, decl.span.file
        )

    def _attach_ports(
        self, body: T.Term, dom: Prod, ports: tuple[Port, ...], subst: Subst, decl: ast.MorphismDecl
    ) -> T.Term:
        """Declared ports that the body does not use feed its extra inputs, after the domain
        wires: `morphism CrossEntropy[target: TokenId] : Distribution -> Loss = nll`."""
        used = {p.name for p in body.ports}
        missing = tuple(p for p in ports if p.name not in used)
        if not missing:
            return body
        if len(body.dom) != len(dom) + len(missing):
            subst.default_rests(subst.prod(body.dom))  # no `*s` in the message
            self.error(
                "E0210",
                f"`{decl.name}` declares the port{'s' * (len(missing) != 1)} "
                f"{', '.join(f'`{p.name}`' for p in missing)}, but its body has no extra "
                f"input to feed: it takes `{subst.prod(body.dom)}`",
                decl.body.span,
                help="a port of a primitive-bound morphism feeds the primitive's input after "
                "the domain's, as in `morphism CrossEntropy[target: TokenId] : "
                "Distribution -> Loss = nll`",
            )
            raise Failed
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
            self._boundary_error(
                decl.name, "domain", dom + wires, subst.prod(body.dom), err, decl.body.span
            )
        all_ports = missing + tuple(
            p for p in body.ports if p.name not in {m.name for m in missing}
        )
        return T.Seq(dom, body.cod, decl.body.span, parts=(feed, body), ports=all_ports)

    def _decl_let(self, decl: ast.LetDecl) -> Definition:
        subst = Subst()
        if decl.dom is not None and decl.cod is not None:
            dom, cod = self.reader.type(decl.dom), self.reader.type(decl.cod)
            body = self.expr(decl.body, subst, expected=(dom, cod))
            self._boundary(body, dom, cod, subst, decl.name, decl.body.span)
        else:
            body = self.expr(decl.body, subst)
            dom, cod = body.dom, body.cod
        term = T.Ref(dom, cod, decl.span, name=decl.name, body=body, kind="let", ports=body.ports)
        return Definition(decl.name, "let", self._finish(term, subst), decl.span, decl.span.file)

    def _boundary(
        self,
        body: T.Term,
        dom: Prod,
        cod: Prod,
        subst: Subst,
        name: str,
        span: Span,
        nominal_entry: bool = False,
    ) -> None:
        """The declared signature against the body's: inputs flow in, outputs flow out."""
        try:
            subst.unify_prod(subst.prod(body.dom), dom)
        except Mismatch as err:
            subst.default_rests(body.dom)
            self._boundary_error(name, "domain", dom, subst.prod(body.dom), err, span, body)
        try:
            subst.unify_prod(cod, subst.prod(body.cod), nominal_entry=nominal_entry)
        except Mismatch as err:
            subst.default_rests(body.cod)
            self._boundary_error(name, "codomain", cod, subst.prod(body.cod), err, span, body, dom)

    def _boundary_error(
        self,
        name,
        side,
        declared,
        inferred,
        err: Mismatch,
        span,
        body: T.Term | None = None,
        dom: Prod | None = None,
    ) -> None:
        notes = origin_notes(body) if body is not None else ()
        if err.reason == "structural value entering a nominal object":
            target = err.expected
            source = dom if dom is not None else "..."
            text = expr_text(body, self.sources) if body is not None and body.span else "..."
            self.error(
                "E0204",
                f"`{name}` is declared with {side} `{declared}`, but its body gives `{inferred}`",
                span,
                notes=notes,
                help=f"a value enters `{target}` only through a declared morphism: make `{name}` "
                f"one, `morphism {name} : {source} -> {declared} = {text}`",
            )
        else:
            self.error(
                "E0205",
                f"`{name}` is declared with {side} `{declared}`, but its body has "
                f"{side} `{inferred}`",
                span,
                notes=carrier_notes(err, declared_atoms=declared) + notes,
            )
        raise Failed

    # ================================================================ laws
    def check_law(self, decl: ast.LawDecl) -> Law | None:
        try:
            subst = Subst()
            lhs = self.expr(decl.lhs, subst)
            rhs = self.expr(decl.rhs, subst)
            try:
                subst.unify_prod(lhs.dom, rhs.dom)
                subst.unify_prod(rhs.cod, lhs.cod)
            except Mismatch:
                self.error(
                    "E0501",
                    f"the two sides of law `{decl.name}` have different types",
                    decl.rhs.span,
                    labels=(
                        Label(
                            decl.lhs.span,
                            f"this is `{subst.prod(lhs.dom)} -> {subst.prod(lhs.cod)}`",
                        ),
                    ),
                    notes=(
                        f"the right-hand side is `{subst.prod(rhs.dom)} -> {subst.prod(rhs.cod)}`",
                    ),
                    help="a law equates two morphisms with the same domain and codomain",
                )
                return None
            if decl.tolerance is not None and decl.tolerance < 0:
                self.error("E0502", "a law's tolerance must be non-negative", decl.span)
                return None
            return Law(
                decl.name,
                self._finish(lhs, subst),
                self._finish(rhs, subst),
                decl.tolerance,
                decl.span,
            )
        except Failed:
            return None

    # ================================================================ finishing
    def _finish(self, term: T.Term, subst: Subst) -> T.Term:
        """Apply the final bindings everywhere and fill in kernel element ranks."""
        for p in (term.dom, term.cod):
            subst.default_rests(p)
        return resolve_term(term, subst)

    # ================================================================ entry point
    def _dependency_order(self) -> list[str]:
        """Declarations ordered so that each comes after the names it uses (cycles are left for
        `_resolve` to report). Checking in this order keeps lazy resolution shallow even when a
        file defines things after their uses."""
        uses = {
            name: [n for n in referenced_names(e.decl) if n in self.entries and n != name]
            for name, e in self.entries.items()
        }
        done: set[str] = set()
        ordered: list[str] = []
        for root in self.order:
            stack = [(root, iter(uses[root]))]
            if root in done:
                continue
            done.add(root)
            while stack:
                name, pending = stack[-1]
                child = next((c for c in pending if c not in done), None)
                if child is None:
                    stack.pop()
                    ordered.append(name)
                else:
                    done.add(child)
                    stack.append((child, iter(uses[child])))
        return ordered

    def run(self) -> CheckedProgram:
        program = CheckedProgram(self.file, sources=self.sources)
        for name in self._dependency_order():
            try:
                self._resolve(name)
            except Failed:
                continue
        for name in self.order:
            if name not in self.done:
                continue
            result = self.done[name]
            kind = self.entries[name].kind
            if kind in ("morphism", "let", "wiring", "data"):
                program.definitions[name] = result
            elif kind == "object":
                program.objects[name] = result
            elif kind == "type":
                program.aliases[name] = result
            elif kind == "param":
                program.params[name] = result
            elif kind == "dim":
                program.dims[name] = result.value
        for decl in self.laws:
            law = self.check_law(decl)
            if law is not None:
                program.laws[decl.name] = law
        program.diagnostics = list(self.diagnostics)
        program.diagnostics.sort(
            key=lambda d: (d.span.file, d.span.line, d.span.column) if d.span else ("", 0, 0)
        )
        return program


def _is_scalar(carrier: object) -> bool:
    """A carrier whose values are single numbers (`Real`, `Nat`, `Index[V]`): no axis at all."""
    return (
        isinstance(carrier, Carrier)
        and carrier.kind not in ("List", "Option")
        and carrier.rank == 0
        and carrier.shape.rest is None
    )
