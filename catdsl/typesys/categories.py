"""Named categories (`category SignalMatrix : Signal1, Signal2`): the objects whose morphisms
are a category's, so that a composite of them that does not fit is reported in its name."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from catdsl.syntax import ast
from catdsl.typesys import messages as M
from catdsl.typesys.reporting import Reporter
from catdsl.typesys.types import Obj, Prod

if TYPE_CHECKING:
    from catdsl.typesys.environment import Environment


@dataclass(frozen=True)
class Category:
    """A declared category: its name, whether it also composes in parallel, its objects."""

    name: str
    monoidal: bool
    objects: frozenset[str]


class Categories:
    """The program's categories, read from their declarations before anything is checked (a
    composition is typed lazily, wherever its definition is first used)."""

    def __init__(self, items: Sequence[object]) -> None:
        self.decls = [item for item in items if isinstance(item, ast.CategoryDecl)]
        self._by_object: dict[str, Category] = {}
        for decl in self.decls:
            category = Category(decl.name, decl.monoidal, frozenset(n for n, _ in decl.objects))
            for name, _ in decl.objects:
                self._by_object.setdefault(name, category)

    def of(self, *sides: Prod) -> Category | None:
        """The category every wire of `sides` belongs to, or None."""
        found: set[Category] = set()
        for side in sides:
            for atom in side.atoms:
                category = self._by_object.get(atom.name) if isinstance(atom, Obj) else None
                if category is None:
                    return None
                found.add(category)
        return found.pop() if len(found) == 1 else None

    def check(self, env: Environment, reporter: Reporter) -> None:
        """Every name a category lists must be a declared object (E0381)."""
        for decl in self.decls:
            for name, span in decl.objects:
                entry = env.entries.get(name)
                if entry is None or entry.kind != "object":
                    kind = entry.kind if entry is not None else None
                    reporter.error(M.category_object(decl.name, name, kind), span)
