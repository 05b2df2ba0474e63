"""A plan's forward run as one generated Python function: straight-line code over local
variables instead of an interpreter loop over a register list.

A plain call of a compiled morphism runs every instruction once, in order; looping over step
tuples, fetching arguments from a list and writing results back costs about as much as a small
kernel does. `straight_line` writes the same run out as the body of one function — one
statement per instruction, a `del` where a value is used for the last time — and compiles it.
The text it compiles is made only of generated names (`r<slot>` for a register, `f<i>` for the
i-th instruction's call, `c<slot>` for a constant): nothing of the program's text or names ends
up in it, and the callables and constants are passed in as values. Straight-line code does
what the loop does, in the same order, so the results are the same bits.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Line:
    """One instruction to write out: `call` reads `ins` and writes `outs`; `single` says the
    call returns its one output itself (not a tuple of outputs)."""

    call: Callable[..., Any]
    ins: tuple[int, ...]
    outs: tuple[int, ...]
    single: bool = False


MAX_LINES = 5000
"""Plans with more instructions than this keep the interpreter loop: Python's compiler slows
down on very long bodies (about 35 µs a statement at 1,000, 65 µs at 5,000)."""

WRITE_AFTER = 10
"""A plan keeps the interpreter loop for its first runs and is written out after this many:
compiling a statement costs what it saves in some 30–60 runs, so a plan called once or a few
times (`catdsl run`) never pays for it, and one called in a loop or many times soon has."""


def straight_line(
    lines: Sequence[Line],
    params: Sequence[int],
    template: Sequence[Any],
    outputs: Sequence[int],
    keep: frozenset[int],
) -> Callable[..., tuple] | None:
    """`run(*values) -> outputs` for `lines`, the registers `params` (the context's slot, then
    the sources') given positionally and every other slot read before it is written taken from
    `template`; a register is dropped after its last use unless it is in `keep`. None when the
    plan is too long or its sources share a slot (the loop then runs it)."""
    if len(lines) > MAX_LINES or len(set(params)) != len(params):
        return None
    written = set(params)
    constants: dict[int, Any] = {}
    last_use: dict[int, int] = {}
    for i, line in enumerate(lines):
        for slot in line.ins:
            last_use[slot] = i
            if slot not in written:
                constants.setdefault(slot, template[slot])
        written.update(line.outs)
    for slot in outputs:
        if slot not in written:
            constants.setdefault(slot, template[slot])
    frees: dict[int, list[int]] = {}
    for slot, i in last_use.items():
        if slot not in keep and slot not in constants:
            frees.setdefault(i, []).append(slot)

    def name(slot: int) -> str:
        return f"c{slot}" if slot in constants else f"r{slot}"

    body = [f"    def run({', '.join(f'r{s}' for s in params)}):"]
    for i, line in enumerate(lines):
        call = f"f{i}({', '.join(name(s) for s in line.ins)})"
        if not line.outs:
            body.append(f"        {call}")
        elif line.single:
            body.append(f"        r{line.outs[0]} = {call}")
        elif len(line.outs) == 1:
            body.append(f"        r{line.outs[0]} = {call}[0]")
        else:  # as the loop does: the outputs in order (an op may return more)
            body.append(f"        ys = {call}")
            body += [f"        r{s} = ys[{j}]" for j, s in enumerate(line.outs)]
            body.append("        del ys")
        for slot in frees.get(i, ()):
            body.append(f"        del r{slot}")
    body.append(f"        return ({''.join(f'{name(s)}, ' for s in outputs)})")
    head = ["def make(calls, constants):"]
    if lines:
        head.append(f"    {''.join(f'f{i}, ' for i in range(len(lines)))}= calls")
    if constants:
        head.append(f"    {''.join(f'c{s}, ' for s in constants)}= constants")
    text = "\n".join([*head, *body, "    return run", ""])
    namespace: dict[str, Any] = {}
    exec(compile(text, "<catdsl plan>", "exec"), namespace)  # generated names only
    make = namespace["make"]
    return make([line.call for line in lines], list(constants.values()))
