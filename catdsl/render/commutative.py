"""Laws as commutative diagrams: both sides as paths of arrows between objects, plus both sides
as string diagrams, side by side in one drawing."""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise

from catdsl.diagram.ir import INPUT, OUTPUT, Box, Diagram, WireEnd
from catdsl.render.dot import FROM_ABOVE, Drawing
from catdsl.render.scene import RankGroup, Scope
from catdsl.render.style import MONO, Html, attr_list, esc_html, quote
from catdsl.typesys.types import Prod

Step = tuple[str, str]  # (arrow label, the object it arrives at)


@dataclass(frozen=True)
class Side:
    """One side of a law: how the source writes it (the title) and its path of arrows."""

    text: str
    steps: list[Step]


def law_to_dot(
    name: str,
    lhs: Diagram,
    rhs: Diagram,
    tolerance: float | None,
    *,
    sides: tuple[Side, Side] | None = None,
    shapes: bool = False,
    expand: int = 0,
    unroll: bool = False,
) -> str:
    """Draw the law `lhs == rhs` as a commutative diagram beside both sides' string diagrams.

    `sides` (from `catdsl.frontend.law_sides`) gives the title and the arrows as the source
    writes them; without it both are read off the diagrams. The string diagrams honour
    `shapes`, `expand` and `unroll`.
    """
    drawing = Drawing(shapes=shapes, expand=expand, unroll=unroll)
    left, right = sides or (diagram_side(lhs, "lhs"), diagram_side(rhs, "rhs"))
    equation = f"{left.text} = {right.text}"
    if tolerance is not None:
        equation += f"   (within {tolerance:g})"
    law = drawing.root.cluster("law", f"{name}:  {equation}", "definition")
    target = _commuting(law, str(lhs.dom), left.steps, right.steps)
    for side, diagram, label in (("lhs", lhs, "left-hand side"), ("rhs", rhs, "right-hand side")):
        cluster = drawing.root.cluster(side, label, "definition")
        ins = drawing.definition(diagram, f"{side}.", cluster, 0)
        anchor = ins[0].node if ins else _first_node(cluster)
        if anchor:  # to the right of the law; weightless, so the side's wires stay straight
            drawing.extra.append(f"  {quote(target)} -> {quote(anchor)} [style=invis, weight=0];")
    return drawing.finish(name, None)


# ---------------------------------------------------------------------- sides from diagrams


def diagram_side(diagram: Diagram, fallback: str) -> Side:
    """A side read off its diagram alone (no source at hand): its arrows, and those as text."""
    steps = path_steps(diagram, fallback)
    return Side(_path_text(steps), steps)


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
        if isinstance(box, FROM_ABOVE):
            continue
        feeds = diagram.incoming(box.id)
        wires = [w for w in feeds if not isinstance(diagram.box(w.box), FROM_ABOVE)]
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


def _commuting(scope: Scope, source_label: str, left: list[Step], right: list[Step]) -> str:
    """Object nodes and arrows for both paths, the left-hand side's above the right-hand
    side's: a triangle or a square when the shapes allow, else two rows (two arrows bowing
    apart when each side is one arrow). The arrows are declared in the frame so that their
    labels stay inside it. Returns the target object's node."""
    source, target = "law.src", "law.tgt"
    scope.items += [_object(source, source_label), _object(target, left[-1][1])]
    shape = (len(left), len(right))
    turns = _turns(source, target, shape)
    for side, steps in (("r", right), ("l", left)):  # dot stacks paths upwards, as written
        nodes = [source, *(f"law.{side}{k}" for k in range(len(steps) - 1)), target]
        for (label, obj), (tail, head) in zip(steps, pairwise(nodes), strict=True):
            if head != target:
                scope.items.append(_object(head, obj))
            scope.items.append(_arrow(tail, head, label, turns.get((tail, head))))
        if shape == (1, 1) and side == "r":
            scope.items.append(_PARALLEL_SPACER)
    for a, b in sorted(turns):
        scope.items.append(RankGroup("same", [a, b]))
    return target


# Between two arrows from the source to the target, an invisible one holds them apart and
# straight ahead: dot would run one of them straight and bow the other, labels nearly touching.
_PARALLEL_SPACER = (
    '  "law.src" -> "law.tgt" [style=invis, weight=8, label=<<TABLE BORDER="0" CELLBORDER="0"'
    ' CELLSPACING="0" CELLPADDING="0"><TR><TD WIDTH="1" HEIGHT="36"></TD></TR></TABLE>>];'
)


def _turns(source: str, target: str, shape: tuple[int, int]) -> dict[tuple[str, str], str]:
    """The arrows drawn inside one rank ("down" or "up"), which turn a path's corner: the
    square's lhs runs along the top and down, its rhs down and along the bottom; a triangle's
    two-step side turns above the one-step side (lhs) or below it (rhs)."""
    if shape == (2, 2):
        return {("law.l0", target): "down", (source, "law.r0"): "down"}
    if shape == (2, 1):
        return {("law.l0", target): "down"}
    if shape == (1, 2):
        return {("law.r0", target): "up"}
    return {}


def _object(node: str, label: str) -> str:
    attrs = {"label": label, "shape": "plaintext", "fontsize": 12, "margin": 0.04}
    return f"  {quote(node)}{attr_list(attrs)};"


def _arrow(tail: str, head: str, label: str, turn: str | None) -> str:
    """A labelled arrow. One inside a rank (`turn`) carries its label beside it (dot would
    centre it on the arrow) and is written head above tail, as dot stacks a flat edge: a
    downward one backwards. Any other has its label above it, with room above the label to
    keep it clear of the path or title above."""
    text = f'<FONT FACE="{MONO}" POINT-SIZE="10">{esc_html(label)}</FONT>'
    attrs: dict[str, object] = {"arrowsize": 0.7, "color": "#222222"}
    if turn is not None:
        attrs = {"xlabel": Html(text), **attrs}
    else:
        attrs = {"label": Html(_padded(text, 10, 4)), **attrs}
    if turn == "down":
        tail, head = head, tail
        attrs |= {"dir": "back", "arrowtail": "normal"}
    else:
        attrs["arrowhead"] = "normal"
    return f"  {quote(tail)} -> {quote(head)}{attr_list(attrs)};"


def _padded(markup: str, above: int, below: int) -> str:
    """Label markup with empty room above and below it, in points."""
    rows = [f'<TR><TD HEIGHT="{above}"></TD></TR>'] if above else []
    rows += [f"<TR><TD>{markup}</TD></TR>", f'<TR><TD HEIGHT="{below}"></TD></TR>']
    table = '<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="0" CELLPADDING="0">'
    return table + "".join(rows) + "</TABLE>"


def _first_node(scope: Scope) -> str | None:
    for item in scope.items:
        node = getattr(item, "id", None)
        if node and not isinstance(item, Scope):
            return node
    return None
