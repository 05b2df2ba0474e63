"""The interpreter's fast paths compute what the plain paths compute, to the bit in float64.

Covered: the `bincount` scatter of `lookup`'s VJP, the flat-position gather and scatter of
`nll` / `cross_entropy`, every kernel's `trusted_forward` against its validating `forward`,
`affine`'s VJP without the input cotangent, the training objective's trusted passes (and its
re-validation when the params' shapes change), the errors of diverging training, and the
reverse plan kept for a repeated request.
"""

from __future__ import annotations

import numpy as np
import pytest
from conftest import TINY_TEXT
from termkit import compile_diagram

import catdsl
from catdsl.errors import CatError, CatRuntimeError
from catdsl.semantics.loop import LoopHooks
from catdsl.semantics.training import initial_state, run_steps
from catdsl.std.kernels import (
    SMALL_SCATTER,
    gather_last,
    gather_picked,
    scatter_last,
    scatter_picked,
    scatter_rows,
)
from catdsl.std.library import make_kernel

RNG = np.random.default_rng(7)

# ---------------------------------------------------------------- lookup's scatter


def add_at(indices: np.ndarray, rows: np.ndarray, shape: tuple, dtype) -> np.ndarray:
    grad = np.zeros(shape, dtype=dtype)
    np.add.at(grad, indices, rows)
    return grad


@pytest.mark.parametrize("count", [3, 40, 400, 5000])
@pytest.mark.parametrize("table_shape", [(6,), (6, 4), (6, 3, 2)])
@pytest.mark.parametrize("index_shape", ["flat", "matrix"])
def test_scatter_rows_is_add_at_to_the_bit(count, table_shape, index_shape):
    shape = (count,) if index_shape == "flat" else (count, 2)
    indices = RNG.integers(0, table_shape[0], shape)  # many repeats
    rows = RNG.normal(size=(*shape, *table_shape[1:]))
    got = scatter_rows(indices, rows, table_shape, np.dtype(np.float64))
    want = add_at(indices, rows, table_shape, np.float64)
    assert got.dtype == np.float64 and got.shape == table_shape
    np.testing.assert_array_equal(got, want)


def test_scatter_rows_covers_both_strategies():
    small = RNG.integers(0, 5, 2)
    large = RNG.integers(0, 5, SMALL_SCATTER)
    for indices in (small, large):
        rows = RNG.normal(size=(len(indices), 4))
        got = scatter_rows(indices, rows, (5, 4), np.dtype(np.float64))
        np.testing.assert_array_equal(got, add_at(indices, rows, (5, 4), np.float64))


def test_scatter_rows_in_float32_keeps_the_dtype():
    indices = RNG.integers(0, 7, 3000)
    rows = RNG.normal(size=(3000, 5)).astype(np.float32)
    got = scatter_rows(indices, rows, (7, 5), np.dtype(np.float32))
    assert got.dtype == np.float32
    want = add_at(indices, rows.astype(np.float64), (7, 5), np.float64)
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-4)


def test_scatter_rows_broadcasts_a_cotangent_like_add_at():
    indices = RNG.integers(0, 4, 300)
    row = np.broadcast_to(RNG.normal(size=3), (300, 3))  # a read-only, stride-0 cotangent
    got = scatter_rows(indices, row, (4, 3), np.dtype(np.float64))
    np.testing.assert_array_equal(got, add_at(indices, row, (4, 3), np.float64))


def test_lookup_gradient_with_repeated_tokens():
    kernel = make_kernel("lookup", {}, (0, 2))
    table = RNG.normal(size=(5, 3))
    tokens = np.array([[1, 1, 4], [1, 0, 4]])
    (rows,), residual = kernel.forward(tokens, table)
    np.testing.assert_array_equal(rows, table[tokens])
    dy = RNG.normal(size=rows.shape)
    _, grad = kernel.vjp(residual, dy)
    np.testing.assert_array_equal(grad, add_at(tokens, dy, (5, 3), np.float64))


# ---------------------------------------------------------------- nll / cross_entropy picking


@pytest.mark.parametrize("lead", [(), (4,), (2, 3)])
@pytest.mark.parametrize("index_dtype", [np.int64, np.int32, np.uint8])
def test_gather_and_scatter_by_flat_positions(lead, index_dtype):
    values = RNG.normal(size=(*lead, 5))
    indices = RNG.integers(0, 5, lead).astype(index_dtype)
    picked, positions = gather_picked(values, indices)
    assert positions is not None
    np.testing.assert_array_equal(picked, gather_last(values, indices))
    local = RNG.normal(size=lead)
    np.testing.assert_array_equal(
        scatter_picked(local, positions, indices, values.shape),
        scatter_last(local, indices, 5),
    )


def test_gather_with_broadcast_batch_axes_takes_the_general_path():
    values = RNG.normal(size=(3, 5))  # one row of distributions, targets for 2 × 3 positions
    indices = RNG.integers(0, 5, (2, 3))
    picked, positions = gather_picked(values, indices)
    assert positions is None
    np.testing.assert_array_equal(picked, gather_last(values, indices))
    local = RNG.normal(size=(2, 3))
    grad = scatter_picked(local, positions, indices, values.shape)
    np.testing.assert_array_equal(grad, scatter_last(local, indices, 5).sum(axis=0))


def test_nll_gradient_is_zero_where_the_clamp_binds():
    kernel = make_kernel("nll", {}, (1, 0))
    probs = np.array([[0.5, 0.5, 0.0], [1e-12, 0.5, 0.5 - 1e-12]])
    (loss,), residual = kernel.forward(probs, np.array([1, 0]))
    np.testing.assert_array_equal(loss, [-np.log(0.5), -np.log(1e-9)])
    grad, none = kernel.vjp(residual, np.array([1.0, 1.0]))
    assert none is None
    np.testing.assert_array_equal(grad, [[0.0, -2.0, 0.0], [0.0, 0.0, 0.0]])


# ---------------------------------------------------------------- trusted forwards


def real(*shape: int) -> np.ndarray:
    return RNG.normal(size=shape)


def probs(*shape: int) -> np.ndarray:
    e = np.exp(real(*shape))
    return e / e.sum(axis=-1, keepdims=True)


TRUSTED = {
    "lookup": ((0, 2), lambda b: [RNG.integers(0, 5, b), real(5, 3)]),
    "affine": ((1, 2, 1), lambda b: [real(*b, 3), real(3, 4), real(4)]),
    "linear": ((1, 2), lambda b: [real(*b, 3), real(3, 2)]),
    "add": ((1, 1), lambda b: [real(*b, 3), real(*b, 3)]),
    "add_scalar": ((1, 0), lambda b: [real(*b, 3), real(*b)]),
    "mul": ((2, 2), lambda b: [real(*b, 2, 3), real(*b, 2, 3)]),
    "residual": ((2, 2), lambda b: [real(*b, 2, 3), real(*b, 2, 3)]),
    "softmax": ((1,), lambda b: [real(*b, 4)]),
    "log_softmax": ((1,), lambda b: [real(*b, 4)]),
    "nll": ((1, 0), lambda b: [probs(*b, 4), RNG.integers(0, 4, b)]),
    "cross_entropy": ((1, 0), lambda b: [real(*b, 4), RNG.integers(0, 4, b)]),
    "readout": ((2, 2, 1), lambda b: [real(*b, 2, 3), real(3, 4), real(4)]),
}


@pytest.mark.parametrize("case", sorted(TRUSTED))
@pytest.mark.parametrize("batch", [(), (2,), (2, 3)])
def test_trusted_forward_and_its_vjp_match_the_checked_ones(case, batch):
    in_ranks, build = TRUSTED[case]
    name = case.removesuffix("_scalar")
    kernel = make_kernel(name, {}, in_ranks)
    inputs = build(batch)
    outs, residual = kernel.forward(*inputs)
    trusted_outs, trusted_residual = kernel.trusted_forward(*inputs)
    for got, want in zip(trusted_outs, outs, strict=True):
        np.testing.assert_array_equal(got, want)
    dys = [RNG.normal(size=np.shape(y)) for y in outs]
    for got, want in zip(
        kernel.vjp(trusted_residual, *dys), kernel.vjp(residual, *dys), strict=True
    ):
        assert (got is None) == (want is None)
        if want is not None:
            np.testing.assert_array_equal(got, want)


def test_cross_entropy_gradient_keeps_the_wider_cotangent_dtype():
    kernel = make_kernel("cross_entropy", {}, (1, 0))
    logits, target = real(3, 4).astype(np.float32), np.array([0, 3, 1])
    (_,), residual = kernel.trusted_forward(logits, target)
    dy = RNG.normal(size=3)
    grad, _ = kernel.vjp(residual, dy)
    probs = residual[-1]
    assert grad.dtype == np.float64
    np.testing.assert_array_equal(grad, dy[:, None] * (probs - np.eye(4)[target]))


def test_softmax_is_computed_as_before():
    logits = real(6, 5)
    shifted = logits - logits.max(axis=-1, keepdims=True)
    lse = np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
    (got,), _ = make_kernel("softmax", {}, (1,)).trusted_forward(logits)
    np.testing.assert_array_equal(got, np.exp(shifted - lse))


def test_affine_vjp_without_the_input_cotangent():
    kernel = make_kernel("affine", {}, (1, 2, 1))
    x, weight, bias = real(2, 3, 4), real(4, 5), real(5)
    (y,), residual = kernel.forward(x, weight, bias)
    dy = RNG.normal(size=y.shape)
    full = kernel.vjp(residual, dy)
    assert kernel.vjp_for((True, True, True)) == kernel.vjp
    partial = kernel.vjp_for((False, True, True))(residual, dy)
    assert partial[0] is None
    np.testing.assert_array_equal(partial[1], full[1])
    np.testing.assert_array_equal(partial[2], full[2])


def test_affine_keeps_a_wider_bias_dtype():
    kernel = make_kernel("affine", {}, (1, 2, 1))
    x, weight = real(2, 3).astype(np.float32), real(3, 4).astype(np.float32)
    (y,), _ = kernel.forward(x, weight, real(4))
    assert y.dtype == np.float64


# ---------------------------------------------------------------- training


DIVERGING = """
import std.ml
dim D = 2
object Features : Real[D]
object Loss : Real
param v : Real[D] = ones
morphism Score : Features -> Loss = dot(v)
data xs : List[Features] = [[1e10, 1e10], [2e10, 2e10]]
let step = TrainStep(Score, xs, lr = 1e300)
let twice = step ^ 2
"""


def tiny_step(lr: str = "1.0"):
    assert "lr = 1.0" in TINY_TEXT
    program = catdsl.loads(TINY_TEXT.replace("lr = 1.0", f"lr = {lr}"), "tiny.cat")
    step = program["step"]
    return program, step, initial_state(step.diagram, program.params)


def test_trusted_training_equals_validating_every_step():
    program, step, state = tiny_step()
    hooks = LoopHooks(progress=False)
    (trusted,) = run_steps(step.plan, state, 20, params=program.params, hooks=hooks)
    params, losses = state[0], []
    for _ in range(20):  # a freshly compiled plan validates its first (and only) pass
        fresh = compile_diagram(step.diagram)
        every = LoopHooks(progress=False)
        (params,) = run_steps(fresh, (params,), 1, params=program.params, hooks=every)
        losses += every.loss_history
    assert hooks.loss_history == losses
    for name in ("E", "W", "b"):
        np.testing.assert_array_equal(trusted[name], params[name])


def test_new_param_shapes_are_validated_again():
    _, step, state = tiny_step()
    objective = step.plan.instrs[0].op.objective
    objective.mean_and_gradient(state[0])
    objective.mean_and_gradient(state[0])  # trusted
    wrong = {**state[0], "W": np.zeros((4, 6))}
    with pytest.raises(CatRuntimeError) as err:
        objective.mean_and_gradient(wrong)
    assert err.value.diagnostic.code == "R0301"


def codes(action, line: int | None = None) -> list[tuple[str, str]]:
    with pytest.raises(CatError) as err:
        action()
    if line is not None:
        assert [d.span.line for d in err.value.diagnostics] == [line]
    return [(d.code, d.message) for d in err.value.diagnostics]


def test_diverging_logits_are_reported_at_the_box_that_overflowed():
    """Not at `softmax`, whose validating kernel refuses the logits, but at `affine`, the
    first box of a checked re-run whose output is infinite (see tests/test_divergence.py)."""
    program, _, _ = tiny_step("1e300")
    line = next(i for i, s in enumerate(TINY_TEXT.splitlines(), 1) if "= affine(W, b)" in s)
    assert codes(lambda: program.train("step", steps=5), line=line) == [
        ("R0415", "`affine(W, b)` produced an infinite value")
    ]


def test_a_diverging_update_is_named():
    program = catdsl.loads(DIVERGING)
    once = codes(lambda: program["step"](program.params), line=9)
    assert once == [("R0415", "`TrainStep(Score)` produced an infinite value")]
    loop = codes(lambda: program["twice"](program.params), line=9)
    assert loop == [("R0413", "the param `v` given to `TrainStep(Score)` is not finite")]
    last = codes(lambda: program.train("step", steps=1))
    assert last == [("R0413", "the param `v` is not finite after step 1 of `step ^ 1`")]


def test_repeated_and_alternating_gradient_requests():
    _, step, state = tiny_step()
    objective = step.plan.instrs[0].op.objective
    plan = objective.plan
    (loss,), tape = plan.execute_taped(objective._values(state[0]), objective._context)
    seed = (np.full(loss.shape, 0.2),)
    everything = (False, False, True, True, True)
    only_b = (False, False, False, False, True)
    first = plan.pull_back(tape, seed, everything)
    b_alone = plan.pull_back(tape, seed, only_b)
    again = plan.pull_back(tape, seed, everything)
    assert b_alone[:4] == [None] * 4
    np.testing.assert_array_equal(b_alone[4], first[4])
    for got, want in zip(again[2:], first[2:], strict=True):
        np.testing.assert_array_equal(got, want)
