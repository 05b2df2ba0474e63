"""Run-time values of wires: how each atom is represented, converted and combined.

One wire carries one atom. Its value is a numpy array for array carriers (integer for `Index`,
`Nat` and `Int`, bool for `Bool`, unicode strings for `Symbol`, the plan's float dtype for `Real`
and `Simplex`); a `List` of a
product is *one array per component* sharing the leading axis, held as a flat tuple (so is an
object over a product); a `Record` (`Params(loss)`, `AdamState(loss)`) is a dict of field name to
value; an `Option` is None or its element's value. An atom's *width* is the number of arrays a
kernel sees for it: 1, or the number of components of such a tuple.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from numpy.typing import DTypeLike

from catdsl.typesys.carriers import DtypeClass
from catdsl.typesys.types import Atom, Carrier, Obj, Prod, Record, carrier_of

_FIXED_DTYPES = {
    DtypeClass.INTEGER: np.dtype(np.int64),
    DtypeClass.BOOLEAN: np.dtype(np.bool_),
    DtypeClass.SYMBOL: np.dtype(np.str_),  # as long as the longest string
}
"""The dtype of each class of entries whose dtype does not follow the plan's float dtype."""


def elements_of(atom: Atom) -> tuple[Atom, ...]:
    """The atoms one element of a container wire (`List`, `Option`) is made of."""
    carrier = carrier_of(atom)
    if carrier is None:
        raise ValueError(f"`{atom}` is not a container")
    return element_atoms(carrier)


def element_atoms(carrier: Carrier | Prod) -> tuple[Atom, ...]:
    """The atoms one element is made of: a product's atoms, or a container's element atoms."""
    if isinstance(carrier, Prod):
        return carrier.atoms
    return carrier.elem.atoms if carrier.elem is not None else ()


def width(atom: Atom) -> int:
    """How many arrays represent a value of `atom` when it is handed to a kernel."""
    carrier = carrier_of(atom)
    if isinstance(carrier, Prod) or (isinstance(carrier, Carrier) and carrier.kind == "List"):
        return sum(width(a) for a in element_atoms(carrier))
    return 1


def is_differentiable(atom: Atom) -> bool:
    """Whether cotangents flow along a wire of `atom` (differentiable kinds, and containers of
    them)."""
    carrier = carrier_of(atom)
    if isinstance(carrier, Carrier):
        if carrier.spec.element:
            return carrier.spec.differentiable and any(
                is_differentiable(a) for a in element_atoms(carrier)
            )
        return carrier.spec.differentiable
    return isinstance(carrier, Prod) and any(is_differentiable(a) for a in carrier.atoms)


def array_dtype(carrier: Carrier, dtype: np.dtype) -> np.dtype:
    """The numpy dtype of an array carrier, from its kind's class of entries: integer, bool,
    or the plan's float dtype."""
    return _FIXED_DTYPES.get(carrier.spec.dtype, np.dtype(dtype))


# ---------------------------------------------------------------- splitting into components


def components(value: Any, atom: Atom) -> tuple:
    """The arrays a kernel sees for `value`: itself for width 1, else the flat tuple."""
    return (value,) if width(atom) == 1 else tuple(value)


def split_components(flat: Sequence, atoms: Sequence[Atom]) -> list:
    """Group a flat sequence of arrays into one value per atom (the inverse of `join`)."""
    values, offset = [], 0
    for atom in atoms:
        n = width(atom)
        values.append(flat[offset] if n == 1 else tuple(flat[offset : offset + n]))
        offset += n
    return values


def join_components(values: Sequence, atoms: Sequence[Atom]) -> tuple:
    """Flatten one value per atom into the flat tuple of their arrays."""
    flat: list = []
    for value, atom in zip(values, atoms, strict=True):
        flat.extend(components(value, atom))
    return tuple(flat)


def pack(flat: Sequence, atoms: Sequence[Atom]) -> object:
    """The value of a container whose element is `atoms`, from its flat arrays."""
    return flat[0] if sum(width(a) for a in atoms) == 1 else tuple(flat)


# ---------------------------------------------------------------- cotangent arithmetic


def accumulate(total: Any, extra: Any) -> Any:
    """Add two cotangents of the same wire (None is zero); never mutates either."""
    if total is None:
        return extra
    if extra is None:
        return total
    if isinstance(total, tuple):
        assert isinstance(extra, tuple), "cotangents of one wire have one structure"
        return tuple(accumulate(a, b) for a, b in zip(total, extra, strict=True))
    if isinstance(total, dict):
        assert isinstance(extra, dict), "cotangents of one wire have one structure"
        return {k: accumulate(total[k], extra[k]) for k in total}
    return total + extra


def zeros_like(value: object) -> object:
    """A zero cotangent shaped like `value` (same nesting of tuples and dicts)."""
    if value is None:
        return None
    if isinstance(value, tuple):
        return tuple(zeros_like(v) for v in value)
    if isinstance(value, dict):
        return {k: zeros_like(v) for k, v in value.items()}
    return np.zeros_like(value)


def has_nonfinite(value: object) -> bool:
    """Whether a float array anywhere inside `value` holds a NaN or an infinity."""
    if type(value) is np.float64 or type(value) is np.float32:  # a scalar: the quick test
        return not math.isfinite(value)
    if isinstance(value, np.ndarray | np.floating):
        return value.dtype.kind in "fc" and not np.isfinite(value).all()
    if isinstance(value, tuple):
        return any(has_nonfinite(v) for v in value)
    if isinstance(value, dict):
        return any(has_nonfinite(v) for v in value.values())
    return False


# ---------------------------------------------------------------- conversion at the boundary


def coerce(value: Any, atom: Atom, dtype: DTypeLike = np.float64) -> Any:
    """Convert plain Python data (nested lists, tuples, dicts) into the value of `atom`."""
    dtype = np.dtype(dtype)
    if isinstance(atom, Record):
        fields = dict(atom.fields)
        return {k: coerce(v, fields[k], dtype) if k in fields else v for k, v in value.items()}
    if isinstance(atom, Obj) and atom.elements:
        value = positions(value, atom)
    carrier = carrier_of(atom)
    if isinstance(carrier, Prod):
        return _coerce_product(value, carrier.atoms, dtype)
    if carrier is None:
        return value
    return COERCIONS[carrier.kind](value, carrier, dtype)


def positions(value: Any, obj: Obj) -> Any:
    """Elements of a finite ordered object given by name (`"Feature"`), nested in lists, as
    their positions; numbers are left as they are (for the entry check to judge)."""
    if isinstance(value, str):
        if value not in obj.elements:
            known = ", ".join(obj.elements)
            raise ValueError(
                f"`{value}` is not an element of `{obj.name}`: its elements are {known}"
            )
        return obj.elements.index(value)
    if isinstance(value, list | tuple):
        return [positions(v, obj) for v in value]
    return value


def _coerce_product(value: Any, atoms: tuple[Atom, ...], dtype: np.dtype) -> object:
    """One value made of several atoms: the flat tuple of their arrays (or the one array)."""
    items = tuple(value) if len(atoms) != 1 else (value,)
    coerced = [coerce(v, a, dtype) for v, a in zip(items, atoms, strict=True)]
    return pack(join_components(coerced, atoms), atoms)


def _coerce_array(value: object, carrier: Carrier, dtype: np.dtype) -> np.ndarray:
    """An array of the carrier's dtype. `Index` / `Nat` take integers only: a float or a bool
    is not a token id, so it is left as it is for the invariant check to report."""
    array = np.asarray(value)
    target = array_dtype(carrier, dtype)
    if target.kind in "iu" and array.dtype.kind in "bf" and array.size:
        return array
    if array.dtype.kind in "biuf" and target.kind != "U":
        return array.astype(target, copy=False)
    return array


def _coerce_option(value: Any, carrier: Carrier, dtype: np.dtype) -> object:
    """Nothing (None), or a value of the element."""
    return None if value is None else _coerce_product(value, element_atoms(carrier), dtype)


def _coerce_list_of(value: Any, carrier: Carrier, dtype: np.dtype) -> object:
    return _coerce_list(value, element_atoms(carrier), dtype)


COERCIONS: dict[str, Callable[[Any, Carrier, np.dtype], object]] = {
    "Real": _coerce_array,
    "Index": _coerce_array,
    "Simplex": _coerce_array,
    "Bool": _coerce_array,
    "AllowMask": _coerce_array,
    "BlockMask": _coerce_array,
    "Nat": _coerce_array,
    "Int": _coerce_array,
    "Symbol": _coerce_array,
    "List": _coerce_list_of,
    "Option": _coerce_option,
}
"""How plain Python data becomes the value of each carrier kind."""


def _coerce_list(value: Any, atoms: tuple[Atom, ...], dtype: np.dtype) -> object:
    """A list of elements given as rows (`[[1, 2], [2, 3]]`) or as per-component columns."""
    n = sum(width(a) for a in atoms)
    if _is_empty(value):
        return pack(tuple(_empty(a, dtype, (0,)) for a in _flat_atoms(atoms)), atoms)
    if n == 1:
        (atom,) = atoms
        inner = carrier_of(atom)
        if isinstance(inner, Carrier) and inner.spec.is_array:
            if isinstance(atom, Obj) and atom.elements:
                value = positions(value, atom)
            return _coerce_array(value, inner, dtype)
        items = [coerce(v, atom, dtype) for v in value]
        return np.stack(items) if items else np.zeros((0,))
    if isinstance(value, tuple) and len(value) == n:
        columns = list(value)
    elif isinstance(value, np.ndarray):
        columns = [value[:, j] for j in range(n)]
    else:
        rows = [join_components(_row(r, atoms, dtype), atoms) for r in value]
        columns = [[r[j] for r in rows] for j in range(n)] if rows else [[] for _ in range(n)]
    flat_atoms = _flat_atoms(atoms)
    return tuple(_coerce_list(c, (a,), dtype) for c, a in zip(columns, flat_atoms, strict=True))


def _is_empty(value: Any) -> bool:
    """Whether list data holds no element: `[]` (an empty array has its own shape already)."""
    return isinstance(value, list | tuple) and len(value) == 0


def _empty(atom: Atom, dtype: np.dtype, lead: tuple[int, ...]) -> object:
    """The value of `atom` with the leading axes `lead`, one of them 0: no element. An axis of
    unknown size inside the element is 0 as well (there is nothing to give it a size)."""
    carrier = carrier_of(atom)
    if isinstance(carrier, Prod):
        return tuple(_empty(a, dtype, lead) for a in _flat_atoms(carrier.atoms))
    if isinstance(carrier, Carrier) and carrier.spec.is_array:
        dims = tuple(d.value or 0 for d in carrier.shape.dims)
        return np.zeros(lead + dims, dtype=array_dtype(carrier, dtype))
    if isinstance(carrier, Carrier) and carrier.kind == "List":
        parts = [_empty(a, dtype, (*lead, 0)) for a in _flat_atoms(element_atoms(carrier))]
        return parts[0] if len(parts) == 1 else tuple(parts)
    raise ValueError(f"a list of `{atom}` cannot be empty here")


def _row(row: Any, atoms: tuple[Atom, ...], dtype: np.dtype) -> list:
    """The element values of one list row."""
    items = list(row) if len(atoms) > 1 else [row]
    return [coerce(v, a, dtype) for v, a in zip(items, atoms, strict=True)]


def _flat_atoms(atoms: tuple[Atom, ...]) -> list[Atom]:
    """Expand objects over products into the atoms of their components."""
    flat: list[Atom] = []
    for atom in atoms:
        carrier = carrier_of(atom)
        flat.extend(_flat_atoms(carrier.atoms) if isinstance(carrier, Prod) else [atom])
    return flat
