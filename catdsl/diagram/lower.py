"""Lower a typed term to the diagram IR.

`lower` builds one box per primitive and per use of a definition (a collapsed `ref` box holding
its body's diagram), wires `>>` in sequence, `*` side by side and `<f, g>` as a fan-out of the
input wires. Ports, params and constants enter from above through ONE source box per name per
diagram, so "one name, one wire" holds across composition. `id` is bare wires; `swap`, `copy`,
`discard` are `struct` boxes (drawable, free at run time); `fst` / `snd` discard the other side.
Definitions stay collapsed: the scheduler inlines `ref` boxes itself (keeping the checks where
a morphism's outputs enter their objects) and the renderer expands them as deep as asked.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import Any

from catdsl.diagram import ir
from catdsl.diagram.depth import deep
from catdsl.diagram.ir import INPUT, OUTPUT, Box, Diagram
from catdsl.typesys.family_spec import FamilyRole
from catdsl.typesys.terms import (
    Bind,
    Const,
    Functor,
    HoleTerm,
    Pair,
    Par,
    Param,
    PortWire,
    Power,
    Prim,
    Ref,
    Seq,
    Struct,
    Term,
    Train,
    Wiring,
)
from catdsl.typesys.types import Atom, Prod

Wire = tuple[str, int]
"""A box's output port, as `WireEnd` names it (a plain tuple: lowering makes one per wire)."""

Wires = list[Wire]


def lower(term: Term, name: str | None = None, consts: Mapping[str, Term] | None = None) -> Diagram:
    """The diagram of `term`. `consts` maps the names of data points that primitives take as
    arguments (`dot(v)` with `data v : Real[3] = ...`) to their point terms (`Unit -> A`)."""
    with deep("lowering"):
        return _Lowerer(consts or {}).diagram(term, name)


class Lowering:
    """Several terms of one program lowered with one memo, so a definition used by many of
    them is lowered once (drawing a whole program of n chained definitions costs O(n), not
    O(n^2)). The terms must stay alive while the lowering is used (the memo is by identity)."""

    def __init__(self, consts: Mapping[str, Term] | None = None):
        self._lowerer = _Lowerer(consts or {})

    def lower(self, term: Term, name: str | None = None) -> Diagram:
        """The diagram of `term`, as `lower` gives it."""
        with deep("lowering"):
            return self._lowerer.diagram(term, name)


class _Lowerer:
    """Shared state of one lowering: constants by name and sub-diagrams already built."""

    def __init__(self, consts: Mapping[str, Term]):
        self.consts = consts
        self.memo: dict[tuple[int, str | None], Diagram] = {}

    def diagram(self, term: Term, name: str | None) -> Diagram:
        diagram = Diagram(term.dom, term.cod, name)
        diagram.ports = term.ports
        scope = _Scope(self, diagram)
        n = len(term.dom.atoms)
        inputs: Wires = [(INPUT, 0)] if n == 1 else [(INPUT, i) for i in range(n)]
        diagram.feed(OUTPUT, scope.term(term, inputs))
        return diagram

    def sub(self, term: Term, name: str | None) -> Diagram:
        """The diagram of a nested term, built once however often it is used."""
        key = (id(term), name)
        if key not in self.memo:
            self.memo[key] = self.diagram(term, name)
        return self.memo[key]


class _Scope:
    """Lowers terms into one diagram, keeping one source box per port, param and constant."""

    def __init__(self, lowerer: _Lowerer, diagram: Diagram):
        self.lowerer, self.d = lowerer, diagram
        self.sources: dict[str, Wire] = {}
        self.bound: list[dict[str, Wire]] = []

    # ---------------------------------------------------------------- helpers
    def add(
        self,
        box_type: type[Box],
        label: str,
        term: Term,
        ins: Wires,
        port_names: tuple[str, ...] = (),
        extra_inputs: Sequence[Atom] = (),
        **fields: Any,
    ) -> Wires:
        """Add a box fed by `ins` (domain wires, then one wire per port name)."""
        inputs = (*term.dom.atoms, *extra_inputs) if extra_inputs else term.dom.atoms
        outs = term.cod.atoms
        box = self.d.place(box_type, label, inputs, outs, term.span, port_names, fields, ins)
        if len(outs) == 1:
            return [(box, 0)]
        return [(box, i) for i in range(len(outs))]

    def source(self, name: str, atom: Atom, kind: str) -> Wire:
        """The wire of a named port, param or constant: bound by `f[p = x]`, or its box."""
        if self.bound:
            for bound in reversed(self.bound):
                if name in bound:
                    return bound[name]
        wire = self.sources.get(name)
        if wire is None:
            if kind == "const":
                (wire,) = self.term(self.lowerer.consts[name], [])
            else:
                box_type = ir.ParamBox if kind == "param" else ir.PortBox
                wire = (self.d.place_source(box_type, name, atom), 0)
            self.sources[name] = wire
        return wire

    def with_ports(self, term: Term, ins: Wires) -> tuple[Wires, tuple[str, ...], tuple]:
        """The domain wires followed by one wire per port of `term`, and the port names."""
        wires, names, atoms = list(ins), [], []
        for port in term.ports:  # one loop, not three generators: a use of a definition
            names.append(port.name)  # with params comes once per layer of a network
            atoms.append(port.atom)
            wires.append(self.source(port.name, port.atom, port.kind))
        return wires, tuple(names), tuple(atoms)

    # ---------------------------------------------------------------- terms
    def term(self, term: Term, ins: Wires) -> Wires:
        return (_METHODS.get(type(term)) or _method(type(term)))(self, term, ins)

    def _Prim(self, term: Prim, ins: Wires) -> Wires:
        atoms: list[Atom] = []
        wires = ins
        if term.args:
            ports = {p.name: p for p in term.ports}
            wires = list(ins)
        for arg in term.args:
            if arg in ports:
                atoms.append(ports[arg].atom)
                wires.append(self.source(arg, ports[arg].atom, ports[arg].kind))
            elif arg in self.lowerer.consts:
                atoms.append(self.lowerer.consts[arg].cod.atoms[0])
                wires.append(self.source(arg, atoms[-1], "const"))
            else:
                raise ValueError(
                    f"`{arg}`, an argument of `{term.name}`, is not a port or constant"
                )
        morphisms = term.morphisms
        plain = not (morphisms or term.args or term.static)
        label = term.name if plain else _label(term)
        outs = term.cod.atoms
        box = self.d.place_prim(
            label,
            (*term.dom.atoms, *atoms) if atoms else term.dom.atoms,
            outs,
            term.span,
            term.args,
            wires,
            term.name,
            dict(term.static),
            term.in_ranks,
            tuple([self.lowerer.sub(m, _label(m)) for m in morphisms]) if morphisms else (),
            term.spec.morphism_names if term.spec is not None else (),
        )
        if len(outs) == 1:
            return [(box, 0)]
        return [(box, i) for i in range(len(outs))]

    def _Seq(self, term: Seq, ins: Wires) -> Wires:
        methods = _METHODS
        for part in term.parts:  # `term` inlined: a chain may have thousands of parts
            ins = (methods.get(type(part)) or _method(type(part)))(self, part, ins)
        return ins

    def _Par(self, term: Par, ins: Wires) -> Wires:
        outs: Wires = []
        offset = 0
        for part in term.parts:
            n = len(part.dom)
            outs += self.term(part, ins[offset : offset + n])
            offset += n
        return outs

    def _Pair(self, term: Pair, ins: Wires) -> Wires:
        return [wire for part in term.parts for wire in self.term(part, ins)]

    def _Struct(self, term: Struct, ins: Wires) -> Wires:
        kind, split = term.kind, term.split
        if kind == "id":
            return list(ins)
        if kind in ("fst", "snd") and len(term.dom) == 1:  # `fst[Pair]`: an object taken apart
            parts = _parts(term.dom.atoms[0])
            fields = {"structure": "unpack"}
            box = self.d.place(ir.StructBox, "unpack", term.dom.atoms, parts, term.span, (), fields)
            self.d.feed(box, ins[:1])
            whole: Wires = [(box, i) for i in range(len(parts))]
            halves = Struct(Prod(parts), term.cod, term.span, kind=kind, split=1)
            return self._Struct(halves, whole)
        if kind in ("fst", "snd"):
            keep, drop = (ins[:split], ins[split:]) if kind == "fst" else (ins[split:], ins[:split])
            dropped = term.dom.atoms[split:] if kind == "fst" else term.dom.atoms[:split]
            fields = {"structure": "discard"}
            box = self.d.place(ir.StructBox, "discard", dropped, (), term.span, (), fields)
            self.d.feed(box, drop)
            return list(keep)
        return self.add(ir.StructBox, kind, term, ins, structure=kind, split=split)

    def _Ref(self, term: Ref, ins: Wires) -> Wires:
        wires, names, atoms = self.with_ports(term, ins)
        if term.body is None:
            return self.add(ir.OpaqueBox, term.name, term, wires, names, atoms, name=term.name)
        sub = self.lowerer.sub(term.body, term.name)
        return self.add(
            ir.RefBox,
            term.name,
            term,
            wires,
            names,
            atoms,
            name=term.name,
            sub=sub,
            def_kind=term.kind,
        )

    def _Power(self, term: Power, ins: Wires) -> Wires:
        if term.n == 0:
            return list(ins)
        wires, names, atoms = self.with_ports(term, ins)
        sub = self.lowerer.sub(term.base, None)
        label = f"{_label(term.base)} ^ {term.n}"
        return self.add(ir.PowerBox, label, term, wires, names, atoms, n=term.n, sub=sub)

    def _Functor(self, term: Functor, ins: Wires) -> Wires:
        wires, names, atoms = self.with_ports(term, ins)
        sub = self.lowerer.sub(term.inner, None)
        label = f"{term.functor}({_label(term.inner)})"
        return self.add(
            ir.FunctorBox, label, term, wires, names, atoms, functor=term.functor, sub=sub
        )

    def _PortWire(self, term: PortWire, ins: Wires) -> Wires:
        kind = next((p.kind for p in term.ports if p.name == term.name), "port")
        return [self.source(term.name, term.cod.atoms[0], kind)]

    def _Const(self, term: Const, ins: Wires) -> Wires:
        return self.add(
            ir.ConstBox, term.name, term, [], name=term.name, value=term.value, path=term.path
        )

    def _Param(self, term: Param, ins: Wires) -> Wires:
        wire = self.source(term.name, term.cod.atoms[0], "param")
        box = self.d.box(wire[0])
        if isinstance(box, ir.ParamBox):  # (a param bound by `f[p = x]` is that point's wire)
            initialised = replace(
                box, init=term.init, init_args=dict(term.init_args), literal=term.literal
            )
            self.d.replace_box(initialised)
        return [wire]

    def _Train(self, term: Train, ins: Wires) -> Wires:
        fields: dict[str, Any] = {
            "family": term.family,
            "spec": term.spec,
            "loss": self.lowerer.sub(term.loss, _label(term.loss)),
            "data": self.lowerer.sub(term.data, _label(term.data))
            if term.data is not None
            else None,
            "params": tuple(p.name for p in term.params),
            "hyper": dict(term.hyper),
            "schedule": term.schedule,
            "only": term.only,
        }
        label = f"{term.family}({_label(term.loss)})"
        if term.spec.role is FamilyRole.INIT:
            wires = [*ins, *(self.source(p.name, p.atom, p.kind) for p in term.params)]
            names, atoms = fields["params"], [p.atom for p in term.params]
            return self.add(ir.TrainBox, label, term, wires, names, atoms, **fields)
        return self.add(ir.TrainBox, label, term, ins, **fields)

    def _Wiring(self, term: Wiring, ins: Wires) -> Wires:
        env = _bind_names(term.inputs, ins, "inputs of a wiring block")
        for outputs, step, inputs in term.steps:
            args = [wire for name in inputs for wire in env[name]]
            env.update(_bind_names(outputs, self.term(step, args), "results of a wiring step"))
        return [wire for name in term.result for wire in env[name]]

    def _Bind(self, term: Bind, ins: Wires) -> Wires:
        bound = {}
        for name, point in term.bindings:
            (bound[name],) = self.term(point, [])
        self.bound.append(bound)
        try:
            return self.term(term.inner, ins)
        finally:
            self.bound.pop()

    def _HoleTerm(self, term: HoleTerm, ins: Wires) -> Wires:
        wires, names, atoms = self.with_ports(term, ins)
        label = f"?{term.name}" if term.name else "?"
        return self.add(ir.HoleBox, label, term, wires, names, atoms, name=term.name)


_METHODS: dict[type, Callable[[_Scope, Any, Wires], Wires]] = {}
"""The `_Scope` method lowering each class of term (named after it), by class."""


def _method(term_type: type) -> Callable[[_Scope, Any, Wires], Wires]:
    """The `_Scope` method for a class of term, remembered in `_METHODS`."""
    method = getattr(_Scope, f"_{term_type.__name__}", None)
    if method is None:
        raise TypeError(f"cannot lower a {term_type.__name__}")
    _METHODS[term_type] = method
    return method


def _parts(atom: Atom) -> tuple[Atom, ...]:
    """The parts of an object over a product (the checker allows `fst[Pair]` only on one)."""
    carrier = getattr(atom, "carrier", None)
    assert isinstance(carrier, Prod), "an object over a product"
    return carrier.atoms


def _bind_names(names: Sequence[str], wires: Wires, what: str) -> dict[str, Wires]:
    """Give wires to names: one each, or all of them to a single name."""
    if len(names) == len(wires):
        return {name: [wire] for name, wire in zip(names, wires, strict=True)}
    if len(names) == 1:
        return {names[0]: list(wires)}
    raise ValueError(f"cannot share {len(wires)} wires among the {len(names)} {what}")


def _label(term: Term) -> str:
    """A short name for a term, for box labels."""
    if isinstance(term, Prim):  # the most common term first
        if not (term.morphisms or term.args or term.static):
            return term.name
        args = [_label(m) for m in term.morphisms] if term.morphisms else []
        args += term.args
        if term.static:
            args += _static_texts(term)
        return f"{term.name}({', '.join(args)})" if args else term.name
    if isinstance(term, Ref | Const | Param):
        return term.name
    if isinstance(term, Struct):
        return term.kind
    if isinstance(term, Power):
        return f"{_label(term.base)} ^ {term.n}"
    if isinstance(term, Functor):
        return f"{term.functor}({_label(term.inner)})"
    if isinstance(term, Seq):
        return " >> ".join(_label(p) for p in term.parts)
    return type(term).__name__.lower()


def _static_texts(term: Prim) -> list[str]:
    """The constant arguments worth reading on a box: counts such as `windows(2)` always, the
    rest (`scale(2)`, `layer_norm(..., eps=0.1)`) when they differ from their default."""
    defaults = term.spec.defaults if term.spec is not None else {}
    count = term.spec.count if term.spec is not None else None
    shown = [(k, v) for k, v in term.static if k == count or defaults.get(k) != v]
    if len(term.static) == 1 and shown:
        return [number_text(shown[0][1])]
    return [f"{k}={number_text(v)}" for k, v in shown]


def number_text(value: object) -> str:
    """A number as people write it: Python's shortest repr with a plain exponent (`1e-8`, not
    `1e-08`); a real stays a real (`2.0`)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    mantissa, _, exponent = repr(value).partition("e")
    return f"{mantissa}e{int(exponent)}" if exponent else mantissa
