"""docs/sketches.md beyond what tests/test_docs_running.py runs: every picture it shows is
drawn by the Makefile's `pictures` target, and its table links a section for each sketch that
has a program."""

from __future__ import annotations

import re

from conftest import REPO

TEXT = (REPO / "docs" / "sketches.md").read_text(encoding="utf-8")


def test_pictures_exist_and_the_makefile_draws_them() -> None:
    makefile = (REPO / "Makefile").read_text()
    shown = re.findall(r"\]\((img/sketches/[^)]+)\)", TEXT)
    assert len(shown) >= 4
    for image in shown:
        assert (REPO / "docs" / image).is_file(), image
        assert f"-o docs/{image}" in makefile, image


def test_each_sketch_with_a_program_has_its_section() -> None:
    for row in re.findall(r"^\| \d \| .*$", TEXT, re.M):
        program = re.search(r"`(\w+\.cat)`", row)
        assert program, row
        written = (REPO / "programs" / "sketches" / program[1]).exists()
        assert ("[below](#" in row) == written, row
