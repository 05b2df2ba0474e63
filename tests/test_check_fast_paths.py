"""The fast paths of expression checking and unification give what the long way gives.

Two equal ground products meet without binding anything; a ground product has no shape
prefix to default; a dim bound to a ground dim is resolved in one step, while a chain of
bindings still stops (and marks the table `capped`) at 50 links; a carrier meets a carrier
as it did through the general case; a signature's `v.n` is one dim per instantiation; the
checker dispatches every kind of expression; a primitive met by ground arguments releases
only its own fresh variables, into the types finishing would give; finishing starts from a
product the boundary already resolved to a ground one; a primitive met again by the same
ground types is what building it gives, its variables retagged as building would tag them.
"""

from __future__ import annotations

import re
import typing

import pytest

from catdsl.loader import check_text
from catdsl.syntax import ast
from catdsl.typesys import terms as T
from catdsl.typesys.dims import Dim
from catdsl.typesys.expressions import _CHECKS, ExpressionChecker
from catdsl.typesys.primitives import FreshVars, PrimSpec, issued, retagged
from catdsl.typesys.program import CheckedProgram
from catdsl.typesys.resolve import resolve_term
from catdsl.typesys.types import Carrier, Prod, Shape
from catdsl.typesys.unify import Mismatch, Reason, Subst

D = Dim.const(4)


def real(*dims: Dim, rest: str | None = None) -> Carrier:
    return Carrier("Real", Shape(tuple(dims), rest))


def tables(subst: Subst) -> list[dict[str, object]]:
    return [subst.dims, subst.rests, subst.atoms, subst.products, subst.kinds]  # type: ignore[list-item]


def test_equal_ground_products_meet_without_binding() -> None:
    subst = Subst()
    labelled = Dim(D.terms, "D")  # equal to 4: a label is how a dim is shown, not what it is
    subst.unify_prod(Prod((real(D), real(D, D))), Prod((real(labelled), real(D, labelled))))
    assert all(not t for t in tables(subst))
    with pytest.raises(Mismatch) as caught:  # unequal ground products still differ, as before
        subst.unify_prod(Prod((real(D),)), Prod((real(Dim.const(5)),)))
    assert caught.value.reason is Reason.DIMS_DIFFER
    assert (str(caught.value.expected), str(caught.value.found)) == ("Real[4]", "Real[5]")


def test_default_rests_binds_only_free_prefixes() -> None:
    subst = Subst()
    subst.default_rests(Prod((real(D),)))
    assert subst.rests == {}
    subst.default_rests(Prod((real(D, rest="?s#1"),)))
    assert subst.rests == {"?s#1": Shape()}
    assert subst.prod(Prod((real(D, rest="?s#1"),))) == Prod((real(D),))


@pytest.mark.parametrize(("links", "capped"), [(49, False), (50, True)])
def test_a_dim_chain_ending_ground_resolves_and_caps_as_before(links: int, capped: bool) -> None:
    subst = Subst()
    for i in range(links - 1):  # ?n0 is ?n1, ... and the last is 4: `links` bindings
        subst.dims[f"?n{i}"] = Dim.symbol(f"?n{i + 1}")
    subst.dims[f"?n{links - 1}"] = Dim(D.terms, "D")
    resolved = subst.dim(Dim.symbol("?n0"))
    assert resolved == D and resolved.label is None  # the variable's label, as `substitute`
    assert subst.capped is capped


def test_a_carrier_meets_a_carrier_as_in_the_general_case() -> None:
    subst = Subst()
    n, m = Dim.symbol("?n#1"), Dim.symbol("?m#1")
    subst.flow(real(D, Dim.const(3)), real(n, m))  # a param entering `affine`'s weight
    assert subst.dims == {"?n#1": D, "?m#1": Dim.const(3)}
    mask = Carrier("AllowMask", Shape((D,)))
    subst.flow(mask, Carrier("Bool", Shape((), "?s#2")))  # read as a `Bool` mask of its shape
    assert subst.rests == {"?s#2": Shape((D,))}
    with pytest.raises(Mismatch) as caught:
        subst.flow(mask, real(rest="?t#3"))
    assert caught.value.reason is Reason.CARRIERS_DIFFER


def test_a_signature_variable_is_one_dim_per_instantiation() -> None:
    first, second = FreshVars(), FreshVars()
    assert first.n is first.n and first.n == Dim.symbol(f"?n#{first.tag}")
    assert first.n != second.n and first.dim("n") == first.n


def test_every_expression_kind_is_dispatched() -> None:
    kinds = set(typing.get_args(ast.Expr))
    assert set(_CHECKS) | {ast.Name, ast.Compose} == kinds
    program = check_text(
        "import std.ml\n"
        "dim D = 4\n"
        "let a = Real[D] >> tanh >> <id[Real[D]], exp> >> fst[Real[D], Real[D]]\n"
        "let b = (tanh * exp) >> add\n"
        "let c = tanh ^ 2\n"
        "let k = 1.5\n"
    )
    assert not program.diagnostics
    assert str(program.definitions["a"].term.cod) == "Real[D]"
    assert str(program.definitions["c"].term.dom) == "Real"
    assert str(program.definitions["k"].term.cod) == "Real"


def _affine_met_by_ground_weights(subst: Subst) -> tuple[FreshVars, Prod, Prod]:
    """`affine`'s signature with a `Real[D, 3]` weight and a `Real[3]` bias met."""
    v = FreshVars()
    subst.flow(real(Dim(D.terms, "D"), Dim.const(3)), real(v.n, v.m))
    subst.flow(real(Dim.const(3)), real(v.m))
    return v, Prod((real(v.n, rest=v.rest()),)), Prod((real(v.m, rest=v.rest()),))


def test_a_primitive_met_by_ground_arguments_releases_its_variables() -> None:
    subst = Subst()
    subst.rests["?t#0"] = Shape()  # a binding made before: kept
    sizes = subst.sizes()
    v, dom, cod = _affine_met_by_ground_weights(subst)
    assert subst.dims == {f"?n#{v.tag}": D, f"?m#{v.tag}": Dim.const(3)}
    released = subst.release(sizes, v.tag, dom, cod)
    assert released is not None
    assert subst.dims == {} and subst.rests == {"?t#0": Shape()}
    assert released == (Prod((real(D, rest=v.rest()),)), Prod((real(Dim.const(3), rest=v.rest()),)))
    # the dim shows as the variable's occurrence did (no label), as finishing would give it
    assert released[0].atoms[0].shape.dims[0].label is None  # type: ignore[union-attr]
    # once the batch prefix is bound, the released types finish as the originals would have
    subst.rests[v.rest()] = Shape()
    whole = Subst()
    whole.dims = {f"?n#{v.tag}": D, f"?m#{v.tag}": Dim.const(3)}
    whole.rests = {v.rest(): Shape()}
    for now, then in zip(released, (dom, cod), strict=True):
        finished, expected = subst.prod(now), whole.prod(then)
        assert finished == expected
        assert [d.label for d in finished.atoms[0].shape.dims] == [None]  # type: ignore[union-attr]


@pytest.mark.parametrize("why", ["older variable", "capped"])
def test_bindings_not_made_fresh_by_the_primitive_are_kept(why: str) -> None:
    subst = Subst()
    sizes = subst.sizes()
    v, dom, cod = _affine_met_by_ground_weights(subst)
    first = v.tag
    if why == "older variable":
        first = v.tag + 1  # its variables were made before the mark: another use may share them
    else:
        subst.capped = True
    bound = dict(subst.dims)
    assert subst.release(sizes, first, dom, cod) is None
    assert subst.dims == bound


def test_finishing_starts_from_a_ground_resolution() -> None:
    subst = Subst()
    x = real(rest="?s#1")  # a `tanh`: its domain and codomain share their atom
    dom, cod = Prod((x,)), Prod((x,))
    assert subst.resolved(cod) is cod and subst.finals == {}  # not ground: not remembered
    subst.rests["?s#1"] = Shape((D,))
    ground = subst.resolved(cod)
    assert ground == Prod((real(D),)) and subst.finals == {id(cod): (cod, ground)}
    finished = resolve_term(T.Struct(dom, cod, None, kind="id"), subst)
    assert finished.cod is ground  # resolved once, at the boundary
    assert finished.dom == ground and finished.dom.atoms[0] is ground.atoms[0]


REMEMBERED = """import std.ml
dim D = 4
dim K = 3
param W0 : Real[D, K] = zeros
param b0 : Real[K] = zeros
param W1 : Real[D, K] = zeros
param b1 : Real[K] = zeros
param M : Real[K, K] = zeros
morphism L0 : Real[D] -> Real[K] = affine(W0, b0) >> tanh
morphism L1 : Real[D] -> Real[K] = affine(W1, b1) >> tanh
morphism P : Real[K] -> Real[K] = linear(M) >> linear(M)
let batch = affine(W1, b1)
let open = softmax
"""


def test_a_primitive_met_again_by_the_same_types_is_what_building_it_gives(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    hits: list[str] = []
    known = ExpressionChecker._known_instance

    def counted(self: ExpressionChecker, spec: PrimSpec, given: typing.Any) -> typing.Any:
        found = known(self, spec, given)
        if found is not None:
            hits.append(spec.name)
        return found

    monkeypatch.setattr(ExpressionChecker, "_known_instance", counted)
    fast, fast_text = _checked_from_tag_zero(REMEMBERED)
    assert hits == ["affine", "linear", "affine"]  # W1, b1 and `M` have the types met before
    monkeypatch.setattr(ExpressionChecker, "_known_instance", lambda *_: None)
    slow, slow_text = _checked_from_tag_zero(REMEMBERED)
    assert not fast.diagnostics and not slow.diagnostics
    # every term with its types and variables (their tags too) as the long way gives them
    assert fast_text == slow_text
    batch = fast.definitions["batch"].term
    assert (str(batch.dom), str(batch.cod)) == ("Real[4]", "Real[3]")  # labels as before
    opened = fast.definitions["open"].term.dom.atoms[0]  # a variable left free, tagged
    assert str(opened) == "Real[n]" and "#" in opened.shape.dims[0].terms[0][0][0]  # type: ignore[union-attr]


def _checked_from_tag_zero(text: str) -> tuple[CheckedProgram, str]:
    """The checked program and its definitions as text, each variable's tag counted from the
    first tag this check took."""
    first = issued()
    program = check_text(text)
    shown = re.sub(r"#(\d+)", lambda m: f"#{int(m.group(1)) - first}", repr(program.definitions))
    return program, shown


def test_retagging_renames_only_the_signature_s_own_variables() -> None:
    x = Carrier("?Real#7", Shape((D,), "?s#8"))  # tags 7 and 8: the signature's (two taken)
    other = real(D, rest="?t#3")  # an older variable: kept as it is
    fixed = real(D)  # ground: the very carrier
    memo: dict[int, Carrier] = {}
    dom = retagged(Prod((x, other, fixed)), 7, 2, 20, memo)
    cod = retagged(Prod((x,)), 7, 2, 20, memo)
    assert dom == Prod((Carrier("?Real#20", Shape((D,), "?s#21")), other, fixed))
    assert dom is not None and dom.atoms[2] is fixed
    assert cod is not None and cod.atoms[0] is dom.atoms[0]  # a shared atom stays shared
    assert retagged(Prod((real(Dim.symbol("?n#7")),)), 7, 2, 20, {}) is None  # a free dim
