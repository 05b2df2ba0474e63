"""Read a program and its imports, then check them together.

`import std.ml` makes a standard-library module's names visible; `import "lib.cat"` reads a
file relative to the importing one, once, and reports cycles. Every diagnostic of every file
is collected in one pass.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from catdsl.errors import Diagnostic
from catdsl.std.signatures import STD_MODULES
from catdsl.syntax import ast
from catdsl.syntax.parser import parse
from catdsl.typesys.checker import Checker
from catdsl.typesys.hints import did_you_mean
from catdsl.typesys.program import CheckedProgram

MAX_SOURCE_BYTES = 50_000_000


class _Reader:
    """Parses files depth-first through their imports."""

    def __init__(self) -> None:
        self.sources: dict[str, str] = {}
        self.items: list = []
        self.std: set[str] = set()
        self.diagnostics: list[Diagnostic] = []
        self.loaded: set[str] = set()
        self.stack: list[str] = []

    def read_text(self, text: str, file: str) -> None:
        self.sources[file] = text
        self.stack.append(file)
        module, diags = parse(text, file)
        self.diagnostics.extend(diags)
        if module is not None:
            for item in module.items:
                if isinstance(item, ast.ImportModule):
                    self._import_std(item)
                elif isinstance(item, ast.ImportFile):
                    self._import_file(item, file)
                else:
                    self.items.append(item)
        self.stack.pop()

    def _import_std(self, item: ast.ImportModule) -> None:
        if item.module in STD_MODULES:
            self.std.add(item.module)
            return
        hint = did_you_mean(item.module, sorted(STD_MODULES))
        self.diagnostics.append(
            Diagnostic(
                "E0701",
                f"unknown module `{item.module}`",
                item.span,
                help=hint
                or f"the standard library has {', '.join(sorted(STD_MODULES))}; "
                'import a file with `import "lib.cat"`',
            )
        )

    def _import_file(self, item: ast.ImportFile, importer: str) -> None:
        base = Path(importer).parent if importer not in ("<string>", "") else Path.cwd()
        path = (base / item.path).resolve()
        key = str(path)
        if key in self.stack:
            chain = " -> ".join(Path(f).name for f in [*self.stack[self.stack.index(key) :], key])
            self.diagnostics.append(
                Diagnostic(
                    "E0702",
                    f"import cycle: {chain}",
                    item.span,
                    help="move the shared declarations into a third file both import",
                )
            )
            return
        if key in self.loaded:
            return
        self.loaded.add(key)
        try:
            text = _read(path)
        except OSError as err:
            self.diagnostics.append(
                Diagnostic(
                    "E0703",
                    f"cannot read `{item.path}`: {err.strerror or err}",
                    item.span,
                    help=f"the path is relative to this file: looked for `{path}`",
                )
            )
            return
        self.read_text(text, key)


def _read(path: Path) -> str:
    if path.stat().st_size > MAX_SOURCE_BYTES:
        raise OSError(0, "file too large")
    data = path.read_bytes()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise OSError(0, f"not UTF-8 text (byte {err.start})") from None


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while building ASTs and terms: the front end
    allocates many small objects that all stay alive, and collections then cost half the time."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def check_text(text: str, file: str = "<string>") -> CheckedProgram:
    """Parse and check `text` (named `file` in diagnostics) with its imports."""
    reader = _Reader()
    if file not in ("<string>", ""):
        reader.loaded.add(file)
    with collector_paused():
        reader.read_text(text, file)
        checker = Checker(file, reader.items, reader.std, reader.sources)
        program = checker.run()
    program.diagnostics = _dedupe(reader.diagnostics + program.diagnostics)
    program.sources = reader.sources
    return program


def check_file(path: str | Path) -> CheckedProgram:
    """Read a `.cat` file and check it; unreadable files become a diagnostic."""
    p = Path(path)
    file = str(p)
    try:
        text = _read(p)
    except OSError as err:
        program = CheckedProgram(file)
        program.diagnostics = [Diagnostic("E0703", f"cannot read `{path}`: {err.strerror or err}")]
        return program
    return check_text(text, file)


def _dedupe(diags: list[Diagnostic]) -> list[Diagnostic]:
    seen, out = set(), []
    for d in diags:
        key = (d.code, d.message, d.span)
        if key not in seen:
            seen.add(key)
            out.append(d)
    return out
