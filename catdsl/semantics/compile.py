"""Compile a diagram once into a `Plan`: kernels built, constants hoisted, structure aliased.

Boxes are visited in topological order and given register slots. `ref` boxes are inlined
into the same register space (their named sources fed by the ref's port inputs), with a check
instruction where a morphism's outputs enter nominal objects; `struct` boxes (swap, copy,
discard) only alias slots; `const` boxes are loaded and converted once (data points are checked
here); `power`, `functor` and `train` boxes compile their sub-diagrams into sub-plans (each
sub-diagram once). A box without a definition (`opaque`, `hole`) cannot run: R0101.

| code  | raised when |
| ----- | ----------- |
| R0101 | a box has no definition (a declared morphism without body, a hole) |
| R0102 | a plan is run without one of its inputs, ports or params |
| R0103 | a primitive has no kernel |
"""

from __future__ import annotations

import numpy as np
from numpy.typing import DTypeLike

from catdsl.diagram.ir import INPUT, OUTPUT, Box, Diagram
from catdsl.errors import CatRuntimeError
from catdsl.files import load_array_file
from catdsl.semantics.invariants import make_check
from catdsl.semantics.ops import CheckOp, FunctorOp, PowerOp, kernel_op
from catdsl.semantics.plan import CTX, Instr, Plan, Source
from catdsl.semantics.training import train_op
from catdsl.semantics.values import coerce, is_differentiable, split_components, width
from catdsl.std.kernels import make_kernel
from catdsl.typesys.types import Atom, Obj


def compile_diagram(diagram: Diagram, dtype: DTypeLike = np.float64) -> Plan:
    """Compile `diagram` (and every sub-diagram it holds) for values of float `dtype`."""
    return _Compiler(np.dtype(dtype)).plan(diagram)


class _Compiler:
    """Shared state of one compilation: the dtype and the sub-plans compiled so far."""

    def __init__(self, dtype: np.dtype):
        self.dtype = dtype
        self.plans: dict[int, Plan] = {}

    def plan(self, diagram: Diagram) -> Plan:
        """The plan of `diagram`, compiled once per diagram object."""
        key = id(diagram)
        if key not in self.plans:
            self.plans[key] = _Builder(self).build(diagram)
        return self.plans[key]


class _Builder:
    """Builds one plan: slots, named sources, instructions."""

    def __init__(self, compiler: _Compiler):
        self.compiler = compiler
        self.atoms: list[Atom | None] = [None]  # slot `CTX`: the run context
        self.template: list = [None]
        self.sources: dict[str, tuple[Source, int]] = {}
        self.instrs: list[Instr] = []

    def build(self, diagram: Diagram) -> Plan:
        assert len(self.atoms) == CTX + 1, "the context register comes first"
        in_slots = tuple(self.slot(a) for a in diagram.dom.atoms)
        out_slots = tuple(self.emit(diagram, in_slots, {}))
        where = f"`{diagram.name}`" if diagram.name else "the morphism"
        input_checks = [
            make_check(a, f"input {i + 1} of {where}") for i, a in enumerate(diagram.dom.atoms)
        ]
        sources = [s for s, _ in self.sources.values()]
        source_checks = [make_check(s.atom, f"the {s.kind} `{s.name}`") for s in sources]
        return Plan(
            dom=diagram.dom,
            cod=diagram.cod,
            name=diagram.name,
            template=self.template,
            in_slots=in_slots,
            sources=tuple(sources),
            source_slots=tuple(slot for _, slot in self.sources.values()),
            out_slots=out_slots,
            instrs=self.instrs,
            slot_differentiable=[is_differentiable(a) for a in self.atoms],
            source_checks=(*input_checks, *source_checks),
        )

    def slot(self, atom: Atom | None, value: object = None) -> int:
        self.atoms.append(atom)
        self.template.append(value)
        return len(self.atoms) - 1

    def emit(self, diagram: Diagram, in_slots: tuple[int, ...], ports: dict[str, int]) -> list:
        """Compile the boxes of `diagram` given its input slots; return its output slots."""
        wires: dict[tuple[str, int], int] = {(INPUT, i): s for i, s in enumerate(in_slots)}
        result: list[int] = []
        for box in diagram.boxes():
            if box.id == INPUT:
                continue
            ins = [wires[(w.box, w.port)] for w in diagram.incoming(box.id)]
            if box.id == OUTPUT:
                result = ins
                continue
            for port, slot in enumerate(self.box(box, ins, ports)):
                wires[(box.id, port)] = slot
        return result

    def box(self, box: Box, ins: list[int], ports: dict[str, int]) -> list[int]:
        """The output slots of one box, emitting its instruction(s)."""
        kind = box.kind
        if kind in ("port", "param"):
            name = box.data["name"]
            return [ports[name] if name in ports else self.source(name, kind, box.outputs[0])]
        if kind == "struct":
            return _alias(box, ins)
        if kind == "ref":
            return self.inline(box, ins)
        if kind == "const":
            return [self.slot(a, v) for a, v in zip(box.outputs, self.constant(box), strict=True)]
        if kind in ("opaque", "hole"):
            what = f"`{box.label}`" if kind == "opaque" else f"the hole `{box.label}`"
            raise CatRuntimeError(
                "R0101",
                f"{what} has no definition, so it cannot run",
                box.span,
                help="give it a body (`= ...`) or fill the hole" if kind == "hole" else None,
            )
        return self.instruction(box, self.op(box), ins)

    def op(self, box: Box) -> object:
        """The op of a box that becomes one instruction."""
        data = box.data
        if box.kind == "prim":
            return kernel_op(self.kernel(box), box.inputs, box.outputs)
        if box.kind == "power":
            sub = self.compiler.plan(data["sub"])
            return PowerOp(sub, data["n"], box.inputs, box.port_names, box.label)
        if box.kind == "functor":
            sub = self.compiler.plan(data["sub"])
            return FunctorOp(data["functor"], sub, box.inputs, box.outputs, box.port_names)
        if box.kind == "train":
            return train_op(box, self.compiler.plan)
        raise ValueError(f"cannot compile a box of kind {box.kind!r}")

    def instruction(self, box: Box, op: object, ins: list[int]) -> list[int]:
        outs = tuple(self.slot(a) for a in box.outputs)
        self.instrs.append(Instr(op, tuple(ins), outs, box.label, box.span))  # type: ignore[arg-type]
        return list(outs)

    def kernel(self, box: Box):
        name = box.data["name"]
        try:
            return make_kernel(name, dict(box.data.get("static") or {}), box.data["in_ranks"])
        except KeyError:
            raise CatRuntimeError(
                "R0103", f"the primitive `{name}` has no kernel", box.span
            ) from None
        except CatRuntimeError as exc:
            raise exc.at(box.span) from None

    def source(self, name: str, kind: str, atom: Atom) -> int:
        """The slot of a named port or param of this plan (one per name)."""
        if name not in self.sources:
            self.sources[name] = (Source(name, kind, atom), self.slot(atom))
        return self.sources[name][1]

    def inline(self, box: Box, ins: list[int]) -> list[int]:
        """A ref's definition compiled in place, then its outputs checked (morphisms)."""
        n = box.n_domain_inputs
        ports = dict(zip(box.port_names, ins[n:], strict=True))
        outs = self.emit(box.data["sub"], tuple(ins[:n]), ports)
        if box.data.get("def_kind", "morphism") == "morphism":
            subject = f"the output of `{box.label}`"
            checks = [
                make_check(a, subject, box.span) if isinstance(a, Obj) else None
                for a in box.outputs
            ]
            if any(checks):
                op = CheckOp(checks)
                self.instrs.append(Instr(op, tuple(outs), (), box.label, box.span, is_check=True))
        return outs

    def constant(self, box: Box) -> list:
        """The hoisted values of a const box, one per output atom, checked once."""
        atoms, data, dtype = box.outputs, box.data, self.compiler.dtype
        try:
            if data.get("path") is not None:
                arrays = load_array_file(data["path"])
                total = sum(width(a) for a in atoms)
                raw = split_components(arrays, atoms) if len(arrays) == total else [arrays[0]]
            else:
                raw = [data.get("value")] if len(atoms) == 1 else list(data.get("value"))
            if len(raw) != len(atoms):
                raise CatRuntimeError(
                    "R0416", f"`{box.label}` holds {len(raw)} value(s) for {len(atoms)} wire(s)"
                )
            values = [coerce(v, a, dtype) for v, a in zip(raw, atoms, strict=True)]
            for value, atom in zip(values, atoms, strict=True):
                check = make_check(atom, f"the data `{data.get('name', box.label)}`")
                if check is not None:
                    check(value, {})
        except CatRuntimeError as exc:
            raise exc.at(box.span) from None
        return values


def _alias(box: Box, ins: list[int]) -> list[int]:
    """Structural boxes move no data: their outputs are (some of) their input slots."""
    kind, split = box.data["kind"], box.data.get("split", 0)
    if kind == "swap":
        return ins[split:] + ins[:split]
    if kind == "copy":
        return ins * (len(box.outputs) // max(len(ins), 1))
    if kind in ("discard", "id"):
        return [] if kind == "discard" else ins
    raise ValueError(f"unknown structural box {kind!r}")
