"""Writing drawings: DOT text to .dot/.svg/.png/.pdf files, SVG for Jupyter, a whole program on
one page. Only this module needs the `dot` binary, which it runs with a time limit
(`GRAPHVIZ_SECONDS`, else R0704)."""

from __future__ import annotations

import html
import shutil
import subprocess
from pathlib import Path

from catdsl.diagram.ir import Diagram
from catdsl.errors import CatRuntimeError
from catdsl.files import atomic_output
from catdsl.render.dot import Drawing, body_of, to_dot

FORMATS = ("dot", "svg", "png", "pdf")
GRAPHVIZ_SECONDS = 60.0
"""How long Graphviz may lay one drawing out before R0704 stops it."""
INSTALL_HINT = (
    "install Graphviz with `apt-get install graphviz` (Debian/Ubuntu) or `brew install graphviz` "
    "(macOS), or draw to `-o diagram.dot`, which works without it"
)


def render(dot_text: str, out_path: str) -> None:
    """Write a drawing to `out_path`, in the format its suffix names (.dot, .svg, .png, .pdf)."""
    fmt = Path(out_path).suffix.lower().lstrip(".")
    if fmt not in FORMATS:
        raise CatRuntimeError(
            "R0702",
            f"cannot draw to `{out_path}`: unknown format `.{fmt}`",
            help="use one of " + ", ".join(f"`.{f}`" for f in FORMATS),
        )
    data = dot_text.encode() if fmt == "dot" else _pipe(dot_text, fmt)
    _write_atomically(Path(out_path), data)


def svg_of(dot_text: str) -> str:
    """The SVG text of a drawing."""
    return _pipe(dot_text, "svg").decode()


def repr_svg(diagram: Diagram) -> str | None:
    """For `_repr_svg_`: the diagram as SVG, or None (Jupyter then shows the text repr) when
    Graphviz is not installed."""
    if shutil.which("dot") is None:
        return None
    return svg_of(to_dot(diagram))


def page_of(
    diagrams: list[tuple[str, Diagram]],
    *,
    shapes: bool = False,
    expand: int = 0,
    unroll: bool = False,
    title: str | None = None,
) -> str:
    """All definitions of a program in one DOT graph, each in a cluster labelled `name : A -> B`,
    in the given order from top to bottom."""
    drawing = Drawing(shapes=shapes, expand=expand, unroll=unroll)
    for k, (name, diagram) in enumerate(diagrams):
        cluster = drawing.root.cluster(f"def{k}", signature_text(name, diagram), "definition")
        drawing.definition(diagram, f"d{k}.", cluster, 0, body_of(diagram))
    drawing.root.items.reverse()  # left-to-right dot stacks unconnected clusters bottom-up
    return drawing.finish(title or "program", title)


def render_directory(pages: list[tuple[str, str, str]], directory: str, title: str) -> None:
    """Each `(name, caption, dot)` drawing as `name.svg` in `directory`, and an `index.html`
    that shows them in order under their captions."""
    root = Path(directory)
    root.mkdir(parents=True, exist_ok=True)
    sections = []
    for name, caption, dot_text in pages:
        render(dot_text, str(root / f"{name}.svg"))
        sections.append(
            f'<section id="{html.escape(name)}">\n<h2><code>{html.escape(caption)}</code></h2>\n'
            f'<img src="{html.escape(name)}.svg" alt="{html.escape(caption)}">\n</section>'
        )
    links = "".join(
        f'<li><a href="#{html.escape(n)}">{html.escape(n)}</a></li>' for n, _, _ in pages
    )
    page = INDEX.format(title=html.escape(title), links=links, sections="\n".join(sections))
    _write_atomically(root / "index.html", page.encode())


INDEX = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>
body {{ font-family: Helvetica, Arial, sans-serif; margin: 2em auto; max-width: 70em; }}
nav ul {{ columns: 4; }} section {{ margin: 2em 0; }} img {{ max-width: 100%; }}
h2 code {{ font-size: 0.8em; }}
</style></head>
<body><h1>{title}</h1>
<nav><ul>{links}</ul></nav>
{sections}
</body></html>
"""


def signature_text(name: str, diagram: Diagram) -> str:
    """`name : A -> B [port: C]`, the way the definition's type reads in the source."""
    ports = "".join(f" [{p.name}: {p.atom}]" for p in diagram.ports if p.kind == "port")
    return f"{name} : {diagram.dom} -> {diagram.cod}{ports}"


def _pipe(dot_text: str, fmt: str) -> bytes:
    if shutil.which("dot") is None:
        message = f"drawing `.{fmt}` needs the Graphviz `dot` program, which is not installed"
        raise CatRuntimeError("R0701", f"{message}: {INSTALL_HINT}")
    try:
        done = subprocess.run(
            ["dot", "-Kdot", f"-T{fmt}"],
            input=dot_text.encode(),
            capture_output=True,
            timeout=GRAPHVIZ_SECONDS,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise CatRuntimeError(
            "R0704",
            f"Graphviz did not lay the drawing out within {GRAPHVIZ_SECONDS:g} seconds",
            help="draw fewer levels (a smaller `--expand`, no `--unroll`), each definition on "
            "its own page with `-o DIR/`, or to `-o diagram.dot` (no layout)",
        ) from None
    if done.returncode != 0:
        message = done.stderr.decode(errors="replace").strip() or f"exit {done.returncode}"
        raise CatRuntimeError("R0705", f"Graphviz failed to lay the drawing out: {message}")
    return done.stdout


def _write_atomically(path: Path, data: bytes) -> None:
    """Write to a temporary file beside `path`, then rename it over `path` (never over a FIFO,
    a device or a symbolic link: `files.atomic_output` refuses those)."""
    with atomic_output(path, what="drawing") as file:
        file.write(data)
