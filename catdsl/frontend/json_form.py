"""The JSON form of run-time values, read from their types: what `run --json` and
`train --json` print.

An array is a nested list of its entries (numbers, booleans or strings); a product is the flat
list of its components' arrays; a record is an object of its fields; an absent `Option` is `null`; a
`List` is held as its columns (one array with the list axis first per component of its
element), so its form is theirs. An element of a finite ordered object is its name. Each
carrier kind has its entry in `JSON_FORMS`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np

from catdsl.semantics.values import element_atoms, split_components, width
from catdsl.typesys.types import Atom, Carrier, Obj, Prod, Record


def output_form(value: object, cod: Prod) -> object:
    """The form of a morphism's output: its one atom's form, or the list of each atom's."""
    if len(cod) == 1:
        return atom_form(value, cod.atoms[0])
    assert isinstance(value, tuple), "a morphism into a product returns one value per atom"
    return [atom_form(v, a) for v, a in zip(value, cod.atoms, strict=True)]


def record_form(value: Mapping[str, object], fields: Mapping[str, Atom]) -> dict:
    """The form of a record given as a dict: one entry per field."""
    return {name: atom_form(v, fields[name]) for name, v in value.items()}


def atom_form(value: object, atom: Atom) -> object:
    """The form of a value of one atom."""
    if isinstance(atom, Record):
        assert isinstance(value, dict), "a record's value is a dict"
        return record_form(value, dict(atom.fields))
    if isinstance(atom, Obj):
        if atom.elements:
            return element_names(value, atom.elements)
        carrier = atom.carrier
        if isinstance(carrier, Prod):
            return _product_form(value, carrier.atoms)
        return carrier_form(value, carrier)
    if isinstance(atom, Carrier):
        return carrier_form(value, atom)
    return _entries(value)  # an atom left generic: arrays as they come


def carrier_form(value: object, carrier: Carrier) -> object:
    """The form of a value of a structural carrier, by its kind's entry in `JSON_FORMS`."""
    return JSON_FORMS[carrier.kind](value, carrier)


def _product_form(value: object, atoms: tuple[Atom, ...]) -> object:
    """A product's value is the flat tuple of its components' arrays (one array alone)."""
    if len(atoms) == 1 and width(atoms[0]) == 1:
        return atom_form(value, atoms[0])
    assert isinstance(value, tuple), "a product of several arrays is a tuple"
    flat: list = []
    for part, atom in zip(split_components(value, atoms), atoms, strict=True):
        form = atom_form(part, atom)
        flat.extend(form if isinstance(form, list) and width(atom) > 1 else [form])
    return flat


def _entries(value: object) -> object:
    """An array (or numpy scalar) as nested lists of Python numbers or booleans; a tuple of
    arrays (the columns of a list) as the list of theirs."""
    if isinstance(value, tuple):
        return [_entries(v) for v in value]
    if isinstance(value, np.ndarray | np.generic):
        return value.tolist()
    return value


def _array_form(value: object, _carrier: Carrier) -> object:
    return _entries(value)


def _list_form(value: object, carrier: Carrier) -> object:
    """A list's columns: one array, or the list of its components' arrays (the elements of a
    finite ordered object by name)."""
    atoms = element_atoms(carrier)
    if len(atoms) == 1 and width(atoms[0]) == 1:
        return atom_form(value, atoms[0])
    if isinstance(value, tuple) and len(value) == len(atoms):
        return [atom_form(v, a) for v, a in zip(value, atoms, strict=True)]
    return _entries(value)


def element_names(value: object, elements: tuple[str, ...]) -> object:
    """Positions in a finite ordered object as its elements' names (nested like the array)."""
    entries = _entries(value)
    if isinstance(entries, list):
        return [element_names(v, elements) for v in entries]
    assert isinstance(entries, int), "an element of an ordered object is its position"
    return elements[entries]


def _option_form(value: object, carrier: Carrier) -> object:
    """An absent option is `null`; a present one is its element's form."""
    return None if value is None else _product_form(value, element_atoms(carrier))


JSON_FORMS: dict[str, Callable[[object, Carrier], object]] = {
    "Real": _array_form,
    "Index": _array_form,
    "Simplex": _array_form,
    "Bool": _array_form,
    "AllowMask": _array_form,
    "BlockMask": _array_form,
    "Nat": _array_form,
    "Int": _array_form,
    "Symbol": _array_form,
    "List": _list_form,
    "Option": _option_form,
}
"""How a value of each carrier kind is written as JSON."""
