"""Finish a checked term: apply the final bindings everywhere and fill in kernel ranks (and
the carrier kind of a primitive typed on several); mark the terms that hold no box without a
gradient (`Term._no_cut`), so that `no_gradient` does not search them again."""

from __future__ import annotations

from dataclasses import fields
from typing import Any

from catdsl.typesys import terms as T
from catdsl.typesys.types import (
    Atom,
    Carrier,
    Port,
    Prod,
    carrier_of,
    element_rank,
    ground,
    prod_ground,
)
from catdsl.typesys.unify import Subst


class _Final:
    """The final bindings of one definition, applied with a memo by object: its terms share
    their types (a chain's domain is its first part's, a use's its definition's), so each
    type is resolved once; a type without variables (`ground`) is its own result. No binding
    is made while a term is resolved."""

    def __init__(self, subst: Subst):
        self.subst = subst
        # id -> (the type, kept alive; resolved), from those resolved to ground ones before
        self.prods: dict[int, tuple[Prod, Prod]] = dict(subst.finals)
        self.atoms: dict[int, tuple[Atom, Atom]] = {}
        for p, result in subst.finals.values():
            atoms = p.atoms
            if len(atoms) == len(result.atoms) and all([type(a) is Carrier for a in atoms]):
                # a carrier resolves to one carrier: the product's atoms resolved one to one
                for a, r in zip(atoms, result.atoms, strict=True):
                    self.atoms[id(a)] = (a, r)

    def prod(self, p: Prod) -> Prod:
        flag = p._ground  # `prod_ground`, read inline when it is cached
        if flag or (flag is None and prod_ground(p)):
            return p
        hit = self.prods.get(id(p))
        if hit is None:
            hit = self.prods[id(p)] = (p, self.subst.prod(p, self.atom))
        return hit[1]

    def atom(self, a: Atom) -> Atom:
        if a._ground or ground(a):
            return a
        hit = self.atoms.get(id(a))
        if hit is None:
            hit = self.atoms[id(a)] = (a, self.subst.atom(a))
        return hit[1]


def resolve_term(term: T.Term, subst: Subst | _Final, root: bool = True) -> T.Term:
    """A new term with every type resolved; compute `in_ranks` of primitives and `_no_cut`.

    Every term met is copied, even when nothing in it changes: which terms are shared is
    observable (lowering memoises by identity, snapshots record it), and a term below the
    root may also be held elsewhere (a `data` definition's point, used by name).

    A `Ref` below the root is a use of a definition that was finished when it was checked:
    only the types seen at the use are resolved, never its body again (that would make
    checking quadratic in the depth of definitions). A `Ref` built at its use (`instance`: a
    generic definition's instance) is resolved through, since its body holds the use's
    variables."""
    if isinstance(subst, Subst):
        subst.settle()  # the checks that waited for the definition's final types
        subst.final = True  # a number kind left free is `Real`
        subst = _Final(subst)
    return _resolve(term, subst, root)


def _resolve(term: T.Term, subst: _Final, root: bool) -> T.Term:
    # the commonest classes take a direct path, their fields read by name (all are plain)
    cls = type(term)
    if cls is T.Ref:
        changes = _outer(term.__dict__, subst)
        body = term.body  # type: ignore[attr-defined]
        # below the root, a use of a finished definition: only the types seen at the use
        if body is not None and (root or term.instance):  # type: ignore[attr-defined]
            changes["body"] = body = _resolve(body, subst, False)
        if body is None or body._no_cut:
            changes["_no_cut"] = True
        return T.copied(term, changes)
    if cls is T.Seq:
        changes = _outer(term.__dict__, subst)
        changes["parts"] = parts = tuple(
            [_resolve(v, subst, False) for v in term.parts]  # type: ignore[attr-defined]
        )
        if all([p._no_cut for p in parts]):
            changes["_no_cut"] = True
        return T.copied(term, changes)
    if cls is T.Struct:
        changes = _outer(term.__dict__, subst)
        changes["_no_cut"] = True
        return T.copied(term, changes)
    if cls is T.Prim:
        assert isinstance(term, T.Prim)
        changes = _outer(term.__dict__, subst)
        morphisms = term.morphisms
        if morphisms:
            changes["morphisms"] = morphisms = tuple([_resolve(v, subst, False) for v in morphisms])
        _prim(term, changes, subst)
        if (term.spec is None or term.spec.no_gradient is None) and all(
            [m._no_cut for m in morphisms]
        ):
            changes["_no_cut"] = True
        return T.copied(term, changes)
    changes = {}  # new values of any of the term's fields
    plan = _PLANS.get(cls) or _plan(cls)
    state = term.__dict__ if T.plain(cls) else None
    for name, how in plan:
        value = state[name] if state is not None else getattr(term, name)
        if how is _PROD:
            if not value._ground:
                changes[name] = subst.prod(value)
        elif how is _TERMS:
            if value:
                changes[name] = tuple(
                    [
                        _resolve(v, subst, False)
                        if isinstance(v, T.Term)
                        else _resolve_nested(v, subst)
                        for v in value
                    ]
                )
        elif how is _TERM:
            if isinstance(value, T.Term):
                changes[name] = _resolve(value, subst, False)
        elif how is _PORTS:
            if value:
                changes[name] = _ports(value, subst)
        elif how is _NESTED:
            if _has_term(value):
                changes[name] = tuple(_resolve_nested(v, subst) for v in value)
        elif isinstance(value, Prod):  # a field typed loosely: looked at as it is
            changes[name] = subst.prod(value)
        elif isinstance(value, T.Term):
            changes[name] = _resolve(value, subst, False)
        elif isinstance(value, tuple) and value and isinstance(value[0], Port):
            changes[name] = _ports(value, subst)
        elif isinstance(value, tuple) and _has_term(value):
            changes[name] = tuple(_resolve_nested(v, subst) for v in value)
    if state is None:
        return T.rebuilt(term, changes)
    # every term inside is among the changes; a training step is searched on its own
    if cls is T.Train or _no_cut(tuple(changes.values())):
        changes["_no_cut"] = True
    return T.copied(term, changes)


def _no_cut(values: tuple) -> bool:
    """Whether every term in `values` (nested tuples too) is known to hold no box without a
    gradient."""
    for v in values:
        if isinstance(v, T.Term):
            if not v._no_cut:
                return False
        elif isinstance(v, tuple) and not _no_cut(v):
            return False
    return True


def _outer(state: dict[str, Any], subst: _Final) -> dict[str, Any]:
    """The resolved domain, codomain and ports of a plain term, where they may change."""
    changes: dict[str, Any] = {}
    dom = state["dom"]
    if not dom._ground:
        changes["dom"] = subst.prod(dom)
    cod = state["cod"]
    if not cod._ground:
        changes["cod"] = subst.prod(cod)
    ports = state["ports"]
    if ports:
        changes["ports"] = _ports(ports, subst)
    return changes


def _prim(term: T.Prim, changes: dict[str, Any], subst: _Final) -> None:
    """A primitive's argument types, kernel ranks and (when decided by the final types) its
    static arguments, recorded in `changes` where they differ from the term's."""
    decided = subst.subst.settled.get(id(term))
    if decided:  # a static argument named, decided from the final types (`axis = F`)
        changes["static"] = tuple(sorted({**dict(term.static), **decided}.items()))
    arg_types = term.arg_types
    if arg_types:
        resolved = tuple([subst.atom(a) for a in arg_types])
        if any([a is not b for a, b in zip(resolved, arg_types, strict=True)]):
            changes["arg_types"] = arg_types = resolved
    dom = changes.get("dom", term.dom)
    in_ranks = tuple([element_rank(a) for a in (*dom.atoms, *arg_types)])
    if in_ranks != term.in_ranks:  # whole numbers: equal is the same value
        changes["in_ranks"] = in_ranks
    if term.spec is not None and term.spec.typed_by_kind and dom.atoms:
        carrier = carrier_of(dom.atoms[0])
        kind = carrier.kind if isinstance(carrier, Carrier) else ""
        static = changes.get("static", term.static)
        changes["static"] = tuple(sorted({**dict(static), "kind": kind}.items()))


# How `resolve_term` treats a field of a term class, read from the field's annotation once per
# class: a type, a term (or None), ports, nested tuples holding terms, nothing to resolve, or
# (`_ANY`, for a field typed loosely) whatever its value turns out to be.
_PROD, _TERM, _PORTS, _NESTED, _ANY = "prod", "term", "ports", "nested", "any"
_TERMS = "terms"  # a tuple of terms (`parts`): each resolved, no search for terms first
_HOW = {
    "Prod": _PROD,
    "Term": _TERM,
    "Term | None": _TERM,
    "tuple[Port, ...]": _PORTS,
    "tuple[Term, ...]": _TERMS,
    "tuple[tuple[str, Term], ...]": _NESTED,
    "tuple[tuple[tuple[str, ...], Term, tuple[str, ...]], ...]": _NESTED,
}
_INERT = {
    "str",
    "str | None",
    "int",
    "bool",
    "Span | None",
    "tuple[str, ...]",
    "tuple[int, ...]",
    "tuple[Atom, ...]",  # a primitive's argument types: resolved with its ranks
    "tuple[tuple[str, float], ...]",
    "tuple[tuple[str, object], ...]",  # static arguments and initialiser arguments: numbers
    "tuple[tuple[str, Prod], ...]",  # a generic instance's type arguments, kept as written
    "PrimSpec | None",
    "Family",
    "Schedule | None",
}
_PLANS: dict[type, tuple[tuple[str, str], ...]] = {}


def _plan(cls: type) -> tuple[tuple[str, str], ...]:
    """The fields of a term class `resolve_term` looks at, each with how (once per class:
    `fields` is slow)."""
    plan = _PLANS.get(cls)
    if plan is None:
        plan = _PLANS[cls] = tuple(
            (f.name, _HOW.get(str(f.type), _ANY)) for f in fields(cls) if str(f.type) not in _INERT
        )
    return plan


def _ports(ports: tuple[Port, ...], subst: _Final) -> tuple[Port, ...]:
    """The ports with their atoms resolved; the same tuple when no atom changes (a chain's
    ports are resolved at every use of it)."""
    if all([p.atom._ground for p in ports]):
        return ports
    atom = subst.atom
    atoms = [atom(p.atom) for p in ports]
    if all([new is p.atom for new, p in zip(atoms, ports, strict=True)]):
        return ports
    return tuple(Port(p.name, a, p.kind) for p, a in zip(ports, atoms, strict=True))


def _has_term(v: object) -> bool:
    """Whether a (nested) tuple holds a term: the steps of a wiring block, port bindings."""
    return isinstance(v, tuple) and any(isinstance(x, T.Term) or _has_term(x) for x in v)


def _resolve_nested(v: object, subst: _Final) -> object:
    if isinstance(v, T.Term):
        return _resolve(v, subst, False)
    if isinstance(v, tuple):
        return tuple(_resolve_nested(x, subst) for x in v)
    return v
