"""Morphism expressions: names, primitives, structure, composition, products, powers."""

from __future__ import annotations

from dataclasses import replace

from catdsl.errors import IllegalComposition, Label, Span
from catdsl.std.signatures import COUNT_ARGUMENTS, MAX_COUNT, PRIMITIVES, STATIC_DEFAULTS
from catdsl.syntax import ast
from catdsl.typesys import terms as T
from catdsl.typesys.check_base import (
    FAMILIES,
    FUNCTORS,
    INITIALISERS,
    Entry,
    Failed,
    carrier_notes,
    dim_bindings,
    expr_text,
    family_usage,
    flatten,
    last_name,
    literal_shape,
    meets,
    prim_usage,
    struct_usage,
    use,
)
from catdsl.typesys.declarations import TypeError_
from catdsl.typesys.dims import Dim
from catdsl.typesys.hints import bridges, describe, did_you_mean, same_carrier_note, signature
from catdsl.typesys.resolve import resolve_term
from catdsl.typesys.types import (
    UNIT,
    Atom,
    Carrier,
    Obj,
    Port,
    Prod,
    Record,
    Shape,
    carrier_of,
    prod,
)
from catdsl.typesys.unify import Mismatch, Subst


class ExpressionsMixin:
    """Morphism expressions: names, primitives, structure, composition, products, powers."""

    # ================================================================ expressions
    def expr(self, e: ast.Expr, subst: Subst, expected: tuple[Prod, Prod] | None = None) -> T.Term:
        method = getattr(self, f"_x_{type(e).__name__}")
        try:
            return method(e, subst, expected)
        except TypeError_ as err:
            self.diagnostics.append(err.diagnostic)
            raise Failed from None

    def _x_Name(self, e: ast.Name, subst: Subst, expected) -> T.Term:
        name = e.name
        entry = self.entries.get(name)
        if entry is not None:
            if entry.kind in ("morphism", "let", "wiring", "data"):
                d = self._resolve(name)
                return use(d.term, e.span)
            if entry.kind == "object":
                obj = self._resolve(name)
                p = Prod((obj,))
                return T.Struct(p, p, e.span, kind="id")
            if entry.kind == "type":
                p = self._resolve(name)
                return T.Struct(p, p, e.span, kind="id")
            if entry.kind == "param":
                info = self._resolve(name)
                return T.Param(
                    UNIT,
                    Prod((info.carrier,)),
                    e.span,
                    name=name,
                    init=info.init,
                    init_args=info.init_args,
                    literal=info.literal,
                )
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
            self.error("E0304", f"`{name}` needs arguments", e.span, help=family_usage(name))
            raise Failed
        if name in INITIALISERS or name == "load":
            self.error(
                "E0305", f"`{name}` initialises a `param` or `data`; it is not a morphism", e.span
            )
            raise Failed
        self._unknown(name, e.span)

    def _unknown(self, name: str, span: Span):
        candidates = [*self.entries, *(p for p in PRIMITIVES if self._visible(p))]
        hint = did_you_mean(name, candidates)
        if hint is None and name in PRIMITIVES:
            module = PRIMITIVES[name].module
            hint = f"`{name}` is in `{module}`: add `import {module}`"
        self.error("E0306", f"unknown name `{name}`", span, help=hint)
        raise Failed

    def _visible(self, prim: str) -> bool:
        return PRIMITIVES[prim].module in self.imported_std

    def _primitive(self, name: str, args: tuple[ast.Arg, ...], e, subst: Subst) -> T.Term:
        spec = PRIMITIVES[name]
        if not self._visible(name):
            self.error(
                "E0306",
                f"unknown name `{name}`",
                e.span,
                help=f"`{name}` is in `{spec.module}`: add `import {spec.module}`",
            )
            raise Failed
        positional = [a for a in args if a.name is None]
        keywords = {a.name: a for a in args if a.name is not None}
        if len(positional) > len(spec.param_names) + len(spec.static_names):
            self.error(
                "E0307",
                f"`{name}` takes {len(spec.param_names) + len(spec.static_names)} "
                f"argument(s), got {len(positional)}",
                e.span,
                help=prim_usage(spec),
            )
            raise Failed
        static = dict(STATIC_DEFAULTS.get(name, {}))
        param_args: list[tuple[str, ast.Expr]] = []
        names = list(spec.param_names) + list(spec.static_names)
        for i, arg in enumerate(positional):
            param_args.append((names[i], arg.value))
        for key, arg in keywords.items():
            if key not in names:
                self.error(
                    "E0307", f"`{name}` has no argument `{key}`", arg.span, help=prim_usage(spec)
                )
                raise Failed
            param_args.append((key, arg.value))
        sig = spec.build(
            {k: self._static_value(v, name, k) for k, v in param_args if k in spec.static_names}
            | {k: v for k, v in static.items() if k not in {n for n, _ in param_args}}
        )
        arg_names: list[str] = []
        arg_types: list[Atom] = []
        ports: list[Port] = []
        given = {k: v for k, v in param_args}
        for pname, ptype in zip(spec.param_names, sig.params, strict=True):
            if pname not in given:
                self.error(
                    "E0307",
                    f"`{name}` needs its `{pname}` argument",
                    e.span,
                    help=prim_usage(spec),
                )
                raise Failed
            atom, ref_name, port = self._prim_param_arg(given[pname], name, pname)
            try:
                subst.flow(atom, ptype)
            except Mismatch as err:
                wanted = subst.carrier(ptype)
                sources = [
                    f"`{n} : {t}`{dim_bindings(t)}"
                    for n, t in zip(arg_names, arg_types, strict=True)
                ]
                origin = (f"`{name}` takes that shape from {' and '.join(sources)}",)
                self.error(
                    "E0206",
                    f"`{name}` needs `{pname}` of shape `{wanted}`, but `{ref_name}` is `{atom}`",
                    given[pname].span,
                    notes=carrier_notes(err) + (origin if sources else ()),
                    help=f"declare `param {ref_name} : {wanted}`"
                    if port is not None and _is_concrete(wanted)
                    else prim_usage(spec),
                )
                raise Failed from None
            arg_names.append(ref_name)
            arg_types.append(atom)
            if port is not None and all(p.name != port.name for p in ports):
                ports.append(port)
        for sname in spec.static_names:
            if sname in given:
                static[sname] = self._static_value(given[sname], name, sname)
        return T.Prim(
            sig.dom,
            sig.cod,
            e.span,
            name=name,
            static=tuple(sorted(static.items())),
            args=tuple(arg_names),
            arg_types=tuple(arg_types),
            ports=tuple(ports),
        )

    def _static_value(self, expr: ast.Expr, prim: str = "", key: str = "") -> object:
        """A constant argument; counts (`windows(k)`, `concat_heads(n)`) are small whole numbers."""
        value = self._number(expr)
        if COUNT_ARGUMENTS.get(prim) == key and not (
            isinstance(value, int) and 1 <= value <= MAX_COUNT
        ):
            self.error(
                "E0307",
                f"`{prim}`'s `{key}` must be a whole number from 1 to {MAX_COUNT}, not {value}",
                expr.span,
            )
            raise Failed
        return value

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
        self.error(
            "E0208",
            f"`{prim}`'s `{pname}` must name a `param` or a `data` point",
            expr.span,
            help=f"declare it: `param {pname} : Real[...] = zeros`",
        )
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
        return T.Const(UNIT, Prod((c,)), e.span, name=expr_text(e, self.sources), value=v)

    def _x_ListLiteral(self, e: ast.ListLiteral, subst: Subst, expected) -> T.Term:
        value = self._literal(e)
        shape = literal_shape(value)
        if shape is None:
            self.error("E0415", "ragged literal array", e.span)
            raise Failed
        flat = flatten(value)
        kind = (
            "Nat" if all(isinstance(x, int) and not isinstance(x, bool) for x in flat) else "Real"
        )
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
            self.error(
                "E0601",
                f"hole {label}: its type cannot be inferred here",
                e.span,
                help="give the definition a signature, e.g. `let f : A -> B = ?`",
            )
            return
        fits = [name for name, (d, c) in self._morphism_sigs().items() if d == dom and c == cod]
        help_text = (
            ("fits: " + ", ".join(f"`{f}`" for f in fits[:6]))
            if fits
            else "no declared morphism has this type"
        )
        self.error(
            "E0601", f"hole {label} needs a morphism `{dom} -> {cod}`", e.span, help=help_text
        )

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
        arity = {
            "id": (1,),
            "copy": (1, 2),
            "discard": (1,),
            "swap": (2,),
            "fst": (2,),
            "snd": (2,),
        }
        if n not in arity[kind]:
            self.error(
                "E0310",
                f"`{kind}` takes {' or '.join(map(str, arity[kind]))} type(s), got {n}",
                e.span,
                help=struct_usage(kind),
            )
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
        if isinstance(func, ast.Name) and (
            func.name in ("Real", "Index", "Simplex", "Bool", "List", "Option")
            or self.entries.get(func.name, Entry("", None)).kind in ("object", "type")
        ):
            t = self.reader.type(ast.TApply(func.name, e.args, e.span))
            return T.Struct(t, t, e.span, kind="id")
        inner = self.expr(func, subst)
        user_ports = [p for p in inner.ports if p.kind == "port"]
        if len(e.args) > len(user_ports):
            self.error(
                "E0311",
                f"`{expr_text(func, self.sources)}` has {len(user_ports)} port(s), "
                f"but {len(e.args)} are bound",
                e.span,
            )
            raise Failed
        bindings = []
        bound_names = set()
        for port, arg in zip(user_ports, e.args, strict=False):
            if (
                not isinstance(arg, ast.TName)
                or self.entries.get(arg.name, Entry("", None)).kind != "data"
            ):
                self.error("E0312", f"bind port `{port.name}` to a `data` point", arg.span)
                raise Failed
            point = self._resolve(arg.name).term
            try:
                subst.unify_prod(Prod((port.atom,)), point.cod)
            except Mismatch:
                self.error(
                    "E0206",
                    f"port `{port.name}` is `{port.atom}`, but `{arg.name}` is `{point.cod}`",
                    arg.span,
                )
                raise Failed from None
            bindings.append((port.name, point))
            bound_names.add(port.name)
        ports = tuple(p for p in inner.ports if p.name not in bound_names)
        ports += tuple(p for _, pt in bindings for p in pt.ports if p not in ports)
        return T.Bind(
            inner.dom, inner.cod, e.span, inner=inner, bindings=tuple(bindings), ports=ports
        )

    def _x_Call(self, e: ast.Call, subst: Subst, expected) -> T.Term:
        if not isinstance(e.func, ast.Name):
            self.error(
                "E0313",
                "only named primitives, families and functors can be called",
                e.span,
                help="morphisms are applied to wires only inside a wiring block",
            )
            raise Failed
        name = e.func.name
        if name in FUNCTORS:
            if len(e.args) != 1 or e.args[0].name is not None:
                self.error("E0304", f"`{name}` takes one morphism: `{name}(f)`", e.span)
                raise Failed
            inner = self.expr(e.args[0].value, subst)
            lift = lambda p: Prod((Carrier(name, elem=p),))  # noqa: E731
            return T.Functor(
                lift(inner.dom),
                lift(inner.cod),
                e.span,
                functor=name,
                inner=inner,
                ports=inner.ports,
            )
        if name in FAMILIES:
            return self._family(name, e, subst)
        if name in PRIMITIVES and name not in self.entries:
            return self._primitive(name, e.args, e, subst)
        entry = self.entries.get(name)
        if entry is not None and entry.kind in ("morphism", "let", "wiring"):
            self.error(
                "E0314",
                f"`{name}` is a morphism; it is composed, not called",
                e.span,
                help=f"write `... >> {name}`; apply to wires only inside a wiring block "
                f"`let f(x: A) -> B = {{ return {name}(x) }}`",
            )
            raise Failed
        if entry is not None and entry.kind in ("object", "type"):
            self.error(
                "E0313",
                f"`{name}` is an object, not a function",
                e.span,
                help=f"build a value of `{name}` at its boundary: `data t : {name} = ...`, "
                f"then compose `t >> ...`",
            )
            raise Failed
        if name in INITIALISERS or name == "load":
            self.error(
                "E0305", f"`{name}` initialises a `param` or `data`; it is not a morphism", e.span
            )
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
                dom = (
                    parts[i - 1].cod
                    if i > 0 and parts[i - 1] is not None
                    else (expected[0] if expected and i == 0 else None)
                )
                cod = (
                    parts[i + 1].dom
                    if i + 1 < len(parts) and parts[i + 1] is not None
                    else (expected[1] if expected and i == len(parts) - 1 else None)
                )
                self._hole_report(
                    hole,
                    subst.prod(dom) if dom is not None else None,
                    subst.prod(cod) if cod is not None else None,
                )
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
                self._attach_figure(e, parts, i, subst)
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
                self.error(
                    "E0209",
                    f"port `{port.name}` is used as `{same.atom}` and as `{port.atom}`",
                    span,
                    help="one name is one wire: rename one of the ports",
                )
                raise Failed

    def _attach_figure(self, e: ast.Compose, parts: list, i: int, subst: Subst) -> None:
        """Give the last diagnostic the chain's boxes so `catdsl draw` can show it in red."""
        last = self.diagnostics[-1]
        boxes = tuple(
            (
                expr_text(x, self.sources),
                tuple(str(a) for a in subst.prod(t.dom).atoms),
                tuple(str(a) for a in subst.prod(t.cod).atoms),
            )
            for x, t in zip(e.parts, parts, strict=True)
        )
        gives, takes = subst.prod(parts[i].cod), subst.prod(parts[i + 1].dom)
        terms = tuple(resolve_term(t, subst) for t in parts)
        figure = IllegalComposition(
            self.active[-1] if self.active else None, boxes, i, str(takes), str(gives), terms
        )
        self.diagnostics[-1] = replace(last, figure=figure)

    def _compose_error(
        self, lexpr, rexpr, left: T.Term, right: T.Term, err: Mismatch, subst: Subst
    ) -> None:
        lname, rname = expr_text(lexpr, self.sources), expr_text(rexpr, self.sources)
        for side in (left.cod, right.dom):  # no `*s` in messages: an unbatched value
            subst.default_rests(subst.prod(side))
        gives, takes = subst.prod(left.cod), subst.prod(right.dom)
        sigs = self._morphism_sigs()
        labels = (Label(lexpr.span, f"this gives `{gives}`"),)
        notes: list[str] = []
        if len(gives) != len(takes):
            help_text = None
            if len(takes) > len(gives) and takes.atoms[: len(gives)] == gives.atoms:
                extra = Prod(takes.atoms[len(gives) :])
                last = last_name(lexpr)
                help_text = (
                    f"carry the extra input alongside: pair it with `{last} * {extra}` "
                    f"(e.g. `(... >> {last}) * {extra} >> {rname}`), or declare it as a port: "
                    f"`morphism {rname}[target: {extra}] : {gives} -> {subst.prod(right.cod)}`"
                )
            self.error(
                "E0202",
                f"`{rname}` takes `{takes}` ({len(takes)} wire{'s' * (len(takes) != 1)}), "
                f"but `{lname}` gives `{gives}` ({len(gives)} wire{'s' * (len(gives) != 1)})",
                rexpr.span,
                help=help_text,
                labels=labels,
            )
            return
        index = next(
            (
                i
                for i, (a, b) in enumerate(zip(gives.atoms, takes.atoms, strict=True))
                if not meets(a, b)
            ),
            0,
        )
        found, want = gives.atoms[index], takes.atoms[index]
        note = same_carrier_note(found, want)
        if note:
            notes.append(note)
        notes.extend(carrier_notes(err, subst))
        options = bridges(found, want, sigs)
        help_text = None
        if options:
            insert = options[0]
            if len(gives) == 1:
                shown = (
                    signature(insert, Prod((found,)), Prod((want,)))
                    if " " not in insert
                    else f"`{insert}`"
                )
                help_text = f"insert {shown}: `{lname} >> {insert} >> {rname}`"
            else:
                wires = [str(a) for a in gives.atoms]
                wires[index] = insert
                help_text = f"insert `{insert}` on that wire: `{' * '.join(wires)} >> {rname}`"
        elif err.reason == "structural value entering a nominal object":
            help_text = (
                f"a raw value is not a `{want}`: build it at its boundary, e.g. "
                f"`data x : {want} = {lname}`, then compose `x >> {rname}`"
                if isinstance(lexpr, ast.Literal)
                else f"a value enters `{want}` only through a declared morphism with codomain "
                f"`{want}`"
            )
        where = f" (wire {index + 1} of {len(gives)})" if len(gives) > 1 else ""
        if isinstance(found, Carrier) and isinstance(want, Obj):
            found_text = (
                f"the integer `{lname}`"
                if found.kind == "Nat" and not found.shape.dims
                else describe(found)
            )
            message = (
                f"expected {describe(want)}, found {found_text}{where}: "
                f"`{rname}` cannot take the output of `{lname}`"
            )
        else:
            message = (
                f"cannot compose `{lname}` with `{rname}`: "
                f"{describe(found)} is not {describe(want)}{where}"
            )
        self.error("E0201", message, rexpr.span, help=help_text, labels=labels, notes=tuple(notes))

    def _x_Tensor(self, e: ast.Tensor, subst: Subst, expected) -> T.Term:
        parts = self._each(e.parts, subst)
        ports: list[Port] = []
        for part in parts:
            self._merge_ports(ports, part.ports, e.span)
        return T.Par(
            prod(*(p.dom for p in parts)),
            prod(*(p.cod for p in parts)),
            e.span,
            parts=tuple(parts),
            ports=tuple(ports),
        )

    def _x_Pairing(self, e: ast.Pairing, subst: Subst, expected) -> T.Term:
        parts = self._each(e.parts, subst)
        for part, pexpr in zip(parts[1:], e.parts[1:], strict=True):
            try:
                subst.unify_prod(parts[0].dom, part.dom)
            except Mismatch:
                self.error(
                    "E0203",
                    f"the branches of a pairing must share a domain: "
                    f"`{subst.prod(parts[0].dom)}` and `{subst.prod(part.dom)}`",
                    pexpr.span,
                    labels=(Label(e.parts[0].span, f"this takes `{subst.prod(parts[0].dom)}`"),),
                )
                raise Failed from None
        ports: list[Port] = []
        for part in parts:
            self._merge_ports(ports, part.ports, e.span)
        return T.Pair(
            parts[0].dom,
            prod(*(p.cod for p in parts)),
            e.span,
            parts=tuple(parts),
            ports=tuple(ports),
        )

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
                self.error(
                    "E0315", f"the exponent `{n}` must be a dim with a size", e.exponent_span
                )
                raise Failed
            n = dim.value
        dom, cod = subst.prod(base.dom), subst.prod(base.cod)
        try:
            subst.unify_prod(dom, cod)
        except Mismatch:
            name = expr_text(e.base, self.sources)
            help_text = "only an endomorphism `A -> A` can be iterated"
            if len(dom) > len(cod) and dom.atoms[: len(cod)] == cod.atoms:
                help_text = (
                    f"`{dom} -> {cod}` is a product-input morphism ({len(dom)} inputs, "
                    f"{len(cod)} output{'s' * (len(cod) != 1)}), not an endomorphism: make the "
                    "extra input a port and bind it to a point (`f[m]`), or write a wiring "
                    "block of type `A -> A`"
                )
            elif any(isinstance(a, Record) for a in dom.atoms):
                help_text = (
                    f"a training step must return `{dom}` to be iterated; "
                    "`TrainStep(loss, data, lr)` is such a step"
                )
            self.error(
                "E0316",
                f"`^` needs an endomorphism, but `{name}` is `{dom} -> {cod}`",
                e.base.span,
                help=help_text,
            )
            raise Failed from None
        return T.Power(dom, dom, e.span, base=base, n=int(n), ports=base.ports)


def _is_concrete(carrier: Carrier) -> bool:
    """Whether a carrier can be written in a declaration: no signature variables left."""
    return carrier.shape.rest is None and not any(
        name.startswith("?") for d in carrier.shape.dims for name in d.symbols()
    )
