"""Types without variables (`types.ground`): what the checker skips when it applies bindings.

Applying a binding table to a ground type must give the very object back, whatever is bound;
a type with any kind of variable (an atom variable, a dim `?n`, a shape prefix `*s`, a number
kind) is not ground. The cached flag is no field: it changes neither equality nor the repr.
"""

from __future__ import annotations

from catdsl.loader import check_text
from catdsl.typesys.dims import Dim
from catdsl.typesys.types import Carrier, Obj, Prod, Record, Shape, TVar, ground, number_kind_var
from catdsl.typesys.unify import Subst

D = Dim.const(4)
N = Dim.symbol("?n#1")


def real(*dims: Dim, rest: str | None = None, kind: str = "Real") -> Carrier:
    return Carrier(kind, Shape(tuple(dims), rest))


def test_what_is_ground() -> None:
    obj = Obj("H", real(N))  # bindings never look inside an object, even over a variable
    assert ground(real(D, Dim.symbol("T")))  # a rigid dim (`dim T`) is no variable
    assert ground(obj)
    assert ground(Prod((real(D), obj)))
    assert ground(Carrier("List", elem=Prod((real(D),))))
    assert ground(Record("Params", (("W", real(D, D)),)))
    assert not ground(real(D, N))
    assert not ground(real(D, rest="?s#1"))
    assert not ground(real(D, kind=number_kind_var(1)))
    assert not ground(Carrier("Index", bound=N))
    assert not ground(Carrier("List", elem=Prod((TVar("?a#1"),))))
    assert not ground(Prod((real(D), TVar("?a#1"))))
    assert not ground(Record("Params", (("W", real(N)),)))


def test_bindings_leave_a_ground_type_as_it_is() -> None:
    subst = Subst()
    subst.unify_dim(N, D)
    subst.rests["?s#1"] = Shape((D,))
    subst.final = True
    p = Prod((real(D, D), Obj("H", real(D))))
    assert subst.prod(p) is p
    assert subst.atom(p.atoms[0]) is p.atoms[0]
    assert subst.prod(Prod((real(N, rest="?s#1"),))) == Prod((real(D, D),))


def test_the_cached_flag_is_no_field() -> None:
    a, b = real(D, D), real(D, D)
    assert ground(a)
    assert a == b and hash(a) == hash(b) and repr(a) == repr(b)
    assert "_ground" not in repr(Prod((a,)))


def test_finished_definitions_hold_ground_types() -> None:
    program = check_text(
        "import std.ml\n"
        "dim D = 3\n"
        "param W : Real[D, D] = zeros\n"
        "param b : Real[D] = zeros\n"
        "let f = affine(W, b) >> tanh\n"
        "let g = f >> f\n"
    )
    assert not program.diagnostics
    g = program.definitions["g"].term
    assert ground(g.dom) and ground(g.cod)
    assert all(ground(p.atom) for p in g.ports)
    assert str(g.dom) == "Real[3]" and [p.name for p in g.ports] == ["W", "b"]
