"""docs/export.md is run like the pages of tests/test_docs_running.py, where PyTorch and the
`onnx` extra are installed (its examples export to both)."""

from __future__ import annotations

import pytest
from conftest import REPO
from test_docs_running import (
    run_examples,
    scratch_root,  # noqa: F401 - the fixture, used by name
)

pytest.importorskip("torch")
pytest.importorskip("onnxruntime")
pytest.importorskip("onnxscript")

pytestmark = pytest.mark.torch


@pytest.mark.usefixtures("scratch_root")
def test_the_examples_print_what_the_page_says(capsys) -> None:
    text = (REPO / "docs" / "export.md").read_text()
    found = run_examples("export.md", text, capsys, {"__name__": "docs_export"})
    assert sum(e.block.lang == "sh" for e in found) == 2
    assert sum(e.expected is not None for e in found) == 7
