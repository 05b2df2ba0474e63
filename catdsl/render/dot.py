"""String diagrams as DOT text: a pure function from the diagram IR to Graphviz source.

Boxes are HTML tables with one port cell per wire, wires are labelled edges, the boundary is a
column of points on each side, params and ports drop into boxes from above, and copies, discards
and swaps are junction dots and crossings rather than boxes.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import replace

from catdsl.diagram.ir import (
    INPUT,
    OUTPUT,
    Box,
    ConstBox,
    Diagram,
    FunctorBox,
    HoleBox,
    ParamBox,
    PortBox,
    PowerBox,
    PrimBox,
    RefBox,
    StructBox,
    TrainBox,
    WireEnd,
)
from catdsl.diagram.lower import number_text
from catdsl.errors import CatRuntimeError
from catdsl.render.scene import (
    BoxNode,
    Chip,
    End,
    Point,
    Rail,
    RankGroup,
    Scope,
    Wire,
    label_markup,
)
from catdsl.render.style import RED, attr_list, graph_header, wire_label
from catdsl.typesys.types import Atom, Carrier, carrier_of

WRAP_WIDTH = 36  # a training box label longer than this puts its hyperparameters on a new line
UNROLL_LIMIT = 8  # `f ^ n` with n above this is unrolled as 3 copies, an ellipsis, 1 copy
FRAME_LIMIT = 64
"""The most frames (opened definitions and powers) one drawing may nest: Graphviz's layout time
grows steeply with nesting, so R0703 stops a deeper `--expand` at once."""
DRAW_LIMIT = 10_000
"""The most items (boxes, boundary wire ends and wires) one drawing may hold: beyond it, R0703
stops the drawing while it is built, before Graphviz would spend minutes laying it out."""
FROM_ABOVE = (ParamBox, PortBox)
"""The boxes that enter from above: learnable params and user ports."""


def to_dot(
    diagram: Diagram,
    *,
    shapes: bool = False,
    expand: int = 0,
    unroll: bool = False,
    title: str | None = None,
    highlight: Iterable[tuple] = frozenset(),
) -> str:
    """Draw a diagram as a left-to-right string diagram in DOT.

    `highlight` holds `(box_id,)` to outline a box in red and `(box_id, output)` to draw the
    wires leaving that output in red (`("in", k)` for the diagram's k-th input); ids inside
    opened definitions are dotted paths such as `b3.b0`. A diagram that is one use of a
    definition (what `program[name]` is) is drawn as that definition's body.
    """
    drawing = Drawing(shapes=shapes, expand=expand, unroll=unroll, highlight=highlight)
    ins = drawing.boundary(diagram.dom.atoms, INPUT, drawing.root)
    outs = drawing.draw(body_of(diagram), "", drawing.root, ins, {}, 0)
    drawing.close(outs, OUTPUT, drawing.root, diagram.cod.atoms)
    for rail, rank in ((INPUT, "source"), (OUTPUT, "sink")):
        if rail in drawing.nodes:
            drawing.root.items.append(RankGroup(rank, [rail]))
    return drawing.finish(diagram.name or "diagram", title)


def body_of(diagram: Diagram) -> Diagram:
    """The body of a definition when the diagram only uses it, wired straight through."""
    boxes = [b for b in diagram.inner_boxes() if not isinstance(b, (*FROM_ABOVE, ConstBox))]
    if len(boxes) != 1 or not isinstance(boxes[0], RefBox) or boxes[0].sub is None:
        return diagram  # (a body of bare wires, such as `<y, x>`, is drawn as those wires)
    box, sub = boxes[0], boxes[0].sub
    straight_in = [WireEnd(INPUT, k) for k in range(len(diagram.dom))]
    straight_out = [WireEnd(box.id, k) for k in range(len(diagram.cod))]
    if diagram.incoming(box.id)[: box.n_domain_inputs] != straight_in:
        return diagram
    return sub if diagram.incoming(OUTPUT) == straight_out else diagram


class Drawing:
    """Accumulates the scene for one DOT graph; `finish` resolves fan-out and writes the text."""

    def __init__(
        self,
        *,
        shapes: bool = False,
        expand: int = 0,
        unroll: bool = False,
        highlight: Iterable[tuple] = frozenset(),
    ):
        self.shapes = shapes
        self.expand = expand
        self.unroll = unroll
        self.highlight = set(highlight)
        self.root = Scope()
        self.nodes: dict[str, BoxNode | Chip | Point | Rail] = {}
        self.wires: list[Wire] = []
        self.sources: dict[End, tuple[str, Scope, tuple]] = {}
        self.extra: list[str] = []
        self.losses: dict[str, tuple[Scope, list[str]]] = {}  # frames of losses, by name
        self._paths: dict[str, tuple[Scope, ...]] | None = None  # node id -> its frames
        self._ends = 0  # the wire ends of the boundary rails drawn so far

    # ------------------------------------------------------------------ scene building
    def add(self, scope: Scope, node: BoxNode | Chip | Point | Rail) -> None:
        """Put a node in a scope and remember it by id."""
        scope.items.append(node)
        self.nodes[node.id] = node
        if isinstance(node, Rail):
            self._ends += node.n
        self.bound()

    def bound(self) -> None:
        """Stop with R0703 when the drawing holds more than `DRAW_LIMIT` items."""
        size = len(self.nodes) + self._ends + len(self.wires)
        if size > DRAW_LIMIT:
            raise CatRuntimeError(
                "R0703",
                f"the drawing is too large: more than {DRAW_LIMIT:,} boxes, wire ends and wires",
                help="draw fewer levels (a smaller `--expand`, no `--unroll`), or each "
                "definition on its own page with `-o DIR/`",
            )

    def source(self, end: End, atom: Atom, scope: Scope, key: tuple) -> End:
        """Register an output that wires leave from; `key` is what `highlight` names it by."""
        self.sources[end] = (wire_label(atom, self.shapes), scope, key)
        return end

    def boundary(self, atoms: tuple[Atom, ...], node: str, scope: Scope) -> list[End]:
        """A rail of wire ends for a diagram's inputs, in order from top to bottom."""
        if not atoms:
            return []
        self.add(scope, Rail(node, len(atoms)))
        return [
            self.source(End(node, f"p{k}", "e"), atom, scope, (node, k))
            for k, atom in enumerate(atoms)
        ]

    def close(
        self, outs: list[End], node: str, scope: Scope, atoms: tuple[Atom, ...] = ()
    ) -> list[End]:
        """A rail of wire ends for a diagram's outputs, each fed by its wire; `atoms`, when
        given, label those wires (a definition's declared codomain)."""
        if not outs:
            return []
        self.add(scope, Rail(node, len(outs)))
        ends = [End(node, f"p{k}", "w") for k in range(len(outs))]
        for k, (src, end) in enumerate(zip(outs, ends, strict=True)):
            attrs: dict[str, object] = {"label": wire_label(atoms[k], self.shapes)} if atoms else {}
            if isinstance(self.nodes.get(src.node), Rail):  # a bare wire from side to side:
                attrs["minlen"] = 3  # long enough for its label, and for crossings to read
            self.wires.append(Wire(src, end, attrs))
        return ends

    def definition(
        self, diagram: Diagram, prefix: str, scope: Scope, depth: int, body: Diagram | None = None
    ) -> list[End]:
        """Draw a diagram (or the `body` it stands for) with its own boundary inside a cluster;
        returns its input ends."""
        ins = self.boundary(diagram.dom.atoms, f"{prefix}in", scope)
        outs = self.draw(body or diagram, prefix, scope, ins, {}, depth)
        self.close(outs, f"{prefix}out", scope, diagram.cod.atoms)
        return ins

    def draw(
        self,
        diagram: Diagram,
        prefix: str,
        scope: Scope,
        ins: list[End],
        ports: dict[str, End],
        depth: int,
    ) -> list[End]:
        """Draw the inner boxes of a diagram fed by `ins`; returns the ends of its outputs."""
        ends = {(INPUT, k): end for k, end in enumerate(ins)}
        for box in diagram.inner_boxes():
            srcs = [ends[(w.box, w.port)] for w in diagram.incoming(box.id)]
            for k, end in enumerate(self.box(diagram, box, prefix, scope, srcs, ports, depth)):
                ends[(box.id, k)] = end
        return [ends[(w.box, w.port)] for w in diagram.incoming(OUTPUT)]

    # ------------------------------------------------------------------ one box
    def box(
        self,
        diagram: Diagram,
        box: Box,
        prefix: str,
        scope: Scope,
        srcs: list[End],
        ports: dict[str, End],
        depth: int,
    ) -> list[End]:
        """Draw one box fed by `srcs`, by its kind; returns the ends of its outputs."""
        nid = prefix + box.id
        opens = isinstance(box, PowerBox | TrainBox) or (isinstance(box, RefBox) and box.sub)
        if FRAME_LIMIT <= depth < self.expand and opens:
            raise CatRuntimeError(
                "R0703",
                f"the drawing nests too deeply: `--expand {self.expand}` opens more than "
                f"{FRAME_LIMIT} levels of definitions",
                help=f"draw at most `--expand {FRAME_LIMIT}`, or each definition on its "
                "own page with `-o DIR/`",
            )
        match box:
            case ParamBox(name=name) | PortBox(name=name) | ConstBox(name=name) if name in ports:
                return [ports[name]]
            case ParamBox() | PortBox() | ConstBox() if len(box.outputs) == 1:
                return [self.chip(box, nid, scope)]
            case ConstBox():  # a data point of a product (`TokenId * TokenId`): a box, a wire each
                return self.plain(diagram, box, nid, scope, srcs)
            case StructBox(structure="unpack"):  # an object taken apart: a box, a wire a part
                return self.plain(diagram, box, nid, scope, srcs)
            case StructBox():
                return self.struct(box, nid, scope, srcs)
            case RefBox(sub=Diagram() as sub) if depth < self.expand and len(sub) > 0:
                cluster = scope.cluster(nid, box.label, "ref")
                return self.opened(box, sub, cluster, nid, srcs, depth)
            case PowerBox() if self.unroll:
                return self.unrolled(box, nid, scope, srcs, depth)
            case PowerBox(sub=sub) if depth < self.expand and len(sub) > 0:
                cluster = scope.cluster(nid, _power_text(box), "unroll")
                return self.opened(box, sub, cluster, nid, srcs, depth)
            case FunctorBox():
                return self.bubble(box, nid, scope, srcs, depth)
            case PrimBox(subs=subs) if subs:
                return self.with_arguments(diagram, box, nid, scope, srcs, depth)
            case TrainBox() if depth < self.expand:
                self.loss_of(box, nid, depth)
        return self.plain(diagram, box, nid, scope, srcs)

    def opened(
        self,
        box: RefBox | PowerBox,
        sub: Diagram,
        cluster: Scope,
        nid: str,
        srcs: list[End],
        depth: int,
    ) -> list[End]:
        """A definition or power drawn open inside its frame. The wires leaving the frame keep
        the names of the box's declared outputs (`Vector`, not its carrier `Real[4]`)."""
        outs = self.draw(sub, f"{nid}.", cluster, *_split(box, srcs), depth + 1)
        for end, atom in zip(outs, box.outputs, strict=True):
            _, where, key = self.sources[end]
            self.sources[end] = (wire_label(atom, self.shapes), where, key)
        return outs

    def loss_of(self, box: TrainBox, nid: str, depth: int) -> None:
        """Draw a training box's loss once per loss, in its own frame below the main drawing,
        titled by the families that use it."""
        loss, family = box.loss, box.family
        if loss is None or not box.evaluates_loss:
            return
        name = loss.name or "loss"
        if name in self.losses:
            cluster, families = self.losses[name]
        else:
            cluster, families = self.root.cluster(f"{nid}.loss", "", "train"), []
            self.root.items.insert(0, self.root.items.pop())  # dot puts the first at the bottom
            self.losses[name] = (cluster, families)
            self.definition(loss, f"{nid}.loss.", cluster, depth + 1, body_of(loss))
        if family not in families:
            families.append(family)
        cluster.attrs["label"] = f"{name} (the loss of {', '.join(families)})"

    def plain(
        self, diagram: Diagram, box: Box, nid: str, scope: Scope, srcs: list[End]
    ) -> list[End]:
        """A box drawn as one table node."""
        top = _from_above(diagram, box)
        node = BoxNode(
            nid,
            _colour(box.kind),
            _box_markup(box),
            len(box.inputs),
            len(box.outputs),
            top,
            span=box.span,
            dashed=isinstance(box, HoleBox),
            highlight=(nid,) in self.highlight,
        )
        self.add(scope, node)
        for k, src in enumerate(srcs):
            self.wires.append(Wire(src, End(nid, f"i{k}", "n" if k in top else "w")))
        return [
            self.source(End(nid, f"o{k}", "e"), atom, scope, (nid, k))
            for k, atom in enumerate(box.outputs)
        ]

    def chip(self, box: ParamBox | PortBox | ConstBox, nid: str, scope: Scope) -> End:
        """A param, port or constant as a chip; it drops into the box it feeds, if just one."""
        name = box.name or box.label
        atom = box.outputs[0]
        self.add(scope, Chip(nid, box.kind, name, wire_label(atom, self.shapes), box.span))
        return self.source(End(nid), atom, scope, (nid, 0))

    def struct(self, box: StructBox, nid: str, scope: Scope, srcs: list[End]) -> list[End]:
        """Swaps cross wires between two columns of small joints; the rest is pure rewiring."""
        kind, split = box.structure, box.split
        n_in, n_out = len(box.inputs), len(box.outputs)
        if kind != "swap":
            return [srcs[_struct_source(kind, j, n_in, split)] for j in range(n_out)]
        self.add(scope, Rail(f"{nid}.e", n_in, dot_size=2))
        self.add(scope, Rail(f"{nid}.x", n_out, dot_size=2))
        for k, src in enumerate(srcs):
            self.wires.append(Wire(src, End(f"{nid}.e", f"p{k}", "w")))
        for j in range(n_out):
            entry = End(f"{nid}.e", f"p{(j + split) % n_in}", "e")
            self.wires.append(Wire(entry, End(f"{nid}.x", f"p{j}", "w"), {"minlen": 2}))
        return [
            self.source(End(f"{nid}.x", f"p{j}", "e"), atom, scope, (nid, j))
            for j, atom in enumerate(box.outputs)
        ]

    def unrolled(
        self, box: PowerBox, nid: str, scope: Scope, srcs: list[End], depth: int
    ) -> list[End]:
        """`f ^ n` as n copies of f in sequence (a few, then an ellipsis, when n is large)."""
        n = box.n
        ins, ports = _split(box, srcs)
        if n == 0:
            return ins
        cluster = scope.cluster(nid, _power_text(box), "unroll")
        shown: list[int | None] = [0, 1, 2, None, n - 1]
        if n <= UNROLL_LIMIT:
            shown = list(range(n))
        for i in shown:
            if i is None:
                ins = self.ellipsis(box, f"{nid}.more", cluster, ins, n - 4)
            else:
                ins = self.draw(box.sub, f"{nid}.{i + 1}.", cluster, ins, ports, depth)
        return ins

    def ellipsis(self, box: Box, nid: str, scope: Scope, srcs: list[End], hidden: int) -> list[End]:
        """A dashed `… k more …` box standing for the copies an unrolled power leaves out."""
        label = label_markup(f"… {hidden} more …", mono=False)
        node = BoxNode(nid, "ellipsis", f"<I>{label}</I>", len(srcs), len(box.outputs), dashed=True)
        self.add(scope, node)
        for k, src in enumerate(srcs):
            self.wires.append(Wire(src, End(nid, f"i{k}", "w")))
        return [
            self.source(End(nid, f"o{k}", "e"), atom, scope, (nid, k))
            for k, atom in enumerate(box.outputs)
        ]

    def bubble(
        self, box: FunctorBox, nid: str, scope: Scope, srcs: list[End], depth: int
    ) -> list[End]:
        """A functor box as a labelled bubble around its sub-diagram, with its own boundary."""
        sub = box.sub
        cluster = scope.cluster(nid, box.functor, "functor")
        ins, ports = _split(box, srcs)
        entries = self.boundary(sub.dom.atoms, f"{nid}.in", cluster)
        # a list of pairs is one wire outside and two inside: it feeds each of its entries
        for src, group in zip(ins, _grouped(entries, box.inputs[: len(ins)]), strict=True):
            for entry in group:
                self.wires.append(Wire(src, End(entry.node, entry.port, "w")))
        outs = self.draw(sub, f"{nid}.", cluster, entries, ports, depth)
        exits = [End(e.node, e.port, "e") for e in self.close(outs, f"{nid}.out", cluster)]
        groups = _grouped(exits, box.outputs)  # and leaves from the first of its exits
        return [
            self.source(group[0], atom, cluster, (nid, k))
            for k, (group, atom) in enumerate(zip(groups, box.outputs, strict=True))
        ]

    def with_arguments(
        self, diagram: Diagram, box: PrimBox, nid: str, scope: Scope, srcs: list[End], depth: int
    ) -> list[End]:
        """A primitive with morphism arguments (`fold(op, unit)`): its box in a frame named by
        the call, beside each argument drawn with its own boundary in a frame of its own."""
        cluster = scope.cluster(f"{nid}.call", box.label, "functor")
        outs = self.plain(diagram, box, nid, cluster, srcs)
        for k, sub in enumerate(box.subs):
            name = box.sub_names[k] if k < len(box.sub_names) else f"argument {k + 1}"
            label = f"{name} = {sub.name}" if sub.name else name
            frame = cluster.cluster(f"{nid}.arg{k}", label, "ref")
            self.definition(sub, f"{nid}.arg{k}.", frame, depth)
        return outs

    # ------------------------------------------------------------------ resolution and text
    def finish(self, name: str, title: str | None) -> str:
        """Label each wire once, add junction and discard dots, drop chips into boxes, write DOT."""
        self.bound()
        leaving: dict[End, list[Wire]] = {}
        for wire in self.wires:
            leaving.setdefault(wire.src, []).append(wire)
        for src, (label, scope, key) in self.sources.items():
            wires = leaving.get(src, [])
            attrs = ({"label": label} if label else {}) | (_RED if key in self.highlight else {})
            if isinstance(self.nodes.get(src.node), Chip) and key not in self.highlight:
                attrs.pop("label", None)  # a chip shows its own name and type
            if not wires:
                self.add(scope, Point(_dot_id(src, "end"), 0.09))
                self.wires.append(Wire(src, End(_dot_id(src, "end")), attrs))
            elif len(wires) == 1:
                wires[0].attrs = attrs | wires[0].attrs
                self.drop_in(src, wires[0], scope)
            elif not self.drop_copies(src, wires, scope):
                self.fork(src, wires, attrs, self.shared_scope(wires, scope))
        lines = graph_header(name, title) + self.root.lines()
        lines += [f"  {w.src} -> {w.dst}{attr_list(w.attrs)};" for w in self.wires if not w.inside]
        return "\n".join([*lines, *self.extra, "}"]) + "\n"

    def shared_scope(self, wires: list[Wire], default: Scope) -> Scope:
        """The innermost frame holding every wire's target: where a fork's junction goes, so a
        value copied into an opened definition splits inside it, not outside its frame."""
        if self._paths is None:
            self._paths = {}
            _scope_paths(self.root, (self.root,), self._paths)
        found = [self._paths.get(wire.dst.node) for wire in wires]
        paths = [path for path in found if path is not None]
        if len(paths) != len(found):
            return default
        shared = default
        for level in zip(*paths, strict=False):
            if any(scope is not level[0] for scope in level):
                break
            shared = level[0]
        return shared

    def fork(self, src: End, wires: list[Wire], attrs: dict, scope: Scope) -> None:
        """One labelled wire into a junction dot, and unlabelled wires out of it."""
        junction = _dot_id(src, "copy")
        self.add(scope, Point(junction, 0.09))
        for wire in wires:
            wire.src = End(junction)
            wire.attrs |= {k: v for k, v in attrs.items() if k != "label"}
        self.wires.append(Wire(src, End(junction), attrs))

    def drop_copies(self, src: End, wires: list[Wire], scope: Scope) -> bool:
        """A chip feeding the tops of several boxes (tied weights) is drawn inside each of them,
        under its one name, instead of forking: a fork would rank the chip with the diagram's
        inputs, and a wide one is unreadable and slow to lay out. False (nothing changed) when
        the source is not a chip or feeds anything else."""
        chip = self.nodes.get(src.node)
        if not isinstance(chip, Chip) or not all(self._takes_chip(w) for w in wires):
            return False
        for k, wire in enumerate(wires):
            target, port = self.nodes[wire.dst.node], wire.dst.port
            assert isinstance(target, BoxNode) and port is not None, "checked by _takes_chip"
            target.chips[int(port[1:])] = replace(chip, id=f"{chip.id}.use{k}")
            wire.inside = True
        scope.items.remove(chip)
        return True

    def _takes_chip(self, wire: Wire) -> bool:
        """Whether the wire enters the top of a box, where a chip can be drawn inside it."""
        return isinstance(self.nodes.get(wire.dst.node), BoxNode) and wire.dst.side == "n"

    def drop_in(self, src: End, wire: Wire, scope: Scope) -> None:
        """A chip with one wire into the top of a box is drawn inside that box's node."""
        chip, target, port = self.nodes.get(src.node), self.nodes.get(wire.dst.node), wire.dst.port
        if isinstance(chip, Chip) and isinstance(target, BoxNode) and wire.dst.side == "n":
            assert port is not None, "a wire into the top of a box names its port"
            target.chips[int(port[1:])] = chip
            scope.items.remove(chip)
            wire.inside = True


_RED = {"color": RED, "fontcolor": RED, "penwidth": 2.2, "style": "dashed"}


def _scope_paths(scope: Scope, path: tuple[Scope, ...], paths: dict) -> None:
    """Record, for every node under `scope`, the frames from the root down to it."""
    for item in scope.items:
        if isinstance(item, Scope):
            _scope_paths(item, (*path, item), paths)
        elif isinstance(item, BoxNode | Chip | Point | Rail):
            paths[item.id] = path


def _dot_id(end: End, suffix: str) -> str:
    return f"{end.node}.{end.port}.{suffix}" if end.port else f"{end.node}.{suffix}"


def _grouped(inner: list[End], outer: Iterable[Atom]) -> list[list[End]]:
    """The wire ends inside a functor's bubble grouped by the wire outside each belongs to: a
    `List[A * B]` outside is one wire, its elements' `A` and `B` two inside."""
    groups, start = [], 0
    for atom in outer:
        carrier = carrier_of(atom)
        elem = carrier.elem if isinstance(carrier, Carrier) else None
        width = len(elem.atoms) if elem is not None and len(elem.atoms) > 1 else 1
        groups.append(inner[start : start + width])
        start += width
    return groups


def _split(box: Box, srcs: list[End]) -> tuple[list[End], dict[str, End]]:
    """The domain wires of a box, and its port wires by port name."""
    n = box.n_domain_inputs
    return srcs[:n], {name: srcs[n + k] for k, name in enumerate(box.port_names)}


def _from_above(diagram: Diagram, box: Box) -> tuple[int, ...]:
    """Inputs that enter from above: the box's ports, and any wire fed by a param or port."""
    feeds = diagram.incoming(box.id)
    return tuple(
        k
        for k in range(len(box.inputs))
        if k >= box.n_domain_inputs or isinstance(diagram.box(feeds[k].box), FROM_ABOVE)
    )


def _struct_source(kind: str, j: int, n_in: int, split: int) -> int:
    """Which input feeds output j of a copy / discard / id / fst / snd."""
    if kind == "copy":
        return j % n_in
    if kind == "snd":
        return split + j
    return j


def _colour(kind: str) -> str:
    return kind if kind in ("prim", "power", "train", "hole") else "ref"


def _power_base(box: PowerBox) -> str:
    return re.sub(r"\s*\^\s*\d+\s*$", "", box.label) or (box.sub.name or "f")


def _power_text(box: PowerBox) -> str:
    return f"{_power_base(box)} ×{box.n}"


def _box_text(box: Box) -> str:
    """The plain text of a box's label."""
    match box:
        case HoleBox():
            return f"?{box.name or ''}"
        case TrainBox():
            return _train_label(box)
    return box.label


def _box_markup(box: Box) -> str:
    if isinstance(box, PowerBox):
        mark = f'<FONT COLOR="#2f5597"><B>×{box.n}</B></FONT>'
        return label_markup(_power_base(box) + " ") + mark
    if isinstance(box, TrainBox) and len(_box_text(box)) > WRAP_WIDTH:
        family, args, hyper = _train_parts(box)  # the hyperparameters go on a second line
        if args and hyper:
            first = label_markup(f"{family}({', '.join(args)},")
            return first + "<BR/>" + label_markup(f"{', '.join(hyper)})")
    return label_markup(_box_text(box))


def _train_label(box: TrainBox) -> str:
    """`TrainStep(loss, examples, lr=1)` from the family, the diagrams' names and the hyper."""
    family, args, hyper = _train_parts(box)
    return f"{family}({', '.join([*args, *hyper])})"


def _train_parts(box: TrainBox) -> tuple[str, list[str], list[str]]:
    """The family, the names of its loss and data, and its hyperparameters as the source
    writes them (`lr=0.1`, `eps=1e-8`), then the params a step updates (`only=[Wr, br]`)."""
    args = [d.name for d in (box.loss, box.data) if d is not None and d.name]
    hyper = [f"{k}={number_text(v)}" for k, v in (box.hyper or {}).items()]
    if box.schedule is not None:
        schedule_args = ", ".join(f"{k}={number_text(v)}" for k, v in box.schedule.args)
        hyper.append(f"schedule={box.schedule.name}({schedule_args})")
    if box.only:
        hyper.append(f"only=[{', '.join(box.only)}]")
    return box.family, args, hyper
