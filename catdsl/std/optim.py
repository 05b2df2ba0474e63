"""The optimizers of `std.optim`: each one spec with its numpy update rule (the reference).

- `TrainStep(lr)`: θ ← θ − lr·g, with g the full-batch mean gradient, all params at once.
- `Momentum(lr, beta)`, PyTorch's convention (`torch.optim.SGD(momentum=beta)`, no dampening):
  v ← beta·v + g; θ ← θ − lr·v, on `MomentumState(loss)` = {params, velocity}, the velocity
  starting at zero.
- `Adam(lr, beta1, beta2, eps)`, as in Kingma and Ba: t = k + 1; m ← β1·m + (1 − β1)·g;
  v ← β2·v + (1 − β2)·g²; θ ← θ − lr·m̂ / (√v̂ + ε) with m̂ = m / (1 − β1^t),
  v̂ = v / (1 − β2^t); k ← t. The state stores the uncorrected m and v and the step count k.
- `StateStep` on `TrainingState(f)` = {params, lr, step}, the course's training state: θ ← θ −
  lr·g at the rate the state owns (set by `StateInit(f, lr)`), for the params listed with
  `only = [...]` (all of the loss's by default), the others kept; the step count advances by 1.

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
)

Arrays = dict[str, np.ndarray]

LR = Hyper("lr", HyperKind.RATE, example=0.1)


def sgd_update(params: Arrays, grads: Arrays, lr: float) -> Arrays:
    """One gradient-descent step, every parameter from the gradients of the old ones."""
    return {name: theta - lr * grads[name] for name, theta in params.items()}


def momentum_update(state: dict, grads: Arrays, lr: float, beta: float) -> dict:
    """One heavy-ball step on the state {params, velocity} (PyTorch's SGD with momentum)."""
    params, velocity = state["params"], state["velocity"]
    same_shapes("momentum velocity", params, velocity)
    new_velocity = {name: beta * velocity[name] + grads[name] for name in params}
    new_params = {n: theta - lr * new_velocity[n] for n, theta in params.items()}
    return {"params": new_params, "velocity": new_velocity}


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
        "Momentum",
        prose="momentum",
        init="MomentumInit",
        hyper=(LR, Hyper("beta", HyperKind.DECAY, 0.9)),
        update=momentum_update,
        doc="heavy ball, PyTorch's SGD with momentum: v ← β·v + g; θ ← θ − lr·v",
        state="MomentumState",
        fields=(("params", FieldKind.PARAMS), ("velocity", FieldKind.PARAMS)),
        reader="MomentumParams",
    ),
    OptimizerSpec(
        "Adam",
        prose="Adam",
        init="AdamInit",
        hyper=(
            LR,
            Hyper("beta1", HyperKind.DECAY, 0.9),
            Hyper("beta2", HyperKind.DECAY, 0.999),
            Hyper("eps", HyperKind.EPSILON, 1e-8),
        ),
        update=adam_update,
        doc="Adam with bias-corrected moments",
        state="AdamState",
        fields=(
            ("params", FieldKind.PARAMS),
            ("m", FieldKind.PARAMS),
            ("v", FieldKind.PARAMS),
            ("step", FieldKind.COUNT),
        ),
        reader="AdamParams",
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

FAMILIES = Families((*OPTIMIZERS, TRAINING_STATE))
"""Every training family of the standard library, by name."""
