"""Read a program and its imports, then check them together.

`import std.ml` makes a standard-library module's names visible; `import "lib.cat"` reads a
file relative to the importing one, once, and reports cycles. Every diagnostic of every file
is collected in one pass.

A program reads only its own tree: an imported file must be a `.cat` file inside the directory
of the main program (the working directory for text without a file) or inside a directory the
user allowed (`allow_read`, the CLI's `--allow-read DIR`), after symlinks are followed; and it
must be a regular file (never a FIFO or a device, which are refused without being read).
`load("x.npy")` follows the same rules (the checker's `LiteralReader` asks the same
`ReadScope`). See docs/security.md.

`import plugin.NAME` makes the primitives of a plugin visible (`std.plugins`): the loader asks
the `PluginFinder` it is given, so a program never runs Python that the user did not pass or
install; a plugin that is missing, broken or defines a name another one has is E0706.
"""

from __future__ import annotations

import dataclasses
import gc
import os
import sys
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from itertools import accumulate
from pathlib import Path
from typing import Protocol

from catdsl.diagram.depth import resume_collector
from catdsl.errors import Diagnostic, Span
from catdsl.files import ReadScope, read_regular
from catdsl.std.library import PRIMITIVES
from catdsl.std.optim import FAMILIES
from catdsl.std.plugins import PluginError
from catdsl.std.signatures import STD_MODULES
from catdsl.std.sources import SOURCE_MODULES, source_path
from catdsl.syntax import ast
from catdsl.syntax.parser import parse
from catdsl.typesys import messages as M
from catdsl.typesys.checker import Checker
from catdsl.typesys.hints import did_you_mean
from catdsl.typesys.primitives import PLUGIN_PREFIX, PluginSpec, PrimSpec
from catdsl.typesys.program import CheckedProgram

MAX_SOURCE_BYTES = 50_000_000
UNNAMED = ("<string>", "")
CHECK_RECURSION_LIMIT = 6000


class PluginFinder(Protocol):
    """Finds the plugin NAME of `import plugin.NAME` (None: there is none), raising
    `PluginError` for one that cannot be used; `given` are the plugins the user passed
    (`std.plugins.PluginResolver`)."""

    @property
    def given(self) -> Mapping[str, PluginSpec]: ...

    def __call__(self, name: str) -> PluginSpec | None: ...


class _Reader:
    """Parses files depth-first through their imports."""

    def __init__(self, scope: ReadScope, plugins: PluginFinder | None = None) -> None:
        self.scope = scope
        self.plugins = plugins
        self.plugin_primitives: dict[str, PrimSpec] = {}
        self._line_starts: dict[str, list[int]] = {}
        self.sources: dict[str, str] = {}
        self.items: list[ast.Item] = []
        self.std: set[str] = set()
        self.diagnostics: list[Diagnostic] = []
        self.loaded: set[str] = set()
        self.stack: list[str] = []

    def read_text(self, text: str, file: str, key: str) -> None:
        """Read one file: `file` names it in diagnostics, `key` (its resolved path) identifies
        it for loading once and for cycles."""
        self.sources[file] = text
        self.stack.append(key)
        module, diags = parse(text, file)
        self.diagnostics.extend(diags)
        if module is not None:
            for item in module.items:
                if isinstance(item, ast.ImportModule):
                    self._import_std(item)
                elif isinstance(item, ast.ImportFile):
                    self._import_file(item, key)
                else:
                    self.items.append(item)
        self.stack.pop()

    def _import_std(self, item: ast.ImportModule) -> None:
        if item.module.startswith(PLUGIN_PREFIX):
            self._import_plugin(item)
            return
        if item.module in STD_MODULES:
            self.std.add(item.module)
            return
        if item.module in SOURCE_MODULES:
            self._import_source_module(item.module)
            return
        known = sorted(STD_MODULES | set(SOURCE_MODULES))
        hint = did_you_mean(item.module, known)
        message = M.unknown_module(item.module, hint, known)
        self.diagnostics.append(message.at(item.span))

    def _import_source_module(self, module: str) -> None:
        """A standard-library module written in catdsl (`std.sketches`): its file is read once,
        like an imported file, from the package, so the read scope does not apply to it."""
        path = source_path(module)
        key = str(path)
        if key in self.loaded:
            return
        self.loaded.add(key)
        self.std.add(module)
        self.read_text(_read(path), _display(path), key)

    def _import_plugin(self, item: ast.ImportModule) -> None:
        """`import plugin.NAME`: the primitives of a plugin the user gave or installed."""
        if item.module in self.std:
            return
        name = item.module.removeprefix(PLUGIN_PREFIX)
        try:
            spec = self.plugins(name) if self.plugins is not None else None
        except PluginError as err:
            self.diagnostics.append(M.broken_plugin(item.module, str(err)).at(item.span))
            return
        if spec is None:
            given = [PLUGIN_PREFIX + n for n in (self.plugins.given if self.plugins else {})]
            message = M.unknown_plugin(item.module, did_you_mean(item.module, given), given)
            self.diagnostics.append(message.at(item.span))
            return
        for prim in spec.primitives:
            first = PRIMITIVES.get(prim) or self.plugin_primitives.get(prim)
            if first is not None:
                message = M.plugin_clash(prim, first.module, item.module)
                self.diagnostics.append(message.at(item.span))
                return
        self.plugin_primitives.update(spec.primitives)
        self.std.add(item.module)

    def primitives(self) -> dict[str, PrimSpec]:
        """The checker's table: the standard library's, the imported plugins', and those of
        plugins given but not imported (invisible, so that using one says what to import)."""
        table = {**PRIMITIVES, **self.plugin_primitives}
        for spec in (self.plugins.given if self.plugins else {}).values():
            for name, prim in spec.primitives.items():
                table.setdefault(name, prim)
        return table

    def _import_file(self, item: ast.ImportFile, importer: str) -> None:
        base = Path(importer).parent if importer not in UNNAMED else Path.cwd()
        where = self._string_span(item)
        if not item.path.endswith(".cat"):
            self.diagnostics.append(M.import_not_source(item.path).at(where))
            return
        refusal = self.scope.refusal(base, item.path)
        if refusal is not None:
            self.diagnostics.append(M.import_outside(item.path, refusal).at(where))
            return
        path = (base / item.path).resolve()
        key = str(path)
        if key in self.stack:
            chain = [Path(f).name for f in [*self.stack[self.stack.index(key) :], key]]
            self.diagnostics.append(M.import_cycle(chain).at(item.span))
            return
        if key in self.loaded:
            return
        self.loaded.add(key)
        try:
            text = _read(path)
        except OSError as err:
            message = M.unreadable_import(item.path, err.strerror or err, path)
            self.diagnostics.append(message.at(item.span))
            return
        self.read_text(text, _display(path), key)

    def _string_span(self, item: ast.ImportFile) -> Span:
        """The span of the string literal of `import "…"` (the item's span ends with it)."""
        span = item.span
        text = self.sources.get(span.file, "")
        if span.line != span.end_line:
            return span
        starts = self._line_starts.get(span.file)
        if starts is None:
            starts = [0, *accumulate(len(line) + 1 for line in text.split("\n"))]
            self._line_starts[span.file] = starts
        if span.line > len(starts):
            return span
        offset = starts[span.line - 1]
        start = text.find('"', offset + span.column - 1, offset + span.end_column - 1)
        if start < 0:
            return span
        return Span(span.file, span.line, start - offset + 1, span.end_line, span.end_column)


def _read(path: Path) -> str:
    """A source file's text: a regular file (a FIFO or a device is refused without being read)
    of at most `MAX_SOURCE_BYTES`, in UTF-8."""
    data = read_regular(path, MAX_SOURCE_BYTES)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise OSError(0, f"not UTF-8 text (byte {err.start})") from None


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while building ASTs and terms: the front end
    allocates many small objects that all stay alive, and collections then cost half the time.
    It resumes without a backlog (`diagram.depth.resume_collector`)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            resume_collector()


def _display(path: Path) -> str:
    """How a file is named in diagnostics: relative to the working directory when inside it."""
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _run_checker(checker: Checker, file: str) -> CheckedProgram:
    """Check, turning a stack overflow on absurdly deep input into a diagnostic."""
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, CHECK_RECURSION_LIMIT))
    try:
        return checker.run()
    except RecursionError:
        program = CheckedProgram(file)
        program.diagnostics = [M.nested_too_deeply().at(Span.point(file, 1, 1))]
        return program
    finally:
        sys.setrecursionlimit(limit)


def check_text(
    text: str,
    file: str = "<string>",
    allow_read: Iterable[str | os.PathLike[str]] = (),
    plugins: PluginFinder | None = None,
) -> CheckedProgram:
    """Parse and check `text` (named `file` in diagnostics) with its imports, which (like its
    `load`s) are read from the directory of `file` (the working directory when `file` is
    "<string>") or from the directories of `allow_read`; `plugins` finds what
    `import plugin.NAME` names (without it, no plugin is found)."""
    scope = ReadScope.around(file, allow_read)
    reader = _Reader(scope, plugins)
    key = file if file in UNNAMED else str(Path(file).resolve())
    reader.loaded.add(key)
    with collector_paused():
        reader.read_text(text, file, key)
        checker = Checker(
            file,
            reader.items,
            reader.sources,
            primitives=reader.primitives(),
            families=FAMILIES,
            imported_std=reader.std,
            reads=scope,
        )
        program = _run_checker(checker, file)
    files = {name: i for i, name in enumerate(reader.sources)}
    found = _without_plugin_follow_ons(reader.diagnostics, program.diagnostics)
    program.diagnostics = sorted(_dedupe(found), key=lambda d: _source_order(d, files))
    program.sources = reader.sources
    return program


def check_file(
    path: str | Path,
    allow_read: Iterable[str | os.PathLike[str]] = (),
    plugins: PluginFinder | None = None,
) -> CheckedProgram:
    """Read a `.cat` file and check it; unreadable files become a diagnostic. The file itself
    may be anywhere (the user named it); what it imports and loads is limited as `check_text`
    says."""
    p = Path(path)
    file = str(p)
    try:
        text = _read(p)
    except OSError as err:
        program = CheckedProgram(file)
        program.diagnostics = [M.unreadable_file(path, err.strerror or err).at(None)]
        return program
    return check_text(text, file, allow_read, plugins)


def _without_plugin_follow_ons(
    reading: list[Diagnostic], checking: list[Diagnostic]
) -> list[Diagnostic]:
    """One mistake, one error: when a plugin cannot be imported, the names it would define are
    unknown too; those uses (E0306 with no suggestion) are folded into a note of the first
    E0706."""
    plugin = next((d for d in reading if d.code == M.Code.UNUSABLE_PLUGIN.value), None)
    if plugin is None:
        return reading + checking
    unknown = [d for d in checking if d.code == M.Code.UNKNOWN_NAME.value and d.help is None]
    if not unknown:
        return reading + checking
    names = list(dict.fromkeys(d.message.split("`")[1] for d in unknown))
    noted = dataclasses.replace(plugin, notes=(*plugin.notes, M.plugin_names_note(names)))
    kept = [noted if d is plugin else d for d in reading]
    return kept + [d for d in checking if d not in unknown]


def _source_order(d: Diagnostic, files: dict[str, int]) -> tuple[int, int, int]:
    """Diagnostics in the order files were read, then by position."""
    if d.span is None:
        return (-1, 0, 0)
    return (files.get(d.span.file, len(files)), d.span.line, d.span.column)


def _dedupe(diags: list[Diagnostic]) -> list[Diagnostic]:
    seen, out = set(), []
    for d in diags:
        key = (d.code, d.message, d.span)
        if key not in seen:
            seen.add(key)
            out.append(d)
    return out
