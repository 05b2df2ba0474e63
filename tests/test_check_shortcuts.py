"""The checker's shortcuts give what the long way gives.

Unification meets types it has just resolved without resolving them again, unless a chain of
bindings reached the 50-link bound of applying (`Subst.capped`); a ground dim is its own
resolution; an array type written with names and numbers is read once per distinct text,
while a mistake in one is reported wherever it is written; the training families answer `in`.
"""

from __future__ import annotations

import pytest

from catdsl.loader import check_text
from catdsl.std.optim import FAMILIES
from catdsl.typesys.dims import Dim
from catdsl.typesys.types import Carrier, Prod, Shape, dim_ground
from catdsl.typesys.unify import Mismatch, Reason, Subst

D = Dim.const(4)


def real(*dims: Dim, rest: str | None = None) -> Carrier:
    return Carrier("Real", Shape(tuple(dims), rest))


def test_a_ground_dim_is_its_own_resolution() -> None:
    subst = Subst()
    subst.unify_dim(Dim.symbol("?n#1"), D)
    rigid = Dim.symbol("T")  # a free `dim T` is no variable
    assert subst.dim(rigid) is rigid and subst.dim(D) is D
    assert dim_ground(rigid) and not dim_ground(Dim.symbol("?m#1"))
    assert subst.dim(Dim.symbol("?n#1")) == D
    assert "_ground" not in repr(D) and Dim.const(4) == D and hash(D) == hash(Dim.const(4))


def test_dims_bound_while_a_shape_is_met_are_seen_by_the_next_axis() -> None:
    subst = Subst()
    n = Dim.symbol("?n#1")
    subst.unify_carrier(real(n, n), real(D, D))  # the second axis meets `?n`, bound by the first
    assert subst.carrier(real(n, n)) == real(D, D)
    subst = Subst()
    with pytest.raises(Mismatch) as caught:  # `?n` is 4 after the first axis: 5 differs
        subst.unify_carrier(real(n, n), real(D, Dim.const(5)))
    assert caught.value.reason is Reason.DIMS_DIFFER
    assert (str(caught.value.expected), str(caught.value.found)) == ("Real[4, 4]", "Real[4, 5]")


def test_a_chain_longer_than_the_bound_turns_the_shortcuts_off() -> None:
    subst = Subst()
    for i in range(60):  # *s0 is *s1, which is *s2, ... sixty links
        subst.rests[f"?s{i}"] = Shape((), f"?s{i + 1}")
    assert not subst.capped
    shape = subst.shape(Shape((D,), "?s0"))
    assert shape == Shape((D,), "?s50")  # applying stops after 50 links, as it always did
    assert subst.capped
    subst.unify_prod(Prod((real(rest="?t"),)), Prod((real(D, rest="?s0"),)))
    # each step resolves again, as before the shortcuts: the binding reaches the chain's end
    assert subst.rests["?t"] == Shape((D,), "?s60")


def test_an_array_type_is_read_once_and_a_mistake_in_one_everywhere() -> None:
    program = check_text(
        "import std.ml\n"
        "dim D = 3\n"
        "param W : Real[D, D] = zeros\n"
        "morphism F : Real[D, D] -> Real[D, D] = tanh\n"
    )
    assert not program.diagnostics
    dom = program.definitions["F"].term.dom
    assert program.params["W"].carrier is dom.atoms[0]  # one reading of `Real[D, D]`
    assert str(dom) == "Real[D, D]"
    broken = check_text(
        "import std.ml\nparam W : Real[Q, 2] = zeros\nparam V : Real[Q, 2] = zeros\n"
    )
    places = [(d.code, d.span.line, d.span.column) for d in broken.diagnostics if d.span]
    assert [line for _, line, _ in places] == [2, 3]
    assert len({code for code, _, _ in places}) == 1


def test_families_answer_in() -> None:
    assert "TrainStep" in FAMILIES and "MeanLoss" in FAMILIES
    assert "TrainStepp" not in FAMILIES and 3 not in FAMILIES
