"""`catdsl gradcheck`: reverse-mode gradients against central finite differences.

The objective is `Σ c · f(x)` for a fixed random cotangent c on every real output, so every
output coordinate is exercised. Every parameter, real input and real port is checked, over all
coordinates of small tensors and a fixed sample of large ones.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeGuard

import numpy as np

from catdsl.errors import CatError, CatRuntimeError, Diagnostic
from catdsl.frontend.program import BaseProgram
from catdsl.frontend.sampling import Sampler
from catdsl.typesys import messages as M
from catdsl.typesys.discrete import crossing

MAX_COORDINATES = 64
ABS_TOLERANCE = 1e-7
REL_TOLERANCE = 1e-5


@dataclass(frozen=True)
class GradRow:
    name: str
    size: int
    checked: int
    max_abs_error: float
    max_rel_error: float

    @property
    def ok(self) -> bool:
        return self.max_abs_error <= ABS_TOLERANCE or self.max_rel_error <= REL_TOLERANCE


@dataclass(frozen=True)
class GradReport:
    name: str
    rows: tuple[GradRow, ...]

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.rows)

    def to_json(self) -> dict:
        return {
            "name": self.name,
            "ok": self.ok,
            "tensors": [
                {
                    "name": r.name,
                    "size": r.size,
                    "checked": r.checked,
                    "ok": r.ok,
                    "max_abs_error": r.max_abs_error,
                    "max_rel_error": r.max_rel_error,
                }
                for r in self.rows
            ],
        }


def _is_real(value: object) -> TypeGuard[np.ndarray]:
    return isinstance(value, np.ndarray) and value.dtype.kind == "f"


def gradcheck(program: BaseProgram, name: str, eps: float = 1e-6, seed: int = 0) -> GradReport:
    morphism = program[name]
    cut = crossing(morphism.term, upstream=True)
    if cut is not None:  # a comparison's gradient is zero, and its differences are not
        message = M.gradcheck_through_discrete(name, cut.name).at(cut.span)
        raise CatError([message], program.checked.sources)
    rng = np.random.default_rng(seed)
    sampler = Sampler(rng, program.params)
    inputs = list(sampler.prod(morphism.dom))
    ports = {p.name: sampler.atom(p.atom) for p in morphism.term.ports if p.kind == "port"}
    params = {k: np.array(v, dtype=np.float64) for k, v in program.params.items()}
    backend, plan = program.backend, morphism.plan

    def objective(cots: tuple | None = None) -> tuple[float, tuple]:
        outputs = backend.run(plan, tuple(inputs), ports, params, check=False)
        if cots is None:
            cots = tuple(
                rng.normal(size=np.shape(o)) if _is_real(np.asarray(o)) else None for o in outputs
            )
        total = sum(
            float(np.sum(c * np.asarray(o)))
            for c, o in zip(cots, outputs, strict=True)
            if c is not None
        )
        return total, cots

    try:
        _, cots = objective()
        if all(c is None for c in cots):
            raise CatError([Diagnostic("E0807", f"`{name}` has no real output to differentiate")])
        wrt = {"inputs", *ports, *(p.name for p in morphism.param_ports)}
        _, grads = backend.vjp(plan, tuple(inputs), ports, params, cots, wrt)
        targets: list[tuple[str, np.ndarray, np.ndarray | None]] = []
        for i, x in enumerate(inputs):
            if _is_real(x):
                targets.append((f"input {i + 1}", x, grads["inputs"][i]))
        for pname, value in ports.items():
            if _is_real(value):
                targets.append((f"port {pname}", value, grads.get(pname)))
        for p in morphism.param_ports:
            targets.append((p.name, params[p.name], grads.get(p.name)))
        if not targets:
            raise CatError(
                [
                    Diagnostic(
                        "E0807",
                        f"`{name}` has no real input, port or parameter to differentiate",
                        help="gradcheck a loss or a morphism with learnable params, e.g. `loss`",
                    )
                ]
            )
        rows = tuple(
            _check_tensor(label, value, grad, lambda: objective(cots)[0], eps, rng)
            for label, value, grad in targets
        )
    except CatRuntimeError as err:
        raise CatError([err.diagnostic], program.checked.sources) from None
    return GradReport(name, rows)


def _check_tensor(label, value: np.ndarray, grad, f, eps: float, rng) -> GradRow:
    """Central differences on a sample of coordinates of `value` (perturbed in place)."""
    analytic = np.zeros_like(value) if grad is None else np.asarray(grad, dtype=np.float64)
    flat = value.reshape(-1)
    size = flat.size
    picks = (
        np.arange(size)
        if size <= MAX_COORDINATES
        else np.sort(rng.choice(size, MAX_COORDINATES, replace=False))
    )
    worst_abs = worst_rel = 0.0
    for i in picks:
        saved = flat[i]
        flat[i] = saved + eps
        up = f()
        flat[i] = saved - eps
        down = f()
        flat[i] = saved
        fd = (up - down) / (2 * eps)
        a = float(analytic.reshape(-1)[i])
        err = abs(a - fd)
        worst_abs = max(worst_abs, err)
        worst_rel = max(worst_rel, err / max(abs(a), abs(fd), 1e-8))
    return GradRow(label, size, len(picks), worst_abs, worst_rel)
