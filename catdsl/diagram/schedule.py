"""Schedule a diagram: the backend-neutral order of work, as one linear list of steps.

A schedule numbers every wire with a register slot and lists what to compute, in topological
order, with no numerics bound. A `ref` box is inlined into the same slots (its named sources
fed by the ref's port inputs) when it is small or its definition has no other use; a large
definition used several times (more than `INLINE_LIMIT` steps once fully inlined) is an
`Invoke` of its definition's sub-schedule instead, made once however often it is used, so the
schedule of a program grows with its text, not with the product of its uses. Either way a
`Check` step follows where a morphism's outputs enter nominal objects; structural boxes (swap,
copy, discard) only alias slots; constants are
hoisted (their slots are filled once, before any run); `power`, `functor` and `train` boxes
and primitives with morphism arguments hold sub-schedules (one per sub-diagram however often
it is used). A box without a definition (`opaque`, `hole`) cannot run: R0101. Slot 0 is
reserved for the backend (its run context).

| code  | raised when |
| ----- | ----------- |
| R0101 | a box has no definition (a declared morphism without body, a hole) |
"""

from __future__ import annotations

from dataclasses import dataclass, field

from catdsl.diagram.depth import deep
from catdsl.diagram.ir import (
    OUTPUT,
    Box,
    ConstBox,
    Diagram,
    FunctorBox,
    HoleBox,
    Numbered,
    OpaqueBox,
    ParamBox,
    PortBox,
    PowerBox,
    PrimBox,
    RefBox,
    StructBox,
    TrainBox,
)
from catdsl.errors import CatRuntimeError, Span
from catdsl.typesys.types import Atom, Obj, Prod

RESERVED = 0
"""The slot every schedule leaves to its backend (the numpy plan keeps its run context there)."""

INLINE_LIMIT = 512
"""The most steps a `ref` may inline into its user; a larger definition is invoked as one shared
sub-schedule. Inlining keeps small programs' plans flat (no call overhead, the fast path of
`bench/overhead.py`); every program under the limit schedules exactly as when every ref was
inlined."""


@dataclass(frozen=True)
class Source:
    """A named input of a schedule: a user port or a learnable param, fed by name."""

    name: str
    kind: str  # "port" | "param"
    atom: Atom


@dataclass(frozen=True)
class Constant:
    """A hoisted `const` box: its values fill `slots` once, before any run."""

    box: ConstBox
    slots: tuple[int, ...]


@dataclass(frozen=True, init=False)
class Call:
    """A primitive applied to the values in `ins`, writing `outs`; `subs` are the schedules
    of its morphism arguments (`fold(op, unit)`), which its kernel applies."""

    box: PrimBox
    ins: tuple[int, ...]
    outs: tuple[int, ...]
    subs: tuple[Schedule, ...] = ()

    def __init__(
        self,
        box: PrimBox,
        ins: tuple[int, ...],
        outs: tuple[int, ...],
        subs: tuple[Schedule, ...] = (),
    ) -> None:
        # One dict update instead of the frozen dataclass's `object.__setattr__` per field:
        # a schedule makes one `Call` per primitive.
        self.__dict__.update(box=box, ins=ins, outs=outs, subs=subs)


@dataclass(frozen=True)
class Loop:
    """`f ^ n`: the schedule `body` applied `box.n` times (inputs: state, then ports)."""

    box: PowerBox
    body: Schedule
    ins: tuple[int, ...]
    outs: tuple[int, ...]


@dataclass(frozen=True)
class Map:
    """`List(f)` / `Option(f)`: the schedule `body` on every element (or on the one present)."""

    box: FunctorBox
    body: Schedule
    ins: tuple[int, ...]
    outs: tuple[int, ...]


@dataclass(frozen=True)
class Invoke:
    """A large `ref`: its definition's shared schedule `body` on the values in `ins` (the ref's
    domain wires, then one per source of `body`, in `body.sources` order), writing `outs`."""

    box: RefBox
    body: Schedule
    ins: tuple[int, ...]
    outs: tuple[int, ...]


@dataclass(frozen=True)
class Train:
    """A training box; `loss` and `data` are scheduled for the families that evaluate the
    loss (None for the others, and `data` None without training data)."""

    box: TrainBox
    loss: Schedule | None
    data: Schedule | None
    ins: tuple[int, ...]
    outs: tuple[int, ...]


@dataclass(frozen=True)
class Unpack:
    """An object over a product taken apart (`fst[Pair]`): the one value in `ins` written to
    `outs` as its parts."""

    box: StructBox
    ins: tuple[int, ...]
    outs: tuple[int, ...]


@dataclass(frozen=True)
class Check:
    """Values entering nominal objects: the outputs of the definition `label` (`atoms[k]` is
    the object of `ins[k]`, None where there is nothing nominal to check)."""

    ins: tuple[int, ...]
    atoms: tuple[Obj | None, ...]
    label: str
    span: Span | None


Step = Call | Loop | Map | Invoke | Train | Check | Unpack
"""One entry of a schedule's work list."""


@dataclass(frozen=True, eq=False)
class Schedule:
    """A diagram `dom -> cod` as slots and steps (see the module docstring)."""

    dom: Prod
    cod: Prod
    name: str | None
    slots: tuple[Atom | None, ...]  # the atom of each slot (None for the reserved one)
    in_slots: tuple[int, ...]
    sources: tuple[Source, ...]
    source_slots: tuple[int, ...]
    out_slots: tuple[int, ...]
    constants: tuple[Constant, ...]
    steps: tuple[Step, ...]
    diagram: Diagram = field(repr=False)


def schedule(diagram: Diagram) -> Schedule:
    """The schedule of `diagram` and, inside its steps, of every sub-diagram it holds."""
    with deep("scheduling"):
        return _Scheduler(diagram).schedule(diagram)


class _Scheduler:
    """Shared state of one scheduling: the sub-schedules made so far, by diagram."""

    def __init__(self, root: Diagram) -> None:
        self.done: dict[int, Schedule] = {}
        self.sizes: dict[int, int] = {}
        self.uses = _ref_uses(root)
        self.layouts: dict[int, Numbered] = {}

    def layout(self, diagram: Diagram) -> Numbered:
        """`diagram.numbered()`, once per diagram however often it is inlined."""
        key = id(diagram)
        if key not in self.layouts:
            self.layouts[key] = diagram.numbered()
        return self.layouts[key]

    def inlines(self, sub: Diagram) -> bool:
        """Whether a ref to `sub` is inlined: when it is small, or used by one box only (so
        inlining copies nothing); else it is invoked."""
        return self.uses.get(id(sub), 0) <= 1 or self.size(sub) <= INLINE_LIMIT

    def size(self, diagram: Diagram) -> int:
        """How many steps `diagram` would schedule with every ref inlined (capped just above
        `INLINE_LIMIT`), computed once per diagram object, without recursion."""
        todo = [diagram]
        while todo:
            top = todo[-1]
            if id(top) in self.sizes:
                todo.pop()
                continue
            subs = [b.sub for b in top.nesting_boxes() if isinstance(b, RefBox) and b.sub]
            missing = [s for s in subs if id(s) not in self.sizes]
            if missing:
                todo.extend(missing)
                continue
            todo.pop()
            total = len(top) - len(subs) + sum(self.sizes[id(s)] for s in subs)
            self.sizes[id(top)] = min(total, INLINE_LIMIT + 1)
        return self.sizes[id(diagram)]

    def schedule(self, diagram: Diagram) -> Schedule:
        """The schedule of `diagram`, made once per diagram object."""
        key = id(diagram)
        if key not in self.done:
            self.done[key] = _Builder(self).build(diagram)
        return self.done[key]


class _Builder:
    """Builds one schedule: slots, named sources, constants, steps."""

    def __init__(self, scheduler: _Scheduler):
        self.scheduler = scheduler
        self.atoms: list[Atom | None] = [None]  # the reserved slot
        self.sources: dict[str, tuple[Source, int]] = {}
        self.constants: list[Constant] = []
        self.steps: list[Step] = []

    def build(self, diagram: Diagram) -> Schedule:
        in_slots = tuple(self.slot(a) for a in diagram.dom.atoms)
        out_slots = tuple(self.emit(diagram, in_slots, {}))
        return Schedule(
            dom=diagram.dom,
            cod=diagram.cod,
            name=diagram.name,
            slots=tuple(self.atoms),
            in_slots=in_slots,
            sources=tuple(s for s, _ in self.sources.values()),
            source_slots=tuple(slot for _, slot in self.sources.values()),
            out_slots=out_slots,
            constants=tuple(self.constants),
            steps=tuple(self.steps),
            diagram=diagram,
        )

    def slot(self, atom: Atom | None) -> int:
        self.atoms.append(atom)
        return len(self.atoms) - 1

    def slots(self, atoms: tuple[Atom, ...]) -> tuple[int, ...]:
        start = len(self.atoms)
        self.atoms.extend(atoms)
        return tuple(range(start, start + len(atoms)))

    def emit(self, diagram: Diagram, in_slots: tuple[int, ...], ports: dict[str, int]) -> list[int]:
        """Schedule the boxes of `diagram` given its input slots; return its output slots."""
        order, n_wires = self.scheduler.layout(diagram)
        wires = [0] * n_wires  # the slot of each wire, by the layout's numbering
        wires[: len(in_slots)] = in_slots
        atoms, steps = self.atoms, self.steps
        result: list[int] = []
        for box, feeds, first in order:
            kind = box.__class__
            if kind is ParamBox or kind is PortBox:  # `box`'s work inlined for the common boxes
                name = box.name  # type: ignore[attr-defined]
                wires[first] = ports[name] if name in ports else self.source(box)  # type: ignore[arg-type]
                continue
            ins = (wires[feeds[0]],) if len(feeds) == 1 else tuple([wires[k] for k in feeds])
            if kind is PrimBox and not box.subs:  # type: ignore[attr-defined]
                start = len(atoms)
                atoms.extend(box.outputs)
                outs = tuple(range(start, len(atoms)))
                steps.append(Call(box, ins, outs))  # type: ignore[arg-type]
                wires[first : first + len(outs)] = outs
                continue
            if box.id == OUTPUT:
                result = list(ins)
                continue
            # (a use of a definition, the commonest box here, without `box`'s `match`)
            slots = self.ref(box, ins) if kind is RefBox else self.box(box, ins, ports)  # type: ignore[arg-type]
            for port, slot in enumerate(slots, first):
                wires[port] = slot
        return result

    def ref(self, box: RefBox, ins: tuple[int, ...]) -> list[int]:
        """The output slots of a use of a definition: its body inlined, or invoked as a
        sub-plan when the scheduler keeps it whole."""
        sub = box.sub
        if sub is not None and not self.scheduler.inlines(sub):
            return self.invoke(box, sub, ins)
        return self.inline(box, ins)

    def box(self, box: Box, ins: tuple[int, ...], ports: dict[str, int]) -> list[int]:
        """The output slots of one box, scheduling its step(s) (`emit` schedules the boxes of
        the commonest classes itself)."""
        match box:
            case RefBox():
                return self.ref(box, ins)
            case StructBox(structure="unpack"):
                return self.add(Unpack(box, ins, self.slots(box.outputs)))
            case StructBox():
                return _alias(box, list(ins))
            case ConstBox():
                slots = self.slots(box.outputs)
                self.constants.append(Constant(box, slots))
                return list(slots)
            case PrimBox():
                subs = tuple(self.scheduler.schedule(sub) for sub in box.subs)
                return self.add(Call(box, ins, self.slots(box.outputs), subs))
            case ParamBox(name=name) | PortBox(name=name):
                return [ports[name] if name in ports else self.source(box)]
            case PowerBox():
                body = self.scheduler.schedule(box.sub)
                return self.add(Loop(box, body, ins, self.slots(box.outputs)))
            case FunctorBox():
                body = self.scheduler.schedule(box.sub)
                return self.add(Map(box, body, ins, self.slots(box.outputs)))
            case TrainBox():
                return self.add(self.train(box, ins))
            case OpaqueBox() | HoleBox():
                hole = isinstance(box, HoleBox)
                what = f"the hole `{box.label}`" if hole else f"`{box.label}`"
                raise CatRuntimeError(
                    "R0101",
                    f"{what} has no definition, so it cannot run",
                    box.span,
                    help="give it a body (`= ...`) or fill the hole" if hole else None,
                )
        raise ValueError(f"cannot schedule a box of kind {box.kind!r}")

    def add(self, step: Call | Loop | Map | Invoke | Train | Unpack) -> list[int]:
        self.steps.append(step)
        return list(step.outs)

    def train(self, box: TrainBox, ins: tuple[int, ...]) -> Train:
        """A train step, its data and loss scheduled when the family evaluates the loss."""
        loss = data = None
        if box.evaluates_loss and box.loss is not None:
            try:
                data = self.scheduler.schedule(box.data) if box.data is not None else None
                loss = self.scheduler.schedule(box.loss)
            except CatRuntimeError as exc:
                raise exc.at(box.span) from None
        return Train(box, loss, data, ins, self.slots(box.outputs))

    def source(self, box: ParamBox | PortBox | Source) -> int:
        """The slot of a named port or param of this schedule (one per name)."""
        if box.name not in self.sources:
            atom = box.atom if isinstance(box, Source) else box.outputs[0]
            source = Source(box.name, box.kind, atom)
            self.sources[box.name] = (source, self.slot(atom))
        return self.sources[box.name][1]

    def invoke(self, box: RefBox, sub: Diagram, ins: tuple[int, ...]) -> list[int]:
        """A large ref as a call of its definition's shared schedule, then its outputs checked.
        The body's sources are fed by the ref's port inputs by name, else by this schedule's."""
        body = self.scheduler.schedule(sub)
        n = box.n_domain_inputs
        ports = dict(zip(box.port_names, ins[n:], strict=True))
        fed = [ports[s.name] if s.name in ports else self.source(s) for s in body.sources]
        outs = self.add(Invoke(box, body, (*ins[:n], *fed), self.slots(box.outputs)))
        self.check(box, outs)
        return outs

    def inline(self, box: RefBox, ins: tuple[int, ...]) -> list[int]:
        """A ref's definition scheduled in place, then its outputs checked (morphisms)."""
        if box.sub is None:
            raise ValueError(f"the definition `{box.label}` has no body to schedule")
        n = box.n_domain_inputs
        ports = dict(zip(box.port_names, ins[n:], strict=True))
        outs = self.emit(box.sub, ins[:n], ports)
        self.check(box, outs)
        return outs

    def check(self, box: RefBox, outs: list[int]) -> None:
        """The check of a morphism's outputs where they enter nominal objects, if any."""
        if box.def_kind == "morphism":
            outputs = box.outputs
            if len(outputs) == 1 and not isinstance(outputs[0], Obj):  # nothing nominal
                return
            atoms = tuple([a if isinstance(a, Obj) else None for a in outputs])
            if atoms.count(None) < len(atoms):
                self.steps.append(Check(tuple(outs), atoms, box.label, box.span))


def _ref_uses(root: Diagram) -> dict[int, int]:
    """How many ref boxes use each definition's diagram, over every diagram reachable from
    `root` (each counted once), by diagram id; walked without recursion."""
    uses: dict[int, int] = {}
    seen, todo = {id(root)}, [root]
    while todo:
        diagram = todo.pop()
        for box in diagram.nesting_boxes():
            subs: tuple[Diagram | None, ...] = ()
            if isinstance(box, PrimBox):
                subs = box.subs
            elif isinstance(box, RefBox | PowerBox | FunctorBox):
                subs = (box.sub,)
                if isinstance(box, RefBox) and box.sub is not None:
                    uses[id(box.sub)] = uses.get(id(box.sub), 0) + 1
            elif isinstance(box, TrainBox):
                subs = (box.loss, box.data)
            for sub in subs:
                if sub is not None and id(sub) not in seen:
                    seen.add(id(sub))
                    todo.append(sub)
    return uses


def _alias(box: StructBox, ins: list[int]) -> list[int]:
    """Structural boxes move no data: their outputs are (some of) their input slots."""
    structure, split = box.structure, box.split
    if structure == "swap":
        return ins[split:] + ins[:split]
    if structure == "copy":
        return ins * (len(box.outputs) // max(len(ins), 1))
    if structure == "discard":
        return []
    if structure == "id":
        return ins
    raise ValueError(f"unknown structural box {structure!r}")
