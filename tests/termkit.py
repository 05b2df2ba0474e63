"""Hand-built typed terms for tests of lowering, compiling and training (no parser needed).

Constructors compute domains, codomains and ports the way the checker does (ports collected
by name, first use first), and `tiny()` builds the course's tiny model
(the one of programs/tiny_ml.cat).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import DTypeLike

from catdsl.diagram.ir import Diagram
from catdsl.frontend.backends import default_backend
from catdsl.semantics.plan import Plan
from catdsl.std.init import course_init
from catdsl.std.optim import FAMILIES
from catdsl.typesys import terms as t
from catdsl.typesys.dims import Dim, labelled
from catdsl.typesys.types import (
    UNIT,
    Atom,
    Carrier,
    Obj,
    Port,
    Predicate,
    Prod,
    Record,
    Shape,
    prod,
)

# ---------------------------------------------------------------- types


def dim(size: int | str, label: str | None = None) -> Dim:
    if isinstance(size, str):
        return Dim.symbol(size)
    return labelled(Dim.const(size), label) if label else Dim.const(size)


def _dims(dims) -> tuple[Dim, ...]:
    return tuple(d if isinstance(d, Dim) else dim(d) for d in dims)


def real(*dims) -> Carrier:
    return Carrier("Real", Shape(_dims(dims)))


def simplex(*dims) -> Carrier:
    return Carrier("Simplex", Shape(_dims(dims)))


def index(bound) -> Carrier:
    return Carrier("Index", bound=bound if isinstance(bound, Dim) else dim(bound))


def list_of(*atoms: Atom) -> Carrier:
    return Carrier("List", elem=prod(*atoms))


def option_of(*atoms: Atom) -> Carrier:
    return Carrier("Option", elem=prod(*atoms))


def obj(name: str, carrier, where: tuple[Predicate, ...] = ()) -> Obj:
    return Obj(name, carrier, where)


def P(*items) -> Prod:
    """A product of atoms, products and tuples of them."""
    flat = [x for i in items for x in (i if isinstance(i, tuple) else (i,))]
    return prod(*flat)


def param(name: str, atom: Atom) -> Port:
    return Port(name, atom, "param")


def port(name: str, atom: Atom) -> Port:
    return Port(name, atom, "port")


def params_record(name: str, ports: tuple[Port, ...]) -> Record:
    return Record("Params", tuple((p.name, p.atom) for p in ports), f"Params({name})")


def adam_state(params: Record) -> Record:
    """`AdamState(loss)` as the checker builds it."""
    fields = (("params", params), ("m", params), ("v", params), ("step", Carrier("Nat")))
    return Record("AdamState", fields, "AdamState(loss)")


def momentum_state(params: Record) -> Record:
    """`MomentumState(loss)` as the checker builds it."""
    fields = (("params", params), ("velocity", params), ("step", Carrier("Nat")))
    return Record("MomentumState", fields, "MomentumState")


# ---------------------------------------------------------------- terms


def merge_ports(*terms: t.Term) -> tuple[Port, ...]:
    seen: dict[str, Port] = {}
    for term in terms:
        for p in term.ports:
            seen.setdefault(p.name, p)
    return tuple(seen.values())


def prim(name, dom, cod, *, args=(), ports=(), static=(), in_ranks=()) -> t.Prim:
    return t.Prim(
        P(dom),
        P(cod),
        None,
        name=name,
        static=tuple(static),
        args=tuple(args),
        in_ranks=tuple(in_ranks),
        ports=tuple(ports),
    )


def seq(*parts: t.Term) -> t.Seq:
    return t.Seq(parts[0].dom, parts[-1].cod, None, parts=parts, ports=merge_ports(*parts))


def par(*parts: t.Term) -> t.Par:
    dom = P(*(p.dom for p in parts))
    cod = P(*(p.cod for p in parts))
    return t.Par(dom, cod, None, parts=parts, ports=merge_ports(*parts))


def pair(*parts: t.Term) -> t.Pair:
    cod = P(*(p.cod for p in parts))
    return t.Pair(parts[0].dom, cod, None, parts=parts, ports=merge_ports(*parts))


def ref(name: str, body: t.Term | None, kind: str = "morphism", dom=None, cod=None) -> t.Ref:
    dom = P(dom) if dom is not None else body.dom
    cod = P(cod) if cod is not None else body.cod
    ports = body.ports if body is not None else ()
    return t.Ref(dom, cod, None, name=name, body=body, kind=kind, ports=ports)


def opaque(name: str, dom, cod) -> t.Ref:
    return t.Ref(P(dom), P(cod), None, name=name, body=None)


def hole(name: str, dom, cod) -> t.HoleTerm:
    return t.HoleTerm(P(dom), P(cod), None, name=name)


def ident(*atoms) -> t.Struct:
    return t.Struct(P(*atoms), P(*atoms), None, kind="id")


def swap(a, b) -> t.Struct:
    a, b = P(a), P(b)
    return t.Struct(a + b, b + a, None, kind="swap", split=len(a))


def copy(a) -> t.Struct:
    a = P(a)
    return t.Struct(a, a + a, None, kind="copy", split=len(a))


def discard(a) -> t.Struct:
    return t.Struct(P(a), UNIT, None, kind="discard", split=len(P(a)))


def fst(a, b) -> t.Struct:
    a, b = P(a), P(b)
    return t.Struct(a + b, a, None, kind="fst", split=len(a))


def snd(a, b) -> t.Struct:
    a, b = P(a), P(b)
    return t.Struct(a + b, b, None, kind="snd", split=len(a))


def power(base: t.Term, n: int) -> t.Power:
    return t.Power(base.dom, base.cod, None, base=base, n=n, ports=base.ports)


def functor(name: str, inner: t.Term) -> t.Functor:
    maker = list_of if name == "List" else option_of
    dom, cod = P(maker(*inner.dom.atoms)), P(maker(*inner.cod.atoms))
    return t.Functor(dom, cod, None, functor=name, inner=inner, ports=inner.ports)


def const(name: str, atom, value=None, path=None) -> t.Const:
    return t.Const(UNIT, P(atom), None, name=name, value=value, path=path)


def train(family, loss, data, *, hyper=(), dom=None, cod=None, params=None) -> t.Train:
    params = tuple(p for p in loss.ports if p.kind == "param") if params is None else params
    record = params_record("loss", params)
    dom = P(record) if dom is None else P(dom)
    cod = P(record) if cod is None else P(cod)
    return t.Train(
        dom,
        cod,
        None,
        family=family,
        spec=FAMILIES[family],
        loss=loss,
        data=data,
        params=params,
        hyper=tuple(hyper),
    )


# -------------------------------------------------- the tiny model (programs/tiny_ml.cat)


@dataclass
class Tiny:
    """Objects, params, morphisms and their stored values."""

    TokenId: Obj
    Distribution: Obj
    Loss: Obj
    Params: Record
    embedding: t.Ref
    linear: t.Ref
    softmax: t.Ref
    cross_entropy: t.Ref
    predict: t.Ref
    direct: t.Ref
    loss: t.Ref
    examples: t.Ref
    values: dict


def tiny() -> Tiny:
    V, D = dim(5, "V"), dim(4, "D")
    token = obj("TokenId", index(V))
    vector = obj("Vector", real(D))
    logits = obj("Logits", real(V))
    dist = obj("Distribution", simplex(V))
    loss_obj = obj("Loss", real())
    sequence = obj("TokenSequence", list_of(token))
    training_set = obj("TrainingSet", list_of(token, token))
    E, W, b = param("E", real(V, D)), param("W", real(D, V)), param("b", real(V))

    lookup = prim("lookup", token, vector, args=("E",), ports=(E,), in_ranks=(0, 2))
    affine = prim("affine", vector, logits, args=("W", "b"), ports=(W, b), in_ranks=(1, 2, 1))
    soft = prim("softmax", logits, dist, in_ranks=(1,))
    nll = prim("nll", (dist, token), loss_obj, in_ranks=(1, 0))
    windows = prim("windows", sequence, training_set, static=(("k", 2),), in_ranks=(1,))

    embedding = ref("Embedding", lookup)
    linear = ref("LinearToLogits", affine)
    softmax = ref("Softmax", soft)
    cross_entropy = ref("CrossEntropy", nll)
    direct_body = seq(
        prim("lookup", token, real(D), args=("E",), ports=(E,), in_ranks=(0, 2)),
        prim("affine", real(D), real(V), args=("W", "b"), ports=(W, b), in_ranks=(1, 2, 1)),
        prim("softmax", real(V), dist, in_ranks=(1,)),
    )
    direct = ref("DirectPredict", direct_body)
    predict = ref("predict", seq(embedding, linear, softmax), kind="let")
    loss = ref("loss", seq(par(predict, ident(token)), cross_entropy), kind="let")
    corpus = ref("corpus", const("corpus", sequence, [1, 2, 3, 4, 1, 2, 3, 4]), kind="data")
    windowing = ref("Windowing", windows)
    examples = ref("examples", seq(corpus, windowing), kind="let")
    values = {
        "E": course_init((5, 4), seed=1, scale=0.2),
        "W": course_init((4, 5), seed=2, scale=0.2),
        "b": np.zeros(5),
    }
    record = params_record("loss", (E, W, b))
    return Tiny(
        token,
        dist,
        loss_obj,
        record,
        embedding,
        linear,
        softmax,
        cross_entropy,
        predict,
        direct,
        loss,
        examples,
        values,
    )


CORPUS = [1, 2, 3, 4, 1, 2, 3, 4]


def compile_diagram(diagram: Diagram, dtype: DTypeLike = np.float64) -> Plan:
    """`diagram` compiled by the front ends' default backend (numpy, standard kernels)."""
    return default_backend(dtype).compile(diagram)
