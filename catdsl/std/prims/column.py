"""`column(keys, values)` of `std.lists`: a table's column as a function of the table's key.

`column(keys, values) : k -> a` for two lists of one length, `keys : List[k]` (single whole
numbers or symbols) and `values : List[a]`: the value on the row whose key is the input
(`column([7, 8, 9], [1, 1, 2])` maps 8 to 1), the first such row when keys repeat. It is how a
database instance's foreign key or attribute is a morphism: with `object Employee : Nat where
value in employee_keys`, `column(employee_keys, works_in) : Employee -> Department` is total,
because a value enters `Employee` only when it is one of the keys. A key on no row is R0440,
lists of two lengths R0441. A real column gets the cotangent of each value it gave.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from catdsl.errors import CatRuntimeError
from catdsl.semantics.kernel import Cotangents, Forward, Kernel
from catdsl.std.signatures import Static
from catdsl.typesys.primitives import FreshVars, PrimSig, PrimSpec
from catdsl.typesys.types import Carrier, Prod, TVar

KEYS = ("Nat", "Int", "Index", "Symbol")
"""The carrier kinds a key may have: values compared exactly."""


def keyed_lookup(_static: Static) -> PrimSig:
    """`k -> a` given `keys : List[k]` and `values : List[a]`, `k` one whole number or symbol."""
    v = FreshVars()
    k = TVar(v.rest("k"), KEYS, scalar=True, nominal=True)
    a = v.atom("a")
    return PrimSig(
        (Carrier("List", elem=Prod((k,))), Carrier("List", elem=Prod((a,)))),
        Prod((k,)),
        Prod((a,)),
    )


class Column(Kernel):
    """`column(keys, values)`: `values[p]` for the first row p whose key is the input (each
    input of a batch)."""

    name = "column"
    n_in = 3
    differentiable = (False, False, True)

    def forward(self, key: np.ndarray, keys: np.ndarray, values: np.ndarray) -> Forward:
        key, keys, values = np.asarray(key), np.asarray(keys), np.asarray(values)
        if keys.shape[0] != values.shape[0]:
            raise CatRuntimeError(
                "R0441",
                f"`column` of {keys.shape[0]} keys and {values.shape[0]} values",
                help="a column gives every row one value: write as many values as keys",
            )
        hits = key[..., None] == keys.reshape((1,) * key.ndim + keys.shape)
        missing = ~hits.any(axis=-1)
        if missing.any():
            bad = key[missing].flat[0]
            shown = f'"{bad}"' if isinstance(bad, str) else str(bad)
            raise CatRuntimeError(
                "R0440",
                f"`column` has no row with the key {shown} (its {keys.shape[0]} keys: "
                f"{', '.join(map(str, keys.tolist()))})",
                help="give a key of the table, or add a row for it",
            )
        rows = hits.argmax(axis=-1)
        return (np.take(values, rows, axis=0),), (rows, values.shape, values.dtype)

    def vjp(self, residual: Any, dy: Any) -> Cotangents:
        rows, shape, dtype = residual
        if dy is None or not np.issubdtype(dtype, np.floating):
            return (None, None, None)
        grad = np.zeros(shape, dtype=dtype)
        np.add.at(grad, rows, dy)
        return (None, None, grad)


SPEC = PrimSpec(
    "column",
    "std.lists",
    ("keys", "values"),
    (),
    keyed_lookup,
    "the value on the row whose key is the input",
    kernel=Column,
)
