"""Where a term would differentiate through a discrete box.

A primitive whose spec is `discrete` (a comparison, a truth-value operation, a count) gives
values no cotangent flows back from. Applied to a real input that depends on learnable params
(training) or on the inputs (a gradient check), it cuts the gradient: training would see a zero
gradient and learn nothing along that path. `crossing(term, ...)` finds the first such box, so
the checker and `gradcheck` can refuse with its name and place.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import fields

from catdsl.typesys import terms as T
from catdsl.typesys.types import Atom, Carrier, Prod, carrier_of


def crossing(
    term: T.Term, upstream: bool, resolve: Callable[[Prod], Prod] | None = None
) -> T.Prim | None:
    """The first discrete primitive of `term` whose real input depends on something
    differentiated: params (and, with `upstream`, the term's own inputs). `resolve` maps a
    product to its resolved form (a definition being checked has unresolved variables)."""
    seen: set[tuple[int, bool]] = set()
    todo: list[tuple[T.Term, bool]] = [(term, upstream)]
    while todo:
        current, fed = todo.pop()
        key = (id(current), fed)
        if key in seen:
            continue
        seen.add(key)
        if isinstance(current, T.Prim):
            spec = current.spec
            dom = resolve(current.dom) if resolve is not None else current.dom
            cuts = spec is not None and spec.discrete and (fed or _has_params(current))
            if cuts and _real(dom):
                return current
            continue
        if isinstance(current, T.Seq):
            flows = fed
            for part in current.parts:
                todo.append((part, flows))
                flows = flows or _has_params(part)
            continue
        if isinstance(current, T.Power):
            todo.append((current.base, fed or _has_params(current.base)))
            continue
        if isinstance(current, T.Train):
            continue  # a training step inside differentiates its own loss, checked there
        for child in _children(current):
            todo.append((child, fed))
    return None


def _children(term: T.Term) -> list[T.Term]:
    """The terms directly inside `term` (a definition's body, parts, steps, bindings)."""
    out: list[T.Term] = []
    for f in fields(term):
        value = getattr(term, f.name)
        if isinstance(value, T.Term):
            out.append(value)
        elif isinstance(value, tuple):
            out.extend(_terms_in(value))
    return out


def _terms_in(value: tuple) -> list[T.Term]:
    found: list[T.Term] = []
    for item in value:
        if isinstance(item, T.Term):
            found.append(item)
        elif isinstance(item, tuple):
            found.extend(_terms_in(item))
    return found


def _has_params(term: T.Term) -> bool:
    return any(p.kind == "param" for p in term.ports)


def _real(p: Prod) -> bool:
    """Whether a value of `p` carries real numbers (cotangents would flow along it)."""
    return any(_real_atom(a) for a in p.atoms)


def _real_atom(atom: Atom) -> bool:
    carrier = carrier_of(atom)
    if isinstance(carrier, Prod):
        return _real(carrier)
    if isinstance(carrier, Carrier):
        if carrier.elem is not None:
            return carrier.spec.differentiable and _real(carrier.elem)
        return carrier.spec.differentiable
    return False
