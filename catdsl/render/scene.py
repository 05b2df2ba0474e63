"""The scene a drawing is built in before it becomes DOT text: nodes, clusters and wires."""

from __future__ import annotations

from dataclasses import dataclass, field

from catdsl.errors import Span
from catdsl.render.style import (
    BOX_COLOURS,
    CHIP_COLOURS,
    CLUSTER_STYLES,
    FONT,
    MONO,
    RED,
    WIRE,
    Html,
    attr_list,
    esc_html,
    quote,
    text_width,
)

PORT_HEIGHT = 18  # vertical room per wire on a box side, in points


@dataclass(frozen=True)
class End:
    """One end of a wire: a node, optionally a port cell and the side the wire attaches to."""

    node: str
    port: str | None = None
    side: str | None = None

    def __str__(self) -> str:
        text = quote(self.node)
        if self.port:
            text += ":" + quote(self.port)
        if self.side:
            text += ":" + self.side
        return text


@dataclass
class Wire:
    src: End
    dst: End
    attrs: dict[str, object] = field(default_factory=dict)
    inside: bool = False  # drawn inside a box node (a chip's drop), not as an edge


@dataclass
class Chip:
    """A param, user port or constant: a small rounded node that enters a box from above."""

    id: str
    kind: str
    name: str
    type_text: str
    span: Span | None = None

    def cell(self) -> str:
        """The chip as one fixed-size rounded table cell (so a wide box cannot stretch it)."""
        fill, border = CHIP_COLOURS[self.kind]
        width = max(text_width(self.name, 10), text_width(self.type_text, 8)) + 10
        return (
            f'<TD FIXEDSIZE="TRUE" WIDTH="{width}" HEIGHT="30" STYLE="rounded" BORDER="1" '
            f'BGCOLOR="{fill}" COLOR="{border}">'
            f'<FONT POINT-SIZE="10">{esc_html(self.name)}</FONT><BR/>'
            f'<FONT POINT-SIZE="8" COLOR="#555555">{esc_html(self.type_text)}</FONT></TD>'
        )

    def html(self) -> str:
        return _table(f"<TR>{self.cell()}</TR>")

    def dot(self) -> str:
        return f"  {quote(self.id)}{attr_list(_node_attrs(self.id, Html(self.html()), self.span))};"


@dataclass
class BoxNode:
    """A box: one port cell per input (left, or on top for ports) and per output (right)."""

    id: str
    colour: str
    label: str  # HTML markup, already escaped
    n_in: int
    n_out: int
    top: tuple[int, ...] = ()
    span: Span | None = None
    dashed: bool = False
    highlight: bool = False
    chips: dict[int, Chip] = field(default_factory=dict)

    def html(self) -> str:
        fill, border = BOX_COLOURS[self.colour]
        width, colour = (2, RED) if self.highlight else (1, border)
        style = "rounded,dashed" if self.dashed else "rounded"
        left = [f"i{k}" for k in range(self.n_in) if k not in self.top]
        rows = ""
        if self.top:
            gaps = "".join(f'<TD WIDTH="12"></TD><TD PORT="i{k}" WIDTH="2"></TD>' for k in self.top)
            ports = _table(f'<TR>{gaps}<TD WIDTH="12"></TD></TR>')
            rows += f"<TR><TD></TD><TD>{ports}</TD><TD></TD></TR>"
        rows += (
            f"<TR><TD>{_column(left)}</TD>"
            f'<TD CELLPADDING="6">{self.label}</TD>'
            f"<TD>{_column([f'o{k}' for k in range(self.n_out)])}</TD></TR>"
        )
        box = (
            f'<TABLE BORDER="{width}" COLOR="{colour}" BGCOLOR="{fill}" STYLE="{style}" '
            f'CELLBORDER="0" CELLSPACING="0" CELLPADDING="0">{rows}</TABLE>'
        )
        if not self.chips:
            return box
        gap = '<TD WIDTH="4"></TD>'
        drop = f'<TD WIDTH="1" HEIGHT="10" FIXEDSIZE="TRUE" BGCOLOR="{WIRE}"></TD>'
        chips = gap.join(self.chips[k].cell() if k in self.chips else "<TD></TD>" for k in self.top)
        drops = gap.join(drop if k in self.chips else "<TD></TD>" for k in self.top)
        span = 2 * len(self.top) + 1
        return _table(
            f"<TR>{gap}{chips}{gap}</TR><TR>{gap}{drops}{gap}</TR>"
            f'<TR><TD COLSPAN="{span}">{box}</TD></TR>'
        )

    def dot(self) -> str:
        return f"  {quote(self.id)}{attr_list(_node_attrs(self.id, Html(self.html()), self.span))};"


@dataclass
class Point:
    """A dot where a wire forks (a copy) or ends (a discard)."""

    id: str
    width: float

    def dot(self) -> str:
        attrs = {"shape": "point", "width": self.width, "color": WIRE}
        return f"  {quote(self.id)}{attr_list(attrs)};"


@dataclass
class Rail:
    """A column of wire ends, one port cell `p0, p1, ...` per wire from top to bottom, each with
    a small dot: a diagram's boundary, or one side of a crossing (smaller dots)."""

    id: str
    n: int
    dot_size: int = 4

    def dot(self) -> str:
        size = self.dot_size
        dot = f'WIDTH="{size}" HEIGHT="{size}" FIXEDSIZE="TRUE" STYLE="rounded" BGCOLOR="{WIRE}"'
        mark = _table(f"<TR><TD {dot}></TD></TR>")
        rows = "".join(
            f'<TR><TD PORT="p{k}" WIDTH="{size}" HEIGHT="{PORT_HEIGHT}">{mark}</TD></TR>'
            for k in range(self.n)
        )
        return f"  {quote(self.id)}{attr_list({'label': Html(_table(rows))})};"


@dataclass
class RankGroup:
    """Nodes kept in one rank (`same`, `source`, `sink`)."""

    rank: str
    ids: list[str]

    def dot(self) -> str:
        return f"  {{rank={self.rank}; {' '.join(f'{quote(i)};' for i in self.ids)}}}"


@dataclass
class Scope:
    """The root graph or a cluster: its own attributes and the items drawn inside it."""

    id: str | None = None
    attrs: dict[str, object] = field(default_factory=dict)
    items: list = field(default_factory=list)

    def cluster(self, cid: str, label: str, style: str) -> Scope:
        attrs: dict[str, object] = {
            "label": label,
            "labeljust": "l",
            "fontname": MONO,
            "fontsize": 10,
            "margin": 10,
            "penwidth": 1.2,
        }
        child = Scope(f"cluster_{cid}", attrs | CLUSTER_STYLES[style])
        self.items.append(child)
        return child

    def lines(self, indent: str = "") -> list[str]:
        out = []
        for item in self.items:
            if isinstance(item, Scope):
                out.append(f"{indent}  subgraph {quote(item.id or '')} {{")
                out.append(f"{indent}    graph{attr_list(item.attrs)};")
                out.extend(item.lines(indent + "  "))
                out.append(f"{indent}  }}")
            else:
                out.append(indent + (item if isinstance(item, str) else item.dot()))
        return out


def _table(rows: str) -> str:
    return f'<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="0" CELLPADDING="0">{rows}</TABLE>'


def _column(ports: list[str]) -> str:
    if not ports:
        return _table('<TR><TD WIDTH="2"></TD></TR>')
    cells = "".join(
        f'<TR><TD PORT="{p}" WIDTH="2" HEIGHT="{PORT_HEIGHT}"></TD></TR>' for p in ports
    )
    return _table(cells)


def _node_attrs(node_id: str, label: Html, span: Span | None) -> dict[str, object]:
    attrs: dict[str, object] = {"id": node_id, "label": label}
    if span is not None:
        attrs["tooltip"] = str(span)
    return attrs


def label_markup(text: str, mono: bool = True) -> str:
    """Escaped label text in the box font."""
    face = MONO if mono else FONT
    return f'<FONT FACE="{face}" POINT-SIZE="11">{esc_html(text)}</FONT>'
