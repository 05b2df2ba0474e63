"""The one intermediate representation: an open, typed port graph.

Nodes are boxes with ordered input and output ports; edges are wires from an output port to an
input port, labelled with the atom they carry. The diagram's own inputs and outputs are the
boundary boxes `in` and `out`; ports and params are source boxes that enter from above.

Rules every diagram keeps:
- every input port of every box has exactly one incoming wire;
- an output port may feed several wires (an implicit copy) or none (an implicit discard);
- the graph is acyclic: iteration is a `power` box holding its body as a sub-diagram.
The scheduler (and through it every backend), the reference interpreter and the renderer
consume this structure.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import MISSING, dataclass, field
from dataclasses import fields as fields_of
from itertools import islice
from typing import Any, ClassVar, NamedTuple

from catdsl.errors import Span
from catdsl.typesys.family_spec import Family, Schedule
from catdsl.typesys.types import Atom, Port, Prod

INPUT, OUTPUT = "in", "out"
"""The training families that hold a loss but never evaluate it."""


@dataclass(frozen=True, kw_only=True, eq=False)
class Box:
    """A box with ordered input and output ports. For boxes with ports (`ref`, `power`, ...),
    `inputs` lists the domain wires first, then one input per port of `port_names`. Each kind
    of box is a subclass carrying its own data; consumers dispatch on the class."""

    kind: ClassVar[str] = "box"
    id: str
    label: str
    inputs: tuple[Atom, ...]
    outputs: tuple[Atom, ...]
    span: Span | None = None
    port_names: tuple[str, ...] = ()

    @property
    def n_domain_inputs(self) -> int:
        return len(self.inputs) - len(self.port_names)


@dataclass(frozen=True, kw_only=True, eq=False)
class InputBox(Box):
    """The diagram's domain: no inputs, one output per domain atom."""

    kind: ClassVar[str] = "input"


@dataclass(frozen=True, kw_only=True, eq=False)
class OutputBox(Box):
    """The diagram's codomain: one input per codomain atom, no outputs."""

    kind: ClassVar[str] = "output"


@dataclass(frozen=True, kw_only=True, eq=False)
class PrimBox(Box):
    """A primitive: the kernel `name` with its constant arguments and its inputs' element
    ranks (empty in drawings built by hand); `subs` are the diagrams of its morphism
    arguments (`fold(op, unit)`), and `sub_names` their names in its spec."""

    kind: ClassVar[str] = "prim"
    name: str = ""
    static: Mapping[str, object] = field(default_factory=dict)
    in_ranks: tuple[int, ...] = ()
    subs: tuple[Diagram, ...] = ()
    sub_names: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True, eq=False)
class StructBox(Box):
    """A structural box that moves no data: `swap` (the first `split` wires go last), `copy`
    (the inputs repeated) or `discard` (no outputs); or `unpack`, an object over a product
    taken apart into one wire per part (`fst[Pair]`)."""

    kind: ClassVar[str] = "struct"
    structure: str
    split: int = 0


@dataclass(frozen=True, kw_only=True, eq=False)
class RefBox(Box):
    """A use of a named definition, collapsed: `sub` is its body (None only in drawings built
    by hand); `def_kind` is the definition's keyword (`morphism`, `let`, ...)."""

    kind: ClassVar[str] = "ref"
    name: str = ""
    sub: Diagram | None = None
    def_kind: str = "morphism"


@dataclass(frozen=True, kw_only=True, eq=False)
class PowerBox(Box):
    """`f ^ n`: the body `sub` applied `n` times."""

    kind: ClassVar[str] = "power"
    n: int
    sub: Diagram


@dataclass(frozen=True, kw_only=True, eq=False)
class FunctorBox(Box):
    """`List(f)` or `Option(f)` (`functor`) of the body `sub`."""

    kind: ClassVar[str] = "functor"
    functor: str
    sub: Diagram


@dataclass(frozen=True, kw_only=True, eq=False)
class ConstBox(Box):
    """A literal point (`value`) or one loaded from the file `path`."""

    kind: ClassVar[str] = "const"
    name: str
    value: Any = None  # the literal as the program wrote it (nested lists, numbers)
    path: str | None = None


@dataclass(frozen=True, kw_only=True, eq=False)
class ParamBox(Box):
    """A learnable parameter entering from above, with how it is initialised."""

    kind: ClassVar[str] = "param"
    name: str
    init: str | None = None
    init_args: Mapping[str, object] = field(default_factory=dict)
    literal: object = None


@dataclass(frozen=True, kw_only=True, eq=False)
class PortBox(Box):
    """A user port entering from above."""

    kind: ClassVar[str] = "port"
    name: str


@dataclass(frozen=True, kw_only=True, eq=False)
class TrainBox(Box):
    """A training family (`TrainStep`, `Adam`, `Init`, ...) over the `loss` diagram, the
    training `data` point (None without data), the trained `params` and the hyperparameters."""

    kind: ClassVar[str] = "train"
    family: str
    spec: Family
    loss: Diagram | None = None
    data: Diagram | None = None
    params: tuple[str, ...] = ()
    hyper: Mapping[str, float] = field(default_factory=dict)
    schedule: Schedule | None = None  # a learning-rate schedule (optimizers that count steps)
    only: tuple[str, ...] = ()  # the params a step updates; () is every param of its loss

    @property
    def evaluates_loss(self) -> bool:
        """Whether the family computes its loss (the initialisers and readers only hold it)."""
        return self.spec.evaluates_loss


@dataclass(frozen=True, kw_only=True, eq=False)
class HoleBox(Box):
    """`?name`: a hole left to fill."""

    kind: ClassVar[str] = "hole"
    name: str | None = None


@dataclass(frozen=True, kw_only=True, eq=False)
class OpaqueBox(Box):
    """A declared morphism without a body."""

    kind: ClassVar[str] = "opaque"
    name: str = ""


BOX_TYPES: dict[str, type[Box]] = {
    cls.kind: cls
    for cls in (
        InputBox,
        OutputBox,
        PrimBox,
        StructBox,
        RefBox,
        PowerBox,
        FunctorBox,
        ConstBox,
        ParamBox,
        PortBox,
        TrainBox,
        HoleBox,
        OpaqueBox,
    )
}
"""Every kind of box by its `kind` name."""


class WireEnd(NamedTuple):
    """One port of one box: a box id and a port number (a tuple: lowering makes one per wire)."""

    box: str
    port: int


_NESTING = (RefBox, PowerBox, FunctorBox, TrainBox, PrimBox)
"""The kinds of box that may hold sub-diagrams (a primitive when it has morphism arguments)."""

Numbered = tuple[list[tuple["Box", tuple[int, ...], int]], int]
"""What `Diagram.numbered` gives: each box with its input wires' numbers and its first output
wire's, and the number of wires."""

Edge = tuple[str, str, int, int, Atom]
"""A wire as stored: source box, target box, source port, target port, the atom it carries."""


class Diagram:
    """An open port graph with boundary `dom -> cod` and external `ports`.

    Boxes and wires are kept in plain dicts and lists (adding one is a few dict operations, and
    lowering adds one per primitive); `graph` gives the same structure as a networkx
    `MultiDiGraph`, built on demand for analyses that want one."""

    def __init__(self, dom: Prod, cod: Prod, name: str | None = None):
        self.dom = dom
        self.cod = cod
        self.name = name
        self.ports: tuple[Port, ...] = ()
        self._boxes: dict[str, Box] = {  # in creation order: `in`, `out`, then the rest
            INPUT: _make_input(INPUT, "in", (), dom.atoms, None, ()),
            OUTPUT: _make_output(OUTPUT, "out", cod.atoms, (), None, ()),
        }
        self._rank: dict[str, int] = {INPUT: -1, OUTPUT: 1 << 62}  # the rest: `_ranks`
        self._edges: list[Edge] = []
        self._nesting: dict[str, None] = {}  # the boxes holding sub-diagrams, in creation order
        self._in: dict[str, list[Edge]] = {INPUT: [], OUTPUT: []}
        self._out: dict[str, list[Edge]] | None = None  # each box's wires out, once asked
        self._forward = True  # ids in creation order, each wire from a lower rank to a higher
        self._order: list[str] | None = None  # the topological order, once computed
        self._graph: Any = None  # the networkx view, once built
        self._counter = 0

    # ---------------------------------------------------------------- building
    def add(
        self,
        box_type: type[Box],
        label: str,
        inputs: Sequence[Atom],
        outputs: Sequence[Atom],
        *,
        span: Span | None = None,
        port_names: Sequence[str] = (),
        box_id: str | None = None,
        **fields: Any,
    ) -> str:
        """Add a box of `box_type` with its own `fields`; ids are `b0, b1, ...` in creation
        order so output is stable. A `box_id` of the caller's that names a box already there
        puts the new box in its place, wires and all."""
        inputs, outputs, port_names = tuple(inputs), tuple(outputs), tuple(port_names)
        if box_id is None:
            return self.place(box_type, label, inputs, outputs, span, port_names, fields)
        make, _ = _MAKERS.get(box_type) or maker(box_type)
        box = _made(make, box_type, box_id, label, inputs, outputs, span, port_names, fields)
        if box_id != INPUT and box_id != OUTPUT:
            self._forward = False  # an id of the caller's: sort by `_natural_key`
        self._put(box)
        return box_id

    def place(
        self,
        box_type: type[Box],
        label: str,
        inputs: tuple[Atom, ...],
        outputs: tuple[Atom, ...],
        span: Span | None,
        port_names: tuple[str, ...],
        fields: Mapping[str, Any],
        sources: Sequence[tuple[str, int]] = (),
    ) -> str:
        """`add` for lowering, which calls it once per box: the box's own fields as one
        mapping, the box's next id, and its inputs fed from `sources` as `feed` feeds them.
        The box is made by `maker`, not its dataclass `__init__` (whose `object.__setattr__`
        per field of a frozen class was most of the cost of adding a box); a field missing or
        unknown goes through that `__init__`, which names it."""
        boxes = self._boxes
        box_id = f"b{self._counter}"
        self._counter += 1
        make, nests = _MAKERS.get(box_type) or maker(box_type)
        try:
            box = make(box_id, label, inputs, outputs, span, port_names, **fields)
        except TypeError:
            box = _made(make, box_type, box_id, label, inputs, outputs, span, port_names, fields)
        if box_id in boxes:  # an id a caller gave before: put in its place
            self._put(box)
            if sources:
                self.feed(box_id, sources)
            return box_id
        if nests and (nests == 1 or box.subs):  # type: ignore[attr-defined]
            self._nesting[box_id] = None
        self._insert(box_id, box, sources)
        return box_id

    def place_prim(
        self,
        label: str,
        inputs: tuple[Atom, ...],
        outputs: tuple[Atom, ...],
        span: Span | None,
        port_names: tuple[str, ...],
        sources: Sequence[tuple[str, int]],
        name: str,
        static: dict[str, object],
        in_ranks: tuple[int, ...],
        subs: tuple[Diagram, ...],
        sub_names: tuple[str, ...],
    ) -> str:
        """`place` for a primitive (lowering makes one box per primitive: a chain of 20,000
        brings 20,000), its own fields as arguments rather than a mapping."""
        box_id = f"b{self._counter}"
        if box_id in self._boxes:  # an id a caller gave before
            own = {"name": name, "static": static, "in_ranks": in_ranks, "subs": subs}
            own["sub_names"] = sub_names
            return self.place(PrimBox, label, inputs, outputs, span, port_names, own, sources)
        self._counter += 1
        box = _make_prim(
            box_id,
            label,
            inputs,
            outputs,
            span,
            port_names,
            name=name,
            static=static,
            in_ranks=in_ranks,
            subs=subs,
            sub_names=sub_names,
        )
        if subs:
            self._nesting[box_id] = None
        self._insert(box_id, box, sources)
        return box_id

    def _insert(self, box_id: str, box: Box, sources: Sequence[tuple[str, int]]) -> None:
        """Add a box under a new id, fed from `sources`: every wire into it comes from an older
        box, so the wires still all run forward if they did."""
        boxes = self._boxes
        boxes[box_id] = box
        self._in[box_id] = into = []
        self._order = self._graph = self._out = None
        if sources:
            edges = self._edges
            for port, (source, src_port) in enumerate(sources):
                edge = (source, box_id, src_port, port, boxes[source].outputs[src_port])
                into.append(edge)
                edges.append(edge)

    def place_source(self, box_type: type[ParamBox | PortBox], name: str, atom: Atom) -> str:
        """`place` for a param or port entering from above (lowering makes one per name per
        diagram: a network's layers bring thousands), without the general path's steps."""
        box_id = f"b{self._counter}"
        if box_id in self._boxes:  # an id a caller gave before
            return self.place(box_type, name, (), (atom,), None, (), {"name": name})
        self._counter += 1
        if box_type is ParamBox or box_type is PortBox:  # (made once, below the classes)
            make = _make_param if box_type is ParamBox else _make_port
        else:
            make = (_MAKERS.get(box_type) or maker(box_type))[0]
        self._boxes[box_id] = make(box_id, name, (), (atom,), None, (), name=name)
        self._in[box_id] = []
        self._order = self._graph = self._out = None
        return box_id

    def _put(self, box: Box) -> None:
        """Add `box`, or put it in place of the box with its id (keeping that box's wires)."""
        if box.id not in self._boxes:
            self._in[box.id] = []
        self._nesting.pop(box.id, None)  # (a box put in place of another comes last here)
        self._track(box)
        self._boxes[box.id] = box
        self._order = self._graph = self._out = None

    def add_box(
        self,
        kind: str,
        label: str,
        inputs: Sequence[Atom],
        outputs: Sequence[Atom],
        span: Span | None = None,
        data: Mapping[str, Any] | None = None,
        port_names: Sequence[str] = (),
    ) -> str:
        """`add` for a box kind given by name, its fields in `data` (for diagrams built by
        hand, such as tests and benchmarks)."""
        if kind not in BOX_TYPES:
            raise ValueError(f"unknown box kind {kind!r}")
        return self.add(
            BOX_TYPES[kind],
            label,
            inputs,
            outputs,
            span=span,
            port_names=port_names,
            **(data or {}),
        )

    def replace_box(self, box: Box) -> None:
        """Put `box` in place of the box with the same id (boxes are immutable)."""
        if box.id not in self._boxes:
            raise KeyError(box.id)
        self._track(box)
        self._boxes[box.id] = box
        self._graph = None

    def _track(self, box: Box) -> None:
        """Keep `_nesting` (what `nesting_boxes` reads) up to date for a box being put in."""
        if isinstance(box, _NESTING) and (not isinstance(box, PrimBox) or box.subs):
            self._nesting[box.id] = None
        else:
            self._nesting.pop(box.id, None)

    def connect(self, src: WireEnd, dst: WireEnd) -> None:
        """Draw a wire from an output port to an input port; the atom is the source's."""
        self._wire(src.box, src.port, dst.box, dst.port)

    def feed(self, box_id: str, sources: Sequence[tuple[str, int]]) -> None:
        """Connect `sources` to the box's input ports 0, 1, ... in order (`connect` each)."""
        boxes, edges, into = self._boxes, self._edges, self._in[box_id]
        for port, (source, src_port) in enumerate(sources):
            edge = (source, box_id, src_port, port, boxes[source].outputs[src_port])
            into.append(edge)
            edges.append(edge)
        if self._forward and box_id != OUTPUT:  # (every wire into `out` runs forward)
            rank = self._ranks()
            self._forward = all(rank[source] < rank[box_id] for source, _ in sources)
        self._order = self._graph = self._out = None

    def _wire(self, source: str, src_port: int, target: str, dst_port: int) -> None:
        edge = (source, target, src_port, dst_port, self._boxes[source].outputs[src_port])
        self._in[target].append(edge)
        self._edges.append(edge)
        if self._forward:
            rank = self._ranks()
            self._forward = rank[source] < rank[target]
        self._order = self._graph = self._out = None

    def _ranks(self) -> dict[str, int]:
        """Each box's place in creation order (`in` first, `out` last): what decides whether
        every wire runs forward. Filled in when asked (a box made by `place` and fed there
        needs none), for the boxes added since it was last asked."""
        rank, boxes = self._rank, self._boxes
        if len(rank) < len(boxes):
            rank.update((b, i) for i, b in enumerate(islice(boxes, len(rank), None), len(rank)))
        return rank

    # ---------------------------------------------------------------- reading
    def box(self, box_id: str) -> Box:
        return self._boxes[box_id]

    @property
    def graph(self) -> Any:
        """The diagram as a networkx `MultiDiGraph` (nodes carry `box`, edges `src_port`,
        `dst_port` and `atom`), built on first use after a change; read it, do not edit it."""
        if self._graph is None:
            import networkx as nx  # only analyses that ask for the graph pay for networkx

            graph = nx.MultiDiGraph()
            for box_id, box in self._boxes.items():
                graph.add_node(box_id, box=box)
            for source, target, src_port, dst_port, atom in self._edges:
                graph.add_edge(source, target, src_port=src_port, dst_port=dst_port, atom=atom)
            self._graph = graph
        return self._graph

    def boxes(self) -> Iterator[Box]:
        """All boxes in a topological order (ties broken by id, so the order is stable): the
        order of `nx.lexicographical_topological_sort` with `_natural_key`, which is unique.
        It is computed once per change: when every wire runs from a box to a later one (as
        lowering builds them) it is `in`, the boxes in creation order, `out`; otherwise by
        Kahn's algorithm with a heap on the wires."""
        if self._order is None:
            self._order = self._topological_order()
        boxes = self._boxes
        return (boxes[box_id] for box_id in self._order)

    def _topological_order(self) -> list[str]:
        if self._forward:  # creation order is the order of `_natural_key`
            ids = list(self._boxes)  # `in` and `out` first (made with the diagram), then the rest
            ids.append(ids.pop(1))
            return ids
        waiting = {box_id: len(edges) for box_id, edges in self._in.items()}
        ready = [(_natural_key(n), n) for n, count in waiting.items() if count == 0]
        out = self._outgoing()
        heapq.heapify(ready)
        order: list[str] = []
        while ready:
            _, box_id = heapq.heappop(ready)
            order.append(box_id)
            for edge in out[box_id]:
                target = edge[1]
                waiting[target] -= 1
                if waiting[target] == 0:
                    heapq.heappush(ready, (_natural_key(target), target))
        return order

    def _outgoing(self) -> dict[str, list[Edge]]:
        """Each box's wires out, in the order they were drawn: gathered from the wires when
        first asked after a change (lowering and scheduling never ask)."""
        if self._out is None:
            out: dict[str, list[Edge]] = {box_id: [] for box_id in self._boxes}
            for edge in self._edges:
                out[edge[0]].append(edge)
            self._out = out
        return self._out

    def inner_boxes(self) -> Iterator[Box]:
        """Boxes other than the boundary."""
        return (b for b in self.boxes() if not isinstance(b, InputBox | OutputBox))

    def incoming(self, box_id: str) -> list[WireEnd]:
        """For each input port of the box, in order, the output port that feeds it."""
        box = self.box(box_id)
        sources: list[WireEnd | None] = [None] * len(box.inputs)
        for source, _target, src_port, dst_port, _atom in _grouped(self._in[box_id], 0):
            sources[dst_port] = WireEnd(source, src_port)
        connected = [s for s in sources if s is not None]
        if len(connected) != len(sources):
            raise ValueError(f"box {box_id} ({box.label}) has an unconnected input")
        return connected

    def numbered(self) -> Numbered:
        """The boxes after `in`, in `boxes` order, each with the numbers of the wires feeding
        its inputs and the number of its first output wire, and how many wires there are:
        `in`'s outputs are wires 0, 1, ..., each box's outputs follow on. For whole-diagram
        walks (scheduling): they index a list by wire instead of asking `incoming` per box."""
        first: dict[str, int] = {INPUT: 0}
        n_wires = len(self._boxes[INPUT].outputs)
        order: list[tuple[Box, tuple[int, ...], int]] = []
        append = order.append
        if self._order is None:
            self._order = self._topological_order()
        boxes, feeding = self._boxes, self._in
        for box_id in islice(self._order, 1, None):  # (`in` comes first in every order)
            box, edges = boxes[box_id], feeding[box_id]
            n_in = len(box.inputs)
            if n_in == 1 and len(edges) == 1 and edges[0][3] == 0:  # one input: most boxes
                edge = edges[0]
                append((box, (first[edge[0]] + edge[2],), n_wires))
            elif not n_in and not edges:  # a source
                append((box, (), n_wires))
            else:
                feeds: list[int | None] = [None] * n_in
                for source, _target, src_port, dst_port, _atom in edges:
                    feeds[dst_port] = first[source] + src_port
                if None in feeds:
                    raise ValueError(f"box {box_id} ({box.label}) has an unconnected input")
                append((box, tuple(feeds), n_wires))  # type: ignore[arg-type]
            first[box_id] = n_wires
            n_wires += len(box.outputs)
        return order, n_wires

    def outgoing(self, box_id: str) -> list[list[WireEnd]]:
        """For each output port of the box, the input ports it feeds (possibly none)."""
        box = self.box(box_id)
        targets: list[list[WireEnd]] = [[] for _ in box.outputs]
        for _source, target, src_port, dst_port, _atom in _grouped(self._outgoing()[box_id], 1):
            targets[src_port].append(WireEnd(target, dst_port))
        return targets

    def nesting_boxes(self) -> Iterator[Box]:
        """The boxes that hold sub-diagrams (refs, `^ n`, functors, training boxes, primitives
        with morphism arguments) in creation order: walks over the definitions a diagram uses
        visit these, not every box."""
        boxes = self._boxes
        return (boxes[box_id] for box_id in self._nesting)

    def __len__(self) -> int:
        return len(self._boxes) - 2

    def __repr__(self) -> str:
        name = f"{self.name} : " if self.name else ""
        return f"<Diagram {name}{self.dom} -> {self.cod}, {len(self)} boxes>"


BoxMaker = Callable[..., Box]
"""`make(id, label, inputs, outputs, span, port_names, **own fields)`: a box, made without its
dataclass `__init__`."""

_MAKERS: dict[type[Box], tuple[BoxMaker, int]] = {}
"""Per box class: its `maker`, written on first use, and whether its boxes hold sub-diagrams (0
never, 1 always, 2 a primitive's when it has morphism arguments)."""

_UNSET = object()
"""A default factory's field that was not given (a maker's parameters default to it)."""

_SHARED = ("id", "label", "inputs", "outputs", "span", "port_names")
"""The fields every box has, in their order; `maker` takes them first and positionally."""


def maker(box_type: type[Box]) -> tuple[BoxMaker, int]:
    """`_MAKERS` of a box class: a function making a box of `box_type` as its dataclass
    `__init__` makes it (the same fields in the same order, defaults and default factories as
    declared), but filling the instance's `__dict__` at once instead of one
    `object.__setattr__` per field."""
    every = fields_of(box_type)
    assert tuple(f.name for f in every[: len(_SHARED)]) == _SHARED, "every box's fields first"
    namespace: dict[str, Any] = {"new": object.__new__, "store": object.__setattr__}
    namespace.update(cls=box_type, unset=_UNSET)
    assert not {f.name for f in every} & namespace.keys(), "a field named as a helper"
    params, made = [], []
    for f in every:
        if f.default_factory is not MISSING:  # one made per box, unless one is given
            namespace[f"make_{f.name}"] = f.default_factory
            params.append(f"{f.name}=unset")
            made.append(f"    if {f.name} is unset:\n        {f.name} = make_{f.name}()\n")
        elif f.default is not MISSING:
            namespace[f"default_{f.name}"] = f.default
            params.append(f"{f.name}=default_{f.name}")
        else:
            params.append(f.name)
        if f.name == _SHARED[-1] and len(every) > len(_SHARED):
            params.append("*")  # a class's own fields by name only
    stored = ", ".join(f"{f.name!r}: {f.name}" for f in every)
    source = (
        f"def make({', '.join(params)}):\n{''.join(made)}"
        f"    box = new(cls)\n    store(box, '__dict__', {{{stored}}})\n    return box\n"
    )
    exec(source, namespace)  # the technique `dataclasses` itself uses to write `__init__`
    make: BoxMaker = namespace["make"]
    make.__qualname__ = make.__name__ = f"make_{box_type.__name__}"
    nests = 2 if issubclass(box_type, PrimBox) else int(issubclass(box_type, _NESTING))
    _MAKERS[box_type] = (make, nests)
    return make, nests


def _made(
    make: BoxMaker,
    box_type: type[Box],
    box_id: str,
    label: str,
    inputs: tuple[Atom, ...],
    outputs: tuple[Atom, ...],
    span: Span | None,
    port_names: tuple[str, ...],
    fields: Mapping[str, Any],
) -> Box:
    """A box from its maker; a field missing or unknown goes through the dataclass's own
    `__init__`, which raises the `TypeError` naming it."""
    try:
        return make(box_id, label, inputs, outputs, span, port_names, **fields)
    except TypeError:
        return box_type(
            id=box_id,
            label=label,
            inputs=inputs,
            outputs=outputs,
            span=span,
            port_names=port_names,
            **fields,
        )


def _grouped(edges: list[Edge], end: int) -> list[Edge]:
    """A box's wires grouped by the box at their other `end` (0: source, 1: target), groups in
    order of first appearance: the order networkx's adjacency gave them in."""
    if len(edges) < 2:
        return edges
    groups: dict[str, list[Edge]] = {}
    for edge in edges:
        groups.setdefault(edge[1] if end else edge[0], []).append(edge)
    return [edge for group in groups.values() for edge in group]


def _natural_key(box_id: str) -> tuple[int, int] | tuple[int, int, str]:
    if box_id == INPUT:
        return (0, 0)
    if box_id == OUTPUT:
        return (2, 0)
    return (1, int(box_id[1:]) if box_id[1:].isdigit() else 0, box_id)


_make_input, _make_output = maker(InputBox)[0], maker(OutputBox)[0]  # one each per diagram
_make_prim = maker(PrimBox)[0]  # one per primitive
_make_param, _make_port = maker(ParamBox)[0], maker(PortBox)[0]  # one per source
