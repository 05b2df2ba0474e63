"""The std.ml and std.attention kernels: VJPs against finite differences, worked values, errors."""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import pytest
from conftest import REPO
from gradkit import check_vjp
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from catdsl.errors import CatRuntimeError
from catdsl.semantics.kernel import Kernel, unbroadcast
from catdsl.std.library import KERNELS, PRIMITIVES, make_kernel

BATCHES = [(), (2,), (2, 3)]
ADDED = "catdsl.std.prims."
Builder = Callable[[np.random.Generator, tuple[int, ...]], list[np.ndarray]]


# ---------------------------------------------------------------------------------------------
# One case per kernel behaviour: inputs for any batch shape (parameters are never batched)
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    kernel: str
    static: dict
    in_ranks: tuple[int, ...]
    build: Builder


def real(rng: np.random.Generator, *shape: int) -> np.ndarray:
    return rng.normal(size=shape)


def probs(rng: np.random.Generator, *shape: int) -> np.ndarray:
    e = np.exp(real(rng, *shape))
    return e / e.sum(axis=-1, keepdims=True)


MASK = np.array([[True, False, True, False], [True, True, True, True], [False, False, False, True]])

CASES: dict[str, Case] = {
    "lookup": Case("lookup", {}, (0, 2), lambda r, b: [r.integers(0, 5, b), real(r, 5, 3)]),
    "affine": Case(
        "affine", {}, (1, 2, 1), lambda r, b: [real(r, *b, 3), real(r, 3, 4), real(r, 4)]
    ),
    "linear": Case("linear", {}, (1, 2), lambda r, b: [real(r, *b, 3), real(r, 3, 2)]),
    "dot": Case("dot", {}, (1, 1), lambda r, b: [real(r, *b, 3), real(r, 3)]),
    "scale": Case("scale", {"c": 0.5}, (1,), lambda r, b: [real(r, *b, 3)]),
    "add": Case("add", {}, (1, 1), lambda r, b: [real(r, *b, 3), real(r, *b, 3)]),
    "add_unbatched": Case("add", {}, (1, 1), lambda r, b: [real(r, *b, 3), real(r, 3)]),
    "add_scalar": Case("add", {}, (1, 0), lambda r, b: [real(r, *b, 3), real(r, *b)]),
    "mul": Case("mul", {}, (2, 2), lambda r, b: [real(r, *b, 2, 3), real(r, *b, 2, 3)]),
    "mul_scalar": Case("mul", {}, (0, 1), lambda r, b: [real(r, *b), real(r, *b, 3)]),
    "sum_vector": Case("sum", {}, (1,), lambda r, b: [real(r, *b, 3)]),
    "sum_matrix": Case("sum", {}, (2,), lambda r, b: [real(r, *b, 2, 3)]),
    "sum_scalar": Case("sum", {}, (0,), lambda r, b: [real(r, *b)]),
    "mean_vector": Case("mean", {}, (1,), lambda r, b: [real(r, *b, 3)]),
    "mean_matrix": Case("mean", {}, (2,), lambda r, b: [real(r, *b, 2, 3)]),
    "relu": Case("relu", {}, (1,), lambda r, b: [real(r, *b, 4)]),
    "tanh": Case("tanh", {}, (1,), lambda r, b: [real(r, *b, 4)]),
    "sigmoid": Case("sigmoid", {}, (1,), lambda r, b: [3 * real(r, *b, 4)]),
    "softmax": Case("softmax", {}, (1,), lambda r, b: [real(r, *b, 4)]),
    "log_softmax": Case("log_softmax", {}, (1,), lambda r, b: [real(r, *b, 4)]),
    "nll": Case("nll", {}, (1, 0), lambda r, b: [probs(r, *b, 4), r.integers(0, 4, b)]),
    "cross_entropy": Case(
        "cross_entropy", {}, (1, 0), lambda r, b: [real(r, *b, 4), r.integers(0, 4, b)]
    ),
    "mse_vector": Case("mse", {}, (1, 1), lambda r, b: [real(r, *b, 3), real(r, *b, 3)]),
    "mse_matrix": Case("mse", {}, (2, 2), lambda r, b: [real(r, *b, 2, 3), real(r, *b, 2, 3)]),
    "windows_vectors": Case("windows", {"k": 2}, (2,), lambda r, b: [real(r, *b, 5, 2)]),
    "windows_reals": Case("windows", {"k": 3}, (1,), lambda r, b: [real(r, *b, 6)]),
    "windows_tokens": Case("windows", {"k": 2}, (1,), lambda r, b: [r.integers(0, 5, (*b, 4))]),
    "layer_norm": Case(
        "layer_norm", {"eps": 1e-5}, (2, 1, 1), lambda r, b: [real(r, *b, 3, 4)] + [real(r, 4)] * 2
    ),
    "scores": Case("scores", {}, (2, 2), lambda r, b: [real(r, *b, 3, 2), real(r, *b, 4, 2)]),
    "mask_scores": Case("mask_scores", {}, (2, 2), lambda r, b: [real(r, *b, 3, 4), MASK]),
    "mask_scores_batched": Case(
        "mask_scores",
        {},
        (2, 2),
        lambda r, b: [real(r, *b, 3, 4), np.broadcast_to(MASK, (*b, 3, 4)).copy()],
    ),
    "row_softmax": Case("row_softmax", {}, (2,), lambda r, b: [real(r, *b, 3, 4)]),
    "mix": Case("mix", {}, (2, 2), lambda r, b: [probs(r, *b, 3, 4), real(r, *b, 4, 2)]),
    "concat_heads": Case(
        "concat_heads",
        {"n": 3},
        (2, 2, 2),
        lambda r, b: [real(r, *b, 3, 1), real(r, *b, 3, 2), real(r, *b, 3, 1)],
    ),
    "residual": Case("residual", {}, (2, 2), lambda r, b: [real(r, *b, 2, 3), real(r, *b, 2, 3)]),
    "ffn": Case(
        "ffn",
        {},
        (2, 2, 1, 2, 1),
        lambda r, b: [real(r, *b, 3, 2), real(r, 2, 4), real(r, 4), real(r, 4, 2), real(r, 2)],
    ),
    "positional": Case("positional", {}, (2, 2), lambda r, b: [real(r, *b, 2, 3), real(r, 4, 3)]),
    "readout": Case(
        "readout", {}, (2, 2, 1), lambda r, b: [real(r, *b, 2, 3), real(r, 3, 4), real(r, 4)]
    ),
}


def build(name: str, batch: tuple[int, ...], seed: int = 1) -> tuple[Kernel, list[np.ndarray]]:
    case = CASES[name]
    inputs = case.build(np.random.default_rng(seed), batch)
    return make_kernel(case.kernel, case.static, case.in_ranks), inputs


def test_every_registered_kernel_has_a_case():
    """Core kernels are tested here; a primitive added in `catdsl.std.prims` brings its own
    test file, `tests/test_prim_<name>.py` (a module of a small family of primitives,
    `catdsl/std/prims/<family>.py`, one for the family: `tests/test_prim_<family>.py`)."""
    added = {n for n, spec in PRIMITIVES.items() if spec.kernel.__module__.startswith(ADDED)}
    assert {case.kernel for case in CASES.values()} == set(KERNELS) - added
    for name in added:
        family = PRIMITIVES[name].kernel.__module__.rsplit(".", 1)[-1]
        files = {REPO / "tests" / f"test_prim_{n}.py" for n in (name, family)}
        assert any(f.is_file() for f in files), f"{name} has no test file"


@pytest.mark.parametrize("batch", BATCHES, ids=["unbatched", "batch1", "batch2"])
@pytest.mark.parametrize("name", sorted(CASES))
def test_vjp_matches_finite_differences(name, batch):
    kernel, inputs = build(name, batch)
    check_vjp(kernel, inputs)


@pytest.mark.parametrize("name", sorted(CASES))
def test_forward_only_and_call_agree_with_forward(name):
    kernel, inputs = build(name, (2,))
    outs, _ = kernel.forward(*inputs)
    for fast, slow, called in zip(kernel.forward_only(*inputs), outs, kernel(*inputs), strict=True):
        np.testing.assert_array_equal(fast, slow)
        np.testing.assert_array_equal(called, slow)


@pytest.mark.parametrize("name", sorted(CASES))
def test_float32_in_float32_out(name):
    kernel, inputs = build(name, (2,))
    inputs = [x.astype(np.float32) if x.dtype == np.float64 else x for x in inputs]
    outs, residual = kernel.forward(*inputs)
    assert all(np.asarray(y).dtype in (np.float32, np.int64) for y in outs)
    dys = [np.ones(np.shape(y), dtype=np.float32) for y in outs]
    for x, grad in zip(inputs, kernel.vjp(residual, *dys), strict=True):
        if grad is not None:
            assert np.asarray(grad).dtype == np.float32, x.dtype


def test_parameter_gradient_sums_over_batch_rows():
    kernel, (x, w, b) = build("affine", (2, 3))
    outs, residual = kernel.forward(x, w, b)
    dy = np.ones_like(outs[0])
    _, d_w, d_b = kernel.vjp(residual, dy)
    per_row = sum(np.outer(row, np.ones(4)) for row in x.reshape(-1, 3))
    np.testing.assert_allclose(d_w, per_row)
    np.testing.assert_allclose(d_b, np.full(4, 6.0))


# ---------------------------------------------------------------------------------------------
# Property-based: arbitrary shapes and element ranks
# ---------------------------------------------------------------------------------------------


@st.composite
def array_and_rank(draw, min_rank: int = 0):
    shape = draw(hnp.array_shapes(min_dims=max(min_rank, 0), max_dims=3, min_side=1, max_side=3))
    rank = draw(st.integers(min(min_rank, len(shape)), len(shape)))
    seed = draw(st.integers(0, 2**16))
    return np.random.default_rng(seed).normal(size=shape), rank


@settings(max_examples=30, deadline=None)
@given(data=array_and_rank(), name=st.sampled_from(["sum", "mean", "relu", "tanh", "sigmoid"]))
def test_unary_vjp_on_any_shape(data, name):
    x, rank = data
    check_vjp(make_kernel(name, {}, (rank,)), [x])


@pytest.mark.parametrize("name", ["sum", "mean", "relu", "tanh", "sigmoid", "scale"])
def test_unary_vjp_on_a_scalar(name):
    """A 0-d input: numpy ufuncs return scalars there, which in-place updates cannot write."""
    static = {"c": 2.5} if name == "scale" else {}
    check_vjp(make_kernel(name, static, (0,)), [np.array(0.125)])


@settings(max_examples=30, deadline=None)
@given(data=array_and_rank(min_rank=1), name=st.sampled_from(["softmax", "log_softmax"]))
def test_softmax_vjp_on_any_shape(data, name):
    x, rank = data
    check_vjp(make_kernel(name, {}, (rank,)), [x])


@settings(max_examples=30, deadline=None)
@given(
    shape=hnp.array_shapes(min_dims=0, max_dims=3, max_side=3),
    extra=hnp.array_shapes(min_dims=0, max_dims=2, max_side=3),
    data=st.data(),
)
def test_unbroadcast_inverts_broadcasting(shape, extra, data):
    small = tuple(data.draw(st.sampled_from([1, n])) for n in shape)
    grad = np.ones(extra + shape)
    reduced = unbroadcast(grad, small)
    assert reduced.shape == small
    np.testing.assert_allclose(reduced, np.full(small, grad.size / max(math.prod(small), 1)))


# ---------------------------------------------------------------------------------------------
# Worked values: the course's examples
# ---------------------------------------------------------------------------------------------


def run(name: str, *inputs, static: dict | None = None, in_ranks=()):
    """Forward outputs of one kernel on literal inputs."""
    arrays = [np.asarray(x) for x in inputs]
    return make_kernel(name, static or {}, in_ranks or tuple(a.ndim for a in arrays))(*arrays)


def test_softmax_is_max_shifted():
    (p,) = run("softmax", [1000.0, 1001.0])
    np.testing.assert_allclose(p, [1 / (1 + math.e), math.e / (1 + math.e)])
    (lp,) = run("log_softmax", [1000.0, 1001.0])
    np.testing.assert_allclose(lp, np.log(p))


def test_sigmoid_is_stable_at_extremes():
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        (y,) = run("sigmoid", [-1000.0, 0.0, 1000.0])
    np.testing.assert_array_equal(y, [0.0, 0.5, 1.0])


def test_nll_course_examples():
    (confident,) = run("nll", [0.9, 0.1], 0)
    (unsure,) = run("nll", [0.1, 0.9], 0)
    assert confident == pytest.approx(0.10536051565782628)
    assert unsure == pytest.approx(2.3025850929940455)


def test_nll_clamps_at_1e_9_with_zero_gradient():
    kernel = make_kernel("nll", {}, (1, 0))
    (loss,), residual = kernel.forward(np.array([[0.0, 1.0], [0.5, 0.5]]), np.array([0, 1]))
    np.testing.assert_allclose(loss, [-math.log(1e-9), math.log(2)])
    d_p, d_t = kernel.vjp(residual, np.ones(2))
    np.testing.assert_array_equal(d_p, [[0.0, 0.0], [0.0, -2.0]])
    assert d_t is None


def test_cross_entropy_is_fused_nll_of_softmax():
    logits = np.log([0.9, 0.1])
    (loss,) = run("cross_entropy", logits, 0)
    assert loss == pytest.approx(-math.log(0.9))
    kernel = make_kernel("cross_entropy", {}, (1, 0))
    _, residual = kernel.forward(np.array([1.0, 2.0, 3.0]), np.array(2))
    d_z, _ = kernel.vjp(residual, np.array(1.0))
    np.testing.assert_allclose(d_z, run("softmax", [1.0, 2.0, 3.0])[0] - [0, 0, 1])


def test_mul_node_course_instance_is_exact():
    kernel = make_kernel("mul", {}, (0, 0))
    (z,), residual = kernel.forward(np.array(2.0), np.array(3.0))
    assert z == 6.0
    assert kernel.vjp(residual, np.array(1.0)) == (3.0, 2.0)


def test_lookup_copies_rows_and_scatters_gradients():
    table = np.arange(12.0).reshape(4, 3)
    kernel = make_kernel("lookup", {}, (0, 2))
    (rows,), residual = kernel.forward(np.array([1, 3, 1]), table)
    np.testing.assert_array_equal(rows, table[[1, 3, 1]])
    _, d_table = kernel.vjp(residual, np.ones((3, 3)))
    np.testing.assert_array_equal(d_table[:, 0], [0, 2, 0, 1])


@pytest.mark.parametrize(
    ("tokens", "pairs"),
    [([1, 2, 3], [(1, 2), (2, 3)]), ([4, 8, 15, 16], [(4, 8), (8, 15), (15, 16)])],
)
def test_windows_course_examples(tokens, pairs):
    first, second = run("windows", tokens, static={"k": 2}, in_ranks=(1,))
    assert list(zip(first.tolist(), second.tolist(), strict=True)) == pairs


def test_windows_of_integers_has_no_gradient():
    kernel = make_kernel("windows", {"k": 2}, (1,))
    _, residual = kernel.forward(np.array([1, 2, 3]))
    assert kernel.vjp(residual, *[np.ones(2)] * 2) == (None,)


def test_mse_and_reductions():
    assert run("mse", [1.0, 2.0], [3.0, 2.0])[0] == 2.0
    assert run("mean", [[1.0, 2.0], [3.0, 6.0]], in_ranks=(1,))[0].tolist() == [1.5, 4.5]
    assert run("sum", [[1.0, 2.0], [3.0, 6.0]], in_ranks=(2,))[0] == 12.0


# std.attention, one operation at a time, on small inputs worked out by hand


def test_scores_example():
    (s,) = run("scores", [[1, 0], [0, 1.0]], [[1, 0], [0, 1], [1, 1.0]])
    assert s.shape == (2, 3)
    assert s[0, 0] == pytest.approx(1 / math.sqrt(2))
    assert s[0, 1] == 0
    assert s[1, 2] == pytest.approx(1 / math.sqrt(2))


def test_masked_softmax_example():
    (masked,) = run("mask_scores", [[2.0, 1.0, 2.0]], [[True, False, True]])
    (weights,) = run("row_softmax", masked)
    np.testing.assert_allclose(weights, [[0.5, 0, 0.5]])
    (rows,) = run("row_softmax", [[2.0, 1.0], [0.0, 3.0]])
    np.testing.assert_allclose(rows.sum(axis=-1), [1, 1])


def test_masked_cells_get_no_gradient():
    kernel = make_kernel("mask_scores", {}, (2, 2))
    _, residual = kernel.forward(np.zeros((1, 3)), np.array([[True, False, True]]))
    d_s, d_m = kernel.vjp(residual, np.ones((1, 3)))
    np.testing.assert_array_equal(d_s, [[1, 0, 1]])
    assert d_m is None


def test_value_mixing_example():
    (out,) = run("mix", [[0.25, 0.75]], [[4.0, 0.0], [0.0, 8.0]])
    np.testing.assert_allclose(out, [[1, 6]])


def test_concat_and_output_projection_example():
    (heads,) = run("concat_heads", [[1, 10], [2, 20.0]], [[3, 30], [4, 40.0]], static={"n": 2})
    np.testing.assert_array_equal(heads, [[1, 10, 3, 30], [2, 20, 4, 40]])
    w_o = [[1, 0], [0, 0.1], [0.5, 0], [0, 0.01]]
    (projected,) = run("affine", heads, w_o, [0.0, 1.0])
    np.testing.assert_allclose(projected, [[2.5, 2.3], [4.0, 3.4]])


def test_residual_example():
    (out,) = run("residual", [[1, 2], [3, 4.0]], [[0.5, 1.5], [2.5, 3.5]])
    np.testing.assert_allclose(out, [[1.5, 3.5], [5.5, 7.5]])
    assert run("residual", [1.0, 2.0], [3.0, 4.0])[0].tolist() == [4, 6]


def test_layer_norm_examples():
    (identity,) = run("layer_norm", [[1, 3], [2, 4.0]], [1.0, 1.0], [0.0, 0.0])
    np.testing.assert_allclose(identity, [[-0.999995, 0.999995]] * 2, atol=1e-6)
    (scaled,) = run("layer_norm", [1, 3.0], [2, 0.5], [1.0, -1.0], static={"eps": 1e-5})
    np.testing.assert_allclose(scaled, [-0.99999, -0.5000025], atol=1e-6)


def test_ffn_example():
    w1 = [[1, -1, 0.5], [0, 1, 0.5]]
    w2 = [[1, 0], [0, 1], [0.5, 0.5]]
    (out,) = run("ffn", [[1, 2], [3, 4.0]], w1, np.zeros(3), w2, np.zeros(2))
    np.testing.assert_allclose(out, [[1.75, 1.75], [4.75, 2.75]])


def test_positional_example_and_table_gradient():
    (out,) = run("positional", [[1, 2], [3, 4.0]], [[0.1, 0.2], [0.3, 0.4]])
    assert out[0, 0] == pytest.approx(1.1)
    assert out[1, 1] == pytest.approx(4.4)
    kernel = make_kernel("positional", {}, (2, 2))
    _, residual = kernel.forward(np.zeros((3, 1, 2)), np.zeros((2, 2)))
    _, d_table = kernel.vjp(residual, np.ones((3, 1, 2)))
    np.testing.assert_array_equal(d_table, [[3, 3], [0, 0]])


def test_query_projection_and_readout_examples():
    (q,) = run("affine", [[1, 2], [3, 4.0]], np.eye(2), [0.5, -0.5])
    assert (q[0, 0], q[1, 1]) == (1.5, 3.5)
    w_r = [[1, 0, 0.5], [0, 1, -0.5]]
    (logits,) = run("readout", [[2, 3], [4, 5.0]], w_r, [0, 0.1, -0.1])
    np.testing.assert_allclose(logits, [[2.0, 3.1, -0.6], [4.0, 5.1, -0.6]])


# ---------------------------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------------------------


@contextmanager
def raises(code: str, *words: str):
    """Expect a CatRuntimeError with `code` whose message contains every word."""
    with pytest.raises(CatRuntimeError) as info:
        yield
    diagnostic = info.value.diagnostic
    assert diagnostic.code == code, diagnostic
    for word in words:
        assert word in diagnostic.message, diagnostic.message


def test_lookup_out_of_range_names_kind_index_and_limit():
    with raises("R0201", "token", "7", "limit 5"):
        run("lookup", [1, 7], np.zeros((5, 2)))
    with raises("R0201", "token", "-1", "limit 5"):
        run("lookup", -1, np.zeros((5, 2)))
    with raises("R0203", "integers"):
        run("lookup", 1.0, np.zeros((5, 2)))


@pytest.mark.parametrize("name", ["nll", "cross_entropy"])
def test_target_out_of_range_names_kind_index_and_limit(name):
    with raises("R0202", "target", "9", "limit 3"):
        run(name, [[0.2, 0.3, 0.5]] * 2, [0, 9])


def test_linear_layer_shape_errors():
    with raises("R0301", "linear layer", "width 4", "(3,)"):
        run("affine", np.zeros(3), np.zeros((4, 2)), np.zeros(2))
    with raises("R0301", "linear layer", "bias"):
        run("affine", np.zeros(4), np.zeros((4, 2)), np.zeros(3))
    with raises("R0301", "transformer readout"):
        run("readout", np.zeros((2, 3)), np.zeros((4, 2)), np.zeros(2))
    with raises("R0301", "position-wise feed-forward second layer"):
        run("ffn", np.zeros((1, 2)), np.eye(2), np.zeros(2), np.eye(3), np.zeros(3))


def test_elementwise_shape_errors():
    with raises("R0302", "residual connection"):
        run("residual", np.zeros((2, 2)), np.zeros((2, 3)))
    with raises("R0302", "mean squared error"):
        run("mse", np.zeros(2), np.zeros(3))


def test_attention_errors():
    with raises("R0303", "scaled dot-product attention scores", "query 2", "key 3"):
        run("scores", np.zeros((2, 2)), np.zeros((2, 3)))
    with raises("R0303", "masked attention scores"):
        run("mask_scores", np.zeros((2, 2)), np.ones((2, 3), dtype=bool))
    with raises("R0403", "attention mask row allows no keys"):
        run("mask_scores", np.zeros((2, 2)), [[True, False], [False, False]])
    with raises("R0303", "weighted value mixing"):
        run("mix", np.zeros((2, 2)), np.zeros((3, 2)))
    with raises("R0303", "attention head outputs"):
        run("concat_heads", np.zeros((2, 1)), np.zeros((3, 1)), static={"n": 2})
    with raises("R0304", "layer norm parameters"):
        run("layer_norm", np.zeros((2, 3)), np.ones(2), np.zeros(2))
    with raises("R0305", "positional encoding"):
        run("positional", np.zeros((3, 2)), np.zeros((2, 2)))


def test_empty_and_invalid_inputs():
    with raises("R0401", "softmax"):
        run("softmax", np.zeros(0))
    with raises("R0402", "softmax", "not finite"):
        run("softmax", [np.inf, 1.0])
    with raises("R0401", "layer_norm"):
        run("layer_norm", np.zeros((2, 0)), np.ones(0), np.zeros(0))
    with raises("R0401", "mean"):
        run("mean", np.zeros((2, 0)), in_ranks=(1,))
    with raises("R0401", "dataset windowing requires at least 2 tokens"):
        run("windows", [3], static={"k": 2}, in_ranks=(1,))


def test_static_arguments_are_checked():
    with raises("R0404", "positive integer `k`"):
        make_kernel("windows", {"k": 0}, (1,))
    with raises("R0404", "scale"):
        make_kernel("scale", {"factor": 2.0}, (1,))
    with raises("R0404", "epsilon"):
        make_kernel("layer_norm", {"eps": 0.0}, (2, 1, 1))
    with pytest.raises(KeyError, match="no kernel named"):
        make_kernel("convolve", {}, (1,))


def test_static_defaults_live_only_in_the_specs():
    """Kernels take every constant argument explicitly; the defaults are the spec's, which the
    checker fills into every primitive box."""
    for name, spec in PRIMITIVES.items():
        signature = inspect.signature(spec.kernel)
        for key in spec.static_names:
            assert signature.parameters[key].default is inspect.Parameter.empty, (name, key)
    assert make_kernel("windows", {}, (1,)).n_out == 2
    assert make_kernel("concat_heads", {}, (2, 2)).n_in == 2
    assert make_kernel("layer_norm", {}, (2, 1, 1)).eps == 1e-5
    assert make_kernel("scale", {}, (1,)).c == 1.0
