"""Before/after proof for checker work: the whole checked program of many inputs, written out.

For every `.cat` file of the repository, every ```cat block of the docs, the generated 10k,
`long` and `params` programs and a fixed set of fuzz mutations of the course programs, it
writes out what `check_text` gives (every definition's term and types, objects,
aliases, params, laws, structures, dims, and every diagnostic with its code, wording, span,
notes and hint) to one file per input. Run it on the code before a change and after, into
two directories, then compare them:

    .venv/bin/python bench/check_snapshot.py write /tmp/before
    .venv/bin/python bench/check_snapshot.py write /tmp/after
    .venv/bin/python bench/check_snapshot.py compare /tmp/before /tmp/after
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import threading
from collections.abc import Iterator
from dataclasses import fields, is_dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))
sys.path.insert(0, str(REPO / "bench"))

from check_scaling import generate  # noqa: E402
from fuzzkit import MUTATIONS, donor_programs, mutate, seed_programs  # noqa: E402
from sharing_scaling import long, params  # noqa: E402

from catdsl.loader import check_text  # noqa: E402
from catdsl.typesys.family_spec import Family  # noqa: E402
from catdsl.typesys.primitives import PrimSpec  # noqa: E402
from catdsl.typesys.program import CheckedProgram  # noqa: E402
from catdsl.typesys.terms import Term  # noqa: E402

DOC_FILES = ("language.md", "errors.md", "structure.md")
SEEDS_PER_KIND = 15


def _doc_blocks(path: Path) -> Iterator[tuple[str, str]]:
    lines = path.read_text(encoding="utf-8").splitlines()
    i = 0
    while i < len(lines):
        if lines[i].strip() != "```cat":
            i += 1
            continue
        j = i + 1
        while j < len(lines) and lines[j].strip() != "```":
            j += 1
        yield f"doc-{path.stem}-{i + 1}", "\n".join(lines[i + 1 : j]) + "\n"
        i = j + 1


def inputs() -> Iterator[tuple[str, str, str]]:
    """(key, text, file name it is checked as) for every input."""
    for path in sorted(REPO.rglob("*.cat")):
        if ".venv" in path.parts:
            continue
        rel = path.relative_to(REPO)
        yield str(rel).replace("/", "__"), path.read_text(encoding="utf-8"), str(rel)
    for name in DOC_FILES:
        for key, text in _doc_blocks(REPO / "docs" / name):
            yield key, text, "example.cat"
    yield "gen-10k", generate(10_000), "<10k>"
    yield "gen-long", long(), "<long>"
    yield "gen-params", params(), "<params>"
    donors = donor_programs()
    for seed_name, text in seed_programs().items():
        for kind in MUTATIONS:
            for seed in range(SEEDS_PER_KIND):
                mutated = mutate(kind, seed, text, donors)
                yield f"mut-{seed_name}-{kind}-{seed}", mutated, f"programs/{seed_name}"


class _Writer:
    """Text for checked values: every dataclass field (repr or not), tuples, dicts and plain
    values. A term met again (the same object) is written as a back-reference `@n`, so the
    text also records which terms are shared (lowering memoises by term identity) and stays
    linear in size on programs whose terms double at every line."""

    def __init__(self) -> None:
        self.seen: dict[int, int] = {}
        self.alive: list[object] = []

    def text(self, value: object) -> str:
        if isinstance(value, Term):
            known = self.seen.get(id(value))
            if known is not None:
                return f"@{known}"
            self.seen[id(value)] = len(self.seen)
            self.alive.append(value)
            return f"#{self.seen[id(value)]}" + self._fields(value)
        if isinstance(value, PrimSpec | Family):
            return f"<{type(value).__name__} {value.name}>"
        if is_dataclass(value) and not isinstance(value, type):
            return self._fields(value)
        if isinstance(value, tuple | list):
            inner = ", ".join(self.text(v) for v in value)
            return f"({inner})" if isinstance(value, tuple) else f"[{inner}]"
        if isinstance(value, dict):
            return "{" + ", ".join(f"{k!r}: {self.text(v)}" for k, v in value.items()) + "}"
        if callable(value):
            return f"<callable {getattr(value, '__qualname__', type(value).__name__)}>"
        return repr(value)

    def _fields(self, value: object) -> str:
        parts = []
        for f in fields(value):  # type: ignore[arg-type]
            if f.name == "decl":  # a structure's AST declaration
                continue
            parts.append(f"{f.name}={self.text(getattr(value, f.name))}")
        return f"{type(value).__name__}(" + ", ".join(parts) + ")"


def dump(program: CheckedProgram) -> str:
    """Everything the checker gives, as text."""
    writer = _Writer()
    parts = [f"file {program.file!r}"]
    for title, table in (
        ("definitions", program.definitions),
        ("objects", program.objects),
        ("aliases", program.aliases),
        ("params", program.params),
        ("laws", program.laws),
        ("structures", program.structures),
        ("dims", program.dims),
    ):
        parts.append(f"## {title}")
        parts += [f"{name!r}: {writer.text(value)}" for name, value in table.items()]
    parts.append("## diagnostics")
    parts += [writer.text(d) for d in program.diagnostics]
    return "\n".join(parts) + "\n"


def write(out: Path, only: str = "") -> None:
    out.mkdir(parents=True, exist_ok=True)
    count = 0
    for key, text, file in inputs():
        if only not in key:
            continue
        try:
            program = check_text(text, file)
        except Exception as err:  # a crash is part of what must stay the same
            body = f"CRASH {type(err).__name__}: {err}\n"
        else:
            limit = sys.getrecursionlimit()
            sys.setrecursionlimit(200_000)  # deeply nested terms (not while checking)
            try:
                body = dump(program)
            finally:
                sys.setrecursionlimit(limit)
        (out / f"{key}.txt").write_text(body, encoding="utf-8")
        count += 1
    print(f"{count} inputs written to {out}")


def compare(before: Path, after: Path) -> int:
    names = sorted(p.name for p in before.glob("*.txt"))
    missing = sorted({p.name for p in after.glob("*.txt")} ^ set(names))
    differ = []
    for name in names:
        a, b = before / name, after / name
        if not b.exists():
            continue
        if hashlib.sha256(a.read_bytes()).digest() != hashlib.sha256(b.read_bytes()).digest():
            differ.append(name)
    print(f"{len(names)} inputs, {len(differ)} differ, {len(missing)} missing on one side")
    for name in differ[:20] + missing[:20]:
        print("  ", name)
    return 1 if differ or missing else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    writing = sub.add_parser("write")
    writing.add_argument("out", type=Path)
    writing.add_argument("--only", default="", help="the inputs whose key has this text")
    cmp = sub.add_parser("compare")
    cmp.add_argument("before", type=Path)
    cmp.add_argument("after", type=Path)
    args = parser.parse_args()
    if args.command == "write":
        threading.stack_size(1 << 29)  # room for the deep recursion of nested inputs
        worker = threading.Thread(target=write, args=(args.out, args.only))
        worker.start()
        worker.join()
    else:
        sys.exit(compare(args.before, args.after))


if __name__ == "__main__":
    main()
