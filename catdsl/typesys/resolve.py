"""Finish a checked term: apply the final bindings everywhere and fill in kernel ranks."""

from __future__ import annotations

from dataclasses import fields, is_dataclass, replace

from catdsl.typesys import terms as T
from catdsl.typesys.types import (
    Carrier,
    Port,
    Prod,
    element_rank,
)
from catdsl.typesys.unify import Subst


def resolve_term(term, subst: Subst):
    """Rebuild a term with every type resolved; compute `in_ranks` of primitives."""
    if not is_dataclass(term):
        return term
    changes = {}
    for f in fields(term):
        value = getattr(term, f.name)
        if isinstance(value, Prod):
            changes[f.name] = subst.prod(value)
        elif isinstance(value, T.Term):
            changes[f.name] = resolve_term(value, subst)
        elif isinstance(value, tuple) and value and isinstance(value[0], Port):
            changes[f.name] = tuple(Port(p.name, subst.atom(p.atom), p.kind) for p in value)
        elif isinstance(value, tuple) and any(isinstance(v, T.Term) or has_term(v) for v in value):
            changes[f.name] = tuple(resolve_nested(v, subst) for v in value)
    new = replace(term, **changes)
    if isinstance(new, T.Prim):
        arg_ranks = tuple(
            len(p.atom.shape.dims) if isinstance(p.atom, Carrier) else 0
            for name in new.args
            for p in new.ports
            if p.name == name
        )
        if len(arg_ranks) != len(new.args):
            arg_ranks = tuple(0 for _ in new.args)
        new = replace(new, in_ranks=tuple(element_rank(a) for a in new.dom.atoms) + arg_ranks)
    return new


def has_term(v) -> bool:
    return isinstance(v, tuple) and any(isinstance(x, T.Term) or has_term(x) for x in v)


def resolve_nested(v, subst):
    if isinstance(v, T.Term):
        return resolve_term(v, subst)
    if isinstance(v, tuple):
        return tuple(resolve_nested(x, subst) for x in v)
    return v
