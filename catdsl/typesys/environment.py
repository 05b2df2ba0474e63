"""The top-level names of a program: declaring them, checking each on first use, reporting
definitions that use themselves, and the order that checks every name after those it uses.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import Field, dataclass, fields, is_dataclass
from operator import attrgetter
from typing import Any, Literal, cast

from catdsl.errors import Span
from catdsl.syntax import ast
from catdsl.typesys import messages as M
from catdsl.typesys.dims import Dim
from catdsl.typesys.family_spec import Families
from catdsl.typesys.primitives import PrimSpec
from catdsl.typesys.program import Definition, ParamInfo, Structure
from catdsl.typesys.reporting import Failed, Reporter
from catdsl.typesys.types import Obj, Prod

Kind = Literal[
    "dim",
    "object",
    "type",
    "param",
    "morphism",
    "let",
    "wiring",
    "data",
    "functor",
    "natural",
    "monoid",
    "preorder",
]
Declaration = (
    ast.DimDecl
    | ast.ObjectDecl
    | ast.TypeDecl
    | ast.ParamDecl
    | ast.MorphismDecl
    | ast.LetDecl
    | ast.WiringDecl
    | ast.DataDecl
    | ast.FunctorDecl
    | ast.NaturalDecl
    | ast.StructureDecl
)
Resolved = Dim | Obj | Prod | ParamInfo | Definition | Structure
"""What checking a declaration gives: a dim, an object, an alias, a param, a definition, or a
declaration that carries laws (functor, monoid, preorder; a natural transformation is a
generic definition)."""

_KINDS: dict[type, Kind] = {
    ast.DimDecl: "dim",
    ast.ObjectDecl: "object",
    ast.TypeDecl: "type",
    ast.ParamDecl: "param",
    ast.MorphismDecl: "morphism",
    ast.LetDecl: "let",
    ast.WiringDecl: "wiring",
    ast.DataDecl: "data",
    ast.FunctorDecl: "functor",
    ast.NaturalDecl: "natural",
}
_STRUCTURE_KINDS: dict[str, Kind] = {"monoid": "monoid", "preorder": "preorder"}
MORPHISM_KINDS = ("morphism", "let", "wiring", "natural")
"""Declarations whose names stand for morphisms that take inputs."""
DEFINITION_KINDS = ("morphism", "let", "wiring", "data", "natural")
"""Declarations checked to a `Definition`."""


@dataclass
class Entry:
    """A top-level name: what kind of declaration and its AST node. A `refused` entry takes a
    name the language or an imported module already uses; it is reported once and still
    declares its name, so its uses do not repeat the error."""

    kind: Kind
    decl: Declaration
    refused: bool = False


class Environment:
    """The declared names of one program and the results of checking them.

    `define` checks one declaration; it is called once per name, on first use, and whatever
    it raises other than `Failed` propagates."""

    def __init__(
        self,
        reporter: Reporter,
        primitives: Mapping[str, PrimSpec],
        families: Families,
        imported_std: set[str],
        define: Callable[[Entry], Resolved],
    ) -> None:
        self.reporter = reporter
        self.primitives = primitives
        self.families = families
        self.imported_std = imported_std
        self.define = define
        self.entries: dict[str, Entry] = {}
        self.order: list[str] = []
        self.done: dict[str, Resolved] = {}
        self.failed: set[str] = set()
        self.active: list[str] = []
        self._position: dict[str, int] = {}
        self._uses: dict[str, list[str]] | None = None
        self.type_scope: dict[str, Prod] = {}
        """The parameters of the generic definition being checked (`A` in `First[A]`)."""
        self.term_scope: dict[str, object] = {}
        """Morphism variables bound while a functor's morphism map is applied (`f`)."""

    @contextmanager
    def scope(
        self, types: dict[str, Prod], terms: dict[str, object] | None = None
    ) -> Iterator[None]:
        """Bind type parameters and morphism variables while a body is checked."""
        saved = self.type_scope, self.term_scope
        self.type_scope, self.term_scope = types, terms or {}
        try:
            yield
        finally:
            self.type_scope, self.term_scope = saved

    # ---------------------------------------------------------------- declaring
    def declare(self, items: Sequence[object]) -> list[ast.LawDecl]:
        """Declare every named item, reporting names declared twice or taken from the
        language; return the laws, which have no name to use."""
        laws: list[ast.LawDecl] = []
        law_names: set[str] = set()
        taken = {*self.families, *self.families.state_types}  # read once, not per name
        for item in items:
            if isinstance(item, ast.LawDecl):
                if item.name in law_names:
                    self.reporter.error(M.law_declared_twice(item.name), item.name_span)
                laws.append(item)
                law_names.add(item.name)
                continue
            kind = (
                _STRUCTURE_KINDS[item.kind]
                if isinstance(item, ast.StructureDecl)
                else _KINDS.get(type(item))
            )
            if kind is None:
                continue
            self._declare(kind, cast(Declaration, item), taken)  # only declarations have a kind
        return laws

    def _declare(self, kind: Kind, decl: Declaration, taken: set[str]) -> None:
        """Declare one name; `taken` holds the training families' and state types' names."""
        name = decl.name
        first = self.entries.get(name)
        if first is not None and not first.refused:
            self.reporter.error(M.declared_twice(name, first.decl.name_span), decl.name_span)
            return
        spec = self.primitives.get(name)
        imported = spec is not None and self.visible(name)
        refused = imported or name in taken
        if refused:
            module = spec.module if spec is not None and imported else None
            self.reporter.error(M.standard_library_name(name, module), decl.name_span)
        if first is not None:
            return  # a library name taken again: the first declaration keeps it
        self.entries[name] = Entry(kind, decl, refused)
        self._position[name] = len(self.order)
        self.order.append(name)

    def visible(self, prim: str) -> bool:
        """Whether a primitive's module (or one of its `also` modules) is imported."""
        spec = self.primitives[prim]
        return spec.module in self.imported_std or any(m in self.imported_std for m in spec.also)

    # ---------------------------------------------------------------- looking up
    def lookup(self, name: str) -> Entry | None:
        """The declaration a use of `name` refers to. Inside a refused declaration its own
        name keeps the meaning the language gives it (`morphism softmax : ... = softmax`)."""
        entry = self.entries.get(name)
        if entry is not None and entry.refused and name in self.active:
            return None
        return entry

    def kind(self, name: str) -> Kind | None:
        entry = self.lookup(name)
        return entry.kind if entry is not None else None

    def names(self) -> list[str]:
        """The declared names to suggest for a misspelt one (not those refused)."""
        return [name for name, entry in self.entries.items() if not entry.refused]

    def position(self, name: str) -> int:
        """Where a name is declared among all names; unknown names come last."""
        return self._position.get(name, len(self._position))

    @property
    def checking(self) -> str | None:
        """The innermost definition being checked."""
        return self.active[-1] if self.active else None

    # ---------------------------------------------------------------- checking
    def resolve(self, name: str) -> Resolved:
        """Check a declaration on first use and return its result; raise `Failed` when it
        failed (its diagnostics are already recorded) or uses itself (reported here)."""
        result = self.done.get(name)
        if result is not None:
            return result
        if name in self.failed:
            raise Failed
        entry = self.entries[name]
        if name in self.active:
            members = self.active[self.active.index(name) :]
            first = min(range(len(members)), key=lambda i: self._position[members[i]])
            members = members[first:] + members[:first]  # start where the source does
            self.reporter.error(M.cycle(members), self.entries[members[0]].decl.name_span)
            self.failed.add(name)
            raise Failed
        self.active.append(name)
        saved = self.type_scope, self.term_scope
        self.type_scope, self.term_scope = {}, {}  # another definition sees no parameters
        try:
            result = self.define(entry)
        except Failed:
            self.failed.add(name)
            raise
        finally:
            self.type_scope, self.term_scope = saved
            self.active.pop()
        self.done[name] = result
        return result

    def definition(self, name: str) -> Definition:
        result = self.resolve(name)
        assert isinstance(result, Definition)
        return result

    def param(self, name: str) -> ParamInfo:
        result = self.resolve(name)
        assert isinstance(result, ParamInfo)
        return result

    def dim_value(self, name: str) -> Dim | None:
        """The value of a dim name (a free symbol when its declaration failed), or None when
        the name is not a dim."""
        if self.kind(name) != "dim":
            return None
        try:
            result = self.resolve(name)
        except Failed:
            return Dim.symbol(name)
        assert isinstance(result, Dim)
        return result

    def settled_dim(self, name: str) -> bool:
        """Whether `name` is a dim whose value every later use reads the same: declared, not
        refused (whose meaning depends on where it is used), and checked or failed."""
        entry = self.entries.get(name)
        return (
            entry is not None
            and entry.kind == "dim"
            and not entry.refused
            and (name in self.done or name in self.failed)
        )

    def named_type(self, name: str) -> Prod | None:
        """The type an object or alias name stands for, or None when it is neither."""
        if name in self.type_scope:
            return self.type_scope[name]
        if self.kind(name) not in ("object", "type"):
            return None
        result = self.resolve(name)
        if isinstance(result, Obj):
            return Prod((result,))
        assert isinstance(result, Prod)
        return result

    def morphism_signatures(self) -> dict[str, tuple[Prod, Prod]]:
        """The signatures of every declared morphism that checks, for help lines. Checking a
        candidate must never need a definition being checked now: that is no cycle of the
        program, only of the search."""
        blocked = self._reaching_active()
        out = {}
        for name, entry in self.entries.items():
            if entry.kind not in MORPHISM_KINDS or name in self.active or name in blocked:
                continue
            try:
                definition = self.definition(name)
            except Failed:
                continue
            if definition.params:
                continue  # a generic definition fits once instantiated
            out[name] = (definition.term.dom, definition.term.cod)
        return out

    def _reaching_active(self) -> set[str]:
        """The names not yet checked whose declarations use, directly or not, a definition
        being checked now."""
        used_by: dict[str, list[str]] = {}
        for name, uses in self._dependencies().items():
            for used in uses:
                used_by.setdefault(used, []).append(name)
        reached: set[str] = set()
        pending = list(self.active)
        while pending:
            for user in used_by.get(pending.pop(), ()):
                if user not in reached and user not in self.done:
                    reached.add(user)
                    pending.append(user)
        return reached

    # ---------------------------------------------------------------- order
    def _dependencies(self) -> dict[str, list[str]]:
        if self._uses is None:
            self._uses = {
                name: [n for n in referenced_names(e.decl) if n in self.entries and n != name]
                for name, e in self.entries.items()
            }
        return self._uses

    def dependency_order(self) -> list[str]:
        """Declarations ordered so that each comes after the names it uses (cycles are left for
        `resolve` to report). Checking in this order keeps lazy resolution shallow even when a
        file defines things after their uses."""
        uses = self._dependencies()
        done: set[str] = set()
        ordered: list[str] = []
        for root in self.order:
            if root in done:
                continue
            if done.issuperset(uses[root]):  # everything it uses is ordered: the walk is itself
                done.add(root)
                ordered.append(root)
                continue
            stack = [(root, iter(uses[root]))]
            done.add(root)
            while stack:
                name, pending = stack[-1]
                for child in pending:  # the next used name not yet ordered, if any
                    if child not in done:
                        done.add(child)
                        stack.append((child, iter(uses[child])))
                        break
                else:
                    stack.pop()
                    ordered.append(name)
        return ordered

    def results(self) -> Iterator[tuple[str, Resolved]]:
        """Every declaration that checked, in source order."""
        for name in self.order:
            if name in self.done:
                yield name, self.done[name]


_NAMING = (ast.Name, ast.TName, ast.TApply, ast.TCall)
_INERT = {
    "Span",
    "object",
    "bool",
    "int",
    "str",
    "str | None",
    "int | str",
    "float | None",
    "str | float",
    "str | float | None",
    "tuple[int, int] | None",
    "tuple[str, ...]",
    "tuple[tuple[str, Span], ...]",
}
"""Annotations of AST fields that hold no node: `referenced_names` does not look into them
(`object` is a literal's value: a number, string or bool)."""
_NAME, _TNAME = ast.Name, ast.TName
"""Nodes that name something and hold no node (asserted where the walks are made)."""
_Walk = tuple[bool, Callable[[Any], tuple[object, ...]] | None]
_WALKS: dict[type, _Walk] = {}
"""Per class: whether it names something, and a function giving the values of the fields
`referenced_names` walks, in field order, with the items of tuple fields spliced in (None
when there is none to walk; `tuple` itself for a tuple, whose items are the values)."""


def _spliced(annotation: str) -> bool:
    """Whether a field always holds a tuple, whose items the reader splices in (`tuple[...] |
    None` may hold None, which cannot be)."""
    return annotation.startswith("tuple[") and "None" not in annotation.split("]")[-1]


def _passed_through(annotation: str) -> str | None:
    """For a field of `tuple[X, ...]` whose items name nothing and hold one node, in one field
    that is no tuple (an argument's `value`), that field's name: the reader splices those nodes
    in for the items, which the walk would meet next anyway (None for any other field)."""
    match = re.fullmatch(r"tuple\[(\w+), \.\.\.\]", annotation)
    cls = getattr(ast, match.group(1), None) if match else None
    if not isinstance(cls, type) or not is_dataclass(cls) or issubclass(cls, _NAMING):
        return None
    walked = [f for f in fields(cls) if str(f.type) not in _INERT]
    if len(walked) != 1 or _spliced(str(walked[0].type)):
        return None
    return walked[0].name


def _read_of(field: Field[Any]) -> str:
    """How a reader reads one walked field (`node.body`, `*node.parts`, or for arguments
    `*map(get_value, node.args)`, `get_value` reading each argument's `value`)."""
    annotation = str(field.type)
    if not _spliced(annotation):
        return "node." + field.name
    inner = _passed_through(annotation)
    if inner is None:
        return "*node." + field.name
    return f"*map(get_{inner}, node.{field.name})"


def _walk_of(item: object) -> _Walk:
    walk: _Walk = (False, None)
    if isinstance(item, tuple):
        walk = (False, tuple)
    elif is_dataclass(item) and not isinstance(item, Span | type):
        reads = [_read_of(f) for f in fields(item) if str(f.type) not in _INERT]
        # one compiled reader per class: `lambda node: (node.func, *node.args)` reads a node
        # in a single call, and a tuple field's items go straight onto the pending list
        source = "lambda node: (" + ", ".join(reads) + ",)"
        getters = {f"get_{n}": attrgetter(n) for n in re.findall(r"\bget_(\w+)", source)}
        read = eval(source, {"map": map, **getters}) if reads else None
        walk = (isinstance(item, _NAMING), read)
    _WALKS[type(item)] = walk
    return walk


def referenced_names(node: object) -> set[str]:
    """Every name an AST declaration mentions (in types and expressions), without recursion:
    deep expressions must not overflow the stack here. The walk is depth first, a node's
    fields (and a tuple's items) last to first, which fixes the order names are added in."""
    found: set[str] = set()
    add = found.add
    pending = [node]
    pop, extend, known = pending.pop, pending.extend, _WALKS
    while pending:
        item = pop()
        cls = type(item)
        if cls is _NAME or cls is _TNAME:  # the commonest nodes: a name and nothing below it
            add(item.name)  # type: ignore[attr-defined]
            continue
        walk = known.get(cls)
        if walk is None:
            walk = _walk_of(item)
        naming, read = walk
        if naming:
            add(item.name)  # type: ignore[attr-defined]
        if read is tuple:
            extend(item)  # type: ignore[arg-type]
        elif read is not None:
            extend(read(item))
    return found
