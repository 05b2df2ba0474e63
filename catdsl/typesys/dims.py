"""Dimensions as polynomials over named symbols, and their unification.

A dim is `5`, a free name `T`, or arithmetic such as `H * K` or `d + 1`, kept in a canonical
form so that `K * H` equals `H * K`. Names starting with `?` are unification variables
(generic primitive signatures); other names are rigid (free `dim T` declarations).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

Monomial = tuple[str, ...]


@dataclass(frozen=True)
class Dim:
    """A canonical polynomial: sorted (monomial, coefficient) pairs with non-zero coefficients."""

    terms: tuple[tuple[Monomial, int], ...]
    label: str | None = field(default=None, compare=False)
    _ground: ClassVar[bool | None] = None  # cached by `types.dim_ground`, not a field

    @staticmethod
    def const(value: int) -> Dim:
        return Dim((((), value),) if value else ())

    @staticmethod
    def symbol(name: str) -> Dim:
        return Dim((((name,), 1),))

    @property
    def value(self) -> int | None:
        """The integer this dim denotes, when it has no symbols."""
        if not self.terms:
            return 0
        if len(self.terms) == 1 and self.terms[0][0] == ():
            return self.terms[0][1]
        return None

    @property
    def variable(self) -> str | None:
        """The unification variable this dim *is*, if it is a lone `?var`."""
        if len(self.terms) == 1 and self.terms[0][1] == 1 and len(self.terms[0][0]) == 1:
            name = self.terms[0][0][0]
            return name if name.startswith("?") else None
        return None

    def symbols(self) -> set[str]:
        return {name for mono, _ in self.terms for name in mono}

    def __add__(self, other: Dim) -> Dim:
        return _make(_combine(self.terms, other.terms, 1))

    def __sub__(self, other: Dim) -> Dim:
        return _make(_combine(self.terms, other.terms, -1))

    def __mul__(self, other: Dim) -> Dim:
        acc: dict[Monomial, int] = {}
        for ma, ca in self.terms:
            for mb, cb in other.terms:
                mono = tuple(sorted(ma + mb))
                acc[mono] = acc.get(mono, 0) + ca * cb
        return _make(acc)

    def substitute(self, env: dict[str, Dim]) -> Dim:
        if not any(name in env for name in self.symbols()):
            return self
        total = Dim.const(0)
        for mono, coef in self.terms:
            term = Dim.const(coef)
            for name in mono:
                term = term * (env[name] if name in env else Dim.symbol(name))
            total = total + term
        return Dim(total.terms, self.label)

    def __str__(self) -> str:
        if self.label is not None:
            return self.label
        if not self.terms:
            return "0"
        parts = []
        for mono, coef in self.terms:
            names = " * ".join(shown(n) for n in mono)
            if not mono:
                parts.append(str(coef))
            elif coef == 1:
                parts.append(names)
            else:
                parts.append(f"{coef} * {names}")
        return " + ".join(parts).replace("+ -", "- ")


def _combine(a, b, sign: int) -> dict[Monomial, int]:
    acc: dict[Monomial, int] = dict(a)
    for mono, coef in b:
        acc[mono] = acc.get(mono, 0) + sign * coef
    return acc


def _make(acc: dict[Monomial, int]) -> Dim:
    return Dim(tuple(sorted((m, c) for m, c in acc.items() if c)))


def shown(name: str) -> str:
    """A variable as users see it: `?n#12` (fresh for one use of a primitive) reads `n`."""
    return name.lstrip("?").split("#", 1)[0]


def labelled(dim: Dim, label: str) -> Dim:
    """The same dim, displayed as written in the source (e.g. `V` for 5)."""
    return Dim(dim.terms, label)
