"""Checkpoints of a loop's state: one .npz file (no pickle), written atomically.

A state is the tuple of values on the loop's wires: arrays, records (dicts, possibly nested,
as in `AdamState`) and tuples (lists of products). Each array is stored under a path-like key
(`0/m/W`); the nesting itself is stored as JSON in `__layout__`, with the step count in
`__step__` and the loss history so far in `__losses__`. Loading gives back the same values
bit for bit, so a resumed run ends exactly where an uninterrupted one does.

| code  | raised when |
| ----- | ----------- |
| R0607 | a checkpoint cannot be read, or it does not fit the loop being resumed |
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import zipfile

import numpy as np

from catdsl.errors import CatRuntimeError
from catdsl.files import save_npz_atomic

LAYOUT, STEP, LOSSES, IDENTITY = "__layout__", "__step__", "__losses__", "__identity__"


def save_checkpoint(
    path: str | os.PathLike,
    state: tuple,
    step: int,
    losses: list[float] | None = None,
    identity: str = "",
) -> None:
    """Write `state` after `step` completed steps (and the losses so far) to `path`;
    `identity` names the loop that made it, so that another loop refuses it."""
    arrays: dict[str, np.ndarray] = {}
    layout = [_flatten(str(i), value, arrays) for i, value in enumerate(state)]
    arrays[LAYOUT] = np.array(json.dumps(layout))
    arrays[STEP] = np.array(step, dtype=np.int64)
    arrays[LOSSES] = np.array(losses or [], dtype=np.float64)
    arrays[IDENTITY] = np.array(identity)
    save_npz_atomic(os.fspath(path), arrays)


def load_checkpoint(path: str | os.PathLike) -> tuple[tuple, int, list[float], str]:
    """The state, the number of completed steps, the loss history and the identity of the loop
    that wrote it ("" when it recorded none), as saved in `path`."""
    try:
        with np.load(os.fspath(path), allow_pickle=False) as archive:
            arrays = {name: archive[name] for name in archive.files}
        layout = json.loads(str(arrays[LAYOUT]))
        state = tuple(_unflatten(item, arrays) for item in layout)
        identity = str(arrays[IDENTITY]) if IDENTITY in arrays else ""
        return state, int(arrays[STEP]), [float(x) for x in arrays[LOSSES]], identity
    except (OSError, ValueError, KeyError, zipfile.BadZipFile) as exc:
        raise CatRuntimeError("R0607", f"cannot read checkpoint `{path}`: {exc}") from None


def fingerprint(term: object) -> str:
    """A digest of what a training step computes (family, loss, data, hyperparameters),
    independent of where it is written in its file: source spans are left out."""
    digest = hashlib.sha256()
    _feed(term, digest)
    return digest.hexdigest()[:16]


def _feed(value: object, digest) -> None:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        digest.update(type(value).__name__.encode())
        for f in dataclasses.fields(value):
            if "span" not in f.name and f.name not in ("module", "file"):
                digest.update(f.name.encode())
                _feed(getattr(value, f.name), digest)
    elif isinstance(value, tuple | list):
        digest.update(b"(")
        for item in value:
            _feed(item, digest)
        digest.update(b")")
    elif isinstance(value, dict):
        _feed(sorted(value.items(), key=lambda kv: str(kv[0])), digest)
    elif isinstance(value, np.ndarray):
        digest.update(str((value.dtype, value.shape)).encode() + value.tobytes())
    else:
        digest.update(repr(value).encode())


def same_layout(a: object, b: object) -> bool:
    """Whether two states have the same nesting, keys, shapes and dtypes."""
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same_layout(a[k], b[k]) for k in a)
    if isinstance(a, tuple) and isinstance(b, tuple):
        return len(a) == len(b) and all(same_layout(x, y) for x, y in zip(a, b, strict=True))
    if a is None or b is None:
        return a is b
    a, b = np.asarray(a), np.asarray(b)
    return a.shape == b.shape and a.dtype == b.dtype


def _flatten(key: str, value: object, arrays: dict[str, np.ndarray]) -> object:
    """Store the arrays of `value` under keys derived from `key`; return its layout."""
    if isinstance(value, dict):
        return {"dict": {k: _flatten(f"{key}/{k}", v, arrays) for k, v in value.items()}}
    if isinstance(value, tuple):
        return {"tuple": [_flatten(f"{key}/{i}", v, arrays) for i, v in enumerate(value)]}
    if value is None:
        return {"none": True}
    arrays[key] = np.asarray(value)
    return {"array": key}


def _unflatten(layout: dict, arrays: dict[str, np.ndarray]) -> object:
    if "dict" in layout:
        return {k: _unflatten(v, arrays) for k, v in layout["dict"].items()}
    if "tuple" in layout:
        return tuple(_unflatten(v, arrays) for v in layout["tuple"])
    if "none" in layout:
        return None
    return arrays[layout["array"]]
