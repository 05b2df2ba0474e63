"""The one intermediate representation: an open, typed port graph on networkx.

Nodes are boxes with ordered input and output ports; edges are wires from an output port to an
input port, labelled with the atom they carry. The diagram's own inputs and outputs are the
boundary boxes `in` and `out`; ports and params are source boxes that enter from above.

Rules every diagram keeps (checked by `validate`):
- every input port of every box has exactly one incoming wire;
- an output port may feed several wires (an implicit copy) or none (an implicit discard);
- the graph is acyclic: iteration is a `power` box holding its body as a sub-diagram.
The interpreter, the law checker and the renderer all consume this structure.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import networkx as nx

from catdsl.errors import Span
from catdsl.typesys.types import Atom, Port, Prod

INPUT, OUTPUT = "in", "out"

BOX_KINDS = (
    "input",  # the diagram's domain: no inputs, outputs = dom atoms
    "output",  # the diagram's codomain: inputs = cod atoms, no outputs
    "prim",  # a kernel; data: name, static (dict), in_ranks
    "struct",  # swap / copy / discard; data: kind, split
    "ref",  # a named definition, collapsed; data: name, sub (Diagram), def_kind
    "power",  # f ^ n; data: n, sub
    "functor",  # List(f) / Option(f); data: functor, sub
    "const",  # a literal or loaded point; data: name, value, path
    "param",  # a learnable parameter entering from above; data: name, init, init_args, literal
    "port",  # a user port entering from above; data: name
    "train",  # a training family; data: family, loss (Diagram), data (Diagram|None), params, hyper
    "hole",  # ?name; data: name
    "opaque",  # a declared morphism without a body; data: name
)


@dataclass
class Box:
    """A box with ordered input and output ports. For boxes with ports (`ref`, `power`, ...),
    `inputs` lists the domain wires first, then one input per port of `port_names`."""

    id: str
    kind: str
    label: str
    inputs: tuple[Atom, ...]
    outputs: tuple[Atom, ...]
    span: Span | None = None
    data: dict = field(default_factory=dict)
    port_names: tuple[str, ...] = ()

    @property
    def n_domain_inputs(self) -> int:
        return len(self.inputs) - len(self.port_names)


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
        self.add_box("input", "in", (), dom.atoms, box_id=INPUT)
        self.add_box("output", "out", cod.atoms, (), box_id=OUTPUT)

    # ---------------------------------------------------------------- building
    def add_box(
        self,
        kind: str,
        label: str,
        inputs: tuple[Atom, ...],
        outputs: tuple[Atom, ...],
        span: Span | None = None,
        data: dict | None = None,
        port_names: tuple[str, ...] = (),
        box_id: str | None = None,
    ) -> str:
        """Add a box; ids are `b0, b1, ...` in creation order so output is stable."""
        if kind not in BOX_KINDS:
            raise ValueError(f"unknown box kind {kind!r}")
        if box_id is None:
            box_id = f"b{self._counter}"
            self._counter += 1
        box = Box(box_id, kind, label, tuple(inputs), tuple(outputs), span, data or {}, port_names)
        self.graph.add_node(box_id, box=box)
        return box_id

    def connect(self, src: WireEnd, dst: WireEnd) -> None:
        """Draw a wire from an output port to an input port; the atom is the source's."""
        atom = self.box(src.box).outputs[src.port]
        self.graph.add_edge(src.box, dst.box, src_port=src.port, dst_port=dst.port, atom=atom)

    # ---------------------------------------------------------------- reading
    def box(self, box_id: str) -> Box:
        return self.graph.nodes[box_id]["box"]

    def boxes(self) -> Iterator[Box]:
        """All boxes in a topological order (ties broken by id, so the order is stable)."""
        for box_id in nx.lexicographical_topological_sort(self.graph, key=_natural_key):
            yield self.box(box_id)

    def inner_boxes(self) -> Iterator[Box]:
        """Boxes other than the boundary."""
        return (b for b in self.boxes() if b.kind not in ("input", "output"))

    def incoming(self, box_id: str) -> list[WireEnd]:
        """For each input port of the box, in order, the output port that feeds it."""
        box = self.box(box_id)
        sources: list[WireEnd | None] = [None] * len(box.inputs)
        for src, _dst, attrs in self.graph.in_edges(box_id, data=True):
            sources[attrs["dst_port"]] = WireEnd(src, attrs["src_port"])
        if any(s is None for s in sources):
            raise ValueError(f"box {box_id} ({box.label}) has an unconnected input")
        return sources  # type: ignore[return-value]

    def outgoing(self, box_id: str) -> list[list[WireEnd]]:
        """For each output port of the box, the input ports it feeds (possibly none)."""
        box = self.box(box_id)
        targets: list[list[WireEnd]] = [[] for _ in box.outputs]
        for _src, dst, attrs in self.graph.out_edges(box_id, data=True):
            targets[attrs["src_port"]].append(WireEnd(dst, attrs["dst_port"]))
        return targets

    def wires(self) -> Iterator[tuple[WireEnd, WireEnd, Atom]]:
        for src, dst, attrs in self.graph.edges(data=True):
            yield WireEnd(src, attrs["src_port"]), WireEnd(dst, attrs["dst_port"]), attrs["atom"]

    def port_box(self, name: str) -> str | None:
        """The source box of the named port or param, if the diagram has one."""
        for box in self.boxes():
            if box.kind in ("port", "param") and box.data.get("name") == name:
                return box.id
        return None

    def validate(self) -> None:
        """Check the structural rules of the module docstring."""
        if not nx.is_directed_acyclic_graph(self.graph):
            raise ValueError("diagram has a cycle")
        for box in self.boxes():
            self.incoming(box.id)
            for _src, dst, attrs in self.graph.in_edges(box.id, data=True):
                if attrs["dst_port"] >= len(box.inputs):
                    raise ValueError(f"wire into missing port {attrs['dst_port']} of {dst}")
            counts = [0] * len(box.inputs)
            for _s, _d, attrs in self.graph.in_edges(box.id, data=True):
                counts[attrs["dst_port"]] += 1
            if any(c != 1 for c in counts):
                raise ValueError(f"box {box.id} ({box.label}) has an input fed {counts} times")

    def __len__(self) -> int:
        return self.graph.number_of_nodes() - 2

    def __repr__(self) -> str:
        name = f"{self.name} : " if self.name else ""
        return f"<Diagram {name}{self.dom} -> {self.cod}, {len(self)} boxes>"


def _natural_key(box_id: str) -> tuple:
    if box_id == INPUT:
        return (0, 0)
    if box_id == OUTPUT:
        return (2, 0)
    return (1, int(box_id[1:]) if box_id[1:].isdigit() else 0, box_id)
