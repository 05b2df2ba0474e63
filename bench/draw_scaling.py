"""Time drawing a long chain: `to_dot` on a generated n-box pipeline, then `dot -Tsvg`, and the
whole `catdsl draw` command (parse, check, lower, render, layout) on an n-morphism program.

Usage: python bench/draw_scaling.py [N ...]   (default: 100 500)
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from catdsl.diagram.ir import INPUT, OUTPUT, Diagram, WireEnd
from catdsl.errors import Span
from catdsl.render.dot import to_dot
from catdsl.typesys.dims import Dim
from catdsl.typesys.types import Carrier, Obj, Prod, Shape


def chain(n: int) -> Diagram:
    """`f0 >> f1 >> ... >> f(n-1)` on one object, every third box with a param from above."""
    vector = Obj("Vector", Carrier("Real", Shape((Dim.const(4),))))
    weight = Carrier("Real", Shape((Dim.const(4), Dim.const(4))))
    d = Diagram(Prod((vector,)), Prod((vector,)), f"chain{n}")
    previous = WireEnd(INPUT, 0)
    for i in range(n):
        span = Span("chain.cat", i + 1, 1, i + 1, 3)
        if i % 3:
            box = d.add_box("prim", f"f{i}", (vector,), (vector,), span, {"name": f"f{i}"})
        else:
            w = d.add_box("param", f"W{i}", (), (weight,), data={"name": f"W{i}"})
            box = d.add_box(
                "prim", f"linear(W{i})", (vector, weight), (vector,), span, {}, (f"W{i}",)
            )
            d.connect(WireEnd(w, 0), WireEnd(box, 1))
        d.connect(previous, WireEnd(box, 0))
        previous = WireEnd(box, 0)
    d.connect(previous, WireEnd(OUTPUT, 0))
    return d


def chain_source(n: int) -> str:
    """A program of n declared morphisms `F{i} : A -> A = linear(W)` and their composite."""
    lines = ["import std.ml", "object A : Real[4]", "param W : Real[4, 4] = zeros"]
    lines += [f"morphism F{i} : A -> A = linear(W)" for i in range(n)]
    lines.append("let chain = " + " >> ".join(f"F{i}" for i in range(n)))
    return "\n".join(lines) + "\n"


def time_command(n: int) -> float:
    """Seconds for `catdsl draw chain.cat chain -o chain.svg` in a fresh process."""
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp, "chain.cat")
        source.write_text(chain_source(n))
        command = [sys.executable, "-m", "catdsl", "draw", str(source), "chain"]
        start = time.perf_counter()
        subprocess.run(
            [*command, "-o", str(Path(tmp, "chain.svg"))], check=True, capture_output=True
        )
        return time.perf_counter() - start


def main(sizes: list[int]) -> None:
    if shutil.which("dot") is None:
        sys.exit("the Graphviz `dot` binary is needed: apt-get install graphviz")
    for n in sizes:
        diagram = chain(n)
        start = time.perf_counter()
        text = to_dot(diagram)
        middle = time.perf_counter()
        subprocess.run(["dot", "-Tsvg"], input=text, capture_output=True, text=True, check=True)
        end = time.perf_counter()
        print(
            f"{n:5d} boxes: to_dot {middle - start:6.3f} s, dot -Tsvg {end - middle:6.3f} s, "
            f"total {end - start:6.3f} s ({len(text) // 1024} KiB of DOT); "
            f"`catdsl draw` end to end {time_command(n):6.3f} s"
        )


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [100, 500])
