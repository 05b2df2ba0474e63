"""Laws as commutative diagrams: both sides as paths of arrows between objects, plus both sides
as string diagrams, side by side in one drawing."""

from __future__ import annotations

from catdsl.diagram.ir import INPUT, OUTPUT, Box, Diagram, WireEnd
from catdsl.render.dot import FROM_ABOVE, Drawing
from catdsl.render.scene import RankGroup, Scope
from catdsl.render.style import MONO, Html, attr_list, esc_html, quote
from catdsl.typesys.types import Prod

Step = tuple[str, str]  # (arrow label, the object it arrives at)


def law_to_dot(name: str, lhs: Diagram, rhs: Diagram, tolerance: float | None) -> str:
    """Draw the law `lhs == rhs` as a commutative diagram beside both sides' string diagrams."""
    drawing = Drawing()
    left, right = path_steps(lhs, "lhs"), path_steps(rhs, "rhs")
    equation = f"{_path_text(left)} = {_path_text(right)}"
    if tolerance is not None:
        equation += f"   (within {tolerance:g})"
    law = drawing.root.cluster("law", f"{name}:  {equation}", "definition")
    _, target = _commuting(law, drawing.extra, str(lhs.dom), left, right)
    for side, diagram, label in (("lhs", lhs, "left-hand side"), ("rhs", rhs, "right-hand side")):
        cluster = drawing.root.cluster(side, label, "definition")
        ins = drawing.definition(diagram, f"{side}.", cluster, 0)
        anchor = ins[0].node if ins else _first_node(cluster)
        if anchor:
            drawing.extra.append(f"  {quote(target)} -> {quote(anchor)} [style=invis];")
    return drawing.finish(name, None)


def path_steps(diagram: Diagram, fallback: str) -> list[Step]:
    """The arrows of one side: one per box when its boxes form a single chain, else one arrow
    labelled by the whole definition."""
    chain = box_chain(diagram)
    if chain is None:
        return [(diagram.name or fallback, str(diagram.cod))]
    if not chain:
        return [("id", str(diagram.cod))]
    return [(box.label, str(Prod(box.outputs))) for box in chain]


def box_chain(diagram: Diagram) -> list[Box] | None:
    """The boxes in order when each one takes exactly the previous one's outputs, else None."""
    chain: list[Box] = []
    previous = diagram.box(INPUT)
    for box in diagram.inner_boxes():
        if box.kind in FROM_ABOVE:
            continue
        feeds = diagram.incoming(box.id)
        wires = [w for w in feeds if diagram.box(w.box).kind not in FROM_ABOVE]
        if not _takes_all(diagram, previous, wires):
            return None
        chain.append(box)
        previous = box
    if not _takes_all(diagram, previous, diagram.incoming(OUTPUT)):
        return None
    return chain


def _takes_all(diagram: Diagram, previous: Box, wires: list[WireEnd]) -> bool:
    expected = [WireEnd(previous.id, k) for k in range(len(previous.outputs))]
    used_once = all(len(targets) == 1 for targets in diagram.outgoing(previous.id))
    return wires == expected and used_once


def _path_text(steps: list[Step]) -> str:
    return " >> ".join(label for label, _ in steps)


def _commuting(
    scope: Scope, edges: list[str], source_label: str, left: list[Step], right: list[Step]
) -> tuple[str, str]:
    """Object nodes and arrows for both paths; a triangle or a square when the shapes allow."""
    source, target = "law.src", "law.tgt"
    scope.items.append(_object(source, source_label))
    scope.items.append(_object(target, left[-1][1]))
    shape = (len(left), len(right))
    down: set[tuple[str, str]] = set()  # arrows drawn top to bottom inside one rank
    if shape == (2, 2):  # the square: lhs along the top and down, rhs down and along the bottom
        down = {("law.l0", target), (source, "law.r0")}
    elif shape in ((2, 1), (1, 2)):  # the triangle: the two-step side turns a corner
        down = {("law.l0" if shape[0] == 2 else "law.r0", target)}
    for side, steps in (("l", left), ("r", right)):
        previous = source
        for k, (label, obj) in enumerate(steps):
            node = target if k == len(steps) - 1 else f"law.{side}{k}"
            if node != target:
                scope.items.append(_object(node, obj))
            edges.append(_arrow(previous, node, label, (previous, node) in down))
            previous = node
    for a, b in sorted(down):
        scope.items.append(RankGroup("same", [a, b]))
    return source, target


def _object(node: str, label: str) -> str:
    attrs = {"label": label, "shape": "plaintext", "fontsize": 12, "margin": 0.04}
    return f"  {quote(node)}{attr_list(attrs)};"


def _arrow(tail: str, head: str, label: str, down: bool) -> str:
    """A labelled arrow; one inside a rank is written backwards so that dot puts it downwards."""
    text = f'<FONT FACE="{MONO}" POINT-SIZE="10">{esc_html(label)}</FONT>'
    attrs: dict[str, object] = {"label": Html(text), "arrowsize": 0.7, "color": "#222222"}
    if down:  # dot centres a label on an arrow within a rank: put it beside the arrow
        tail, head = head, tail
        attrs = {"xlabel": attrs.pop("label"), **attrs, "dir": "back", "arrowtail": "normal"}
    else:
        attrs["arrowhead"] = "normal"
    return f"  {quote(tail)} -> {quote(head)}{attr_list(attrs)};"


def _first_node(scope: Scope) -> str | None:
    for item in scope.items:
        node = getattr(item, "id", None)
        if node and not isinstance(item, Scope):
            return node
    return None
