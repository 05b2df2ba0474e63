"""Hostile input: definitions shared instead of inlined, deep chains of definitions, and the
limits of `draw`. Timings are measured in `bench/sharing_scaling.py`, never here; these tests
count steps and compare values."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from diagram_kit import needs_dot
from test_cli import cli

import catdsl
from catdsl.diagram import depth, schedule
from catdsl.diagram.schedule import Invoke, Loop, Map, Schedule, Train
from catdsl.frontend.backends import kernel_table
from catdsl.render import dot, output
from catdsl.semantics.reference import Reference


def doubling(levels: int, prim: str = "tanh") -> str:
    """`a_i = a_(i-1) >> a_(i-1)`: a text of `levels` lines whose inlined form has 2^levels
    boxes."""
    lines = ["import std.ml", f"morphism a0 : Real -> Real = {prim}"]
    lines += [f"let a{i} = a{i - 1} >> a{i - 1}" for i in range(1, levels + 1)]
    return "\n".join(lines) + "\n"


def chain(n: int) -> str:
    """`c_i = c_(i-1) >> tanh`, n definitions deep."""
    lines = ["import std.ml", "morphism c0 : Real -> Real = tanh"]
    lines += [f"let c{i} = c{i - 1} >> tanh" for i in range(1, n)]
    return "\n".join(lines) + "\n"


SHARED = """
import std.ml
dim D = 3
param W : Real[D, D] = course_init(seed = 1, scale = 0.5)
param b : Real[D] = course_init(seed = 2, scale = 0.5)
let layer = affine(W, b) >> tanh
let block = <layer, layer >> layer> >> add
let twice = block >> block
let net = <twice, twice >> block> >> add >> twice
"""


def schedules(root: Schedule) -> Iterator[Schedule]:
    """Every distinct schedule reachable from `root` (itself included), each once."""
    seen, todo = {id(root)}, [root]
    while todo:
        sched = todo.pop()
        yield sched
        for step in sched.steps:
            subs: tuple[Schedule | None, ...] = ()
            if isinstance(step, Invoke | Loop | Map):
                subs = (step.body,)
            elif isinstance(step, Train):
                subs = (step.loss, step.data)
            for sub in subs:
                if sub is not None and id(sub) not in seen:
                    seen.add(id(sub))
                    todo.append(sub)


def total_steps(text: str, name: str) -> int:
    program = catdsl.loads(text)
    return sum(len(s.steps) for s in schedules(schedule.schedule(program[name].diagram)))


def test_the_doubling_file_schedules_in_steps_linear_in_its_text() -> None:
    counts = {n: total_steps(doubling(n), f"a{n}") for n in (12, 16, 20)}
    assert counts[20] < 4 * schedule.INLINE_LIMIT  # not 2^20
    assert counts[20] - counts[16] == counts[16] - counts[12] <= 4 * 2


def test_the_doubling_file_runs_as_its_inlined_form() -> None:
    text = doubling(12)
    shared = catdsl.loads(text)["a12"](0.5)
    inlined = catdsl.loads(text)["a12"]
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(schedule, "INLINE_LIMIT", 10**9)
        assert not any(isinstance(s, Invoke) for s in schedule.schedule(inlined.diagram).steps)
        value = inlined(0.5)
    assert np.asarray(shared).tobytes() == np.asarray(value).tobytes()


def _plan_vjp(limit: int, name: str) -> tuple:
    """The values and cotangents of `name` of SHARED with refs over `limit` steps invoked."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(schedule, "INLINE_LIMIT", limit)
        program = catdsl.loads(SHARED)
        morphism = program[name]
        x = np.array([0.3, -0.2, 0.7])
        invoked = [s for s in morphism.plan.instrs if type(s.op).__name__ == "InvokeOp"]
        outputs, grads = program.backend.vjp(
            morphism.plan, (x,), {}, program.params, (np.ones(3),), {"inputs", "W", "b"}
        )
    return invoked, outputs, grads, program, morphism, x


@pytest.mark.parametrize("name", ["block", "twice", "net"])
def test_shared_and_inlined_values_and_cotangents_agree_exactly(name: str) -> None:
    invoked, shared_out, shared_grads, *_ = _plan_vjp(0, name)
    assert invoked  # the sub-plans are really called
    none, inlined_out, inlined_grads, *_ = _plan_vjp(10**9, name)
    assert not none
    for a, b in zip(shared_out, inlined_out, strict=True):
        assert a.tobytes() == b.tobytes()
    for key in ("W", "b"):
        assert shared_grads[key].tobytes() == inlined_grads[key].tobytes()
    assert shared_grads["inputs"][0].tobytes() == inlined_grads["inputs"][0].tobytes()


def test_the_vjp_through_a_shared_definition_equals_the_reference() -> None:
    _, outputs, grads, program, morphism, x = _plan_vjp(0, "net")
    reference = Reference(kernel_table())
    ref_out, ref_grads = reference.vjp(
        morphism.diagram, (x,), {}, program.params, (np.ones(3),), {"inputs", "W", "b"}
    )
    np.testing.assert_array_equal(outputs[0], ref_out[0])
    for key in ("W", "b"):
        np.testing.assert_array_equal(grads[key], ref_grads[key])
    np.testing.assert_array_equal(grads["inputs"][0], ref_grads["inputs"][0])


def test_training_through_a_shared_definition_matches_the_inlined_one() -> None:
    text = SHARED + (
        "let loss : Real[D] -> Real = net >> sum\n"
        "data xs : List[Real[D]] = [[0.1, 0.2, 0.3], [0.3, -0.1, 0.5]]\n"
        "let step = TrainStep(loss, xs, lr = 0.1)\n"
        "let trained = Init(loss) >> step ^ 3 >> MeanLoss(loss, xs)\n"
    )
    values = []
    for limit in (0, 10**9):
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(schedule, "INLINE_LIMIT", limit)
            values.append(np.asarray(catdsl.loads(text)["trained"](None)).tobytes())
    assert values[0] == values[1]


def test_a_chain_of_a_thousand_definitions_runs_and_draws(capsys, tmp_path: Path) -> None:
    path = tmp_path / "chain.cat"
    path.write_text(chain(1000))
    expected = 0.5
    for _ in range(1000):
        expected = np.tanh(expected)
    assert catdsl.load(str(path))["c999"](0.5) == pytest.approx(expected, rel=1e-12)
    code, _, err = cli(capsys, "draw", path, "c999", "-o", tmp_path / "c.dot")
    assert code == 0, err
    assert (tmp_path / "c.dot").exists()
    code, _, err = cli(capsys, "draw", path, "-o", tmp_path / "all.dot")  # every definition
    assert code == 0, err
    assert (tmp_path / "all.dot").read_text().count("c999 : Real -> Real") == 1


def test_a_thousand_nested_invoked_plans_run_and_differentiate(monkeypatch) -> None:
    monkeypatch.setattr(schedule._Scheduler, "inlines", lambda self, sub: False)
    morphism = catdsl.loads(chain(1000))["c999"]
    assert morphism.plan.nesting > 999  # every use invoked: plans calling plans
    expected = 0.5
    for _ in range(1000):
        expected = np.tanh(expected)
    assert morphism(0.5) == pytest.approx(expected, rel=1e-12)
    assert np.isfinite(morphism.vjp(0.5, 1.0)["inputs"][0])


def test_deeper_than_the_recursion_limit_is_r0105(capsys, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(depth, "RECURSION_LIMIT", 200)
    path = tmp_path / "chain.cat"
    path.write_text(chain(300))
    code, _, err = cli(capsys, "run", path, "c299", "--input", "0.5")
    assert code == 1 and "R0105" in err, err


def test_a_drawing_too_large_is_r0703(capsys, tmp_path: Path) -> None:
    path = tmp_path / "product.cat"
    path.write_text("import std.ml\nlet p = " + " * ".join(["tanh"] * 5000) + "\n")
    code, _, err = cli(capsys, "draw", path, "p", "-o", tmp_path / "p.dot")
    assert code == 2 and "R0703" in err and "-o DIR/" in err, err
    assert not (tmp_path / "p.dot").exists()


def test_expanding_a_doubling_file_is_bounded(capsys, tmp_path: Path) -> None:
    path = tmp_path / "doubling.cat"
    path.write_text(doubling(20))
    code, _, err = cli(capsys, "draw", path, "a20", "--expand", "30", "-o", tmp_path / "a.dot")
    assert code == 2 and "R0703" in err, err
    code, _, err = cli(capsys, "draw", path, "a20", "--expand", "3", "-o", tmp_path / "a.dot")
    assert code == 0, err


def test_expanding_too_many_levels_is_r0703(capsys, tmp_path: Path) -> None:
    path = tmp_path / "chain.cat"
    path.write_text(chain(dot.FRAME_LIMIT + 10))
    name = f"c{dot.FRAME_LIMIT + 9}"
    code, _, err = cli(capsys, "draw", path, name, "--expand", "1000", "-o", tmp_path / "c.dot")
    assert code == 2 and "R0703" in err and "nests too deeply" in err, err


def test_unrolling_a_huge_power_draws_a_few_copies(capsys, tmp_path: Path) -> None:
    path = tmp_path / "power.cat"
    path.write_text("import std.ml\nlet f = (tanh ^ 1000 >> tanh) ^ 1000000000000\n")
    code, _, err = cli(capsys, "draw", path, "f", "--unroll", "-o", tmp_path / "f.dot")
    assert code == 0, err
    assert "999999999996 more" in (tmp_path / "f.dot").read_text()


@needs_dot
def test_graphviz_has_a_time_limit(capsys, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(output, "GRAPHVIZ_SECONDS", 1e-4)
    path = tmp_path / "chain.cat"
    path.write_text(chain(40))
    code, _, err = cli(capsys, "draw", path, "c39", "--expand", "40", "-o", tmp_path / "c.svg")
    assert code == 2 and "R0704" in err, err
