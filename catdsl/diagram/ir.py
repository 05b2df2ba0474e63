"""The one intermediate representation: an open, typed port graph on networkx.

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
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import networkx as nx

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


@dataclass(frozen=True)
class WireEnd:
    box: str
    port: int


class Diagram:
    """An open port graph with boundary `dom -> cod` and external `ports`."""

    def __init__(self, dom: Prod, cod: Prod, name: str | None = None):
        self.dom = dom
        self.cod = cod
        self.name = name
        self.ports: tuple[Port, ...] = ()
        self.graph = nx.MultiDiGraph()
        self._counter = 0
        self.add(InputBox, "in", (), dom.atoms, box_id=INPUT)
        self.add(OutputBox, "out", cod.atoms, (), box_id=OUTPUT)

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
        order so output is stable."""
        if box_id is None:
            box_id = f"b{self._counter}"
            self._counter += 1
        box = box_type(
            id=box_id,
            label=label,
            inputs=tuple(inputs),
            outputs=tuple(outputs),
            span=span,
            port_names=tuple(port_names),
            **fields,
        )
        self.graph.add_node(box_id, box=box)
        return box_id

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
        self.graph.nodes[box.id]["box"] = box

    def connect(self, src: WireEnd, dst: WireEnd) -> None:
        """Draw a wire from an output port to an input port; the atom is the source's."""
        atom = self.box(src.box).outputs[src.port]
        self.graph.add_edge(src.box, dst.box, src_port=src.port, dst_port=dst.port, atom=atom)

    # ---------------------------------------------------------------- reading
    def box(self, box_id: str) -> Box:
        box: Box = self.graph.nodes[box_id]["box"]
        return box

    def boxes(self) -> Iterator[Box]:
        """All boxes in a topological order (ties broken by id, so the order is stable): the
        order of `nx.lexicographical_topological_sort` with `_natural_key`, which is unique,
        computed here on the graph's adjacency dicts (several times faster, and diagrams are
        walked often)."""
        graph = self.graph
        succ, pred, nodes = graph._succ, graph._pred, graph._node
        waiting = {n: sum(map(len, preds.values())) for n, preds in pred.items()}
        ready = [(_natural_key(n), n) for n, count in waiting.items() if count == 0]
        heapq.heapify(ready)
        while ready:
            _, box_id = heapq.heappop(ready)
            yield nodes[box_id]["box"]
            for target, keys in succ[box_id].items():
                waiting[target] -= len(keys)
                if waiting[target] == 0:
                    heapq.heappush(ready, (_natural_key(target), target))

    def inner_boxes(self) -> Iterator[Box]:
        """Boxes other than the boundary."""
        return (b for b in self.boxes() if not isinstance(b, InputBox | OutputBox))

    def incoming(self, box_id: str) -> list[WireEnd]:
        """For each input port of the box, in order, the output port that feeds it."""
        box = self.box(box_id)
        sources: list[WireEnd | None] = [None] * len(box.inputs)
        for src, _dst, attrs in self.graph.in_edges(box_id, data=True):
            sources[attrs["dst_port"]] = WireEnd(src, attrs["src_port"])
        connected = [s for s in sources if s is not None]
        if len(connected) != len(sources):
            raise ValueError(f"box {box_id} ({box.label}) has an unconnected input")
        return connected

    def all_incoming(self) -> dict[str, list[WireEnd]]:
        """`incoming` of every box at once, in one pass over the wires (for whole-diagram
        walks: scheduling a diagram of n boxes costs O(n), not n graph queries)."""
        feeds: dict[str, list[WireEnd | None]] = {
            box_id: [None] * len(box.inputs) for box_id, box in self.graph.nodes(data="box")
        }
        for src, dst, attrs in self.graph.edges(data=True):
            feeds[dst][attrs["dst_port"]] = WireEnd(src, attrs["src_port"])
        result: dict[str, list[WireEnd]] = {}
        for box_id, sources in feeds.items():
            connected = [s for s in sources if s is not None]
            if len(connected) != len(sources):
                box = self.box(box_id)
                raise ValueError(f"box {box_id} ({box.label}) has an unconnected input")
            result[box_id] = connected
        return result

    def outgoing(self, box_id: str) -> list[list[WireEnd]]:
        """For each output port of the box, the input ports it feeds (possibly none)."""
        box = self.box(box_id)
        targets: list[list[WireEnd]] = [[] for _ in box.outputs]
        for _src, dst, attrs in self.graph.out_edges(box_id, data=True):
            targets[attrs["src_port"]].append(WireEnd(dst, attrs["dst_port"]))
        return targets

    def __len__(self) -> int:
        return self.graph.number_of_nodes() - 2

    def __repr__(self) -> str:
        name = f"{self.name} : " if self.name else ""
        return f"<Diagram {name}{self.dom} -> {self.cod}, {len(self)} boxes>"


def _natural_key(box_id: str) -> tuple[int, int] | tuple[int, int, str]:
    if box_id == INPUT:
        return (0, 0)
    if box_id == OUTPUT:
        return (2, 0)
    return (1, int(box_id[1:]) if box_id[1:].isdigit() else 0, box_id)
