"""Finish a checked term: apply the final bindings everywhere and fill in kernel ranks (and
the carrier kind of a primitive typed on several)."""

from __future__ import annotations

from dataclasses import fields, replace
from typing import Any

from catdsl.typesys import terms as T
from catdsl.typesys.types import Atom, Carrier, Port, Prod, carrier_of, element_rank
from catdsl.typesys.unify import Subst


class _Final:
    """The final bindings of one definition, applied with a memo by object: its terms share
    their types (a chain's domain is its first part's, a use's its definition's), so each
    type is resolved once. No binding is made while a term is resolved."""

    def __init__(self, subst: Subst):
        self.subst = subst
        self.prods: dict[int, tuple[Prod, Prod]] = {}  # id -> (the type, kept alive; resolved)
        self.atoms: dict[int, tuple[Atom, Atom]] = {}

    def prod(self, p: Prod) -> Prod:
        hit = self.prods.get(id(p))
        if hit is None:
            hit = self.prods[id(p)] = (p, self.subst.prod(p))
        return hit[1]

    def atom(self, a: Atom) -> Atom:
        hit = self.atoms.get(id(a))
        if hit is None:
            hit = self.atoms[id(a)] = (a, self.subst.atom(a))
        return hit[1]


def resolve_term(term: T.Term, subst: Subst | _Final, root: bool = True) -> T.Term:
    """Rebuild a term with every type resolved; compute `in_ranks` of primitives.

    A `Ref` below the root is a use of a definition that was finished when it was checked:
    only the types seen at the use are resolved, never its body again (that would make
    checking quadratic in the depth of definitions). A `Ref` built at its use (`instance`: a
    generic definition's instance) is resolved through, since its body holds the use's
    variables."""
    if isinstance(subst, Subst):
        subst.settle()  # the checks that waited for the definition's final types
        subst.final = True  # a number kind left free is `Real`
        subst = _Final(subst)
    if isinstance(term, T.Ref) and not root and not term.instance:
        changes: dict[str, Any] = {
            "dom": subst.prod(term.dom),
            "cod": subst.prod(term.cod),
            "ports": _ports(term.ports, subst),
        }
        return _rebuilt(term, changes)
    changes = {}  # new values of any of the term's fields
    for name in _field_names(term):
        value = getattr(term, name)
        if isinstance(value, Prod):
            changes[name] = subst.prod(value)
        elif isinstance(value, T.Term):
            changes[name] = resolve_term(value, subst, root=False)
        elif isinstance(value, tuple) and value and isinstance(value[0], Port):
            changes[name] = _ports(value, subst)
        elif isinstance(value, tuple) and _has_term(value):
            changes[name] = tuple(_resolve_nested(v, subst) for v in value)
    if isinstance(term, T.Prim):
        decided = subst.subst.settled.get(id(term))
        if decided:  # a static argument named, decided from the final types (`axis = F`)
            changes["static"] = tuple(sorted({**dict(term.static), **decided}.items()))
        arg_types = tuple(subst.atom(a) for a in term.arg_types)
        dom = changes.get("dom", term.dom)
        changes["arg_types"] = arg_types
        changes["in_ranks"] = tuple(element_rank(a) for a in (*dom.atoms, *arg_types))
        if term.spec is not None and term.spec.typed_by_kind and dom.atoms:
            carrier = carrier_of(dom.atoms[0])
            kind = carrier.kind if isinstance(carrier, Carrier) else ""
            static = changes.get("static", term.static)
            changes["static"] = tuple(sorted({**dict(static), "kind": kind}.items()))
    return _rebuilt(term, changes)


_FIELDS: dict[type, tuple[str, ...]] = {}
_PLAIN: dict[type, bool] = {}


def _field_names(term: T.Term) -> tuple[str, ...]:
    """A term class's field names (looked up once per class: `fields` is slow)."""
    cls = type(term)
    names = _FIELDS.get(cls)
    if names is None:
        names = _FIELDS[cls] = tuple(f.name for f in fields(term))
    return names


def _rebuilt(term: T.Term, changes: dict[str, Any]) -> T.Term:
    """A new term equal to `term` but for `changes`: `dataclasses.replace` without its cost
    (argument checks and `__init__`) for the term classes whose `__init__` only stores their
    fields; a class with a `__post_init__` goes through `replace`."""
    cls = type(term)
    plain = _PLAIN.get(cls)
    if plain is None:
        plain = _PLAIN[cls] = not hasattr(cls, "__post_init__") and hasattr(term, "__dict__")
    if not plain:
        return replace(term, **changes)
    new = object.__new__(cls)
    state = new.__dict__
    state.update(term.__dict__)
    state.update(changes)
    return new


def _ports(ports: tuple[Port, ...], subst: _Final) -> tuple[Port, ...]:
    """The ports with their atoms resolved; the same tuple when no atom changes (a chain's
    ports are resolved at every use of it)."""
    atoms = [subst.atom(p.atom) for p in ports]
    if all(new is p.atom for new, p in zip(atoms, ports, strict=True)):
        return ports
    return tuple(Port(p.name, atom, p.kind) for p, atom in zip(ports, atoms, strict=True))


def _has_term(v: object) -> bool:
    """Whether a (nested) tuple holds a term: the steps of a wiring block, port bindings."""
    return isinstance(v, tuple) and any(isinstance(x, T.Term) or _has_term(x) for x in v)


def _resolve_nested(v: object, subst: _Final) -> object:
    if isinstance(v, T.Term):
        return resolve_term(v, subst, root=False)
    if isinstance(v, tuple):
        return tuple(_resolve_nested(x, subst) for x in v)
    return v
