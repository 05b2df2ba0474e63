"""The course's "illegal diagram": an ill-typed composition drawn with its broken wire in red."""

from __future__ import annotations

from collections.abc import Sequence

from catdsl.errors import IllegalComposition
from catdsl.render.dot import Drawing
from catdsl.render.scene import BoxNode, End, Point, Rail, RankGroup, Wire, label_markup
from catdsl.render.style import RED

BoxParts = tuple[str, Sequence[object], Sequence[object]]  # (label, dom atoms, cod atoms)


def illegal_to_dot(
    figure: IllegalComposition | Sequence[BoxParts], bad: int = 0, *, title: str | None = None
) -> str:
    """Draw `boxes[0] >> boxes[1] >> ...` where the junction after `boxes[bad]` does not type:
    each wire there whose object differs is red, dashed and labelled `found ≠ expected`.
    A checker's `IllegalComposition` carries its boxes, junction and definition itself."""
    where = ""
    if isinstance(figure, IllegalComposition):
        boxes, bad = figure.boxes, figure.junction
        where = f" in `{figure.definition}`" if figure.definition else ""
    else:
        boxes = figure
    if not 0 <= bad < len(boxes) - 1:
        raise ValueError(f"junction {bad} is not between two of the {len(boxes)} boxes")
    drawing = Drawing()
    scope = drawing.root
    names = [str(label) for label, _, _ in boxes]
    for k, (label, dom, cod) in enumerate(boxes):
        node = BoxNode(f"b{k}", "ref", label_markup(str(label)), len(dom), len(cod))
        node.highlight = k in (bad, bad + 1)
        drawing.add(scope, node)
    first, last = boxes[0][1], boxes[-1][2]
    for node, wires, rank in (("in", first, "source"), ("out", last, "sink")):
        if wires:
            drawing.add(scope, Rail(node, len(wires)))
            scope.items.append(RankGroup(rank, [node]))
    for k, atom in enumerate(first):
        _wire(drawing, End("in", f"p{k}", "e"), End("b0", f"i{k}", "w"), str(atom))
    for j in range(len(boxes) - 1):
        found, expected = boxes[j][2], boxes[j + 1][1]
        for p in range(max(len(found), len(expected))):
            out = End(f"b{j}", f"o{p}", "e") if p < len(found) else _point(drawing, f"b{j}.o{p}")
            into = End(f"b{j + 1}", f"i{p}", "w")
            if p >= len(expected):
                into = _point(drawing, f"b{j + 1}.i{p}")
            have = str(found[p]) if p < len(found) else "nothing"
            want = str(expected[p]) if p < len(expected) else "nothing"
            if have == want:
                _wire(drawing, out, into, have)
            else:
                _wire(drawing, out, into, f"{have} ≠ {want}", broken=True)
    n = len(boxes) - 1
    for k, atom in enumerate(last):
        _wire(drawing, End(f"b{n}", f"o{k}", "e"), End("out", f"p{k}", "w"), str(atom))
    heading = title or f"illegal composition{where}: {names[bad]} >> {names[bad + 1]}"
    return drawing.finish("illegal", heading)


def _point(drawing: Drawing, node: str) -> End:
    drawing.add(drawing.root, Point(node, 0.04))
    return End(node)


def _wire(drawing: Drawing, src: End, dst: End, label: str, broken: bool = False) -> None:
    attrs: dict[str, object] = {"label": label}
    if broken:
        attrs |= {"color": RED, "fontcolor": RED, "style": "dashed", "penwidth": 2.2}
    drawing.wires.append(Wire(src, dst, attrs))
