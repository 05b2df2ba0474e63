"""`linear(M)` and `matmul` on integer arrays (`Int[...]`): typed on one number kind for all
their wires, exact integer results on numpy and on torch, the same dim checks as on reals, and
no gradient through them (whole numbers carry no cotangent)."""

from __future__ import annotations

import numpy as np
import pytest

import catdsl
from catdsl.frontend.sampling import Sampler
from catdsl.std.library import PRIMITIVES
from catdsl.typesys.dims import Dim
from catdsl.typesys.types import Carrier, Shape

PROGRAM = """
import std.ml
dim B
object Signal1 : Int[B, 1]
object Signal2 : Int[B, 2]
data duplicate : Int[1, 2] = [[1, 1]]
data weighted_add : Int[2, 1] = [[2], [-3]]
morphism Duplicate : Signal1 -> Signal2 = linear(duplicate)
morphism WeightedAdd : Signal2 -> Signal1 = linear(weighted_add)
morphism Flow : Signal1 -> Signal1 = Duplicate >> WeightedAdd
morphism Mul : Int[2, 3] * Int[3, 2] -> Int[2, 2] = matmul
data product : Int[1, 1] = duplicate * weighted_add >> matmul
law functoriality_any_matrices :
    matmul * Int[2, 1] >> matmul == Int[B, 1] * matmul >> matmul
"""


def program(backend: str = "numpy") -> catdsl.Program:
    return catdsl.loads(PROGRAM, backend=backend)


def test_the_signatures_read_real_until_a_use_binds_their_kind():
    sig = PRIMITIVES["matmul"].build({})
    assert (str(sig.dom), str(sig.cod)) == ("Real[*s, m, k] * Real[*s, k, n]", "Real[*s, m, n]")
    sig = PRIMITIVES["linear"].build({})
    assert (str(sig.params[0]), str(sig.dom), str(sig.cod)) == (
        "Real[n, m]",
        "Real[*s, n]",
        "Real[*s, m]",
    )


def test_integer_linear_and_matmul_are_exact_integers():
    p = program()
    x = np.array([[1], [4], [-7]])
    out = p["Flow"](x)
    np.testing.assert_array_equal(out, [[-1], [-4], [7]])
    assert out.dtype.kind == "i"
    big = np.array([[2**40], [3]])  # exact beyond a float's 53 bits after the product
    np.testing.assert_array_equal(p["Flow"](big * 2**12 + 1), -(big * 2**12 + 1))
    rng = np.random.default_rng(5)
    a, b = rng.integers(-9, 10, size=(2, 3)), rng.integers(-9, 10, size=(3, 2))
    product = p["Mul"]((a, b))
    np.testing.assert_array_equal(product, a @ b)
    assert product.dtype.kind == "i"
    np.testing.assert_array_equal(p["product"](), [[-1]])


def test_the_types_are_integer():
    p = program()
    assert p["Mul"].type_text == "Int[2, 3] * Int[3, 2] -> Int[2, 2]"
    assert p["product"].type_text == "Unit -> Int[1, 1]"


def test_a_middle_dim_mismatch_is_refused_as_on_reals():
    bad = PROGRAM + "morphism Bad : Signal1 -> Signal1 = Duplicate >> Duplicate\n"
    with pytest.raises(catdsl.CatError) as info:
        catdsl.loads(bad)
    (d,) = info.value.diagnostics
    assert d.code == "E0201" and "`Signal2` is not `Signal1`" in d.message


def test_integer_and_real_matrices_do_not_mix():
    bad = (
        PROGRAM
        + "data r : Real[2, 1] = [[1.0], [2.0]]\ndata m : Int[1, 1] = duplicate * r >> matmul\n"
    )
    with pytest.raises(catdsl.CatError) as info:
        catdsl.loads(bad)
    (d,) = info.value.diagnostics
    assert d.code == "E0201" and "`Real[2, 1]` is not `Int[2, n]`" in d.message


def test_the_law_is_checked_on_sampled_integer_matrices():
    (report,) = program().check_laws(samples=8)
    assert report.holds and report.max_error == 0.0 and report.samples == 8
    drawn = Sampler(np.random.default_rng(0), {}).atom(
        Carrier("Int", Shape((Dim.const(2), Dim.const(1))))
    )
    assert np.asarray(drawn).shape == (2, 1) and np.asarray(drawn).dtype.kind == "i"


def test_a_false_law_on_integer_matrices_is_refuted():
    false = PROGRAM + "law commutes : matmul == swap[Int[2, 2], Int[2, 2]] >> matmul\n"
    reports = {r.name: r for r in catdsl.loads(false).check_laws(samples=8)}
    assert not reports["commutes"].holds


@pytest.mark.parametrize("name", ["Flow", "Mul"])
def test_no_gradient_flows_through_integer_matrices(name: str):
    with pytest.raises(catdsl.CatError) as info:
        program().gradcheck(name)
    (d,) = info.value.diagnostics
    assert d.code == "E0807" and f"`{name}`" in d.message


def test_torch_gives_the_same_integers():
    pytest.importorskip("torch")
    numpy_p, torch_p = program(), program("torch")
    x = np.array([[3], [-2]])
    np.testing.assert_array_equal(torch_p["Flow"](x), numpy_p["Flow"](x))
    rng = np.random.default_rng(9)
    a, b = rng.integers(-9, 10, size=(2, 3)), rng.integers(-9, 10, size=(3, 2))
    out = np.asarray(torch_p["Mul"]((a, b)))
    np.testing.assert_array_equal(out, a @ b)
    assert out.dtype.kind == "i"
