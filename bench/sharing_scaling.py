"""Hostile input: programs whose cost used to grow faster than their text.

- doubling: `a_i = a_(i-1) >> a_(i-1)` for 20 levels (22 lines; 2^20 boxes once inlined). Its
  schedule is linear in the text (large definitions used more than once are invoked, not
  inlined), so checking and compiling take a fraction of a second; running it still applies
  `tanh` 2^20 times, which is the program's real work;
- chain: 1,000 `let`s, each using the previous one (deep, not wide);
- long: one `>>` chain of 20,000 primitives, checked and run end to end;
- params: 1,000 parametrised morphisms chained (about 3,000 lines), loaded and called once.

Each phase is timed best of `--repeat` in this process (parse and check, lowering, compiling
the plan, one checked run); the figures are in docs/performance.md.

    .venv/bin/python bench/sharing_scaling.py                # every case
    .venv/bin/python bench/sharing_scaling.py --case long    # one case
    .venv/bin/python bench/sharing_scaling.py --case params --profile  # cProfile, top 25
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import time
from collections.abc import Callable

import numpy as np

from catdsl.diagram.schedule import schedule
from catdsl.frontend.api import loads_program


def doubling(levels: int = 20) -> str:
    lines = ["import std.ml", "morphism a0 : Real -> Real = tanh"]
    lines += [f"let a{i} = a{i - 1} >> a{i - 1}" for i in range(1, levels + 1)]
    return "\n".join(lines) + "\n"


def chain(n: int = 1000) -> str:
    lines = ["import std.ml", "morphism c0 : Real -> Real = tanh"]
    lines += [f"let c{i} = c{i - 1} >> tanh" for i in range(1, n)]
    return "\n".join(lines) + "\n"


def long(n: int = 20_000) -> str:
    return "import std.ml\nlet p = " + " >> ".join(["tanh"] * n) + "\n"


def params(n: int = 1000) -> str:
    lines = ["import std.ml", "dim D = 4"]
    for i in range(n):
        lines += [
            f"param W{i} : Real[D, D] = course_init(seed = {i}, scale = 0.3)",
            f"param b{i} : Real[D] = zeros",
            f"morphism L{i} : Real[D] -> Real[D] = affine(W{i}, b{i}) >> tanh",
        ]
    lines.append("let net = " + " >> ".join(f"L{i}" for i in range(n)))
    return "\n".join(lines) + "\n"


CASES: dict[str, tuple[Callable[[], str], str, object]] = {
    "doubling": (doubling, "a20", 0.5),
    "chain": (chain, "c999", 0.5),
    "long": (long, "p", 0.5),
    "params": (params, "net", [0.1, 0.2, 0.3, 0.4]),
}


def phases(case: str) -> dict[str, float]:
    """One pass over the phases of a case, each timed."""
    make, name, value = CASES[case]
    text = make()
    times: dict[str, float] = {}
    start = time.perf_counter()
    program = loads_program(text, file=f"<{case}>")
    times["check"] = time.perf_counter() - start
    morphism = program[name]
    start = time.perf_counter()
    diagram = morphism.diagram
    times["lower"] = time.perf_counter() - start
    start = time.perf_counter()
    steps = len(schedule(diagram).steps)
    times["schedule"] = time.perf_counter() - start
    start = time.perf_counter()
    _ = morphism.plan
    times["compile"] = time.perf_counter() - start
    start = time.perf_counter()
    result = morphism(value)
    times["run"] = time.perf_counter() - start
    assert np.all(np.isfinite(result)), case
    times["total"] = times["check"] + times["lower"] + times["compile"] + times["run"]
    times["steps"] = steps
    times["lines"] = text.count("\n")
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--case", choices=sorted(CASES), action="append")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    cases = args.case or list(CASES)
    if args.profile:
        for case in cases:
            profiler = cProfile.Profile()
            profiler.runcall(phases, case)
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)
        return
    print(
        f"{'case':<9} {'lines':>6} {'steps':>6} {'check':>7} {'lower':>7} {'sched.':>7} "
        f"{'compile':>7} {'run':>7} {'total':>7}"
    )
    for case in cases:
        runs = [phases(case) for _ in range(args.repeat)]
        best = {k: min(r[k] for r in runs) for k in runs[0]}
        print(
            f"{case:<9} {best['lines']:>6.0f} {best['steps']:>6.0f} {best['check']:>7.3f} "
            f"{best['lower']:>7.3f} {best['schedule']:>7.3f} {best['compile']:>7.3f} "
            f"{best['run']:>7.3f} {best['total']:>7.3f}"
        )


if __name__ == "__main__":
    main()
