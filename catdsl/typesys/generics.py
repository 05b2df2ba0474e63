"""Generic definitions: objects as parameters, checked once and instantiated at each use.

A generic definition (`morphism First[A] : List[A] -> Option[A] = first`) is checked once
with each parameter standing for a *rigid* object: a nominal object of the module
`GENERIC_MODULE` that unifies only with itself, so the body cannot assume anything about it
(no `add` on an `A`). A use instantiates the checked term: the rigid objects are replaced by
the types written (`First[Real]`) or by fresh variables that unification at the use site
binds (`xs >> First`). Since the body was checked for an arbitrary object, no instantiation
can fail inside it; a mismatch is one of the use, reported there.
"""

from __future__ import annotations

import itertools
from dataclasses import fields, replace
from typing import Any

from catdsl.typesys import terms as T
from catdsl.typesys.types import Atom, Carrier, Obj, Port, Prod, Record, TVar, element_rank

GENERIC_MODULE = "<generic>"
"""The module of the rigid objects that stand for the parameters of a generic definition."""

_fresh = itertools.count()


def rigid(name: str) -> Obj:
    """The object a parameter `A` stands for while its definition is checked."""
    return Obj(name, Prod(()), module=GENERIC_MODULE)


def is_rigid(atom: object) -> bool:
    """Whether an atom is a parameter of a generic definition."""
    return isinstance(atom, Obj) and atom.module == GENERIC_MODULE


def fresh(params: tuple[str, ...]) -> dict[str, Prod]:
    """A fresh variable per parameter, for an instance fixed by unification at its use."""
    n = next(_fresh)
    return {p: Prod((TVar(f"?{p}{n}"),)) for p in params}


def instantiate(term: T.Term, mapping: dict[str, Prod]) -> T.Term:
    """The term with every rigid parameter replaced by its type in `mapping` (by name), and
    kernel ranks recomputed where a parameter's rank became known."""
    memo: dict[int, Any] = {}
    return _term(term, mapping, memo)


def _term(term: T.Term, mapping: dict[str, Prod], memo: dict[int, Any]) -> T.Term:
    key = id(term)
    if key in memo:
        return memo[key]
    changes: dict[str, Any] = {}
    for f in fields(term):
        value = getattr(term, f.name)
        new = _value(value, mapping, memo)
        if new is not value:
            changes[f.name] = new
    out = replace(term, **changes) if changes else term
    if isinstance(out, T.Prim) and changes:
        ranks = tuple(element_rank(a) for a in (*out.dom.atoms, *out.arg_types))
        out = replace(out, in_ranks=ranks)
    memo[key] = out
    return out


def _value(value: object, mapping: dict[str, Prod], memo: dict[int, Any]) -> Any:
    """A field's value with the parameters replaced; the very object when nothing changed."""
    if isinstance(value, T.Term):
        return _term(value, mapping, memo)
    if isinstance(value, Prod):
        return substitute(value, mapping)
    if isinstance(value, Port):
        atom = _atom(value.atom, mapping)
        return value if atom is value.atom else Port(value.name, atom, value.kind)
    if isinstance(value, Carrier | Obj | Record | TVar):
        return _atom(value, mapping)
    if isinstance(value, tuple) and value:
        items = tuple(_value(v, mapping, memo) for v in value)
        return value if all(a is b for a, b in zip(items, value, strict=True)) else items
    return value


def substitute(p: Prod, mapping: dict[str, Prod]) -> Prod:
    """A product with every rigid parameter replaced (a parameter may stand for a product)."""
    atoms: list[Atom] = []
    changed = False
    for a in p.atoms:
        if is_rigid(a) and isinstance(a, Obj) and a.name in mapping:
            atoms.extend(mapping[a.name].atoms)
            changed = True
            continue
        new = _atom(a, mapping)
        changed = changed or new is not a
        atoms.append(new)
    return Prod(tuple(atoms)) if changed else p


def _atom(a: Atom, mapping: dict[str, Prod]) -> Atom:
    """One atom with the parameters inside it replaced; a parameter itself must stand for one
    atom here (a port or an argument type is one wire)."""
    if is_rigid(a) and isinstance(a, Obj) and a.name in mapping:
        replaced = mapping[a.name]
        return replaced.atoms[0] if len(replaced) == 1 else a
    if isinstance(a, Carrier) and a.elem is not None:
        elem = substitute(a.elem, mapping)
        return a if elem is a.elem else replace(a, elem=elem)
    if isinstance(a, Record):
        new = tuple((n, _atom(x, mapping)) for n, x in a.fields)
        return replace(a, fields=new)
    return a


def mentions_rigid(p: Prod) -> bool:
    """Whether a type still holds a parameter of a generic definition."""
    for a in p.atoms:
        if is_rigid(a):
            return True
        if isinstance(a, Carrier) and a.elem is not None and mentions_rigid(a.elem):
            return True
    return False
