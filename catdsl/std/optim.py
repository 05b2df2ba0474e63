"""The optimizers of `std.optim`: each one spec with its numpy update rule (the reference).

- `TrainStep(lr)`: θ ← θ − lr·g, with g the full-batch mean gradient, all params at once.
- `SGD(lr)`: the same update on `SGDState(loss)` = {params, step}, whose step count lets it
  take the training options and a schedule (`torch.optim.SGD`).
- `Momentum(lr, beta)`, PyTorch's convention (`torch.optim.SGD(momentum=beta)`, no dampening):
  v ← beta·v + g; θ ← θ − lr·v, on `MomentumState(loss)` = {params, velocity, step}, the
  velocity starting at zero.
- `Adam(lr, beta1, beta2, eps)`, as in Kingma and Ba: t = k + 1; m ← β1·m + (1 − β1)·g;
  v ← β2·v + (1 − β2)·g²; θ ← θ − lr·m̂ / (√v̂ + ε) with m̂ = m / (1 − β1^t),
  v̂ = v / (1 − β2^t); k ← t. The state stores the uncorrected m and v and the step count k.
- `AdamW(lr, beta1, beta2, eps, weight_decay)`, Loshchilov and Hutter's decoupled weight
  decay as `torch.optim.AdamW` does it: θ ← θ·(1 − lr·weight_decay), then the Adam step.
- `StateStep` on `TrainingState(f)` = {params, lr, step}, the course's training state: θ ← θ −
  lr·g at the rate the state owns (set by `StateInit(f, lr)`), for the params listed with
  `only = [...]` (all of the loss's by default), the others kept; the step count advances by 1.

`SGD`, `Momentum`, `Adam` and `AdamW` count their steps and have their rate as their `lr`, so
they also take the training options
(`batch`, `seed`, `clip`) and a learning-rate `schedule`, the rate of update k + 1 being
`schedule.rate(lr, k)` (PyTorch's `lr_scheduler` stepped after every update):

- `StepDecay(every, gamma = 0.1)`: lr·gamma^⌊k / every⌋ (`StepLR`);
- `ExponentialDecay(gamma)`: lr·gamma^k (`ExponentialLR`);
- `Cosine(steps, lr_min = 0)`: lr_min + (lr − lr_min)·(1 + cos(π·k / steps)) / 2 for
  k ≤ steps, then lr_min (`CosineAnnealingLR(T_max = steps)` up to `steps`; PyTorch's rate
  rises again after it, catdsl's stays at its floor);
- `Warmup(steps, start = 0.1)`: lr·(start + (1 − start)·min(k, steps) / steps), a linear
  warm-up from start·lr to lr over `steps` updates (`LinearLR(start_factor = start)`).

An update rule gets the objective's gradients, which have the params' shapes by construction;
it checks the state it is given (a state may come from a file), raising R0604.
"""

from __future__ import annotations

import math

import numpy as np

from catdsl.errors import CatRuntimeError
from catdsl.typesys.family_spec import (
    Families,
    FieldKind,
    Hyper,
    HyperKind,
    OptimizerSpec,
    ScheduleSpec,
)

Arrays = dict[str, np.ndarray]

LR = Hyper("lr", HyperKind.RATE, example=0.1)
ADAM_HYPER = (
    LR,
    Hyper("beta1", HyperKind.DECAY, 0.9),
    Hyper("beta2", HyperKind.DECAY, 0.999),
    Hyper("eps", HyperKind.EPSILON, 1e-8),
)
ADAM_FIELDS = (
    ("params", FieldKind.PARAMS),
    ("m", FieldKind.PARAMS),
    ("v", FieldKind.PARAMS),
    ("step", FieldKind.COUNT),
)


def sgd_update(params: Arrays, grads: Arrays, lr: float) -> Arrays:
    """One gradient-descent step, every parameter from the gradients of the old ones."""
    return {name: descend(theta, lr, grads[name]) for name, theta in params.items()}


def descend(theta: np.ndarray, lr: float, grad: np.ndarray) -> np.ndarray:
    """theta − lr·grad in one new array: the step lr·grad is made, then theta − step is written
    over it (the same two roundings as the expression, one array instead of two; for a small
    param the expression itself, which costs less than the checks)."""
    if type(theta) is not np.ndarray or theta.size < 4096:
        return theta - lr * grad
    step = np.multiply(grad, lr)
    if type(step) is not np.ndarray or step.shape != theta.shape or step.dtype != theta.dtype:
        return theta - step
    return np.subtract(theta, step, step)


def counted_sgd_update(state: dict, grads: Arrays, lr: float) -> dict:
    """One gradient-descent step on the state {params, step}."""
    params = sgd_update(state["params"], grads, lr)
    return {"params": params, "step": np.array(int(state["step"]) + 1)}


def momentum_update(state: dict, grads: Arrays, lr: float, beta: float) -> dict:
    """One heavy-ball step on the state {params, velocity, step} (PyTorch's SGD with
    momentum)."""
    params, velocity = state["params"], state["velocity"]
    same_shapes("momentum velocity", params, velocity)
    new_velocity = {name: beta * velocity[name] + grads[name] for name in params}
    new_params = {n: theta - lr * new_velocity[n] for n, theta in params.items()}
    step = np.array(int(state["step"]) + 1)
    return {"params": new_params, "velocity": new_velocity, "step": step}


def adam_update(
    state: dict, grads: Arrays, lr: float, beta1: float, beta2: float, eps: float
) -> dict:
    """One Adam step on the state {params, m, v, step}, bias-corrected by the step count."""
    params, first, second = state["params"], state["m"], state["v"]
    same_shapes("Adam first moment", params, first)
    same_shapes("Adam second moment", params, second)
    t = int(state["step"]) + 1
    correct1, correct2 = 1 - beta1**t, 1 - beta2**t
    new_params, new_first, new_second = {}, {}, {}
    for name, theta in params.items():
        g = grads[name]
        m = beta1 * first[name] + (1 - beta1) * g
        v = beta2 * second[name] + (1 - beta2) * (g * g)
        new_params[name] = theta - lr * (m / correct1) / (np.sqrt(v / correct2) + eps)
        new_first[name], new_second[name] = m, v
    return {"params": new_params, "m": new_first, "v": new_second, "step": np.array(t)}


def adamw_update(
    state: dict,
    grads: Arrays,
    lr: float,
    beta1: float,
    beta2: float,
    eps: float,
    weight_decay: float,
) -> dict:
    """One AdamW step: the params shrink by the factor 1 − lr·weight_decay, independently of
    the gradient, then take the Adam step."""
    shrink = 1 - lr * weight_decay
    decayed = {name: theta * shrink for name, theta in state["params"].items()}
    return adam_update({**state, "params": decayed}, grads, lr, beta1, beta2, eps)


def step_decay_rate(lr: float, k: int, every: float, gamma: float) -> float:
    """`StepDecay`: the rate falls by the factor gamma every `every` updates."""
    return lr * gamma ** (k // int(every))


def exponential_rate(lr: float, k: int, gamma: float) -> float:
    """`ExponentialDecay`: the rate falls by the factor gamma at every update."""
    return lr * gamma**k


def cosine_rate(lr: float, k: int, steps: float, lr_min: float) -> float:
    """`Cosine`: half a cosine from lr down to lr_min over `steps` updates, then lr_min."""
    if k >= steps:
        return lr_min
    return lr_min + (lr - lr_min) * (1 + math.cos(math.pi * k / steps)) / 2


def warmup_rate(lr: float, k: int, steps: float, start: float) -> float:
    """`Warmup`: a straight line from start·lr to lr over `steps` updates, then lr."""
    return lr * (start + (1 - start) * min(k, steps) / steps)


def state_update(state: dict, grads: Arrays) -> dict:
    """One gradient-descent step on a training state {params, lr, step}, at the state's own
    rate: the params named in `grads` move, every other is kept as it is (the same array), and
    the step count advances by one."""
    lr = float(state["lr"])
    if not (math.isfinite(lr) and lr > 0):
        raise CatRuntimeError("R0601", f"invalid learning rate {lr} in the training state")
    params = state["params"]
    same_shapes("gradient", {n: params[n] for n in grads if n in params}, grads)
    moved = {n: theta - lr * grads[n] if n in grads else theta for n, theta in params.items()}
    return {"params": moved, "lr": state["lr"], "step": np.array(int(state["step"]) + 1)}


def same_shapes(item: str, params: Arrays, other: Arrays) -> None:
    """Raise R0604 naming `item` when it lacks a parameter or differs from it in shape."""
    for name, theta in params.items():
        if name not in other:
            raise CatRuntimeError("R0604", f"the {item} has no entry for the parameter `{name}`")
        value = other[name]
        shape = value.shape if type(value) is np.ndarray else np.shape(value)
        if shape != theta.shape:
            raise CatRuntimeError(
                "R0604",
                f"shape mismatch in the {item} of `{name}`: expected {np.shape(theta)}, "
                f"found {shape}",
            )


OPTIMIZERS = (
    OptimizerSpec(
        "TrainStep",
        prose="gradient descent",
        init="Init",
        hyper=(LR,),
        update=sgd_update,
        doc="gradient descent: θ ← θ − lr·g",
    ),
    OptimizerSpec(
        "SGD",
        prose="gradient descent",
        init="SGDInit",
        hyper=(LR,),
        update=counted_sgd_update,
        doc="gradient descent counting its steps: θ ← θ − lr·g",
        state="SGDState",
        fields=(("params", FieldKind.PARAMS), ("step", FieldKind.COUNT)),
        reader="SGDParams",
    ),
    OptimizerSpec(
        "Momentum",
        prose="momentum",
        init="MomentumInit",
        hyper=(LR, Hyper("beta", HyperKind.DECAY, 0.9)),
        update=momentum_update,
        doc="heavy ball, PyTorch's SGD with momentum: v ← β·v + g; θ ← θ − lr·v",
        state="MomentumState",
        fields=(
            ("params", FieldKind.PARAMS),
            ("velocity", FieldKind.PARAMS),
            ("step", FieldKind.COUNT),
        ),
        reader="MomentumParams",
    ),
    OptimizerSpec(
        "Adam",
        prose="Adam",
        init="AdamInit",
        hyper=ADAM_HYPER,
        update=adam_update,
        doc="Adam with bias-corrected moments",
        state="AdamState",
        fields=ADAM_FIELDS,
        reader="AdamParams",
    ),
    OptimizerSpec(
        "AdamW",
        prose="AdamW",
        init="AdamWInit",
        hyper=(*ADAM_HYPER, Hyper("weight_decay", HyperKind.COEFFICIENT, 0.01)),
        update=adamw_update,
        doc="Adam with decoupled weight decay: θ ← θ·(1 − lr·weight_decay), then Adam",
        state="AdamWState",
        fields=ADAM_FIELDS,
        reader="AdamWParams",
    ),
)

SCHEDULES = (
    ScheduleSpec(
        "StepDecay",
        (Hyper("every", HyperKind.COUNT, example=30), Hyper("gamma", HyperKind.NORM, 0.1)),
        step_decay_rate,
        "lr·gamma^⌊k / every⌋",
    ),
    ScheduleSpec(
        "ExponentialDecay",
        (Hyper("gamma", HyperKind.NORM, example=0.95),),
        exponential_rate,
        "lr·gamma^k",
    ),
    ScheduleSpec(
        "Cosine",
        (Hyper("steps", HyperKind.COUNT, example=1000), Hyper("lr_min", HyperKind.COEFFICIENT, 0)),
        cosine_rate,
        "lr_min + (lr − lr_min)·(1 + cos(π·k / steps)) / 2, then lr_min",
    ),
    ScheduleSpec(
        "Warmup",
        (Hyper("steps", HyperKind.COUNT, example=100), Hyper("start", HyperKind.FRACTION, 0.1)),
        warmup_rate,
        "lr·(start + (1 − start)·min(k, steps) / steps)",
    ),
)


TRAINING_STATE = OptimizerSpec(
    "StateStep",
    prose="training state",
    init="StateInit",
    hyper=(),
    update=state_update,
    doc="gradient descent at the state's own rate on the params it lists; step + 1",
    state="TrainingState",
    fields=(("params", FieldKind.PARAMS), ("lr", FieldKind.RATE), ("step", FieldKind.COUNT)),
    reader="StateParams",
    init_hyper=(LR,),
    counter="StateCount",
    partial=True,
)
"""The course's training state: it owns the params, the learning rate and the step count; its
steps (`StateStep(loss, data, model = f, only = [...])`) are endomorphisms of it."""

FAMILIES = Families((*OPTIMIZERS, TRAINING_STATE), SCHEDULES)
"""Every training family of the standard library, by name."""
