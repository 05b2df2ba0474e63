"""What running an optimizer needs besides its update rule, read from its spec: the run-time
check of its hyperparameters, its starting state, and the training options around the rule.

The update rules themselves are the specs' (`catdsl.std.optim`); a train box carries its
family's spec, so nothing here names a particular optimizer. Both interpreters call `update`
(schedule and clipping around the rule) and `run_epoch` (minibatches), so they agree bit for
bit.

Minibatches: with `batch = B`, one step of the family is one epoch over the N examples. The
examples are shuffled by `np.random.default_rng([seed, e]).permutation(N)`, where e = k // ⌈N / B⌉
is the epoch's number (k the state's step count), and taken B at a time in that order: the last
batch holds the N mod B examples left over (PyTorch's `DataLoader(drop_last=False)`), and its
gradient is the mean over those examples alone. So an epoch sees every example once, and the
run depends only on the seed and the state: resuming from a checkpoint, or training `fit ^ 3`
after `fit ^ 2`, gives the same bits as one run.

| code  | raised when |
| ----- | ----------- |
| R0601 | the learning rate is missing, not finite or not > 0 |
| R0602 | a decay rate (Adam's beta1 / beta2, momentum's beta) is not in [0, 1) |
| R0603 | an epsilon is not finite or not > 0 |
| R0604 | a gradient, moment or velocity does not have its parameter's shape |
| R0608 | a batch size or seed is not a whole number in its range |
| R0609 | a clipping norm or a weight decay is out of its range |
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from catdsl.errors import CatRuntimeError, Span
from catdsl.typesys.family_spec import FieldKind, Hyper, HyperKind, OptimizerSpec, Schedule

_CODES = {
    HyperKind.RATE: "R0601",
    HyperKind.DECAY: "R0602",
    HyperKind.EPSILON: "R0603",
    HyperKind.COUNT: "R0608",
    HyperKind.SEED: "R0608",
    HyperKind.NORM: "R0609",
    HyperKind.COEFFICIENT: "R0609",
    HyperKind.FRACTION: "R0609",
}
CLIP_EPSILON = 1e-6
"""Added to the global norm before dividing by it, as `torch.nn.utils.clip_grad_norm_` does."""


@dataclass(frozen=True)
class Options:
    """The training options of a step: minibatch size (None: full batch), shuffling seed,
    clipping norm (None: no clipping) and learning-rate schedule (None: constant)."""

    batch: int | None = None
    seed: int = 0
    clip: float | None = None
    schedule: Schedule | None = None


def options(
    spec: OptimizerSpec, given: Mapping[str, object], schedule: Schedule | None, span: Span | None
) -> Options:
    """The validated training options of a step (the defaults when its optimizer takes none)."""
    values: dict[str, float] = {}
    for hyper in spec.options:
        if hyper.name in given:
            value = _real(given[hyper.name])
            if not hyper.kind.admits(value):
                raise _out_of_range(spec, hyper, given[hyper.name], span)
            values[hyper.name] = value
    batch, clip = values.get("batch"), values.get("clip")
    return Options(
        None if batch is None else int(batch), int(values.get("seed", 0)), clip, schedule
    )


def update(
    spec: OptimizerSpec, state: Any, grads: dict, rates: tuple[float, ...], opts: Options
) -> Any:
    """One update by the optimizer's rule, its gradient clipped and its learning rate (the
    first hyperparameter) scheduled by the step count as `opts` ask."""
    if opts.clip is not None:
        grads = clipped(grads, opts.clip)
    if opts.schedule is not None:
        rates = (opts.schedule.rate(rates[0], int(state["step"])), *rates[1:])
    return spec.update(state, grads, *rates)


def clipped(grads: Mapping[str, np.ndarray], max_norm: float) -> dict[str, np.ndarray]:
    """The gradients scaled by min(1, max_norm / (‖g‖ + 1e-6)), ‖g‖ the L2 norm of all of
    them together (of the params' norms, the order PyTorch sums in)."""
    norms = [np.linalg.norm(np.ravel(g)) for g in grads.values()]
    total = float(np.linalg.norm(np.array(norms))) if norms else 0.0
    coefficient = min(max_norm / (total + CLIP_EPSILON), 1.0)
    return {name: g * coefficient for name, g in grads.items()}


Gradient = Callable[[Mapping[str, np.ndarray], np.ndarray, int], tuple[np.ndarray, dict]]
"""`gradient(params, rows, update)`: the mean loss at `params` over the examples `rows` (their
row numbers) and its gradient w.r.t. the params, for the run's update number `update` (the
state's step count after it: a kernel that draws at random draws from it)."""


def minibatches(count: int, batch: int, seed: int, epoch: int) -> list[np.ndarray]:
    """The row numbers of each minibatch of epoch `epoch` (see the module docstring)."""
    order = np.random.default_rng([seed, epoch]).permutation(count)
    return [order[start : start + batch] for start in range(0, count, batch)]


def run_epoch(
    spec: OptimizerSpec,
    state: Any,
    rates: tuple[float, ...],
    opts: Options,
    count: int,
    gradient: Gradient,
    on_batch: Callable[[int, int, float], None] | None = None,
) -> tuple[Any, float]:
    """One epoch of minibatch updates from `state`: the state after it and the mean of the
    batches' losses, each weighted by its size (the training loss of the epoch).
    `on_batch(done, total, loss)` is told of each batch."""
    assert opts.batch is not None
    per_epoch = -(-count // opts.batch)
    epoch = int(state["step"]) // per_epoch
    total = 0.0
    for index, rows in enumerate(minibatches(count, opts.batch, opts.seed, epoch)):
        try:
            mean, grads = gradient(params_of(spec, state), rows, int(state["step"]) + 1)
        except CatRuntimeError as exc:
            note = f"in minibatch {index + 1} of {per_epoch} of the epoch"
            diagnostic = exc.diagnostic
            exc.diagnostic = dataclasses.replace(diagnostic, notes=(*diagnostic.notes, note))
            raise
        loss = loss_value(mean)
        total += loss * len(rows)
        state = update(spec, state, grads, rates, opts)
        if on_batch is not None:
            on_batch(index + 1, per_epoch, loss)
    return state, total / count


def loss_value(mean: np.ndarray) -> float:
    """A mean loss as one number (the sum of its entries when the loss is not a scalar)."""
    return float(mean) if mean.ndim == 0 else float(np.sum(mean))


def hyperparameters(
    spec: OptimizerSpec, given: Mapping[str, object], span: Span | None
) -> dict[str, float]:
    """The validated hyperparameters of an optimizer, defaults filled in, in the spec's order."""
    values = {**spec.defaults, **given}
    checked: dict[str, float] = {}
    for hyper in spec.hyper:
        if hyper.name not in values:
            raise CatRuntimeError(
                _CODES[hyper.kind], f"`{spec.name}` needs a {hyper.kind.value} `{hyper.name}`", span
            )
        value = _real(values[hyper.name])
        if not hyper.kind.admits(value):
            raise _out_of_range(spec, hyper, values[hyper.name], span)
        checked[hyper.name] = value
    return checked


def _out_of_range(spec: OptimizerSpec, hyper: Hyper, value: object, span: Span | None) -> Exception:
    bound = hyper.kind.bound_text
    if hyper.kind is HyperKind.RATE:
        return CatRuntimeError(
            "R0601",
            f"invalid learning rate {value}: {bound}",
            span,
            help="try a small positive rate such as `lr = 0.1`",
        )
    if hyper.kind in (HyperKind.DECAY, HyperKind.EPSILON):
        what = f"{spec.prose} {hyper.kind.value} `{hyper.name}` = {value}"
    else:
        what = f"`{hyper.name}` = {value} of `{spec.name}`"
    return CatRuntimeError(_CODES[hyper.kind], f"invalid {what}: {bound}", span)


def _real(value: object) -> float:
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return math.nan


def initial_state(
    spec: OptimizerSpec, params: Mapping[str, np.ndarray], rates: Mapping[str, float] | None = None
) -> tuple[Any, ...]:
    """An optimizer's starting state at `params`: the params themselves for an optimizer without
    state, else its record with every other params-shaped field zero, the count 0 and each rate
    field the value its init family was given (`StateInit(f, lr = 0.1)`)."""
    values = dict(params)
    if spec.state is None:
        return (values,)
    state: dict[str, Any] = {}
    for name, kind in spec.fields:
        if kind is FieldKind.COUNT:
            state[name] = np.array(0)
        elif kind is FieldKind.RATE:
            if rates is None or name not in rates:
                raise CatRuntimeError(
                    "R0605",
                    f"a `{spec.state}` owns its `{name}`, so it starts from `{spec.init}(loss, "
                    f"{name} = …)`, not from the stored params alone",
                    help=f"run a definition that begins with `{spec.init}`",
                )
            state[name] = np.array(float(rates[name]))
        else:
            state[name] = values if name == "params" else _zeros(values)
    return (state,)


def _zeros(params: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    return {name: np.zeros_like(theta) for name, theta in params.items()}


def params_of(spec: OptimizerSpec, state: Any) -> Mapping[str, np.ndarray]:
    """The params inside an optimizer's state."""
    return state if spec.state is None else state["params"]
