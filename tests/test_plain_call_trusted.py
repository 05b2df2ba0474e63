"""A plain call runs straight-line code, and once its source shapes have passed a validated
call, each kernel's `trusted_run`: the same bits as the validated, fully scanned run, and the
same errors, at the same boxes, when something goes wrong afterwards. Timings live in
`bench/transformer.py`, never here."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import TINY

import catdsl
from catdsl.diagram import schedule
from catdsl.semantics import straight
from catdsl.semantics.plan import RunContext
from catdsl.std import kernels

PROGRAM = """
import std.ml
dim T
dim D = 4
object Hidden : Real[D]
object Positive : Real[D] where positive
object Rows : Real[T, D]
param W : Real[D, D] = normal(0, 0.5, seed = 1)
param b : Real[D] = normal(0, 0.5, seed = 2)
morphism Lift : Hidden -> Hidden = linear(W)
morphism Keep : Hidden -> Positive = relu >> scale(c = 2.0)
let chain = linear(W) >> tanh >> affine(W, b) >> relu >> linear(W) >> tanh
morphism rows : Rows -> Rows = affine(W, b) >> tanh >> linear(W) >> relu
let pair = (linear(W) >> tanh) * (affine(W, b) >> relu)
let risky = linear(W) >> scale(c = 1e200) >> scale(c = 1e200) >> tanh >> linear(W)
let into_object = Lift >> Keep
let block = affine(W, b) >> tanh >> linear(W) >> relu >> affine(W, b) >> tanh
let twice = block >> block >> tanh
"""

X = np.array([0.3, -1.0, 2.0, 0.5])


@pytest.fixture(autouse=True, params=[0, 1], ids=["written-at-once", "written-second"])
def written_after(request, monkeypatch) -> int:
    """Plans written out from their first run, or from their second (the first runs the loop)."""
    monkeypatch.setattr(straight, "WRITE_AFTER", request.param)
    return request.param


def scanned(morphism, *inputs) -> tuple:
    """The fully scanned checked run: a NaN/inf scan after every box, kernels validating."""
    plan, params = morphism.plan, morphism.program.params
    values = plan.gather(inputs, {}, params)
    ctx = RunContext(True, {})
    plan.check_sources(values, ctx.dims)
    return plan.execute(values, ctx)


def same_bits(a: object, b: object) -> bool:
    if isinstance(a, dict):
        return (
            isinstance(b, dict) and a.keys() == b.keys() and all(same_bits(a[k], b[k]) for k in a)
        )
    if isinstance(a, tuple):
        return isinstance(b, tuple) and len(a) == len(b) and all(map(same_bits, a, b))
    a, b = np.asarray(a), np.asarray(b)
    return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()


@pytest.mark.parametrize("name", ["chain", "pair", "into_object", "twice"])
def test_validated_then_trusted_calls_give_the_scanned_bits(name: str) -> None:
    program = catdsl.loads(PROGRAM)
    f = program[name]
    x = (X, -X) if name == "pair" else X
    if name == "into_object":  # x · W = 1, 2, 3, 4: positive after relu
        x = np.linalg.solve(program.params["W"].T, np.arange(1.0, 5.0))
    inputs = x if name == "pair" else (x,)
    expected = scanned(f, *inputs)
    want = expected[0] if len(expected) == 1 else tuple(expected)
    first = f(*inputs)  # validated: the kernels check, the flags watch
    assert f.plan._validated  # this layout may now run trusted
    second, third = f(*inputs), f(*inputs)
    assert same_bits(first, want) and same_bits(second, want) and same_bits(third, want)


def test_the_kernels_that_run_trusted_compute_as_their_forward() -> None:
    rng = np.random.default_rng(3)
    x, w, b = rng.standard_normal((5, 4)), rng.standard_normal((4, 3)), rng.standard_normal(3)
    cases = [
        (kernels.Linear((1, 2)), (x, w)),
        (kernels.Affine((1, 2, 1)), (x, w, b)),
        (kernels.Tanh((1,)), (x,)),
        (kernels.Relu((1,)), (np.array([-0.0, 0.0, -1.0, 2.0, np.inf]),)),
    ]
    assert [k.validates for k, _ in cases] == [True, True, False, False]  # shape checks only
    for kernel, xs in cases:
        assert kernel.trusted_run is not None
        assert same_bits(kernel.trusted_run(*xs), kernel.forward(*xs)[0][0])


def test_a_new_length_of_a_free_dim_is_validated_again() -> None:
    program = catdsl.loads(PROGRAM)
    f = program["rows"]
    rng = np.random.default_rng(0)
    for t in (3, 3, 5, 5, 3):
        x = rng.standard_normal((t, 4))
        assert same_bits(f(x), scanned(f, x)[0])
    assert len(f.plan._validated) == 2  # one layout per length


def test_an_overflow_after_validation_is_still_named_at_its_box() -> None:
    program = catdsl.loads(PROGRAM)
    f = program["risky"]
    assert same_bits(f(np.zeros(4)), np.zeros(4))  # 0 · 1e200 overflows nothing: validated
    assert f.plan._validated
    with pytest.raises(catdsl.CatError) as info:
        f(X)
    (d,) = info.value.diagnostics
    assert d.code == "R0415" and d.message == "`scale(1e200)` produced an infinite value"
    assert d.span is not None and d.span.column == 46  # the second scale (the first is at 26)


def test_an_object_refused_after_validation_is_still_reported() -> None:
    program = catdsl.loads(PROGRAM)
    f = program["into_object"]
    f(np.linalg.solve(program.params["W"].T, np.arange(1.0, 5.0)))
    assert f.plan._validated
    with pytest.raises(catdsl.CatError) as info:
        f(np.zeros(4))
    (d,) = info.value.diagnostics
    assert d.code == "R0414" and "`positive`" in d.message


def test_a_trusted_kernel_that_fails_is_explained_by_the_checked_rerun(monkeypatch) -> None:
    program = catdsl.loads(PROGRAM)
    f = program["chain"]
    want = f(X)

    refused = []

    def refuses(*xs: object) -> object:
        refused.append(xs)
        raise ValueError("what validation would have refused")

    monkeypatch.setattr(f.plan.instrs[1].op, "trusted_run", refuses)
    f.plan.__dict__.pop("_straight_trusted", None)  # written out, with the refusing kernel
    assert same_bits(f(X), want)  # the validating rerun computes it
    assert len(refused) == 1


def test_shared_definitions_run_straight_and_trusted_as_inlined(monkeypatch) -> None:
    inlined = catdsl.loads(PROGRAM)["twice"]
    want = inlined(X)
    monkeypatch.setattr(schedule, "INLINE_LIMIT", 0)  # every ref used twice is invoked
    shared = catdsl.loads(PROGRAM)["twice"]
    assert any(type(i.op).__name__ == "InvokeOp" for i in shared.plan.instrs)
    for _ in range(3):
        assert same_bits(shared(X), want)


def test_plans_too_long_to_write_out_keep_the_loop(monkeypatch) -> None:
    program = catdsl.loads(PROGRAM)
    want = program["chain"](X)
    monkeypatch.setattr(straight, "MAX_LINES", 2)
    f = catdsl.loads(PROGRAM)["chain"]
    assert f.plan._straight_checked is None and f.plan._straight_trusted is None
    assert same_bits(f(X), want) and same_bits(f(X), want)


def test_every_point_of_the_course_program_gives_the_same_bits_twice() -> None:
    program = catdsl.load(TINY)
    for name in program.names:
        f = program[name]
        if len(f.dom) or f.ports:
            continue
        expected = scanned(f)
        want = expected[0] if len(expected) == 1 else tuple(expected)
        assert same_bits(f(), want) and same_bits(f(), want), name


def test_a_plan_runs_the_loop_until_it_has_run_a_few_times(monkeypatch) -> None:
    monkeypatch.setattr(straight, "WRITE_AFTER", 3)
    f = catdsl.loads(PROGRAM)["chain"]
    results = [f(X) for _ in range(5)]
    assert "_straight_trusted" in f.plan.__dict__ and "_straight_checked" not in f.plan.__dict__
    assert all(same_bits(r, results[0]) for r in results)


NOMINAL = """
import std.ml
object S : Real
object P : Real where positive
morphism F : S -> S = tanh
morphism G : S -> P = tanh >> relu >> scale(c = 2.0)
let g = F >> F >> F
let h = F >> G
"""


def test_layout_checks_are_skipped_once_trusted_and_predicates_never(monkeypatch) -> None:
    from catdsl.semantics import ops

    seen: list[int] = []
    original = ops.CheckOp.run

    def counted(self, ctx, *xs):
        seen.append(len(xs))
        return original(self, ctx, *xs)

    monkeypatch.setattr(ops.CheckOp, "run", counted)
    monkeypatch.setattr(straight, "WRITE_AFTER", 0)
    program = catdsl.loads(NOMINAL)
    g, h = program["g"], program["h"]
    x = np.array([0.5, 2.0])
    want = scanned(g, x)[0]
    seen.clear()
    assert same_bits(g(x), want)
    validating = len(seen)
    assert validating > 0  # the first run checks each value entering `S`
    assert same_bits(g(x), want) and same_bits(g(x), want)
    assert len(seen) == validating  # then the layout and the flags stand for those checks
    h(x)
    seen.clear()
    with pytest.raises(catdsl.CatError) as info:
        h(-x)  # tanh < 0, relu 0: not positive; `P`'s predicate is checked on every run
    assert info.value.diagnostics[0].code == "R0414"


def test_which_objects_a_validated_layout_covers() -> None:
    from catdsl.semantics.invariants import layout_only

    program = catdsl.loads(NOMINAL + "dim V = 3\nobject Tok : Index[V]\nobject Dist : Simplex[V]\n")
    objects = program.checked.objects
    assert layout_only(objects["S"]) and not layout_only(objects["P"])
    assert not layout_only(objects["Tok"]) and not layout_only(objects["Dist"])
