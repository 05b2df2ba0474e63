"""Finishing a definition (`resolve.resolve_term`): types resolved, kernel ranks filled in,
and every term below the root a new object, so which terms are shared stays as the checker
built it (lowering memoises by identity)."""

from __future__ import annotations

from catdsl.loader import check_text
from catdsl.typesys import terms as T
from catdsl.typesys.types import Carrier

BOUND = """import std.ml

dim V = 5
object TokenId      : Index[V]
object Distribution : Simplex[V]
object Loss         : Real
morphism CrossEntropy[target: TokenId] : Distribution -> Loss = nll
data love : TokenId = 2

let fixed = CrossEntropy[love]
let twice = fixed * fixed
"""


def test_a_point_used_by_name_is_a_copy_of_its_definition() -> None:
    program = check_text(BOUND, "bound.cat")
    love = program.definitions["love"].term
    fixed = program.definitions["fixed"].term
    assert isinstance(fixed, T.Ref) and isinstance(fixed.body, T.Bind)
    ((port, point),) = fixed.body.bindings
    assert port == "target"
    assert point == love and point is not love  # equal, yet not the definition's own term


def test_a_use_of_a_definition_shares_its_body_not_the_use() -> None:
    program = check_text(BOUND, "bound.cat")
    fixed = program.definitions["fixed"].term
    twice = program.definitions["twice"].term
    assert isinstance(fixed, T.Ref) and isinstance(twice, T.Ref)
    assert isinstance(twice.body, T.Par)
    left, right = twice.body.parts
    assert isinstance(left, T.Ref) and isinstance(right, T.Ref)
    assert left is not right and left is not fixed  # each use is its own term
    assert left.body is fixed.body and right.body is fixed.body  # the body is not copied


RANKS = """import std.ml
param W : Real[3, 4] = zeros
param b : Real[4] = zeros
let f : Real[3] -> Real[4] = affine(W, b) >> tanh
let g = matmul
"""


def test_kernel_ranks_count_the_domain_then_the_array_arguments() -> None:
    term = check_text(RANKS, "ranks.cat").definitions["f"].term
    assert isinstance(term, T.Ref) and isinstance(term.body, T.Seq)
    affine, tanh = term.body.parts
    assert isinstance(affine, T.Prim) and isinstance(tanh, T.Prim)
    assert [str(a) for a in affine.arg_types] == ["Real[3, 4]", "Real[4]"]
    assert affine.in_ranks == (1, 2, 1)  # Real[3], then W and b
    assert (str(tanh.dom), tanh.in_ranks) == ("Real[4]", (1,))


def test_a_number_kind_left_free_is_real() -> None:
    term = check_text(RANKS, "ranks.cat").definitions["g"].term
    assert isinstance(term, T.Ref) and isinstance(term.body, T.Prim)
    kinds = [a.kind for a in term.body.dom.atoms if isinstance(a, Carrier)]
    assert kinds == ["Real", "Real"]
    assert term.body.in_ranks == (2, 2)


CUTS = """import std.ml
import std.logic
param v : Real[2] = [0.5, -1.0]
data one : Real = 1.0
let judge = dot(v) * one >> gt
let score = dot(v)
let both = <judge, score >> tanh>
let pipe(x: Real[2]) -> Real = { s = score(x); return tanh(s) }
data xs : List[Real[2]] = [[1.0, 2.0], [3.0, 4.0]]
let step = TrainStep(score >> tanh, xs, lr = 0.1)
"""


def test_finished_terms_know_whether_they_hold_a_box_without_a_gradient() -> None:
    program = check_text(CUTS, "cuts.cat")
    assert not program.diagnostics
    held = {name: d.term._no_cut for name, d in program.definitions.items() if d.kind != "data"}
    # `gt` has no gradient: `judge` and what uses it are searched; the rest need not be
    assert held == {
        "judge": False,
        "score": True,
        "both": False,
        "pipe": True,
        "step": True,
    }
    judge = program.definitions["judge"].term
    assert isinstance(judge, T.Ref) and isinstance(judge.body, T.Seq)
    assert [p._no_cut for p in judge.body.parts] == [True, False]
    assert (
        "_no_cut" not in repr(judge)
        and judge == check_text(CUTS, "cuts.cat").definitions["judge"].term
    )
