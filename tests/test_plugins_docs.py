"""docs/extending.md is run with the conventions of docs/running.md (tests/test_docs_running.py):
```sh and ```python blocks run in order in a scratch copy of the repository, and the ```text
block after each is its exact output. Besides, its first ```python block is the plugin file
`programs/plugins/mish.py` word for word, and its ```cat excerpts come from that program."""

from __future__ import annotations

import pytest
from conftest import REPO
from test_docs_running import (
    blocks,
    run_examples,
    scratch_root,  # noqa: F401 - the fixture, used by name
)

DOC = REPO / "docs" / "extending.md"


def test_the_first_python_block_is_the_plugin_file() -> None:
    first = next(b for b in blocks(DOC.read_text()) if b.lang == "python")
    assert first.text == (REPO / "programs" / "plugins" / "mish.py").read_text()


def test_the_cat_excerpts_are_in_the_program() -> None:
    program = (REPO / "programs" / "plugins" / "mish.cat").read_text().splitlines()
    for block in blocks(DOC.read_text()):
        if block.lang == "cat":
            for line in block.text.splitlines():
                assert line in program, f"docs/extending.md:{block.line}: {line!r}"


@pytest.mark.usefixtures("scratch_root")
def test_the_examples_print_what_the_page_says(capsys) -> None:
    found = run_examples("extending.md", DOC.read_text(), capsys, {"__name__": "docs_extending"})
    assert sum(e.block.lang == "sh" for e in found) >= 2
    assert sum(e.expected is not None for e in found) >= 6
