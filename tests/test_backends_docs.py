"""docs/backends.md is run like the pages of tests/test_docs_running.py, where PyTorch is
installed (its examples run on the torch backend)."""

from __future__ import annotations

import pytest
from conftest import REPO
from test_docs_running import (
    run_examples,
    scratch_root,  # noqa: F401 - the fixture, used by name
)

pytest.importorskip("torch")


@pytest.mark.usefixtures("scratch_root")
def test_the_examples_print_what_the_page_says(capsys) -> None:
    text = (REPO / "docs" / "backends.md").read_text()
    found = run_examples("backends.md", text, capsys, {"__name__": "docs_backends"})
    assert sum(e.block.lang == "sh" for e in found) >= 1
    assert sum(e.expected is not None for e in found) >= 2
