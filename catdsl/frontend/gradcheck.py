"""`catdsl gradcheck`: reverse-mode gradients against central finite differences.

The objective is `Σ c · f(x)` for a fixed random cotangent c on every real output, so every
output coordinate is exercised. Every parameter, real input and real port is checked, over all
coordinates of small tensors and a fixed sample of large ones.

Three choices keep the check honest on attention-like programs:

- the difference `f(x + h) − f(x − h)` is taken output by output before it is paired with c,
  so a large constant output (a masked score's −1e6 sentinel) cancels exactly instead of
  swamping the change in rounding;
- the step is per coordinate, `h = eps · max(1, |x|)`, so large entries move by a step their
  precision can resolve;
- a coordinate passes when `|analytic − fd| ≤ 1e-7 + 1e-5 · max(|analytic|, |fd|)` (absolute
  plus relative), and a tensor whose largest gradient is below 1e-6 of the largest gradient of
  the check gets a warning: agreement there is agreement between two numbers near zero.

`one_step` is the other mode, the course's procedure for a training step: apply one step, infer
each param family's gradient from its largest change, `(before − after) / lr`, and compare it
with a central difference of the loss.
"""

from __future__ import annotations

import copy
import dataclasses
from dataclasses import dataclass
from typing import Any, TypeGuard

import numpy as np

from catdsl.errors import CatError, CatRuntimeError, Diagnostic
from catdsl.frontend.program import BaseProgram
from catdsl.frontend.sampling import Case, Sampler
from catdsl.typesys import messages as M
from catdsl.typesys.no_gradient import first_cut
from catdsl.typesys.primitives import NoGradient

MAX_COORDINATES = 64
ABS_TOLERANCE = 1e-7
REL_TOLERANCE = 1e-5
NEGLIGIBLE = 1e-6
"""A tensor whose largest gradient is below this fraction of the check's largest is flagged."""


@dataclass(frozen=True)
class GradRow:
    """One checked tensor: its worst errors, whether every coordinate passed, its largest
    gradient and whether that is negligible against the largest of the whole check."""

    name: str
    size: int
    checked: int
    max_abs_error: float
    max_rel_error: float
    ok: bool
    largest: float = 0.0
    negligible: bool = False


@dataclass(frozen=True)
class GradReport:
    name: str
    rows: tuple[GradRow, ...]

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.rows)

    @property
    def warnings(self) -> tuple[str, ...]:
        """One line per tensor whose gradient is negligible against the largest."""
        top = max((r.largest for r in self.rows), default=0.0)
        return tuple(
            f"the gradient of `{r.name}` is at most {r.largest:.1e}, {r.largest / top:.0e} of "
            "the largest: its check compares two numbers near zero"
            for r in self.rows
            if r.negligible
        )

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
                    "largest_gradient": r.largest,
                    "negligible": r.negligible,
                }
                for r in self.rows
            ],
            "warnings": list(self.warnings),
        }


def _is_real(value: object) -> TypeGuard[np.ndarray]:
    return isinstance(value, np.ndarray) and value.dtype.kind == "f"


def gradcheck(program: BaseProgram, name: str, eps: float = 1e-6, seed: int = 0) -> GradReport:
    morphism = program[name]
    cut = first_cut(morphism.term, upstream=True)
    if cut is not None:  # a comparison's gradient is zero, and its differences are not
        evaluation = cut.kind is NoGradient.EVALUATION
        message = M.gradcheck_through_no_gradient(name, cut.prim.name, evaluation)
        raise CatError([message.at(cut.prim.span)], program.checked.sources)
    rng = np.random.default_rng(seed)
    sampler = Sampler(rng, program.params)
    try:
        rows = _case_rows(program, name, sampler, rng, eps, "")
        empty_rows: list[GradRow] = []
        if sampler.varies:  # lists or options in the domain: at `[]` and `none` too
            empty = Sampler(np.random.default_rng(seed + 1), program.params, Case.EMPTY)
            empty_rows = _case_rows(program, name, empty, rng, eps, " at [] / none")
    except CatRuntimeError as err:
        raise CatError([err.diagnostic], program.checked.sources) from None
    top = max((r.largest for r in rows), default=0.0)
    flagged = tuple(
        dataclasses.replace(r, negligible=top > 0 and r.largest < NEGLIGIBLE * top) for r in rows
    )
    # at `[]` a zero gradient is the expected one, not a warning sign
    return GradReport(name, flagged + tuple(empty_rows))


def _case_rows(
    program: BaseProgram,
    name: str,
    sampler: Sampler,
    rng: np.random.Generator,
    eps: float,
    case: str,
) -> list[GradRow]:
    """The rows of one sampled case: every real input, port and param of `name` against
    central differences, labelled with `case` (empty for the first, present one). At the
    empty case every input is a list without elements or `none`, so only the params (and any
    input that is still an array with entries) have coordinates to perturb."""
    morphism = program[name]
    inputs = list(sampler.prod(morphism.dom))
    ports = {p.name: sampler.atom(p.atom) for p in morphism.term.ports if p.kind == "port"}
    params = {k: np.array(v, dtype=np.float64) for k, v in program.params.items()}
    backend, plan = program.backend, morphism.plan

    def outputs() -> tuple:
        # copies: an output may be a view of an input (`split`), which the check perturbs
        return copy.deepcopy(tuple(backend.run(plan, tuple(inputs), ports, params, check=False)))

    first = outputs()
    cots = tuple(rng.normal(size=np.shape(o)) if _is_real(np.asarray(o)) else None for o in first)
    if all(c is None for c in cots):
        if case:  # nothing real comes out of an empty case: nothing to check there
            return []
        raise CatError([Diagnostic("E0807", f"`{name}` has no real output to differentiate")])
    wrt = {"inputs", *ports, *(p.name for p in morphism.param_ports)}
    _, grads = backend.vjp(plan, tuple(inputs), ports, params, cots, wrt)
    targets: list[tuple[str, np.ndarray, np.ndarray | None]] = []
    for i, x in enumerate(inputs):
        if _is_real(x) and (x.size or not case):
            targets.append((f"input {i + 1}{case}", x, grads["inputs"][i]))
    for pname, value in ports.items():
        if _is_real(value) and (value.size or not case):
            targets.append((f"port {pname}{case}", value, grads.get(pname)))
    for p in morphism.param_ports:
        targets.append((f"{p.name}{case}", params[p.name], grads.get(p.name)))
    if not targets and not case:
        raise CatError(
            [
                Diagnostic(
                    "E0807",
                    f"`{name}` has no real input, port or parameter to differentiate",
                    help="gradcheck a loss or a morphism with learnable params, e.g. `loss`",
                )
            ]
        )
    return [
        _check_tensor(label, value, grad, outputs, cots, eps, rng) for label, value, grad in targets
    ]


def _paired_difference(cots: tuple, up: tuple, down: tuple) -> float:
    """Σ c · (up − down) over the real outputs, each difference taken before the pairing."""
    return sum(
        float(np.sum(c * (np.asarray(u) - np.asarray(d))))
        for c, u, d in zip(cots, up, down, strict=True)
        if c is not None
    )


def _check_tensor(label, value: np.ndarray, grad, outputs, cots, eps: float, rng) -> GradRow:
    """Central differences on a sample of coordinates of `value` (perturbed in place)."""
    analytic = np.zeros_like(value) if grad is None else np.asarray(grad, dtype=np.float64)
    flat = value.reshape(-1)
    size = flat.size
    picks = (
        np.arange(size)
        if size <= MAX_COORDINATES
        else np.sort(rng.choice(size, MAX_COORDINATES, replace=False))
    )
    worst_abs = worst_rel = largest = 0.0
    ok = True
    for i in picks:
        saved = flat[i]
        step = eps * max(1.0, abs(float(saved)))
        flat[i] = saved + step
        up = outputs()
        flat[i] = saved - step
        down = outputs()
        flat[i] = saved
        fd = _paired_difference(cots, up, down) / (2 * step)
        a = float(analytic.reshape(-1)[i])
        err, scale = abs(a - fd), max(abs(a), abs(fd))
        ok = ok and err <= ABS_TOLERANCE + REL_TOLERANCE * scale
        worst_abs = max(worst_abs, err)
        worst_rel = max(worst_rel, err / max(scale, 1e-300))
        largest = max(largest, abs(a))
    return GradRow(label, size, len(picks), worst_abs, worst_rel, ok, largest)


# ---------------------------------------------------------------- the course's one-step mode


@dataclass(frozen=True)
class StepRow:
    """One param family of the one-step check: the coordinate that changed most, the gradient
    inferred from the change, the central difference, and the verdicts."""

    name: str
    coordinate: tuple[int, ...]
    inferred: float
    fd: float
    ok: bool  # the course's rule: |inferred − fd| < tolerance
    close: bool  # |inferred − fd| ≤ 1e-6 + 1e-3 · max(|inferred|, |fd|)
    negligible: bool  # below 1e-6 of the largest inferred gradient of the step

    @property
    def error(self) -> float:
        return abs(self.inferred - self.fd)

    @property
    def strict(self) -> bool:
        """The relative-plus-absolute verdict on a gradient that is not negligible."""
        return self.close and not self.negligible


@dataclass(frozen=True)
class StepReport:
    name: str
    lr: float
    rows: tuple[StepRow, ...]

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.rows)

    def to_json(self) -> dict:
        return {
            "name": self.name,
            "lr": self.lr,
            "ok": self.ok,
            "families": [
                {
                    "name": r.name,
                    "coordinate": list(r.coordinate),
                    "inferred": r.inferred,
                    "fd": r.fd,
                    "error": r.error,
                    "ok": r.ok,
                    "strict": r.strict,
                    "negligible": r.negligible,
                }
                for r in self.rows
            ],
        }


def one_step(
    program: BaseProgram,
    step: str,
    start: str,
    loss: str,
    lr: float | None = None,
    eps: float = 1e-3,
    tolerance: float = 1e-2,
) -> StepReport:
    """The course's check of a gradient-descent step `step` from the state `start` (a point):
    for each param the step changes, pick the coordinate that changed most, infer its gradient
    `(before − after) / lr` and compare it with the central difference of `loss` (a morphism of
    the state to a loss) at that coordinate, step `eps`. The rate is the state's own, or `lr`."""
    try:
        state: Any = program[start]()
        after: Any = program[step](state)
        rate = lr if lr is not None else _state_rate(state, start)
        before_params, after_params = _params(state), _params(after)

        def loss_at(name: str, index: tuple[int, ...], delta: float) -> float:
            moved = {k: np.array(v, copy=True) for k, v in before_params.items()}
            moved[name][index] += delta
            value: Any = program[loss](_with_params(state, moved))
            return float(value)

        found = []
        for name, theta in before_params.items():
            change = np.abs(np.asarray(theta) - np.asarray(after_params[name]))
            if not change.size or not change.max() > 0:
                continue
            index = tuple(int(i) for i in np.unravel_index(int(change.argmax()), change.shape))
            inferred = (
                float(np.asarray(theta)[index] - np.asarray(after_params[name])[index]) / rate
            )
            fd = (loss_at(name, index, eps) - loss_at(name, index, -eps)) / (2 * eps)
            found.append((name, index, inferred, fd))
    except CatRuntimeError as err:
        raise CatError([err.diagnostic], program.checked.sources) from None
    top = max((abs(f[2]) for f in found), default=0.0)
    rows = []
    for name, index, inferred, fd in found:
        negligible = abs(inferred) < NEGLIGIBLE * top
        close = abs(inferred - fd) <= 1e-6 + 1e-3 * max(abs(inferred), abs(fd))
        rows.append(
            StepRow(
                name,
                index,
                inferred,
                fd,
                abs(inferred - fd) < tolerance,
                close,
                negligible,
            )
        )
    return StepReport(step, rate, tuple(rows))


def _params(state: Any) -> dict[str, np.ndarray]:
    """The params record inside a state (a training state or optimizer state's `params`)."""
    inner = state.get("params", state) if isinstance(state, dict) else None
    if not isinstance(inner, dict):
        raise CatRuntimeError("R0307", "the one-step check needs a state holding params")
    return inner


def _with_params(state: dict, params: dict) -> dict:
    return {**state, "params": params} if "params" in state else params


def _state_rate(state: Any, start: str) -> float:
    if isinstance(state, dict) and "lr" in state:
        return float(state["lr"])
    raise CatRuntimeError(
        "R0307",
        f"the state `{start}` does not own a learning rate",
        help="give the step's rate with `--lr`, or start from `StateInit(f, lr = …)`",
    )
