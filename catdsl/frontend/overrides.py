"""Hyperparameter overrides for `program.train(name, lr=...)`: the training step of a definition
with some hyperparameters replaced, as a view of the program that shares its params; and the
number of steps a definition `step ^ n` is written with, which `--steps` overrides.

The step is found as `train` finds it: the definition itself, through the definitions it names
and a power `step ^ n`. Each name must be a hyperparameter of the step's optimizer or, for one
that counts its steps, a training option (`batch`, `seed`, `clip`) (E0820), and its value a
number in the range of its kind (E0821; `batch` also needs the step to have training data),
checked before anything runs.
"""

from __future__ import annotations

import copy
import dataclasses
import math
import numbers
from collections.abc import Mapping

from catdsl.errors import CatError, Diagnostic
from catdsl.frontend.program import BaseProgram
from catdsl.typesys import terms as T
from catdsl.typesys.family_spec import FamilyRole, HyperKind, OptimizerSpec


def with_hyperparameters(
    program: BaseProgram,
    name: str,
    overrides: Mapping[str, object],
    keywords: tuple[str, ...] = (),
) -> BaseProgram:
    """`program` with the training step of `name` using `overrides`; its params are the same
    dict, so training the view trains the program. `keywords` are the caller's own keyword
    arguments, suggested for a misspelt one (`step=` for `steps=`). A definition that is not
    a training step is returned unchanged, for `train` to report (E0805)."""
    program[name]  # an unknown name is E0801
    definition = program.checked.definitions[name]
    step = _step(definition.term)
    if step is None or not overrides:
        return program
    optimizer = step.spec.optimizer
    assert optimizer is not None, "a step family has an optimizer"
    values = _checked(name, optimizer, overrides, keywords)
    if "batch" in values and step.data is None:
        raise CatError(
            [
                Diagnostic(
                    "E0821",
                    f"`batch = {overrides['batch']!r}` needs training data, but `{name}` "
                    "trains without any",
                    help="minibatches are drawn from a step's data: `Adam(loss, data, ...)`",
                )
            ]
        )
    term = _replaced(definition.term, values)
    checked = copy.copy(program.checked)
    checked.definitions = {
        **checked.definitions,
        name: dataclasses.replace(definition, term=term),
    }
    view = BaseProgram(checked, str(program.dtype), program.backend)
    view._params = program.params
    return view


def _step(term: T.Term) -> T.Train | None:
    """The training step a definition iterates, if it is one."""
    while True:
        if isinstance(term, T.Train):
            return term if term.spec.role is FamilyRole.STEP else None
        if isinstance(term, T.Ref) and term.body is not None:
            term = term.body
        elif isinstance(term, T.Power):
            term = term.base
        else:
            return None


def written_steps(term: T.Term) -> int | None:
    """The n of a definition written `step ^ n`, as `train` reads it; None for one step."""
    body = term.body if isinstance(term, T.Ref) else term
    return body.n if isinstance(body, T.Power) else None


def _replaced(term: T.Term, values: Mapping[str, float]) -> T.Term:
    """`term` with the step's hyperparameters set to `values` (the others kept)."""
    if isinstance(term, T.Train):
        hyper = tuple((key, values.get(key, value)) for key, value in term.hyper)
        written = {key for key, _ in term.hyper}
        hyper += tuple((key, value) for key, value in values.items() if key not in written)
        return dataclasses.replace(term, hyper=hyper)
    if isinstance(term, T.Ref) and term.body is not None:
        return dataclasses.replace(term, body=_replaced(term.body, values))
    assert isinstance(term, T.Power), "`_step` found the step through refs and powers"
    return dataclasses.replace(term, base=_replaced(term.base, values))


def _checked(
    name: str, optimizer: OptimizerSpec, overrides: Mapping[str, object], keywords: tuple[str, ...]
) -> dict:
    """The overrides as floats, each a hyperparameter of `optimizer` within its range."""
    from catdsl.typesys.hints import did_you_mean

    kinds = {h.name: h.kind for h in (*optimizer.hyper, *optimizer.options)}
    values: dict[str, float] = {}
    for key, value in overrides.items():
        if key not in kinds:
            hint = did_you_mean(key, [*kinds, *keywords])
            listed = ", ".join(f"`{k}`" for k in kinds)
            raise CatError(
                [
                    Diagnostic(
                        "E0820",
                        f"`{name}` trains with `{optimizer.name}`, which has no "
                        f"hyperparameter `{key}`",
                        help=hint or f"its hyperparameters: {listed}",
                    )
                ]
            )
        number = _number(value)
        if number is None or not kinds[key].admits(number):
            raise CatError(
                [
                    Diagnostic(
                        "E0821",
                        f"`{key} = {value!r}` is not a valid {kinds[key].value} for `{name}`",
                        help=kinds[key].bound_text,
                    )
                ]
            )
        whole = kinds[key] in (HyperKind.COUNT, HyperKind.SEED)
        values[key] = int(number) if whole else number  # `batch=16` as written, not 16.0
    return values


def _number(value: object) -> float | None:
    """A real number given as an int or float (not a bool, not NaN), else None."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return None
    number = float(value)
    return None if math.isnan(number) else number
