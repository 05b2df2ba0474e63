"""Where a term would differentiate through a box that no gradient flows back through.

A primitive whose spec sets `no_gradient` (a comparison, a truth-value operation, a count, a
metric such as `argmax`) gives values no cotangent flows back from. Applied to a real input
that depends on learnable params (training) or on the inputs (a gradient check), it cuts the
gradient: training would see a zero gradient and learn nothing along that path. `first_cut`
finds the first such box in source order, following the data through compositions, wiring
blocks and the definitions a term refers to, so the checker and `gradcheck` can refuse with
its name, its kind and its place. A box that only data reaches cuts nothing and is allowed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields

from catdsl.typesys import terms as T
from catdsl.typesys.primitives import NoGradient
from catdsl.typesys.types import Atom, Carrier, Prod, carrier_of


@dataclass(frozen=True)
class Cut:
    """A box that a gradient would have to flow back through, and the definition holding it
    (None when it is written in the term searched)."""

    prim: T.Prim
    kind: NoGradient
    definition: str | None


def first_cut(
    term: T.Term, upstream: bool, resolve: Callable[[Prod], Prod] | None = None
) -> Cut | None:
    """The first box of `term` without a gradient whose real input depends on something
    differentiated: params (and, with `upstream`, the term's own inputs). A definition named
    as `term` is searched as its body. `resolve` maps a product to its resolved form (a
    definition being checked has unresolved variables)."""
    root = term.body if isinstance(term, T.Ref) and term.body is not None else term
    return _Search(resolve).visit(root, upstream, None)


class _Search:
    """One search: the (term, fed) pairs already searched, so a definition used many times is
    searched once for each way it is reached."""

    def __init__(self, resolve: Callable[[Prod], Prod] | None) -> None:
        self.resolve = resolve
        self.seen: set[tuple[int, bool]] = set()

    def visit(self, term: T.Term, fed: bool, where: str | None) -> Cut | None:
        """The first cut in `term`, whose input is differentiated when `fed`."""
        if term._no_cut:  # finished without any such box (`resolve`)
            return None
        key = (id(term), fed)
        if key in self.seen or isinstance(term, T.Train):
            return None  # a training step inside differentiates its own loss, checked there
        self.seen.add(key)
        if isinstance(term, T.Prim):
            return self._prim(term, fed, where)
        if isinstance(term, T.Ref):
            return None if term.body is None else self.visit(term.body, fed, term.name)
        if isinstance(term, T.Seq):
            for part in term.parts:
                if (found := self.visit(part, fed, where)) is not None:
                    return found
                fed = fed or _has_params(part)
            return None
        if isinstance(term, T.Power):
            return self.visit(term.base, fed or _has_params(term.base), where)
        if isinstance(term, T.Wiring):
            return self._wiring(term, fed, where)
        if isinstance(term, T.Bind):  # the points bound to ports take no input of the term
            if (found := self.visit(term.inner, fed, where)) is not None:
                return found
            return self._first(tuple(point for _, point in term.bindings), False, where)
        return self._first(_children(term), fed, where)

    def _prim(self, prim: T.Prim, fed: bool, where: str | None) -> Cut | None:
        # a morphism argument (`fold`'s `op`) is applied to the primitive's input
        if (found := self._first(prim.morphisms, fed, where)) is not None:
            return found
        kind = prim.spec.no_gradient if prim.spec is not None else None
        if kind is None or not (fed or _has_params(prim)):
            return None
        dom = self.resolve(prim.dom) if self.resolve is not None else prim.dom
        return Cut(prim, kind, where) if _real(dom) else None

    def _wiring(self, block: T.Wiring, fed: bool, where: str | None) -> Cut | None:
        """A wiring block, following which named wires carry something differentiated."""
        live = dict.fromkeys(block.inputs, fed)
        for outputs, step, inputs in block.steps:
            step_fed = any(live.get(name, False) for name in inputs)
            if (found := self.visit(step, step_fed, where)) is not None:
                return found
            live.update(dict.fromkeys(outputs, step_fed or _has_params(step)))
        return None

    def _first(self, parts: tuple[T.Term, ...], fed: bool, where: str | None) -> Cut | None:
        for part in parts:
            if (found := self.visit(part, fed, where)) is not None:
                return found
        return None


_FIELDS: dict[type, tuple[str, ...]] = {}
"""Per term class, its field names (`fields` is slow)."""


def _children(term: T.Term) -> tuple[T.Term, ...]:
    """The terms directly inside `term` (its parts, its inner term), in source order."""
    out: list[T.Term] = []
    names = _FIELDS.get(type(term))
    if names is None:
        names = _FIELDS[type(term)] = tuple(f.name for f in fields(term))
    for name in names:
        value = getattr(term, name)
        if isinstance(value, T.Term):
            out.append(value)
        elif isinstance(value, tuple):
            out.extend(_terms_in(value))
    return tuple(out)


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
