"""Generic signatures of the standard-library primitives, over carriers.

Each primitive gives, with fresh variables, the types its parameter arguments must have and
its domain and codomain. `*s` is a variadic shape prefix, so every kernel is batch-polymorphic
(`softmax : Real[*s, n] -> Simplex[*s, n]` also types a `Real[T, V]` sequence of logits).
"""

from __future__ import annotations

from collections.abc import Mapping

from catdsl.typesys.dims import Dim
from catdsl.typesys.primitives import FreshVars, PrimSig, PrimSpec
from catdsl.typesys.types import Atom, Carrier, Prod, Shape

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


def _elementwise(_static: Static) -> PrimSig:
    v = FreshVars()
    x = _real(rest=v.rest())
    return PrimSig((), _p(x), _p(x))


def _binary(_static: Static) -> PrimSig:
    v = FreshVars()
    x = _real(rest=v.rest())
    return PrimSig((), _p(x, x), _p(x))


def _lookup(_static: Static) -> PrimSig:
    v = FreshVars()
    return PrimSig((_real(v.n, v.d),), _p(_index(v.n, v.rest())), _p(_real(v.d, rest=v.rest())))


def _affine(_static: Static) -> PrimSig:
    v = FreshVars()
    return PrimSig(
        (_real(v.n, v.m), _real(v.m)), _p(_real(v.n, rest=v.rest())), _p(_real(v.m, rest=v.rest()))
    )


def _linear(_static: Static) -> PrimSig:
    v = FreshVars()
    return PrimSig((_real(v.n, v.m),), _p(_real(v.n, rest=v.rest())), _p(_real(v.m, rest=v.rest())))


def _dot(_static: Static) -> PrimSig:
    v = FreshVars()
    return PrimSig((_real(v.n),), _p(_real(v.n, rest=v.rest())), _p(_real(rest=v.rest())))


def _reduce(_static: Static) -> PrimSig:
    v = FreshVars()
    return PrimSig((), _p(_real(rest=v.rest())), _p(_real()))


def _softmax(_static: Static) -> PrimSig:
    v = FreshVars()
    return PrimSig((), _p(_real(v.n, rest=v.rest())), _p(_simplex(v.n, rest=v.rest())))


def _log_softmax(_static: Static) -> PrimSig:
    v = FreshVars()
    x = _real(v.n, rest=v.rest())
    return PrimSig((), _p(x), _p(x))


def _nll(_static: Static) -> PrimSig:
    v = FreshVars()
    s = v.rest()
    return PrimSig((), _p(_simplex(v.n, rest=s), _index(v.n, s)), _p(_real(rest=s)))


def _cross_entropy(_static: Static) -> PrimSig:
    v = FreshVars()
    s = v.rest()
    return PrimSig((), _p(_real(v.n, rest=s), _index(v.n, s)), _p(_real(rest=s)))


def _mse(_static: Static) -> PrimSig:
    v = FreshVars()
    x = _real(rest=v.rest())
    return PrimSig((), _p(x, x), _p(_real()))


def _count(static: Static, key: str) -> int:
    """A count argument (`k` of `windows`); the checker has made it a whole number."""
    value = static.get(key, 2)
    assert isinstance(value, int)
    return value


def _windows(static: Static) -> PrimSig:
    v = FreshVars()
    k = _count(static, "k")
    a = v.atom("a")
    seq = Carrier("List", elem=_p(a))
    return PrimSig((), _p(seq), _p(Carrier("List", elem=Prod((a,) * k))))


def _layer_norm(_static: Static) -> PrimSig:
    v = FreshVars()
    x = _real(v.d, rest=v.rest())
    return PrimSig((_real(v.d), _real(v.d)), _p(x), _p(x))


def _scores(_static: Static) -> PrimSig:
    v = FreshVars()
    s = v.rest()
    return PrimSig(
        (), _p(_real(v.L, v.k, rest=s), _real(v.S, v.k, rest=s)), _p(_real(v.L, v.S, rest=s))
    )


def _mask_scores(_static: Static) -> PrimSig:
    v = FreshVars()
    s = v.rest()
    x = _real(v.L, v.S, rest=s)
    return PrimSig((), _p(x, _bool(v.L, v.S, rest=s)), _p(x))


def _mix(_static: Static) -> PrimSig:
    v = FreshVars()
    s = v.rest()
    return PrimSig(
        (), _p(_simplex(v.L, v.S, rest=s), _real(v.S, v.e, rest=s)), _p(_real(v.L, v.e, rest=s))
    )


def _concat(static: Static) -> PrimSig:
    v = FreshVars()
    n = _count(static, "n")
    widths = [v.dim(f"w{i}") for i in range(n)]
    total = widths[0]
    for w in widths[1:]:
        total = total + w
    dom = _p(*(_real(w, rest=v.rest()) for w in widths))
    return PrimSig((), dom, _p(_real(total, rest=v.rest())))


def _ffn(_static: Static) -> PrimSig:
    v = FreshVars()
    return PrimSig(
        (_real(v.d, v.h), _real(v.h), _real(v.h, v.e), _real(v.e)),
        _p(_real(v.d, rest=v.rest())),
        _p(_real(v.e, rest=v.rest())),
    )


def _positional(_static: Static) -> PrimSig:
    v = FreshVars()
    x = _real(v.T, v.d)
    return PrimSig((_real(v.m, v.d),), _p(x), _p(x))


ML, ATT = "std.ml", "std.attention"

PRIMITIVES: dict[str, PrimSpec] = {
    spec.name: spec
    for spec in [
        PrimSpec("lookup", ML, ("table",), (), _lookup, "row `table[t]` of an index t"),
        PrimSpec("affine", ML, ("W", "b"), (), _affine, "`x·W + b`"),
        PrimSpec("linear", ML, ("W",), (), _linear, "`x·W`"),
        PrimSpec("add", ML, (), (), _binary, "elementwise sum"),
        PrimSpec("mul", ML, (), (), _binary, "elementwise product"),
        PrimSpec(
            "scale", ML, (), ("c",), _elementwise, "multiply by a constant c", defaults={"c": 1.0}
        ),
        PrimSpec("dot", ML, ("v",), (), _dot, "inner product with v"),
        PrimSpec("sum", ML, (), (), _reduce, "sum of all entries"),
        PrimSpec("mean", ML, (), (), _reduce, "mean of all entries"),
        PrimSpec("relu", ML, (), (), _elementwise, "`max(0, x)`"),
        PrimSpec("tanh", ML, (), (), _elementwise, "hyperbolic tangent"),
        PrimSpec("sigmoid", ML, (), (), _elementwise, "logistic function"),
        PrimSpec("softmax", ML, (), (), _softmax, "max-shifted softmax over the last axis"),
        PrimSpec("log_softmax", ML, (), (), _log_softmax, "log-softmax via log-sum-exp"),
        PrimSpec("nll", ML, (), (), _nll, "`-log(max(p[t], 1e-9))`"),
        PrimSpec("cross_entropy", ML, (), (), _cross_entropy, "fused softmax + nll on logits"),
        PrimSpec("mse", ML, (), (), _mse, "mean squared error"),
        PrimSpec(
            "windows",
            ML,
            (),
            ("k",),
            _windows,
            "overlapping windows of k items",
            defaults={"k": 2},
            count="k",
        ),
        PrimSpec(
            "layer_norm",
            ATT,
            ("scale", "shift"),
            ("eps",),
            _layer_norm,
            "layer norm",
            defaults={"eps": 1e-5},
        ),
        PrimSpec("scores", ATT, (), (), _scores, "`Q·Kᵀ / sqrt(k)`"),
        PrimSpec("mask_scores", ATT, (), (), _mask_scores, "blocked scores become -1e6"),
        PrimSpec("row_softmax", ATT, (), (), _softmax, "softmax of each score row"),
        PrimSpec("mix", ATT, (), (), _mix, "weights · values"),
        PrimSpec(
            "concat_heads",
            ATT,
            (),
            ("n",),
            _concat,
            "concatenate heads' columns",
            defaults={"n": 2},
            count="n",
        ),
        PrimSpec("residual", ATT, (), (), _binary, "residual sum"),
        PrimSpec("ffn", ATT, ("W1", "b1", "W2", "b2"), (), _ffn, "`relu(x·W1+b1)·W2+b2`"),
        PrimSpec("positional", ATT, ("table",), (), _positional, "add a positional table"),
        PrimSpec("readout", ATT, ("W", "b"), (), _affine, "transformer readout `x·W + b`"),
    ]
}

STD_MODULES = {ML, ATT, "std.optim"}
"""The standard-library modules a program may import (`std.optim` holds only families)."""
