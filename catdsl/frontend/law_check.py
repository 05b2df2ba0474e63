"""Check every `law` numerically: both sides on random inputs drawn per carrier.

Each side compiles once; the error of a sample is the largest absolute difference of the
outputs, relative to their scale (`max|a - b| / max(1, max|a|)`), and a law holds when the
worst sample stays within its tolerance (`within`, default 1e-9).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from catdsl.errors import CatError, CatRuntimeError
from catdsl.frontend.program import BaseProgram, Morphism
from catdsl.frontend.sampling import Sampler, case_of

DEFAULT_TOLERANCE = 1e-9


@dataclass(frozen=True)
class LawReport:
    name: str
    holds: bool
    max_error: float
    tolerance: float
    samples: int
    failure: str | None = None

    def to_json(self) -> dict:
        return {
            "name": self.name,
            "holds": self.holds,
            "max_error": self.max_error if math.isfinite(self.max_error) else None,
            "tolerance": self.tolerance,
            "samples": self.samples,
            "failure": self.failure,
        }


def _leaves(value: object) -> list[np.ndarray]:
    if value is None:  # an absent option: no entries, unlike any present value
        return [np.zeros((0,))]
    if isinstance(value, dict):
        return [leaf for k in sorted(value) for leaf in _leaves(value[k])]
    if isinstance(value, tuple | list):
        return [leaf for v in value for leaf in _leaves(v)]
    array = np.asarray(value)
    return [array if array.dtype.kind == "U" else array.astype(np.float64)]


def difference(a: object, b: object) -> float:
    """Scale-relative max difference of two values of the same type."""
    worst = 0.0
    for x, y in zip(_leaves(a), _leaves(b), strict=True):
        if x.shape != y.shape:
            return float("inf")
        if x.size == 0:
            continue
        if x.dtype.kind == "U" or y.dtype.kind == "U":  # symbols: equal, or not at all
            if not np.array_equal(x, y):
                return float("inf")
            continue
        both_nan = np.isnan(x) & np.isnan(y)
        diff = np.where(both_nan, 0.0, np.abs(x - y))
        scale = max(1.0, float(np.nanmax(np.abs(x))) if np.isfinite(x).any() else 1.0)
        worst = max(worst, float(np.nanmax(diff)) / scale)
    return worst


def check_law(program: BaseProgram, name: str, samples: int, seed: int) -> LawReport:
    law = program.checked.laws[name]
    tolerance = law.tolerance if law.tolerance is not None else DEFAULT_TOLERANCE
    lhs = Morphism(program, f"{name} (left)", law.lhs)
    rhs = Morphism(program, f"{name} (right)", law.rhs)
    rng = np.random.default_rng(seed)
    n = 1 if not law.lhs.dom.atoms and not law.lhs.ports else samples
    worst = 0.0
    for i in range(n):
        sampler = Sampler(rng, program.params, case_of(i))
        try:  # drawing a sample can fail too (R0417: over the memory budget): this law only
            inputs = sampler.prod(law.lhs.dom)
            ports = {
                p.name: sampler.atom(p.atom)
                for p in (*law.lhs.ports, *law.rhs.ports)
                if p.kind == "port"
            }
            a = lhs.run(inputs, _only(ports, lhs))
            b = rhs.run(inputs, _only(ports, rhs))
        except CatRuntimeError as err:
            d = err.diagnostic
            return LawReport(name, False, float("inf"), tolerance, n, f"{d.code}: {d.message}")
        worst = max(worst, difference(a, b))
    return LawReport(name, worst <= tolerance, worst, tolerance, n)


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
