"""What running an optimizer needs besides its update rule, read from its spec: the run-time
check of its hyperparameters and its starting state.

The update rules themselves are the specs' (`catdsl.std.optim`); a train box carries its
family's spec, so nothing here names a particular optimizer.

| code  | raised when |
| ----- | ----------- |
| R0601 | the learning rate is missing, not finite or not > 0 |
| R0602 | a decay rate (Adam's beta1 / beta2, momentum's beta) is not in [0, 1) |
| R0603 | an epsilon is not finite or not > 0 |
| R0604 | a gradient, moment or velocity does not have its parameter's shape |
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from catdsl.errors import CatRuntimeError, Span
from catdsl.typesys.family_spec import FieldKind, Hyper, HyperKind, OptimizerSpec

_CODES = {HyperKind.RATE: "R0601", HyperKind.DECAY: "R0602", HyperKind.EPSILON: "R0603"}


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
    what = f"{spec.prose} {hyper.kind.value} `{hyper.name}` = {value}"
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
