"""The course's "illegal diagram": an ill-typed composition drawn with its broken wire in red.

Each part of the chain is drawn as what it is (boxes side by side for `f * g`, a crossing for
`swap`, bare wires for an identity, a chip for a constant) when its diagram is given, and as
one box named by its source text otherwise. At the junction that does not type, every wire
whose object differs is red, dashed and labelled `found ≠ expected`.
"""

from __future__ import annotations

from collections.abc import Sequence

from catdsl.diagram.ir import INPUT, OUTPUT, Diagram, WireEnd
from catdsl.errors import IllegalComposition
from catdsl.render.dot import Drawing
from catdsl.render.scene import BoxNode, End, Point, RankGroup
from catdsl.render.style import wire_label
from catdsl.typesys.types import Prod

BoxParts = tuple[str, Sequence[object], Sequence[object]]  # (label, dom atoms, cod atoms)


def illegal_to_dot(
    figure: IllegalComposition | Sequence[BoxParts],
    bad: int = 0,
    *,
    parts: Sequence[Diagram] | None = None,
    title: str | None = None,
) -> str:
    """Draw `parts[0] >> parts[1] >> ...` where the junction after `parts[bad]` does not type.

    `figure` names the parts (the checker's `IllegalComposition` also carries the junction and
    the definition); `parts`, when given, are their diagrams, one per named part."""
    where = ""
    boxes: Sequence[BoxParts]
    if isinstance(figure, IllegalComposition):
        boxes, bad = figure.boxes, figure.junction
        where = f" in `{figure.definition}`" if figure.definition else ""
    else:
        boxes = figure
    if not 0 <= bad < len(boxes) - 1:
        raise ValueError(f"junction {bad} is not between two of the {len(boxes)} boxes")
    diagrams = list(parts) if parts is not None else [_one_box(*box) for box in boxes]
    drawing = Drawing()
    ends = drawing.boundary(diagrams[0].dom.atoms, INPUT, drawing.root)
    for k, diagram in enumerate(diagrams):
        if k == bad + 1:
            ends = _broken_junction(drawing, ends, diagrams[bad].cod, diagram.dom)
        ends = drawing.draw(diagram, f"p{k}.", drawing.root, ends, {}, 0)
    drawing.close(ends, OUTPUT, drawing.root, diagrams[-1].cod.atoms)
    for node in drawing.nodes.values():
        if isinstance(node, BoxNode) and node.id.startswith((f"p{bad}.", f"p{bad + 1}.")):
            node.highlight = True
    for rail, rank in ((INPUT, "source"), (OUTPUT, "sink")):
        if rail in drawing.nodes:
            drawing.root.items.append(RankGroup(rank, [rail]))
    names = [str(label) for label, _, _ in boxes]
    heading = title or f"illegal composition{where}: {names[bad]} >> {names[bad + 1]}"
    return drawing.finish("illegal", heading)


def _one_box(label: str, dom: Sequence[object], cod: Sequence[object]) -> Diagram:
    """A part known only by its name and objects: one box."""
    diagram = Diagram(Prod(tuple(dom)), Prod(tuple(cod)))  # type: ignore[arg-type]
    box = diagram.add_box("ref", str(label), tuple(dom), tuple(cod))  # type: ignore[arg-type]
    for k in range(len(dom)):
        diagram.connect(WireEnd(INPUT, k), WireEnd(box, k))
    for k in range(len(cod)):
        diagram.connect(WireEnd(box, k), WireEnd(OUTPUT, k))
    return diagram


def _broken_junction(drawing: Drawing, found: list[End], gives: Prod, takes: Prod) -> list[End]:
    """Feed what one part gives into the next part; the wires whose objects differ are red and
    labelled `found ≠ expected` (a wire too many ends in a dot, one too few starts at one)."""
    ends: list[End] = []
    for p in range(max(len(gives), len(takes))):
        have = wire_label(gives.atoms[p]) if p < len(gives) else "nothing"
        want = wire_label(takes.atoms[p]) if p < len(takes) else "nothing"
        end = found[p] if p < len(found) else _point(drawing, f"nothing{p}")
        if have != want:
            drawing.sources[end] = (f"{have} ≠ {want}", drawing.root, ("broken", p))
            drawing.highlight.add(("broken", p))
        ends.append(end)
    return ends[: len(takes)]


def _point(drawing: Drawing, node: str) -> End:
    drawing.add(drawing.root, Point(node, 0.04))
    return End(node)
