"""Unification of dims, shapes, carriers and atoms, with a binding table.

`Subst` is the binding table of one definition: what each `?variable` (a dim, a shape prefix
`*s`, an atom) was bound to. Nominal objects unify
only with themselves; a nominal object may flow into a structural carrier (it forgets its
name), never the other way round inside an expression.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from enum import Enum
from itertools import islice
from typing import Any

from catdsl.typesys.carriers import CARRIER_KINDS
from catdsl.typesys.dims import Dim
from catdsl.typesys.types import (
    NUMBER_KINDS,
    Atom,
    Carrier,
    Kinds,
    Obj,
    Prod,
    Record,
    Shape,
    TVar,
    carrier_ground,
    dim_ground,
    is_kind_var,
    prod_ground,
)


class Reason(Enum):
    """Why two types do not meet; diagnostics choose their wording from it."""

    DIMS_DIFFER = "dims differ"
    RANKS_DIFFER = "ranks differ"
    CARRIERS_DIFFER = "carriers differ"
    OBJECTS_DIFFER = "objects differ"
    STRUCTURAL_INTO_NOMINAL = "structural value entering a nominal object"
    ARITY = "arity"


class Mismatch(Exception):
    """Two types that do not meet: why, and the two sides as far as unification got."""

    def __init__(self, reason: Reason, expected: object = None, found: object = None):
        super().__init__(reason.value)
        self.reason = reason
        self.expected = expected
        self.found = found


@dataclass(init=False)
class Subst:
    """Bindings of dim variables, shape-prefix variables and atom variables."""

    dims: dict[str, Dim] = field(default_factory=dict)
    rests: dict[str, Shape] = field(default_factory=dict)
    atoms: dict[str, Atom] = field(default_factory=dict)
    products: dict[str, Prod] = field(default_factory=dict)
    """Variables bound to a product of several atoms (`a` of `List[a]` meeting
    `List[Real * Nat]`): seen through `prod`, where they stand in a product."""
    deferred: list[Callable[[], None]] = field(default_factory=list)
    """Checks that need the final types of a definition (a primitive's axis given by name
    needs its input's shape): run by `settle` when the definition is finished."""
    settled: dict[int, dict[str, object]] = field(default_factory=dict)
    """Static arguments the deferred checks decided, by the id of the term they belong to."""
    kinds: dict[str, str] = field(default_factory=dict)
    """Number-kind variables (`matmul` on `Real`, `Nat` or `Int`) bound to a kind."""
    final: bool = False
    """Set once the definition is finished: a number-kind variable still free is `Real`."""
    finals: dict[int, tuple[Prod, Prod]] = field(default_factory=dict)
    """Products already resolved to ground ones, by id (each kept with its type): a ground
    result is final, as a binding is never undone, so finishing starts from them."""
    capped: bool = False
    """Set once applying stopped at its bound of 50 links (a chain of bindings that long):
    from then on a resolved type may resolve further, so the `_meet_*` shortcuts that take
    a resolved type as final are not taken."""

    def __init__(self) -> None:
        # (written out: the generated `__init__` calls a factory per table, and every
        # definition, law and wiring block makes one table)
        self.dims = {}
        self.rests = {}
        self.atoms = {}
        self.products = {}
        self.deferred = []
        self.settled = {}
        self.kinds = {}
        self.final = False
        self.finals = {}
        self.capped = False

    def resolved(self, p: Prod) -> Prod:
        """`prod(p)`, remembered in `finals` when it is ground (and applying was never cut
        short), for finishing to start from."""
        result = self.prod(p)
        flag = result._ground  # `prod_ground`, read inline when it is cached
        if (flag or (flag is None and prod_ground(result))) and not self.capped:
            self.finals[id(p)] = (p, result)
        return result

    def defer(self, check: Callable[[], None]) -> None:
        """Run `check` when the definition is finished, after every other binding."""
        self.deferred.append(check)

    def settle(self) -> None:
        """Run the deferred checks (each may bind, or report and raise `Failed`)."""
        while self.deferred:
            self.deferred.pop(0)()

    def sizes(self) -> tuple[int, int, int, int, int]:
        """How many bindings each table holds (a binding only ever adds a key)."""
        return len(self.dims), len(self.rests), len(self.atoms), len(self.products), len(self.kinds)

    def release(
        self, sizes: tuple[int, int, int, int, int], first: int, dom: Prod, cod: Prod
    ) -> tuple[Prod, Prod] | None:
        """`dom` and `cod` resolved, and the bindings made since `sizes` dropped, when each
        binds a variable tagged `first` or later (made since: `primitives.issued`); None, and
        nothing dropped, when one does not.

        For a primitive whose arguments are all ground: meeting them bound only its own
        fresh variables, which occur nowhere else but in its domain and codomain; resolved
        there once, the bindings are dead, and the table stays as small as it was, so every
        later step of the definition resolves less. What finishing gives is unchanged: a
        binding is never undone, so the released variables resolve now as they would then.
        A table capped (before, or by resolving) keeps its bindings (None)."""
        tables: tuple[dict[str, Any], ...] = (
            self.dims,
            self.rests,
            self.atoms,
            self.products,
            self.kinds,
        )
        fresh: list[tuple[dict[str, Any], str]] = []
        for table, size in zip(tables, sizes, strict=True):
            for name in islice(reversed(table), len(table) - size):  # (the newest keys)
                _, sep, tag = name.rpartition("#")
                if not (sep and tag.isdigit() and int(tag) >= first):
                    return None
                fresh.append((table, name))
        if self.capped:
            return None
        resolved = self.prod(dom), self.prod(cod)
        if self.capped:
            return None  # (applying stopped at its bound: the bindings are still needed)
        for table, name in fresh:
            del table[name]
        return resolved

    # ---------------------------------------------------------------- applying
    # Applying returns its argument itself when nothing in it is bound (no copy, and the
    # labels dims are shown with stay as written).
    def dim(self, d: Dim) -> Dim:
        bound = self.dims
        if not bound:
            return d
        flag = d._ground  # `dim_ground`, read inline when it is cached
        if flag or (flag is None and dim_ground(d)):
            return d  # only `?` variables are ever bound
        for i in range(50):
            terms = d.terms
            if len(terms) == 1 and terms[0][1] == 1 and len(terms[0][0]) == 1:  # a lone name
                value = bound.get(terms[0][0][0])
                if value is None:
                    return d
                d = Dim(value.terms, d.label)  # what `substitute` gives for a lone name
                flag = value._ground
                if (flag or (flag is None and dim_ground(value))) and i != 49:
                    return d  # bound to a ground dim: nothing more to apply
                continue
            names = [n for mono, _ in terms for n in mono if n in bound]
            if not names:
                return d
            d = d.substitute({n: bound[n] for n in names})
        self.capped = True
        return d

    def shape(self, s: Shape) -> Shape:
        dims, rest = s.dims, s.rest
        rests = self.rests
        if rest is not None and rest in rests:
            for _ in range(50):
                if rest is None or rest not in rests:
                    break
                prefix = rests[rest]
                dims, rest = prefix.dims + dims, prefix.rest
            else:
                self.capped = self.capped or (rest is not None and rest in rests)
        elif not dims or not self.dims:
            return s
        if not self.dims:
            return Shape(dims, rest)
        new = []
        same = rest is s.rest and dims is s.dims
        for d in dims:
            applied = d if d._ground else self.dim(d)  # (`dim` of a ground dim is itself)
            same = same and applied is d
            new.append(applied)
        return s if same else Shape(tuple(new), rest)

    def atom(self, a: Atom) -> Atom:
        if a._ground or not (
            self.dims or self.rests or self.atoms or self.products or self.kinds or self.final
        ):
            return a
        if type(a) is Carrier:  # (the common case, tested first)
            return self.carrier(a)
        if isinstance(a, TVar):
            bound = self.atoms.get(a.name)
            return self.atom(bound) if bound is not None else a
        if isinstance(a, Carrier):
            return self.carrier(a)
        if isinstance(a, Record):
            return replace(a, fields=tuple((n, self.atom(x)) for n, x in a.fields))
        return a

    def carrier(self, c: Carrier) -> Carrier:
        flag = c._ground  # `carrier_ground`, read inline when it is cached
        if flag or (flag is None and carrier_ground(c)):
            return c
        shape = self.shape(c.shape)
        bound = self.dim(c.bound) if c.bound is not None else None
        elem = self.prod(c.elem) if c.elem is not None else None
        kind = self.kind(c.kind) if c.kind.startswith("?") else c.kind  # `is_kind_var`
        if shape is c.shape and bound is c.bound and elem is c.elem and kind is c.kind:
            return c
        return Carrier(kind, shape, bound, elem)

    def kind(self, kind: str) -> str:
        """A number-kind variable's kind, as far as it is bound (`Real` once final)."""
        for _ in range(50):
            if kind not in self.kinds:
                break
            kind = self.kinds[kind]
        else:
            self.capped = self.capped or kind in self.kinds
        return "Real" if self.final and is_kind_var(kind) else kind

    def prod(self, p: Prod, atom: Callable[[Atom], Atom] | None = None) -> Prod:
        """`p` with its bindings applied; `atom` applies them to one atom (by default
        `self.atom`; finishing a term passes one that remembers what it resolved)."""
        flag = p._ground  # `prod_ground`, read inline when it is cached
        if flag or (flag is None and prod_ground(p)):
            return p
        if not (self.dims or self.rests or self.atoms or self.products or self.kinds or self.final):
            return p
        resolve = self.atom if atom is None else atom
        atoms: list[Atom] = []
        same = True
        for a in p.atoms:
            resolved = resolve(a)
            kind = type(resolved)
            if kind is Carrier or kind is Obj:  # (the common case: one atom)
                atoms.append(resolved)
                same = same and resolved is a
            elif isinstance(resolved, TVar) and resolved.name in self.products:
                atoms.extend(self.prod(self.products[resolved.name]).atoms)
                same = False
            elif isinstance(resolved, Prod):
                atoms.extend(resolved.atoms)
                same = False
            else:
                atoms.append(resolved)
                same = same and resolved is a
        return p if same else Prod(tuple(atoms))

    def default_rests(self, p: Prod) -> None:
        """Bind every still-free shape prefix in `p` to the empty prefix."""
        flag = p._ground  # `prod_ground`, read inline when it is cached
        if flag or (flag is None and prod_ground(p)):
            return  # no prefix in it, and resolving it gives it back
        for a in p.atoms:
            a = self.atom(a)
            if isinstance(a, Carrier):
                if a.shape.rest is not None:
                    self.rests[a.shape.rest] = Shape()
                if a.elem is not None:
                    self.default_rests(a.elem)

    # ---------------------------------------------------------------- unifying
    # Each `unify_*` resolves its arguments, then meets them with `_meet_*`, which takes them
    # resolved: a carrier's resolved shape is met as it is, and a dim or atom is resolved
    # again only when something was bound since. Resolving a completely resolved type gives
    # that very object back, so this skips only repeated work; a binding binds a free
    # variable, so it adds a key and the tables' sizes tell whether anything was bound.
    # Both hold until applying stops at its bound of links (`capped`): from then on every
    # step resolves again, as it always did.
    def unify_dim(self, expected: Dim, found: Dim) -> None:
        self._meet_dims(self.dim(expected), self.dim(found))

    def _meet_dims(self, e: Dim, f: Dim) -> None:
        if e is f or e == f:
            return
        if e.variable:
            self.dims[e.variable] = f
            return
        if f.variable:
            self.dims[f.variable] = e
            return
        raise Mismatch(Reason.DIMS_DIFFER, e, f)

    def unify_shape(self, expected: Shape, found: Shape) -> None:
        self._meet_shapes(self.shape(expected), self.shape(found))

    def _meet_shapes(self, e: Shape, f: Shape) -> None:
        e_dims, f_dims = e.dims, f.dims
        ne, nf = len(e_dims), len(f_dims)
        if ne == nf:  # (the common case: the trailing dims are all of them, no head left)
            e_head = f_head = e_dims[:0]
            pairs = zip(e_dims, f_dims, strict=True)
        else:
            if e.rest is None and f.rest is None:
                raise Mismatch(Reason.RANKS_DIFFER, e, f)
            k = min(ne, nf)
            e_head, f_head = e_dims[: ne - k], f_dims[: nf - k]
            pairs = zip(e_dims[ne - k :], f_dims[nf - k :], strict=True)
        dims = self.dims
        before = len(dims)
        for de, df in pairs:
            if len(dims) != before or self.capped:
                de, df = self.dim(de), self.dim(df)
            if de is not df and de != df:  # (`_meet_dims`' first test, inline)
                self._meet_dims(de, df)
        if e.rest is not None and not e_head:
            self._bind_rest(e.rest, Shape(f_head, f.rest))
        elif f.rest is not None and not f_head:
            self._bind_rest(f.rest, Shape(e_head, e.rest))
        elif e_head or f_head:
            raise Mismatch(Reason.RANKS_DIFFER, e, f)

    def _bind_kind(self, e: Carrier, f: Carrier) -> tuple[Carrier, Carrier]:
        """Two carriers of different kinds, one of them a number-kind variable: bound to the
        other's kind when that is a number kind; else they do not meet."""
        for var, other in ((e, f), (f, e)):
            if is_kind_var(var.kind) and (is_kind_var(other.kind) or other.kind in NUMBER_KINDS):
                self.kinds[var.kind] = other.kind
                return self.carrier(e), self.carrier(f)
        raise Mismatch(Reason.CARRIERS_DIFFER, e, f)

    def _bind_rest(self, var: str, value: Shape) -> None:
        if value.rest == var:
            if value.dims:
                raise Mismatch(Reason.RANKS_DIFFER, Shape((), var), value)
            return
        self.rests[var] = value

    def unify_carrier(self, expected: Carrier, found: Carrier) -> None:
        self._meet_carriers(self.carrier(expected), self.carrier(found))

    def _meet_carriers(self, e: Carrier, f: Carrier) -> None:
        if e.kind != f.kind:
            e, f = self._bind_kind(e, f)
        spec = CARRIER_KINDS.get(e.kind)  # (`e.spec`, inline for a kind that is no variable)
        if (spec if spec is not None else e.spec).element:
            assert e.elem is not None and f.elem is not None
            try:
                self.unify_prod(e.elem, f.elem, nominal_entry=False)
            except Mismatch as err:
                raise Mismatch(err.reason, e, f) from None
            return
        try:
            if self.capped:
                self.unify_shape(e.shape, f.shape)
            else:
                self._meet_shapes(e.shape, f.shape)
            if e.bound is not None and f.bound is not None:
                self.unify_dim(e.bound, f.bound)
        except Mismatch as err:
            raise Mismatch(err.reason, self.carrier(e), self.carrier(f)) from None

    def flow(self, found: Atom, expected: Atom, nominal_entry: bool = False) -> None:
        """A wire of `found` enters a port expecting `expected`.

        `nominal_entry` allows a structural value to enter a nominal object: only at the
        boundary of a declared morphism or a data declaration."""
        f = found if found._ground else self.atom(found)  # (`atom` of a ground atom: itself)
        e = expected if expected._ground else self.atom(expected)
        self._meet_atoms(f, e, nominal_entry)

    def _meet_atoms(self, found: Atom, expected: Atom, nominal_entry: bool) -> None:
        if found is expected or found == expected:
            return
        if type(expected) is Carrier and type(found) is Carrier:  # (the last case below)
            if self.capped:
                self.unify_carrier(expected, read_as(expected, found))
            else:
                self._meet_carriers(expected, read_as(expected, found))
            return
        if isinstance(expected, TVar):
            self._bind_var(expected, found)
            return
        if isinstance(found, TVar):
            self._bind_var(found, expected)
            return
        if isinstance(expected, Obj):
            if isinstance(found, Obj):
                raise Mismatch(Reason.OBJECTS_DIFFER, expected, found)
            if (
                isinstance(found, Carrier)
                and nominal_entry
                and isinstance(expected.carrier, Carrier)
            ):
                self.unify_carrier(expected.carrier, found)
                return
            raise Mismatch(Reason.STRUCTURAL_INTO_NOMINAL, expected, found)
        if isinstance(expected, Carrier):
            if isinstance(found, Obj):
                if isinstance(found.carrier, Carrier):
                    try:
                        self.unify_carrier(expected, read_as(expected, found.carrier))
                    except Mismatch as err:
                        raise Mismatch(err.reason, expected, found) from None
                    return
                raise Mismatch(Reason.CARRIERS_DIFFER, expected, found)
            if isinstance(found, Carrier):
                if self.capped:
                    self.unify_carrier(expected, read_as(expected, found))
                else:
                    self._meet_carriers(expected, read_as(expected, found))
                return
        raise Mismatch(Reason.OBJECTS_DIFFER, expected, found)

    def _bind_product(self, one: Prod, other: Prod) -> bool:
        """A lone variable that may stand for a product, meeting one of several atoms."""
        if len(one) != 1 or not isinstance(one.atoms[0], TVar) or not one.atoms[0].product:
            return False
        if len(other) < 2:
            return False
        self.products[one.atoms[0].name] = other
        return True

    def _bind_var(self, var: TVar, atom: Atom) -> None:
        """Bind a variable to what it meets, within the kinds it may stand for (of two
        variables, the unconstrained one is bound to the other)."""
        if isinstance(atom, TVar) and var.kinds and not atom.kinds:
            self.atoms[atom.name] = var
            return
        if not isinstance(atom, TVar) and not var.admits(atom):
            raise Mismatch(Reason.CARRIERS_DIFFER, Kinds(var), atom)
        bound = var.binding(atom)
        if var.scalar and isinstance(bound, Carrier) and bound.shape.rest is not None:
            self.rests.setdefault(bound.shape.rest, Shape())  # one value: no batch prefix
        self.atoms[var.name] = bound

    def unify_prod(self, expected: Prod, found: Prod, nominal_entry: bool = False) -> None:
        if expected is found:
            return  # each atom meets itself
        # (`self.prod` inlined for the common case of two ground products: each is its own
        # resolution, and two equal ones meet atom by atom without binding anything)
        e_flag, f_flag = expected._ground, found._ground
        if e_flag is None:
            e_flag = prod_ground(expected)
        if f_flag is None:
            f_flag = prod_ground(found)
        if e_flag and f_flag and expected == found:
            return
        e = expected if e_flag else self.prod(expected)
        f = found if f_flag else self.prod(found)
        if e is f:
            return  # each atom meets itself
        n = len(e.atoms)  # (`len(e)`, without the call of `Prod.__len__`)
        if n != len(f.atoms):
            if self._bind_product(e, f) or self._bind_product(f, e):
                return
            raise Mismatch(Reason.ARITY, e, f)
        if n == 1 and not self.capped:  # (the common case: nothing bound before it)
            self._meet_atoms(f.atoms[0], e.atoms[0], nominal_entry)
            return
        before = self._bound()
        for ae, af in zip(e.atoms, f.atoms, strict=True):
            if self._bound() == before and not self.capped:
                self._meet_atoms(af, ae, nominal_entry)
            else:
                self.flow(af, ae, nominal_entry)

    def _bound(self) -> int:
        """How many bindings the tables hold: it grows with every binding."""
        dims, rests, atoms, products = self.dims, self.rests, self.atoms, self.products
        return len(dims) + len(rests) + len(atoms) + len(products) + len(self.kinds)


def read_as(expected: Carrier, found: Carrier) -> Carrier:
    """`found` as the kind a wire expecting `expected` reads it: an `AllowMask` enters a `Bool`
    mask (which `std.attention` reads as true = may attend) as a `Bool` of its shape; a
    `BlockMask` never does (its polarity is the opposite). Any other carrier is itself."""
    if expected.kind == "Bool" and found.kind == "AllowMask":
        return replace(found, kind="Bool")
    return found
