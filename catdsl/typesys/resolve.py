"""Finish a checked term: apply the final bindings everywhere and fill in kernel ranks (and
the carrier kind of a primitive typed on several)."""

from __future__ import annotations

from dataclasses import fields, replace
from typing import Any

from catdsl.typesys import terms as T
from catdsl.typesys.types import Carrier, Port, Prod, carrier_of, element_rank
from catdsl.typesys.unify import Subst


def resolve_term(term: T.Term, subst: Subst, root: bool = True) -> T.Term:
    """Rebuild a term with every type resolved; compute `in_ranks` of primitives.

    A `Ref` below the root is a use of a definition that was finished when it was checked:
    only the types seen at the use are resolved, never its body again (that would make
    checking quadratic in the depth of definitions). A `Ref` built at its use (`instance`: a
    generic definition's instance) is resolved through, since its body holds the use's
    variables."""
    if isinstance(term, T.Ref) and not root and not term.instance:
        return replace(
            term,
            dom=subst.prod(term.dom),
            cod=subst.prod(term.cod),
            ports=_ports(term.ports, subst),
        )
    changes: dict[str, Any] = {}  # new values of any of the term's fields
    for f in fields(term):
        value = getattr(term, f.name)
        if isinstance(value, Prod):
            changes[f.name] = subst.prod(value)
        elif isinstance(value, T.Term):
            changes[f.name] = resolve_term(value, subst, root=False)
        elif isinstance(value, tuple) and value and isinstance(value[0], Port):
            changes[f.name] = _ports(value, subst)
        elif isinstance(value, tuple) and _has_term(value):
            changes[f.name] = tuple(_resolve_nested(v, subst) for v in value)
    new = replace(term, **changes)
    if isinstance(new, T.Prim):
        arg_types = tuple(subst.atom(a) for a in new.arg_types)
        ranks = tuple(element_rank(a) for a in (*new.dom.atoms, *arg_types))
        new = replace(new, arg_types=arg_types, in_ranks=ranks)
        if new.spec is not None and new.spec.typed_by_kind and new.dom.atoms:
            carrier = carrier_of(new.dom.atoms[0])
            kind = carrier.kind if isinstance(carrier, Carrier) else ""
            new = replace(new, static=tuple(sorted({**dict(new.static), "kind": kind}.items())))
    return new


def _ports(ports: tuple[Port, ...], subst: Subst) -> tuple[Port, ...]:
    return tuple(Port(p.name, subst.atom(p.atom), p.kind) for p in ports)


def _has_term(v: object) -> bool:
    """Whether a (nested) tuple holds a term: the steps of a wiring block, port bindings."""
    return isinstance(v, tuple) and any(isinstance(x, T.Term) or _has_term(x) for x in v)


def _resolve_nested(v: object, subst: Subst) -> object:
    if isinstance(v, T.Term):
        return resolve_term(v, subst, root=False)
    if isinstance(v, tuple):
        return tuple(_resolve_nested(x, subst) for x in v)
    return v
