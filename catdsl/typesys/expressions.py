"""Morphism expressions: names, primitives, structure, composition, products, powers."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import cast

from catdsl.errors import IllegalComposition, Span
from catdsl.syntax import ast
from catdsl.typesys import messages as M
from catdsl.typesys import terms as T
from catdsl.typesys.carriers import CARRIER_KINDS
from catdsl.typesys.categories import Categories
from catdsl.typesys.dims import Dim
from catdsl.typesys.environment import DEFINITION_KINDS, MORPHISM_KINDS, Environment
from catdsl.typesys.generics import fresh, instantiate
from catdsl.typesys.hints import bridges, did_you_mean
from catdsl.typesys.limits import MAX_POWER
from catdsl.typesys.literals import LiteralReader, flatten, literal_shape
from catdsl.typesys.primitives import (
    MAX_COUNT,
    FreshVars,
    PrimSig,
    PrimSpec,
    issued,
    retagged,
    take_tags,
)
from catdsl.typesys.program import Definition, ParamInfo
from catdsl.typesys.reporting import Failed, Reporter
from catdsl.typesys.reserved import FUNCTORS, INITIALISERS
from catdsl.typesys.resolve import resolve_term
from catdsl.typesys.type_reader import TypeReader
from catdsl.typesys.types import (
    UNIT,
    Atom,
    Carrier,
    Obj,
    Port,
    Prod,
    Record,
    Shape,
    TVar,
    carrier_of,
    ground,
    prod,
)
from catdsl.typesys.unify import Mismatch, Reason, Subst

_Instance = tuple[tuple[Atom, ...], int, int, Prod, Prod]
"""A primitive's released signature for some argument types: those types (kept alive, as the
key holds their ids), the first tag and the number of tags building took, domain, codomain."""
Expected = tuple[Prod, Prod] | None
"""The signature an expression is checked against, when its definition declares one."""
CheckFamily = Callable[[str, ast.Call, Subst], T.Term]
"""Checks a training family applied to its loss: `TrainStep(loss, data, lr)`."""
ApplyFunctor = Callable[[str, ast.Call, Subst], "T.Term | None"]
"""A declared functor applied to a morphism (`Dist(f)`), or None when the name is not one."""

_STRUCT_ARITY = {
    "id": (1,),
    "copy": (1, 2),
    "discard": (1,),
    "swap": (2,),
    "fst": (2,),
    "snd": (2,),
}


class ExpressionChecker:
    """Types morphism expressions, reporting each mistake once; a failed part raises
    `Failed` after its diagnostic is recorded."""

    def __init__(
        self,
        env: Environment,
        reporter: Reporter,
        types: TypeReader,
        literals: LiteralReader,
        primitives: Mapping[str, PrimSpec],
        sources: dict[str, str],
        family: CheckFamily,
        functor: ApplyFunctor | None = None,
        categories: Categories | None = None,
    ) -> None:
        self.env = env
        self.reporter = reporter
        self.types = types
        self.literals = literals
        self.primitives = primitives
        self.sources = sources
        self.family = family
        self.functor = functor
        self.categories = categories
        self._instances: dict[tuple[object, ...], _Instance] = {}
        """Released signatures of primitives by their ground argument types (`_known_instance`)."""

    def check(self, e: ast.Expr, subst: Subst, expected: Expected = None) -> T.Term:
        """The typed term of `e`, its variables bound in `subst`."""
        kind = type(e)  # (one dict look-up: every expression class is final)
        if kind is ast.Name:
            return self._name(e, subst)  # type: ignore[arg-type]
        if kind is ast.Compose:
            return self._compose(e, subst, expected)  # type: ignore[arg-type]
        method = _CHECKS.get(kind)
        if method is None:
            raise AssertionError(f"not an expression: {e!r}")
        return method(self, e, subst, expected)

    def text(self, node: M.Located) -> str:
        """The source text of a node, for messages."""
        return M.source_text(node, self.sources)

    # ---------------------------------------------------------------- names
    def _name(self, e: ast.Name, subst: Subst) -> T.Term:
        name = e.name
        if name in self.env.term_scope:  # `f` in a functor's morphism map
            bound = self.env.term_scope[name]
            assert isinstance(bound, T.Term)
            return bound
        if name in self.env.type_scope:  # a parameter `A` as its identity
            param = self.env.type_scope[name]
            return T.Struct(param, param, e.span, kind="id")
        entry = self.env.lookup(name)
        if entry is not None:
            if entry.kind in DEFINITION_KINDS:
                definition = self.env.definition(name)
                if definition.params:
                    return self.instance(definition, None, e.span)
                return _use(definition.term, e.span)
            if entry.kind in ("object", "type"):
                p = self.env.named_type(name)
                assert p is not None
                return T.Struct(p, p, e.span, kind="id")
            if entry.kind == "param":
                info = self.env.param(name)
                return T.Param(
                    UNIT,
                    Prod((info.carrier,)),
                    e.span,
                    name=name,
                    init=info.init,
                    init_args=info.init_args,
                    literal=info.literal,
                )
            if entry.kind == "functor":
                usage = f"a functor maps a morphism: `{name}(f)`"
                raise self.reporter.fail(M.needs_arguments(name, usage), e.span)
            if isinstance(entry.decl, ast.StructureDecl):
                parts = [self.text(f.value) for f in entry.decl.fields]
                raise self.reporter.fail(M.structure_as_morphism(entry.kind, name, parts), e.span)
            raise self.reporter.fail(M.dim_as_morphism(name), e.span)
        if name in self.primitives:
            return self._primitive(name, (), e, subst)
        if name == "Unit":
            return T.Struct(UNIT, UNIT, e.span, kind="id")
        if name in CARRIER_KINDS and CARRIER_KINDS[name].written_bare:
            c = Prod((Carrier(name),))
            return T.Struct(c, c, e.span, kind="id")
        if name in self.env.families:
            usage = M.family_usage(self.env.families[name])
            raise self.reporter.fail(M.needs_arguments(name, usage), e.span)
        if name in FUNCTORS:
            raise self.reporter.fail(M.needs_arguments(name, M.functor_usage(name)), e.span)
        if name in INITIALISERS or name == "load":
            raise self.reporter.fail(M.initialiser_as_morphism(name), e.span)
        raise self.unknown(name, e.span)

    def instance(self, definition: Definition, args: tuple[Prod, ...] | None, span: Span) -> T.Term:
        """A use of a generic definition: its term with each parameter replaced by the object
        written (`First[Real]`) or, when none is, by a variable the use binds."""
        params = definition.params
        mapping = fresh(params) if args is None else dict(zip(params, args, strict=True))

        term = instantiate(definition.term, mapping)
        assert isinstance(term, T.Ref), "a definition's term is a Ref"
        return replace(term, span=span, instance=True, type_args=tuple(mapping.items()))

    def unknown(self, name: str, span: Span) -> Failed:
        """Report an unknown name, suggesting a near one or the module that has it."""
        visible = (p for p in self.primitives if self.env.visible(p))
        hint = did_you_mean(name, [*self.env.names(), *visible])
        if hint is None and name in self.primitives:
            hint = M.import_module(name, self.primitives[name].module)
        return self.reporter.fail(M.unknown_name(name, hint), span)

    # ---------------------------------------------------------------- primitives
    def _primitive(
        self, name: str, args: tuple[ast.Arg, ...], e: ast.Name | ast.Call, subst: Subst
    ) -> T.Term:
        spec = self.primitives[name]
        if not self.env.visible(name):
            hint = M.import_module(name, spec.module)
            raise self.reporter.fail(M.unknown_name(name, hint), e.span)
        static = dict(spec.defaults)
        if args:
            given, static_values = self._prim_arguments(name, spec, args, static, e.span)
        else:  # (a bare name: every static argument is its default)
            given, static_values = {}, dict(static)
        named = (
            {k: v for k, v in static_values.items() if k in spec.axis_names and isinstance(v, str)}
            if spec.axis_names
            else {}
        )
        numbered = {**static_values, **dict.fromkeys(named, -1)}  # (checked once found)
        if spec.validate is not None and (fault := spec.validate(numbered)) is not None:
            key, problem = fault
            where = given[key].span if key in given else e.span
            raise self.reporter.fail(M.bad_static(spec, key, problem), where)
        if (
            not numbered
            and spec.param_names
            and not spec.morphism_names
            and not (subst.capped or subst.final)
        ):
            known = self._known_instance(spec, given)
            if known is not None:
                return T.Prim(
                    known[0],
                    known[1],
                    e.span,
                    name=name,
                    static=(),
                    args=known[2],
                    arg_types=known[3],
                    ports=known[4],
                    spec=spec,
                    morphisms=(),
                )
        first = issued()
        sig = spec.build(numbered)
        built = issued() - first  # (the tags building took)
        if named:  # its types wait for the input's: see `_settle_axes`
            sig = PrimSig(
                sig.params,
                Prod(tuple(FreshVars().atom(f"in{i}") for i in range(len(sig.dom)))),
                Prod(tuple(FreshVars().atom(f"out{i}") for i in range(len(sig.cod)))),
                sig.morphisms,
            )
        morphisms = self._morphism_args(spec, sig, given, e, subst) if spec.morphism_names else ()
        arguments: list[tuple[str, Atom]] = []
        ports: list[Port] = []
        sizes = subst.sizes() if sig.params else None
        for pname, ptype in zip(spec.param_names, sig.params, strict=True):
            if pname not in given:
                raise self.reporter.fail(M.missing_argument(spec, pname), e.span)
            atom, ref_name, port = self._prim_param_arg(given[pname], name, pname)
            if not (atom._ground or ground(atom)):
                sizes = None
            try:
                subst.flow(atom, ptype)
            except Mismatch as err:
                wanted = subst.carrier(ptype)
                notes = M.carrier_notes(err) + M.argument_shape_origin(name, arguments)
                help_text = (
                    M.declare_param(ref_name, wanted)
                    if port is not None and _is_concrete(wanted)
                    else M.prim_usage(spec)
                )
                message = M.argument_shape(name, pname, wanted, ref_name, atom, notes, help_text)
                raise self.reporter.fail(message, given[pname].span) from None
            arguments.append((ref_name, atom))
            if port is not None and all(p.name != port.name for p in ports):
                ports.append(port)
        for sname in spec.static_names:
            if sname in given:
                static[sname] = static_values[sname]  # (the value written, read above)
        dom, cod = sig.dom, sig.cod
        if sizes is not None and not named and not morphisms:
            # every argument ground: the variables they bound are resolved away at once
            released = subst.release(sizes, first, dom, cod)
            if released is not None:
                dom, cod = released
                if not numbered and not (subst.capped or subst.final):
                    self._remember_instance(spec, arguments, first, built, dom, cod)
        term = T.Prim(
            dom,
            cod,
            e.span,
            name=name,
            static=tuple(sorted(static.items())),
            args=tuple(n for n, _ in arguments),
            arg_types=tuple(a for _, a in arguments),
            ports=tuple(ports),
            spec=spec,
            morphisms=morphisms,
        )
        if named:
            settle = self._settle_axes(term, spec, static_values, named, given, subst)
            subst.defer(settle)
        return term

    def _ground_params(
        self, spec: PrimSpec, given: Mapping[str, ast.Expr]
    ) -> list[tuple[Atom, str, Port]] | None:
        """What `_prim_param_arg` gives for each array argument, when every one is the name
        of a param already checked, of a ground carrier (looked up, nothing checked); else
        None."""
        found: list[tuple[Atom, str, Port]] = []
        for pname in spec.param_names:
            expr = given.get(pname)
            if type(expr) is not ast.Name:
                return None
            name = expr.name
            if self.env.kind(name) != "param":
                return None
            info = self.env.done.get(name)
            if not isinstance(info, ParamInfo):
                return None
            carrier = info.carrier
            if not (carrier._ground or ground(carrier)):
                return None
            found.append((carrier, name, Port(name, carrier, "param")))
        return found

    def _known_instance(
        self, spec: PrimSpec, given: Mapping[str, ast.Expr]
    ) -> tuple[Prod, Prod, tuple[str, ...], tuple[Atom, ...], tuple[Port, ...]] | None:
        """A primitive without static values whose params are ground and met before by the
        very same types: its domain, codomain, argument names, types and ports, as building
        its signature, meeting them and releasing its variables gives (see `Subst.release`),
        with the variables left (a batch prefix) fresh, taking the tags building would. (Not
        in a table marked `final` by a figure drawn mid-check: a number kind left free reads
        `Real` there, so what is released there is not what is released elsewhere.)"""
        params = self._ground_params(spec, given)
        if params is None:
            return None
        known = self._instances.get((spec.name, *[id(a) for a, _, _ in params]))
        if known is None:
            return None
        _, old, count, dom, cod = known
        new = take_tags(count)
        memo: dict[int, Carrier] = {}
        fresh_dom, fresh_cod = (
            retagged(dom, old, count, new, memo),
            retagged(cod, old, count, new, memo),
        )
        assert fresh_dom is not None and fresh_cod is not None  # (checked when remembered)
        ports: list[Port] = []
        for _, _, port in params:
            if all(p.name != port.name for p in ports):
                ports.append(port)
        return (
            fresh_dom,
            fresh_cod,
            tuple(n for _, n, _ in params),
            tuple(a for a, _, _ in params),
            tuple(ports),
        )

    def _remember_instance(
        self,
        spec: PrimSpec,
        arguments: list[tuple[str, Atom]],
        first: int,
        count: int,
        dom: Prod,
        cod: Prod,
    ) -> None:
        """Remember what a standard primitive's released signature is for these argument
        types (by identity: a dim's label is not part of its equality), when its types can be
        given fresh variables again (`retagged`)."""
        if not spec.module.startswith("std"):
            return  # (a plugin's signature builder may not be a function of its arguments)
        memo: dict[int, Carrier] = {}
        if retagged(dom, first, count, first, memo) is None:
            return
        if retagged(cod, first, count, first, memo) is None:
            return
        atoms = tuple(a for _, a in arguments)
        self._instances[(spec.name, *[id(a) for a in atoms])] = (atoms, first, count, dom, cod)

    def _prim_arguments(
        self,
        name: str,
        spec: PrimSpec,
        args: tuple[ast.Arg, ...],
        static: dict[str, object],
        span: Span,
    ) -> tuple[dict[str, ast.Expr], dict[str, object]]:
        """The arguments written to a primitive, by name (a keyword overrides the same
        argument given by position), and its static values: those written, read, then the
        defaults of the others."""
        positional = [a for a in args if a.name is None]
        keywords = {a.name: a for a in args if a.name is not None}
        names = [*spec.morphism_names, *spec.param_names, *spec.static_names]
        if len(positional) > len(names):
            raise self.reporter.fail(M.too_many_arguments(spec, len(positional)), span)
        written = [(names[i], arg.value) for i, arg in enumerate(positional)]
        for key, arg in keywords.items():
            if key not in names:
                usage = M.prim_usage(spec)
                raise self.reporter.fail(M.no_such_argument(name, key, usage), arg.span)
            written.append((key, arg.value))
        given = dict(written)
        static_values = {
            k: self._static_value(v, spec, k) for k, v in written if k in spec.static_names
        } | {k: v for k, v in static.items() if k not in given}
        return given, static_values

    def _settle_axes(
        self,
        term: T.Prim,
        spec: PrimSpec,
        static: Mapping[str, object],
        named: Mapping[str, object],
        given: Mapping[str, ast.Expr],
        subst: Subst,
    ) -> Callable[[], None]:
        """The check, run once the definition's types are final, of a primitive whose axis is
        a dim's name (`split(at = 2, axis = F)`): the place of that dim in its input's shape
        (counted from the end) is the axis; the signature it gives must fit the use (E0393).
        A dim that is not an axis of the input is E0392."""

        def settle() -> None:
            dom = subst.prod(term.dom)
            carrier = carrier_of(dom.atoms[0]) if dom.atoms else None
            decided: dict[str, object] = {}
            for key, name in named.items():
                where = given[key].span if key in given else term.span
                if not isinstance(carrier, Carrier) or not _concrete_dims(carrier):
                    message = M.axis_name_unresolved(spec.name, key, str(name))
                    raise self.reporter.fail(message, where)
                dims = carrier.shape.dims
                places = [i for i, d in enumerate(dims) if _dim_named(d, str(name))]
                if len(places) != 1:
                    message = M.axis_name_not_in_input(spec.name, key, str(name), dom, places)
                    raise self.reporter.fail(message, where)
                decided[key] = places[0] - len(dims)
            real = spec.build({**static, **decided})
            try:
                subst.unify_prod(real.dom, term.dom)  # its input enters
                subst.unify_prod(term.cod, real.cod)  # and its outputs go on
            except Mismatch:
                shown = f"{subst.prod(real.dom)} -> {subst.prod(real.cod)}"
                message = M.axis_name_does_not_fit(spec.name, decided, named, shown)
                raise self.reporter.fail(message, term.span) from None
            subst.settled[id(term)] = decided

        return settle

    def _morphism_args(
        self,
        spec: PrimSpec,
        sig: PrimSig,
        given: Mapping[str, ast.Expr],
        e: ast.Name | ast.Call,
        subst: Subst,
    ) -> tuple[T.Term, ...]:
        """The morphism arguments of a primitive (`fold(op, unit)`), each checked as any
        expression and fitted to the signature the primitive asks of it (E0390, at the
        argument); one with learnable params or ports is refused (E0391)."""
        terms: list[T.Term] = []
        for mname, (dom, cod) in zip(spec.morphism_names, sig.morphisms, strict=True):
            if mname not in given:
                raise self.reporter.fail(M.missing_argument(spec, mname), e.span)
            expr = given[mname]
            term = self._point_literal(expr) if _whole_literal(expr) else self.check(expr, subst)
            names = [*(p.name for p in term.ports), *_params_in(term)]
            if names:
                message = M.morphism_argument_ports(spec.name, mname, self.text(expr), names)
                raise self.reporter.fail(message, expr.span)
            try:
                subst.unify_prod(term.dom, dom)  # the primitive's values enter the argument
                subst.unify_prod(cod, term.cod)  # and its results come back
            except Mismatch:
                wanted = (subst.prod(dom), subst.prod(cod))
                found = (subst.prod(term.dom), subst.prod(term.cod))
                message = M.morphism_argument(spec, mname, wanted, self.text(expr), found)
                raise self.reporter.fail(message, expr.span) from None
            terms.append(term)
        return tuple(terms)

    def _point_literal(self, e: ast.Expr) -> T.Term:
        """A whole number given where a primitive takes a point (`fold(add, 0)`): a number of
        whichever kind the primitive needs there (`Real`, `Nat` or `Int`), as `0` would be
        in a `data` declaration of that kind."""
        assert isinstance(e, ast.Literal)
        number = TVar(FreshVars().rest("a"), ("Real", "Nat", "Int"), scalar=True)
        return T.Const(UNIT, Prod((number,)), e.span, name=self.text(e), value=e.value)

    def _static_value(self, expr: ast.Expr, spec: PrimSpec, key: str) -> object:
        """A constant argument, a number or a sized dim's name (`confusion(C)`); counts
        (`windows(k)`, `concat_heads(n)`) are small whole numbers. An axis may be named by a
        dim (`split(at = 2, axis = F)`): the name is kept, its place found later; a name that
        is not a dim is E0392."""
        if key in spec.axis_names and isinstance(expr, ast.Name):
            if self.env.kind(expr.name) != "dim":
                dims = [n for n in self.env.names() if self.env.kind(n) == "dim"]
                hint = did_you_mean(expr.name, dims)
                raise self.reporter.fail(
                    M.axis_name_unknown(spec.name, key, expr.name, hint), expr.span
                )
            return expr.name
        size = self.env.dim_value(expr.name) if isinstance(expr, ast.Name) else None
        value: float | int
        if size is not None and size.value is not None:
            value = size.value
        else:
            value = self.literals.number(expr)
        if spec.count == key and not (isinstance(value, int) and 1 <= value <= MAX_COUNT):
            raise self.reporter.fail(M.bad_count(spec.name, key, MAX_COUNT, value), expr.span)
        return value

    def _prim_param_arg(
        self, expr: ast.Expr, prim: str, pname: str
    ) -> tuple[Atom, str, Port | None]:
        """A primitive's array argument: a param (learnable port), a data point or a literal."""
        if isinstance(expr, ast.Name):
            kind = self.env.kind(expr.name)
            if kind == "param":
                info = self.env.param(expr.name)
                return info.carrier, expr.name, Port(expr.name, info.carrier, "param")
            if kind == "data":
                d = self.env.definition(expr.name)
                if len(d.term.cod) == 1:
                    atom = d.term.cod.atoms[0]
                    carrier = carrier_of(atom)
                    return (carrier if isinstance(carrier, Carrier) else atom), expr.name, None
            if kind is None and expr.name not in self.primitives:
                raise self.unknown(expr.name, expr.span)
        raise self.reporter.fail(M.array_argument(prim, pname), expr.span)

    # ---------------------------------------------------------------- constants and holes
    def _literal(self, e: ast.Literal) -> T.Term:
        v = e.value
        if isinstance(v, bool):
            c = Carrier("Bool")
        elif isinstance(v, int):
            c = Carrier("Nat")
        elif isinstance(v, float):
            c = Carrier("Real")
        else:
            raise self.reporter.fail(M.string_as_morphism(), e.span)
        return T.Const(UNIT, Prod((c,)), e.span, name=self.text(e), value=v)

    def _list_literal(self, e: ast.ListLiteral) -> T.Term:
        value = self.literals.literal(e)
        shape = literal_shape(value)
        if shape is None:
            raise self.reporter.fail(M.ragged_literal(), e.span)
        whole = all(isinstance(x, int) and not isinstance(x, bool) for x in flatten(value))
        c = Carrier("Nat" if whole else "Real", Shape(tuple(Dim.const(n) for n in shape)))
        return T.Const(UNIT, Prod((c,)), e.span, name="literal", value=value)

    def _hole(self, e: ast.Hole, subst: Subst, expected: Expected) -> T.Term:
        if expected is None:
            self._hole_report(e, None, None)
            raise Failed
        self._hole_report(e, subst.prod(expected[0]), subst.prod(expected[1]))
        return T.HoleTerm(expected[0], expected[1], e.span, name=e.name)

    def _hole_report(self, e: ast.Hole, dom: Prod | None, cod: Prod | None) -> None:
        label = f"`?{e.name}`" if e.name else "`?`"
        if dom is None or cod is None:
            self.reporter.error(M.hole_uninferred(label), e.span)
            return
        sigs = self.env.morphism_signatures()
        fits = [name for name, (d, c) in sigs.items() if d == dom and c == cod]
        self.reporter.error(M.hole(label, dom, cod, fits), e.span)

    # ---------------------------------------------------------------- structure
    def _structural(self, e: ast.Structural) -> T.Term:
        types = [self.types.type(a) for a in e.args]
        kind, n = e.kind, len(types)
        if kind in ("fst", "snd") and n == 1 and (parts := _object_parts(types[0])) is not None:
            # `fst[Pair]` of `object Pair : A * B`: the one wire taken apart, its first part
            # (`Pair -> A`) or the rest (`Pair -> B`)
            first, rest = Prod(parts[:1]), Prod(parts[1:])
            return T.Struct(types[0], first if kind == "fst" else rest, e.span, kind=kind)
        if n not in _STRUCT_ARITY[kind]:
            raise self.reporter.fail(M.structural_arity(kind, _STRUCT_ARITY[kind], n), e.span)
        a = types[0]
        if kind == "id":
            return T.Struct(a, a, e.span, kind="id")
        if kind == "copy":
            return T.Struct(a, prod(a, a), e.span, kind="copy", split=len(a))
        if kind == "discard":
            return T.Struct(a, UNIT, e.span, kind="discard", split=len(a))
        b = types[1]
        if kind == "swap":
            return T.Struct(a + b, b + a, e.span, kind="swap", split=len(a))
        if kind == "fst":
            return T.Struct(a + b, a, e.span, kind="fst", split=len(a))
        return T.Struct(a + b, b, e.span, kind="snd", split=len(a))

    def _bracket(self, e: ast.Bracket, subst: Subst) -> T.Term:
        func = e.func
        if isinstance(func, ast.Name) and (
            _written_with_arguments(func.name)
            or self.env.kind(func.name) in ("object", "type", "functor")
        ):
            t = self.types.type(ast.TApply(func.name, e.args, e.span))
            return T.Struct(t, t, e.span, kind="id")
        if isinstance(func, ast.Name) and self.env.kind(func.name) in DEFINITION_KINDS:
            definition = self.env.definition(func.name)
            if definition.params:  # `First[Real]`: a generic definition instantiated
                if len(e.args) != len(definition.params):
                    message = M.generic_arity(func.name, definition.params, len(e.args))
                    raise self.reporter.fail(message, e.span)
                args = tuple(self.types.type(a) for a in e.args)
                return self.instance(definition, args, e.span)
        inner = self.check(func, subst)
        user_ports = [p for p in inner.ports if p.kind == "port"]
        if len(e.args) > len(user_ports):
            message = M.too_many_bindings(self.text(func), len(user_ports), len(e.args))
            raise self.reporter.fail(message, e.span)
        bindings = []
        bound_names = set()
        for port, arg in zip(user_ports, e.args, strict=False):
            if not isinstance(arg, ast.TName) or self.env.kind(arg.name) != "data":
                raise self.reporter.fail(M.binding_not_data(port.name), arg.span)
            point = self.env.definition(arg.name).term
            try:
                subst.unify_prod(Prod((port.atom,)), point.cod)
            except Mismatch:
                message = M.port_binding_shape(port.name, port.atom, arg.name, point.cod)
                raise self.reporter.fail(message, arg.span) from None
            bindings.append((port.name, point))
            bound_names.add(port.name)
        ports = tuple(p for p in inner.ports if p.name not in bound_names)
        ports += tuple(p for _, pt in bindings for p in pt.ports if p not in ports)
        return T.Bind(
            inner.dom, inner.cod, e.span, inner=inner, bindings=tuple(bindings), ports=ports
        )

    def _call(self, e: ast.Call, subst: Subst) -> T.Term:
        if not isinstance(e.func, ast.Name):
            raise self.reporter.fail(M.not_callable(), e.span)
        name = e.func.name
        if name in FUNCTORS:
            if len(e.args) != 1 or e.args[0].name is not None:
                raise self.reporter.fail(M.functor_takes_one(name), e.span)
            inner = self.check(e.args[0].value, subst)
            return T.Functor(
                Prod((Carrier(name, elem=inner.dom),)),
                Prod((Carrier(name, elem=inner.cod),)),
                e.span,
                functor=name,
                inner=inner,
                ports=inner.ports,
            )
        if name in self.env.families:
            return self.family(name, e, subst)
        if self.functor is not None:
            mapped = self.functor(name, e, subst)
            if mapped is not None:
                return mapped
        kind = self.env.kind(name)
        if name in self.primitives and kind is None:
            return self._primitive(name, e.args, e, subst)
        if kind in MORPHISM_KINDS:
            raise self.reporter.fail(M.morphism_called(name), e.span)
        if kind in ("object", "type"):
            raise self.reporter.fail(M.object_called(name), e.span)
        if name in INITIALISERS or name == "load":
            raise self.reporter.fail(M.initialiser_as_morphism(name), e.span)
        raise self.unknown(name, e.func.span)

    # ---------------------------------------------------------------- composites
    def _compose(self, e: ast.Compose, subst: Subst, expected: Expected) -> T.Term:
        checked: list[T.Term | None] = []
        failed = holes = False
        check = self.check
        for part in e.parts:
            if type(part) is ast.Hole:
                checked.append(None)
                holes = True
                continue
            try:
                checked.append(check(part, subst))
            except Failed:
                failed = True
                checked.append(None)
        if failed:
            raise Failed
        parts = (
            self._fill_holes(e, checked, subst, expected)
            if holes
            else cast("list[T.Term]", checked)  # (no hole: every part is checked)
        )
        ok = True
        unify = subst.unify_prod
        for i in range(len(parts) - 1):
            left, right = parts[i], parts[i + 1]
            dom, cod = right.dom, left.cod
            if dom is cod:
                continue  # (what `unify_prod` does first, without the call)
            try:
                unify(dom, cod)
            except Mismatch as err:
                self._compose_error(e.parts[i], e.parts[i + 1], left, right, err, subst)
                self._attach_figure(e, parts, i, subst)
                ok = False
        if not ok:
            raise Failed
        ports = self.merged_ports(parts, e.span)
        return T.Seq(parts[0].dom, parts[-1].cod, e.span, parts=tuple(parts), ports=ports)

    def _fill_holes(
        self, e: ast.Compose, parts: list[T.Term | None], subst: Subst, expected: Expected
    ) -> list[T.Term]:
        """Type each hole of a chain from its neighbours (or the declared signature at the
        ends), reporting what it needs."""
        for i, part in enumerate(parts):
            if part is not None:
                continue
            hole = e.parts[i]
            assert isinstance(hole, ast.Hole)
            before = parts[i - 1] if i > 0 else None
            after = parts[i + 1] if i + 1 < len(parts) else None
            dom = (
                before.cod if before is not None else (expected[0] if expected and i == 0 else None)
            )
            cod = (
                after.dom
                if after is not None
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
        return [p for p in parts if p is not None]

    def merged_ports(self, terms: Sequence[T.Term], span: Span) -> tuple[Port, ...]:
        """The ports of `terms` in order of first use, as `merge_ports` one term after the
        other gives them, in one pass (a chain of n parametrised parts is linear, not n^2)."""
        seen: dict[str, Port] = {}
        for term in terms:
            for port in term.ports:
                same = seen.setdefault(port.name, port)
                if same is not port and same.atom is not port.atom and same.atom != port.atom:
                    raise self.reporter.fail(
                        M.port_two_objects(port.name, same.atom, port.atom), span
                    )
        return tuple(seen.values())

    def merge_ports(self, ports: list[Port], new: tuple[Port, ...], span: Span) -> None:
        """Add `new` to `ports`: one name is one wire, so it must carry one object."""
        for port in new:
            same = next((p for p in ports if p.name == port.name), None)
            if same is None:
                ports.append(port)
            elif same.atom != port.atom:
                raise self.reporter.fail(M.port_two_objects(port.name, same.atom, port.atom), span)

    def _attach_figure(self, e: ast.Compose, parts: Sequence[T.Term], i: int, subst: Subst) -> None:
        """Give the last diagnostic the chain's boxes so `catdsl draw` can show it in red."""
        boxes = tuple(
            (
                self.text(x),
                tuple(str(a) for a in subst.prod(t.dom).atoms),
                tuple(str(a) for a in subst.prod(t.cod).atoms),
            )
            for x, t in zip(e.parts, parts, strict=True)
        )
        gives, takes = subst.prod(parts[i].cod), subst.prod(parts[i + 1].dom)
        terms = tuple(resolve_term(t, subst) for t in parts)
        figure = IllegalComposition(self.env.checking, boxes, i, str(takes), str(gives), terms)
        self.reporter.draw_last(figure)

    def _compose_error(
        self,
        lexpr: ast.Expr,
        rexpr: ast.Expr,
        left: T.Term,
        right: T.Term,
        err: Mismatch,
        subst: Subst,
    ) -> None:
        lname, rname = self.text(lexpr), self.text(rexpr)
        for side in (left.cod, right.dom):  # no `*s` in messages: an unbatched value
            subst.default_rests(subst.prod(side))
        gives, takes = subst.prod(left.cod), subst.prod(right.dom)
        category = self.categories.of(gives, takes) if self.categories is not None else None
        if category is not None:
            message = M.category_composition(
                category.name, category.monoidal, lname, rname, gives, takes, lexpr.span
            )
            self.reporter.error(message, rexpr.span)
            return
        sigs = self.env.morphism_signatures()
        if len(gives) != len(takes):
            help_text = None
            if len(takes) > len(gives) and takes.atoms[: len(gives)] == gives.atoms:
                extra = Prod(takes.atoms[len(gives) :])
                result = subst.prod(right.cod)
                help_text = M.carry_extra_input(_last_name(lexpr), extra, rname, gives, result)
            message = M.wire_count(lname, rname, gives, takes, lexpr.span, help_text)
            instances = _instance_notes((left, right), subst)
            if instances:
                message = replace(message, notes=message.notes + instances)
            self.reporter.error(message, rexpr.span)
            return
        index = next(
            (
                i
                for i, (a, b) in enumerate(zip(gives.atoms, takes.atoms, strict=True))
                if not _meets(a, b)
            ),
            0,
        )
        found, want = gives.atoms[index], takes.atoms[index]
        polarity = M.polarity_of(found, want)
        if polarity is not None:
            self.reporter.error(polarity, rexpr.span)
            return
        notes: list[str] = []
        note = M.same_carrier_note(found, want)
        if note:
            notes.append(note)
        notes.extend(M.carrier_notes(err))
        options = bridges(found, want, sigs)
        help_text = None
        if options:
            if len(gives) == 1:
                help_text = M.insert_bridge(lname, rname, options[0], found, want)
            else:
                help_text = M.insert_on_wire(options[0], gives, index, rname)
        elif err.reason == Reason.STRUCTURAL_INTO_NOMINAL:
            literal = isinstance(lexpr, ast.Literal)
            help_text = M.raw_value_help(want, lname, rname, literal)
        notes.extend(_instance_notes((left, right), subst))
        message = M.composition(
            lname, rname, gives, index, want, lexpr.span, help_text, tuple(notes)
        )
        self.reporter.error(message, rexpr.span)

    def _tensor(self, e: ast.Tensor, subst: Subst) -> T.Term:
        parts = self._each(e.parts, subst)
        ports = self.merged_ports(parts, e.span)
        return T.Par(
            prod(*(p.dom for p in parts)),
            prod(*(p.cod for p in parts)),
            e.span,
            parts=tuple(parts),
            ports=ports,
        )

    def _pairing(self, e: ast.Pairing, subst: Subst) -> T.Term:
        parts = self._each(e.parts, subst)
        for part, pexpr in zip(parts[1:], e.parts[1:], strict=True):
            try:
                subst.unify_prod(parts[0].dom, part.dom)
            except Mismatch:
                first, other = subst.prod(parts[0].dom), subst.prod(part.dom)
                message = M.pairing_domains(first, other, e.parts[0].span)
                raise self.reporter.fail(message, pexpr.span) from None
        ports = self.merged_ports(parts, e.span)
        return T.Pair(
            parts[0].dom,
            prod(*(p.cod for p in parts)),
            e.span,
            parts=tuple(parts),
            ports=ports,
        )

    def _each(self, exprs: Sequence[ast.Expr], subst: Subst) -> list[T.Term]:
        """Check every expression, reporting all their mistakes before failing."""
        out, failed = [], False
        for x in exprs:
            try:
                out.append(self.check(x, subst))
            except Failed:
                failed = True
        if failed:
            raise Failed
        return out

    def _power(self, e: ast.Power, subst: Subst) -> T.Term:
        base = self.check(e.base, subst)
        exponent = e.exponent
        if isinstance(exponent, str):
            dim = self.env.dim_value(exponent)
            if dim is None or dim.value is None:
                raise self.reporter.fail(M.exponent_without_size(exponent), e.exponent_span)
            exponent = dim.value
        if exponent > MAX_POWER:
            raise self.reporter.fail(M.power_out_of_range(exponent, MAX_POWER), e.exponent_span)
        dom, cod = subst.prod(base.dom), subst.prod(base.cod)
        try:
            subst.unify_prod(dom, cod)
        except Mismatch:
            help_text = M.iterate_endomorphism()
            if len(dom) > len(cod) and dom.atoms[: len(cod)] == cod.atoms:
                help_text = M.iterate_product_input(dom, cod)
            elif any(isinstance(a, Record) for a in dom.atoms):
                help_text = M.iterate_training_step(dom)
            message = M.not_endomorphism(self.text(e.base), dom, cod, help_text)
            raise self.reporter.fail(message, e.base.span) from None
        return T.Power(dom, dom, e.span, base=base, n=int(exponent), ports=base.ports)


_CHECKS: dict[type, Callable[[ExpressionChecker, ast.Expr, Subst, Expected], T.Term]] = {
    ast.Literal: lambda c, e, s, x: c._literal(e),  # type: ignore[arg-type]
    ast.ListLiteral: lambda c, e, s, x: c._list_literal(e),  # type: ignore[arg-type]
    ast.Hole: lambda c, e, s, x: c._hole(e, s, x),  # type: ignore[arg-type]
    ast.Structural: lambda c, e, s, x: c._structural(e),  # type: ignore[arg-type]
    ast.Bracket: lambda c, e, s, x: c._bracket(e, s),  # type: ignore[arg-type]
    ast.Call: lambda c, e, s, x: c._call(e, s),  # type: ignore[arg-type]
    ast.Tensor: lambda c, e, s, x: c._tensor(e, s),  # type: ignore[arg-type]
    ast.Pairing: lambda c, e, s, x: c._pairing(e, s),  # type: ignore[arg-type]
    ast.Power: lambda c, e, s, x: c._power(e, s),  # type: ignore[arg-type]
}
"""How `ExpressionChecker.check` types each kind of expression but names and chains (those
two, the most common, it tests first)."""


def _instance_notes(terms: Sequence[T.Term], subst: Subst) -> tuple[str, ...]:
    """A note per generic instance among `terms`, naming what its parameters stand for."""
    notes = []
    for term in terms:
        if isinstance(term, T.Ref) and term.type_args:
            args = [(n, subst.prod(p)) for n, p in term.type_args]
            notes.append(M.instance_note(term.name, args))
    return tuple(notes)


def _use(term: T.Term, span: Span) -> T.Term:
    """A use of a named definition: its term, with the span of the use (for diagnostics)."""
    return T.rebuilt(term, {"span": span}) if isinstance(term, T.Ref) else term


def _meets(a: Atom, b: Atom) -> bool:
    """Whether a wire of `a` may enter a port of `b`."""
    try:
        Subst().flow(a, b)
        return True
    except Mismatch:
        return False


def _last_name(expr: ast.Expr) -> str:
    """The last name of a chain, to show where an extra wire is carried alongside."""
    if isinstance(expr, ast.Compose):
        return _last_name(expr.parts[-1])
    if isinstance(expr, ast.Name):
        return expr.name
    return "f"


def _params_in(term: T.Term) -> list[str]:
    """The params a term reads as points (`Real * w >> mul`), through the definitions it
    uses: their values enter a diagram from above, as a port's do."""
    found: list[str] = []
    seen: set[int] = set()
    todo: list[object] = [term]
    while todo:
        item = todo.pop()
        if isinstance(item, tuple):
            todo.extend(reversed(item))
        elif isinstance(item, T.Term) and id(item) not in seen:
            seen.add(id(item))
            if isinstance(item, T.Param) and item.name not in found:
                found.append(item.name)
            todo.extend(getattr(item, f, None) for f in reversed(_TERM_FIELDS))
    return found


_TERM_FIELDS = ("body", "parts", "base", "inner", "steps", "bindings", "morphisms", "loss")
"""The fields of terms that hold further terms."""


def _object_parts(p: Prod) -> tuple[Atom, ...] | None:
    """The parts of an object whose carrier is a product of several (`object Pair : A * B`),
    or None for any other type."""
    if len(p) != 1 or not isinstance(p.atoms[0], Obj):
        return None
    carrier = p.atoms[0].carrier
    return carrier.atoms if isinstance(carrier, Prod) and len(carrier) >= 2 else None


def _dim_named(d: Dim, name: str) -> bool:
    """Whether an axis of a shape is the dim `name` (a sized one keeps its name as a label)."""
    return d.label == name or (d.value is None and d.symbols() == {name})


def _concrete_dims(carrier: Carrier) -> bool:
    """Whether a carrier's axes are known (not a signature's variables)."""
    return not any(n.startswith("?") for d in carrier.shape.dims for n in d.symbols())


def _whole_literal(expr: ast.Expr) -> bool:
    """Whether an argument is a whole-number literal (`0`, not `0.0` or `true`)."""
    return (
        isinstance(expr, ast.Literal)
        and isinstance(expr.value, int)
        and not isinstance(expr.value, bool)
    )


def _is_concrete(carrier: Carrier) -> bool:
    """Whether a carrier can be written in a declaration: no signature variables left."""
    return carrier.shape.rest is None and not any(
        name.startswith("?") for d in carrier.shape.dims for name in d.symbols()
    )


def _written_with_arguments(name: str) -> bool:
    """Whether `name` is a carrier kind written with brackets (`Real[D]`, `List[X]`)."""
    return name in CARRIER_KINDS and CARRIER_KINDS[name].takes_arguments
