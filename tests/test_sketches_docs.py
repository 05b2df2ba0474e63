"""docs/sketches_signal_behaviour.md: every command is run with its shown output compared, and
every ```cat block is made of lines of programs/ (an excerpt, never a program of its own)."""

from __future__ import annotations

import re
import shutil

from conftest import REPO
from test_docs_running import blocks, commands, examples, mismatch, normalise

from catdsl.cli import main

DOC = "sketches_signal_behaviour.md"
TEXT = (REPO / "docs" / DOC).read_text(encoding="utf-8")


def test_cat_blocks_are_lines_of_the_programs() -> None:
    programs = "\n".join(p.read_text() for p in sorted((REPO / "programs").rglob("*.cat")))
    lines = {line.rstrip() for line in programs.splitlines()}
    cat = [b for b in blocks(TEXT) if b.lang == "cat"]
    assert cat
    for block in cat:
        for k, line in enumerate(block.text.splitlines()):
            assert not line.strip() or line.rstrip() in lines, (
                f"docs/{DOC}:{block.line + 1 + k}: not in programs/: {line!r}"
            )


def test_pictures_exist_and_the_makefile_draws_them() -> None:
    makefile = (REPO / "Makefile").read_text()
    shown = re.findall(r"\]\((img/sketches/[^)]+)\)", TEXT)
    assert shown
    for image in shown:
        assert (REPO / "docs" / image).is_file(), image
        assert f"-o docs/{image}" in makefile, image


def test_the_commands_print_what_the_page_says(tmp_path, capsys, monkeypatch) -> None:
    root = tmp_path / "repo"
    shutil.copytree(REPO / "programs", root / "programs")
    (root / "docs" / "img" / "sketches").mkdir(parents=True)
    monkeypatch.chdir(root)
    ran = 0
    for example in examples(TEXT):
        capsys.readouterr()
        assert example.block.lang == "sh"
        for argv, expected_code, number in commands(example.block):
            assert main(argv) == expected_code, f"docs/{DOC}:{number}: {argv}"
            ran += 1
        out, err = capsys.readouterr()
        if example.expected is not None:
            actual = normalise(out + err)
            assert actual == normalise(example.expected), mismatch(DOC, example, actual)
    assert ran >= 5
