"""The visual vocabulary shared by every drawing: fonts, colours, escaping and wire labels."""

from __future__ import annotations

from catdsl.typesys.dims import Dim
from catdsl.typesys.types import Atom, Carrier, Obj, Prod, Record

FONT = "Helvetica,Arial,sans-serif"
MONO = "DejaVu Sans Mono,Menlo,Consolas,monospace"
WIRE = "#444444"
LABEL = "#333333"
RED = "#d62728"

# kind -> (fill, border) of a box
BOX_COLOURS = {
    "prim": ("#f1f3f5", "#6c757d"),
    "ref": ("#e7f0fd", "#4a72b8"),
    "power": ("#e7f0fd", "#4a72b8"),
    "train": ("#efe9fb", "#7651c2"),
    "hole": ("#ffffff", "#9a6700"),
    "ellipsis": ("#ffffff", "#888888"),
}
CHIP_COLOURS = {  # kind -> (fill, border) of a chip entering from above
    "param": ("#f6b26b", "#c27c3a"),
    "port": ("#ffffff", "#c27c3a"),
    "const": ("#fff4c2", "#b8962e"),
}
CLUSTER_STYLES = {  # what a cluster is drawn around -> its attributes
    "ref": {"style": "rounded,dashed", "color": "#4a72b8", "fontcolor": "#4a72b8"},
    "functor": {
        "style": "rounded,filled",
        "color": "#8aa9d6",
        "fillcolor": "#f5f8fe",
        "fontcolor": "#2f5597",
    },
    "train": {"style": "rounded,dashed", "color": "#7651c2", "fontcolor": "#7651c2"},
    "unroll": {"style": "rounded,dashed", "color": "#4a72b8", "fontcolor": "#4a72b8"},
    "definition": {"style": "rounded", "color": "#bbbbbb", "fontcolor": "#222222"},
}


class Html(str):
    """An HTML-like label: written between `<` and `>` instead of quotes."""


def esc_html(text: str) -> str:
    """Escape text for an HTML-like label."""
    return (
        text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
    )


_WIDTHS = {  # advance widths in ems, on the generous side (DejaVu Sans is the widest fallback)
    **dict.fromkeys("WMm", 1.0),
    **dict.fromkeys("w", 0.82),
    **dict.fromkeys("ijl", 0.3),
    **dict.fromkeys("frt", 0.42),
    **dict.fromkeys(" ,.:;'|!", 0.34),
    **dict.fromkeys("()[]{}", 0.42),
}


def text_width(text: str, size: float) -> int:
    """An upper estimate of the width of text in points, for fixed-size cells."""
    total = 0.0
    for ch in text:
        if ch in _WIDTHS:
            total += _WIDTHS[ch]
        elif ch.isupper():
            total += 0.76
        elif ch.islower() or ch.isdigit():
            total += 0.64
        else:
            total += 0.84
    return int(total * size) + 1


def quote(text: str) -> str:
    """A DOT double-quoted string."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def attr_list(attrs: dict[str, object]) -> str:
    """Render `[k=v, ...]` in insertion order (empty string when there is nothing)."""
    if not attrs:
        return ""
    parts = []
    for key, value in attrs.items():
        if isinstance(value, Html):
            parts.append(f"{key}=<{value}>")
        elif isinstance(value, bool):
            parts.append(f"{key}={str(value).lower()}")
        elif isinstance(value, int | float):
            parts.append(f"{key}={value}")
        else:
            parts.append(f"{key}={quote(str(value))}")
    return " [" + ", ".join(parts) + "]"


def graph_header(name: str, title: str | None) -> list[str]:
    """The opening lines of a left-to-right drawing with the house defaults."""
    graph = {
        "rankdir": "LR",
        "newrank": True,
        "fontname": FONT,
        "fontsize": 11,
        "nodesep": 0.22,
        "ranksep": 0.32,
        "pad": 0.25,
        "bgcolor": "white",
    }
    if title:
        graph |= {"label": title, "labelloc": "t", "fontsize": 14}
    node = {"fontname": FONT, "fontsize": 11, "shape": "plain"}
    edge = {
        "fontname": FONT,
        "fontsize": 9,
        "fontcolor": LABEL,
        "color": WIRE,
        "arrowhead": "none",
        "penwidth": 1.2,
    }
    return [
        f"digraph {quote(name)} {{",
        f"  graph{attr_list(graph)};",
        f"  node{attr_list(node)};",
        f"  edge{attr_list(edge)};",
    ]


def wire_label(atom: Atom, shapes: bool = False) -> str:
    """The text on a wire: the object's name, plus its carrier with bound dims when `shapes`."""
    if not shapes:
        return str(atom)
    if isinstance(atom, Obj):
        return f"{atom.name} : {_carrier_text(atom.carrier)}"
    if isinstance(atom, Record):
        return f"{atom} : {{{', '.join(name for name, _ in atom.fields)}}}"
    return _atom_text(atom)


def _carrier_text(carrier: Carrier | Prod) -> str:
    if isinstance(carrier, Prod):
        return " * ".join(_atom_text(a) for a in carrier.atoms) or "Unit"
    if carrier.spec.element:
        elem = carrier.elem
        inner = " * ".join(_atom_text(a) for a in elem.atoms) if elem else ""
        return f"{carrier.kind}[{inner}]"
    args = [_dim_text(d) for d in carrier.shape.dims]
    if carrier.shape.rest:
        args.insert(0, "*" + carrier.shape.rest.lstrip("?"))
    if carrier.spec.bounded and carrier.bound is not None:
        args.append(_dim_text(carrier.bound))
    if not args:
        return carrier.kind
    return f"{carrier.kind}[{', '.join(args)}]"


def _atom_text(atom: Atom) -> str:
    return _carrier_text(atom) if isinstance(atom, Carrier) else str(atom)


def _dim_text(dim: Dim) -> str:
    value = dim.value
    return str(value) if value is not None else str(dim)
