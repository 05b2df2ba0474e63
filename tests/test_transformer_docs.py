"""docs/transformer.md: every command is run (its shown output compared), every `cat` block
marked `<!-- from: FILE -->` is a verbatim excerpt of FILE, and every other `cat` block is a
program that checks clean."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from conftest import REPO
from test_docs_running import blocks, commands, run_examples

from catdsl.loader import check_text

PAGE = REPO / "docs" / "transformer.md"
TEXT = PAGE.read_text(encoding="utf-8")
FROM = re.compile(r"<!-- from: (\S+) -->\s*$")


def _cat_blocks() -> list[tuple[str | None, str, int]]:
    """(the file it is an excerpt of, or None; the code; its line) of every cat block."""
    found = []
    for block in blocks(TEXT):
        if block.lang != "cat":
            continue
        before = TEXT[: block.start].rstrip().splitlines()
        match = FROM.match(before[-1]) if before else None
        found.append((match[1] if match else None, block.text, block.line))
    return found


CAT = _cat_blocks()


def test_the_page_is_linked_and_shows_its_pictures():
    assert "docs/transformer.md" in (REPO / "README.md").read_text()
    for image in re.findall(r"\]\((img/[^)]+)\)", TEXT):
        assert (REPO / "docs" / image).is_file(), image
    assert sum(source is not None for source, _, _ in CAT) >= 5


@pytest.mark.parametrize(("source", "code", "line"), CAT, ids=[f"line {c[2]}" for c in CAT])
def test_cat_blocks(source, code, line):
    if source is not None:
        assert code.strip() in (REPO / source).read_text(), f"line {line}: not in {source}"
        return
    program = check_text(code, "example.cat")
    assert not program.diagnostics, f"line {line}: {program.diagnostics}"


def test_the_commands_print_what_the_page_says(tmp_path, capsys, monkeypatch):
    root = tmp_path / "repo"
    shutil.copytree(REPO / "programs", root / "programs")
    monkeypatch.chdir(root)
    found = run_examples("transformer.md", TEXT, capsys, {})
    assert all(e.block.lang == "sh" for e in found)
    assert sum(len(commands(e.block)) for e in found) >= 6
    assert Path(root / "programs" / "transformer" / "course.cat").is_file()
