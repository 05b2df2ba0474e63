"""Safe reading of files and of numpy array files (.npy, .npz); atomic saving.

Reading never opens a file that is not a regular file (a FIFO would block, `/dev/zero` would
never end): it is checked with `os.stat` first, then opened without blocking and checked again.
Loading arrays never unpickles (`allow_pickle=False`): a data file cannot run code. Before any
array is read, its header is checked: the bytes it claims must be in the file and within
`MAX_ARRAY_BYTES`, so a 100-byte file claiming a shape of 10^10 is refused instead of
exhausting memory.

Saving writes a temporary file beside the target and renames it, so a crash never leaves a
half-written file. A target that exists and is not a regular file (a FIFO, a device, a
directory) or is a symbolic link is refused, never replaced. The temporary is removed on every
exit path; one left by a killed run is removed by the next save to the same target.

`ReadScope` is what a program may read: the directory of the main program and the directories
given with `--allow-read` (`allow_read=` in the API).

| code  | raised when |
| ----- | ----------- |
| R0501 | the file does not exist (or is a directory) |
| R0502 | the file is not a readable .npy / .npz file |
| R0503 | the file holds Python objects, which would need unpickling |
| R0504 | the arrays cannot be written |
| R0505 | a file to read or to replace is not a regular file (FIFO, device, socket, symlink) |
| R0506 | an array file's header claims more data than the file holds or the memory budget |
"""

from __future__ import annotations

import errno
import math
import os
import stat
import tempfile
import time
import zipfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from catdsl.errors import CatRuntimeError

if TYPE_CHECKING:  # numpy is imported by the functions that read or write arrays, so that
    import numpy as np  # the loader (which reads sources here) keeps `catdsl check` fast

NPY_MAGIC = b"\x93NUMPY"
ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06")
MAX_ARRAY_BYTES = 4 * 2**30  # the memory budget for the arrays of one file
TEMP_MARK = ".catdsl-"  # temporaries are `.{target}.catdsl-XXXX.tmp` beside their target
STALE_AFTER = 60.0  # seconds without change after which a temporary is a killed run's


# ------------------------------------------------------------------ what a program may read
@dataclass(frozen=True)
class ReadScope:
    """The directories a program's `import "…"` and `load("…")` may read from: the main
    program's directory (`root`) and the ones the user allowed; every path is resolved
    (symlinks followed) before it is compared."""

    root: Path
    allowed: tuple[Path, ...] = ()

    @classmethod
    def around(cls, file: str, allow_read: Iterable[str | os.PathLike[str]] = ()) -> ReadScope:
        """The scope of a program named `file` ("<string>" or "": the working directory)."""
        if file in ("<string>", ""):
            return cls(Path.cwd().resolve(), tuple(Path(d).resolve() for d in allow_read))
        root = Path(file).absolute().parent.resolve()
        # a main program that is a symlink: imports are relative to the file it points to
        target = Path(file).resolve().parent
        extra = (target,) if target != root else ()
        return cls(root, (*extra, *(Path(d).resolve() for d in allow_read)))

    def refusal(self, base: Path, written: str) -> str | None:
        """Why the file `written` (relative to the directory `base`) may not be read, or None."""
        path = (base / written).resolve()
        if any(path.is_relative_to(d) for d in (self.root, *self.allowed)):
            return None
        if Path(written).is_absolute():
            how = "it is an absolute path outside"
        elif ".." in Path(written).parts:
            how = "it leads out of"
        else:
            how = "it is a symbolic link leading out of"
        return f"{how} `{shown(self.root)}`, the directory of the program"


def shown(path: Path) -> str:
    """How a directory is named in messages: relative to the working directory when inside it."""
    try:
        return str(path.relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def special_kind(mode: int) -> str | None:
    """What a file that is not a regular file is ("a FIFO", ...), or None for a regular file."""
    if stat.S_ISREG(mode):
        return None
    for test, name in (
        (stat.S_ISDIR, "a directory"),
        (stat.S_ISFIFO, "a FIFO"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
        (stat.S_ISLNK, "a symbolic link"),
    ):
        if test(mode):
            return name
    return "not a regular file"


class SpecialFile(OSError):
    """A path that names something other than a regular file; it was not opened."""


@contextmanager
def open_regular(path: str | os.PathLike[str]) -> Iterator[BinaryIO]:
    """Open a regular file for reading; anything else raises `SpecialFile` without being opened
    for long (FileNotFoundError and the like pass through)."""
    before = os.stat(path)
    if stat.S_ISDIR(before.st_mode):
        raise IsADirectoryError(errno.EISDIR, "Is a directory", os.fspath(path))
    kind = special_kind(before.st_mode)
    if kind is not None:
        raise SpecialFile(0, f"it is {kind}, not a regular file", os.fspath(path))
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    descriptor = os.open(path, flags)
    after = os.fstat(descriptor)
    if special_kind(after.st_mode) or (after.st_dev, after.st_ino) != (
        before.st_dev,
        before.st_ino,
    ):
        os.close(descriptor)
        raise SpecialFile(0, "it changed while being opened", os.fspath(path))
    with os.fdopen(descriptor, "rb") as file:
        yield file


def read_regular(path: str | os.PathLike[str], limit: int) -> bytes:
    """The bytes of a regular file of at most `limit` bytes (OSError otherwise)."""
    with open_regular(path) as file:
        if os.fstat(file.fileno()).st_size > limit:
            raise OSError(0, f"file too large (over {limit:,} bytes)")
        data = file.read(limit + 1)  # files like /proc's report a size of 0
        if len(data) > limit:
            raise OSError(0, f"file too large (over {limit:,} bytes)")
        return data


# ------------------------------------------------------------------ reading arrays
def load_array_file(path: str) -> tuple[np.ndarray, ...]:
    """The arrays of a .npy file (one) or a .npz file (all, in file order).

    The format is read from the file's first bytes, whatever its name says.
    """
    with _reading(path), open_regular(path) as file:
        return _load_arrays(file, path)


def load_named_arrays(path: str) -> dict[str, np.ndarray]:
    """The arrays of a .npz file by name (what `--params` reads)."""
    import numpy as np

    with _reading(path), open_regular(path) as file:
        if not file.read(len(ZIP_MAGICS[0])).startswith(ZIP_MAGICS):
            raise _unreadable(path, "params come from a .npz file, one array per param name")
        file.seek(0)
        _check_archive(file, path)
        with np.load(file, allow_pickle=False) as archive:
            return {name: archive[name] for name in archive.files}


@contextmanager
def _reading(path: str) -> Iterator[None]:
    """Turn the ways reading an array file fails into R0501-R0503 and R0505."""
    try:
        yield
    except SpecialFile as exc:
        raise CatRuntimeError(
            "R0505",
            f"array file `{path}` is refused: {exc.strerror}",
            help="give a regular .npy or .npz file",
        ) from None
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        raise CatRuntimeError("R0501", f"array file `{path}` not found") from None
    except ValueError as exc:
        if "pickle" in str(exc):
            raise _objects(path) from None
        raise _unreadable(path, exc) from None
    except (OSError, EOFError, zipfile.BadZipFile) as exc:
        raise _unreadable(path, exc) from None


def _load_arrays(file: BinaryIO, path: str) -> tuple[np.ndarray, ...]:
    """Read every array of an open .npy or .npz file, never unpickling."""
    import numpy as np

    magic = file.read(len(NPY_MAGIC))
    file.seek(0)
    if magic.startswith(NPY_MAGIC):
        size = os.fstat(file.fileno()).st_size
        _check_claim(_npy_header(file, path), size - file.tell(), path)
        file.seek(0)
        return (np.load(file, allow_pickle=False),)
    if magic.startswith(ZIP_MAGICS):
        _check_archive(file, path)
        with np.load(file, allow_pickle=False) as archive:
            return tuple(archive[name] for name in archive.files)
    raise _unreadable(path, "it is neither a .npy nor a .npz file")


def _npy_header(file: BinaryIO, path: str) -> tuple[tuple[int, ...], np.dtype]:
    """The shape and dtype the .npy header at the file's position claims (the file is left at
    the start of the data)."""
    import numpy as np

    version = np.lib.format.read_magic(file)
    if version == (1, 0):
        shape, _, dtype = np.lib.format.read_array_header_1_0(file)
    elif version == (2, 0):
        shape, _, dtype = np.lib.format.read_array_header_2_0(file)
    else:
        raise _unreadable(path, f"unsupported .npy format version {version}")
    if dtype.hasobject:
        raise _objects(path)
    return tuple(int(n) for n in shape), dtype


def _check_claim(
    claim: tuple[tuple[int, ...], np.dtype], available: int, path: str, member: str = ""
) -> int:
    """The bytes the header claims, refused (R0506) beyond what the file holds or the budget."""
    shape, dtype = claim
    nbytes = math.prod(shape) * dtype.itemsize
    where = f"array file `{path}`" + (f" (member `{member}`)" if member else "")
    what = f"claims shape {shape} of {dtype} ({nbytes:,} bytes)"
    if nbytes > available:
        raise CatRuntimeError(
            "R0506",
            f"{where} {what} but holds only {max(available, 0):,} bytes of data",
            help="the file is truncated or its header is wrong; save it again with numpy.save",
        )
    if nbytes > MAX_ARRAY_BYTES:
        raise CatRuntimeError(
            "R0506",
            f"{where} {what}, over the memory budget of {MAX_ARRAY_BYTES:,} bytes",
            help="split the data into smaller files",
        )
    return nbytes


def _check_archive(file: BinaryIO, path: str) -> None:
    """Check the header of every member of an open .npz file before any is read."""
    total = 0
    with zipfile.ZipFile(file) as archive:
        for info in archive.infolist():
            with archive.open(info) as member:
                is_npy = member.read(len(NPY_MAGIC)) == NPY_MAGIC
            if not is_npy:  # numpy gives such a member as raw bytes
                total += info.file_size
            else:
                with archive.open(info) as member:
                    claim = _npy_header(member, path)  # type: ignore[arg-type]
                    available = info.file_size - member.tell()
                total += _check_claim(claim, available, path, info.filename)
            if total > MAX_ARRAY_BYTES:
                raise CatRuntimeError(
                    "R0506",
                    f"array file `{path}` holds more than the memory budget of "
                    f"{MAX_ARRAY_BYTES:,} bytes",
                    help="split the data into smaller files",
                )
    file.seek(0)


# ------------------------------------------------------------------ writing
def readable_mode() -> int:
    """The mode a plain `open()` would give a new file (0o666 under the umask); mkstemp's 0o600
    would hide saved results from other users."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def check_write_target(path: str | os.PathLike[str]) -> None:
    """Refuse (R0505) a target that exists and is not a regular file: a FIFO, a device, a
    directory or a symbolic link is never replaced."""
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        return
    except OSError as exc:
        raise _unwritable(os.fspath(path), exc.strerror or exc) from None
    kind = special_kind(mode)
    if kind is not None:
        hint = (
            "catdsl never replaces a symbolic link: name the file it points to"
            if stat.S_ISLNK(mode)
            else "name a regular file (it is replaced) or a new one"
        )
        raise CatRuntimeError(
            "R0505",
            f"cannot write `{os.fspath(path)}`: it is {kind}, which is left as it is",
            help=hint,
        )


@contextmanager
def atomic_output(
    path: str | os.PathLike[str], suffix: str = ".tmp", what: str = "file"
) -> Iterator[BinaryIO]:
    """A binary file whose content replaces `path` (a regular file or a new one) when the block
    ends without error; otherwise `path` is untouched and the temporary removed. Missing
    directories on the way to `path` are made (`draw -o out/new/d.svg`, `run --save`)."""
    target = Path(path)
    name = os.fspath(path)
    check_write_target(target)
    directory = target.absolute().parent
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise _unwritable(name, exc.strerror or exc, what) from None
    remove_stale_temporaries(directory, target.name)
    try:
        descriptor, temp = tempfile.mkstemp(
            dir=directory, prefix=f".{target.name}{TEMP_MARK}", suffix=suffix
        )
    except OSError as exc:
        raise _unwritable(name, exc.strerror or exc, what) from None
    try:
        with os.fdopen(descriptor, "wb") as file:
            yield file
            file.flush()
            os.fsync(file.fileno())
        os.chmod(temp, readable_mode())
        check_write_target(target)  # again, right before the rename
        os.replace(temp, target)
    except OSError as exc:
        raise _unwritable(name, exc.strerror or exc, what) from None
    finally:
        Path(temp).unlink(missing_ok=True)


def remove_stale_temporaries(directory: Path, name: str) -> None:
    """Remove the temporaries a killed run left beside `directory/name` (and the older
    `.catdsl-*.npz` ones), when they are our regular files unchanged for `STALE_AFTER`."""
    try:
        candidates = [
            *directory.glob(f".{glob_escape(name)}{TEMP_MARK}*"),
            *directory.glob(f"{TEMP_MARK}*.npz"),
        ]
    except OSError:
        return
    now = time.time()
    for candidate in candidates:
        try:
            info = os.lstat(candidate)
            ours = not hasattr(os, "geteuid") or info.st_uid == os.geteuid()
            if stat.S_ISREG(info.st_mode) and ours and now - info.st_mtime > STALE_AFTER:
                candidate.unlink()
        except OSError:
            continue


def glob_escape(text: str) -> str:
    """`text` with glob's special characters matched literally."""
    return "".join(f"[{c}]" if c in "*?[" else c for c in text)


def save_npz_atomic(path: str, arrays: dict[str, np.ndarray]) -> None:
    """Write `arrays` to the .npz file `path` (replacing it atomically); names are kept as given."""
    try:
        with atomic_output(path, suffix=".npz", what="array file") as file:
            _write_npz(file, arrays)
    except ValueError as exc:
        raise _unwritable(path, exc, "array file") from None


def _write_npz(file: BinaryIO, arrays: dict[str, np.ndarray]) -> None:
    """Write an uncompressed .npz archive member by member, refusing object arrays.

    Unlike `numpy.savez`, any array name works (even `file`), and nothing is pickled.
    """
    import numpy as np

    with zipfile.ZipFile(file, "w", compression=zipfile.ZIP_STORED) as archive:
        for name, array in arrays.items():
            with archive.open(f"{name}.npy", "w", force_zip64=True) as member:
                np.lib.format.write_array(member, np.asanyarray(array), allow_pickle=False)


def _unreadable(path: str, reason: object) -> CatRuntimeError:
    """The error for a file that exists but cannot be read as arrays."""
    return CatRuntimeError("R0502", f"cannot read array file `{path}`: {reason}")


def _objects(path: str) -> CatRuntimeError:
    return CatRuntimeError(
        "R0503",
        f"array file `{path}` holds Python objects, which are never loaded",
        help="save plain numeric arrays (no dtype=object) with numpy.save or numpy.savez",
    )


def _unwritable(path: str, reason: object, what: str = "file") -> CatRuntimeError:
    """The error for a file (arrays, a drawing, a plot) that cannot be written to `path`."""
    return CatRuntimeError("R0504", f"cannot write {what} `{path}`: {reason}")
