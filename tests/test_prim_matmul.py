"""`matmul` (catdsl/std/prims/matmul.py): signature with the inner dims unified, values,
broadcast leading axes and their VJP, the run-time check, dtype, PyTorch's `matmul`."""

from __future__ import annotations

import numpy as np
import pytest
from gradkit import check_vjp
from primkit import kernel, matches_torch, raises

import catdsl
from catdsl.std.library import PRIMITIVES

PROGRAM = """
import std.ml
dim M = 3
dim K = 2
dim N = 4
object A : Real[M, K]
object B : Real[K, N]
object C : Real[M, N]
morphism Mul : A * B -> C = matmul
law associative : A * B >> matmul == A * B >> matmul
"""


def test_the_signature_unifies_the_inner_dims():
    sig = PRIMITIVES["matmul"].build({})
    assert (str(sig.dom), str(sig.cod)) == (
        "Real[*s, m, k] * Real[*s, k, n]",
        "Real[*s, m, n]",
    )


def test_matmul_in_a_program():
    program = catdsl.loads(PROGRAM)
    rng = np.random.default_rng(46)
    a, b = rng.normal(size=(3, 2)), rng.normal(size=(2, 4))
    np.testing.assert_array_equal(program["Mul"]((a, b)), a @ b)
    with pytest.raises(catdsl.CatError) as info:
        catdsl.loads(
            PROGRAM.replace("dim K = 2\n", "dim K = 2\ndim L = 5\n").replace(
                "object B : Real[K, N]", "object B : Real[L, N]"
            )
        )
    assert info.value.diagnostics[0].code == "E0205"


def test_inner_dims_and_batches_that_do_not_fit_at_run_time():
    with raises("R0434", "2 columns, 3 rows"):
        kernel("matmul", (2, 2))(np.ones((4, 2)), np.ones((3, 4)))
    with raises("R0434", "do not broadcast"):
        kernel("matmul", (2, 2))(np.ones((2, 4, 2)), np.ones((3, 2, 4)))


@pytest.mark.parametrize(
    ("shape_a", "shape_b"),
    [((3, 2), (2, 4)), ((5, 3, 2), (2, 4)), ((3, 2), (5, 2, 4)), ((5, 1, 3, 2), (1, 4, 2, 2))],
)
def test_matmul_vjp_broadcasts_and_sums_back(shape_a, shape_b):
    rng = np.random.default_rng(47)
    check_vjp(kernel("matmul", (2, 2)), [rng.normal(size=shape_a), rng.normal(size=shape_b)])


def test_matmul_keeps_float32():
    a = np.ones((2, 2), np.float32)
    assert kernel("matmul", (2, 2))(a, a)[0].dtype == np.float32


@pytest.mark.torch
def test_matmul_equals_pytorch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(48)
    a, b = rng.normal(size=(6, 1, 3, 5)), rng.normal(size=(4, 5, 2))
    matches_torch(kernel("matmul", (2, 2)), [a, b], torch.matmul)
