"""Generic signatures of the standard-library primitives, over carriers.

Each primitive gives, with fresh variables, the types its parameter arguments must have and
its domain and codomain. `*s` is a variadic shape prefix, so every kernel is batch-polymorphic
(`softmax : Real[*s, n] -> Simplex[*s, n]` also types a `Real[T, V]` sequence of logits).
"""

from __future__ import annotations

from collections.abc import Mapping

from catdsl.typesys.dims import Dim
from catdsl.typesys.primitives import FreshVars, PrimSig
from catdsl.typesys.types import Atom, Carrier, Prod, Shape, TVar, number_kind_var

Static = Mapping[str, object]


def _real(*dims: Dim, rest: str | None = None) -> Carrier:
    return Carrier("Real", Shape(tuple(dims), rest))


def _simplex(*dims: Dim, rest: str | None = None) -> Carrier:
    return Carrier("Simplex", Shape(tuple(dims), rest))


def _index(bound: Dim, rest: str | None = None) -> Carrier:
    return Carrier("Index", Shape((), rest), bound)


def _bool(*dims: Dim, rest: str | None = None) -> Carrier:
    return Carrier("Bool", Shape(tuple(dims), rest))


def _p(*atoms: Atom) -> Prod:
    return Prod(tuple(atoms))


def elementwise(_static: Static) -> PrimSig:
    """`Real[*s] -> Real[*s]`: the signature of a primitive applied entry by entry."""
    v = FreshVars()
    x = _real(rest=v.rest())
    return PrimSig((), _p(x), _p(x))


def binary(_static: Static) -> PrimSig:
    v = FreshVars()
    x = _real(rest=v.rest())
    return PrimSig((), _p(x, x), _p(x))


def lookup(_static: Static) -> PrimSig:
    v = FreshVars()
    return PrimSig((_real(v.n, v.d),), _p(_index(v.n, v.rest())), _p(_real(v.d, rest=v.rest())))


def affine(_static: Static) -> PrimSig:
    v = FreshVars()
    return PrimSig(
        (_real(v.n, v.m), _real(v.m)), _p(_real(v.n, rest=v.rest())), _p(_real(v.m, rest=v.rest()))
    )


def _number(kind: str, *dims: Dim, rest: str | None = None) -> Carrier:
    return Carrier(kind, Shape(tuple(dims), rest))


def linear(_static: Static) -> PrimSig:
    """`x·W` for `W : k[n, m]` and `x : k[*s, n]`, `k` one of `Real`, `Nat`, `Int` for all three."""
    v = FreshVars()
    k = number_kind_var(v.tag)
    return PrimSig(
        (_number(k, v.n, v.m),),
        _p(_number(k, v.n, rest=v.rest())),
        _p(_number(k, v.m, rest=v.rest())),
    )


def dot(_static: Static) -> PrimSig:
    v = FreshVars()
    return PrimSig((_real(v.n),), _p(_real(v.n, rest=v.rest())), _p(_real(rest=v.rest())))


def reduce(_static: Static) -> PrimSig:
    v = FreshVars()
    return PrimSig((), _p(_real(rest=v.rest())), _p(_real()))


def softmax(_static: Static) -> PrimSig:
    v = FreshVars()
    return PrimSig((), _p(_real(v.n, rest=v.rest())), _p(_simplex(v.n, rest=v.rest())))


def log_softmax(_static: Static) -> PrimSig:
    v = FreshVars()
    x = _real(v.n, rest=v.rest())
    return PrimSig((), _p(x), _p(x))


def nll(_static: Static) -> PrimSig:
    v = FreshVars()
    s = v.rest()
    return PrimSig((), _p(_simplex(v.n, rest=s), _index(v.n, s)), _p(_real(rest=s)))


def cross_entropy(_static: Static) -> PrimSig:
    v = FreshVars()
    s = v.rest()
    return PrimSig((), _p(_real(v.n, rest=s), _index(v.n, s)), _p(_real(rest=s)))


def mse(_static: Static) -> PrimSig:
    v = FreshVars()
    x = _real(rest=v.rest())
    return PrimSig((), _p(x, x), _p(_real()))


def _count(static: Static, key: str) -> int:
    """A count argument (`k` of `windows`); the checker has made it a whole number."""
    value = static.get(key, 2)
    assert isinstance(value, int)
    return value


def windows(static: Static) -> PrimSig:
    v = FreshVars()
    k = _count(static, "k")
    a = v.atom("a")
    seq = Carrier("List", elem=_p(a))
    return PrimSig((), _p(seq), _p(Carrier("List", elem=Prod((a,) * k))))


def layer_norm(_static: Static) -> PrimSig:
    v = FreshVars()
    x = _real(v.d, rest=v.rest())
    return PrimSig((_real(v.d), _real(v.d)), _p(x), _p(x))


def scores(_static: Static) -> PrimSig:
    v = FreshVars()
    s = v.rest()
    return PrimSig(
        (), _p(_real(v.L, v.k, rest=s), _real(v.S, v.k, rest=s)), _p(_real(v.L, v.S, rest=s))
    )


def mask_scores(_static: Static) -> PrimSig:
    v = FreshVars()
    s = v.rest()
    x = _real(v.L, v.S, rest=s)
    return PrimSig((), _p(x, _bool(v.L, v.S, rest=s)), _p(x))


def mix(_static: Static) -> PrimSig:
    v = FreshVars()
    s = v.rest()
    return PrimSig(
        (), _p(_simplex(v.L, v.S, rest=s), _real(v.S, v.e, rest=s)), _p(_real(v.L, v.e, rest=s))
    )


def concat(static: Static) -> PrimSig:
    v = FreshVars()
    n = _count(static, "n")
    widths = [v.dim(f"w{i}") for i in range(n)]
    total = widths[0]
    for w in widths[1:]:
        total = total + w
    dom = _p(*(_real(w, rest=v.rest()) for w in widths))
    return PrimSig((), dom, _p(_real(total, rest=v.rest())))


def ffn(_static: Static) -> PrimSig:
    v = FreshVars()
    return PrimSig(
        (_real(v.d, v.h), _real(v.h), _real(v.h, v.e), _real(v.e)),
        _p(_real(v.d, rest=v.rest())),
        _p(_real(v.e, rest=v.rest())),
    )


def positional(_static: Static) -> PrimSig:
    v = FreshVars()
    x = _real(v.T, v.d)
    return PrimSig((_real(v.m, v.d),), _p(x), _p(x))


def _list(*atoms: Atom) -> Carrier:
    return Carrier("List", elem=_p(*atoms))


def _element(v: FreshVars, name: str) -> TVar:
    """A list's element, which may be a product (the kernel sees the list's columns)."""
    return TVar(v.rest(name), product=True)


def list_to_option(_static: Static) -> PrimSig:
    """`List[a] -> Option[a]`: `first`, `last`."""
    a = _element(FreshVars(), "a")
    return PrimSig((), _p(_list(a)), _p(Carrier("Option", elem=_p(a))))


def list_concat(_static: Static) -> PrimSig:
    """`List[a] * List[a] -> List[a]`."""
    a = _element(FreshVars(), "a")
    return PrimSig((), _p(_list(a), _list(a)), _p(_list(a)))


def list_length(_static: Static) -> PrimSig:
    """`List[a] -> Nat`."""
    a = _element(FreshVars(), "a")
    return PrimSig((), _p(_list(a)), _p(Carrier("Nat")))


def list_select(_static: Static) -> PrimSig:
    """`List[a] * List[Bool] -> List[a]`."""
    a = _element(FreshVars(), "a")
    return PrimSig((), _p(_list(a), _list(_bool())), _p(_list(a)))


def list_zip(_static: Static) -> PrimSig:
    """`List[a] * List[b] -> List[a * b]`."""
    v = FreshVars()
    a, b = _element(v, "a"), _element(v, "b")
    return PrimSig((), _p(_list(a), _list(b)), _p(_list(a, b)))


def position_lookup(_static: Static) -> PrimSig:
    """`i -> a` given a `table : List[a]`, `i` one `Nat` or `Index` position: `at(table)`."""
    v = FreshVars()
    a = v.atom("a")
    i = TVar(v.rest("i"), ("Nat", "Index"), scalar=True)
    return PrimSig((_list(a),), _p(i), _p(a))


NUMBERS = ("Real", "Nat", "Int")
"""The carrier kinds arithmetic is typed on."""
WHOLE = ("Nat", "Int")
"""The carrier kinds of whole numbers."""
ORDERED = ("Real", "Nat", "Int", "Index")
"""The carrier kinds compared by order: numbers, and indices (token ids, the elements of a
finite ordered object)."""
EQUATABLE = (*ORDERED, "Bool", "Symbol")
"""The carrier kinds compared by equality."""


def _var(v: FreshVars, kinds: tuple[str, ...], scalar: bool = False, nominal: bool = False) -> TVar:
    return TVar(v.rest("a"), kinds, scalar, nominal)


def numeric_binary(_static: Static) -> PrimSig:
    """`a * a -> a` for `a` a `Real`, `Nat` or `Int` carrier (of any shape): `add`, `mul`."""
    a = _var(FreshVars(), NUMBERS)
    return PrimSig((), _p(a, a), _p(a))


def whole_binary(_static: Static) -> PrimSig:
    """`a * a -> a` for `a` a `Nat` or `Int` carrier: `ceil_div`."""
    a = _var(FreshVars(), WHOLE)
    return PrimSig((), _p(a, a), _p(a))


def comparison(_static: Static) -> PrimSig:
    """`a * a -> Bool` for one ordered value `a`: `le`, `lt`, `ge`, `gt`."""
    a = _var(FreshVars(), ORDERED, scalar=True)
    return PrimSig((), _p(a, a), _p(_bool()))


def equality(_static: Static) -> PrimSig:
    """`a * a -> Bool` for one value `a` of a kind compared by equality: `eq`."""
    a = _var(FreshVars(), EQUATABLE, scalar=True)
    return PrimSig((), _p(a, a), _p(_bool()))


def lattice(_static: Static) -> PrimSig:
    """`a * a -> a` for one ordered value, an object keeping its name: `join`, `meet`."""
    a = _var(FreshVars(), ORDERED, scalar=True, nominal=True)
    return PrimSig((), _p(a, a), _p(a))


def logic_binary(_static: Static) -> PrimSig:
    """`Bool[*s] * Bool[*s] -> Bool[*s]`: `and`, `or`, `implies`, entry by entry."""
    x = _bool(rest=FreshVars().rest())
    return PrimSig((), _p(x, x), _p(x))


def logic_unary(_static: Static) -> PrimSig:
    """`Bool[*s] -> Bool[*s]`: `not`."""
    x = _bool(rest=FreshVars().rest())
    return PrimSig((), _p(x), _p(x))


def quantifier(_static: Static) -> PrimSig:
    """`List[Bool] -> Bool`: `all`, `any`."""
    return PrimSig((), _p(_list(_bool())), _p(_bool()))


STD_MODULES = {"std.ml", "std.attention", "std.optim", "std.lists", "std.logic"}
"""The standard-library modules a program may import (`std.optim` holds only families)."""


# ---------------------------------------------------------------------------------------------
# Evaluation morphisms (no gradient flows through them) and the primitives added one file each
# in `catdsl.std.prims`
# ---------------------------------------------------------------------------------------------


def argmax(_static: Static) -> PrimSig:
    """`Real[*s, n] -> Index[*s, n]`: the position of the largest entry of the last axis."""
    v = FreshVars()
    return PrimSig((), _p(_real(v.n, rest=v.rest())), _p(_index(v.n, v.rest())))


def agreement(_static: Static) -> PrimSig:
    """`List[Index[*s, n] * Index[*s, n]] -> Real`: predictions against labels over a list."""
    v = FreshVars()
    s = v.rest()
    return PrimSig((), _p(_list(_index(v.n, s), _index(v.n, s))), _p(_real()))


def scored(_static: Static) -> PrimSig:
    """`List[Real[*s, n] * Index[*s, n]] -> Real`: scores against labels over a list."""
    v = FreshVars()
    s = v.rest()
    return PrimSig((), _p(_list(_real(v.n, rest=s), _index(v.n, s))), _p(_real()))


def confusion(static: Static) -> PrimSig:
    """`List[Index[*s, n] * Index[*s, n]] -> Real[n, n]` with n the static `classes`."""
    v = FreshVars()
    s = v.rest()
    count = static.get("classes")
    n = Dim.const(count) if isinstance(count, int) else v.n
    return PrimSig((), _p(_list(_index(n, s), _index(n, s))), _p(_real(n, n)))


def rms_norm(_static: Static) -> PrimSig:
    """`Real[*s, d] -> Real[*s, d]` with a `scale : Real[d]` argument."""
    v = FreshVars()
    x = _real(v.d, rest=v.rest())
    return PrimSig((_real(v.d),), _p(x), _p(x))


def _axis(static: Static, key: str = "axis") -> int:
    """An axis counted from the end (−1 the last); the spec's check has made it one."""
    value = static.get(key, -1)
    return value if isinstance(value, int) and value < 0 else -1


def concat_axis(static: Static) -> PrimSig:
    """`Real[*s, w0, t…] * … * Real[*s, w(n−1), t…] -> Real[*s, w0 + … + w(n−1), t…]`: n
    arrays joined along `axis` (counted from the end); the axes after it agree."""
    v = FreshVars()
    n = _count(static, "n")
    tail = tuple(v.dim(f"t{i}") for i in range(-_axis(static) - 1))
    widths = [v.dim(f"w{i}") for i in range(n)]
    total = widths[0]
    for w in widths[1:]:
        total = total + w
    dom = _p(*(_real(w, *tail, rest=v.rest()) for w in widths))
    return PrimSig((), dom, _p(_real(total, *tail, rest=v.rest())))


def split_axis(static: Static) -> PrimSig:
    """`Real[*s, t, u…] -> Real[*s, at, u…] * Real[*s, t − at, u…]`: an array cut in two
    along `axis` (counted from the end) after its first `at` entries."""
    v = FreshVars()
    at = static.get("at")
    tail = tuple(v.dim(f"u{i}") for i in range(-_axis(static) - 1))
    if not isinstance(at, int):  # only the table of docs/language.md builds it without `at`
        return PrimSig(
            (),
            _p(_real(v.at + v.r, *tail, rest=v.rest())),
            _p(_real(v.at, *tail, rest=v.rest()), _real(v.r, *tail, rest=v.rest())),
        )
    first = Dim.const(at)
    return PrimSig(
        (),
        _p(_real(v.t, *tail, rest=v.rest())),
        _p(_real(first, *tail, rest=v.rest()), _real(v.t - first, *tail, rest=v.rest())),
    )


def transpose_axes(static: Static) -> PrimSig:
    """`Real[*s, d…] -> Real[*s, d…]` with the axes `a` and `b` (counted from the end)
    swapped: `Real[*s, m, n] -> Real[*s, n, m]` for the defaults −2 and −1."""
    v = FreshVars()
    a, b = _axis(static, "a"), _axis(static, "b")
    dims = [v.dim(f"d{i}") for i in range(max(-a, -b))]
    swapped = list(dims)
    swapped[a], swapped[b] = dims[b], dims[a]
    return PrimSig((), _p(_real(*dims, rest=v.rest())), _p(_real(*swapped, rest=v.rest())))


def matmul(_static: Static) -> PrimSig:
    """`Real[*s, m, k] * Real[*s, k, n] -> Real[*s, m, n]`: matrix products, batched; the same
    on `Nat` or `Int` (one kind for all three)."""
    v = FreshVars()
    s = v.rest()
    kind = number_kind_var(v.tag)
    return PrimSig(
        (),
        _p(_number(kind, v.m, v.k, rest=s), _number(kind, v.k, v.n, rest=s)),
        _p(_number(kind, v.m, v.n, rest=s)),
    )
