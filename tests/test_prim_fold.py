"""`fold(op, unit) : List[a] -> b` of std.lists (catdsl/std/prims/fold.py), the first primitive
with morphism arguments: its typing (E0390 at the argument, E0391 for a learnable one), its
values (the empty list gives the unit, the fold is from the left), batches, its VJP against
central differences, the no-gradient refusal through a discrete `op`, the reference
interpreter, and drawing."""

from __future__ import annotations

import numpy as np
import pytest

import catdsl
from catdsl.diagram.ir import PrimBox
from catdsl.errors import CatError
from catdsl.frontend.gradcheck import gradcheck
from catdsl.semantics.reference import Reference
from catdsl.std.library import KERNELS, PRIMITIVES

PROGRAM = """
import std.ml
import std.lists
import std.logic

object Scalar : Real

data zero : Real = 0.0
data ten : Nat = 10
data bits : List[Bool] = [true, false, true]
data trues : List[Bool] = [true, true]
data no_bits : List[Bool] = []
data xs : List[Real] = [1.0, 2.0, 3.5]
data nothing : List[Real] = []
data digits : List[Nat] = [4, 0, 7]

# b * a -> b: a decimal number read digit by digit, from the left
morphism Shift : Nat * Nat -> Nat = ⟨fst[Nat, Nat] >> Nat * ten >> mul, snd[Nat, Nat]⟩ >> add
morphism Plus : Real * Real -> Real = add
morphism SoftStep : Real * Real -> Real = mul >> tanh
morphism AnyPositive : Bool * Real -> Bool = Bool * (Real * zero >> gt) >> or

let all_bits   = bits >> fold(and, true)
let all_trues  = trues >> fold(and, true)
let all_empty  = no_bits >> fold(and, true)
let any_bits   = bits >> fold(or, false)
let total      = xs >> fold(add, 0)
let total_own  = xs >> fold(Plus, zero)
let empty_sum  = nothing >> fold(add, 0)
let number     = digits >> fold(Shift, 0)
let count_up   = fold(add, 0)
let product    = fold(mul, 1.0)
let soft       = fold(SoftStep, 1.0)
let sums       = List(fold(add, 0.0))
let any_pos    = fold(AnyPositive, false)
"""


@pytest.fixture(scope="module")
def program() -> catdsl.Program:
    return catdsl.loads(PROGRAM)


def test_signature_takes_two_morphisms():
    spec = PRIMITIVES["fold"]
    assert spec.module == "std.lists"
    assert spec.morphism_names == ("op", "unit")
    sig = spec.build({})
    assert f"{sig.dom} -> {sig.cod}" == "List[a] -> b"
    (op_dom, op_cod), (unit_dom, unit_cod) = sig.morphisms
    assert f"{op_dom} -> {op_cod}" == "b * a -> b"
    assert f"{unit_dom} -> {unit_cod}" == "Unit -> b"


def test_truth_values(program):
    assert bool(program["all_bits"]()) is False
    assert bool(program["all_trues"]()) is True
    assert bool(program["all_empty"]()) is True  # the unit, for []
    assert bool(program["any_bits"]()) is True


def test_numbers_and_the_empty_list(program):
    assert float(program["total"]()) == 6.5
    assert float(program["total_own"]()) == 6.5
    assert float(program["empty_sum"]()) == 0.0
    assert str(program["total"].cod) == "Real"  # the literal 0 is read as a Real here


def test_the_fold_is_from_the_left(program):
    assert int(program["number"]()) == 407  # ((0·10 + 4)·10 + 0)·10 + 7
    assert program["number"].type_text == "Unit -> Nat"


def test_types_follow_the_arguments(program):
    assert program["count_up"].type_text == "List[a] -> a"
    assert program["product"].type_text == "List[Real] -> Real"
    assert program["any_pos"].type_text == "List[Real] -> Bool"


def test_inside_list_each_list_of_the_batch_is_folded(program):
    batch = [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]
    assert program["sums"](batch).tolist() == [6.0, 15.0]
    assert program["sums"](np.zeros((2, 0))).tolist() == [0.0, 0.0]


def test_vjp_matches_central_differences(program):
    for name in ("product", "soft", "sums"):
        report = gradcheck(program, name)
        assert report.ok, (name, report.to_json())


def test_vjp_values_of_a_product(program):
    xs = np.array([2.0, -3.0, 0.5])
    grads = program["product"].vjp(xs, 1.0)
    (dx,) = grads["inputs"]
    assert np.allclose(dx, [-1.5, 1.0, -6.0], rtol=0, atol=1e-15)  # ∏ / x_i


def test_vjp_of_the_empty_list_is_empty(program):
    (dx,) = program["product"].vjp(np.zeros((0,)), 1.0)["inputs"]
    assert np.shape(dx) == (0,)


def test_reference_interpreter_agrees(program):
    reference = Reference(KERNELS)
    xs = np.array([0.3, -1.2, 0.7, 2.0])
    for name in ("product", "soft"):
        morphism = program[name]
        (fast,) = morphism.run((xs,), {})
        (slow,) = reference.run(morphism.diagram, (xs,))
        assert float(fast) == float(slow)
        _, fast_grads = program.backend.vjp(morphism.plan, (xs,), {}, {}, (0.7,), {"inputs"})
        _, slow_grads = reference.vjp(morphism.diagram, (xs,), {}, {}, (0.7,), {"inputs"})
        assert np.array_equal(fast_grads["inputs"][0], slow_grads["inputs"][0])


def test_gradcheck_through_a_discrete_op_is_refused(program):
    with pytest.raises(CatError) as err:
        gradcheck(program, "any_pos")
    (diagnostic,) = err.value.diagnostics
    assert diagnostic.code == "E0330"
    assert "`gt`" in diagnostic.message


def test_training_through_a_discrete_op_is_refused():
    source = """
import std.ml
import std.lists
import std.logic
import std.optim
param v : Real[2] = [0.5, -1.0]
data zero : Real = 0.0
data xs : List[Real[2]] = [[1.0, 2.0], [3.0, -1.0]]
morphism Bigger : Real * Real -> Real =
    ⟨snd[Real, Real] >> Real * zero >> gt, fst[Real, Real]⟩ >> snd[Bool, Real]
morphism Loss : Unit -> Real = xs >> List(dot(v)) >> fold(Bigger, 0.0)
let step = TrainStep(Loss, lr = 0.1)
"""
    with pytest.raises(CatError) as err:
        catdsl.loads(source)
    (d,) = err.value.diagnostics
    assert d.code == "E0330" and "through `gt` (in `Bigger`)" in d.message


def test_an_op_that_does_not_fit_is_named_at_its_argument():
    source = "import std.lists\nimport std.logic\nlet bad = fold(not, true)\n"
    with pytest.raises(CatError) as err:
        catdsl.loads(source)
    (d,) = err.value.diagnostics
    assert d.code == "E0390"
    assert d.message == (
        "`fold`'s `op` must be a morphism `b * a -> b`, but `not` is `Bool[*s] -> Bool[*s]`"
    )
    assert (d.span.line, d.span.column) == (3, 16)


def test_a_unit_of_the_wrong_kind_is_named_at_its_argument():
    source = "import std.lists\nimport std.logic\nlet bad = fold(and, 1.5)\n"
    with pytest.raises(CatError) as err:
        catdsl.loads(source)
    (d,) = err.value.diagnostics
    assert d.code == "E0390"
    assert "`unit`" in d.message and "`1.5` is `Unit -> Real`" in d.message
    assert (d.span.line, d.span.column) == (3, 21)


def test_a_learnable_op_is_refused():
    source = """
import std.ml
import std.lists
param w : Real = 0.5
morphism Weighted : Real * Real -> Real = Real * (Real * w >> mul) >> add
let bad = fold(Weighted, 0.0)
"""
    with pytest.raises(CatError) as err:
        catdsl.loads(source)
    (d,) = err.value.diagnostics
    assert d.code == "E0391"
    assert "`w`" in d.message
    assert d.span.line == 6


def test_a_missing_unit_is_one_error():
    with pytest.raises(CatError) as err:
        catdsl.loads("import std.lists\nimport std.ml\nlet bad = fold(add)\n")
    (d,) = err.value.diagnostics
    assert d.message == "`fold` needs its `unit` argument"


def test_the_box_carries_its_arguments_and_draws_them(program, tmp_path):
    diagram = program["total_own"].diagram
    boxes = [b for b in _all_boxes(diagram) if isinstance(b, PrimBox) and b.name == "fold"]
    (box,) = boxes
    assert [sub.name for sub in box.subs] == ["Plus", "zero"]
    assert box.label == "fold(Plus, zero)"
    from catdsl.render.dot import to_dot

    dot = to_dot(diagram)
    assert 'label="fold(Plus, zero)"' in dot
    assert 'label="op = Plus"' in dot and 'label="unit = zero"' in dot


def _all_boxes(diagram):
    for box in diagram.inner_boxes():
        yield box
        sub = getattr(box, "sub", None)
        if sub is not None:
            yield from _all_boxes(sub)


def test_folds_of_the_monoids_agree_with_their_primitives_on_sampled_lists():
    program = catdsl.loads(
        """
import std.lists
import std.logic
import std.ml
law all_is_fold : fold(and, true) == all
law any_is_fold : fold(or, false) == any
law sums_split : concat >> fold(add, 0.0) == fold(add, 0.0) * fold(add, 0.0) >> add
"""
    )
    reports = program.check_laws(samples=16)
    assert [r.name for r in reports if r.holds] == ["all_is_fold", "any_is_fold", "sums_split"]
    assert all(r.samples == 16 for r in reports)  # the empty lists first (the law sampler)
