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
import math
import os
import zipfile
import zlib

import numpy as np

from catdsl.errors import CatRuntimeError
from catdsl.files import save_npz_atomic
from catdsl.typesys.limits import human_bytes, memory_budget

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
    that wrote it ("" when it recorded none), as saved in `path`.

    Everything read is checked, since a checkpoint is a file anyone could have edited: it must
    be a zip of .npy members stored or deflated, each no bigger than it claims to be and
    within the memory budget, and the entries must be what `save_checkpoint` writes (a layout
    naming its arrays, a step that is a whole number >= 0, real losses). Anything else is
    R0607 naming the file and what is wrong, never a crash."""
    shown = os.fspath(path)
    try:
        _check_archive(shown)
        with np.load(shown, allow_pickle=False) as archive:
            arrays = {name: archive[name] for name in archive.files}
    except _Invalid as exc:
        raise _unreadable(shown, str(exc)) from None
    except (
        OSError,
        EOFError,
        ValueError,
        KeyError,
        TypeError,
        NotImplementedError,
        RuntimeError,
        MemoryError,
        zipfile.BadZipFile,
        zlib.error,
    ) as exc:
        raise _unreadable(shown, f"{type(exc).__name__}: {exc}") from None
    try:
        return _entries(arrays)
    except _Invalid as exc:
        raise _unreadable(shown, str(exc)) from None


class _Invalid(Exception):
    """What is wrong with a checkpoint's file or entries, in words."""


def _unreadable(path: str, reason: str) -> CatRuntimeError:
    return CatRuntimeError(
        "R0607",
        f"cannot read checkpoint `{path}`: {reason}",
        help="delete it, or pass another checkpoint path, to start afresh",
    )


def _check_archive(path: str) -> None:
    """The zip's structure and each member's claimed size, before anything is decompressed."""
    with open(path, "rb") as file:
        head = file.read(4)
    if not head:
        raise _Invalid("the file is empty")
    if head.startswith(b"\x93NUM"):
        raise _Invalid("it is a .npy file (one array), not a checkpoint (.npz)")
    if not head.startswith(b"PK"):
        raise _Invalid("it is not a .npz file")
    budget = memory_budget()
    total = 0
    with zipfile.ZipFile(path) as archive:
        for info in archive.infolist():
            if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
                raise _Invalid(
                    f"member `{info.filename}` uses compression method {info.compress_type}, "
                    "not one numpy writes"
                )
            if not info.filename.endswith(".npy"):
                raise _Invalid(f"member `{info.filename}` is not a .npy array")
            with archive.open(info) as member:
                claimed = _claimed_bytes(member, info.filename)
            if claimed > info.file_size:
                raise _Invalid(
                    f"member `{info.filename}` claims {claimed} bytes of data but holds "
                    f"{info.file_size}"
                )
            total += info.file_size
            if total > budget:
                raise _Invalid(
                    f"its arrays take more than the memory budget of {human_bytes(budget)}"
                )


def _claimed_bytes(member, name: str) -> int:
    """How many bytes of data a .npy member's header says follow it."""
    try:
        version = np.lib.format.read_magic(member)
        if version == (1, 0):
            shape, _order, dtype = np.lib.format.read_array_header_1_0(member)
        elif version in ((2, 0), (3, 0)):
            shape, _order, dtype = np.lib.format.read_array_header_2_0(member)
        else:
            raise ValueError(f"unknown .npy version {version}")
    except (ValueError, TypeError, SyntaxError, OverflowError, EOFError) as exc:
        raise _Invalid(f"member `{name}` has no valid .npy header ({exc})") from None
    if dtype.hasobject:
        raise _Invalid(f"member `{name}` holds Python objects, which are never loaded")
    return math.prod(shape) * dtype.itemsize


def _entries(arrays: dict[str, np.ndarray]) -> tuple[tuple, int, list[float], str]:
    """The checkpoint's state, step, losses and identity, each checked."""
    for key in (LAYOUT, STEP, LOSSES):
        if key not in arrays:
            raise _Invalid(f"it has no `{key}` entry")
    step_array = arrays[STEP]
    if step_array.shape != () or step_array.dtype.kind not in "iu":
        raise _Invalid(f"`{STEP}` must be one whole number, not {_described(step_array)}")
    step = int(step_array)
    if step < 0:
        raise _Invalid(f"`{STEP}` must be 0 or more, not {step}")
    losses_array = arrays[LOSSES]
    if losses_array.ndim != 1 or losses_array.dtype.kind not in "iuf":
        raise _Invalid(f"`{LOSSES}` must be a list of numbers, not {_described(losses_array)}")
    identity = ""
    if IDENTITY in arrays:
        found = arrays[IDENTITY]
        if found.shape != () or found.dtype.kind != "U":
            raise _Invalid(f"`{IDENTITY}` must be one string, not {_described(found)}")
        identity = str(found)
    layout_array = arrays[LAYOUT]
    if layout_array.shape != () or layout_array.dtype.kind != "U":
        raise _Invalid(f"`{LAYOUT}` must be one JSON string, not {_described(layout_array)}")
    try:
        layout = json.loads(str(layout_array))
    except (ValueError, RecursionError):
        raise _Invalid(f"`{LAYOUT}` is not valid JSON") from None
    if not isinstance(layout, list):
        raise _Invalid(f"`{LAYOUT}` must be a JSON list, one entry per wire")
    state = tuple(_unflatten(item, arrays, 0) for item in layout)
    return state, step, [float(x) for x in losses_array], identity


def _described(array: np.ndarray) -> str:
    if array.shape == ():
        return f"{array.item()!r}"[:40] + f" ({array.dtype})"
    return f"an array of shape {array.shape} ({array.dtype})"


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
            # A field hidden from repr is derived: the spec a term carries for later phases,
            # named already by the term's own fields (and holding functions, whose repr would
            # differ between processes).
            if f.repr and "span" not in f.name and f.name not in ("module", "file"):
                part = getattr(value, f.name)
                unset = part is None or (isinstance(part, tuple) and not part)
                if unset and f.metadata.get("absent_unless_set"):
                    continue  # a field added later, unset: as the terms before it had none
                digest.update(f.name.encode())
                _feed(part, digest)
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


MAX_LAYOUT_DEPTH = 64
"""States nest records in tuples a few levels deep; a deeper layout was not written by us."""


def _unflatten(layout: object, arrays: dict[str, np.ndarray], depth: int) -> object:
    """The value a layout entry describes; `_Invalid` for any entry `_flatten` cannot write."""
    if depth > MAX_LAYOUT_DEPTH:
        raise _Invalid(f"`{LAYOUT}` is nested more than {MAX_LAYOUT_DEPTH} deep")
    if not isinstance(layout, dict) or len(layout) != 1:
        raise _Invalid(f"`{LAYOUT}` has an entry that is not one of dict, tuple, none, array")
    ((kind, inner),) = layout.items()
    if kind == "dict" and isinstance(inner, dict):
        return {str(k): _unflatten(v, arrays, depth + 1) for k, v in inner.items()}
    if kind == "tuple" and isinstance(inner, list):
        return tuple(_unflatten(v, arrays, depth + 1) for v in inner)
    if kind == "none" and inner is True:
        return None
    if kind == "array" and isinstance(inner, str):
        if inner in (LAYOUT, STEP, LOSSES, IDENTITY) or inner not in arrays:
            raise _Invalid(f"`{LAYOUT}` names an array `{inner[:40]}` that it does not hold")
        value = arrays[inner]
        if value.dtype.kind not in "biuf":
            raise _Invalid(f"array `{inner}` holds {value.dtype}, not numbers")
        return value
    raise _Invalid(f"`{LAYOUT}` has a malformed `{str(kind)[:20]}` entry")
