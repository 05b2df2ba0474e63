"""Bounded cost: each phase of loading and calling a generated program, timed on its own.

The cases are the inputs the hostile-input targets name:

- `10k`: `bench/check_scaling.py`'s realistic program of 10,000 lines, parsed and checked
  (target: 1 s); it has no single entry point, so only the front end is timed;
- `long`: one `>>` chain of 20,000 `tanh`, checked and run end to end (target: 3 s);
- `params`: 1,000 morphisms `affine(W_i, b_i) >> tanh`, each with its two params, chained
  (3,003 lines), loaded and called once (target: 0.5 s);
- `doubling`: `let a_i = a_(i-1) >> a_(i-1)`, 20 levels, on the primitive `tanh`;
- `doubling-nominal`: the same on a declared morphism between nominal objects
  (`morphism a0 : S -> S = tanh`), so every one of the 2^20 applications checks its value.

Phases: `parse` (text to AST, timed around each file's parse inside `check_text`), `check`
(the rest of that same `check_text` pass: imports and the checker),
`lower` (typed terms to the diagram), `compile` (schedule and bind the plan), `run` (one checked
call). Each is the best of `--repeat` passes in this process, by wall clock and by this
process's CPU time (on a shared machine the CPU time moves less); the loader pauses the cyclic
garbage collector while it works, and the collection it defers lands in whichever phase
allocates next, as it does in `catdsl run`.

    .venv/bin/python bench/frontend_cost.py                       # every case
    .venv/bin/python bench/frontend_cost.py --case params --repeat 5
    .venv/bin/python bench/frontend_cost.py --case long --profile  # cProfile, top 30
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from check_scaling import generate
from sharing_scaling import doubling, long, params

from catdsl import loader
from catdsl.frontend.api import Program
from catdsl.loader import check_text
from catdsl.syntax.parser import lark_parser, parse


def doubling_nominal(levels: int = 20) -> str:
    """The doubling file on a morphism between nominal objects: each application checks."""
    lines = ["import std.ml", "object S : Real", "morphism a0 : S -> S = tanh"]
    lines += [f"let a{i} = a{i - 1} >> a{i - 1}" for i in range(1, levels + 1)]
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class Case:
    """A generated program, the definition called (None: front end only), its input and the
    target for the whole in seconds."""

    make: Callable[[], str]
    name: str | None
    value: object
    target: float | None


CASES: dict[str, Case] = {
    "10k": Case(lambda: generate(10_000), None, None, 1.0),
    "long": Case(long, "p", 0.5, 3.0),
    "params": Case(params, "net", [0.1, 0.2, 0.3, 0.4], 0.5),
    "doubling": Case(doubling, "a20", 0.5, None),
    "doubling-nominal": Case(doubling_nominal, "a20", 0.5, None),
}
PHASES = ("parse", "check", "lower", "compile", "run")


def one_pass(case: str, text: str) -> dict[str, tuple[float, float]]:
    """Each phase's (wall, CPU) seconds for one load-and-call of `text`."""
    spec = CASES[case]
    out: dict[str, tuple[float, float]] = {}

    def timed(phase: str, work: Callable[[], object]) -> object:
        wall, cpu = time.perf_counter(), time.process_time()
        result = work()
        out[phase] = (time.perf_counter() - wall, time.process_time() - cpu)
        return result

    parsed: list[tuple[float, float]] = []

    def timed_parse(source: str, file: str) -> object:
        wall, cpu = time.perf_counter(), time.process_time()
        result = parse(source, file)
        parsed.append((time.perf_counter() - wall, time.process_time() - cpu))
        return result

    loader.parse = timed_parse  # type: ignore[assignment]
    try:
        checked = timed("check", lambda: check_text(text, f"<{case}>"))
    finally:
        loader.parse = parse
    # the parse of every file read (the program and its imports), timed inside the same pass
    out["parse"] = (sum(w for w, _ in parsed), sum(c for _, c in parsed))
    out["check"] = (out["check"][0] - out["parse"][0], out["check"][1] - out["parse"][1])
    assert not checked.diagnostics, checked.diagnostics  # type: ignore[attr-defined]
    if spec.name is None:
        return out
    morphism = Program(checked, "float64")[spec.name]  # type: ignore[arg-type]
    timed("lower", lambda: morphism.diagram)
    timed("compile", lambda: morphism.plan)
    result = timed("run", lambda: morphism(spec.value))
    assert np.all(np.isfinite(np.asarray(result, dtype=float))), case
    return out


def measure(case: str, repeat: int) -> dict[str, tuple[float, float]]:
    """The best of `repeat` passes, phase by phase (wall and CPU separately)."""
    text = CASES[case].make()
    runs = [one_pass(case, text) for _ in range(repeat)]
    return {
        phase: (min(r[phase][0] for r in runs), min(r[phase][1] for r in runs)) for phase in runs[0]
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--case", choices=list(CASES), action="append")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--profile", action="store_true", help="cProfile one pass, top 30")
    args = parser.parse_args()
    cases = args.case or list(CASES)
    lark_parser()  # the grammar's tables are loaded once per process, not per program
    if args.profile:
        for case in cases:
            text = CASES[case].make()
            profiler = cProfile.Profile()
            profiler.runcall(one_pass, case, text)
            pstats.Stats(profiler).sort_stats("tottime").print_stats(30)
        return
    print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}, {os.cpu_count()} CPUs")
    print("seconds, best of", args.repeat, "(wall / CPU)")
    header = f"{'case':<17}" + "".join(f"{p:>14}" for p in (*PHASES, "total")) + "  target"
    print(header)
    for case in cases:
        best = measure(case, args.repeat)
        wall = sum(w for w, _ in best.values())
        cpu = sum(c for _, c in best.values())
        cells = [f"{best[p][0]:6.3f}/{best[p][1]:6.3f}" if p in best else "-" for p in PHASES]
        target = CASES[case].target
        verdict = ""
        if target is not None:
            verdict = f"  {target:g} s: {'met' if wall <= target else 'MISSED'}"
        row = "".join(f"{c:>14}" for c in cells) + f"{wall:7.3f}/{cpu:6.3f}"
        print(f"{case:<17}{row}{verdict}")


if __name__ == "__main__":
    main()
