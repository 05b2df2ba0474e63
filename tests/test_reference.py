"""The fast plans against the reference interpreter: every definition and every law side of
every program, forward values and reverse-pass cotangents, compared bit for bit.

The reference (`semantics.reference`) walks the diagram box by box with no slots, aliasing,
hoisting or compiled plan, so any speed work on the plans is checked against it here. Both use
the same kernels and add fan-out cotangents in the same order, so equality is exact.
"""

from __future__ import annotations

import shutil
from glob import glob
from pathlib import Path

import numpy as np
import pytest
from conftest import REPO
from termkit import (
    P,
    adam_state,
    compile_diagram,
    functor,
    ident,
    momentum_state,
    pair,
    par,
    param,
    power,
    prim,
    real,
    seq,
    swap,
    tiny,
    train,
)

import catdsl
from catdsl.diagram.lower import lower
from catdsl.errors import CatRuntimeError
from catdsl.frontend.backends import kernel_table
from catdsl.frontend.program import Morphism
from catdsl.frontend.sampling import Sampler
from catdsl.semantics.reference import Reference

PROGRAM_FILES = sorted(glob(str(REPO / "programs" / "*.cat")))


def _cases() -> list[tuple[str, str]]:
    cases = []
    for path in PROGRAM_FILES:
        program = catdsl.load(path)
        names = [*program.names, *(f"law:{law}" for law in program.checked.laws)]
        cases += [(path, name) for name in names]
    return cases


CASES = _cases()


def _morphisms(program: catdsl.Program, name: str) -> list[Morphism]:
    """The definition, or both sides of a law."""
    if not name.startswith("law:"):
        return [program[name]]
    law = program.checked.laws[name[4:]]
    return [
        Morphism(program, f"{name} (left)", law.lhs),
        Morphism(program, f"{name} (right)", law.rhs),
    ]


def assert_identical(fast: object, slow: object, where: str) -> None:
    """Same structure, same dtypes, same bits (NaN equal to NaN)."""
    if isinstance(fast, dict):
        assert isinstance(slow, dict) and fast.keys() == slow.keys(), where
        for key in fast:
            assert_identical(fast[key], slow[key], f"{where}.{key}")
    elif isinstance(fast, tuple | list):
        assert isinstance(slow, tuple | list) and len(fast) == len(slow), where
        for k, (a, b) in enumerate(zip(fast, slow, strict=True)):
            assert_identical(a, b, f"{where}[{k}]")
    elif fast is None:
        assert slow is None, where
    else:
        a, b = np.asarray(fast), np.asarray(slow)
        assert a.dtype == b.dtype and a.shape == b.shape, (
            f"{where}: {a.dtype}{a.shape} vs {b.dtype}{b.shape}"
        )
        assert np.array_equal(a, b, equal_nan=a.dtype.kind in "fc"), f"{where}: {a} vs {b}"


def _is_real(value: object) -> bool:
    return isinstance(value, np.ndarray | np.floating) and np.asarray(value).dtype.kind == "f"


@pytest.mark.parametrize(("path", "name"), CASES, ids=[f"{Path(p).stem}:{n}" for p, n in CASES])
def test_plan_agrees_with_the_reference(path: str, name: str) -> None:
    check_definition(catdsl.load(path), name)


def test_the_benchmark_mlp_agrees_with_the_reference(tmp_path: Path) -> None:
    """`bench/mlp.cat` (three tanh layers, cross-entropy, SGD) on 32 random examples loaded
    from a file, as the benchmark runs it on 512."""
    rng = np.random.default_rng(0)
    np.savez(tmp_path / "mlp_data.npz", x=rng.standard_normal((32, 64)), y=rng.integers(0, 10, 32))
    shutil.copy(REPO / "bench" / "mlp.cat", tmp_path / "mlp.cat")
    program = catdsl.load(str(tmp_path / "mlp.cat"))
    for name in program.names:
        check_definition(program, name)


def check_definition(program: catdsl.Program, name: str) -> None:
    """A definition (or both sides of a law, `law:NAME`) on sampled inputs: same outputs, and
    the same cotangents for a random output cotangent."""
    reference = Reference(kernel_table(), program.dtype)
    for morphism in _morphisms(program, name):
        rng = np.random.default_rng(0)
        sampler = Sampler(rng, program.params)
        inputs = tuple(sampler.prod(morphism.dom))
        ports = {p.name: sampler.atom(p.atom) for p in morphism.term.ports if p.kind == "port"}
        params = program.params
        try:
            fast = program.backend.run(morphism.plan, inputs, ports, params)
        except CatRuntimeError:
            continue  # a sample the program rejects: the reference validates nothing
        slow = reference.run(morphism.diagram, inputs, ports, params)
        assert_identical(fast, slow, f"{morphism.name} outputs")

        cotangents = tuple(rng.normal(size=np.shape(y)) if _is_real(y) else None for y in fast)
        if all(c is None for c in cotangents):
            continue
        wrt = {"inputs", *ports, *(p.name for p in morphism.param_ports)}
        _, fast_grads = program.backend.vjp(morphism.plan, inputs, ports, params, cotangents, wrt)
        seeds = tuple(
            np.zeros(np.shape(y)) if c is None else c for c, y in zip(cotangents, fast, strict=True)
        )
        _, slow_grads = reference.vjp(morphism.diagram, inputs, ports, params, seeds, wrt)
        fast_inputs = fast_grads.pop("inputs")
        slow_inputs = slow_grads.pop("inputs")
        for k, (a, b) in enumerate(zip(fast_inputs, slow_inputs, strict=True)):
            if a is not None:  # the plan gives None for inputs no cotangent can reach
                assert_identical(a, b, f"{morphism.name} d input {k + 1}")
        assert_identical(fast_grads, slow_grads, f"{morphism.name} cotangents")


def test_every_program_has_cases() -> None:
    assert {Path(p).stem for p, _ in CASES} == {Path(p).stem for p in PROGRAM_FILES}


# ---------------------------------------------------------------- diagrams built from terms


def assert_agrees(term, inputs: tuple, params: dict, name: str = "term") -> None:
    """The plan of `term` and the reference agree on values and on every cotangent."""
    diagram = lower(term, name)
    plan = compile_diagram(diagram)
    reference = Reference(kernel_table())
    fast = plan.run(inputs, {}, params)
    assert_identical(fast, reference.run(diagram, inputs, {}, params), f"{name} outputs")
    rng = np.random.default_rng(1)
    cotangents = tuple(rng.normal(size=np.shape(y)) if _is_real(y) else None for y in fast)
    wrt = {"inputs", *params}
    outputs, tape = plan.forward(inputs, {}, params)
    seeds = tuple(
        np.zeros(np.shape(y)) if c is None else c for c, y in zip(cotangents, outputs, strict=True)
    )
    fast_grads = plan.backward(tape, seeds, wrt)
    _, slow_grads = reference.vjp(diagram, inputs, {}, params, seeds, wrt)
    for k, (a, b) in enumerate(
        zip(fast_grads.pop("inputs"), slow_grads.pop("inputs"), strict=True)
    ):
        if a is not None:
            assert_identical(a, b, f"{name} d input {k + 1}")
    assert_identical(fast_grads, slow_grads, f"{name} cotangents")


R3 = real(3)


def _mlp() -> tuple:
    rng = np.random.default_rng(3)
    W1, b1 = param("W1", real(3, 4)), param("b1", real(4))
    W2, b2 = param("W2", real(4, 2)), param("b2", real(2))
    mlp = seq(
        prim("affine", R3, real(4), args=("W1", "b1"), ports=(W1, b1), in_ranks=(1, 2, 1)),
        prim("tanh", real(4), real(4), in_ranks=(1,)),
        prim("affine", real(4), real(2), args=("W2", "b2"), ports=(W2, b2), in_ranks=(1, 2, 1)),
        prim("sigmoid", real(2), real(2), in_ranks=(1,)),
    )
    values = {
        "W1": rng.normal(size=(3, 4)),
        "b1": rng.normal(size=4),
        "W2": rng.normal(size=(4, 2)),
        "b2": rng.normal(size=2),
    }
    return mlp, values, rng


def test_list_functor_of_a_model_with_params() -> None:
    mlp, values, rng = _mlp()
    assert_agrees(functor("List", mlp), (rng.normal(size=(4, 3)),), values)
    loss = seq(par(mlp, ident(real(2))), prim("mse", (real(2), real(2)), real(), in_ranks=(1, 1)))
    assert_agrees(loss, (rng.normal(size=(5, 3)), rng.normal(size=(5, 2))), values)


def test_list_functor_over_products_and_the_option_functor() -> None:
    m = tiny()
    assert_agrees(seq(m.examples, functor("List", m.loss)), (), m.values)
    assert_agrees(
        functor("List", swap(m.TokenId, m.TokenId)), ((np.array([1, 2]), np.array([3, 4])),), {}
    )
    relu = functor("Option", prim("relu", R3, R3, in_ranks=(1,)))
    assert_agrees(relu, (np.array([-1.0, 1.0, 2.0]),), {})
    assert_agrees(relu, (None,), {})


def test_power_with_a_param_from_above() -> None:
    W = param("W", real(3, 3))
    layer = seq(
        prim("linear", R3, R3, args=("W",), ports=(W,), in_ranks=(1, 2)),
        prim("tanh", R3, R3, in_ranks=(1,)),
    )
    weights = {"W": np.random.default_rng(0).normal(size=(3, 3)) * 0.5}
    looped = seq(power(layer, 3), prim("sum", R3, real(), in_ranks=(1,)))
    assert_agrees(looped, (np.array([0.3, -0.2, 0.9]),), weights)


def test_fan_out_and_the_tiny_model() -> None:
    twice = seq(pair(ident(R3), ident(R3)), prim("add", (R3, R3), R3, in_ranks=(1, 1)))
    assert_agrees(twice, (np.array([1.0, 2.0, 3.0]),), {})
    m = tiny()
    assert_agrees(m.loss, (np.array([1, 2, 3, 4]), np.array([2, 3, 4, 1])), m.values, "loss")


@pytest.mark.parametrize("family", ["TrainStep", "Momentum", "Adam"])
def test_training_steps(family: str) -> None:
    """Five steps of each update rule on the tiny model, from its initialiser."""
    m = tiny()
    state = {"TrainStep": m.Params, "Momentum": momentum_state(m.Params)}.get(
        family, adam_state(m.Params)
    )
    init = {"TrainStep": "Init", "Momentum": "MomentumInit", "Adam": "AdamInit"}[family]
    step = train(family, m.loss, m.examples, hyper=(("lr", 0.05),), dom=state, cod=state)
    start = train(init, m.loss, None, dom=P(), cod=state)
    assert_agrees(seq(start, power(step, 5)), (), m.values, family)
