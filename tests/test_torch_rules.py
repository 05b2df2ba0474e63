"""Every primitive's torch rule against its numpy kernel: the same outputs, the kernel's VJP as
autograd gradient (float64, to 1e-12), and the same refusals with the same codes and words."""

from __future__ import annotations

import numpy as np
import pytest
from attention_kit import MASKED_RANKS, RANKS, params
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes, arrays
from torch_rule_kit import compare, tensor, torch_rule

from catdsl.errors import CatRuntimeError
from catdsl.frontend.backends import kernel_table
from catdsl.semantics.kernel import Mode
from catdsl.std.library import make_kernel

torch = pytest.importorskip("torch")

pytestmark = pytest.mark.torch

RNG = np.random.default_rng(11)


def normal(*shape: int, scale: float = 1.0) -> np.ndarray:
    return RNG.normal(scale=scale, size=shape)


def positive(*shape: int) -> np.ndarray:
    return RNG.uniform(0.1, 3.0, size=shape)


def allow_mask(*shape: int) -> np.ndarray:
    mask = RNG.random(shape) < 0.6
    mask[..., 0] = True
    return mask


X = normal(2, 3, 4)
CASES: list[tuple[str, dict, tuple[int, ...], tuple]] = [
    # std.ml: numeric
    ("lookup", {}, (0, 2), (np.array([1, 3, 3]), normal(5, 2))),
    ("affine", {}, (1, 2, 1), (X, normal(4, 3), normal(3))),
    ("linear", {}, (1, 2), (X, normal(4, 3))),
    ("dot", {}, (1, 1), (X, normal(4))),
    ("scale", {"c": -1.5}, (1,), (X,)),
    ("matmul", {}, (2, 2), (X, normal(4, 5))),
    ("matmul", {}, (2, 2), (normal(3, 4), normal(2, 4, 2))),
    ("add", {}, (1, 1), (X, normal(2, 3, 4))),
    ("add", {}, (1, 0), (X, normal(2, 3))),
    ("add", {}, (0, 0), (np.array([1, 2]), np.array([3, 4]))),
    ("mul", {}, (0, 1), (normal(2, 3), X)),
    ("sub", {}, (1, 1), (X, normal(2, 3, 4))),
    ("sub", {"kind": "Nat"}, (0, 0), (np.array([5, 3]), np.array([2, 3]))),
    ("sub", {"kind": "Int"}, (0, 0), (np.array([1, 3]), np.array([2, -3]))),
    ("min", {}, (1, 1), (np.array([[1.0, 2.0, 3.0]]), np.array([[1.0, 1.5, 4.0]]))),
    ("max", {}, (1, 1), (np.array([[1.0, 2.0, 3.0]]), np.array([[1.0, 1.5, 4.0]]))),
    ("max", {}, (1, 0), (X, normal(2, 3))),
    ("max", {"kind": "Int"}, (0, 0), (np.array([-1, 4]), np.array([2, 4]))),
    ("ceil_div", {"kind": "Nat"}, (0, 0), (np.array([7, 8, 0]), np.array([2, 4, 3]))),
    ("ceil_div", {"kind": "Int"}, (0, 0), (np.array([-7, 7]), np.array([2, -2]))),
    ("sum", {}, (2,), (X,)),
    ("mean", {}, (1,), (X,)),
    ("relu", {}, (1,), (np.array([-1.0, 0.0, 2.0, -0.0]),)),
    ("relu", {}, (2,), (X,)),
    ("tanh", {}, (1,), (X,)),
    ("sigmoid", {}, (1,), (np.array([-800.0, -3.0, 0.0, 2.0, 800.0]),)),
    ("sigmoid", {}, (2,), (40 * X,)),
    ("silu", {}, (2,), (5 * X,)),
    ("silu", {}, (1,), (np.array([-800.0, 0.0, 800.0]),)),
    ("softplus", {}, (2,), (5 * X,)),
    ("softplus", {}, (1,), (np.array([-800.0, 0.0, 800.0]),)),
    ("gelu", {}, (2,), (3 * X,)),
    ("gelu_tanh", {}, (2,), (3 * X,)),
    ("exp", {}, (2,), (X,)),
    ("log", {}, (2,), (positive(2, 3, 4),)),
    ("sqrt", {}, (2,), (positive(2, 3, 4),)),
    ("clip", {"lo": -0.5, "hi": 0.5}, (2,), (X,)),
    ("clip", {"lo": 0.0, "hi": 1.0}, (1,), (np.array([-1.0, 0.0, 0.5, 1.0, 2.0]),)),
    ("clip", {"lo": 0.0}, (2,), (X,)),
    ("dropout", {"p": 0.3, "seed": 7}, (2,), (X,)),
    ("transpose", {}, (2,), (X,)),
    ("transpose", {"a": -3, "b": -1}, (3,), (X,)),
    ("concatenate", {"n": 3, "axis": -1}, (2, 2, 2), (X, normal(2, 3, 2), normal(2, 3, 1))),
    ("concatenate", {"n": 2, "axis": -2}, (2, 2), (X, normal(2, 1, 4))),
    ("split", {"at": 1}, (2,), (X,)),
    ("split", {"at": 2, "axis": -2}, (2,), (X,)),
    ("rms_norm", {"eps": 1e-5}, (1, 1), (X, normal(4))),
    ("softmax", {}, (1,), (30 * X,)),
    ("log_softmax", {}, (1,), (30 * X,)),
    ("nll", {}, (1, 0), (np.exp(X) / np.exp(X).sum(-1, keepdims=True), np.array([[1, 3, 0]] * 2))),
    ("nll", {}, (1, 0), (np.array([[0.0, 1.0], [1e-12, 1.0], [1e-9, 1.0]]), np.array([0, 0, 0]))),
    ("cross_entropy", {}, (1, 0), (30 * X, np.array([[1, 3, 0], [2, 2, 2]]))),
    ("mse", {}, (1, 1), (X, normal(2, 3, 4))),
    ("windows", {"k": 3}, (1,), (np.arange(6),)),
    ("windows", {"k": 2}, (2,), (X[0],)),
    # std.attention
    ("layer_norm", {}, (1, 1, 1), (X, normal(4), normal(4))),
    ("scores", {}, (2, 2), (X, normal(2, 5, 4))),
    ("mask_scores", {}, (2, 2), (normal(2, 3, 3), allow_mask(3, 3))),
    ("row_softmax", {}, (1,), (30 * X,)),
    ("mix", {}, (2, 2), (np.abs(normal(2, 3, 5)), normal(2, 5, 4))),
    ("concat_heads", {"n": 2}, (2, 2), (X, normal(2, 3, 2))),
    ("residual", {}, (2, 2), (X, normal(2, 3, 4))),
    ("ffn", {}, (2, 2, 1, 2, 1), (X, normal(4, 6), normal(6), normal(6, 4), normal(4))),
    ("positional", {}, (2, 2), (X, normal(5, 4))),
    ("readout", {}, (2, 2, 1), (X, normal(4, 6), normal(6))),
    ("sinusoidal", {}, (2,), (normal(2, 6, 5),)),
    ("causal_mask", {}, (2,), (X,)),
    ("block_to_allow", {}, (2,), (~allow_mask(2, 3, 3),)),
    ("allow_to_block", {}, (2,), (allow_mask(3, 3),)),
    ("self_attention", {}, RANKS, (normal(2, 5, 4), *params(2, 4, 3, 2))),
    ("self_attention", {}, RANKS, (normal(5, 4), *params(1, 4, 2, 3))),
    (
        "masked_self_attention",
        {},
        MASKED_RANKS,
        (normal(2, 5, 4), allow_mask(5, 5), *params(3, 4, 2, 2)),
    ),
    (
        "masked_self_attention",
        {},
        MASKED_RANKS,
        (normal(4, 4), np.tri(4, dtype=bool), *params(2, 4, 2, 3)),
    ),
    # std.logic
    ("and", {}, (1, 1), (allow_mask(2, 3), allow_mask(2, 3))),
    ("or", {}, (1, 1), (allow_mask(2, 3), ~allow_mask(2, 3))),
    ("implies", {}, (0, 0), (np.array([True, True, False, False]), np.array([True, False] * 2))),
    ("not", {}, (1,), (allow_mask(2, 3),)),
    ("all", {}, (1,), (np.array([[True, True], [True, False]]),)),
    ("all", {}, (1,), (np.zeros(0, dtype=bool),)),
    ("any", {}, (1,), (np.array([[False, False], [True, False]]),)),
    ("le", {}, (0, 0), (np.array([1.0, 2.0, 3.0]), np.array([1.0, 3.0, 2.0]))),
    ("lt", {}, (0, 0), (np.array([1, 2, 3]), np.array([1, 3, 2]))),
    ("ge", {}, (0, 0), (np.array([1.0, 2.0, 3.0]), np.array([1.0, 3.0, 2.0]))),
    ("gt", {}, (0, 0), (np.array([1, 2, 3]), np.array([1, 3, 2]))),
    ("eq", {}, (0, 0), (np.array([1.0, 2.0]), np.array([1.0, 3.0]))),
    ("eq", {}, (0, 0), (np.array(["loss", "linear"]), np.array(["loss", "softmax"]))),
    ("join", {}, (0, 0), (np.array([1.0, 2.0, 3.0]), np.array([1.0, 3.0, 2.0]))),
    ("meet", {}, (0, 0), (np.array([1.0, 2.0, 3.0]), np.array([1.0, 3.0, 2.0]))),
    ("join", {}, (0, 0), (np.array([4, 0]), np.array([2, 3]))),
    # std.lists
    ("first", {}, (1,), (normal(5),)),
    ("first", {}, (1,), (np.zeros(0),)),
    ("first", {}, (2,), (normal(2, 5, 3),)),
    ("first", {}, (1, 2), (np.arange(4), normal(4, 3))),
    ("last", {}, (1,), (normal(5),)),
    ("last", {}, (1,), (np.array(["embedding", "loss"]),)),
    ("length", {}, (1,), (normal(2, 5),)),
    ("length", {}, (1,), (np.array(["a", "b", "c"]),)),
    ("zip", {}, (1, 1), (normal(4), normal(6))),
    ("zip", {}, (1, 1), (np.arange(3), np.array(["a", "b"]))),
    ("concat", {}, (1, 1), (normal(3), normal(2))),
    ("concat", {}, (2, 2), (normal(3, 2), np.zeros((0, 0)))),
    ("concat", {}, (1, 1), (np.array(["embedding"]), np.array([], dtype="<U1"))),
    ("select", {}, (1, 1), (normal(5), np.array([True, False, True, True, False]))),
    ("select", {}, (2, 1), (normal(2, 4, 3), np.array([[True, False, True, False]] * 2))),
    ("select", {}, (1, 1), (np.zeros(0), np.zeros(0, dtype=bool))),
    ("at", {}, (0, 2), (np.array([0, 2, 2]), normal(4, 3))),
    ("at", {}, (0, 1), (np.array(2), np.array(["zero", "one", "Rust"]))),
    ("column", {}, (0, 1, 1), (np.array([9, 7, 9, 8]), np.array([7, 8, 9]), normal(3))),
    ("column", {}, (0, 1, 1), (np.array(8), np.array([7, 8, 8]), normal(3, 2))),
    ("column", {}, (0, 1, 1), (np.array(["b", "a"]), np.array(["a", "b"]), normal(2))),
    ("column", {}, (0, 1, 1), (np.array([7, 9]), np.array([7, 9]), np.array(["x", "y"]))),
    ("column", {}, (0, 1, 1), (np.array([1, 0]), np.array([0, 1]), np.array([3, 4]))),
    # std.logic: relations
    ("rel_compose", {}, (2, 2), (allow_mask(3, 4), allow_mask(4, 2))),
    ("rel_compose", {}, (3, 2), (allow_mask(2, 3, 4), allow_mask(4, 5))),
    # std.ml: evaluation metrics
    ("argmax", {}, (1,), (np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 2.0], [0.0, -1.0, 5.0]]),)),
    ("accuracy", {}, (1, 1), (np.array([0, 1, 2, 2]), np.array([0, 2, 2, 1]))),
    (
        "top_k_accuracy",
        {"k": 2},
        (2, 1),
        (np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 2.0]]), np.array([2, 2])),
    ),
    ("top_k_accuracy", {"k": 1}, (2, 1), (normal(6, 4), np.array([0, 1, 2, 3, 3, 1]))),
    ("confusion", {"classes": 3}, (1, 1), (np.array([0, 1, 2, 2]), np.array([0, 2, 2, 1]))),
]


def _id(case: tuple) -> str:
    return f"{case[0]}{case[1] or ''}"


@pytest.mark.parametrize("case", CASES, ids=[_id(c) for c in CASES])
def test_the_rule_computes_the_kernel_and_its_vjp(case) -> None:
    name, static, ranks, inputs = case
    compare(name, static, ranks, inputs)


def test_every_primitive_has_a_rule_and_a_case() -> None:
    from catdsl.std.torch_library import TORCH_RULES

    missing = sorted(set(kernel_table()) - set(TORCH_RULES))
    assert missing == [], "add their torch rules to catdsl/std/torch_rules.py's ML_RULES"
    assert set(TORCH_RULES) == set(kernel_table())
    uncompared = sorted(set(TORCH_RULES) - {c[0] for c in CASES} - ON_PROGRAMS)
    assert uncompared == [], "add a case of each to CASES above"
    assert {c[0] for c in CASES} | ON_PROGRAMS == set(TORCH_RULES)


ON_PROGRAMS = {"fold"}
"""Primitives whose kernels take morphism arguments (plans, not arrays): compared on whole
programs in test_torch_fold.py."""


@pytest.mark.parametrize("step", [1, 2, 7])
def test_dropout_in_a_training_step_drops_the_kernels_entries(step: int) -> None:
    compare("dropout", {"p": 0.3, "seed": 7}, (2,), (X,), mode=Mode(True, step))
    compare("dropout", {"p": 0.0, "seed": 7}, (2,), (X,), mode=Mode(True, step))


def test_dropout_asks_the_backend_for_the_mode() -> None:
    assert getattr(torch_rule("dropout", {"seed": 1}, (1,)), "uses_mode", False)


REFUSALS: list[tuple[str, dict, tuple[int, ...], tuple]] = [
    ("lookup", {}, (0, 2), (np.array([5]), np.zeros((5, 2)))),
    ("lookup", {}, (0, 2), (np.array([0.0]), np.zeros((5, 2)))),
    ("nll", {}, (1, 0), (np.full((1, 3), 1 / 3), np.array([-1]))),
    ("cross_entropy", {}, (1, 0), (np.zeros((1, 0)), np.array([0]))),
    ("softmax", {}, (1,), (np.array([np.inf, 0.0]),)),
    ("affine", {}, (1, 2, 1), (np.zeros(3), np.zeros((4, 2)), np.zeros(2))),
    ("add", {}, (1, 1), (np.zeros(3), np.zeros(4))),
    ("windows", {"k": 3}, (1,), (np.arange(2),)),
    ("mean", {}, (1,), (np.zeros((2, 0)),)),
    ("sum", {}, (2,), (np.zeros(3),)),
    ("matmul", {}, (2, 2), (np.zeros((2, 3)), np.zeros((2, 3)))),
    ("matmul", {}, (2, 2), (np.zeros((2, 3, 4)), np.zeros((3, 4, 2)))),
    ("matmul", {}, (2, 2), (np.zeros(3), np.zeros((3, 2)))),
    ("sub", {"kind": "Nat"}, (0, 0), (np.array([1, 5]), np.array([2, 3]))),
    ("ceil_div", {"kind": "Nat"}, (0, 0), (np.array([1, 5]), np.array([2, 0]))),
    ("log", {}, (1,), (np.array([1.0, 0.0, -1.0]),)),
    ("sqrt", {}, (2,), (np.array([[1.0, 2.0], [-3.0, 1.0]]),)),
    ("transpose", {"a": -3, "b": -1}, (2,), (np.zeros((2, 3)),)),
    ("concatenate", {"n": 2, "axis": -1}, (1, 1), (np.zeros((2, 3)), np.zeros((3, 3)))),
    ("split", {"at": 3}, (1,), (np.zeros(3),)),
    ("rms_norm", {"eps": 1e-5}, (1, 1), (np.zeros((2, 3)), np.zeros(4))),
    ("layer_norm", {}, (1, 1, 1), (np.zeros((2, 3)), np.zeros(4), np.zeros(3))),
    ("layer_norm", {}, (1, 1, 1), (np.zeros((2, 0)), np.zeros(0), np.zeros(0))),
    ("scores", {}, (2, 2), (np.zeros((3, 4)), np.zeros((3, 5)))),
    ("scores", {}, (2, 2), (np.zeros(4), np.zeros((3, 4)))),
    ("mask_scores", {}, (2, 2), (np.zeros((3, 3)), np.ones((3, 2), dtype=bool))),
    ("mask_scores", {}, (2, 2), (np.zeros((2, 2)), np.array([[True, False], [False, False]]))),
    ("mix", {}, (2, 2), (np.zeros((3, 4)), np.zeros((3, 4)))),
    ("concat_heads", {"n": 2}, (2, 2), (np.zeros((3, 2)), np.zeros((4, 2)))),
    ("residual", {}, (2, 2), (np.zeros((3, 2)), np.zeros((3, 3)))),
    (
        "ffn",
        {},
        (2, 2, 1, 2, 1),
        (np.zeros((3, 4)), np.zeros((5, 6)), np.zeros(6), np.zeros((6, 4)), np.zeros(4)),
    ),
    (
        "ffn",
        {},
        (2, 2, 1, 2, 1),
        (np.zeros((3, 4)), np.zeros((4, 6)), np.zeros(6), np.zeros((5, 4)), np.zeros(4)),
    ),
    ("positional", {}, (2, 2), (np.zeros((6, 4)), np.zeros((5, 4)))),
    ("readout", {}, (2, 2, 1), (np.zeros((3, 4)), np.zeros((4, 6)), np.zeros(5))),
    ("causal_mask", {}, (2,), (np.zeros(3),)),
    ("block_to_allow", {}, (2,), (np.array([[False, True], [True, True]]),)),
    (
        "allow_to_block",
        {},
        (2,),
        (np.array([[[False, True], [True, True]], [[False, False], [True, True]]]),),
    ),
    ("self_attention", {}, RANKS, (np.zeros((5, 3)), *params(2, 4, 3, 2))),
    (
        "masked_self_attention",
        {},
        MASKED_RANKS,
        (np.zeros((5, 4)), np.ones((4, 4), dtype=bool), *params(2, 4, 3, 2)),
    ),
    (
        "masked_self_attention",
        {},
        MASKED_RANKS,
        (np.zeros((2, 4)), np.array([[True, False], [False, False]]), *params(2, 4, 3, 2)),
    ),
    ("first", {}, (1,), (np.zeros((2, 0)),)),
    ("first", {}, (2,), (np.zeros(3),)),
    ("select", {}, (1, 1), (np.zeros(3), np.ones(2, dtype=bool))),
    (
        "select",
        {},
        (1, 1),
        (np.zeros((2, 3)), np.array([[True, False, True], [True, False, False]])),
    ),
    ("at", {}, (0, 1), (np.array([0, 4]), np.zeros(4))),
    ("at", {}, (0, 1), (np.array([-1]), np.zeros(4))),
    ("column", {}, (0, 1, 1), (np.array([7, 5]), np.array([7, 8, 9]), np.zeros(3))),
    ("column", {}, (0, 1, 1), (np.array("c"), np.array(["a", "b"]), np.zeros(2))),
    ("column", {}, (0, 1, 1), (np.array(7), np.array([7, 8, 9]), np.zeros(1))),
    ("rel_compose", {}, (2, 2), (np.ones((2, 3), bool), np.ones((2, 3), bool))),
    ("rel_compose", {}, (1, 2), (np.ones(3, bool), np.ones((3, 2), bool))),
    ("rel_compose", {}, (3, 3), (np.ones((2, 2, 3), bool), np.ones((3, 3, 2), bool))),
    ("argmax", {}, (1,), (np.array([[1.0, np.nan]]),)),
    ("argmax", {}, (1,), (np.zeros((2, 0)),)),
    ("accuracy", {}, (1, 1), (np.array([0, 1]), np.array([0, 1, 2]))),
    ("accuracy", {}, (1, 1), (np.array([0.0, 1.0]), np.array([0, 1]))),
    ("accuracy", {}, (1, 1), (np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64))),
    ("top_k_accuracy", {"k": 4}, (2, 1), (np.zeros((2, 3)), np.array([0, 1]))),
    ("top_k_accuracy", {"k": 1}, (2, 1), (np.zeros((2, 3)), np.array([0, 3]))),
    ("top_k_accuracy", {"k": 1}, (2, 1), (np.zeros((2, 3)), np.array([0, 1, 1]))),
    ("confusion", {"classes": 2}, (1, 1), (np.array([0, 2]), np.array([0, 1]))),
    ("confusion", {"classes": 2}, (1, 1), (np.array([0, 1]), np.array([-1, 1]))),
]


@pytest.mark.parametrize("case", REFUSALS, ids=[_id(c) for c in REFUSALS])
def test_the_rule_refuses_what_the_kernel_refuses_in_its_words(case) -> None:
    name, static, ranks, inputs = case
    refusals = []
    for call in (
        lambda: make_kernel(name, static, ranks)(*inputs),
        lambda: torch_rule(name, static, ranks)(*(tensor(a) for a in inputs)),
    ):
        with pytest.raises(CatRuntimeError) as info:
            call()
        refusals.append((info.value.diagnostic.code, info.value.diagnostic.message))
    assert refusals[1] == refusals[0]


@pytest.mark.parametrize(
    ("name", "static"),
    [
        ("scale", {"c": float("nan")}),
        ("clip", {"lo": 1.0, "hi": 0.0}),
        ("dropout", {"p": 1.0, "seed": 1}),
        ("transpose", {"a": -1, "b": -1}),
        ("split", {"at": 0}),
        ("layer_norm", {"eps": 0.0}),
        ("rms_norm", {"eps": -1.0}),
        ("concat_heads", {"n": 0}),
        ("windows", {"k": 0}),
        ("top_k_accuracy", {"k": 0}),
        ("confusion", {"classes": 0}),
    ],
)
def test_a_bad_static_argument_is_refused_as_by_the_kernel(name: str, static: dict) -> None:
    refusals = []
    for build in (lambda: make_kernel(name, static, (1,)), lambda: torch_rule(name, static, (1,))):
        with pytest.raises(CatRuntimeError) as info:
            build()
        refusals.append((info.value.diagnostic.code, info.value.diagnostic.message))
    assert refusals[1] == refusals[0]


UNARY = ["relu", "tanh", "sigmoid", "silu", "softplus", "gelu", "gelu_tanh", "exp", "clip"]


@settings(max_examples=30, deadline=None)
@given(
    name=st.sampled_from(UNARY),
    values=arrays(
        np.float64,
        array_shapes(min_dims=1, max_dims=3, max_side=4),
        elements=st.floats(-30, 30) | st.sampled_from([0.0, -0.0, 1e-300, -1e-300]),
    ),
    seed=st.integers(0, 2**16),
)
def test_elementwise_rules_agree_on_any_values(name: str, values: np.ndarray, seed: int) -> None:
    """Kinks (0), tiny and large entries included: the same values and the kernel's VJP."""
    static = {"lo": -1.0, "hi": 0.0} if name == "clip" else {}
    compare(name, static, (values.ndim,), (values,), seed=seed)


@settings(max_examples=20, deadline=None)
@given(
    lead=st.sampled_from([(), (2,)]),
    length=st.integers(1, 5),
    heads=st.integers(1, 3),
    widths=st.tuples(st.integers(1, 4), st.integers(1, 3), st.integers(1, 3)),
    seed=st.integers(0, 2**16),
    masked=st.booleans(),
)
def test_attention_agrees_on_any_shapes(lead, length, heads, widths, seed, masked) -> None:
    """`self_attention` / `masked_self_attention` on random shapes, values and masks."""
    width, k, e = widths
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(*lead, length, width))
    weights = params(heads, width, k, e, seed)
    if masked:
        mask = rng.random((length, length)) < 0.5
        mask[:, 0] = True
        compare("masked_self_attention", {}, MASKED_RANKS, (x, mask, *weights), seed=seed)
    else:
        compare("self_attention", {}, RANKS, (x, *weights), seed=seed)
