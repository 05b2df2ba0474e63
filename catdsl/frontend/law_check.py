"""Check every `law` numerically: both sides on the program's data and on random inputs.

Each side compiles once; the error of a sample is the largest absolute difference of the
outputs, relative to their scale (`max|a - b| / max(1, max|a|)`), and a law holds when the
worst sample stays within its tolerance (`within`, default 1e-9). A law generated from a
declaration has one case per instance (naturality at each morphism `f`); all are checked, on
every input when the domain is finite and small (a preorder on an ordered object), else on the
program's data of the domain and random inputs. The first input over the tolerance is kept as
the law's counterexample, with both sides' values.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from catdsl.errors import CatError, CatRuntimeError
from catdsl.frontend.json_form import output_form
from catdsl.frontend.program import BaseProgram, Morphism
from catdsl.frontend.sampling import Sampler, case_of
from catdsl.typesys.program import Law
from catdsl.typesys.types import Atom, Carrier, Obj, Prod

DEFAULT_TOLERANCE = 1e-9


@dataclass(frozen=True)
class Counterexample:
    """An input on which the two sides of a law differ, and both sides' values (JSON forms)."""

    case: str
    input: object
    left: object
    right: object
    error: float

    def to_json(self) -> dict:
        return {
            "case": self.case or None,
            "input": self.input,
            "left": self.left,
            "right": self.right,
            "error": self.error if math.isfinite(self.error) else None,
        }

    def lines(self) -> list[str]:
        """The counterexample as `catdsl laws` prints it."""
        head = f"COUNTEREXAMPLE{f' at {self.case}' if self.case else ''}"
        return [
            head,
            f"  input  {_shown(self.input)}",
            f"  left   {_shown(self.left)}",
            f"  right  {_shown(self.right)}",
        ]


def _shown(form: object) -> str:
    """A JSON form on one line, numbers to 6 significant digits."""
    if isinstance(form, float):
        return f"{form:.6g}"
    if isinstance(form, list):
        return "[" + ", ".join(_shown(x) for x in form) + "]"
    if isinstance(form, dict):
        return "{" + ", ".join(f"{k}: {_shown(v)}" for k, v in form.items()) + "}"
    if form is None:
        return "none"
    if isinstance(form, bool):
        return "true" if form else "false"
    if isinstance(form, str):
        return f'"{form}"'
    return str(form)


@dataclass(frozen=True)
class LawReport:
    name: str
    holds: bool
    max_error: float
    tolerance: float
    samples: int
    failure: str | None = None
    counterexample: Counterexample | None = None
    cases: int = 1

    def to_json(self) -> dict:
        return {
            "name": self.name,
            "holds": self.holds,
            "max_error": self.max_error if math.isfinite(self.max_error) else None,
            "tolerance": self.tolerance,
            "samples": self.samples,
            "failure": self.failure,
            "cases": self.cases,
            "counterexample": self.counterexample.to_json() if self.counterexample else None,
        }


def difference(a: object, b: object) -> float:
    """Scale-relative max difference of two values of the same type. An absent option equals
    only an absent one; entries that are not numbers (symbols) are equal or infinitely apart."""
    if a is None or b is None:
        return 0.0 if a is None and b is None else float("inf")
    if isinstance(a, dict) and isinstance(b, dict):
        return max((difference(a[k], b[k]) for k in sorted(a)), default=0.0)
    if isinstance(a, tuple | list) and isinstance(b, tuple | list):
        if len(a) != len(b):
            return float("inf")
        return max((difference(x, y) for x, y in zip(a, b, strict=True)), default=0.0)
    x, y = np.asarray(a), np.asarray(b)
    if x.shape != y.shape:
        return float("inf")
    if x.size == 0:
        return 0.0
    if x.dtype.kind not in "biuf" or y.dtype.kind not in "biuf":
        return 0.0 if bool(np.all(x == y)) else float("inf")
    x, y = x.astype(np.float64), y.astype(np.float64)
    both_nan = np.isnan(x) & np.isnan(y)
    diff = np.where(both_nan, 0.0, np.abs(x - y))
    scale = max(1.0, float(np.nanmax(np.abs(x))) if np.isfinite(x).any() else 1.0)
    return float(np.nanmax(diff)) / scale


def check_law(program: BaseProgram, name: str, samples: int, seed: int) -> LawReport:
    """Check a law and each of its cases; the first input over the tolerance is the
    counterexample."""
    law = program.checked.laws[name]
    tolerance = law.tolerance if law.tolerance is not None else DEFAULT_TOLERANCE
    rng = np.random.default_rng(seed)
    try:  # drawing a sample can fail too (R0417: over the memory budget): this law only
        planned = [(c, list(_inputs(program, c, samples, rng))) for c in (law, *law.cases)]
    except CatRuntimeError as err:
        d = err.diagnostic
        return LawReport(name, False, float("inf"), tolerance, 0, f"{d.code}: {d.message}")
    total = sum(len(inputs) for _, inputs in planned)
    worst, counterexample = 0.0, None
    for i, (case, inputs_of_case) in enumerate(planned):
        label = f"{name} (case {i + 1})" if law.cases else name
        lhs = Morphism(program, f"{label} (left)", case.lhs)
        rhs = Morphism(program, f"{label} (right)", case.rhs)
        for inputs, ports in inputs_of_case:
            try:
                a = lhs.run(inputs, _only(ports, lhs))
                b = rhs.run(inputs, _only(ports, rhs))
            except CatRuntimeError as err:
                d = err.diagnostic
                failure = f"{d.code}: {d.message}"
                return LawReport(name, False, float("inf"), tolerance, total, failure)
            error = difference(a, b)
            if error > tolerance and counterexample is None:
                counterexample = _counterexample(case, inputs, a, b, error)
            worst = max(worst, error)
    cases = len(planned)
    return LawReport(name, worst <= tolerance, worst, tolerance, total, None, counterexample, cases)


def _counterexample(case: Law, inputs: tuple, a: tuple, b: tuple, error: float) -> Counterexample:
    """Both sides' values on `inputs`, as JSON forms."""
    dom, cod = case.lhs.dom, case.lhs.cod
    shown = output_form(inputs[0] if len(inputs) == 1 else inputs, dom) if inputs else None
    left = output_form(a[0] if len(cod) == 1 else a, cod)
    right = output_form(b[0] if len(cod) == 1 else b, cod)
    return Counterexample(case.case, shown, left, right, error)


def _inputs(
    program: BaseProgram, law: Law, samples: int, rng: np.random.Generator
) -> Iterator[tuple[tuple, dict]]:
    """The inputs of one case: for a law a declaration carries, the program's data points of
    its domain first; then random ones (one input when the domain is `Unit` and there are no
    ports)."""
    dom = law.lhs.dom
    if not dom.atoms and not law.lhs.ports:
        yield (), {}
        return
    every = _every_input(dom) if not law.lhs.ports else None
    if every is not None:
        for inputs in every:
            yield inputs, {}
        return
    if law.generated:
        for point in _data_points(program, dom):
            yield point, {}
    for i in range(samples):
        sampler = Sampler(rng, program.params, case_of(i))
        inputs = sampler.prod(dom)
        ports = {
            p.name: sampler.atom(p.atom)
            for p in (*law.lhs.ports, *law.rhs.ports)
            if p.kind == "port"
        }
        yield inputs, ports


MAX_EXHAUSTIVE = 4096
"""A declaration's law whose domain has at most this many values is checked at all of them."""


def _every_input(dom: Prod) -> list[tuple] | None:
    """Every value of a finite domain (each atom an `Index[n]`, a `Bool` or a small `Bool`
    array, an object over one, or a set given by a data point), or None when it is infinite
    or larger than `MAX_EXHAUSTIVE`."""
    choices = []
    for atom in dom.atoms:
        values = finite_values(atom)
        if values is None:
            return None
        choices.append(values)
    if math.prod(len(c) for c in choices) > MAX_EXHAUSTIVE:
        return None
    return list(itertools.product(*choices))


def finite_values(atom: Atom) -> list[object] | None:
    """The values of a finite carrier in order (a single index or truth value, an entry of a
    set given by a data point, a small `Bool` array), or None."""
    if isinstance(atom, Obj) and any(p.op == "in" for p in atom.where):
        members = next(p.members for p in atom.where if p.op == "in")
        return [np.asarray(m)[()] for m in members]
    carrier = atom.carrier if isinstance(atom, Obj) else atom
    if isinstance(carrier, Carrier) and carrier.kind == "Bool" and carrier.shape.dims:
        return _truth_tables(carrier)
    if not isinstance(carrier, Carrier) or carrier.shape.dims or carrier.shape.rest:
        return None
    if carrier.kind == "Bool":
        return [np.bool_(False), np.bool_(True)]
    if carrier.kind == "Index" and carrier.bound is not None and carrier.bound.value is not None:
        return [np.int64(i) for i in range(carrier.bound.value)]
    return None


MAX_TRUTH_ENTRIES = 12
"""A `Bool` array of at most this many entries (4,096 values) is enumerated."""


def _truth_tables(carrier: Carrier) -> list[object] | None:
    """Every value of a `Bool` array of sized dims (a relation's matrix), or None."""
    if carrier.shape.rest or any(d.value is None for d in carrier.shape.dims):
        return None
    shape = tuple(int(d.value or 0) for d in carrier.shape.dims)
    size = math.prod(shape)
    if size > MAX_TRUTH_ENTRIES:
        return None
    bits = itertools.product((False, True), repeat=size)
    return [np.array(b, dtype=bool).reshape(shape) for b in bits]


def _data_points(program: BaseProgram, dom: Prod) -> Iterator[tuple]:
    """The values of the program's `data` points whose type is `dom`, in source order."""
    for name, d in program.checked.definitions.items():
        if d.kind != "data" or d.term.cod != dom or d.term.ports:
            continue
        value = program[name].run((), {})
        yield value if isinstance(value, tuple) else (value,)


def _only(ports: dict, side: Morphism) -> dict:
    return {k: v for k, v in ports.items() if k in side.ports}


def check_laws(program: BaseProgram, samples: int = 16, seed: int = 0) -> list[LawReport]:
    reports = []
    for name in program.checked.laws:
        try:
            reports.append(check_law(program, name, samples, seed))
        except CatError as err:
            d = err.diagnostics[0]
            reports.append(LawReport(name, False, float("inf"), 0.0, 0, f"{d.code}: {d.message}"))
    return reports
