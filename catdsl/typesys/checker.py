"""The type checker: AST declarations to typed terms, collecting every diagnostic in one pass.

Definitions are checked lazily by name (so order does not matter and cycles are reported); a
definition that fails is remembered as failed, so its uses do not repeat the error.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, is_dataclass, replace
from pathlib import Path

from catdsl.errors import Diagnostic, Label, Span
from catdsl.std.signatures import PRIMITIVES, STATIC_DEFAULTS
from catdsl.syntax import ast
from catdsl.typesys import terms as T
from catdsl.typesys.declarations import TypeError_, TypeReader
from catdsl.typesys.dims import Dim, labelled
from catdsl.typesys.hints import bridges, describe, did_you_mean, same_carrier_note, signature
from catdsl.typesys.program import CheckedProgram, Definition, Law, ParamInfo
from catdsl.typesys.types import (
    UNIT,
    Atom,
    Carrier,
    Obj,
    Port,
    Predicate,
    Prod,
    Record,
    Shape,
    carrier_of,
    element_rank,
    prod,
)
from catdsl.typesys.unify import Mismatch, Subst

FAMILIES = ("Init", "MeanLoss", "TrainStep", "Momentum", "MomentumInit", "Adam", "AdamInit",
            "AdamParams", "MomentumParams")
FUNCTORS = ("List", "Option")
INITIALISERS = ("zeros", "ones", "normal", "uniform", "course_init")
HYPER = {
    "TrainStep": ("lr",),
    "Momentum": ("lr", "beta"),
    "Adam": ("lr", "beta1", "beta2", "eps"),
}
HYPER_DEFAULTS = {"beta": 0.9, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8}


class Failed(Exception):
    """A sub-expression failed; its diagnostic is already recorded."""


@dataclass
class Entry:
    """A top-level name: what kind of declaration, and the AST node."""

    kind: str
    decl: object


class Checker:
    """Checks the merged declarations of a program and its imports."""

    def __init__(self, file: str, items: list, imported_std: set[str], sources: dict[str, str]):
        self.file = file
        self.sources = sources
        self.imported_std = imported_std
        self.diagnostics: list[Diagnostic] = []
        self.entries: dict[str, Entry] = {}
        self.order: list[str] = []
        self.laws: list[ast.LawDecl] = []
        self.done: dict[str, object] = {}
        self.failed: set[str] = set()
        self.active: list[str] = []
        self.reader = TypeReader(self._dim_value, self._named_type, self._type_call, self._names)
        self._collect(items)

    # ================================================================ bookkeeping
    def error(self, code: str, message: str, span: Span | None, help: str | None = None,
              labels: tuple[Label, ...] = (), notes: tuple[str, ...] = ()) -> None:
        self.diagnostics.append(Diagnostic(code, message, span, help, labels, notes))

    def _collect(self, items: list) -> None:
        kinds = {
            ast.DimDecl: "dim", ast.ObjectDecl: "object", ast.TypeDecl: "type",
            ast.ParamDecl: "param", ast.MorphismDecl: "morphism", ast.LetDecl: "let",
            ast.WiringDecl: "wiring", ast.DataDecl: "data",
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
                    "E0002", f"`{name}` is declared twice", item.name_span,
                    labels=(Label(first.name_span, "first declared here"),),
                    help="rename one of them",
                )
                continue
            if name in PRIMITIVES or name in FAMILIES or name in ("Params", "AdamState"):
                self.error("E0002", f"`{name}` is a standard-library name", item.name_span,
                           help="choose another name")
                continue
            self.entries[name] = Entry(kind, item)
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
            cycle = " -> ".join([*self.active[self.active.index(name):], name])
            self.error("E0003", f"`{name}` is defined in terms of itself ({cycle})",
                       entry.decl.name_span, help="a definition cannot use itself; use `^ n` to iterate")
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
            self.error("E0406", f"dim `{decl.name}` must be positive, not {value.value}", decl.value.span)
            raise Failed
        return labelled(value, decl.name) if value.value is not None else value

    def _named_type(self, name: str) -> Prod | None:
        entry = self.entries.get(name)
        if entry is None or entry.kind not in ("object", "type"):
            return None
        try:
            result = self._resolve(name)
        except Failed:
            raise TypeError_(Diagnostic("E0000", "", None)) from None
        return Prod((result,)) if isinstance(result, Obj) else result

    def _decl_object(self, decl: ast.ObjectDecl) -> Obj:
        carrier = self.reader.carrier(decl.carrier)
        where = tuple(Predicate(p.left, p.op, p.right) for p in decl.where)
        for pred in decl.where:
            if pred.op is None and pred.left not in ("finite", "nonempty", "positive", "nonnegative"):
                self.error("E0407", f"unknown invariant `{pred.left}`", pred.span,
                           help="use `finite`, `nonempty`, `positive`, `nonnegative`, or a "
                                "comparison on `value`, `len` or `sum` such as `value >= 0`")
            for side in (pred.left, pred.right):
                if isinstance(side, str) and pred.op and side not in ("value", "len", "sum"):
                    self.error("E0407", f"unknown quantity `{side}` in an invariant", pred.span,
                               help="compare `value`, `len` or `sum` with a number")
        module = decl.span.file
        return Obj(decl.name, carrier, where, decl.name_span, module)

    def _decl_type(self, decl: ast.TypeDecl) -> Prod:
        return self.reader.type(decl.type)

    def _type_call(self, expr: ast.TCall) -> Prod:
        if expr.name not in ("Params", "AdamState", "MomentumState") or len(expr.args) != 1:
            raise TypeError_(Diagnostic(
                "E0404", f"`{expr.name}(...)` is not a type",
                expr.span, help="type-level calls are `Params(f)`, `AdamState(f)`, `MomentumState(f)`"))
        term = self._expr_or_fail(expr.args[0].value)
        record = self._params_record(term, _expr_text(expr.args[0].value, self.sources))
        if expr.name == "AdamState":
            record = self._adam_record(record)
        elif expr.name == "MomentumState":
            record = self._momentum_record(record)
        return Prod((record,))

    def _expr_or_fail(self, expr: ast.Expr) -> T.Term:
        try:
            return self.expr(expr, Subst())
        except Failed:
            raise TypeError_(Diagnostic("E0000", "", None)) from None

    # ================================================================ params and data
    def _decl_param(self, decl: ast.ParamDecl) -> ParamInfo:
        t = self.reader.type(decl.type)
        if len(t) != 1 or not isinstance(t.atoms[0], Carrier) or t.atoms[0].kind != "Real":
            self.error("E0408", f"param `{decl.name}` must be a real array, e.g. `Real[V, D]`",
                       decl.type.span)
            raise Failed
        carrier = t.atoms[0]
        free = [str(d) for d in carrier.shape.dims if d.value is None]
        if free:
            self.error("E0409", f"param `{decl.name}` needs a fixed size, but `{free[0]}` is free",
                       decl.type.span, help=f"give it a size: `dim {free[0]} = 8`")
            raise Failed
        order = self.order.index(decl.name)
        init = decl.init
        if isinstance(init, ast.Name) and init.name in INITIALISERS:
            return ParamInfo(decl.name, carrier, init.name, (), span=decl.span, order=order)
        if isinstance(init, ast.Call) and isinstance(init.func, ast.Name):
            fname = init.func.name
            if fname == "load":
                path = self._load_path(init)
                return ParamInfo(decl.name, carrier, "load", path=path, span=decl.span, order=order)
            if fname in INITIALISERS:
                kwargs = self._init_kwargs(fname, init)
                return ParamInfo(decl.name, carrier, fname, kwargs, span=decl.span, order=order)
        if isinstance(init, ast.ListLiteral | ast.Literal):
            value = self._literal(init)
            self._check_literal_shape(value, carrier, init.span, decl.name)
            return ParamInfo(decl.name, carrier, "literal", literal=value, span=decl.span, order=order)
        self.error("E0410", f"cannot initialise param `{decl.name}` with this expression",
                   init.span, help="use an initialiser (`zeros`, `ones`, `normal(mean, std, seed)`, "
                   "`uniform(low, high, seed)`, `course_init(seed, scale)`), a literal array, "
                   "or `load(\"file.npy\")`")
        raise Failed

    def _init_kwargs(self, fname: str, call: ast.Call) -> tuple[tuple[str, object], ...]:
        allowed = {"zeros": (), "ones": (), "normal": ("mean", "std", "seed"),
                   "uniform": ("low", "high", "seed"), "course_init": ("seed", "scale")}[fname]
        out: dict[str, object] = {}
        for i, arg in enumerate(call.args):
            key = arg.name if arg.name is not None else (allowed[i] if i < len(allowed) else None)
            if key is None or key not in allowed:
                self.error("E0411", f"`{fname}` has no argument {key or i + 1!r}", arg.span,
                           help=f"`{fname}` takes {', '.join(allowed) or 'no arguments'}")
                raise Failed
            out[key] = self._number(arg.value)
        return tuple(out.items())

    def _number(self, expr: ast.Expr) -> float | int:
        if isinstance(expr, ast.Literal) and isinstance(expr.value, int | float) \
                and not isinstance(expr.value, bool):
            return expr.value
        self.error("E0412", "expected a number", expr.span)
        raise Failed

    def _load_path(self, call: ast.Call) -> str:
        if len(call.args) != 1 or not isinstance(call.args[0].value, ast.Literal) \
                or not isinstance(call.args[0].value.value, str):
            self.error("E0413", "`load` takes one file name: `load(\"x.npy\")`", call.span)
            raise Failed
        path = call.args[0].value.value
        if not path.endswith((".npy", ".npz")):
            self.error("E0413", f"`load` reads .npy or .npz files, not `{path}`",
                       call.args[0].span, help="save arrays with numpy.save or numpy.savez")
            raise Failed
        base = Path(call.span.file).parent if call.span.file not in ("<string>", "") else Path.cwd()
        return str((base / path).resolve())

    def _literal(self, expr: ast.Expr) -> object:
        if isinstance(expr, ast.Literal):
            if isinstance(expr.value, str):
                self.error("E0414", "a string is not a value here", expr.span)
                raise Failed
            return expr.value
        if isinstance(expr, ast.ListLiteral):
            return tuple(self._literal(item) for item in expr.items)
        self.error("E0414", "expected a literal number, `true`/`false`, or a list", expr.span)
        raise Failed

    def _check_literal_shape(self, value: object, carrier: Carrier, span: Span, name: str) -> None:
        shape = _literal_shape(value)
        if shape is None:
            self.error("E0415", f"the literal for `{name}` is ragged (rows of different lengths)",
                       span)
            raise Failed
        expected = carrier.shape.dims
        if len(shape) != len(expected):
            self.error("E0415", f"`{name}` expects rank {len(expected)} (`{carrier}`), "
                       f"the literal has rank {len(shape)}", span)
            raise Failed
        for got, want in zip(shape, expected, strict=True):
            if want.value is not None and got != want.value:
                self.error("E0415", f"`{name}` expects shape `{carrier}`, the literal is "
                           f"{' x '.join(map(str, shape))}", span)
                raise Failed

    def _decl_data(self, decl: ast.DataDecl) -> Definition:
        t = self.reader.type(decl.type)
        value = decl.value
        if isinstance(value, ast.Call) and isinstance(value.func, ast.Name) and value.func.name == "load":
            path = self._load_path(value)
            term = T.Const(UNIT, t, decl.span, name=decl.name, path=path)
        elif isinstance(value, ast.ListLiteral | ast.Literal):
            literal = self._literal(value)
            self._check_data_literal(literal, t, value.span, decl.name)
            term = T.Const(UNIT, t, decl.span, name=decl.name, value=literal)
        else:
            body = self.expr(value, Subst(), expected=(UNIT, t))
            subst = Subst()
            self._boundary(body, UNIT, t, subst, decl.name, value.span)
            term = self._finish(T.Ref(UNIT, t, decl.span, name=decl.name, body=body, kind="data",
                                      ports=body.ports), subst)
            return Definition(decl.name, "data", term, decl.span, decl.span.file)
        return Definition(decl.name, "data", term, decl.span, decl.span.file)

    def _check_data_literal(self, value: object, t: Prod, span: Span, name: str) -> None:
        if len(t) == 1:
            atom = t.atoms[0]
            carrier = carrier_of(atom)
            self._check_atom_literal(value, atom, carrier, span, name)
            return
        if not isinstance(value, tuple) or len(value) != len(t):
            self.error("E0415", f"`{name} : {t}` needs {len(t)} components, one per wire", span)
            raise Failed
        for item, atom in zip(value, t.atoms, strict=True):
            self._check_atom_literal(item, atom, carrier_of(atom), span, name)

    def _check_atom_literal(self, value, atom, carrier, span, name) -> None:
        if isinstance(carrier, Carrier) and carrier.kind == "Index":
            flat = _flatten(value)
            bad = [v for v in flat if not isinstance(v, int) or isinstance(v, bool)]
            if bad:
                self.error("E0415", f"`{atom}` holds indices, found `{bad[0]}`", span)
                raise Failed
            bound = carrier.bound.value if carrier.bound is not None else None
            out = [v for v in flat if v < 0 or (bound is not None and v >= bound)]
            if out:
                self.error("E0416", f"index {out[0]} out of range for `{atom}` (limit {bound})", span)
                raise Failed
        if isinstance(carrier, Carrier) and carrier.kind == "List" and carrier.elem is not None:
            if not isinstance(value, tuple):
                self.error("E0415", f"`{atom}` is a list: write `[...]`", span)
                raise Failed
            elem = carrier.elem
            for item in value:
                if len(elem) == 1:
                    self._check_atom_literal(item, elem.atoms[0], carrier_of(elem.atoms[0]), span, name)
                elif not isinstance(item, tuple) or len(item) != len(elem):
                    self.error("E0415", f"each item of `{atom}` is `{elem}`: write one "
                               f"[{', '.join('…' for _ in elem.atoms)}] per item", span)
                    raise Failed

    # ================================================================ morphisms and lets
    def _decl_morphism(self, decl: ast.MorphismDecl) -> Definition:
        dom, cod = self.reader.type(decl.dom), self.reader.type(decl.cod)
        ports = []
        for port in decl.ports:
            pt = self.reader.type(port.type)
            if len(pt) != 1:
                self.error("E0417", f"port `{port.name}` must carry one object, not `{pt}`", port.span)
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
        return Definition(decl.name, "morphism", self._finish(term, subst), decl.span, decl.span.file)

    def _attach_ports(self, body: T.Term, dom: Prod, ports: tuple[Port, ...], subst: Subst,
                      decl: ast.MorphismDecl) -> T.Term:
        """Declared ports that the body does not use feed its extra inputs, after the domain
        wires: `morphism CrossEntropy[target: TokenId] : Distribution -> Loss = nll`."""
        used = {p.name for p in body.ports}
        missing = tuple(p for p in ports if p.name not in used)
        if not missing:
            return body
        if len(body.dom) != len(dom) + len(missing):
            self.error("E0210", f"`{decl.name}` declares {len(missing)} port(s) that its body does "
                       f"not use, and the body takes `{subst.prod(body.dom)}`", decl.body.span,
                       help="a port of a primitive-bound morphism feeds the primitive's extra input")
            raise Failed
        wires = Prod(tuple(p.atom for p in missing))
        feeds = tuple(T.PortWire(UNIT, Prod((p.atom,)), decl.span, name=p.name, ports=(p,))
                      for p in missing)
        feed = T.Par(dom, dom + wires, decl.span,
                     parts=(T.Struct(dom, dom, decl.span, kind="id"), *feeds), ports=missing)
        try:
            subst.unify_prod(body.dom, feed.cod)
        except Mismatch as err:
            self._boundary_error(decl.name, "domain", dom + wires, subst.prod(body.dom), err,
                                 decl.body.span)
        all_ports = missing + tuple(p for p in body.ports if p.name not in {m.name for m in missing})
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

    def _boundary(self, body: T.Term, dom: Prod, cod: Prod, subst: Subst, name: str, span: Span,
                  nominal_entry: bool = False) -> None:
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
            self._boundary_error(name, "codomain", cod, subst.prod(body.cod), err, span, body)

    def _boundary_error(self, name, side, declared, inferred, err: Mismatch, span,
                        body: T.Term | None = None) -> None:
        notes = _origin_notes(body) if body is not None else ()
        if err.reason == "structural value entering a nominal object":
            self.error("E0204", f"`{name}` is declared with {side} `{declared}`, but its body gives "
                       f"`{inferred}`", span, notes=notes,
                       help=f"a value enters `{err.expected}` only through a declared morphism: "
                            f"declare one, e.g. `morphism To{err.expected} : ... -> {err.expected} = ...`")
        else:
            self.error("E0205", f"`{name}` is declared with {side} `{declared}`, but its body has "
                       f"{side} `{inferred}`", span,
                       notes=_carrier_notes(err, declared_atoms=declared) + notes)
        raise Failed

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
            if isinstance(expr, ast.Call) and not (isinstance(expr.func, ast.Name)
                                                   and expr.func.name in (*PRIMITIVES, *FAMILIES, *FUNCTORS)):
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
            if isinstance(expr, ast.Name):
                self.error("E0301", f"unknown wire `{expr.name}`", expr.span,
                           help=did_you_mean(expr.name, env) or "wires are the block's inputs and "
                           "the names bound with `name = ...` above")
                raise Failed
            # A closed morphism expression used as a value: a point (`Unit -> A`).
            fn = self.expr(expr, subst)
            if fn.dom.atoms:
                self.error("E0302", "inside a wiring block, apply a morphism to wires: `f(x)`",
                           expr.span, help="write `f(x)` instead of a bare morphism")
                raise Failed
            name = target or f"_w{counter[0]}"
            counter[0] += 1
            env[name] = fn.cod
            self._merge_ports(ports, fn.ports, expr.span)
            steps.append(((name,), fn, ()))
            return (name,)

        for stmt in decl.statements:
            if stmt.name in env:
                self.error("E0002", f"wire `{stmt.name}` is bound twice", stmt.span,
                           help="each name in a wiring block is bound once")
                raise Failed
            wire(stmt.value, stmt.name)
        result = wire(decl.result, None)
        found = prod(*(env[n] for n in result))
        dom = prod(*(env[i.name] for i in decl.inputs))
        try:
            subst.unify_prod(cod, found)
        except Mismatch as err:
            self.error("E0205", f"`{decl.name}` is declared to return `{cod}`, but returns `{found}`",
                       decl.result.span, notes=_carrier_notes(err))
            raise Failed from None
        body = T.Wiring(dom, cod, decl.span, inputs=tuple(i.name for i in decl.inputs),
                        steps=tuple(steps), result=result, ports=tuple(ports))
        term = T.Ref(dom, cod, decl.span, name=decl.name, body=body, kind="wiring", ports=body.ports)
        return Definition(decl.name, "wiring", self._finish(term, subst), decl.span, decl.span.file)

    def _mismatch_call(self, fn: T.Term, found: Prod, err: Mismatch, expr: ast.Call, args) -> None:
        name = _expr_text(expr.func, self.sources)
        self.error("E0201", f"`{name}` takes `{fn.dom}`, but is applied to `{found}`", expr.span,
                   notes=_carrier_notes(err))
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
                    "E0501", f"the two sides of law `{decl.name}` have different types",
                    decl.rhs.span,
                    labels=(Label(decl.lhs.span, f"this is `{subst.prod(lhs.dom)} -> {subst.prod(lhs.cod)}`"),),
                    notes=(f"the right-hand side is `{subst.prod(rhs.dom)} -> {subst.prod(rhs.cod)}`",),
                    help="a law equates two morphisms with the same domain and codomain",
                )
                return None
            if decl.tolerance is not None and decl.tolerance < 0:
                self.error("E0502", "a law's tolerance must be non-negative", decl.span)
                return None
            return Law(decl.name, self._finish(lhs, subst), self._finish(rhs, subst),
                       decl.tolerance, decl.span)
        except Failed:
            return None

    # ================================================================ expressions
    def expr(self, e: ast.Expr, subst: Subst, expected: tuple[Prod, Prod] | None = None) -> T.Term:
        method = getattr(self, f"_x_{type(e).__name__}")
        return method(e, subst, expected)

    def _x_Name(self, e: ast.Name, subst: Subst, expected) -> T.Term:
        name = e.name
        entry = self.entries.get(name)
        if entry is not None:
            if entry.kind in ("morphism", "let", "wiring", "data"):
                d = self._resolve(name)
                return _use(d.term, e.span)
            if entry.kind == "object":
                obj = self._resolve(name)
                p = Prod((obj,))
                return T.Struct(p, p, e.span, kind="id")
            if entry.kind == "type":
                p = self._resolve(name)
                return T.Struct(p, p, e.span, kind="id")
            if entry.kind == "param":
                info = self._resolve(name)
                return T.Param(UNIT, Prod((info.carrier,)), e.span, name=name, init=info.init,
                               init_args=info.init_args, literal=info.literal)
            if entry.kind == "dim":
                self.error("E0303", f"`{name}` is a dim, not a morphism", e.span)
                raise Failed
        if name in PRIMITIVES:
            return self._primitive(name, (), e, subst)
        if name in ("Unit",):
            return T.Struct(UNIT, UNIT, e.span, kind="id")
        if name in ("Real", "Nat", "Bool"):
            c = Prod((Carrier(name),))
            return T.Struct(c, c, e.span, kind="id")
        if name in FAMILIES or name in FUNCTORS:
            self.error("E0304", f"`{name}` needs arguments", e.span,
                       help=_family_usage(name))
            raise Failed
        if name in INITIALISERS or name == "load":
            self.error("E0305", f"`{name}` initialises a `param` or `data`; it is not a morphism",
                       e.span)
            raise Failed
        self._unknown(name, e.span)

    def _unknown(self, name: str, span: Span):
        candidates = [*self.entries, *(p for p in PRIMITIVES if self._visible(p))]
        hint = did_you_mean(name, candidates)
        if hint is None and name in PRIMITIVES:
            hint = f"`{name}` is in `{PRIMITIVES[name].module}`: add `import {PRIMITIVES[name].module}`"
        self.error("E0306", f"unknown name `{name}`", span, help=hint)
        raise Failed

    def _visible(self, prim: str) -> bool:
        return PRIMITIVES[prim].module in self.imported_std

    def _primitive(self, name: str, args: tuple[ast.Arg, ...], e, subst: Subst) -> T.Term:
        spec = PRIMITIVES[name]
        if not self._visible(name):
            self.error("E0306", f"unknown name `{name}`", e.span,
                       help=f"`{name}` is in `{spec.module}`: add `import {spec.module}`")
            raise Failed
        positional = [a for a in args if a.name is None]
        keywords = {a.name: a for a in args if a.name is not None}
        if len(positional) > len(spec.param_names) + len(spec.static_names):
            self.error("E0307", f"`{name}` takes {len(spec.param_names) + len(spec.static_names)} "
                       f"argument(s), got {len(positional)}", e.span, help=_prim_usage(spec))
            raise Failed
        static = dict(STATIC_DEFAULTS.get(name, {}))
        param_args: list[tuple[str, ast.Expr]] = []
        names = list(spec.param_names) + list(spec.static_names)
        for i, arg in enumerate(positional):
            param_args.append((names[i], arg.value))
        for key, arg in keywords.items():
            if key not in names:
                self.error("E0307", f"`{name}` has no argument `{key}`", arg.span, help=_prim_usage(spec))
                raise Failed
            param_args.append((key, arg.value))
        sig = spec.build({k: self._static_value(v) for k, v in param_args if k in spec.static_names}
                         | {k: v for k, v in static.items()
                            if k not in {n for n, _ in param_args}})
        arg_names: list[str] = []
        ports: list[Port] = []
        given = {k: v for k, v in param_args}
        for pname, ptype in zip(spec.param_names, sig.params, strict=True):
            if pname not in given:
                self.error("E0307", f"`{name}` needs its `{pname}` argument", e.span, help=_prim_usage(spec))
                raise Failed
            atom, ref_name, port = self._prim_param_arg(given[pname], name, pname)
            try:
                subst.flow(atom, ptype)
            except Mismatch as err:
                self.error("E0206", f"`{name}` needs `{pname}` of shape `{subst.carrier(ptype)}`, "
                           f"but `{ref_name}` is `{atom}`", given[pname].span, notes=_carrier_notes(err))
                raise Failed from None
            if ptype.shape.dims:
                for d in ptype.shape.dims:
                    var = d.variable
                    if var and var not in subst.origins:
                        subst.origins[var] = f"`{ref_name} : {atom}`"
            arg_names.append(ref_name)
            if port is not None and all(p.name != port.name for p in ports):
                ports.append(port)
        for sname in spec.static_names:
            if sname in given:
                static[sname] = self._static_value(given[sname])
        return T.Prim(sig.dom, sig.cod, e.span, name=name, static=tuple(sorted(static.items())),
                      args=tuple(arg_names), ports=tuple(ports))

    def _static_value(self, expr: ast.Expr) -> object:
        return self._number(expr)

    def _prim_param_arg(self, expr: ast.Expr, prim: str, pname: str):
        """A primitive's array argument: a param (learnable port), a data point or a literal."""
        if isinstance(expr, ast.Name):
            entry = self.entries.get(expr.name)
            if entry is not None and entry.kind == "param":
                info = self._resolve(expr.name)
                return info.carrier, expr.name, Port(expr.name, info.carrier, "param")
            if entry is not None and entry.kind == "data":
                d = self._resolve(expr.name)
                if len(d.term.cod) == 1:
                    atom = d.term.cod.atoms[0]
                    carrier = carrier_of(atom)
                    return (carrier if isinstance(carrier, Carrier) else atom), expr.name, None
            if entry is None and expr.name not in PRIMITIVES:
                self._unknown(expr.name, expr.span)
        self.error("E0208", f"`{prim}`'s `{pname}` must name a `param` or a `data` point", expr.span,
                   help=f"declare it: `param {pname} : Real[...] = zeros`")
        raise Failed

    def _x_Literal(self, e: ast.Literal, subst: Subst, expected) -> T.Term:
        v = e.value
        if isinstance(v, bool):
            c = Carrier("Bool")
        elif isinstance(v, int):
            c = Carrier("Nat")
        elif isinstance(v, float):
            c = Carrier("Real")
        else:
            self.error("E0309", "a string is not a morphism", e.span)
            raise Failed
        return T.Const(UNIT, Prod((c,)), e.span, name=_expr_text(e, self.sources), value=v)

    def _x_ListLiteral(self, e: ast.ListLiteral, subst: Subst, expected) -> T.Term:
        value = self._literal(e)
        shape = _literal_shape(value)
        if shape is None:
            self.error("E0415", "ragged literal array", e.span)
            raise Failed
        flat = _flatten(value)
        kind = "Nat" if all(isinstance(x, int) and not isinstance(x, bool) for x in flat) else "Real"
        c = Carrier("Real" if kind == "Real" else "Nat", Shape(tuple(Dim.const(n) for n in shape)))
        return T.Const(UNIT, Prod((c,)), e.span, name="literal", value=value)

    def _x_Hole(self, e: ast.Hole, subst: Subst, expected) -> T.Term:
        if expected is None:
            self._hole_report(e, None, None)
            raise Failed
        self._hole_report(e, subst.prod(expected[0]), subst.prod(expected[1]))
        return T.HoleTerm(expected[0], expected[1], e.span, name=e.name)

    def _hole_report(self, e: ast.Hole, dom: Prod | None, cod: Prod | None) -> None:
        label = f"`?{e.name}`" if e.name else "`?`"
        if dom is None or cod is None:
            self.error("E0601", f"hole {label}: its type cannot be inferred here", e.span,
                       help="give the definition a signature, e.g. `let f : A -> B = ?`")
            return
        fits = [name for name, (d, c) in self._morphism_sigs().items() if d == dom and c == cod]
        help_text = ("fits: " + ", ".join(f"`{f}`" for f in fits[:6])) if fits else \
            "no declared morphism has this type"
        self.error("E0601", f"hole {label} needs a morphism `{dom} -> {cod}`", e.span, help=help_text)

    def _morphism_sigs(self) -> dict[str, tuple[Prod, Prod]]:
        out = {}
        for name, entry in self.entries.items():
            if entry.kind in ("morphism", "let", "wiring") and name not in self.active:
                try:
                    d = self._resolve(name)
                except Failed:
                    continue
                out[name] = (d.term.dom, d.term.cod)
        return out

    def _x_Structural(self, e: ast.Structural, subst: Subst, expected) -> T.Term:
        types = [self.reader.type(a) for a in e.args]
        kind, n = e.kind, len(types)
        arity = {"id": (1,), "copy": (1, 2), "discard": (1,), "swap": (2,), "fst": (2,), "snd": (2,)}
        if n not in arity[kind]:
            self.error("E0310", f"`{kind}` takes {' or '.join(map(str, arity[kind]))} type(s), got {n}",
                       e.span, help=_struct_usage(kind))
            raise Failed
        a = types[0]
        if kind == "id":
            return T.Struct(a, a, e.span, kind="id")
        if kind == "copy":
            times = 2
            return T.Struct(a, prod(*([a] * times)), e.span, kind="copy", split=len(a))
        if kind == "discard":
            return T.Struct(a, UNIT, e.span, kind="discard", split=len(a))
        b = types[1]
        if kind == "swap":
            return T.Struct(a + b, b + a, e.span, kind="swap", split=len(a))
        if kind == "fst":
            return T.Struct(a + b, a, e.span, kind="fst", split=len(a))
        return T.Struct(a + b, b, e.span, kind="snd", split=len(a))

    def _x_Bracket(self, e: ast.Bracket, subst: Subst, expected) -> T.Term:
        func = e.func
        if isinstance(func, ast.Name) and (func.name in ("Real", "Index", "Simplex", "Bool", "List", "Option")
                                           or self.entries.get(func.name, Entry("", None)).kind in ("object", "type")):
            t = self.reader.type(ast.TApply(func.name, e.args, e.span))
            return T.Struct(t, t, e.span, kind="id")
        inner = self.expr(func, subst)
        user_ports = [p for p in inner.ports if p.kind == "port"]
        if len(e.args) > len(user_ports):
            self.error("E0311", f"`{_expr_text(func, self.sources)}` has {len(user_ports)} port(s), "
                       f"but {len(e.args)} are bound", e.span)
            raise Failed
        bindings = []
        bound_names = set()
        for port, arg in zip(user_ports, e.args, strict=False):
            if not isinstance(arg, ast.TName) or self.entries.get(arg.name, Entry("", None)).kind != "data":
                self.error("E0312", f"bind port `{port.name}` to a `data` point", arg.span)
                raise Failed
            point = self._resolve(arg.name).term
            try:
                subst.unify_prod(Prod((port.atom,)), point.cod)
            except Mismatch:
                self.error("E0206", f"port `{port.name}` is `{port.atom}`, but `{arg.name}` is "
                           f"`{point.cod}`", arg.span)
                raise Failed from None
            bindings.append((port.name, point))
            bound_names.add(port.name)
        ports = tuple(p for p in inner.ports if p.name not in bound_names)
        ports += tuple(p for _, pt in bindings for p in pt.ports if p not in ports)
        return T.Bind(inner.dom, inner.cod, e.span, inner=inner, bindings=tuple(bindings), ports=ports)

    def _x_Call(self, e: ast.Call, subst: Subst, expected) -> T.Term:
        if not isinstance(e.func, ast.Name):
            self.error("E0313", "only named primitives, families and functors can be called",
                       e.span, help="morphisms are applied to wires only inside a wiring block")
            raise Failed
        name = e.func.name
        if name in FUNCTORS:
            if len(e.args) != 1 or e.args[0].name is not None:
                self.error("E0304", f"`{name}` takes one morphism: `{name}(f)`", e.span)
                raise Failed
            inner = self.expr(e.args[0].value, subst)
            lift = lambda p: Prod((Carrier(name, elem=p),))  # noqa: E731
            return T.Functor(lift(inner.dom), lift(inner.cod), e.span, functor=name, inner=inner,
                             ports=inner.ports)
        if name in FAMILIES:
            return self._family(name, e, subst)
        if name in PRIMITIVES and name not in self.entries:
            return self._primitive(name, e.args, e, subst)
        entry = self.entries.get(name)
        if entry is not None and entry.kind in ("morphism", "let", "wiring"):
            self.error("E0314", f"`{name}` is a morphism; it is composed, not called", e.span,
                       help=f"write `... >> {name}`; apply to wires only inside a wiring block "
                            "`let f(x: A) -> B = {{ return {name}(x) }}`")
            raise Failed
        if name in INITIALISERS or name == "load":
            self.error("E0305", f"`{name}` initialises a `param` or `data`; it is not a morphism",
                       e.span)
            raise Failed
        self._unknown(name, e.func.span)

    # ---------------------------------------------------------------- composites
    def _x_Compose(self, e: ast.Compose, subst: Subst, expected) -> T.Term:
        parts: list[T.Term | None] = []
        failed = False
        for part in e.parts:
            if isinstance(part, ast.Hole):
                parts.append(None)
                continue
            try:
                parts.append(self.expr(part, subst))
            except Failed:
                failed = True
                parts.append(None)
        if failed:
            raise Failed
        # Fill holes from their neighbours (or the declared signature at the ends).
        for i, part in enumerate(parts):
            if part is None:
                hole = e.parts[i]
                dom = parts[i - 1].cod if i > 0 and parts[i - 1] is not None else (expected[0] if expected and i == 0 else None)
                cod = parts[i + 1].dom if i + 1 < len(parts) and parts[i + 1] is not None else (expected[1] if expected and i == len(parts) - 1 else None)
                self._hole_report(hole, subst.prod(dom) if dom is not None else None,
                                  subst.prod(cod) if cod is not None else None)
                if dom is None or cod is None:
                    raise Failed
                parts[i] = T.HoleTerm(dom, cod, hole.span, name=hole.name)
        ok = True
        ports: list[Port] = []
        for i in range(len(parts) - 1):
            left, right = parts[i], parts[i + 1]
            try:
                subst.unify_prod(right.dom, left.cod)
            except Mismatch as err:
                self._compose_error(e.parts[i], e.parts[i + 1], left, right, err, subst)
                ok = False
        if not ok:
            raise Failed
        for part in parts:
            self._merge_ports(ports, part.ports, e.span)
        return T.Seq(parts[0].dom, parts[-1].cod, e.span, parts=tuple(parts), ports=tuple(ports))

    def _merge_ports(self, ports: list[Port], new: tuple[Port, ...], span: Span) -> None:
        for port in new:
            same = next((p for p in ports if p.name == port.name), None)
            if same is None:
                ports.append(port)
            elif same.atom != port.atom:
                self.error("E0209", f"port `{port.name}` is used as `{same.atom}` and as `{port.atom}`",
                           span, help="one name is one wire: rename one of the ports")
                raise Failed

    def _compose_error(self, lexpr, rexpr, left: T.Term, right: T.Term, err: Mismatch,
                       subst: Subst) -> None:
        lname, rname = _expr_text(lexpr, self.sources), _expr_text(rexpr, self.sources)
        gives, takes = subst.prod(left.cod), subst.prod(right.dom)
        sigs = self._morphism_sigs()
        labels = (Label(lexpr.span, f"this gives `{gives}`"),)
        notes: list[str] = []
        if len(gives) != len(takes):
            help_text = None
            if len(takes) > len(gives) and takes.atoms[: len(gives)] == gives.atoms:
                extra = Prod(takes.atoms[len(gives):])
                last = _last_name(lexpr)
                help_text = (
                    f"carry the extra input alongside: pair it with `{last} * {extra}` "
                    f"(e.g. `(... >> {last}) * {extra} >> {rname}`), or declare it as a port: "
                    f"`morphism {rname}[target: {extra}] : {gives} -> {subst.prod(right.cod)}`"
                )
            self.error(
                "E0202",
                f"`{rname}` takes `{takes}` ({len(takes)} wire{'s' * (len(takes) != 1)}), "
                f"but `{lname}` gives `{gives}` ({len(gives)} wire{'s' * (len(gives) != 1)})",
                rexpr.span, help=help_text, labels=labels,
            )
            return
        index = next(
            (i for i, (a, b) in enumerate(zip(gives.atoms, takes.atoms, strict=True)) if not _meets(a, b)),
            0,
        )
        found, want = gives.atoms[index], takes.atoms[index]
        note = same_carrier_note(found, want)
        if note:
            notes.append(note)
        notes.extend(_carrier_notes(err, subst))
        options = bridges(found, want, sigs)
        help_text = None
        if options:
            insert = options[0]
            if len(gives) == 1:
                help_text = f"insert {signature(insert, Prod((found,)), Prod((want,))) if ' ' not in insert else '`' + insert + '`'}: `{lname} >> {insert} >> {rname}`"
            else:
                wires = [str(a) for a in gives.atoms]
                wires[index] = insert
                help_text = f"insert `{insert}` on that wire: `{' * '.join(wires)} >> {rname}`"
        elif err.reason == "structural value entering a nominal object":
            help_text = (f"a raw value is not a `{want}`: build it at its boundary, e.g. "
                         f"`data x : {want} = {lname}`, then compose `x >> {rname}`"
                         if isinstance(lexpr, ast.Literal) else
                         f"a value enters `{want}` only through a declared morphism with codomain "
                         f"`{want}`")
        where = f" (wire {index + 1} of {len(gives)})" if len(gives) > 1 else ""
        if isinstance(found, Carrier) and isinstance(want, Obj):
            found_text = (f"the integer `{lname}`" if found.kind == "Nat" and not found.shape.dims
                          else describe(found))
            message = f"expected {describe(want)}, found {found_text}{where}: `{rname}` cannot take the output of `{lname}`"
        else:
            message = f"cannot compose `{lname}` with `{rname}`: {describe(found)} is not {describe(want)}{where}"
        self.error("E0201", message, rexpr.span, help=help_text, labels=labels, notes=tuple(notes))

    def _x_Tensor(self, e: ast.Tensor, subst: Subst, expected) -> T.Term:
        parts = self._each(e.parts, subst)
        ports: list[Port] = []
        for part in parts:
            self._merge_ports(ports, part.ports, e.span)
        return T.Par(prod(*(p.dom for p in parts)), prod(*(p.cod for p in parts)), e.span,
                     parts=tuple(parts), ports=tuple(ports))

    def _x_Pairing(self, e: ast.Pairing, subst: Subst, expected) -> T.Term:
        parts = self._each(e.parts, subst)
        for part, pexpr in zip(parts[1:], e.parts[1:], strict=True):
            try:
                subst.unify_prod(parts[0].dom, part.dom)
            except Mismatch:
                self.error("E0203", f"the branches of a pairing must share a domain: "
                           f"`{subst.prod(parts[0].dom)}` and `{subst.prod(part.dom)}`", pexpr.span,
                           labels=(Label(e.parts[0].span, f"this takes `{subst.prod(parts[0].dom)}`"),))
                raise Failed from None
        ports: list[Port] = []
        for part in parts:
            self._merge_ports(ports, part.ports, e.span)
        return T.Pair(parts[0].dom, prod(*(p.cod for p in parts)), e.span, parts=tuple(parts),
                      ports=tuple(ports))

    def _each(self, exprs, subst: Subst) -> list[T.Term]:
        out, failed = [], False
        for x in exprs:
            try:
                out.append(self.expr(x, subst))
            except Failed:
                failed = True
        if failed:
            raise Failed
        return out

    def _x_Power(self, e: ast.Power, subst: Subst, expected) -> T.Term:
        base = self.expr(e.base, subst)
        n = e.exponent
        if isinstance(n, str):
            dim = self._dim_value(n)
            if dim is None or dim.value is None:
                self.error("E0315", f"the exponent `{n}` must be a dim with a size", e.exponent_span)
                raise Failed
            n = dim.value
        dom, cod = subst.prod(base.dom), subst.prod(base.cod)
        try:
            subst.unify_prod(dom, cod)
        except Mismatch:
            name = _expr_text(e.base, self.sources)
            help_text = "only an endomorphism `A -> A` can be iterated"
            if len(dom) > len(cod) and dom.atoms[: len(cod)] == cod.atoms:
                help_text = (f"`{dom} -> {cod}` is a product-input morphism returning "
                             f"`{cod}`, not an endomorphism: fix the extra input as a port "
                             "(`f[port]`) or thread it through so the type is `A -> A`")
            elif any(isinstance(a, Record) for a in dom.atoms):
                help_text = (f"a training step must return `{dom}` to be iterated; "
                             "`TrainStep(loss, data, lr)` is such a step")
            self.error("E0316", f"`^` needs an endomorphism, but `{name}` is `{dom} -> {cod}`",
                       e.base.span, help=help_text)
            raise Failed from None
        return T.Power(dom, dom, e.span, base=base, n=int(n), ports=base.ports)

    # ================================================================ training families
    def _family(self, name: str, e: ast.Call, subst: Subst) -> T.Term:
        positional = [a for a in e.args if a.name is None]
        keywords = {a.name: a.value for a in e.args if a.name is not None}
        if not positional:
            self.error("E0304", f"`{name}` needs a loss", e.span, help=_family_usage(name))
            raise Failed
        loss = self.expr(positional[0].value, subst)
        loss_text = _expr_text(positional[0].value, self.sources)
        record = self._params_record(loss, loss_text)
        params = tuple(sorted((p for p in loss.ports if p.kind == "param"),
                              key=lambda p: self._param_order(p.name)))
        if name in ("Init", "AdamInit", "MomentumInit", "AdamParams", "MomentumParams"):
            if len(positional) > 1 or keywords:
                self.error("E0307", f"`{name}` takes only the loss", e.span, help=_family_usage(name))
                raise Failed
            state = {"Init": record, "AdamInit": self._adam_record(record),
                     "MomentumInit": self._momentum_record(record)}
            if name in state:
                return T.Train(UNIT, Prod((state[name],)), e.span, family=name, loss=loss, data=None,
                               params=params)
            source = self._adam_record(record) if name == "AdamParams" else self._momentum_record(record)
            return T.Train(Prod((source,)), Prod((record,)), e.span, family=name, loss=loss,
                           data=None, params=params)
        data = None
        rest = positional[1:]
        hyper_names = HYPER.get(name, ())
        user_ports = tuple(p for p in loss.ports if p.kind == "port")
        needs_data = bool(loss.dom.atoms) or bool(user_ports)
        if needs_data:
            if not rest and "data" not in keywords:
                self.error("E0317", f"`{name}` needs the training data: `{name}({loss_text}, data, ...)`",
                           e.span, help=f"the loss takes `{loss.dom}`; pass a `data` point of a list of them")
                raise Failed
            data_expr = keywords.pop("data", None) or rest.pop(0).value
            data = self.expr(data_expr, subst)
            self._check_data(name, loss, data, data_expr, subst, user_ports)
        hyper: dict[str, float] = {}
        for key, value in zip(hyper_names, rest, strict=False):
            hyper[key] = float(self._number(value.value))
        if len(rest) > len(hyper_names):
            self.error("E0307", f"`{name}` takes {len(hyper_names)} hyper-parameter(s) after the data",
                       e.span, help=_family_usage(name))
            raise Failed
        for key, value in keywords.items():
            if key not in hyper_names:
                self.error("E0307", f"`{name}` has no argument `{key}`", value.span, help=_family_usage(name))
                raise Failed
            hyper[key] = float(self._number(value))
        for key in hyper_names:
            if key not in hyper:
                if key not in HYPER_DEFAULTS:
                    self.error("E0307", f"`{name}` needs `{key}`", e.span, help=_family_usage(name))
                    raise Failed
                hyper[key] = HYPER_DEFAULTS[key]
        self._check_hyper(name, hyper, e)
        if name == "MeanLoss":
            if len(loss.cod) != 1:
                self.error("E0318", f"`MeanLoss` needs a loss with one output, not `{loss.cod}`", e.span)
                raise Failed
            return T.Train(Prod((record,)), loss.cod, e.span, family=name, loss=loss, data=data,
                           params=params)
        state = {"TrainStep": record, "Momentum": self._momentum_record(record),
                 "Adam": self._adam_record(record)}[name]
        return T.Train(Prod((state,)), Prod((state,)), e.span, family=name, loss=loss, data=data,
                       params=params, hyper=tuple(hyper.items()))

    def _check_data(self, name, loss: T.Term, data: T.Term, data_expr, subst: Subst, user_ports) -> None:
        elem_expected = loss.dom + Prod(tuple(p.atom for p in user_ports))
        carrier = carrier_of(data.cod.atoms[0]) if len(data.cod) == 1 else None
        if data.dom.atoms or not isinstance(carrier, Carrier) or carrier.kind != "List":
            self.error("E0319", f"`{name}`'s data must be a point of a list of `{elem_expected}`, "
                       f"found `{data.dom} -> {data.cod}`", data_expr.span,
                       help="declare it with `data name : List[...] = [...]`, or compose a point "
                            "with a morphism, e.g. `corpus >> Windowing`")
            raise Failed
        try:
            subst.unify_prod(elem_expected, carrier.elem)
        except Mismatch:
            self.error("E0319", f"`{name}`'s data holds `{carrier.elem}`, but the loss takes "
                       f"`{elem_expected}`", data_expr.span)
            raise Failed from None

    def _check_hyper(self, name: str, hyper: dict[str, float], e: ast.Call) -> None:
        lr = hyper.get("lr")
        if lr is not None and not (lr > 0 and lr != float("inf")):
            self.error("E0320", f"invalid learning rate {lr}: it must be finite and > 0", e.span)
            raise Failed
        for key in ("beta", "beta1", "beta2"):
            if key in hyper and not 0 <= hyper[key] < 1:
                self.error("E0320", f"invalid Adam decay rate `{key}` = {hyper[key]}: it must lie in [0, 1)",
                           e.span)
                raise Failed
        if "eps" in hyper and not hyper["eps"] > 0:
            self.error("E0320", f"invalid epsilon {hyper['eps']}: it must be > 0", e.span)
            raise Failed

    def _param_order(self, name: str) -> int:
        return self.order.index(name) if name in self.order else 10**6

    def _params_record(self, loss: T.Term, text: str) -> Record:
        params = sorted((p for p in loss.ports if p.kind == "param"), key=lambda p: self._param_order(p.name))
        return Record("Params", tuple((p.name, p.atom) for p in params), f"Params({text})")

    def _adam_record(self, params: Record) -> Record:
        nat = Carrier("Nat")
        inner = params.name[len("Params"):]
        return Record("AdamState", (("params", params), ("m", params), ("v", params), ("step", nat)),
                      f"AdamState{inner}")

    def _momentum_record(self, params: Record) -> Record:
        inner = params.name[len("Params"):]
        return Record("MomentumState", (("params", params), ("velocity", params)),
                      f"MomentumState{inner}")

    # ================================================================ finishing
    def _finish(self, term: T.Term, subst: Subst) -> T.Term:
        """Apply the final bindings everywhere and fill in kernel element ranks."""
        for p in (term.dom, term.cod):
            subst.default_rests(p)
        return _resolve_term(term, subst)

    # ================================================================ entry point
    def run(self) -> CheckedProgram:
        program = CheckedProgram(self.file, sources=self.sources)
        for name in self.order:
            try:
                result = self._resolve(name)
            except Failed:
                continue
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
        program.diagnostics = [d for d in self.diagnostics if d.code != "E0000"]
        program.diagnostics.sort(key=lambda d: (d.span.file, d.span.line, d.span.column) if d.span else ("", 0, 0))
        return program


# ==================================================================== helpers


def _use(term: T.Term, span: Span) -> T.Term:
    """A use of a named definition: its term, with the span of the use (for diagnostics)."""
    return replace(term, span=span) if isinstance(term, T.Ref) else term


def _meets(a: Atom, b: Atom) -> bool:
    try:
        Subst().flow(a, b)
        return True
    except Mismatch:
        return False


def _carrier_notes(err: Mismatch, subst: Subst | None = None,
                   declared_atoms: Prod | None = None) -> tuple[str, ...]:
    if err.reason in ("dims differ", "ranks differ") and err.expected is not None:
        found = err.found
        if isinstance(found, Obj):
            found = f"{found.name}` = `{found.carrier}"
        expected = _strip_rest(err.expected)
        return (f"the shapes differ: expected `{expected}`, found `{found}`"
                + _dim_bindings(err.expected),)
    if err.reason == "carriers differ" and err.expected is not None:
        return (f"expected a `{err.expected}`, found a `{err.found}`",)
    return ()


def _strip_rest(x):
    if isinstance(x, Carrier) and x.shape.rest:
        return Carrier(x.kind, Shape(x.shape.dims), x.bound, x.elem)
    return x


def _origin_notes(body: T.Term) -> tuple[str, ...]:
    """Where a primitive's shape came from: its array arguments and their dims."""
    prim = body
    while isinstance(prim, T.Seq):
        prim = prim.parts[0]
    if not isinstance(prim, T.Prim) or not prim.args:
        return ()
    pieces = []
    for arg in prim.args:
        port = next((p for p in prim.ports if p.name == arg), None)
        if port is not None:
            pieces.append(f"`{arg} : {port.atom}`" + _dim_bindings(port.atom))
    return (f"`{prim.name}` takes its shape from " + " and ".join(pieces),) if pieces else ()


def _dim_bindings(x) -> str:
    dims = getattr(getattr(x, "shape", None), "dims", ())
    bound = [f"{d.label} = {d.value}" for d in dims if d.label and d.value is not None]
    return f" (with {', '.join(bound)})" if bound else ""


def _last_name(expr: ast.Expr) -> str:
    if isinstance(expr, ast.Compose):
        return _last_name(expr.parts[-1])
    if isinstance(expr, ast.Name):
        return expr.name
    return "f"


def _expr_text(expr, sources: dict[str, str]) -> str:
    span = expr.span
    text = sources.get(span.file)
    if text is None:
        return "expression"
    lines = text.split("\n")
    if span.line == span.end_line and 0 < span.line <= len(lines):
        snippet = lines[span.line - 1][span.column - 1: span.end_column - 1]
    else:
        snippet = lines[span.line - 1][span.column - 1:] + " …"
    snippet = " ".join(snippet.split())
    return snippet if len(snippet) <= 40 else snippet[:37] + "…"


def _literal_shape(value) -> tuple[int, ...] | None:
    if not isinstance(value, tuple):
        return ()
    if not value:
        return (0,)
    shapes = {_literal_shape(v) for v in value}
    if len(shapes) != 1 or None in shapes:
        return None
    return (len(value), *shapes.pop())


def _flatten(value) -> list:
    if isinstance(value, tuple):
        return [x for v in value for x in _flatten(v)]
    return [value]


def _family_usage(name: str) -> str:
    return {
        "Init": "`Init(loss) : Unit -> Params(loss)`",
        "MeanLoss": "`MeanLoss(loss, data) : Params(loss) -> Loss`",
        "TrainStep": "`TrainStep(loss, data, lr = 0.1) : Params(loss) -> Params(loss)`",
        "Momentum": "`Momentum(loss, data, lr = 0.1, beta = 0.9)` on `MomentumState(loss)`",
        "MomentumInit": "`MomentumInit(loss) : Unit -> MomentumState(loss)`",
        "MomentumParams": "`MomentumParams(loss) : MomentumState(loss) -> Params(loss)`",
        "Adam": "`Adam(loss, data, lr, beta1 = 0.9, beta2 = 0.999, eps = 1e-8)` on `AdamState(loss)`",
        "AdamInit": "`AdamInit(loss) : Unit -> AdamState(loss)`",
        "AdamParams": "`AdamParams(loss) : AdamState(loss) -> Params(loss)`",
        "List": "`List(f) : List[A] -> List[B]` for `f : A -> B`",
        "Option": "`Option(f) : Option[A] -> Option[B]` for `f : A -> B`",
    }.get(name, "")


def _prim_usage(spec) -> str:
    args = ", ".join([*spec.param_names, *(f"{s} = …" for s in spec.static_names)])
    return f"`{spec.name}({args})`: {spec.doc}" if args else f"`{spec.name}`: {spec.doc}"


def _struct_usage(kind: str) -> str:
    return {"id": "`id[A]`", "copy": "`copy[A]`", "discard": "`discard[A]`",
            "swap": "`swap[A, B]`", "fst": "`fst[A, B]`", "snd": "`snd[A, B]`"}[kind]


def _resolve_term(term, subst: Subst):
    """Rebuild a term with every type resolved; compute `in_ranks` of primitives."""
    if not is_dataclass(term):
        return term
    changes = {}
    for f in fields(term):
        value = getattr(term, f.name)
        if isinstance(value, Prod):
            changes[f.name] = subst.prod(value)
        elif isinstance(value, T.Term):
            changes[f.name] = _resolve_term(value, subst)
        elif isinstance(value, tuple) and value and isinstance(value[0], Port):
            changes[f.name] = tuple(Port(p.name, subst.atom(p.atom), p.kind) for p in value)
        elif isinstance(value, tuple) and any(isinstance(v, T.Term) or _has_term(v) for v in value):
            changes[f.name] = tuple(_resolve_nested(v, subst) for v in value)
    new = replace(term, **changes)
    if isinstance(new, T.Prim):
        arg_ranks = tuple(len(p.atom.shape.dims) if isinstance(p.atom, Carrier) else 0
                          for name in new.args for p in new.ports if p.name == name)
        if len(arg_ranks) != len(new.args):
            arg_ranks = tuple(0 for _ in new.args)
        new = replace(new, in_ranks=tuple(element_rank(a) for a in new.dom.atoms) + arg_ranks)
    return new


def _has_term(v) -> bool:
    return isinstance(v, tuple) and any(isinstance(x, T.Term) or _has_term(x) for x in v)


def _resolve_nested(v, subst):
    if isinstance(v, T.Term):
        return _resolve_term(v, subst)
    if isinstance(v, tuple):
        return tuple(_resolve_nested(x, subst) for x in v)
    return v
