"""Every ```cat block of docs/language.md and docs/errors.md is a program that checks.

A block must check clean, unless the line right before its fence is an HTML comment
`<!-- expect: E0201 -->`: then it must produce that code and no other. In errors.md, the
```text block after an erroneous example shows `$ catdsl check example.cat` and its output;
that output must be exactly what the CLI prints today (so the page never drifts).

Each block is checked as `example.cat` in a fresh directory (imports are relative to it).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest
from conftest import REPO

from catdsl.cli import main
from catdsl.loader import check_text

DOCS = REPO / "docs"
FILES = ("language.md", "errors.md", "structure.md")
EXPECT = re.compile(r"^<!--\s*expect:\s*(E\d{4})\s*-->$")
SHOWN_DIR = "/home/me/proj"  # how errors.md shows the example's directory


@dataclass(frozen=True)
class Block:
    file: str
    line: int  # of the opening fence, 1-based
    code: str
    expect: str | None
    output: str | None  # the ```text block that follows, if it shows `$ catdsl check`


def _blocks(name: str) -> list[Block]:
    lines = (DOCS / name).read_text(encoding="utf-8").splitlines()
    out: list[Block] = []
    i = 0
    while i < len(lines):
        if lines[i].strip() != "```cat":
            i += 1
            continue
        start = i
        j = i + 1
        while j < len(lines) and lines[j].strip() != "```":
            j += 1
        code = "\n".join(lines[start + 1 : j]) + "\n"
        k = start - 1
        while k >= 0 and not lines[k].strip():
            k -= 1
        match = EXPECT.match(lines[k].strip()) if k >= 0 else None
        output = None
        m = j + 1
        while m < len(lines) and not lines[m].strip():
            m += 1
        if m < len(lines) and lines[m].strip() == "```text":
            n = m + 1
            while n < len(lines) and lines[n].strip() != "```":
                n += 1
            text = "\n".join(lines[m + 1 : n])
            if text.startswith("$ catdsl check"):
                output = text
        out.append(Block(name, start + 1, code, match.group(1) if match else None, output))
        i = j + 1
    return out


ALL = [b for name in FILES for b in _blocks(name)]


def test_the_docs_have_examples():
    for name in FILES:
        assert (DOCS / name).exists(), name
    language = [b for b in ALL if b.file == "language.md"]
    errors = [b for b in ALL if b.file == "errors.md"]
    assert len(language) >= 25
    assert len(errors) >= 60
    assert any(b.expect for b in language)


def test_every_front_end_code_is_documented():
    """Each code the parser, checker and loader can emit has an example in errors.md."""
    root = REPO / "catdsl"
    emitted = set()
    for path in [*root.glob("syntax/*.py"), *root.glob("typesys/*.py"), root / "loader.py"]:
        emitted |= set(re.findall(r'"(E0[0-7]\d\d)"', path.read_text(encoding="utf-8")))
    unreachable = {"E0001", "E0502"}  # documented in "Codes that cannot occur"
    shown = {b.expect for b in ALL if b.file == "errors.md" and b.expect}
    assert emitted - unreachable - shown == set()
    text = (DOCS / "errors.md").read_text(encoding="utf-8")
    for code in unreachable | {"E0801", "E0802", "E0803", "E0804", "E0805", "E0806", "E0807"}:
        assert code in text


@pytest.mark.parametrize("block", ALL, ids=[f"{b.file}:{b.line}" for b in ALL])
def test_example(block: Block, tmp_path):
    file = tmp_path.resolve() / "example.cat"
    file.write_text(block.code, encoding="utf-8")
    program = check_text(block.code, str(file))
    got = sorted({d.code for d in program.diagnostics})
    where = f"{block.file}:{block.line}"
    if block.expect is None:
        assert got == [], f"{where} should check clean: " + "; ".join(
            f"{d.code} {d.message}" for d in program.diagnostics
        )
    else:
        assert got == [block.expect], f"{where} should give exactly {block.expect}, got {got}"


SHOWN = [b for b in ALL if b.output is not None]


@pytest.mark.parametrize("block", SHOWN, ids=[f"{b.file}:{b.line}" for b in SHOWN])
def test_shown_output_is_what_the_cli_prints(block: Block, tmp_path, capsys, monkeypatch):
    folder = tmp_path.resolve()
    (folder / "example.cat").write_text(block.code, encoding="utf-8")
    command, _, expected = block.output.partition("\n")
    args = command.removeprefix("$ catdsl ").replace("$PWD", str(folder)).split()
    monkeypatch.chdir(folder)
    capsys.readouterr()
    code = main(args)
    err = capsys.readouterr().err.replace(str(folder), SHOWN_DIR)
    assert code == (1 if block.expect else 0)
    assert err.rstrip("\n") == expected.rstrip("\n")
