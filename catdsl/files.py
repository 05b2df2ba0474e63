"""Safe loading and atomic saving of numpy array files (.npy, .npz).

Loading never unpickles (`allow_pickle=False`): a data file cannot run code. Saving writes a
temporary file beside the target and renames it, so a crash never leaves a half-written file.

| code  | raised when |
| ----- | ----------- |
| R0501 | the file does not exist (or is a directory) |
| R0502 | the file is not a readable .npy / .npz file |
| R0503 | the file holds Python objects, which would need unpickling |
| R0504 | the arrays cannot be written |
"""

from __future__ import annotations

import os
import tempfile
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

import numpy as np

from catdsl.errors import CatRuntimeError

NPY_MAGIC = b"\x93NUMPY"
ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06")


def load_array_file(path: str) -> tuple[np.ndarray, ...]:
    """The arrays of a .npy file (one) or a .npz file (all, in file order).

    The format is read from the file's first bytes, whatever its name says.
    """
    with _reading(path), open(path, "rb") as file:
        return _load_arrays(file, path)


def load_named_arrays(path: str) -> dict[str, np.ndarray]:
    """The arrays of a .npz file by name (what `--params` reads)."""
    with _reading(path), open(path, "rb") as file:
        if not file.read(len(ZIP_MAGICS[0])).startswith(ZIP_MAGICS):
            raise _unreadable(path, "params come from a .npz file, one array per param name")
        file.seek(0)
        with np.load(file, allow_pickle=False) as archive:
            return {name: archive[name] for name in archive.files}


@contextmanager
def _reading(path: str) -> Iterator[None]:
    """Turn the ways reading an array file fails into R0501-R0503."""
    try:
        yield
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        raise CatRuntimeError("R0501", f"array file `{path}` not found") from None
    except ValueError as exc:
        if "pickle" in str(exc):
            raise CatRuntimeError(
                "R0503",
                f"array file `{path}` holds Python objects, which are never loaded",
                help="save plain numeric arrays (no dtype=object) with numpy.save or numpy.savez",
            ) from None
        raise _unreadable(path, exc) from None
    except (OSError, EOFError, zipfile.BadZipFile) as exc:
        raise _unreadable(path, exc) from None


def readable_mode() -> int:
    """The mode a plain `open()` would give a new file (0o666 under the umask); mkstemp's 0o600
    would hide saved results from other users."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def save_npz_atomic(path: str, arrays: dict[str, np.ndarray]) -> None:
    """Write `arrays` to the .npz file `path` (replacing it atomically); names are kept as given."""
    directory = Path(path).resolve().parent
    try:
        descriptor, temp = tempfile.mkstemp(dir=directory, prefix=".catdsl-", suffix=".npz")
    except OSError as exc:
        raise _unwritable(path, exc) from None
    try:
        with os.fdopen(descriptor, "wb") as file:
            _write_npz(file, arrays)
            file.flush()
            os.fsync(file.fileno())
        os.chmod(temp, readable_mode())
        os.replace(temp, path)
    except (OSError, ValueError) as exc:
        raise _unwritable(path, exc) from None
    finally:
        Path(temp).unlink(missing_ok=True)


def _load_arrays(file: BinaryIO, path: str) -> tuple[np.ndarray, ...]:
    """Read every array of an open .npy or .npz file, never unpickling."""
    magic = file.read(len(NPY_MAGIC))
    file.seek(0)
    if magic.startswith(NPY_MAGIC):
        return (np.load(file, allow_pickle=False),)
    if magic.startswith(ZIP_MAGICS):
        with np.load(file, allow_pickle=False) as archive:
            return tuple(archive[name] for name in archive.files)
    raise _unreadable(path, "it is neither a .npy nor a .npz file")


def _write_npz(file: BinaryIO, arrays: dict[str, np.ndarray]) -> None:
    """Write an uncompressed .npz archive member by member, refusing object arrays.

    Unlike `numpy.savez`, any array name works (even `file`), and nothing is pickled.
    """
    with zipfile.ZipFile(file, "w", compression=zipfile.ZIP_STORED) as archive:
        for name, array in arrays.items():
            with archive.open(f"{name}.npy", "w", force_zip64=True) as member:
                np.lib.format.write_array(member, np.asanyarray(array), allow_pickle=False)


def _unreadable(path: str, reason: object) -> CatRuntimeError:
    """The error for a file that exists but cannot be read as arrays."""
    return CatRuntimeError("R0502", f"cannot read array file `{path}`: {reason}")


def _unwritable(path: str, reason: object) -> CatRuntimeError:
    """The error for arrays that cannot be written to `path`."""
    return CatRuntimeError("R0504", f"cannot write array file `{path}`: {reason}")
