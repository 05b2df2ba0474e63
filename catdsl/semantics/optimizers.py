"""Update rules of the training endomorphisms, on records of named arrays.

- `TrainStep(lr)`: θ ← θ − lr·g, with g the full-batch mean gradient, all params at once
  (full-batch gradient descent).
- `Momentum(lr, beta)`, PyTorch's convention (`torch.optim.SGD(momentum=beta)`, no dampening):
  v ← beta·v + g; θ ← θ − lr·v, on `MomentumState(loss)` = {params, velocity}, the velocity
  starting at zero.
- `Adam(lr, beta1, beta2, eps)` (Kingma & Ba): t = k + 1; m ← β1·m + (1 − β1)·g;
  v ← β2·v + (1 − β2)·g²; θ ← θ − lr·m̂ / (√v̂ + ε) with m̂ = m / (1 − β1^t),
  v̂ = v / (1 − β2^t); k ← t. The state stores the uncorrected m and v and the step count k.

| code  | raised when |
| ----- | ----------- |
| R0601 | the learning rate is missing, not finite or not > 0 |
| R0602 | a decay rate (Adam's beta1 / beta2, momentum's beta) is not in [0, 1) |
| R0603 | Adam's epsilon is not finite or not > 0 |
| R0604 | a gradient, moment or velocity does not have its parameter's shape |
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from catdsl.errors import CatRuntimeError, Span

Arrays = dict[str, np.ndarray]

DEFAULTS = {
    "TrainStep": {},
    "Momentum": {"beta": 0.9},
    "Adam": {"beta1": 0.9, "beta2": 0.999, "eps": 1e-8},
}
STEPPERS = tuple(DEFAULTS)
RATES = {"TrainStep": ("lr",), "Momentum": ("lr", "beta"), "Adam": ("lr", "beta1", "beta2", "eps")}
"""The hyperparameters each update rule takes after the gradients, in order."""


def hyperparameters(family: str, given: Mapping[str, object], span: Span | None) -> dict:
    """The validated hyperparameters of a stepping family, defaults filled in."""
    hyper = {**DEFAULTS.get(family, {}), **given}
    if "lr" not in hyper:
        raise CatRuntimeError("R0601", f"`{family}` needs a learning rate `lr`", span)
    lr = _real(hyper["lr"])
    if not (math.isfinite(lr) and lr > 0):
        raise CatRuntimeError(
            "R0601",
            f"invalid learning rate {hyper['lr']}: it must be finite and > 0",
            span,
            help="try a small positive rate such as `lr = 0.1`",
        )
    hyper["lr"] = lr
    decay_name = "Adam decay rate" if family == "Adam" else "momentum decay rate"
    for key in ("beta1", "beta2", "beta"):
        if key in hyper:
            beta = _real(hyper[key])
            if not (math.isfinite(beta) and 0 <= beta < 1):
                raise CatRuntimeError(
                    "R0602",
                    f"invalid {decay_name} `{key}` = {hyper[key]}: it must be in [0, 1)",
                    span,
                )
            hyper[key] = beta
    if "eps" in hyper:
        eps = _real(hyper["eps"])
        if not (math.isfinite(eps) and eps > 0):
            raise CatRuntimeError(
                "R0603", f"invalid Adam epsilon `eps` = {hyper['eps']}: it must be > 0", span
            )
        hyper["eps"] = eps
    return hyper


def _real(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


def sgd(params: Arrays, grads: Arrays, lr: float) -> Arrays:
    """One gradient-descent step, every parameter from the gradients of the old ones."""
    _same_shapes("gradient", params, grads)
    return sgd_update(params, grads, lr)


def sgd_update(params: Arrays, grads: Arrays, lr: float) -> Arrays:
    """`sgd` for gradients known to fit the params (the training objective's): no checks."""
    return {name: theta - lr * grads[name] for name, theta in params.items()}


def momentum(state: dict, grads: Arrays, lr: float, beta: float) -> dict:
    """One heavy-ball step on the state {params, velocity} (PyTorch's SGD with momentum)."""
    _same_shapes("gradient", state["params"], grads)
    return momentum_update(state, grads, lr, beta)


def momentum_update(state: dict, grads: Arrays, lr: float, beta: float) -> dict:
    """`momentum` for gradients known to fit the params; the state's velocity is checked."""
    params, velocity = state["params"], state["velocity"]
    _same_shapes("momentum velocity", params, velocity)
    new_velocity = {name: beta * velocity[name] + grads[name] for name in params}
    new_params = {n: theta - lr * new_velocity[n] for n, theta in params.items()}
    return {"params": new_params, "velocity": new_velocity}


def adam(state: dict, grads: Arrays, lr: float, beta1: float, beta2: float, eps: float) -> dict:
    """One Adam step on the state {params, m, v, step}, bias-corrected by the step count."""
    _same_shapes("Adam gradient", state["params"], grads)
    return adam_update(state, grads, lr, beta1, beta2, eps)


def adam_update(
    state: dict, grads: Arrays, lr: float, beta1: float, beta2: float, eps: float
) -> dict:
    """`adam` for gradients known to fit the params; the state's moments are checked."""
    params, first, second = state["params"], state["m"], state["v"]
    _same_shapes("Adam first moment", params, first)
    _same_shapes("Adam second moment", params, second)
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


def initial_state(family: str, params: Mapping[str, np.ndarray]) -> tuple:
    """The starting state of a stepping family, built from the parameters alone."""
    values = dict(params)
    if family == "Momentum":
        return ({"params": values, "velocity": _zeros(values)},)
    if family == "Adam":
        return ({"params": values, "m": _zeros(values), "v": _zeros(values), "step": np.array(0)},)
    return (values,)


def _zeros(params: Arrays) -> Arrays:
    return {name: np.zeros_like(theta) for name, theta in params.items()}


def _same_shapes(item: str, params: Arrays, other: Arrays) -> None:
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
