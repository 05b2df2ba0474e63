"""The values of a const box (a `data` point), as every interpreter reads them: from its
literal or its array file, split into its wires and converted to the run's dtype; the plans
also check them once against their objects."""

from __future__ import annotations

from typing import Any

from catdsl.diagram.ir import ConstBox
from catdsl.errors import CatRuntimeError
from catdsl.files import load_array_file
from catdsl.semantics.invariants import make_check
from catdsl.semantics.values import coerce, split_components, width


def constant_values(box: ConstBox, dtype: Any) -> list[Any]:
    """One value per output wire of `box`, in `dtype`; R0416 when the data holds another
    number of values than the box has wires."""
    atoms = box.outputs
    if box.path is not None:
        arrays = load_array_file(box.path)
        total = sum(width(a) for a in atoms)
        raw = split_components(arrays, atoms) if len(arrays) == total else [arrays[0]]
    else:
        raw = [box.value] if len(atoms) == 1 else list(box.value)
    if len(raw) != len(atoms):
        raise CatRuntimeError(
            "R0416", f"`{box.label}` holds {len(raw)} value(s) for {len(atoms)} wire(s)"
        )
    return [coerce(v, a, dtype) for v, a in zip(raw, atoms, strict=True)]


def checked_constant(box: ConstBox, dtype: Any) -> list[Any]:
    """`constant_values`, each checked against its object; errors point at the data."""
    try:
        values = constant_values(box, dtype)
        for value, atom in zip(values, box.outputs, strict=True):
            check = make_check(atom, f"the data `{box.name}`")
            if check is not None:
                check(value, {})
    except CatRuntimeError as exc:
        raise exc.at(box.span) from None
    return values
