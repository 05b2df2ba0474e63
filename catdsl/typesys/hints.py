"""Searches behind help lines: a near name for a misspelt one, and the declared morphisms
that bridge two objects.

A type error at composition often means "a middle object is missing"; the best help is the
declared morphism that supplies it.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

from catdsl.typesys.types import Atom, Prod


def did_you_mean(name: str, candidates: Iterable[str]) -> str | None:
    close = difflib.get_close_matches(name, list(candidates), n=1, cutoff=0.6)
    return f"did you mean `{close[0]}`?" if close else None


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
