"""The contract of the torch backend: every program gives the numpy backend's numbers on it.

For every program of programs/ (the top level, the Transformer's and the sketches; not the
error goldens, nor the plugin example, whose primitive has no torch rule), both backends in
float64 on the CPU:

- every runnable definition, on sampled inputs, gives the same outputs, or fails with the same
  code; and its reverse derivative (the cotangents of its inputs, ports and params for a random
  output cotangent) is the same, to 1e-12;
- every training step trains (two steps from the initial params) to the same params, losses
  and state, to 1e-12. A definition that runs a step many times (`step ^ 200`) is such a run:
  its step is checked here, in two steps, rather than the whole run.

Every primitive has a torch rule (tests/test_torch_rules.py), so a case that meets none (R0810)
fails, naming the primitive, as does every other difference.
"""

from __future__ import annotations

import functools

import numpy as np
import pytest
from conftest import REPO

import catdsl
from catdsl.diagram.ir import Diagram, FunctorBox, PowerBox, RefBox
from catdsl.diagram.schedule import schedule
from catdsl.frontend.sampling import Sampler
from catdsl.semantics.training import find_train_box

torch = pytest.importorskip("torch")

pytestmark = pytest.mark.torch

FILES = sorted(
    str(p.relative_to(REPO))
    for pattern in ("programs/*.cat", "programs/transformer/*.cat", "programs/sketches/*.cat")
    for p in REPO.glob(pattern)
)
MODULES = ["programs/transformer/block.cat"]
"""Files that are imported, not run: their dims and params are the importer's."""
PROGRAMS = [path for path in FILES if path not in MODULES]
TOLERANCE = 1e-12


@functools.cache
def checked(path: str) -> catdsl.Program:
    """The program on numpy, loaded once (for listing and sampling: never trained)."""
    return catdsl.load(str(REPO / path))


LONG_RUN = 3
"""A definition that iterates a training step more often than this is a training run: its
step is checked by `test_training_runs_agree` (two steps) instead of running it in full."""


def trains_long(diagram: Diagram) -> bool:
    """Whether `diagram` iterates a training step more than `LONG_RUN` times (`step ^ 200`)."""
    for box in diagram.boxes():
        match box:
            case PowerBox(sub=sub) if box.n > LONG_RUN and find_train_box(sub) is not None:
                return True
            case RefBox(sub=Diagram() as sub) | PowerBox(sub=sub) | FunctorBox(sub=sub):
                if trains_long(sub):
                    return True
    return False


ALL_DEFINITIONS = [(path, name) for path in PROGRAMS for name in checked(path).names]
DEFINITIONS = [
    (path, name) for path, name in ALL_DEFINITIONS if not trains_long(checked(path)[name].diagram)
]


def load_both(path: str) -> tuple[catdsl.Program, catdsl.Program]:
    """The program on each backend, freshly loaded (training changes a program's params)."""
    return catdsl.load(str(REPO / path)), catdsl.load(str(REPO / path), backend="torch")


@functools.cache
def shared_pair(path: str) -> tuple[catdsl.Program, catdsl.Program]:
    """The program on each backend, loaded once for the tests that only run it."""
    return checked(path), catdsl.load(str(REPO / path), backend="torch")


def fail_without_rule(error: catdsl.CatError | catdsl.CatRuntimeError) -> None:
    """Every primitive has a torch rule, so a missing one (R0810) fails the case; any other
    error returns, for the case to compare with numpy's."""
    diagnostic = error.first if isinstance(error, catdsl.CatError) else error.diagnostic
    if diagnostic.code == "R0810":
        pytest.fail(f"R0810: {diagnostic.message}")


def code_of(error: catdsl.CatError | catdsl.CatRuntimeError) -> str:
    return error.first.code if isinstance(error, catdsl.CatError) else error.diagnostic.code


def assert_same(expected: object, got: object, where: str = "value") -> None:
    """Equal structure, shapes and dtypes; floats to 1e-12, the rest exactly."""
    if isinstance(expected, dict):
        assert isinstance(got, dict) and expected.keys() == got.keys(), where
        for key in expected:
            assert_same(expected[key], got[key], f"{where}.{key}")
        return
    if isinstance(expected, tuple | list):
        assert isinstance(got, tuple | list) and len(got) == len(expected), where
        for i, (a, b) in enumerate(zip(expected, got, strict=True)):
            assert_same(a, b, f"{where}[{i}]")
        return
    if expected is None:
        assert got is None, where
        return
    a, b = np.asarray(expected), np.asarray(got)
    assert a.shape == b.shape and a.dtype == b.dtype, (where, a.shape, b.shape, a.dtype, b.dtype)
    if a.dtype.kind == "f":
        np.testing.assert_allclose(b, a, rtol=TOLERANCE, atol=TOLERANCE, err_msg=where)
    else:
        np.testing.assert_array_equal(b, a, err_msg=where)


def real_cotangent(value: object, rng: np.random.Generator) -> object:
    """A random cotangent for every real array of an output (None for the rest)."""
    if isinstance(value, dict):
        return {k: real_cotangent(v, rng) for k, v in value.items()}
    if isinstance(value, tuple):
        return tuple(real_cotangent(v, rng) for v in value)
    if isinstance(value, np.ndarray) and value.dtype.kind == "f":
        return rng.normal(size=value.shape)
    return None


@pytest.mark.parametrize(("path", "name"), DEFINITIONS)
def test_values_and_gradients_agree(path: str, name: str) -> None:
    numpy_program, torch_program = shared_pair(path)
    morphism = numpy_program[name]
    sampler = Sampler(np.random.default_rng(0), numpy_program.params)
    inputs = tuple(sampler.atom(a) for a in morphism.diagram.dom.atoms)
    sources = schedule(morphism.diagram).sources
    ports = {s.name: sampler.atom(s.atom) for s in sources if s.kind == "port"}
    params = numpy_program.params
    try:
        torch_plan = torch_program[name].plan
    except catdsl.CatError as error:
        fail_without_rule(error)
        raise
    outcomes = []
    for program, plan in ((numpy_program, morphism.plan), (torch_program, torch_plan)):
        try:
            outcomes.append(program.backend.run(plan, inputs, ports, params))
        except catdsl.CatRuntimeError as error:
            fail_without_rule(error)
            outcomes.append(code_of(error))
    expected, got = outcomes
    if isinstance(expected, str) or isinstance(got, str):
        assert got == expected  # the same error code on both
        return
    assert_same(expected, got, f"the outputs of `{name}`")
    rng = np.random.default_rng(1)
    cotangents = tuple(real_cotangent(y, rng) for y in expected)
    wrt = {"inputs", *(s.name for s in sources)}
    results = []
    for program, plan in ((numpy_program, morphism.plan), (torch_program, torch_plan)):
        results.append(program.backend.vjp(plan, inputs, ports, params, cotangents, wrt))
    (outputs_np, grads_np), (outputs_torch, grads_torch) = results
    assert_same(outputs_np, outputs_torch, f"the outputs of `{name}` (reverse pass)")
    assert_same(grads_np, grads_torch, f"the cotangents of `{name}`")


def _training_steps() -> list[tuple[str, str]]:
    from catdsl.frontend.training_run import _step_and_count
    from catdsl.typesys.types import Record

    found = []
    for path, name in ALL_DEFINITIONS:
        term, _ = _step_and_count(checked(path)[name])
        dom = term.dom
        if term.is_endo and len(dom) == 1 and isinstance(dom.atoms[0], Record):
            found.append((path, name))
    return found


@pytest.mark.parametrize(("path", "name"), _training_steps())
def test_training_runs_agree(path: str, name: str) -> None:
    """Two steps from the initial params; a step that cannot start from them alone (a
    `TrainingState` owns its rate: R0605) fails with the same code on torch."""
    numpy_program, torch_program = load_both(path)
    try:
        expected = numpy_program.train(name, steps=2)
    except catdsl.CatError as error:
        expected_code = code_of(error)
        with pytest.raises(catdsl.CatError) as info:
            torch_program.train(name, steps=2)
        assert code_of(info.value) == expected_code
        return
    try:
        got = torch_program.train(name, steps=2)
    except catdsl.CatError as error:
        fail_without_rule(error)
        raise
    assert got.steps == expected.steps == 2
    assert_same(expected.params, got.params, f"the params trained by `{name}`")
    assert_same(expected.state, got.state, f"the state trained by `{name}`")
    np.testing.assert_allclose(got.losses, expected.losses, rtol=TOLERANCE, atol=TOLERANCE)
    assert abs(got.final_loss - expected.final_loss) <= TOLERANCE * max(1, abs(expected.final_loss))


def test_every_program_is_covered() -> None:
    """The transformer's programs and the sketches are among them, the error goldens not."""
    assert "programs/transformer/course.cat" in PROGRAMS  # it imports block.cat
    assert "programs/transformer/wide.cat" in PROGRAMS
    for module in MODULES:
        with pytest.raises(catdsl.CatError):
            catdsl.load(str(REPO / module))  # not a program by itself
    assert "programs/sketches/orders.cat" in PROGRAMS
    assert not any(p.startswith("programs/errors") for p in PROGRAMS)
    assert len(_training_steps()) >= 5
    long_runs = {(p, n) for p, n in ALL_DEFINITIONS} - set(DEFINITIONS)
    assert ("programs/transformer/reverse.cat", "trained") in long_runs
    assert ("programs/tiny_ml.cat", "loss_before") not in long_runs
