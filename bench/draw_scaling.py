"""Time drawing a long chain: `to_dot` on a generated n-box pipeline, then `dot -Tsvg`.

Usage: python bench/draw_scaling.py [N ...]   (default: 100 500)
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time

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
            f"total {end - start:6.3f} s ({len(text) // 1024} KiB of DOT)"
        )


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [100, 500])
