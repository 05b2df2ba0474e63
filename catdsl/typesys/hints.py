"""Help lines for type errors: bridging morphisms, near names, hole candidates.

The course reads a type error at composition as "a middle object is missing"; the best help is
the declared morphism that supplies it.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

from catdsl.typesys.types import Atom, Carrier, Obj, Prod, carrier_of


def did_you_mean(name: str, candidates: Iterable[str]) -> str | None:
    close = difflib.get_close_matches(name, list(candidates), n=1, cutoff=0.6)
    return f"did you mean `{close[0]}`?" if close else None


def signature(name: str, dom: Prod, cod: Prod) -> str:
    return f"`{name} : {dom} -> {cod}`"


def bridges(found: Atom, expected: Atom, morphisms: dict[str, tuple[Prod, Prod]]) -> list[str]:
    """Declared morphisms `found -> expected`, or two-step paths through one middle object."""
    one = [
        name for name, (d, c) in morphisms.items() if d.atoms == (found,) and c.atoms == (expected,)
    ]
    if one:
        return one
    firsts = {
        name: c.atoms[0]
        for name, (d, c) in morphisms.items()
        if d.atoms == (found,) and len(c) == 1
    }
    two = []
    for first, middle in firsts.items():
        for name, (d, c) in morphisms.items():
            if d.atoms == (middle,) and c.atoms == (expected,):
                two.append(f"{first} >> {name}")
    return two[:3]


def same_carrier_note(a: Atom, b: Atom) -> str | None:
    """Explain the newtype lesson when two different objects share a carrier."""
    if isinstance(a, Obj) and isinstance(b, Obj) and carrier_of(a) == carrier_of(b):
        return (
            f"`{a}` and `{b}` are both `{carrier_of(a)}`, but objects are nominal: "
            "composition matches object names, never carriers"
        )
    return None


def describe(atom: Atom) -> str:
    """An atom for a message: objects by name, carriers with their shape."""
    if isinstance(atom, Obj):
        return f"`{atom.name}`"
    if isinstance(atom, Carrier):
        return f"`{atom}`"
    return f"`{atom}`"
